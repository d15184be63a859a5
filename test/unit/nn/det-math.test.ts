/**
 * Deterministic elementary functions (core/nn/det-math.ts): accurate against Math's, monotone, and pinned bit for bit
 * (they feed decoders that must reproduce the encoder's values on every machine; docs/decoding-contract.md).
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { detPow10 } from '../../../src-main/core/nn/det-math.ts';

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
