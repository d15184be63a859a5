/**
 * The Lorenzo hybrid (runHybrid) and its least-squares weights (fitWeights) are written out per dimensionality; they
 * must give the very floats the generic loops over every point gave: the weights travel in the stream (rounded to
 * float32), and the predictions are the decoding contract (a stream written before must decode to the same bits).
 * Checked here against those loops, kept as the references, on masked 2D and 3D blocks with large grid indices, and
 * with signed zeros among the decoded values.
 */
import { describe, expect, it } from 'vitest';
import { type HybridBlock, type HybridParams, fitWeights, hybridNormalEquations, runHybrid } from '../../../src-main/core/compressors/crossfield/hybrid.ts';

function referenceRun(block: HybridBlock, params: HybridParams, q: Float64Array, step: (i: number, pred: number) => number): void {
  const sp = block.spatial;
  const nd = sp.length;
  const n = sp.reduce((a, b) => a * b, 1);
  const valid = block.valid;
  const dq = block.dq;
  const str = new Array<number>(nd);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) {
    str[d] = s;
    s *= sp[d]!;
  }
  // Lorenzo terms: every non-empty subset of axes, sign (-1)^(|S|+1)
  const lorOff: number[] = [];
  const lorSign: number[] = [];
  const lorMask: number[] = [];
  for (let m = 1; m < 1 << nd; m++) {
    let off = 0;
    let bits = 0;
    for (let d = 0; d < nd; d++) if (m & (1 << d)) { off += str[d]!; bits++; }
    lorOff.push(off);
    lorSign.push(bits % 2 === 1 ? 1 : -1);
    lorMask.push(m);
  }
  const mode = params.mode;
  const w = params.weights;
  const nc = nd + 1;
  // blend: absolute errors of each candidate at each point (0 where unknown)
  const err = mode === 'blend' ? new Float64Array(n * nc) : null;
  const cand = new Float64Array(nc);
  const coord = new Array<number>(nd).fill(0);
  let lastQ = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      for (let d = nd - 1; d >= 0; d--) {
        if (++coord[d]! < sp[d]!) break;
        coord[d] = 0;
      }
    }
    if (!valid[i]) continue;
    // which axis neighbours exist
    let axisMask = 0;
    for (let d = 0; d < nd; d++) if (coord[d]! > 0 && valid[i - str[d]!]) axisMask |= 1 << d;
    let lorOk = axisMask === (1 << nd) - 1;
    let L = 0;
    if (lorOk) {
      for (let t = 0; t < lorOff.length; t++) {
        const j = i - lorOff[t]!;
        if (!valid[j]) { lorOk = false; break; }
        L += lorSign[t]! * q[j]!;
      }
    }
    let pred: number;
    if (lorOk && mode !== 'lorenzo') {
      cand[0] = L;
      for (let d = 0; d < nd; d++) cand[d + 1] = q[i - str[d]!]! + dq[d]![i]!;
      if (mode === 'weighted') {
        let p = 0;
        for (let c = 0; c < nc; c++) p += w[c]! * cand[c]!;
        pred = Math.round(p);
      } else {
        let num = 0;
        let den = 0;
        for (let c = 0; c < nc; c++) {
          let e = 1;
          for (let d = 0; d < nd; d++) e += err![(i - str[d]!) * nc + c]!;
          const wt = 1 / (e * e);
          num += wt * cand[c]!;
          den += wt;
        }
        pred = Math.round(num / den);
      }
    } else if (lorOk) {
      pred = L;
    } else if (axisMask !== 0 && mode !== 'lorenzo') {
      let sum = 0;
      let cnt = 0;
      for (let d = 0; d < nd; d++) if (axisMask & (1 << d)) { sum += q[i - str[d]!]! + dq[d]![i]!; cnt++; }
      pred = Math.round(sum / cnt);
    } else if (axisMask !== 0) {
      let d = nd - 1;
      while (!(axisMask & (1 << d))) d--;
      pred = q[i - str[d]!]!;
    } else pred = lastQ;
    const v = step(i, pred);
    q[i] = v;
    lastQ = v;
    if (err) {
      const b = i * nc;
      if (lorOk) {
        err[b] = Math.abs(v - L);
        for (let d = 0; d < nd; d++) err[b + d + 1] = Math.abs(v - (q[i - str[d]!]! + dq[d]![i]!));
      }
    }
  }
}

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

describe('runHybrid, written out per dimensionality', () => {
  for (const spatial of [[37, 53], [9, 14, 23]]) {
    for (const mode of ['weighted', 'blend', 'lorenzo'] as const) {
      it(`predicts what the generic loop predicted, bit for bit, on ${spatial.length}D blocks in mode ${mode}`, () => {
        const { block, q: truth } = blockOf(spatial, 7);
        // indices near 2^50 in the first third (sums' last bits decide roundings there), a zero plateau of both signs
        // in the second (a zero sum's sign), the smooth field in the rest
        const third = Math.floor(truth.length / 3);
        let s = 99;
        const zero = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) < 2 ** 31 ? -0 : 0);
        truth.forEach((v, i) => (truth[i] = i < third ? v * 3.7e7 + (i % 7) : i < 2 * third ? zero() : v));
        const params: HybridParams = { mode, weights: spatial.length === 2 ? [0.5123, 0.31, 0.1777] : [0.5123, 0.2, 0.2, 0.0877] };
        const run = (fn: typeof runHybrid) => {
          const preds: number[] = [];
          const q = new Float64Array(truth.length);
          fn(block, params, q, (i, pred) => {
            preds.push(i, pred);
            return truth[i]!;
          });
          return { preds, q };
        };
        const ref = run(referenceRun);
        const now = run(runHybrid);
        expect(now.preds.length).toBe(ref.preds.length);
        expect(now.preds.every((x, k) => Object.is(x, ref.preds[k]))).toBe(true);
        expect(Array.from(now.q).every((x, k) => Object.is(x, ref.q[k]))).toBe(true);
      });
    }
  }
});
