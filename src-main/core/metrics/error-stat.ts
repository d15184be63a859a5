/**
 * libpressio's `error_stat` and `size` metrics, with libpressio's names and definitions, over the valid points
 * (mask = 1, original finite). difference = original - reconstruction (libpressio's sign).
 *
 *   n                   valid points
 *   value_min/max/mean  of the original; value_range = max - min; value_std = population std (divide by n)
 *   average_difference  mean(difference);          difference_range = max(difference) - min(difference)
 *   average_error       mean(|difference|);        error_range      = max_error - min_error
 *   max_error/min_error max/min |difference|;      max_rel_error    = max_error / value_range
 *   max_pw_rel_error    max |difference| / |original| over originals != 0
 *   mse, rmse = sqrt(mse), psnr = 20 log10(value_range / rmse) (Infinity when lossless)
 *   size: uncompressed_size, compressed_size (bytes), compression_ratio, bit_rate (bits per value of the whole array)
 */
type Arr = ArrayLike<number>;

export interface ErrorStat {
  n: number;
  value_min: number;
  value_max: number;
  value_mean: number;
  value_range: number;
  value_std: number;
  average_difference: number;
  average_error: number;
  difference_range: number;
  error_range: number;
  max_error: number;
  min_error: number;
  max_rel_error: number;
  max_pw_rel_error: number;
  mse: number;
  rmse: number;
  psnr: number;
}

export interface SizeStat {
  uncompressed_size: number;
  compressed_size: number;
  compression_ratio: number;
  bit_rate: number;
}

/** The names in the order the docs and the Compare view list them. */
export const ERROR_STAT_NAMES = [
  'n', 'value_min', 'value_max', 'value_mean', 'value_range', 'value_std',
  'average_difference', 'average_error', 'difference_range', 'error_range',
  'max_error', 'min_error', 'max_rel_error', 'max_pw_rel_error', 'mse', 'rmse', 'psnr',
] as const satisfies readonly (keyof ErrorStat)[];
export const SIZE_STAT_NAMES = ['uncompressed_size', 'compressed_size', 'compression_ratio', 'bit_rate'] as const satisfies readonly (keyof SizeStat)[];

export function errorStat(orig: Arr, recon: Arr, mask: Uint8Array | null = null): ErrorStat {
  let n = 0;
  let vmin = Infinity, vmax = -Infinity, vsum = 0;
  let dmin = Infinity, dmax = -Infinity, dsum = 0, esum = 0, emin = Infinity, emax = 0, sse = 0, pw = 0;
  for (let i = 0; i < orig.length; i++) {
    if (mask && mask[i] === 0) continue;
    const x = orig[i]!;
    if (x - x !== 0) continue;
    const d = x - recon[i]!;
    const e = Math.abs(d);
    n++;
    vsum += x;
    if (x < vmin) vmin = x;
    if (x > vmax) vmax = x;
    dsum += d;
    esum += e;
    sse += d * d;
    // a non-finite reconstruction of a finite value is an infinite error, not a skipped one
    if (!(d >= dmin)) dmin = d;
    if (!(d <= dmax)) dmax = d;
    if (!(e >= emin)) emin = e;
    if (!(e <= emax)) emax = e;
    if (x !== 0) {
      const r = e / Math.abs(x);
      if (!(r <= pw)) pw = r;
    }
  }
  if (n === 0) {
    const nan = NaN;
    return { n: 0, value_min: nan, value_max: nan, value_mean: nan, value_range: nan, value_std: nan, average_difference: nan, average_error: nan, difference_range: nan, error_range: nan, max_error: nan, min_error: nan, max_rel_error: nan, max_pw_rel_error: nan, mse: nan, rmse: nan, psnr: nan };
  }
  const mean = vsum / n;
  let ss = 0; // second pass: a numerically stable std
  for (let i = 0; i < orig.length; i++) {
    if (mask && mask[i] === 0) continue;
    const x = orig[i]!;
    if (x - x !== 0) continue;
    ss += (x - mean) * (x - mean);
  }
  const range = vmax - vmin;
  const mse = sse / n;
  const rmse = Math.sqrt(mse);
  return {
    n,
    value_min: vmin,
    value_max: vmax,
    value_mean: mean,
    value_range: range,
    value_std: Math.sqrt(ss / n),
    average_difference: dsum / n,
    average_error: esum / n,
    difference_range: dmax - dmin,
    error_range: emax - emin,
    max_error: emax,
    min_error: emin,
    max_rel_error: range > 0 ? emax / range : emax === 0 ? 0 : Infinity,
    max_pw_rel_error: pw,
    mse,
    rmse,
    psnr: rmse === 0 ? Infinity : range === 0 ? -Infinity : 20 * Math.log10(range / rmse),
  };
}

export function sizeStat(uncompressedBytes: number, compressedBytes: number, values: number): SizeStat {
  return {
    uncompressed_size: uncompressedBytes,
    compressed_size: compressedBytes,
    compression_ratio: uncompressedBytes / compressedBytes,
    bit_rate: (8 * compressedBytes) / values,
  };
}
