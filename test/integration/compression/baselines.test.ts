/**
 * The zfp adapter runs the Debian CLI as an awaited child process: the ratio matches a direct run, the caller's
 * thread is free while it runs, and a cancel kills it and says so.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, zfpCli } from '../../../src-main/services/compression/baselines/external.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';

const field = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i / 50) * 100 + Math.cos(i / 7));

describe.skipIf(!zfpCli.available())('zfp adapter (needs zfp)', () => {
  it('compresses within the bound while the event loop keeps running', async () => {
    const v = field(256 * 256 * 16);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const r = await zfpCli.run(v, [16, 256, 256], 0.01);
    clearInterval(timer);
    expect(r.compressedBytes).toBeGreaterThan(0);
    let worst = 0;
    for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i]! - r.recon[i]!));
    expect(worst).toBeLessThanOrEqual(0.01);
    expect(ticks).toBeGreaterThan(0);
  });

  it('a bound fixed accuracy cannot reach (below the values\' spacing) is met by running zfp losslessly, and said so', async () => {
    const v = field(64 * 64);
    const r = await zfpCli.run(v, [64, 64], 1e-300);
    expect(r.mode).toBe('reversible: -a 1e-300 missed the bound');
    for (let i = 0; i < v.length; i++) expect(r.recon[i]).toBe(v[i]);
    // a bound it meets keeps its accuracy mode
    expect((await zfpCli.run(v, [64, 64], 0.01)).mode).toBeUndefined();
  });

  it('a cancel stops the tool, names it, and leaves no temporary folder', async () => {
    // a temp folder of this test's own (other test files run zfp at the same time in the shared one)
    const own = mkdtempSync(join(tmpdir(), 'fieldpack-cancel-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = own;
    try {
      await cancelled();
      expect(readdirSync(own)).toEqual([]);
    } finally {
      process.env.TMPDIR = saved;
      if (saved === undefined) delete process.env.TMPDIR;
      rmSync(own, { recursive: true, force: true });
    }
  });
});

describe('external tools start from a helper process', () => {
  it('not forked from this process (a fork slowed the compressions after it): the tool\'s parent is another process, its output and exit status come back', async () => {
    const r = await runTool('sh', ['-c', 'echo $PPID']);
    const parent = Number(r.stdout.trim());
    expect(parent).toBeGreaterThan(0);
    expect(parent).not.toBe(process.pid);
    expect(r.seconds).toBeGreaterThan(0);
    await expect(runTool('sh', ['-c', 'echo nope >&2; exit 3'])).rejects.toThrow(/exit 3.*nope/);
    await expect(runTool('fieldpack-no-such-tool', [])).rejects.toThrow(/fieldpack-no-such-tool could not run/);
    const ac = new AbortController();
    const t0 = performance.now();
    const slow = runTool('sleep', ['10'], ac.signal);
    setTimeout(() => ac.abort(), 50);
    await expect(slow).rejects.toThrow(/sleep was stopped: cancelled/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

/** A cancel before the start and one while zfp runs: CANCELLED, naming zfp. */
async function cancelled(): Promise<void> {
  const pre = new AbortController();
  pre.abort();
  await expect(zfpCli.run(field(1000), [1000], 0.1, pre.signal)).rejects.toThrow(/cancelled/);
  const ac = new AbortController();
  const run = zfpCli.run(field(2 ** 23), [128, 256, 256], 1e-6, ac.signal);
  setTimeout(() => ac.abort(), 30);
  const err = await run.catch((e) => e);
  expect(err).toBeInstanceOf(FieldpackError);
  expect((err as FieldpackError).code).toBe('CANCELLED');
  expect((err as Error).message).toMatch(/zfp/);
}
