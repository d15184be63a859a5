/**
 * One Float64Array reused by the predictors' working arrays (interpolation's reconstructions, Lorenzo's padded
 * grid): planning runs a predictor per candidate and each fresh array of the sample's size cost more in garbage
 * collection than in use. Code is single-threaded and a predictor never calls another, so one buffer per thread
 * is enough; callers must not keep it past their run. Arrays above SCRATCH_MAX values are allocated afresh.
 */
const SCRATCH_MAX = 1 << 22;
let buf: Float64Array | null = null;

/** n zeros, in the shared buffer when n <= SCRATCH_MAX */
export function zeroedScratch(n: number): Float64Array {
  if (n > SCRATCH_MAX) return new Float64Array(n);
  if (!buf || buf.length < n) buf = new Float64Array(Math.min(SCRATCH_MAX, Math.max(n, (buf?.length ?? 0) * 2)));
  const a = buf.subarray(0, n);
  a.fill(0);
  return a;
}
