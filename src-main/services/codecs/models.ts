/**
 * Model files that codecs reference by content hash (Codec.modelParam): the ones shipped in resources/models (the
 * packaged app's resources/models), those the open store's training runs produced (addModelDir), the folders in
 * FIELDPACK_MODEL_PATH (':'-separated) and files given by the caller. A reference is 'default', a file path, or a
 * sha256 (or a prefix of at least 8 hex digits) of a file found there.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { Codec } from '../../core/compressors/index.ts';
import { appRoot } from '../system/version.ts';
import { readRegularFileSync } from '../files/regular.ts';

export type ModelParam = NonNullable<Codec['modelParam']>;

/** The packaged app's resources folder (electron-builder extraResources), else the repository's. */
export function shippedModelsDir(): string {
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  if (packaged && existsSync(join(packaged, 'models'))) return join(packaged, 'models');
  return join(appRoot(), 'resources', 'models');
}

const registeredDirs = new Set<string>();

/** A folder of trained models to search too (the open store's model folder). */
export function addModelDir(dir: string): void {
  registeredDirs.add(resolve(dir));
}

/**
 * FIELDPACK_MODEL_PATH for another process of this Fieldpack (an archive's shard, a Slurm task): the folders this one
 * searches beyond the shipped models, the store's trained models among them (a shard opens no store, and found none
 * of the models a --db store had trained).
 */
export function modelPathForChildren(): string {
  return [...new Set(modelDirs().slice(1))].join(delimiter);
}

function modelDirs(): string[] {
  // ':' between folders, ';' on Windows (where ':' is a drive's)
  const extra = (process.env.FIELDPACK_MODEL_PATH ?? '').split(delimiter).filter(Boolean);
  return [shippedModelsDir(), ...registeredDirs, ...extra];
}

const hashCache = new Map<string, { mtimeMs: number; size: number; hash: string }>();

/** sha256 of a file, cached by path, size and modification time; null where it cannot be read (gone, a folder, no permission). */
function fileHash(path: string): string | null {
  try {
    const st = statSync(path);
    if (!st.isFile()) return null;
    const c = hashCache.get(path);
    if (c && c.mtimeMs === st.mtimeMs && c.size === st.size) return c.hash;
    const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
    hashCache.set(path, { mtimeMs: st.mtimeMs, size: st.size, hash });
    return hash;
  } catch {
    return null;
  }
}

/** Whether path is a file (through links; a dangling link, a folder or nothing there is not). */
function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A file that begins as Fieldpack's model files do (FPVQVAE1, FPNGLR01: "FP", not a stream's "FPK"). */
function looksLikeModelFile(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(4);
      const n = readSync(fd, head, 0, 4, 0);
      return n === 4 && head.toString('latin1', 0, 2) === 'FP' && head.toString('latin1', 0, 3) !== 'FPK';
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * Model files: those given (`files`) with the extension or, by any name, with a model file's first bytes (a
 * decompress's --anchor and --model files come together: data files and streams are not read whole and hashed), then
 * those with the extension in `folders` (e.g. the stream's own), then in the model folders.
 */
export function modelCandidates(mp: ModelParam, files: readonly string[] = [], folders: readonly string[] = []): string[] {
  // files only: a folder or a dangling link named like a model is passed over, not read
  const out = files.filter((f) => isFile(f) && (f.toLowerCase().endsWith(mp.extension) || looksLikeModelFile(f))).map((f) => resolve(f));
  for (const dir of [...folders, ...modelDirs()]) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.toLowerCase().endsWith(mp.extension)).sort();
    } catch {
      continue;
    }
    for (const n of names) if (!out.includes(join(dir, n)) && isFile(join(dir, n))) out.push(join(dir, n));
  }
  return out;
}

/** The model a stream names, by full hash, or null. */
export function findModelByHash(mp: ModelParam, hash: string, files: readonly string[] = [], folders: readonly string[] = []): Uint8Array | null {
  for (const p of modelCandidates(mp, files, folders)) {
    if (fileHash(p) === hash) return new Uint8Array(readRegularFileSync(p, 'the model file'));
  }
  return null;
}

/**
 * Where findModelByHash looked, for a message: each file given, said where it is not a model file or is another
 * model (its sha256), then the folders searched for *EXTENSION files.
 */
export function modelSearchPlaces(mp: ModelParam, files: readonly string[] = [], folders: readonly string[] = []): string[] {
  const given = files.map((f) => {
    if (!existsSync(f)) return `${f} (no such file)`;
    if (!isFile(f)) return `${f} (not a file)`;
    if (!f.toLowerCase().endsWith(mp.extension) && !looksLikeModelFile(f)) return null; // a data file or stream given beside
    const hash = fileHash(f);
    return hash ? `${f} (sha256 ${hash.slice(0, 16)}..., another model or an altered one)` : `${f} (unreadable)`;
  });
  const dirs = [...new Set([...folders, ...modelDirs()].map((d) => resolve(d)))].filter((d) => existsSync(d));
  return [...given.filter((g): g is string => g !== null), ...(dirs.length ? [`the ${mp.extension} files in ${dirs.join(', ')}`] : [])];
}

/** A reference ('default', a path, a hash or hash prefix) to {hash, bytes}; NOT_FOUND names where it looked. */
export function resolveModelRef(mp: ModelParam, ref: string, files: readonly string[] = []): { hash: string; bytes: Uint8Array; path: string } {
  const read = (path: string) => {
    const bytes = new Uint8Array(readRegularFileSync(path, 'the model file'));
    return { hash: createHash('sha256').update(bytes).digest('hex'), bytes, path };
  };
  if (ref === 'default') {
    const p = join(shippedModelsDir(), mp.defaultFile);
    if (!existsSync(p)) throw new FieldpackError('NOT_FOUND', `the default model ${p} is missing (reinstall Fieldpack, or pass a model file)`);
    return read(p);
  }
  if (existsSync(ref) && statSync(ref).isFile()) return read(ref);
  if (/^[0-9a-f]{8,64}$/i.test(ref)) {
    const hits = modelCandidates(mp, files).filter((p) => fileHash(p)?.startsWith(ref.toLowerCase()));
    // copies of one model (the store's and one in FIELDPACK_MODEL_PATH, a folder reached twice) are that model
    const models = new Map(hits.map((p) => [fileHash(p)!, p]));
    if (models.size === 1) return read(hits[0]!);
    if (models.size > 1) throw new FieldpackError('INVALID_ARGUMENT', `model ${ref} is ambiguous: ${[...models].map(([h, p]) => `${p} (${h.slice(0, 16)}...)`).join(', ')}; give more of its sha256`);
  }
  const short = /^[0-9a-f]{1,7}$/i.test(ref) ? ' (a sha256 prefix has at least 8 hex digits)' : '';
  throw new FieldpackError('NOT_FOUND', `no model "${ref}": not a file, and no ${mp.extension} file in ${modelDirs().join(', ')} has that sha256${short}`);
}
