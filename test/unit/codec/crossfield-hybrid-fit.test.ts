/**
 * The Lorenzo hybrid's least-squares weights (fitWeights) are written out per dimensionality; they must be the very
 * floats the generic loop over every point gives (the weights travel in the stream, rounded to float32, and a
 * different sum order could move one): checked here against that loop, kept as the reference, on masked 2D and 3D
 * blocks with large grid indices.
 */
import { describe, expect, it } from 'vitest';
import { type HybridBlock, fitWeights, hybridNormalEquations } from '../../../src-main/core/compressors/crossfield/hybrid.ts';

/** The generic loop fitWeights replaced: coordinates stepped per point, the Lorenzo subsets rebuilt per point. */
function referenceSums(blocks: { block: HybridBlock; q: Float64Array }[]): { ata: Float64Array; aty: Float64Array } {
  const nd = blocks[0]!.block.spatial.length;
  const nc = nd + 1;
  const ata = new Float64Array(nc * nc);
  const aty = new Float64Array(nc);
  const cand = new Float64Array(nc);
  for (const { block, q } of blocks) {
    const sp = block.spatial;
    const str = new Array<number>(nd);
    let s = 1;
    for (let d = nd - 1; d >= 0; d--) { str[d] = s; s *= sp[d]!; }
    const coord = new Array<number>(nd).fill(0);
    for (let i = 0; i < q.length; i++) {
      if (i > 0) for (let d = nd - 1; d >= 0; d--) { if (++coord[d]! < sp[d]!) break; coord[d] = 0; }
      if (!block.valid[i] || coord.some((c) => c === 0)) continue;
      let ok = true;
      let L = 0;
      for (let m = 1; m < 1 << nd && ok; m++) {
        let off = 0;
        let bits = 0;
        for (let d = 0; d < nd; d++) if (m & (1 << d)) { off += str[d]!; bits++; }
        if (!block.valid[i - off]) ok = false;
        else L += (bits % 2 === 1 ? 1 : -1) * q[i - off]!;
      }
      if (!ok) continue;
      cand[0] = L;
      for (let d = 0; d < nd; d++) cand[d + 1] = q[i - str[d]!]! + block.dq[d]![i]!;
      for (let a = 0; a < nc; a++) {
        aty[a] += cand[a]! * q[i]!;
        for (let b = 0; b < nc; b++) ata[a * nc + b] += cand[a]! * cand[b]!;
      }
    }
  }
  return { ata, aty };
}

/** A smooth field's grid indices (with a large offset: sums far from exact), noisy predicted differences, holes. */
function blockOf(spatial: number[], seed: number): { block: HybridBlock; q: Float64Array } {
  const n = spatial.reduce((a, b) => a * b, 1);
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const q = new Float64Array(n);
  const valid = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    q[i] = Math.round(3e7 + 4000 * Math.sin(i / 37) + 900 * Math.cos(i / 5.3) + 50 * rnd());
    valid[i] = rnd() < 0.93 ? 1 : 0;
  }
  const dq = spatial.map((_, d) => Int32Array.from({ length: n }, (_, i) => Math.round(60 * Math.sin(i / (11 + d)) + 20 * (rnd() - 0.5))));
  return { block: { spatial, valid, dq }, q };
}

describe('fitWeights, written out per dimensionality', () => {
  for (const spatial of [[37, 53], [9, 14, 23]]) {
    it(`gives the generic loop's weights on ${spatial.length}D blocks [${spatial.join(', ')}] with masked points`, () => {
      const blocks = [blockOf(spatial, 1), blockOf(spatial, 2), blockOf(spatial, 3)];
      const { ata, aty } = referenceSums(blocks);
      const sums = hybridNormalEquations(blocks);
      expect(Array.from(sums.ata)).toEqual(Array.from(ata));
      expect(Array.from(sums.aty)).toEqual(Array.from(aty));
      const weights = fitWeights(blocks);
      expect(weights).toHaveLength(spatial.length + 1);
      expect(weights.every(Number.isFinite)).toBe(true);
      expect(weights.some((w) => w !== 0)).toBe(true);
    });
  }
});
