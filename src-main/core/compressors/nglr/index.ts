/**
 * The NGLR residual coder's registration (codec.ts has the method and the chunk layout; residual.ts what residual
 * coders share: the base, the model by hash or embedded, chunks in workers, NRMSE streams' bounds).
 */
import { z } from 'zod';
import { parseNglrModel } from '../../nn/nglr/model.ts';
import { residualCodec } from '../residual.ts';
import { NGLR_CODEC_ID, NGLR_LAYOUT, decodeChunk, encodeChunk, layoutOf } from './codec.ts';

export const NglrParams = z.strictObject({
  /**
   * the causal bias network: 'default' (resources/models/nglr-default.fpnl), a .fpnl file, a sha256 (prefix) of a
   * trained one, or 'none' (plain Lorenzo prediction with the context coder: the network's ablation)
   */
  model: z.string().trim().min(1).default('default'),
  /** put the model inside the stream (counted in its size; decodable without the model file) */
  embedModel: z.boolean().default(false),
  /** also measure the same differences with the bias left out (details.comparison; not stored) */
  compareLorenzo: z.boolean().default(false),
  /**
   * the prediction under the bias: 'auto' keeps per chunk the smallest of 3D Lorenzo and Lorenzo plus a linear
   * predictor fitted to the chunk (linear.ts), each with and without the bias; 'lorenzo' is the paper's (the ablation);
   * 'linear' always the fitted one
   */
  predictor: z.enum(['auto', 'lorenzo', 'linear']).default('auto'),
  /**
   * keep the core codec's stream where it is smaller (without a base): NGLR's 3D Lorenzo prediction can lose to the
   * core's cubic interpolation on smooth fields; the result says so (fellBack, nglrBytes)
   */
  fallback: z.boolean().default(true),
  chunkValues: z.number().int().min(1024).max(1 << 28).optional(),
});
export type NglrParams = z.infer<typeof NglrParams>;

export const nglrCodec = residualCodec<NglrParams>({
  id: NGLR_CODEC_ID,
  label: 'Fieldpack NGLR residual',
  description: 'residual of a base (or of the field) quantized with one step per chunk, 3D Lorenzo plus a learned causal bias, context range-coded',
  params: NglrParams,
  presets: [{ name: 'nglr', label: 'Fieldpack NGLR', description: 'learned causal residual coder (a base when one is given); NRMSE targets or a point-wise bound', params: NglrParams.parse({}) }],
  modelParam: { key: 'model', extension: '.fpnl', defaultFile: 'nglr-default.fpnl' },
  checkModel: (bytes, code) => void parseNglrModel(bytes, code),
  encodeChunk: (c, params, backend) => encodeChunk(c, backend, { compareLorenzo: params.compareLorenzo, predictor: params.predictor }),
  decodeChunk: (h, i, stored, base, model, path) => decodeChunk(h, i, stored, base, model, path === 'reference' ? 'reference' : 'wavefront'),
  fallsBack: (params) => params.fallback,
  headerParams: () => ({ layout: NGLR_LAYOUT }),
  checkHeader: (h) => void layoutOf(h),
  summary: (h) => ({ model: h.params.model ? `${String(h.params.model).slice(0, 16)}...${h.params.embedded ? ' (embedded)' : ''}` : 'none (plain Lorenzo)' }),
});
