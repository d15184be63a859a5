/**
 * The predictors' encoders and decoders in WebAssembly (wasm/codec-kernels.ts interpQuantize, lorenzoQuantize,
 * dqLorenzoQuantize, interpRecover, lorenzoRecover, gridIndices; issue 14: planning sizes every candidate predictor on a sample, and these loops were
 * most of that time) against the TypeScript reference loops: the same codes and escapes, and the same decoded values
 * and reading positions, from 1D-4D fields, with and without skipped points,
 * float32 and float64 values and reconstructions, level-dependent bounds, escapes (values far off their predictions,
 * more than the kernel's escape room), a non-finite prediction's neighbourhood. A stream never depends on which ran.
 */
import { describe, expect, it } from 'vitest';
import { LinearQuantizer } from '../../../src-main/core/codec/quantizer.ts';
import { decodeInterp, encodeInterp } from '../../../src-main/core/codec/predictors/interp.ts';
import { decodeLorenzo, encodeLorenzo } from '../../../src-main/core/codec/predictors/lorenzo.ts';
import { dqLorenzo, encodeDqLorenzo } from '../../../src-main/core/codec/predictors/dq-lorenzo.ts';
import { GridQuantizer, fromGridIndices, toGridIndices } from '../../../src-main/core/codec/grid.ts';
import { interpQuantizeKernel, interpRecoverKernel, lorenzoQuantizeKernel, lorenzoRecoverKernel } from '../../../src-main/core/codec/wasm-kernels.ts';
import { rng32 } from '../../../src-main/services/codecs/fuzz-corpus.ts';

/** A smooth field with noise, a few spikes (escapes at tight bounds) and, where asked, 1 in 4 points skipped */
function fieldOf(shape: number[], seed: number, f32: boolean, spikes: number, skipped: boolean) {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng32(seed);
  const x = f32 ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = 10 * Math.sin(i * 0.013) + Math.cos(i * 0.0007) * 50 + (r() - 0.5);
  for (let k = 0; k < spikes; k++) x[Math.floor(r() * n)] = (r() - 0.5) * 1e9;
  const skip = skipped ? Uint8Array.from({ length: n }, () => (r() < 0.25 ? 1 : 0)) : null;
  return { x, skip };
}

/** codes and escapes as one comparable string (vitest compares long typed arrays slowly) */
const key = (q: LinearQuantizer) =>
  `${q.nCodes}:${q.nEscapes}:${Buffer.from(q.codes.buffer, 0, q.nCodes * 4).toString('base64')}:${Buffer.from(q.escapes.buffer, 0, q.nEscapes * 8).toString('base64')}`;

/** The zero residuals among a quantizer's codes, counted here; the kernel's count where it gave one must be this */
function expectZeroCount(fast: LinearQuantizer, ref: LinearQuantizer, what: string): void {
  let zeros = 0;
  for (let i = 0; i < ref.nCodes; i++) if (ref.codes[i] === ref.radius) zeros++;
  expect(fast.knownZeros() ?? zeros, `zero residuals: ${what}`).toBe(zeros);
  expect(ref.knownZeros()).toBeNull();
}

/** A decoded field as one comparable string, and where the decoder stopped reading */
const outKey = (out: Float32Array | Float64Array, q: LinearQuantizer) => `${q.pos}:${q.escPos}:${Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('base64')}`;

/**
 * Decodes `coded`'s codes with the kernel and with the reference (a fresh quantizer each, as `make` builds them) into
 * outputs prefilled with a sentinel (skipped points must keep it): the same values and the same reading position.
 */
function decodedBothWays(coded: LinearQuantizer, make: () => LinearQuantizer, n: number, f32: boolean, decode: (out: Float32Array | Float64Array, q: LinearQuantizer, kernels: boolean) => void): [string, string] {
  return [true, false].map((kernels) => {
    const q = make();
    q.load(coded.codes, coded.nCodes, coded.escapes, coded.nEscapes);
    const out = f32 ? new Float32Array(n).fill(-7.25) : new Float64Array(n).fill(-7.25);
    decode(out, q, kernels);
    return outKey(out, q);
  }) as [string, string];
}

// (Lorenzo's rows are walked four at a time, lorenzoRows: groups across planes, rows of 1-3 points, rows left over)
const SHAPES = [[777], [37, 53], [9, 17, 33], [3, 5, 12, 19], [2, 1, 40, 3], [6, 3, 2], [50, 1], [7, 3, 5, 1], [1, 300], [2, 2, 2, 2]];

/**
 * Grid values decoded straight from `coded`'s codes (GridQuantizer.decodeValuesInto, float32 and float64) with the
 * kernel, and as indices mapped by fromGridIndices with the reference: the same bits. Returns how many of the two
 * the kernel mapped itself.
 */
function expectSameValues(coded: LinearQuantizer, make: () => GridQuantizer, n: number, what: string, decode: (out: Float64Array, q: LinearQuantizer, kernels: boolean) => void): number {
  let mapped = 0;
  const grid = { offset: -3.5, step: 0.1 };
  for (const f32 of [true, false]) {
    const [fast, ref] = [true, false].map((kernels) => {
      const q = make();
      q.load(coded.codes, coded.nCodes, coded.escapes, coded.nEscapes);
      const values = f32 ? new Float32Array(n) : new Float64Array(n);
      q.decodeValuesInto(grid, values);
      const indices = new Float64Array(n);
      decode(indices, q, kernels);
      if (q.valuesWritten) mapped++;
      else fromGridIndices(indices, values, null, grid, f32);
      return Buffer.from(values.buffer).toString('base64');
    });
    expect(fast, `values: ${what} f32=${f32}`).toBe(ref);
  }
  return mapped;
}

describe('predictor encoders in WebAssembly', () => {
  it('are there (this engine has WebAssembly)', () => {
    expect(interpQuantizeKernel()).not.toBeNull();
    expect(lorenzoQuantizeKernel()).not.toBeNull();
    expect(interpRecoverKernel()).not.toBeNull();
    expect(lorenzoRecoverKernel()).not.toBeNull();
  });

  it('give the reference loops\' codes and escapes: interpolation (linear, cubic, tunings) and Lorenzo, 1D-4D, masks, float32 and float64, escapes past the kernel\'s room', () => {
    let seed = 1;
    let escaped = 0;
    for (const shape of SHAPES) {
      for (const f32 of [true, false]) {
        for (const skipped of [false, true]) {
          for (const spikes of [0, 3, 200]) {
            const { x, skip } = fieldOf(shape, seed++, f32, spikes, skipped);
            for (const bound of [0.5, 1e-3]) {
              type Coder = (q: LinearQuantizer, kernels: boolean, out?: Float32Array | Float64Array) => void;
              const runs: [string, Coder][] = [
                ['lorenzo', (q, k, out) => (out ? decodeLorenzo(out, skip, shape, q, k) : encodeLorenzo(x, skip, shape, q, k))],
                // dq-Lorenzo decodes in TypeScript: both "ways" decode alike there
                ['dq-lorenzo', (q, k, out) => (out ? dqLorenzo.decode(out, skip, shape, q) : encodeDqLorenzo(x, skip, shape, q, k))],
                ...[0, 3, 16].flatMap((tune) => [false, true].map((cubic): [string, Coder] =>
                  [`interp cubic=${cubic} tune=${tune}`, (q, k, out) => (out ? decodeInterp(cubic, out, skip, shape, q, tune, k) : encodeInterp(cubic, x, skip, shape, q, tune, k))])),
              ];
              for (const [name, run] of runs) {
                const what = `${name} ${shape} f32=${f32} skipped=${skipped} spikes=${spikes} bound=${bound}`;
                const [fast, ref] = [true, false].map((kernels) => {
                  const q = new LinearQuantizer(bound, f32, x.length);
                  run(q, kernels);
                  return q;
                }) as [LinearQuantizer, LinearQuantizer];
                expect(key(fast), what).toBe(key(ref));
                expectZeroCount(fast, ref, what);
                if (spikes === 0) expect(fast.knownZeros(), what).not.toBeNull();
                escaped = Math.max(escaped, ref.nEscapes / x.length);
                const [fastOut, refOut] = decodedBothWays(ref, () => new LinearQuantizer(bound, f32, 0), x.length, f32, (out, q, k) => run(q, k, out));
                expect(fastOut, `decoded: ${what}`).toBe(refOut);
              }
            }
          }
        }
      }
    }
    // some cases escaped more than the kernel's room (1 in 16): the reference ran there, the same codes either way
    expect(escaped).toBeGreaterThan(1 / 16);
  });

  it('give the reference loops\' codes with the grid quantizer too (grid indices, level-dependent bin widths, escapes; indices past 2^24, which the kernel\'s float32 reconstructions cannot hold, and none)', () => {
    let seed = 500;
    let mappedCases = 0;
    for (const shape of SHAPES) {
      for (const [skipped, spikes] of [[false, 20], [true, 20], [false, 0]] as const) {
        const { x, skip } = fieldOf(shape, seed++, false, spikes, skipped);
        // indices of a rounded field, some far off their neighbours (escapes at a small radius)
        const k = Float64Array.from(x, (v) => Math.round(v * 10));
        for (const half of [0, 3]) {
          for (const radius of [32768, 64]) {
            type Coder = (q: LinearQuantizer, kernels: boolean, out?: Float32Array | Float64Array) => void;
            const runs: [string, Coder][] = [
              ['lorenzo', (q, kr, out) => (out ? decodeLorenzo(out, skip, shape, q, kr) : encodeLorenzo(k, skip, shape, q, kr))],
              ...[0, 3, 8].map((tune): [string, Coder] => [`interp tune=${tune}`, (q, kr, out) => (out ? decodeInterp(true, out, skip, shape, q, tune, kr) : encodeInterp(true, k, skip, shape, q, tune, kr))]),
            ];
            for (const [name, run] of runs) {
              const what = `${name} ${shape} half=${half} radius=${radius} skipped=${skipped} spikes=${spikes}`;
              const [fast, ref] = [true, false].map((kernels) => {
                const q: LinearQuantizer = new GridQuantizer(half, k.length, radius);
                run(q, kernels);
                return q;
              }) as [LinearQuantizer, LinearQuantizer];
              expect(key(fast), what).toBe(key(ref));
              expectZeroCount(fast, ref, what);
              const [fastOut, refOut] = decodedBothWays(ref, () => new GridQuantizer(half, 0, radius), k.length, false, (out, q, kr) => run(q, kr, out));
              expect(fastOut, `decoded: ${what}`).toBe(refOut);
              if (!skipped) mappedCases += expectSameValues(ref, () => new GridQuantizer(half, 0, radius), k.length, what, (out, q, kr) => run(q, kr, out));
            }
          }
        }
      }
    }
    // the kernels mapped indices to values wherever nothing was skipped (the comparisons above were not of the reference with itself)
    expect(mappedCases).toBe(SHAPES.length * 2 * 2 * 2 * 4 * 2);
  });

  it('decoding codes that end early or lack escapes runs the reference (the caller checks counts; this is the kernels\' guard)', () => {
    const shape = [9, 17, 33];
    type Run = (enc: boolean, x: Float32Array, skip: Uint8Array | null, q: LinearQuantizer, kernels: boolean) => void;
    const runs: [string, Run][] = [
      ...[false, true].map((cubic): [string, Run] => [`interp cubic=${cubic}`, (enc, x, skip, q, k) => (enc ? encodeInterp(cubic, x, skip, shape, q, 0, k) : decodeInterp(cubic, x, skip, shape, q, 0, k))]),
      // Lorenzo's rows walked four at a time, with and without skipped points (lorenzoRows)
      ['lorenzo', (enc, x, skip, q, k) => (enc ? encodeLorenzo(x, skip, shape, q, k) : decodeLorenzo(x, skip, shape, q, k))],
    ];
    for (const skipped of [false, true]) {
      const { x, skip } = fieldOf(shape, 321, true, 50, skipped);
      for (const [name, run] of runs) {
        const q = new LinearQuantizer(1e-3, true, x.length);
        run(true, x as Float32Array, skip, q, true);
        for (const [nCodes, nEscapes] of [[q.nCodes - 5, q.nEscapes], [q.nCodes, Math.max(0, q.nEscapes - 1)]] as const) {
          const outs = [true, false].map((kernels) => {
            const d = new LinearQuantizer(1e-3, true, 0);
            d.load(q.codes, nCodes, q.escapes, nEscapes);
            const out = new Float32Array(x.length);
            run(false, out, skip, d, kernels);
            return outKey(out, d);
          });
          expect(outs[0], `${name} skipped=${skipped} codes ${nCodes} escapes ${nEscapes}`).toBe(outs[1]);
        }
      }
    }
  });

  it('grid indices: the kernel gives the reference loop\'s indices and points off the grid (-0, half-way cases, huge values, tolerance 0 and above)', () => {
    const r = rng32(77);
    for (const f32 of [true, false]) {
      for (const [step, offset, tolerance] of [[0.01, 0, 0], [0.5, -3.25, 0], [0.1, 100, 1e-6], [2, 0, 0.3]] as const) {
        const n = 5000;
        const x = f32 ? new Float32Array(n) : new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const j = Math.round((r() - 0.5) * 2e4);
          x[i] = offset + j * step + (r() < 0.02 ? step * (r() - 0.5) * 0.3 : 0);
        }
        x[3] = -0;
        x[4] = offset - 0.5 * step;
        x[5] = offset + 2.5 * step;
        x[6] = 1e30;
        x[7] = -1e-30;
        const skip = Uint8Array.from({ length: n }, () => (r() < 0.1 ? 1 : 0));
        for (const sk of [null, skip]) {
          const [fast, ref] = [true, false].map((kernels) => {
            const g = toGridIndices(x, sk ? sk.slice() : null, { offset, step, tolerance, half: 0 }, f32, new Float64Array(n).fill(9), kernels);
            return `${g.offGrid.join(',')}|${Buffer.from(g.k.buffer).toString('base64')}|${g.skip ? Buffer.from(g.skip).toString('base64') : 'none'}`;
          });
          expect(fast, `f32=${f32} step=${step} offset=${offset} tolerance=${tolerance} skip=${!!sk}`).toBe(ref);
        }
      }
    }
  });

  it('round as Math.round at every tie and edge: grid indices (no f64.floor below 2^51) and the quantizers\' codes at exact ties', () => {
    const edges = [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 0.49999999999999994, -0.49999999999999994, 1 - 2 ** -53, -0, 0, 2 ** 51 - 0.5, 2 ** 51 + 0.5,
      -(2 ** 51) - 0.5, 2 ** 52 - 0.5, 2 ** 52 + 2, 4503599627370495.5, 1e15 + 0.5, -1e15 - 0.5, 7.5e-300, -7.5e-300, NaN, Infinity, -Infinity];
    const r = rng32(99);
    const x = Float64Array.from({ length: 4000 }, (_, i) => (i < edges.length ? edges[i]! : Math.round((r() - 0.5) * 4e4) / 4));
    // step 1 and a tolerance of 1: every finite value is on the grid, its index Math.round(v) (-0 kept)
    const [fast, ref] = [true, false].map((kernels) => toGridIndices(x, null, { offset: 0, step: 1, tolerance: 1, half: 0 }, false, new Float64Array(x.length), kernels));
    expect(Array.from(fast!.k).map((v) => Object.is(v, -0) ? '-0' : String(v))).toEqual(Array.from(ref!.k).map((v) => Object.is(v, -0) ? '-0' : String(v)));
    expect(fast!.offGrid).toEqual(ref!.offGrid);
    for (let i = 0; i < 12; i++) expect(fast!.k[i]).toBe(Math.round(x[i]!));
    // codes at exact ties: quarters against a bound of 0.25 (code = round((x - pred) x 2)), Lorenzo and interpolation
    for (const enc of [(q: LinearQuantizer, k: boolean) => encodeLorenzo(x.subarray(30), null, [x.length - 30], q, k), (q: LinearQuantizer, k: boolean) => encodeInterp(true, x.subarray(30), null, [x.length - 30], q, 0, k)]) {
      const [a, b] = [true, false].map((kernels) => {
        const q = new LinearQuantizer(0.25, false, x.length);
        enc(q, kernels);
        return key(q);
      });
      expect(a).toBe(b);
    }
  });

  it('odd inputs: escapes that are not float32 values in a float32 field decoded in place, a skip array shorter than the field, a shape that does not match the values (a review\'s cases)', () => {
    // the reference decodes an unmasked float32 field in its output, so an escape predicts rounded to float32
    for (const cubic of [false, true]) {
      const outs = [true, false].map((kernels) => {
        const q = new LinearQuantizer(1, true, 0);
        q.load(Uint32Array.of(0, 0, 32768, 0, 32769), 5, Float64Array.of(1e300, -1e300, 0.1), 3);
        const out = new Float32Array(5);
        decodeInterp(cubic, out, null, [5], q, 0, kernels);
        return outKey(out, q);
      });
      expect(outs[0]).toBe(outs[1]);
    }
    // a missing skip byte reads as not skipped
    const x = Float64Array.of(5, 5, 5, 5);
    const coded = [true, false].map((kernels) => {
      const q = new LinearQuantizer(0.1, false, 4);
      encodeLorenzo(x, new Uint8Array(0), [1, 4], q, kernels);
      return key(q);
    });
    expect(coded[0]).toBe(coded[1]);
    // shapes that do not cover the values, and empty fields: the kernels decline
    const quantizer = { bound: 0.1, gridHalf: -1, radius: 32768, f32: false };
    expect(interpQuantizeKernel()!({ x: new Float64Array(1), skip: null, shape4: [1, 1, 1, 1 << 20], cubic: false, factors: null, quantizer })).toBeNull();
    expect(lorenzoQuantizeKernel()!({ x: new Float64Array(4), skip: null, shape: [8], quantizer })).toBeNull();
    expect(lorenzoQuantizeKernel()!({ x: new Float64Array(0), skip: null, shape: [0], quantizer })).toBeNull();
    expect(lorenzoRecoverKernel()!({ out: new Float64Array(4), skip: null, shape: [2, 3], quantizer, codes: new Uint32Array(6), escapes: new Float64Array(0) })).toBeNull();
    expect(new LinearQuantizer(0.1, false, 1, 2 ** 31).kernelQuantizer()).toBeNull();
  });

  it('leave subclasses and tightened bounds to the reference', () => {
    const q = new LinearQuantizer(0.1, true, 10);
    q.setFactor(2);
    expect(q.kernelQuantizer()).toBeNull();
    const g = new GridQuantizer(4, 10);
    g.setFactor(2);
    expect(g.kernelQuantizer()).toBeNull();
    expect(new GridQuantizer(4, 1).kernelQuantizer()).toEqual({ bound: 0, gridHalf: 4, radius: 32768, f32: false });
    expect(new LinearQuantizer(0.1, true, 1).kernelQuantizer()).toEqual({ bound: 0.1, gridHalf: -1, radius: 32768, f32: true });
    class Tighter extends LinearQuantizer {}
    expect(new Tighter(0.1, true, 1).kernelQuantizer()).toBeNull();
  });

  it('dq-Lorenzo\'s sums written out for 1-4 dims code as before (the generic stencil\'s codes of a 4D field), in WebAssembly and in TypeScript', () => {
    const shape = [3, 4, 10, 11];
    const { x, skip } = fieldOf(shape, 7, true, 5, true);
    // the generic stencil loop's codes (lorenzoStencil's terms in order), computed here the slow way
    const ref = new LinearQuantizer(1e-3, true, x.length);
    referenceDqLorenzo(x, skip, shape, ref);
    for (const kernels of [true, false]) {
      const q = new LinearQuantizer(1e-3, true, x.length);
      encodeDqLorenzo(x, skip, shape, q, kernels);
      expect(key(q)).toBe(key(ref));
    }
    // indices near the 4e15 cap, whose sums round: the same order of terms in both
    for (const sh of [[40, 50], [6, 9, 11], [3, 4, 5, 6]]) {
      const n = sh.reduce((a, b) => a * b, 1);
      const r = rng32(n);
      // smooth, so residuals stay within the radius and are coded, not escaped
      // values on the grid of step 2e at indices ~3.8e15 (three of them pass 2^53), smooth so that few escape
      const twoE = 2 * 2.75e-10;
      const big = Float64Array.from({ length: n }, (_, i) => (3.8e15 + 100 * ((i * 7) % 31) + Math.floor(50 * r())) * twoE);
      const runs = [true, false].map((kernels) => {
        const q = new LinearQuantizer(2.75e-10, false, n);
        encodeDqLorenzo(big, null, sh, q, kernels);
        return key(q);
      });
      expect(runs[0], `${sh}`).toBe(runs[1]);
      const q = new LinearQuantizer(2.75e-10, false, n);
      encodeDqLorenzo(big, null, sh, q, false);
      expect(q.nEscapes).toBeLessThan(n / 16); // (the kernel declines more)
    }
  });
});

/** dq-Lorenzo's encoder with the generic stencil: every point's 15 terms summed in lorenzoStencil's order */
function referenceDqLorenzo(x: Float32Array | Float64Array, skip: Uint8Array | null, shape: number[], q: LinearQuantizer): void {
  const pstr = [0, 0, 0, 0];
  let size = 1;
  for (let d = 3; d >= 0; d--) {
    pstr[d] = size;
    size *= shape[d]! + 1;
  }
  const P = new Float64Array(size);
  const inv = 1 / q.twoE;
  let idx = 0;
  for (let i = 0; i < shape[0]!; i++) for (let j = 0; j < shape[1]!; j++) for (let l = 0; l < shape[2]!; l++) for (let o = 0; o < shape[3]!; o++, idx++) {
    const p = (i + 1) * pstr[0]! + (j + 1) * pstr[1]! + (l + 1) * pstr[2]! + o + 1;
    let pred = 0;
    for (let m = 1; m < 16; m++) {
      let off = 0;
      let bits = 0;
      for (let d = 0; d < 4; d++) if (m & (1 << d)) { off += pstr[d]!; bits++; }
      pred += (bits % 2 === 1 ? 1 : -1) * P[p - off]!;
    }
    let g = pred;
    if (!(skip && skip[idx] === 1)) {
      const t = x[idx]! * inv;
      g = t < 4e15 && t > -4e15 ? Math.round(t) : 0;
      const r = Math.fround(g * q.twoE);
      const res = g - pred;
      if (Math.abs(r - x[idx]!) <= q.e && res > -q.radius && res < q.radius) q.codes[q.nCodes++] = res + q.radius;
      else {
        q.codes[q.nCodes++] = 0;
        q.escape(x[idx]!);
      }
    }
    P[p] = g;
  }
}
