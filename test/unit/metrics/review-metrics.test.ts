/** The review metrics (libpressio error_stat names, SSIM map, autocorrelation by lag, spectra, derived quantities) against values worked out by hand. */
import { describe, expect, it } from 'vitest';
import {
  divergence,
  errorAutocorrelationByLag,
  errorStat,
  gradientMagnitude,
  radialPowerSpectrum,
  sizeStat,
  sliceOf,
  ssimMap,
  vectorPartner,
  vorticity,
} from '../../../src-main/core/metrics/index.ts';

describe('error_stat (libpressio names)', () => {
  it('matches the hand-computed values of a 4-point field', () => {
    // difference = original - reconstruction = [-0.5, 0, 1, 0]
    const s = errorStat([1, 2, 3, 4], [1.5, 2, 2, 4]);
    expect(s.n).toBe(4);
    expect([s.value_min, s.value_max, s.value_mean, s.value_range]).toEqual([1, 4, 2.5, 3]);
    expect(s.value_std).toBeCloseTo(Math.sqrt(1.25), 14);
    expect(s.average_difference).toBeCloseTo(0.125, 14);
    expect(s.average_error).toBeCloseTo(0.375, 14);
    expect(s.difference_range).toBe(1.5);
    expect([s.max_error, s.min_error, s.error_range]).toEqual([1, 0, 1]);
    expect(s.max_rel_error).toBeCloseTo(1 / 3, 14);
    expect(s.max_pw_rel_error).toBe(0.5); // 0.5 / |1|
    expect(s.mse).toBeCloseTo(0.3125, 14);
    expect(s.rmse).toBeCloseTo(Math.sqrt(0.3125), 14);
    expect(s.psnr).toBeCloseTo(20 * Math.log10(3 / Math.sqrt(0.3125)), 12);
  });
  it('skips masked and non-finite originals, counts a non-finite reconstruction as an infinite error, says lossless with Infinity', () => {
    const s = errorStat([1, NaN, 3, 100], [1, 5, 3, 0], Uint8Array.from([1, 1, 1, 0]));
    expect(s.n).toBe(2);
    expect(s.psnr).toBe(Infinity);
    expect(s.max_error).toBe(0);
    expect(errorStat([1, 2], [1, Infinity]).max_error).toBe(Infinity);
    expect(errorStat([NaN], [NaN]).n).toBe(0);
    expect(Number.isNaN(errorStat([NaN], [NaN]).psnr)).toBe(true);
  });
  it('size: ratio and bits per value', () => {
    expect(sizeStat(400, 50, 100)).toEqual({ uncompressed_size: 400, compressed_size: 50, compression_ratio: 8, bit_rate: 4 });
  });
});

describe('spatial analysis', () => {
  it('SSIM map: 1 for identical slices, one value per window position, NaN where a window holds a masked point', () => {
    const a = Float64Array.from({ length: 400 }, (_, i) => Math.sin(i / 7));
    const m = ssimMap(a, a, 20, 20);
    expect([m.height, m.width]).toEqual([4, 4]); // floor((20 - 7) / 4) + 1
    expect(m.mean).toBeCloseTo(1, 12);
    const mask = new Uint8Array(400).fill(1);
    mask[0] = 0;
    const mm = ssimMap(a, a, 20, 20, mask);
    expect(Number.isNaN(mm.values[0]!)).toBe(true);
    expect(mm.values[1]).toBeCloseTo(1, 12);
  });
  it('error autocorrelation by lag: -1, +1 for an error alternating along x; +1 along y', () => {
    const h = 6, w = 8;
    const orig = new Float64Array(h * w);
    const recon = orig.map((_, i) => ((i % w) % 2 ? 1 : -1));
    const r = errorAutocorrelationByLag(orig, recon, [h, w], null, 3);
    expect(r.lags).toEqual([0, 1, 2, 3]);
    expect(r.x[0]).toBeCloseTo(1, 14);
    expect(r.x[1]).toBeCloseTo(-1, 14);
    expect(r.x[2]).toBeCloseTo(1, 14);
    expect(r.y[1]).toBeCloseTo(1, 14);
  });
  it('radial power spectrum: a cosine of 4 cycles puts all its power (Parseval: sum of squares) in ring 4', () => {
    const n = 32;
    const a = Float64Array.from({ length: n * n }, (_, i) => Math.cos((2 * Math.PI * 4 * (i % n)) / n));
    const s = radialPowerSpectrum(a, n, n);
    expect(s.k[0]).toBe(1);
    expect(s.frequency[3]).toBe(4 / 32);
    let ring4 = 0; // wavevectors in ring 4, counted by hand
    for (let ky = 0; ky < n; ky++) for (let kx = 0; kx < n; kx++) {
      const fy = ky <= n / 2 ? ky : ky - n, fx = kx <= n / 2 ? kx : kx - n;
      if (Math.round(Math.hypot(fx, fy)) === 4) ring4++;
    }
    expect(s.power[3]! * ring4).toBeCloseTo((n * n) / 2, 8);
    for (const [i, p] of s.power.entries()) if (i !== 3) expect(p).toBeLessThan(1e-18);
  });
  it('slice of an N-D field: the middle of the leading dims', () => {
    expect(sliceOf([12, 90, 180])).toEqual({ offset: 6 * 90 * 180, h: 90, w: 180, index: [6] });
    expect(sliceOf([3, 4, 5, 6], [2, 1])).toEqual({ offset: (2 * 4 + 1) * 30, h: 5, w: 6, index: [2, 1] });
  });
});

describe('derived quantities', () => {
  const h = 5, w = 6;
  const grid = (f: (y: number, x: number) => number) => Float64Array.from({ length: h * w }, (_, i) => f(Math.floor(i / w), i % w));
  it('gradient magnitude of 2x + 3y is sqrt(13) everywhere (edges included)', () => {
    for (const g of gradientMagnitude(grid((y, x) => 2 * x + 3 * y), h, w)) expect(g).toBeCloseTo(Math.sqrt(13), 12);
  });
  it('vorticity of solid rotation (-y, x) is 2, its divergence 0; the reverse for (x, y)', () => {
    const u = grid((y) => -y), v = grid((_, x) => x);
    for (const z of vorticity(u, v, h, w)) expect(z).toBeCloseTo(2, 12);
    for (const d of divergence(u, v, h, w)) expect(d).toBeCloseTo(0, 12);
    const u2 = grid((_, x) => x), v2 = grid((y) => y);
    for (const d of divergence(u2, v2, h, w)) expect(d).toBeCloseTo(2, 12);
  });
  it('a masked point makes the differences that touch it NaN', () => {
    const mask = new Uint8Array(h * w).fill(1);
    mask[2 * w + 2] = 0;
    const g = gradientMagnitude(grid((y, x) => x + y), h, w, mask);
    expect(Number.isNaN(g[2 * w + 1]!)).toBe(true);
    expect(g[0]).toBeCloseTo(Math.SQRT2, 12);
  });
  it('finds the partner of a wind component', () => {
    expect(vectorPartner('UWND')).toEqual({ u: 'UWND', v: 'VWND' });
    expect(vectorPartner('v10')).toEqual({ u: 'u10', v: 'v10' });
    expect(vectorPartner('SST')).toBeNull();
  });
});
