/**
 * The residual coders (issue 13). LBRC: NRMSE targets met per block on a real field and on the adversarial fields, a
 * strict point-wise bound in abs mode (mask, NaN and +-Inf kept), a base named by hash and needed to decode, and the
 * same bytes for any worker count. GAE (the baseline): NRMSE targets met, with and without a base.
 */
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src-main/services/codecs/zstd-backend.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { closePools, decodeStream, encodeField, verifyBound } from '../../../src-main/services/codecs/index.ts';
import { makeField } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import { errorStats } from '../../../src-main/core/metrics/index.ts';
import { FERRET, field, haveFerret } from './helpers.ts';

afterAll(() => closePools());

const nrmseOf = (f: Field, d: Field) => errorStats(f.values, d.values, f.mask ?? null, Infinity).nrmse;

describe('LBRC residual coder', () => {
  const f = makeField('T', [4, 50, 70], { seed: 5, masked: 0.1, nonFinite: 0.005, noise: 0.2 });

  it('meets NRMSE targets 1e-4, 1e-5, 1e-6 (per block), with NaN, +-Inf and fill kept exactly', async () => {
    for (const t of [1e-4, 1e-5, 1e-6]) {
      const r = await encodeField(f, { codec: 'lbrc', params: { block: [2, 16, 16] }, bound: { mode: 'nrmse', value: t }, workers: 0 });
      expect(r.codec).toBe('lbrc');
      expect(r.verification!.nrmse).toBeLessThanOrEqual(t);
      expect(r.verification!.nonFiniteExact).toBe(true);
      // the header's point-wise bound is the largest error the stream has
      expect(r.bound.abs).toBeCloseTo(r.details.maxError as number, 12);
    }
  });

  it('can measure the paper\'s bit-plane coding of the same differences beside the range coder, without changing the stream', async () => {
    const bound = { mode: 'nrmse' as const, value: 1e-5 };
    const plain = await encodeField(f, { codec: 'lbrc', bound, workers: 0, verify: false });
    const measured = await encodeField(f, { codec: 'lbrc', params: { compareBitPlanes: true }, bound, workers: 0, verify: false });
    expect(Buffer.from(measured.bytes).equals(Buffer.from(plain.bytes))).toBe(true);
    const c = measured.details.comparison as { rangeCodedBytes: number; bitPlaneBytes: number };
    expect(c.rangeCodedBytes).toBeGreaterThan(0);
    expect(c.bitPlaneBytes).toBeGreaterThan(0);
  });

  it('holds a strict point-wise bound in abs mode, with the same bytes for 0, 1 and 2 workers and the same values decoded', async () => {
    const streams: Uint8Array[] = [];
    for (const workers of [0, 1, 2]) streams.push((await encodeField(f, { codec: 'lbrc', params: { chunkValues: 4000 }, bound: { mode: 'abs', value: 0.01 }, workers })).bytes);
    expect(Buffer.from(streams[1]!).equals(Buffer.from(streams[0]!))).toBe(true);
    expect(Buffer.from(streams[2]!).equals(Buffer.from(streams[0]!))).toBe(true);
    const d = await decodeStream(streams[0]!, { workers: 2 });
    expect(verifyBound(f, d.field, 0.01).pointsOverBound).toBe(0);
    // more chunks than a worker's two lanes: with 1 worker this thread decodes some of them too
    expect(d.header.chunks.length).toBeGreaterThan(2);
    for (const workers of [0, 1]) {
      const other = await decodeStream(streams[0]!, { workers });
      expect(Buffer.from(other.field.values.buffer).equals(Buffer.from(d.field.values.buffer)), `${workers} workers`).toBe(true);
    }
  });

  it('a bound below half a float step of the values goes to the classic codec at that bound, no larger than lossless (the residual coder escaped nearly every point)', async () => {
    const g: Field = { ...f, values: f.values.map((x) => (Number.isFinite(x) ? 280 + x : x)) as Float32Array };
    const lossless = await encodeField(g, { codec: 'lbrc', bound: { mode: 'abs', value: 0 }, workers: 0, verify: false });
    for (const value of [1e-30, 1e-9]) {
      const r = await encodeField(g, { codec: 'lbrc', bound: { mode: 'abs', value }, workers: 0 });
      expect(r.codec, String(value)).toBe('classic');
      expect(r.details.choice).toBe('classic (a bound below the float step of the values)');
      expect(r.bytes.length).toBeLessThanOrEqual(lossless.bytes.length);
      expect(r.verification!.pointsOverBound).toBe(0);
    }
  });

  it('codes the residual of a base it names by hash; without the base a decoder says what it needs', async () => {
    const base = await encodeField(f, { codec: 'auto', bound: { mode: 'rel', value: 1e-2 }, workers: 0, verify: false });
    const baseField = { ...(await decodeStream(base.bytes, { workers: 0 })).field, name: 'T' };
    const r = await encodeField(f, { codec: 'lbrc', base: baseField, bound: { mode: 'nrmse', value: 1e-5 }, workers: 0, metadata: { variable: 'T' } });
    expect(r.verification!.nrmse).toBeLessThanOrEqual(1e-5);
    await expect(decodeStream(r.bytes, { workers: 0 })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/base stream of T/) });
    const d = await decodeStream(r.bytes, { workers: 0, deps: { fields: [baseField] } });
    expect(nrmseOf(f, d.field)).toBeLessThanOrEqual(1e-5);
    await expect(encodeField(f, { codec: 'auto', base: baseField, bound: { mode: 'nrmse', value: 1e-5 }, workers: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/takes no base/) });
  });

  it('meets the target on constant, integer, huge-magnitude and mixed-sign fields', async () => {
    const n = 40 * 60;
    const cases: Record<string, Float32Array> = {
      constant: new Float32Array(n).fill(3.25),
      integer: Float32Array.from({ length: n }, (_, i) => (i * 7919) % 13),
      huge: Float32Array.from({ length: n }, (_, i) => 3e38 * Math.sin(i / 50)),
      mixed: Float32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * Math.exp((i % 40) / 4)),
    };
    for (const [name, values] of Object.entries(cases)) {
      const g: Field = { name, shape: [40, 60], dims: ['y', 'x'], values, sourceDtype: 'float32', attributes: {} };
      const r = await encodeField(g, { codec: 'lbrc', bound: { mode: 'nrmse', value: 1e-5 }, workers: 0 });
      expect(r.verification!.nrmse, name).toBeLessThanOrEqual(1e-5);
    }
  });

  it.runIf(haveFerret)('COADS SST at NRMSE 1e-4..1e-6: every target met (needs ferret-datasets)', async () => {
    const sst = await field(`${FERRET}/coads_climatology.cdf`, 'SST');
    for (const t of [1e-4, 1e-5, 1e-6]) {
      const r = await encodeField(sst, { codec: 'lbrc', bound: { mode: 'nrmse', value: t }, workers: 2 });
      expect(r.verification!.nrmse).toBeLessThanOrEqual(t);
      expect(r.compressionRatio).toBeGreaterThan(3);
    }
  });
});

describe('GAE baseline', () => {
  const f = makeField('G', [3, 37, 53], { seed: 8, masked: 0.1, nonFinite: 0.005, noise: 0.5 });

  it('refuses a field whose squared errors overflow (values near 1e200) or underflow (near 1e-170) by saying so, not with a corrupted stream', async () => {
    for (const [scale, what] of [[1e200, 'overflow'], [1e-170, 'underflow']] as const) {
      const values = Float64Array.from({ length: 600 }, (_, i) => Math.sin(i / 30) * scale);
      const g: Field = { name: 'extreme', shape: [20, 30], dims: ['y', 'x'], values, sourceDtype: 'float64', attributes: {} };
      await expect(encodeField(g, { codec: 'gae', bound: { mode: 'nrmse', value: 1e-3 }, workers: 0 })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(new RegExp(`gae measures squared errors, which ${what} .*use lbrc or nglr`)) });
    }
    // at 1e-140 its squared bound (~1e-286) is still coded
    const small: Field = { name: 'small', shape: [20, 30], dims: ['y', 'x'], values: Float64Array.from({ length: 600 }, (_, i) => Math.sin(i / 30) * 1e-140), sourceDtype: 'float64', attributes: {} };
    expect((await encodeField(small, { codec: 'gae', bound: { mode: 'nrmse', value: 1e-3 }, workers: 0 })).verification!.nrmse).toBeLessThanOrEqual(1e-3);
  });

  it('meets NRMSE targets with and without a base (patches corrected along a PCA basis), NaN and +-Inf kept', async () => {
    const base = await encodeField(f, { codec: 'auto', bound: { mode: 'rel', value: 1e-2 }, workers: 0, verify: false });
    const baseField = { ...(await decodeStream(base.bytes, { workers: 0 })).field, name: 'G' };
    for (const t of [1e-3, 1e-4, 1e-5]) {
      const plain = await encodeField(f, { codec: 'gae', bound: { mode: 'nrmse', value: t }, workers: 0 });
      expect(plain.codec).toBe('gae');
      expect(plain.verification!.nrmse).toBeLessThanOrEqual(t);
      expect(plain.verification!.nonFiniteExact).toBe(true);
      const onBase = await encodeField(f, { codec: 'gae', base: baseField, bound: { mode: 'nrmse', value: t }, workers: 2, metadata: { variable: 'G' } });
      const d = await decodeStream(onBase.bytes, { workers: 2, deps: { fields: [baseField] } });
      expect(nrmseOf(f, d.field)).toBeLessThanOrEqual(t);
    }
  });

  it('codes NRMSE targets only, and says so', async () => {
    await expect(encodeField(f, { codec: 'gae', bound: { mode: 'abs', value: 0.1 }, workers: 0 })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/NRMSE targets only/) });
  });
});
