/**
 * The one error type that crosses every door (IPC, HTTP, CLI) as `{code, message, details}`.
 * Pure: no Node imports, so codec and metric code can throw it from worker threads.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'DB_CORRUPT'
  | 'DB_TOO_NEW'
  | 'BAD_FILE'
  | 'BAD_STREAM'
  | 'UNSUPPORTED'
  | 'BOUND_VIOLATED'
  | 'CANCELLED'
  | 'PYTHON_MISSING'
  | 'MODEL_MISSING'
  | 'UNAUTHORIZED'
  | 'INTERNAL';

export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class FieldpackError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'FieldpackError';
    this.code = code;
    this.details = details;
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}

/**
 * What an SQLite error code (better-sqlite3's SqliteError: SQLITE_BUSY, SQLITE_READONLY_DIRECTORY, ...) means for the
 * experiment database, or null for the others: a lock or a permission is not damage, and is said as what it is.
 */
export function sqliteProblem(code: string, message: string, path = 'the experiment database'): SerializedError | null {
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return { code: 'CONFLICT', message: `${path} is locked by another process (${message}): wait for it or close it, then try again` };
  if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code)) return { code: 'INVALID_ARGUMENT', message: `${path} cannot be opened for writing (${message}): check the file's and its folder's permissions, or pass --db with another path` };
  if (/^SQLITE_(IOERR|FULL)/.test(code)) return { code: 'INVALID_ARGUMENT', message: `${path} could not be read or written (${message}): the disk failed or is full` };
  return null;
}

/** Any thrown value as the wire shape; unknown errors become INTERNAL with their message kept. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof FieldpackError) return err.toJSON();
  if (err && typeof err === 'object' && 'code' in err && 'message' in err && typeof (err as SerializedError).message === 'string') {
    const e = err as { code: unknown; message: string; details?: unknown };
    const sqlite = typeof e.code === 'string' ? sqliteProblem(e.code, e.message) : null;
    if (sqlite) return sqlite;
    if (typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code)) return { code: e.code as ErrorCode, message: e.message, details: e.details };
  }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

export function deserializeError(e: SerializedError): FieldpackError {
  return new FieldpackError(e.code, e.message, e.details);
}
