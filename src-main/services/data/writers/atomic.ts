/** Write to a temporary file next to the target, then rename: readers never see a half-written file. */
import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FieldpackError } from '../../../core/errors.ts';

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Runs `write(tmp)` then renames tmp onto target; removes tmp on any failure. */
export async function writeAtomically<T>(target: string, write: (tmp: string) => Promise<T> | T): Promise<T> {
  try {
    const st = await stat(dirname(target));
    if (!st.isDirectory()) throw new Error('not a directory');
  } catch {
    throw new FieldpackError('INVALID_ARGUMENT', `${target}: the folder ${dirname(target)} does not exist`, { path: target });
  }
  const tmp = tempPathFor(target);
  try {
    const out = await write(tmp);
    await rename(tmp, target);
    return out;
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
