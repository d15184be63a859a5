/**
 * Opening the SQLite experiment store: locate it, refuse files that are not intact SQLite databases
 * (never overwriting them), back up and migrate older schemas, refuse newer ones.
 */
import Database from 'better-sqlite3';
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { FieldpackError, sqliteProblem } from '../../core/errors.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';
import { makeFolder } from '../files/folders.ts';
import { specialKind } from '../files/regular.ts';

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/** The OS application-data folder: what Electron calls userData, computed the same way for every door. */
export function appDataDir(): string {
  const home = homedir();
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Fieldpack');
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'Fieldpack');
  return join(process.env.XDG_CONFIG_HOME ?? join(home, '.config'), 'Fieldpack');
}

/** --db PATH, then FIELDPACK_DB, then the app-data folder. */
export function resolveDbPath(explicit?: string): string {
  return explicit ?? process.env.FIELDPACK_DB ?? join(appDataDir(), 'fieldpack.db');
}

function checkHeader(path: string): void {
  if (statSync(path).isDirectory()) {
    throw new FieldpackError('INVALID_ARGUMENT', `${path} is a folder, not a database file: pass --db with a file's path (e.g. ${join(path, 'fieldpack.db')}), or set FIELDPACK_DB to one`, { path });
  }
  // a device or pipe (--db /dev/null) was opened as SQLite: it said the disk was full, and left a -journal beside it
  if (!statSync(path).isFile()) {
    throw new FieldpackError('INVALID_ARGUMENT', `${path} is ${specialKind(statSync(path))}, not a database file: pass --db with a file's path, or set FIELDPACK_DB to one`, { path });
  }
  const size = statSync(path).size;
  if (size === 0) return; // SQLite treats an empty file as a new database
  const buf = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 512 || buf.toString('latin1') !== SQLITE_MAGIC) {
    throw new FieldpackError(
      'DB_CORRUPT',
      `${path} is not a Fieldpack database (not an SQLite file, or truncated). It was left untouched; move it away or pass --db with another path.`,
      { path },
    );
  }
}

export interface OpenedDatabase {
  db: Database.Database;
  path: string;
  schemaVersion: number;
  migratedFrom: number | null;
  backupPath: string | null;
}

export function openDatabase(path: string): OpenedDatabase {
  const isNew = !existsSync(path);
  if (!isNew) checkHeader(path);
  else makeFolder(dirname(path));

  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw accessError(err, path) ?? new FieldpackError('DB_CORRUPT', `cannot open database ${path}: ${(err as Error).message}`, { path });
  }
  try {
    let version: number;
    try {
      version = db.pragma('user_version', { simple: true }) as number;
      if (!isNew) {
        const check = (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check);
        if (check.join() !== 'ok') throw new Error(check.slice(0, 3).join('; '));
      }
    } catch (err) {
      throw accessError(err, path) ?? new FieldpackError(
        'DB_CORRUPT',
        `database ${path} is damaged (${(err as Error).message}). It was left untouched; restore a backup or pass --db with another path.`,
        { path },
      );
    }
    // an SQLite file of another application (tables, no Fieldpack schema version): adding ours would change it
    if (!isNew && version === 0) {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
      if (tables.length) {
        throw new FieldpackError(
          'DB_CORRUPT',
          `${path} is an SQLite database of something else (tables ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''}), not a Fieldpack database. It was left untouched; pass --db with another path.`,
          { path, tables: tables.slice(0, 20) },
        );
      }
    }
    if (version > SCHEMA_VERSION) {
      throw new FieldpackError(
        'DB_TOO_NEW',
        `database ${path} has schema version ${version}, newer than this Fieldpack's ${SCHEMA_VERSION}: update Fieldpack. The file was left untouched.`,
        { path, version, supported: SCHEMA_VERSION },
      );
    }
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');

    let backupPath: string | null = null;
    const migratedFrom = version < SCHEMA_VERSION ? version : null;
    if (version > 0 && version < SCHEMA_VERSION) {
      // A copy of the last good state before we rewrite the schema.
      backupPath = freeBackupPath(path, version);
      db.prepare('VACUUM INTO ?').run(backupPath);
    }
    migrate(db, version);
    db.pragma('foreign_keys = ON');
    return { db, path, schemaVersion: SCHEMA_VERSION, migratedFrom: isNew ? null : migratedFrom, backupPath };
  } catch (err) {
    db.close();
    throw accessError(err, path) ?? err;
  }
}

/**
 * Where the backup before a migration goes: DB.vN.bak, or DB.vN-2.bak and on where something is there already (it
 * replaced whatever had that name, a folder there failed the migration).
 */
function freeBackupPath(path: string, version: number): string {
  for (let n = 1; ; n++) {
    const candidate = `${path}.v${version}${n > 1 ? `-${n}` : ''}.bak`;
    if (!existsSync(candidate)) return candidate;
  }
}

/**
 * A lock held by another process, a file or folder that cannot be written, a failing disk: said as such, naming the
 * database (it is not damaged, and a backup need not be restored); null for other errors.
 */
function accessError(err: unknown, path: string): FieldpackError | null {
  const code = (err as { code?: unknown })?.code;
  const problem = typeof code === 'string' ? sqliteProblem(code, (err as Error).message, `database ${path}`) : null;
  return problem && new FieldpackError(problem.code, `${problem.message}. It was left untouched.`, { path, sqlite: code });
}

/** Applies the migrations after `from`, each in its own transaction, up to `to`. */
export function migrate(db: Database.Database, from: number, to = SCHEMA_VERSION): void {
  // Table rebuilds need foreign keys off (it cannot change inside a transaction).
  db.pragma('foreign_keys = OFF');
  for (const m of MIGRATIONS) {
    if (m.version <= from || m.version > to) continue;
    db.transaction(() => {
      m.up(db);
      const problems = db.pragma('foreign_key_check') as unknown[];
      if (problems.length) throw new FieldpackError('INTERNAL', `migration ${m.version} broke foreign keys`, problems);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
