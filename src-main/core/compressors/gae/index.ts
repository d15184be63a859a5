/**
 * GAE's registration (codec.ts has the method; residual.ts what residual coders share). The paper's baseline: kept
 * to measure the other residual coders against, NRMSE targets only.
 */
import { z } from 'zod';
import { residualCodec } from '../residual.ts';
import { GAE_CODEC_ID, decodeChunk, encodeChunk } from './codec.ts';

export const GaeParams = z.strictObject({
  chunkValues: z.number().int().min(1024).max(1 << 28).optional(),
});
export type GaeParams = z.infer<typeof GaeParams>;

export const gaeCodec = residualCodec<GaeParams>({
  id: GAE_CODEC_ID,
  label: 'GAE residual (baseline)',
  description: 'residual of a base (or of the field) corrected per 8 x 8 patch along a PCA basis until the patch meets its NRMSE share (the residual-coding paper\'s baseline)',
  params: GaeParams,
  presets: [{ name: 'gae', label: 'GAE (baseline)', description: 'per-patch PCA correction to an NRMSE target', params: GaeParams.parse({}) }],
  nrmseOnly: true,
  encodeChunk: (c, _params, backend) => encodeChunk(c, backend),
  decodeChunk: (h, i, stored, base) => decodeChunk(h, i, stored, base),
  headerParams: () => ({ patch: 8 }),
});
