/**
 * Deterministic elementary functions (core/nn/det-math.ts): accurate against Math's, monotone, and pinned bit for bit
 * (they feed decoders that must reproduce the encoder's values on every machine; docs/decoding-contract.md).
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { detPow10 } from '../../../src-main/core/nn/det-math.ts';
import { quantizeToGrid } from '../../../src-main/core/nn/quantize.ts';

/** distance in float32 units in the last place between two positive finite float32 values */
function ulps32(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const u = new Int32Array(f.buffer);
  return Math.abs(u[0]! - u[1]!);
}

/** float32 inputs spread over [lo, hi], ascending */
function grid(lo: number, hi: number, n: number): Float32Array {
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = lo + ((hi - lo) * i) / (n - 1);
  return g;
}

describe('detPow10', () => {
  it('is within 1 float32 ulp of Math.pow(10, x) over the float32 range, and monotone', () => {
    // 10^x is a normal float32 for x in about [-37.9, 38.53]; below it the subnormals, above it Infinity
    const xs = grid(-44.8, 38.53, 400_001);
    let worst = 0, edgesDiffering = 0, decreases = 0;
    let prev = -Infinity;
    for (const x of xs) {
      const a = Math.fround(detPow10(x));
      const b = Math.fround(Math.pow(10, x));
      if (b > 0 && Number.isFinite(b)) worst = Math.max(worst, ulps32(a, b));
      else if (a !== b) edgesDiffering++;
      if (a < prev) decreases++;
      prev = a;
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(edgesDiffering).toBe(0);
    expect(decreases).toBe(0);
  });

  it('is double-accurate (relative error < 1e-14) over the whole double range, with exact edges', () => {
    const xs = grid(-307, 308.25, 200_001);
    let worst = 0;
    for (const x of xs) worst = Math.max(worst, Math.abs(detPow10(x) - Math.pow(10, x)) / Math.pow(10, x));
    expect(worst).toBeLessThan(1e-14);
    for (let k = -5; k <= 15; k++) expect(Math.abs(detPow10(k) / 10 ** k - 1)).toBeLessThan(1e-15);
    expect(detPow10(0)).toBe(1);
    expect(detPow10(NaN)).toBeNaN();
    expect(detPow10(Infinity)).toBe(Infinity);
    expect(detPow10(-Infinity)).toBe(0);
    expect(detPow10(308.3)).toBe(Infinity);
    expect(detPow10(-324)).toBe(0);
    // near the ends of the range, 2^k in two exact factors: still finite and accurate
    expect(Math.abs(detPow10(308.2) / 1.5848931924611e308 - 1)).toBeLessThan(1e-12);
    expect(detPow10(-310)).toBeGreaterThan(0);
  });

  it('gives the same bits on every machine: pinned', () => {
    const xs = grid(-45, 38.5, 100_001);
    const out = new Float64Array(xs.length + 4);
    xs.forEach((x, i) => (out[i] = detPow10(x)));
    out.set([detPow10(-320.5), detPow10(308.2), detPow10(1e-9), detPow10(-1e-9)], xs.length);
    expect(createHash('sha256').update(new Uint8Array(out.buffer)).digest('hex')).toBe(GOLDEN_POW10_SHA256);
  });
});

/** sha256 of detPow10's double bytes on the grid above (Node 20 and 22 alike; any engine must agree) */
const GOLDEN_POW10_SHA256 = '4d06f05ba91e42c87f6c7be422fd5fc68c7ea9e10b7a78c4f62b98c60b2040ee';

describe('quantizeToGrid', () => {
  it('gives Math.round of prediction / (2 x bound), clamped to +-2^30, 0 where not finite: the integers decoders check', () => {
    const LIMIT = 2 ** 30;
    const byMathRound = (x: number, bound: number) => {
      const q = Math.round(x / (2 * bound));
      return Number.isFinite(q) ? Math.max(-LIMIT, Math.min(LIMIT, q)) + 0 : 0; // (+0: an Int32Array holds no -0)
    };
    // halves and the doubles next to them (0.49999999999999994 + 0.5 rounds up to 1 in floating point), signs, zeros,
    // the clamp's edges, non-finite and huge values, then random float32 predictions at three bounds
    const below = (x: number) => x - Math.abs(x) * 2 ** -53;
    const edges = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, -0.49999999999999994, below(2.5), below(-2.5), 0, -0, 1e-300, -1e-300,
      LIMIT, LIMIT + 0.5, LIMIT + 1, -LIMIT, -LIMIT - 0.5, -LIMIT - 1, 2 ** 52 + 1, -(2 ** 53) - 2, 4503599627370495.5, NaN, Infinity, -Infinity, 3.4e38, -3.4e38];
    const got = quantizeToGrid(edges, 0.5);
    edges.forEach((x, i) => expect(got[i], String(x)).toBe(byMathRound(x, 0.5)));
    let s = 7;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5);
    const preds = Float32Array.from({ length: 100_000 }, (_, i) => (i % 10 === 0 ? Math.round(rand() * 400) / 4 : rand() * 10 ** (i % 7)));
    for (const bound of [0.125, 1e-3, 0.3]) {
      const q = quantizeToGrid(preds, bound);
      let differ = 0;
      preds.forEach((x, i) => (differ += q[i] === byMathRound(x, bound) ? 0 : 1));
      expect(differ).toBe(0);
    }
  });
});
