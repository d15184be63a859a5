/**
 * Reading a file that must be a regular one: a named pipe given as a path blocked the reader until something wrote to
 * it (the server with it, where the read was synchronous: every other call waited), and a device such as /dev/zero
 * was read until the memory ran out. The path is followed (stat) and anything but a regular file refused in words.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { FieldpackError } from '../../core/errors.ts';
import { unreadableFile } from './unreadable.ts';

/** What a file that is neither regular nor a folder is, in words. */
export function specialKind(st: Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(path: string, st: Stats, what: string): FieldpackError | null {
  if (st.isFile()) return null;
  const kind = st.isDirectory() ? 'a folder' : specialKind(st);
  return new FieldpackError('INVALID_ARGUMENT', `${what ? `${what} ` : ''}${path} is ${kind}, not a regular file: not read`, { path });
}

/** Refuses anything but a regular file at `path` before it is opened (NOT_FOUND where nothing is there). */
export async function checkRegularFile(path: string, what = ''): Promise<void> {
  const st = await stat(path).catch((e: unknown) => {
    throw unreadableFile(path, e, what);
  });
  const refused = notRegular(path, st, what);
  if (refused) throw refused;
}

/** A regular file's bytes (`what` names it in errors: "the model file"); NOT_FOUND where it is not there. */
export async function readRegularFile(path: string, what = ''): Promise<Buffer> {
  await checkRegularFile(path, what);
  return readFile(path).catch((e: unknown) => {
    throw unreadableFile(path, e, what);
  });
}

/** readRegularFile's synchronous twin (archive folders, read where the callers are synchronous). */
export function readRegularFileSync(path: string, what = ''): Buffer {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw unreadableFile(path, e, what);
  }
  const refused = notRegular(path, st, what);
  if (refused) throw refused;
  try {
    return readFileSync(path);
  } catch (e) {
    throw unreadableFile(path, e, what);
  }
}
