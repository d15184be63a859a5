/**
 * The implementation of every API method (src-main/api/contract.ts), composed from the handler groups
 * in handlers/. Doors call `dispatch`, which validates the method name and its input before anything runs.
 */
import { FieldpackError } from '../core/errors.ts';
import { API, isApiMethod, type ApiMethod } from '../api/contract.ts';
import { coreHandlers } from './handlers/core.ts';
import { modelHandlers } from './handlers/models.ts';
import { compressionHandlers } from './handlers/compression.ts';
import { trainingHandlers } from './handlers/training.ts';
import { crossfieldHandlers } from './handlers/crossfield.ts';
import { dataHandlers } from './handlers/data.ts';
import { streamHandlers } from './handlers/streams.ts';
import { reviewHandlers } from './handlers/review.ts';
import { archiveHandlers } from './handlers/archive.ts';
import type { CallContext, HandlerDeps, Handlers } from './handlers/types.ts';

export type Services = Handlers<ApiMethod>;

export function createServices(deps: HandlerDeps): Services {
  return {
    ...coreHandlers(deps),
    ...modelHandlers(deps),
    ...compressionHandlers(deps),
    ...trainingHandlers(deps),
    ...crossfieldHandlers(deps),
    ...dataHandlers(deps),
    ...streamHandlers(),
    ...reviewHandlers(deps),
    ...archiveHandlers(),
  };
}

/** The methods that need no store (streams, archives): the CLI serves them without opening one. */
export function storelessServices(): Partial<Services> {
  return { ...streamHandlers(), ...archiveHandlers() };
}

/** Validates and runs one call. Every door goes through here. */
export async function dispatch(services: Partial<Services>, method: unknown, rawInput: unknown, call?: CallContext): Promise<unknown> {
  if (!isApiMethod(method)) throw new FieldpackError('INVALID_ARGUMENT', `unknown API method ${JSON.stringify(method)}`);
  const parsed = API[method].input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
    throw new FieldpackError('INVALID_ARGUMENT', `${method}: ${issues.join('; ')}`, { issues: parsed.error.issues });
  }
  const impl = services[method] as ((input: unknown, call?: CallContext) => unknown) | undefined;
  if (!impl) throw new FieldpackError('UNSUPPORTED', `${method} is not served here`);
  return await impl(parsed.data, call);
}
