/**
 * The zfp adapter runs the Debian CLI as an awaited child process: the ratio matches a direct run, the caller's
 * thread is free while it runs, and a cancel kills it and says so.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { zfpCli } from '../../../src-main/services/compression/baselines/external.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';

const field = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i / 50) * 100 + Math.cos(i / 7));
const benchDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('fieldpack-bench-')).length;

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

  it('a cancel stops the tool, names it, and leaves no temporary folder', async () => {
    const before = benchDirs();
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
    expect(benchDirs()).toBe(before);
  });
});
