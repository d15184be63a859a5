/**
 * The archive on a real Slurm cluster (one node on this machine, test/helpers/slurm.ts): `fieldpack archive build
 * --slurm --array-size 4` writes the work, an sbatch job array whose task I runs `archive build --shard I/N`, and a
 * merge job after it; the test waits for the merged manifest, checks that four array tasks built the members, and
 * verifies the archive. The cluster's daemons are stopped by PID, also when something fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COADS, WRF_KATRINA } from '../../helpers/data-files.ts';
import { ROOT } from '../../helpers/cli.ts';
import { type SlurmCluster, startSlurm } from '../../helpers/slurm.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { sbatchFailure, submitSlurm } from '../../../src-main/services/archive/cluster.ts';

const NODE22 = join(ROOT, 'node_modules', 'node', 'bin', 'node');
const BIN = join(ROOT, 'bin', 'fieldpack.mjs');

describe('fieldpack archive on Slurm', () => {
  const tmp = tempDir('fieldpack-archive-slurm-');
  let cluster: SlurmCluster | null = null;

  beforeAll(async () => {
    cluster = await startSlurm();
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
    tmp.cleanup();
  }, 60_000);

  it('builds as a 4-task job array (in a folder whose path has a space), merges in a dependent job, and verifies', async () => {
    const c = cluster!;
    // a space in the folder's path: the #SBATCH --output line quotes it (sbatch split it, and the logs went elsewhere)
    const out = join(tmp.dir, 'my archive');
    const run = (args: string[]) => execFileSync(NODE22, [BIN, ...args], { cwd: ROOT, env: c.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const submitted = run(['archive', 'build', COADS, WRF_KATRINA, '--vars', 'SST,AIRT,SLP,T2,Q2,PSFC', '-o', out, '--slurm', '--array-size', '4']);
    const ids = /array job (\d+), merge job (\d+)/.exec(submitted);
    expect(ids, submitted).not.toBeNull();
    const script = readFileSync(join(out, 'slurm', 'build.sbatch'), 'utf8');
    expect(script).toContain('#SBATCH --array=0-3');
    expect(script).toMatch(/archive build .* --shard "\$\{SLURM_ARRAY_TASK_ID\}\/4"/);
    // the store's trained models are found by the tasks too (they open no store: a vqvae archive's tasks found none)
    expect(script).toMatch(/^export FIELDPACK_MODEL_PATH=\S*-files\/models\/vqvae:\S*-files\/models\/nglr/m);
    // a failed array task ends the merge job rather than leaving it pending forever
    expect(readFileSync(join(out, 'slurm', 'merge.sbatch'), 'utf8')).toContain('#SBATCH --kill-on-invalid-dep=yes');
    const t0 = Date.now();
    while (!existsSync(join(out, 'manifest.json'))) {
      if (Date.now() - t0 > 240_000) throw new Error(`no manifest after 240 s\n${execFileSync('squeue', [], { env: c.env, encoding: 'utf8' })}\n${c.log()}`);
      const q = execFileSync('squeue', ['-h', '-j', `${ids![1]},${ids![2]}`, '-o', '%i %T %r'], { env: c.env, encoding: 'utf8' });
      if (/DependencyNeverSatisfied/.test(q)) throw new Error(`an array task failed:\n${q}\n${readdirSync(join(out, 'slurm', 'logs')).map((f) => readFileSync(join(out, 'slurm', 'logs', f), 'utf8')).join('\n')}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // the journals of the four array tasks hold the members; the merge job wrote the manifest
    const journals = readdirSync(join(out, 'journal')).sort();
    expect(journals).toEqual(['shard-0-of-4.jsonl', 'shard-1-of-4.jsonl', 'shard-2-of-4.jsonl', 'shard-3-of-4.jsonl']);
    const logs = readdirSync(join(out, 'slurm', 'logs'));
    expect(logs.filter((f) => f.startsWith(`build-${ids![1]}_`))).toHaveLength(4);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    // SST and AIRT, SLP, T2, Q2, PSFC and the auxiliary coordinates these name (XLAT, XLONG, XTIME)
    expect(m.members).toHaveLength(9);
    const verify = run(['archive', 'verify', out]);
    expect(verify).toContain('all 9 members verified');
  }, 300_000);
});

describe('sbatch refusals', () => {
  it('a controller that does not answer is said as the cluster\'s state (NOT_FOUND, not INTERNAL); another refusal in sbatch\'s words', () => {
    const down = sbatchFailure('sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)');
    expect(down).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/Slurm's controller did not answer .*is slurmctld running/) });
    const partition = sbatchFailure('sbatch: error: invalid partition specified: nope');
    expect(partition).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'sbatch refused the job: sbatch: error: invalid partition specified: nope' });
  });

  it('a --partition or --time that would end its #SBATCH line (a line break: the rest a shell command) is refused before a script is written', async () => {
    const tmp = tempDir('fieldpack-slurm-values-');
    try {
      for (const o of [{ partition: 'debug\ntouch /tmp/owned' }, { time: '1:00 "x' }]) {
        await expect(submitSlurm(tmp.dir, { arraySize: 2, submit: false, ...o })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/--(partition|time) .* has a double quote or a line break/) });
        expect(existsSync(join(tmp.dir, 'slurm', 'build.sbatch'))).toBe(false);
      }
      const ok = await submitSlurm(tmp.dir, { arraySize: 2, submit: false, partition: 'debug,long', time: '1-00:00:00' });
      expect(readFileSync(ok.buildScript, 'utf8')).toMatch(/#SBATCH --partition=debug,long\n#SBATCH --time=1-00:00:00\n/);
    } finally {
      tmp.cleanup();
    }
  });
});
