/**
 * A file that could not be opened or read, as one error whichever door asked: NOT_FOUND "PATH: no such file" where
 * it is not there (as the CLI's own check and the data readers say), else BAD_FILE naming the system's reason.
 */
import { FieldpackError } from '../../core/errors.ts';

export function unreadableFile(path: string, e: unknown, what = ''): FieldpackError {
  if (e instanceof FieldpackError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const named = what ? `${what} ${path}` : path;
  if (code === 'ENOENT') return new FieldpackError('NOT_FOUND', `${named}: no such file`, { path });
  return new FieldpackError('BAD_FILE', `${named}: cannot be read (${code ?? (e instanceof Error ? e.message : String(e))})`, { path });
}
