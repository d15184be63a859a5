/**
 * A fair baseline row: an external tool (zfp, SZ3) tuned to the PSNR Fieldpack reaches, not only run at the same
 * bound. zfp's fixed-accuracy mode uses a fraction of its tolerance (0.15-0.26 on the ferret fields), so at an
 * equal bound it spends bits on accuracy nobody asked for; at an equal PSNR the sizes compare like for like.
 *
 * The search works on the tool's tolerance parameter: from the bound, doubling while the PSNR stays at or above
 * the target (halving first when it starts below), then bisecting (in log space) between the last tolerance that
 * met the target and the first that missed (not for zfp, whose accuracy mode acts in powers of two). The row kept
 * is the smallest output that meets the target.
 */
import { errorStats } from '../../../core/metrics/index.ts';
import { FieldpackError } from '../../../core/errors.ts';
import type { ExternalCompressor, ExternalResult } from './external.ts';

export interface PsnrMatch {
  result: ExternalResult;
  tolerance: number;
  psnr: number;
  targetPsnr: number;
  /** Tool runs the search took. */
  tries: number;
}

const MAX_DOUBLINGS = 14;
const BISECTIONS = 5;

/**
 * Runs `tool` at tolerances around `startTolerance` until its PSNR over the valid points (mask; `original` the
 * values before fill replacement) is as close above `targetPsnr` as the search gets; the smallest output meeting it.
 */
export async function tuneToPsnr(
  tool: ExternalCompressor,
  original: ArrayLike<number>,
  filled: Float32Array,
  shape: number[],
  mask: Uint8Array | null,
  startTolerance: number,
  targetPsnr: number,
  opts: { signal?: AbortSignal; onTry?: (tolerance: number, psnr: number, bytes: number) => void } = {},
): Promise<PsnrMatch> {
  if (!(startTolerance > 0) || !Number.isFinite(targetPsnr)) throw new FieldpackError('INVALID_ARGUMENT', `an equal-PSNR baseline needs a lossy bound and a finite PSNR (got tolerance ${startTolerance}, PSNR ${targetPsnr})`);
  let tries = 0;
  let best: { result: ExternalResult; tolerance: number; psnr: number } | null = null;
  const tryTol = async (tolerance: number) => {
    const result = await tool.run(filled, shape, tolerance, opts.signal);
    tries++;
    const psnr = errorStats(original, result.recon, mask, tolerance).psnr;
    opts.onTry?.(tolerance, psnr, result.compressedBytes);
    const meets = psnr >= targetPsnr;
    if (meets && (!best || result.compressedBytes < best.result.compressedBytes)) best = { result, tolerance, psnr };
    return meets;
  };
  let lo = startTolerance; // meets the target
  let hi = Infinity; // misses it
  if (!(await tryTol(lo))) {
    hi = lo;
    for (let k = 0; k < MAX_DOUBLINGS && !best; k++) {
      lo /= 2;
      if (!(await tryTol(lo))) hi = lo;
    }
    if (!best) throw new FieldpackError('INTERNAL', `${tool.name}: PSNR ${targetPsnr.toFixed(2)} dB not reached down to tolerance ${lo}`);
  } else {
    for (let k = 0; k < MAX_DOUBLINGS && hi === Infinity; k++) {
      const t = lo * 2;
      if (await tryTol(t)) lo = t;
      else hi = t;
    }
  }
  for (let k = 0; k < (tool.powerOfTwoTolerance ? 0 : BISECTIONS) && Number.isFinite(hi) && hi / lo > 1.02; k++) {
    const mid = Math.sqrt(lo * hi);
    if (await tryTol(mid)) lo = mid;
    else hi = mid;
  }
  const b = best as unknown as { result: ExternalResult; tolerance: number; psnr: number };
  return { ...b, targetPsnr, tries };
}
