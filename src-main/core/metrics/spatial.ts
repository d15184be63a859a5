/**
 * Spatial error analysis of 2D slices (h x w, row-major, the last two dims of a field): the SSIM map, the
 * error's autocorrelation by lag, the radially averaged power spectrum, histograms. Invalid points (mask = 0,
 * non-finite original or reconstruction) are skipped, or filled with the slice's valid mean where a transform
 * needs every point (the spectrum).
 */
type Arr = ArrayLike<number>;

export interface SsimMap {
  /** window positions down and across */
  height: number;
  width: number;
  /** local SSIM per window position (NaN where the window holds an invalid point), row-major */
  values: Float64Array;
  win: number;
  stride: number;
  /** mean over the windows that hold only valid points (NaN when none does) */
  mean: number;
}

function valid(a: Arr, b: Arr, mask: Uint8Array | null, k: number): boolean {
  const va = a[k]!;
  const vb = b[k]!;
  return !(mask && mask[k] === 0) && va - va === 0 && vb - vb === 0;
}

/**
 * Local SSIM (Wang et al. 2004: means, variances and covariance over win x win windows; c1 = (0.01 L)^2,
 * c2 = (0.03 L)^2 with L the valid range of `a` on the slice) at every stride-th window position.
 */
export function ssimMap(a: Arr, b: Arr, h: number, w: number, mask: Uint8Array | null = null, offset = 0, win = 7, stride = 4): SsimMap {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < h * w; i++) {
    if (mask && mask[offset + i] === 0) continue;
    const v = a[offset + i]!;
    if (v - v !== 0) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const L = max > min ? max - min : 1;
  const c1 = (0.01 * L) ** 2;
  const c2 = (0.03 * L) ** 2;
  const wy = Math.min(win, h);
  const wx = Math.min(win, w);
  const step = Math.max(1, stride);
  const mh = h >= wy ? Math.floor((h - wy) / step) + 1 : 0;
  const mw = w >= wx ? Math.floor((w - wx) / step) + 1 : 0;
  const values = new Float64Array(mh * mw);
  let total = 0;
  let count = 0;
  for (let my = 0; my < mh; my++) {
    for (let mx = 0; mx < mw; mx++) {
      const y0 = my * step;
      const x0 = mx * step;
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, m = 0;
      let ok = true;
      for (let y = y0; y < y0 + wy && ok; y++) {
        for (let x = x0; x < x0 + wx; x++) {
          const k = offset + y * w + x;
          if (!valid(a, b, mask, k)) { ok = false; break; }
          const va = a[k]!;
          const vb = b[k]!;
          sa += va; sb += vb; saa += va * va; sbb += vb * vb; sab += va * vb; m++;
        }
      }
      if (!ok || m === 0) {
        values[my * mw + mx] = NaN;
        continue;
      }
      const ma = sa / m, mb = sb / m;
      const va = Math.max(0, saa / m - ma * ma), vb = Math.max(0, sbb / m - mb * mb);
      const cov = sab / m - ma * mb;
      const s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      values[my * mw + mx] = s;
      total += s;
      count++;
    }
  }
  return { height: mh, width: mw, values, win, stride: step, mean: count ? total / count : NaN };
}

/**
 * Autocorrelation of the error e = recon - orig at lags 0..maxLag along x (the fastest dim) and y (the next
 * one), over the whole field: r(k) = mean over valid pairs of (e_i - m)(e_{i+k} - m) / var(e), with m and var
 * over all valid points. r(0) = 1; 0 for every lag when the error is constant (no variance).
 */
export function errorAutocorrelationByLag(orig: Arr, recon: Arr, shape: number[], mask: Uint8Array | null = null, maxLag = 32): { lags: number[]; x: number[]; y: number[] } {
  const w = shape[shape.length - 1] ?? orig.length;
  const h = shape.length >= 2 ? shape[shape.length - 2]! : 1;
  let n = 0, s = 0, ss = 0;
  for (let i = 0; i < orig.length; i++) {
    if (!valid(orig, recon, mask, i)) continue;
    const e = recon[i]! - orig[i]!;
    n++; s += e; ss += e * e;
  }
  const lags = Array.from({ length: maxLag + 1 }, (_, k) => k);
  if (n < 2) return { lags, x: lags.map(() => NaN), y: lags.map(() => NaN) };
  const mean = s / n;
  const varE = ss / n - mean * mean;
  const along = (stride: number, size: number): number[] =>
    lags.map((k) => {
      if (!(varE > 1e-300)) return k === 0 ? 1 : 0;
      if (k >= size) return NaN;
      let cov = 0, m = 0;
      const plane = stride * size; // points in one line-set along this axis
      for (let i = 0; i < orig.length; i++) {
        // i and i + k*stride on the same line of this axis
        if (Math.floor((i % plane) / stride) + k >= size) continue;
        const j = i + k * stride;
        if (!valid(orig, recon, mask, i) || !valid(orig, recon, mask, j)) continue;
        cov += (recon[i]! - orig[i]! - mean) * (recon[j]! - orig[j]! - mean);
        m++;
      }
      return m ? cov / m / varE : NaN;
    });
  return { lags, x: along(1, w), y: shape.length >= 2 ? along(w, h) : lags.map(() => NaN) };
}

/** DFT power |X(ky, kx)|^2 / (h w) of a real h x w array (separable DFT with tables; fine for slices up to a few hundred a side). */
function dftPower(x: Float64Array, h: number, w: number): Float64Array {
  const cosW = new Float64Array(w), sinW = new Float64Array(w);
  for (let k = 0; k < w; k++) { cosW[k] = Math.cos((2 * Math.PI * k) / w); sinW[k] = Math.sin((2 * Math.PI * k) / w); }
  const cosH = new Float64Array(h), sinH = new Float64Array(h);
  for (let k = 0; k < h; k++) { cosH[k] = Math.cos((2 * Math.PI * k) / h); sinH[k] = Math.sin((2 * Math.PI * k) / h); }
  // rows
  const re = new Float64Array(h * w), im = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let kx = 0; kx < w; kx++) {
      let sr = 0, si = 0;
      for (let xx = 0; xx < w; xx++) {
        const t = (kx * xx) % w;
        const v = x[y * w + xx]!;
        sr += v * cosW[t]!;
        si -= v * sinW[t]!;
      }
      re[y * w + kx] = sr;
      im[y * w + kx] = si;
    }
  }
  // columns
  const p = new Float64Array(h * w);
  for (let kx = 0; kx < w; kx++) {
    for (let ky = 0; ky < h; ky++) {
      let sr = 0, si = 0;
      for (let y = 0; y < h; y++) {
        const t = (ky * y) % h;
        const c = cosH[t]!, s = sinH[t]!;
        const a = re[y * w + kx]!, b = im[y * w + kx]!;
        sr += a * c + b * s;
        si += b * c - a * s;
      }
      p[ky * w + kx] = (sr * sr + si * si) / (h * w);
    }
  }
  return p;
}

export interface RadialSpectrum {
  /** radial wavenumber k = 1 .. N/2 with N = min(h, w); frequency k / N cycles per grid point */
  k: number[];
  frequency: number[];
  /** mean power |X|^2 / (h w) over the wavevectors of each ring (mean removed first: no k = 0 term) */
  power: number[];
}

/**
 * Radially averaged power spectrum of one slice. Invalid points are filled with the valid mean (so they add no
 * power); wavevector (ky, kx) falls in ring k = round(N sqrt((kx'/w)^2 + (ky'/h)^2)), kx', ky' the signed indices.
 */
export function radialPowerSpectrum(values: Arr, h: number, w: number, mask: Uint8Array | null = null, offset = 0): RadialSpectrum {
  let sum = 0, n = 0;
  for (let i = 0; i < h * w; i++) {
    const v = values[offset + i]!;
    if ((mask && mask[offset + i] === 0) || v - v !== 0) continue;
    sum += v; n++;
  }
  const mean = n ? sum / n : 0;
  const x = new Float64Array(h * w);
  for (let i = 0; i < h * w; i++) {
    const v = values[offset + i]!;
    x[i] = (mask && mask[offset + i] === 0) || v - v !== 0 ? 0 : v - mean;
  }
  const p = dftPower(x, h, w);
  const N = Math.min(h, w);
  const rings = Math.floor(N / 2);
  const acc = new Float64Array(rings + 1), cnt = new Float64Array(rings + 1);
  for (let ky = 0; ky < h; ky++) {
    const fy = (ky <= h / 2 ? ky : ky - h) / h;
    for (let kx = 0; kx < w; kx++) {
      const fx = (kx <= w / 2 ? kx : kx - w) / w;
      const k = Math.round(N * Math.sqrt(fx * fx + fy * fy));
      if (k < 1 || k > rings) continue;
      acc[k] += p[ky * w + kx]!;
      cnt[k]++;
    }
  }
  const k: number[] = [], frequency: number[] = [], power: number[] = [];
  for (let r = 1; r <= rings; r++) {
    if (!cnt[r]) continue;
    k.push(r);
    frequency.push(r / N);
    power.push(acc[r]! / cnt[r]!);
  }
  return { k, frequency, power };
}

/** One 2D slice of an N-D field: its offset (the middle of the leading dims unless `index` is given), h, w. */
export function sliceOf(shape: number[], index?: number[]): { offset: number; h: number; w: number; index: number[] } {
  const h = shape.length >= 2 ? shape[shape.length - 2]! : 1;
  const w = shape[shape.length - 1]!;
  const lead = shape.slice(0, Math.max(0, shape.length - 2));
  const idx = lead.map((s, k) => Math.min(s - 1, Math.max(0, Math.trunc(index?.[k] ?? Math.floor(s / 2)))));
  let offset = 0;
  for (let k = 0; k < lead.length; k++) offset = offset * lead[k]! + idx[k]!;
  return { offset: offset * h * w, h, w, index: idx };
}
