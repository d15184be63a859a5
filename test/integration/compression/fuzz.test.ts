/**
 * The decoder fuzz harness, a small fixed-seed run (`npm run fuzz -- --cases 10000 --seed 1` is the long one):
 * valid streams of every registered codec, mutated (bit flips, truncation, extension, header fields with the CRCs
 * recomputed, huge varints, params, chunk payloads and embedded networks stored again), each decoded in a child
 * process under 2 s and declared output + 64 MiB. Every case ends in a clean BAD_STREAM, a decode to the declared
 * shape, or the refusal of a well-formed stream (unknown codec id, an anchor not given): never a crash, a hang,
 * too much memory or another error.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, runFuzz } from '../../../src-main/services/codecs/fuzz.ts';
import { listCodecs } from '../../../src-main/core/compressors/index.ts';

describe('decoder fuzz harness (src-main/services/codecs/fuzz.ts)', () => {
  it('400 mutated streams (seed 11): 0 crashes, 0 hangs, 0 other errors, 0 over memory', async () => {
    const r = await runFuzz({ cases: 400, seed: 11, jobs: 2, timeoutMs: 2000 });
    const text = formatReport(r);
    expect(r.counts.crash, text).toBe(0);
    expect(r.counts.hang, text).toBe(0);
    expect(r.counts.other, text).toBe(0);
    expect(r.counts.overMemory, text).toBe(0);
    expect(Object.values(r.counts).reduce((a, b) => a + b, 0)).toBe(400);
    // the mutations reach the decoders: most streams are refused, some still decode
    expect(r.counts.badStream).toBeGreaterThan(200);
    expect(r.counts.decoded).toBeGreaterThan(10);
    // every registered codec has seeds
    expect(new Set(r.seeds.map((s) => s.codec))).toEqual(new Set(listCodecs().map((c) => c.id)));
    expect(r.worst.ms).toBeLessThan(2000);
  }, 180_000);
});
