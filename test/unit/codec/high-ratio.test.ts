/**
 * High ratios: a field that is nearly one vertical profile (pressure on 30 levels, 0.4 % horizontal variation) at a
 * bound above most of its horizontal structure. Coder 2's model on the planning sample chose Lorenzo there, 4 x larger
 * than a tuned cubic interpolation (the held-out SCALE-like PRES at rel 1e-2: 4417 bytes against SZ3's 1697); planning
 * now codes the interpolations' tunings on the screening block and each chunk is coded both ways.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { chunkInputs, codedOneWay, compressClassic, contestLeader, decompressClassic, encodeChunk } from '../../../src-main/core/compressors/classic/codec.ts';
import { closePools, decodeStream, encodeField } from '../../../src-main/services/codecs/index.ts';
import { overBound, pressureLevels } from './helpers.ts';

afterAll(() => closePools());

/** The field encoded with 0, 1 and 2 workers in chunks of `chunkValues`: the same bytes, within the bound encoded and decoded; the run. */
async function sameBytesAcrossWorkers(f: { values: Float32Array; shape: number[] }, bound: { mode: 'rel'; value: number }, chunkValues: number) {
  const field = { name: 'PRES', dims: ['lev', 'y', 'x'], sourceDtype: 'float32' as const, attributes: {}, ...f };
  const runs = await Promise.all([0, 1, 2].map((workers) => encodeField(field, { codec: 'auto', params: { chunkValues }, bound, workers, verify: true, metadata: {} })));
  for (const r of runs.slice(1)) expect(Buffer.from(r.bytes).equals(Buffer.from(runs[0]!.bytes))).toBe(true);
  expect(runs[0]!.verification!.pointsOverBound).toBe(0);
  const d = await decodeStream(runs[0]!.bytes, { workers: 2 });
  expect(overBound(f.values, d.field.values, null, runs[0]!.bound.abs)).toBe(0);
  return runs[0]!;
}

describe('high ratios: the interpolations coded against the model-sized winner', () => {
  const f = pressureLevels(30, 100, 100);
  const bound = { mode: 'rel' as const, value: 3e-3 };

  it('a near-profile field: the tuned cubic interpolation, less than half the untuned presets (2111 bytes before, 820 now)', () => {
    const auto = compressClassic(f, { bound }, zstdBackend);
    const presets = (['lorenzo', 'interp-linear', 'interp-cubic'] as const).map((predictor) => compressClassic(f, { bound, predictor }, zstdBackend).bytes.length);
    expect(auto.plan.alternative).toMatchObject({ predictor: 'interp-cubic' });
    expect(auto.bytes.length).toBeLessThan(Math.min(...presets) / 2);
    const d = decompressClassic(auto.bytes).field;
    expect(overBound(f.values, d.values, null, auto.plan.bound.abs)).toBe(0);
  });

  it('the chunks coded both ways give identical bytes with 0, 1 and 2 workers, and the choice names what they took', async () => {
    // chunks of 6 levels: several, each coded both ways
    const run = await sameBytesAcrossWorkers(f, bound, 60_000);
    expect(String(run.details.choice)).toMatch(/interp/);
  });
});

describe('extreme ratios: each chunk sizes the cubic interpolation tuned three ways on itself (the contest)', () => {
  // 60 levels, 0.04 % horizontal variation: at rel 1e-2 the screening block's streams are a few bytes and cannot tell
  // the tunings apart, while on the whole field the coarse levels' error carried into the fine ones decides
  const f = pressureLevels(60, 64, 64, 4e-4);
  const bound = { mode: 'rel' as const, value: 1e-2 };

  it('a contest is planned, and its winner makes the stream several times smaller than the plan without it', () => {
    const auto = compressClassic(f, { bound }, zstdBackend);
    expect(auto.plan.contest?.length).toBeGreaterThan(0);
    const without = { ...auto.plan, contest: undefined };
    const payloadWithout = chunkInputs(without, f).reduce((t, c) => t + encodeChunk(without, c.values, c.mask, c.shape, zstdBackend).stored.length, 0);
    // 116 bytes in all against a 507-byte payload without the contest
    expect(auto.bytes.length * 3).toBeLessThan(payloadWithout);
    const presets = (['lorenzo', 'interp-linear', 'interp-cubic'] as const).map((predictor) => compressClassic(f, { bound, predictor }, zstdBackend).bytes.length);
    // and well under every preset (the smallest, Lorenzo, 218 bytes)
    expect(auto.bytes.length).toBeLessThan(0.6 * Math.min(...presets));
    const d = decompressClassic(auto.bytes).field;
    expect(overBound(f.values, d.values, null, auto.plan.bound.abs)).toBe(0);
  });

  it('identical bytes with 0, 1 and 2 workers over several chunks, within the bound; the choice names the tunings taken', async () => {
    const run = await sameBytesAcrossWorkers(f, bound, 60_000);
    expect(String(run.details.choice)).toMatch(/interp-cubic tuned \(\d/);
  });
});

describe('a contest planned from a sample the chunk is unlike', () => {
  // the near-profile field of the contest above, but with noise of a few bounds everywhere outside the centre that
  // planning samples (a cloud-ice field's central block of zeros): the sample says extreme ratio, the chunk is not
  const f = pressureLevels(60, 128, 128, 4e-4);
  let seed = 12345;
  for (let k = 0; k < 60; k++) {
    for (let y = 0; y < 128; y++) {
      for (let x = 0; x < 128; x++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        if (Math.abs(y - 64) > 40 || Math.abs(x - 64) > 40) f.values[(k * 128 + y) * 128 + x]! += ((seed / 2 ** 32) - 0.5) * 1e4;
      }
    }
  }
  const bound = { mode: 'rel' as const, value: 1e-2 };

  it('sizes no contest on a chunk whose own coding is not at those ratios, and keeps the bound', () => {
    const auto = compressClassic(f, { bound }, zstdBackend);
    expect(auto.plan.contest?.length).toBeGreaterThan(0);
    const [chunk] = chunkInputs(auto.plan, f);
    const own = encodeChunk(codedOneWay(auto.plan), chunk!.values, chunk!.mask, chunk!.shape, zstdBackend);
    expect(own.stored.length * 8).toBeGreaterThan(0.4 * chunk!.values.length);
    expect(contestLeader(auto.plan, chunk!, own, zstdBackend)).toBeNull();
    const d = decompressClassic(auto.bytes).field;
    expect(overBound(f.values, d.values, null, auto.plan.bound.abs)).toBe(0);
  });

  it('while the field at the ratio the sample saw still has its leader sized', () => {
    const g = pressureLevels(60, 64, 64, 4e-4);
    const auto = compressClassic(g, { bound }, zstdBackend);
    const [chunk] = chunkInputs(auto.plan, g);
    const own = encodeChunk(codedOneWay(auto.plan), chunk!.values, chunk!.mask, chunk!.shape, zstdBackend);
    expect(contestLeader(auto.plan, chunk!, own, zstdBackend)).not.toBeNull();
  });
});
