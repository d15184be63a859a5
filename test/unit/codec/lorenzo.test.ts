import { describe, expect, it } from 'vitest';
import { LinearQuantizer } from '../../../src-main/core/codec/quantizer.ts';
import { lorenzo } from '../../../src-main/core/codec/predictors/lorenzo.ts';
import { lorenzoStencil, padded } from '../../../src-main/core/codec/predictors/types.ts';
import { rng32 } from '../../../src-main/services/codecs/fuzz-corpus.ts';

/** The generic N-dim Lorenzo (the stencil summed in lorenzoStencil's order), as the predictor's 4D case was. */
function generic(enc: boolean, x: Float32Array, skip: Uint8Array | null, shape: number[], q: LinearQuantizer): void {
  const { size, pstr } = padded(shape);
  const P = new Float64Array(size);
  const { offs, sign } = lorenzoStencil(pstr);
  const coord = new Array<number>(shape.length).fill(0);
  for (let idx = 0; idx < x.length; idx++) {
    let p = 0;
    for (let d = 0; d < shape.length; d++) p += (coord[d]! + 1) * pstr[d]!;
    let pred = 0;
    for (let t = 0; t < offs.length; t++) pred += sign[t]! * P[p - offs[t]!]!;
    let r: number;
    if (skip !== null && skip[idx] === 1) r = pred - pred === 0 ? pred : 0;
    else if (enc) r = q.quantize(x[idx]!, pred);
    else x[idx] = r = q.recover(pred);
    P[p] = r;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coord[d]! < shape[d]!) break;
      coord[d] = 0;
    }
  }
}

describe('Lorenzo predictor', () => {
  it('4D: the written-out stencil codes and decodes the generic stencil\'s bits (masks, escapes, signed zeros)', () => {
    const r = rng32(41);
    for (const shape of [[3, 4, 5, 6], [1, 7, 1, 9], [6, 19, 9, 18]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = Math.fround(Math.sin(i * 0.01) * 10 + (r() - 0.5) * (r() < 0.01 ? 1e4 : 0.3));
      x[1] = -0;
      x[n >> 1] = 1e5; // an escape
      const skip = new Uint8Array(n);
      for (let i = 0; i < n; i++) skip[i] = r() < 0.2 && i !== n >> 1 ? 1 : 0;
      for (const s of [null, skip]) {
        const [qa, qb] = [new LinearQuantizer(0.01, true, n), new LinearQuantizer(0.01, true, n)];
        lorenzo.encode(x, s, shape, qa, 0);
        generic(true, x, s, shape, qb);
        expect(qa.nCodes).toBe(qb.nCodes);
        expect(qa.codes.subarray(0, qa.nCodes)).toEqual(qb.codes.subarray(0, qb.nCodes));
        expect(qa.escapes.subarray(0, qa.nEscapes)).toEqual(qb.escapes.subarray(0, qb.nEscapes));
        const [outA, outB] = [new Float32Array(n), new Float32Array(n)];
        lorenzo.decode(outA, s, shape, qa, 0);
        generic(false, outB, s, shape, qb);
        expect(Buffer.from(outA.buffer).equals(Buffer.from(outB.buffer))).toBe(true);
        for (let i = 0; i < n; i++) if (!s || !s[i]) expect(Math.abs(outA[i]! - x[i]!)).toBeLessThanOrEqual(0.01);
        expect(qa.nEscapes).toBeGreaterThan(0);
      }
    }
  });
});
