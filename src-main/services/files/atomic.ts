/**
 * Every file the program writes goes through here: to a temporary name in the same folder, flushed to disk,
 * then renamed onto the target, so a reader (or a restart after kill -9) never sees a half-written file.
 * Temporary names carry the writer's process id: leftovers of a process that is gone are removed the next time
 * that folder is written to, and at start-up for the store's files (removeLeftovers).
 */
import { randomBytes } from 'node:crypto';
import { constants, readdirSync, rmSync, statSync } from 'node:fs';
import { access, cp, lstat, open, readlink, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { specialKind } from './regular.ts';
import { FieldpackError } from '../../core/errors.ts';

const TEMP_NAME = /^\.(.+)\.(\d+)-[0-9a-f]{8}\.tmp$/;

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Whether a process of this machine runs (one of another user's counts). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files left in `dir` (and below, when recursive) by writers that no longer run; returns them. */
export function removeLeftovers(dir: string, opts: { recursive?: boolean; target?: string } = {}): string[] {
  const removed: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return removed;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    const m = TEMP_NAME.exec(e.name);
    // a temporary folder too (copyFolderAtomically's)
    const leftover = m !== null && (opts.target === undefined || m[1] === opts.target) && !processAlive(Number(m[2]));
    if (e.isDirectory() && !leftover) {
      if (opts.recursive) removed.push(...removeLeftovers(p, opts));
      continue;
    }
    if (!leftover) continue;
    try {
      rmSync(p, { force: true, recursive: true });
      removed.push(p);
    } catch {
      /* another process may have removed it */
    }
  }
  return removed;
}


/**
 * The file an output named `target` is written as: `target`, or where a symbolic link there leads (the link stays,
 * its file is replaced). A folder, or an existing file that is not a regular one (a device such as /dev/null, a named
 * pipe), is refused: the output is written to a temporary name and renamed onto the target, which would replace the
 * device itself (for everyone, as root) with a regular file.
 */
async function outputFile(target: string): Promise<string> {
  // what the name leads to as the system follows it: /dev/stdout is a link to /proc/self/fd/1, whose "link" to a
  // pipe or terminal ("pipe:[123]") is no path to follow by hand
  const followed = await stat(target).catch(() => null);
  if (followed && !followed.isFile() && !followed.isDirectory()) throw specialOutput(target, followed);
  let path = target;
  // a chain of links, each relative to its own folder (a dangling one leads to where the file will be made)
  let hops = 0;
  for (; hops < 40; hops++) {
    const lst = await lstat(path).catch(() => null);
    if (!lst?.isSymbolicLink()) break;
    path = resolve(dirname(path), await readlink(path));
  }
  // links that lead round in a loop (a link to itself): no file to write (the link was replaced by one, unasked)
  if (hops === 40) throw new FieldpackError('INVALID_ARGUMENT', `${target} is a symbolic link that leads round in a loop (or through more than 40 links): give the output a file name`, { path: target });
  const st = await stat(path).catch(() => null);
  if (st?.isDirectory()) throw new FieldpackError('INVALID_ARGUMENT', `${target} is a folder: give the output a file name`, { path: target });
  if (st && !st.isFile()) throw specialOutput(target, st);
  return path;
}

function specialOutput(target: string, st: import('node:fs').Stats): FieldpackError {
  return new FieldpackError('INVALID_ARGUMENT', `${target} is ${specialKind(st)}, not a regular file: outputs are written whole to a temporary file and renamed onto their name, which would replace it; give a file name`, { path: target });
}

/**
 * Refuses, before any work is done, an output that cannot be written or would replace what the command reads: a
 * folder that does not exist, a folder or a device where a file should go, or one of `inputs` (the same file by any
 * path).
 */
export async function checkOutputPath(target: string, inputs: readonly string[] = []): Promise<void> {
  const file = await outputFile(target);
  await checkFolder(file);
  // the temporary file is made in the folder: one this user cannot write to fails now, not after the work
  await access(dirname(file), constants.W_OK).catch((e) => {
    throw fileSystemError(e, dirname(file), target, dirname(file));
  });
  const st = await stat(target).catch(() => null);
  if (!st) return;
  const same = await realpath(target).catch(() => null);
  if (same === null) return;
  for (const input of inputs) {
    if ((await realpath(input).catch(() => null)) === same) {
      throw new FieldpackError('INVALID_ARGUMENT', `${target} is the input file ${input}: writing it would destroy the input; give the output another name`, { path: target });
    }
  }
}

/**
 * Refuses, before any work, an output that already exists, unless the caller asked to replace it (`overwrite`) or
 * `ours` recognises its first bytes as a file of ours that a new run may replace (a stream, a report): a file of the
 * user's, such as the original raw data, is never replaced because its name was given as an output by mistake.
 * `overwritable: false` where the caller offers no --overwrite (the message then says to move the file away).
 */
export async function checkNotReplacing(target: string, what: string, opts: { overwrite?: boolean; ours?: (head: Uint8Array) => boolean; overwritable?: boolean } = {}): Promise<void> {
  if (opts.overwrite) return;
  const st = await stat(target).catch(() => null);
  if (!st) return;
  if (opts.ours && st.isFile()) {
    const fh = await open(target, 'r');
    try {
      const head = new Uint8Array(1024);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      if (opts.ours(head.subarray(0, bytesRead))) return;
    } finally {
      await fh.close();
    }
  }
  const how = opts.overwritable === false ? 'move it away first' : 'replace it on purpose (--overwrite)';
  throw new FieldpackError('INVALID_ARGUMENT', `${target} exists${opts.ours ? ` and is not ${what}` : ''}: writing would replace it; give another name, or ${how}`, { path: target });
}

/**
 * An output that may replace a file only if that file is one of ours (`ours` reads its first bytes as text: a report,
 * an experiment export, an exported model): any other file of that name is the user's, refused before any work.
 */
export async function checkReplaceable(target: string, what: string, ours: (head: string) => boolean): Promise<void> {
  await checkOutputPath(target);
  await checkNotReplacing(target, what, { ours: (head) => ours(Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('utf8')), overwritable: false });
}

async function checkFolder(target: string): Promise<void> {
  try {
    const st = await stat(dirname(target));
    if (!st.isDirectory()) throw new Error('not a directory');
  } catch {
    throw new FieldpackError('INVALID_ARGUMENT', `${target}: the folder ${dirname(target)} does not exist`, { path: target });
  }
}

/**
 * Runs `write(tmp)`, flushes tmp to disk, then renames it onto target (where a link there leads: outputFile) unless
 * `signal` was aborted meanwhile; removes tmp on any failure. A failure of the file system names the target, not the
 * temporary file.
 */
export async function writeAtomically<T>(target: string, write: (tmp: string) => Promise<T> | T, signal?: AbortSignal): Promise<T> {
  const file = await outputFile(target);
  await checkFolder(file);
  removeLeftovers(dirname(file), { target: basename(file) });
  const tmp = tempPathFor(file);
  try {
    const out = await write(tmp);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    // a cancel seen by now (Ctrl-C while the file was written) leaves the target as it was
    if (signal?.aborted) throw new FieldpackError('CANCELLED', `cancelled: ${target} was not written`);
    await rename(tmp, file);
    return out;
  } catch (e) {
    await rm(tmp, { force: true });
    throw fileSystemError(e, tmp, target);
  }
}

/**
 * Writes the folder dest whole or not at all: `fill(tmp)` writes it as a temporary sibling, which is then renamed into
 * place. An existing dest is replaced once it is complete: an empty folder always, one with files only where
 * `replace` says so (the store's own copy, found incomplete); otherwise it is refused and nothing is left behind.
 */
export async function writeFolderAtomically(dest: string, fill: (tmp: string) => Promise<void>, opts: { replace?: boolean } = {}): Promise<void> {
  const target = resolve(dest);
  await checkFolder(target);
  removeLeftovers(dirname(target), { target: basename(target) });
  const tmp = tempPathFor(target);
  try {
    await fill(tmp);
    if (opts.replace) await rm(target, { recursive: true, force: true });
    else await rmdir(target).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw new FieldpackError('INVALID_ARGUMENT', `${target} holds files: give a new or empty folder`, { path: target });
    });
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw fileSystemError(e, tmp, target);
  }
}

/** Copies the folder src to dest whole or not at all (writeFolderAtomically). */
export function copyFolderAtomically(src: string, dest: string, opts: { replace?: boolean } = {}): Promise<void> {
  return writeFolderAtomically(dest, (tmp) => cp(src, tmp, { recursive: true, errorOnExist: true, force: false }), opts);
}

const FILE_SYSTEM_FAILURES: Record<string, string> = {
  EACCES: 'permission denied (the folder is not writable by this user)',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EIO: 'an input/output error of the device',
};

/**
 * An error of the file system on `tmp` (the temporary file, or the folder checked for it), as the user's output's
 * (INVALID_ARGUMENT): `cannot write TARGET: why`; others as they are.
 */
function fileSystemError(e: unknown, tmp: string, target: string, folder?: string): unknown {
  const err = e as NodeJS.ErrnoException;
  const why = typeof err?.code === 'string' ? FILE_SYSTEM_FAILURES[err.code] : undefined;
  if (e instanceof FieldpackError || !why || (err.path !== undefined && err.path !== tmp)) return e;
  return new FieldpackError('INVALID_ARGUMENT', `cannot write ${target}: ${why}${folder ? ` (in ${folder})` : ''}`, { path: target, errno: err.code });
}

/** Bytes (or text) to a file, atomically. */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  await writeAtomically(target, async (tmp) => {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
  });
}

/** Size of a file, or -1 when it does not exist (tests, resumable writers). */
export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}
