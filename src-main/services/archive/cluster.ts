/**
 * Shards run elsewhere than this process: `--jobs N` starts N local `fieldpack archive build --shard I/N` processes
 * and merges when all are done; `--slurm` writes an sbatch job-array script whose task I runs the same command on
 * its node, plus a merge job that depends on the array (afterok), and submits both with sbatch. No scheduler of our
 * own: Slurm runs the tasks, the journals say what is done.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { appRoot } from '../system/version.ts';
import { writeFileAtomic } from '../files/atomic.ts';
import { readJournals } from './journal.ts';
import type { BuildProgress } from './build.ts';
import type { WorkManifest } from './format.ts';
import { makeFolder } from '../files/folders.ts';
import { modelPathForChildren } from '../codecs/models.ts';

/** The command that runs this Fieldpack's CLI on a node: this Node (>= 22) and the launcher, by absolute path. */
export function cliCommand(): string[] {
  return [process.execPath, join(appRoot(), 'bin', 'fieldpack.mjs')];
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Runs shards 0..N-1 as local processes; progress from their journals; cancelling stops them (SIGINT). */
export async function runLocalShards(dir: string, work: WorkManifest, count: number, ctl: { onProgress?: (p: BuildProgress) => void; signal?: AbortSignal; workers?: number }): Promise<void> {
  const [node, bin] = cliCommand();
  const children: { child: ChildProcess; stderr: string[]; exit: Promise<number> }[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(node!, [bin!, 'archive', 'build', resolve(dir), '--shard', `${i}/${count}`, '--workers', String(ctl.workers ?? 0)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FIELDPACK_MODEL_PATH: modelPathForChildren() } });
    const stderr: string[] = [];
    child.stderr!.on('data', (b: Buffer) => {
      stderr.push(b.toString());
      if (stderr.length > 50) stderr.shift();
    });
    children.push({ child, stderr, exit: new Promise((res) => child.on('exit', (code, sig) => res(code ?? (sig ? 128 : 1)))) });
  }
  const onAbort = () => children.forEach((c) => c.child.kill('SIGINT'));
  ctl.signal?.addEventListener('abort', onAbort, { once: true });
  const total = work.members.length;
  const totalBytesIn = work.members.reduce((a, m) => a + m.bytes, 0);
  const t0 = performance.now();
  const startDone = readJournals(dir).members.size;
  let startIn: number | null = null;
  const poll = setInterval(() => {
    const j = readJournals(dir);
    const es = [...j.members.values()];
    const bytesIn = es.reduce((a, e) => a + e.originalBytes, 0);
    startIn ??= bytesIn;
    const runIn = bytesIn - startIn;
    const secs = (performance.now() - t0) / 1000;
    ctl.onProgress?.({ done: j.members.size, total, bytesIn, totalBytesIn, bytesOut: es.reduce((a, e) => a + e.bytes, 0), secondsLeft: runIn > 0 && j.members.size > startDone ? (secs / runIn) * (totalBytesIn - bytesIn) : null });
  }, 500);
  try {
    const codes = await Promise.all(children.map((c) => c.exit));
    if (ctl.signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled: the shards stopped; their journals keep the finished members (run the build again to resume)');
    const bad = codes.map((c, i) => ({ c, i })).filter((x) => x.c !== 0);
    if (bad.length) {
      const first = bad[0]!;
      const tail = children[first.i]!.stderr.join('').trim().split('\n').slice(-3).join(' | ');
      throw new FieldpackError('INTERNAL', `shard ${first.i}/${count} failed (exit ${first.c}${bad.length > 1 ? `; ${bad.length} shards failed` : ''}): ${tail}`);
    }
  } finally {
    clearInterval(poll);
    ctl.signal?.removeEventListener('abort', onAbort);
  }
}

export interface SlurmOptions {
  arraySize: number;
  partition?: string;
  time?: string;
  /** submit with sbatch (default); false only writes the scripts */
  submit?: boolean;
}

export interface SlurmSubmission {
  buildScript: string;
  mergeScript: string;
  arrayJobId: string | null;
  mergeJobId: string | null;
}

/**
 * A value on an #SBATCH line: sbatch splits these lines at white space but keeps a double-quoted value whole; a
 * double quote or a line break cannot be held, and is refused rather than let split or end the line.
 */
function sbatchValue(what: string, value: string): string {
  if (/["\r\n]/.test(value)) throw new FieldpackError('INVALID_ARGUMENT', `${what} ${JSON.stringify(value)} has a double quote or a line break, which an #SBATCH line cannot hold`);
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `"${value}"`;
}

function sbatchHeader(name: string, dir: string, log: string, o: SlurmOptions): string[] {
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${name}`,
    `#SBATCH --output=${sbatchValue("the archive folder's path", join(dir, 'slurm', 'logs', log))}`,
    '#SBATCH --ntasks=1',
    '#SBATCH --cpus-per-task=1',
    ...(o.partition ? [`#SBATCH --partition=${sbatchValue('--partition', o.partition)}`] : []),
    ...(o.time ? [`#SBATCH --time=${sbatchValue('--time', o.time)}`] : []),
  ];
}

/**
 * What sbatch's refusal means for the user: a controller that does not answer (slurmctld down, a wrong slurm.conf) is
 * the cluster's state, said as such (NOT_FOUND), not a Fieldpack fault; other refusals (a partition, a time limit)
 * are the request's (INVALID_ARGUMENT), with sbatch's own words.
 */
export function sbatchFailure(stderr: string): FieldpackError {
  if (/unable to contact slurm controller|connection refused|socket timed out|zero bytes were transmitted/i.test(stderr)) {
    return new FieldpackError('NOT_FOUND', `Slurm's controller did not answer (${stderr}): is slurmctld running (sinfo says)? Or use --jobs N for local processes`);
  }
  return new FieldpackError('INVALID_ARGUMENT', `sbatch refused the job: ${stderr}`);
}

/** Writes the array and merge scripts into ARCHIVE/slurm and submits them (merge after every task succeeded). */
export async function submitSlurm(dirIn: string, o: SlurmOptions): Promise<SlurmSubmission> {
  const dir = resolve(dirIn);
  const n = o.arraySize;
  if (!(Number.isInteger(n) && n >= 1 && n <= 10000)) throw new FieldpackError('INVALID_ARGUMENT', `--array-size must be an integer in [1, 10000], got ${n}`);
  const cli = cliCommand().map(quote).join(' ');
  makeFolder(join(dir, 'slurm', 'logs'));
  const buildScript = join(dir, 'slurm', 'build.sbatch');
  const mergeScript = join(dir, 'slurm', 'merge.sbatch');
  await writeFileAtomic(buildScript, [
    ...sbatchHeader('fieldpack-archive', dir, 'build-%A_%a.out', o),
    `#SBATCH --array=0-${n - 1}`,
    '# each array task builds one shard of the work in work.json; its journal says what it finished',
    // the models this build finds (the store's trained ones among them): a task opens no store of its own
    `export FIELDPACK_MODEL_PATH=${quote(modelPathForChildren())}`,
    `exec ${cli} archive build ${quote(dir)} --shard "\${SLURM_ARRAY_TASK_ID}/${n}"`,
    '',
  ].join('\n'));
  await writeFileAtomic(mergeScript, [
    ...sbatchHeader('fieldpack-archive-merge', dir, 'merge-%j.out', o),
    '# runs after every array task succeeded (sbatch --dependency=afterok:ARRAY_JOB); ended by Slurm if one failed',
    '# (rather than pending forever as DependencyNeverSatisfied): rerun the build to finish the failed shards',
    '#SBATCH --kill-on-invalid-dep=yes',
    `exec ${cli} archive merge ${quote(dir)}`,
    '',
  ].join('\n'));
  chmodSync(buildScript, 0o755);
  chmodSync(mergeScript, 0o755);
  if (o.submit === false) return { buildScript, mergeScript, arrayJobId: null, mergeJobId: null };
  const sbatch = (args: string[]) => {
    try {
      return execFileSync('sbatch', ['--parsable', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split(';')[0]!;
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      if (err.code === 'ENOENT') throw new FieldpackError('NOT_FOUND', 'sbatch is not installed here (Slurm\'s client): run on a login node, or use --jobs N for local processes');
      throw sbatchFailure((err.stderr ?? err.message).trim());
    }
  };
  const arrayJobId = sbatch([buildScript]);
  const mergeJobId = sbatch([`--dependency=afterok:${arrayJobId}`, mergeScript]);
  return { buildScript, mergeScript, arrayJobId, mergeJobId };
}
