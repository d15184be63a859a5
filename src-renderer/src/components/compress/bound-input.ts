/** The bound form's modes, their help and the parsing of "1e-2, 1e-3" (shared by the Compress and Cross-field views). */
import type { BoundInput } from '@api/methods/compression.ts';

export type BoundMode = BoundInput['mode'];

export const BOUND_MODE_LABELS: Record<BoundMode, string> = { abs: 'absolute', rel: 'relative to range', psnr: 'PSNR (dB)', nrmse: 'NRMSE' };

export const BOUND_MODE_HELP: Record<BoundMode, string> = {
  abs: 'absolute error, in the field’s units',
  rel: 'fraction of the valid value range',
  psnr: 'a PSNR in dB to reach at least (measured after compressing; the bound is tightened until it is met); > 0 (abs 0 for lossless)',
  nrmse: 'an RMSE / range to stay at or below (measured after compressing; tightened until met)',
};

/** A decimal number as a scientist types it (1e-3, .5, 2.); not hex, binary or octal, which Number() also reads. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Values typed as "1e-2, 1e-3": the numbers (each once), or an error naming the bad ones. */
export function parseBoundValues(mode: BoundMode, text: string): { values: number[]; error: string } {
  const parts = text.split(/[,\s;]+/).filter(Boolean);
  const notDecimal = parts.filter((p) => !DECIMAL.test(p) && !/^[+-]?(infinity|nan)$/i.test(p));
  if (notDecimal.length) return { values: [], error: `not a decimal number: ${notDecimal.join(', ')}` };
  const values = parts.map(Number);
  const psnr = mode === 'psnr';
  // a PSNR target of 0 dB asks for no fidelity at all; Infinity (lossless) cannot travel as JSON: abs 0 asks for it
  const bad = parts.filter((p, i) => !Number.isFinite(values[i]!) || (psnr ? !(values[i]! > 0) : values[i]! < 0));
  return { values: bad.length ? [] : [...new Set(values)], error: bad.length ? `${psnr ? 'not a finite PSNR > 0 dB (absolute 0 is lossless)' : 'not a number >= 0'}: ${bad.join(', ')}` : parts.length ? '' : 'give at least one value' };
}
