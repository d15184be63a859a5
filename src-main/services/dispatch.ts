/**
 * Validating and running one API call, apart from services.ts so that a door serving only some methods (the CLI's
 * storeless streams and archives) does not load every handler and its dependencies at start-up.
 */
import { FieldpackError } from '../core/errors.ts';
import { API, isApiMethod } from '../api/contract.ts';
import { issueText } from '../api/schemas.ts';
import type { CallContext } from './handlers/types.ts';
import type { Services } from './services.ts';

/** Validates and runs one call. Every door goes through here. */
export async function dispatch(services: Partial<Services>, method: unknown, rawInput: unknown, call?: CallContext): Promise<unknown> {
  if (!isApiMethod(method)) throw new FieldpackError('INVALID_ARGUMENT', `unknown API method ${JSON.stringify(method)}`);
  const parsed = API[method].input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => issueText(i));
    throw new FieldpackError('INVALID_ARGUMENT', `${method}: ${issues.join('; ')}`, { issues: parsed.error.issues });
  }
  const impl = services[method] as ((input: unknown, call?: CallContext) => unknown) | undefined;
  if (!impl) throw new FieldpackError('UNSUPPORTED', `${method} is not served here`);
  return await impl(parsed.data, call);
}
