import { describe, expect, it } from 'vitest';
import { errorStats, psnr, ssim2d, errorAutocorrelation, errorHistogram, bitRate, compressionRatio, fullMetrics } from '../../../src-main/core/metrics/index.ts';
import { parseBound, resolveBound } from '../../../src-main/core/codec/bound.ts';

describe('metrics', () => {
  const a = Float64Array.from({ length: 400 }, (_, i) => Math.sin(i / 10) * 10);
  it('PSNR is 20 log10(range / RMSE) over valid points; masked points are ignored', () => {
    const b = a.map((x, i) => x + (i % 2 ? 0.1 : -0.1));
    const mask = new Uint8Array(400).fill(1);
    mask[3] = 0;
    const bb = Float64Array.from(b);
    bb[3] = 1e9;
    const st = errorStats(a, bb, mask, 0.1 + 1e-12);
    let min = Infinity, max = -Infinity;
    a.forEach((x, i) => { if (mask[i]) { min = Math.min(min, x); max = Math.max(max, x); } });
    expect(st.rmse).toBeCloseTo(0.1, 12);
    expect(st.psnr).toBeCloseTo(20 * Math.log10((max - min) / 0.1), 9);
    expect(st.pointsOverBound).toBe(0);
    expect(st.maxErrorOverBound).toBeLessThanOrEqual(1);
    expect(psnr(1, 0)).toBe(Infinity);
    expect(errorStats(a, bb, null, 0.1 + 1e-12).pointsOverBound).toBe(1);
  });
  it('SSIM is 1 for identical slices and lower for noisy ones', () => {
    expect(ssim2d(a, a, 20, 20)).toBeCloseTo(1, 12);
    const noisy = a.map((x, i) => x + ((i * 7919) % 13) - 6);
    expect(ssim2d(a, noisy, 20, 20)).toBeLessThan(0.9);
  });
  it('lag-1 autocorrelation of the error, histogram, ratio, bit rate', () => {
    const smooth = a.map((x, i) => x + Math.sin(i / 50) * 0.1);
    expect(errorAutocorrelation(a, smooth, [20, 20])).toBeGreaterThan(0.8);
    const alt = a.map((x, i) => x + (i % 2 ? 0.1 : -0.1));
    expect(errorAutocorrelation(a, alt, [400])).toBeLessThan(-0.9);
    const h = errorHistogram(a, alt, null, 4, 0.2);
    expect(h.counts.reduce((s, c) => s + c, 0)).toBe(400);
    expect(h.edges.length).toBe(5);
    expect(compressionRatio(400, 100)).toBe(4);
    expect(bitRate(100, 400)).toBe(2);
    const m = fullMetrics(a, alt, [20, 20], null, 0.2, 1600, 100, { compressSeconds: 0.001 });
    expect(m.compressionRatio).toBe(16);
    expect(m.compressMBs).toBeCloseTo(1.6, 9);
  });
  it('bound modes resolve to an absolute bound and say so', () => {
    expect(resolveBound(parseBound('rel:1e-3'), 50).abs).toBeCloseTo(0.05, 15);
    expect(resolveBound(parseBound('abs:0.5'), 50).abs).toBe(0.5);
    expect(resolveBound(parseBound('psnr:60'), 10).abs).toBeCloseTo(Math.sqrt(3) * 10 * 1e-3, 12);
    expect(resolveBound(parseBound('nrmse:1e-5'), 10).abs).toBeCloseTo(Math.sqrt(3) * 1e-4, 15);
    expect(resolveBound(parseBound('abs:0'), 10).label).toMatch(/lossless/);
    expect(() => parseBound('foo:1')).toThrow(/MODE:VALUE/);
  });
});
