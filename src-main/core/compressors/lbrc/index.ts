/**
 * The LBRC residual coder's registration (codec.ts has the method and the chunk layout; residual.ts what residual
 * coders share: the base, chunks in workers, NRMSE streams' bounds).
 */
import { z } from 'zod';
import { FieldpackError } from '../../errors.ts';
import { residualCodec } from '../residual.ts';
import { LBRC_CODEC_ID, decodeChunk, encodeChunk } from './codec.ts';

const BLOCK = z.tuple([z.number().int().min(1).max(4096), z.number().int().min(1).max(4096), z.number().int().min(1).max(4096)]);

export const LbrcParams = z.strictObject({
  /** block size [T, H, W] (leading dims folded into T; their paper: 60 x 120 x 120) */
  block: BLOCK.default([60, 120, 120]),
  chunkValues: z.number().int().min(1024).max(1 << 28).optional(),
  /** also measure the paper's bit planes + lossless stage on the same differences (details.comparison; not stored) */
  compareBitPlanes: z.boolean().default(false),
});
export type LbrcParams = z.infer<typeof LbrcParams>;

function blockOf(params: Record<string, unknown>): number[] {
  const b = BLOCK.safeParse(params.block);
  if (!b.success) throw new FieldpackError('BAD_STREAM', `corrupted header: LBRC block ${JSON.stringify(params.block)}`);
  return b.data;
}

export const lbrcCodec = residualCodec<LbrcParams>({
  id: LBRC_CODEC_ID,
  label: 'Fieldpack LBRC residual',
  description: 'residual of a base (or of the field) quantized per block (NRMSE per block, or a strict point-wise bound), 3D Lorenzo, range-coded',
  params: LbrcParams,
  presets: [{ name: 'lbrc', label: 'Fieldpack LBRC', description: 'block-adaptive residual coder (a base when one is given); NRMSE targets per block', params: LbrcParams.parse({}) }],
  encodeChunk: (c, params, backend) => encodeChunk({ ...c, block: params.block, compareBitPlanes: params.compareBitPlanes }, backend),
  decodeChunk: (h, i, stored, base) => decodeChunk(h, i, stored, base, blockOf(h.params)),
  headerParams: (params) => ({ block: params.block }),
  checkHeader: (h) => void blockOf(h.params),
  summary: (h) => ({ block: blockOf(h.params).join('x') }),
});
