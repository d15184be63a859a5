/**
 * One writer at a time per archive journal. Two builds into one folder at once each planned their own work and
 * reused each other's finished members: an archive asked for at rel 1e-6 held members of another build's rel 1e-2,
 * under a manifest that said 1e-6. A build (or one shard of it) holds ARCHIVE/.WRITER.lock while it writes; a lock
 * whose process has ended (on this machine) is taken over.
 */
import { existsSync, readdirSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { makeFolder } from '../files/folders.ts';
import { processAlive } from '../files/atomic.ts';
import { readRegularFileSync } from '../files/regular.ts';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

const lockPath = (dir: string, writer: string) => join(dir, `.${writer}.lock`);

/** Runs `work` holding `writer`'s lock on the archive `dir` (made where missing, and removed again if left empty). */
export async function withWriterLock<T>(dir: string, writer: string, work: () => Promise<T>): Promise<T> {
  const made = !existsSync(dir);
  if (made) makeFolder(dir);
  const path = lockPath(dir, writer);
  const mine: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  try {
    take(dir, path, mine);
  } catch (e) {
    if (made) removeIfEmpty(dir);
    throw e;
  }
  try {
    return await work();
  } finally {
    if (ownedBy(path, mine)) rmSync(path, { force: true });
    if (made) removeIfEmpty(dir);
  }
}

function take(dir: string, path: string, mine: LockOwner): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(mine), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const other = readOwner(path);
    // a lock left by a build that ended without removing it (killed): this machine can tell, another cannot
    if (other && other.host === hostname() && !processAlive(other.pid)) {
      unlinkSync(path);
      continue;
    }
    const who = other ? `process ${other.pid} on ${other.host} (since ${other.since})` : 'another process';
    throw new FieldpackError('CONFLICT', `${dir} is being built by ${who}: two builds into one folder would mix their members; wait for it to end, or stop it (if it no longer runs, delete ${path})`, { path, owner: other });
  }
  throw new FieldpackError('CONFLICT', `${path}: could not take the archive's lock`, { path });
}

function readOwner(path: string): LockOwner | null {
  try {
    const o = JSON.parse(readRegularFileSync(path).toString('utf8')) as LockOwner;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

function ownedBy(path: string, mine: LockOwner): boolean {
  const o = readOwner(path);
  return !!o && o.pid === mine.pid && o.host === mine.host && o.since === mine.since;
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    /* gone, or not ours to remove */
  }
}
