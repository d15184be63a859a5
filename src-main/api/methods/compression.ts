/**
 * Compression workbench methods: which codecs exist, what absolute bound a mode gives on a field, the
 * compress runs of a project flattened for tables and rate-distortion charts, and image slices of a run
 * (original, reconstruction, error). Compress runs themselves are jobs: jobs.submit({kind: 'compress', params}).
 */
import { z } from 'zod';
import { id, SliceAxis, MAX_WORKERS } from '../schemas.ts';
import { tagRecord } from './review.ts';

/**
 * A codec choice: a preset of a registered codec (classic's auto, lorenzo, ...) or an external baseline (zfp, sz3).
 * The choices come from `compression.codecs` (the codec registry and the baselines), never from a list kept here.
 */
export type CompressCodec = string;

export const BOUND_MODES = ['abs', 'rel', 'psnr', 'nrmse'] as const;
export const BoundInput = z.object({
  mode: z.enum(BOUND_MODES),
  /** abs: same units as the field; rel: fraction of the valid range; psnr: dB to reach (> 0); nrmse: RMSE / range to stay under. 0 = lossless (not for psnr). */
  value: z
    .number({ error: (i) => (i.input === null || (typeof i.input === 'number' && Number.isNaN(i.input)) ? 'the bound value is not a number (NaN): give a number >= 0 (0 = lossless)' : 'the bound value must be a finite number') })
    .min(0, 'the bound value must be >= 0 (0 = lossless)'),
});
export type BoundInput = z.infer<typeof BoundInput>;

/** Params of a `compress` job (validated again by the job kind). */
/**
 * A residual coder's base: none; auto (chosen per field from samples); the field compressed first with CODEC at
 * MODE:VALUE (auto:rel:1e-2 is the classic codec's auto preset, vqvae:psnr:40); CODEC:MODEL[:MODE:VALUE], a codec
 * with a chosen model (vqvae:HASH, a trained VQ-VAE by sha256 prefix, at psnr:40 unless given); or file:PATH[#var=NAME,bits=N], an
 * external reconstruction (.npz of the residual-modeling code, .npy, NetCDF/HDF5, raw float32/float64).
 */
export const BaseSpec = z.string().trim().regex(
  /^(none|auto|file:.+|[\w-]+:(abs|rel|psnr|nrmse):[^:]+|[\w-]+:([0-9a-fA-F]{8,64}|default)(:(abs|rel|psnr|nrmse):[^:]+)?)$/,
  'base: none, auto, CODEC:MODE:VALUE such as auto:rel:1e-2, CODEC:MODEL[:MODE:VALUE] such as vqvae:HASH, or file:PATH[#var=NAME,bits=N]',
);

/** What `--base auto` estimated and chose (services/compression/base.ts BaseChoice). */
export const BaseChoiceInfo = z.object({
  chosen: z.string(),
  candidates: z.array(z.string()),
  estimates: z.record(z.string(), z.object({ bytes: z.number().nullable(), baseBytes: z.number().optional(), residualBytes: z.number().optional(), baseCodec: z.string().optional(), skipped: z.string().optional() })),
  sample: z.object({ values: z.number(), fraction: z.number(), rows: z.array(z.tuple([z.number(), z.number()])) }),
  seconds: z.number(),
  reason: z.string(),
});

export const CompressParams = z.strictObject({
  file: z.string().trim().min(1, 'a data file is needed'),
  variable: z.string().trim().min(1, 'a variable is needed'),
  fieldId: id.optional(),
  datasetId: id.optional(),
  bound: BoundInput,
  /** a name from compression.codecs (checked by the compress job against the registry) */
  codec: z.string().trim().min(1, 'a codec is needed'),
  /** codec params over the preset's (e.g. the VQ-VAE's model: 'default', a sha256 prefix), checked by the codec's schema */
  params: z.record(z.string(), z.unknown()).optional(),
  /** residual coders: the base (BaseSpec); its bytes count in the ratio */
  base: BaseSpec.optional(),
  /** Worker threads: absent = the workers setting (0 there = one per core); 0 here = in the main thread. */
  workers: z.number().int().min(0).max(MAX_WORKERS).optional(),
  /**
   * Baselines (zfp, sz3) only: 'bound' runs the tool at the same bound (default); 'psnr' tunes its tolerance to
   * the PSNR Fieldpack's auto codec reaches at that bound (a like-for-like size comparison).
   */
  match: z.enum(['bound', 'psnr']).optional(),
});
export type CompressParams = z.infer<typeof CompressParams>;

export const CodecInfo = z.object({
  id: z.string(),
  label: z.string(),
  kind: z.enum(['fieldpack', 'baseline']),
  available: z.boolean(),
  description: z.string(),
  /** the params key naming a model (learned codecs): the workbench asks which model */
  modelParam: z.string().optional(),
  /** residual coders: the workbench asks for a base */
  takesBase: z.boolean().optional(),
  /** the bound modes the codec codes (GAE: nrmse); absent: every mode. The workbench offers it for those only */
  boundModes: z.array(z.enum(['abs', 'rel', 'psnr', 'nrmse'])).optional(),
});
export type CodecInfo = z.infer<typeof CodecInfo>;

const FieldRef = z.object({
  fieldId: id.optional(),
  file: z.string().trim().min(1).optional(),
  variable: z.string().trim().min(1).optional(),
});

export const ResolvedBoundOut = z.object({
  mode: z.enum(BOUND_MODES),
  value: z.number(),
  abs: z.number(),
  lossless: z.boolean(),
  label: z.string(),
  range: z.number(),
  validMin: z.number(),
  validMax: z.number(),
  validCount: z.number().int(),
  units: z.string().nullable(),
  /** the step the values already lie on (packed, rounded); a bound under half of it gives them back exactly */
  quantizationStep: z.number().nullable(),
});
export type ResolvedBoundOut = z.infer<typeof ResolvedBoundOut>;

/** A number, or null where the metric is missing; non-finite values as strings (JSON has no NaN). */
const MetricNum = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']), z.null()]);

export const CompressRunRow = z.object({
  runId: id,
  name: z.string(),
  status: z.string(),
  createdAt: z.string(),
  file: z.string(),
  variable: z.string(),
  codec: z.string(),
  bound: BoundInput,
  boundText: z.string(),
  absBound: z.number().nullable(),
  lossless: z.boolean().nullable(),
  predictor: z.string().nullable(),
  compressedBytes: z.number().nullable(),
  shape: z.array(z.number().int()).nullable(),
  dims: z.array(z.string()).nullable(),
  error: z.string().nullable(),
  metrics: z.record(z.string(), MetricNum),
  params: z.record(z.string(), z.unknown()),
  tags: z.record(z.string(), z.string()),
  note: z.string(),
  archived: z.boolean(),
  /** the experiment the run belongs to, if any */
  experiment: z.string().nullable(),
  /** where an imported run came from (null: made here) */
  origin: z.record(z.string(), z.unknown()).nullable(),
});
export type CompressRunRow = z.infer<typeof CompressRunRow>;

export const SliceImage = z.object({
  /** base64 of little-endian Float32 values, row-major height x width; NaN = masked / not available */
  data: z.string(),
  min: z.number(),
  max: z.number(),
});
export type SliceImage = z.infer<typeof SliceImage>;

export const SliceOut = z.object({
  runId: id,
  /** indices used for the leading axes (clamped) */
  index: z.array(z.number().int()),
  /** sizes of the leading axes, for the sliders */
  leadingShape: z.array(z.number().int()),
  leadingDims: z.array(z.string()),
  /** size of the 2D slice before downsampling */
  sourceHeight: z.number().int(),
  sourceWidth: z.number().int(),
  height: z.number().int(),
  width: z.number().int(),
  /** sampling step used along each axis (1 = full resolution) */
  step: z.number().int(),
  /** the first of the two slice axes increases northwards: draw row 0 at the bottom */
  flipY: z.boolean(),
  units: z.string().nullable(),
  original: SliceImage,
  reconstruction: SliceImage,
  /** reconstruction - original */
  error: SliceImage,
  absBound: z.number(),
  /** Every axis of the field in order (leading axes, then rows and columns): coordinates and labels. */
  axes: z.array(SliceAxis),
});
export type SliceOut = z.infer<typeof SliceOut>;

export const COMPRESSION_METHODS = {
  'compression.codecs': { input: z.object({}), output: z.array(CodecInfo) },
  'compression.resolveBound': { input: FieldRef.extend({ bound: BoundInput }), output: ResolvedBoundOut },
  'compression.runs': {
    input: z.object({
      projectId: id.nullable(),
      variable: z.string().optional(),
      file: z.string().optional(),
      limit: z.number().int().min(1).max(5000).default(500),
      /** search (name, note, parameters, tags), tags to carry, archived runs (see runs.search) */
      query: z.string().max(500).optional(),
      tags: tagRecord(z.string()).optional(),
      archived: z.enum(['exclude', 'include', 'only']).default('exclude'),
      /** only the runs of the project's experiment of this name */
      experiment: z.string().optional(),
    }),
    output: z.array(CompressRunRow),
  },
  'compression.slice': {
    input: z.object({ runId: id, index: z.array(z.number().int().min(0)).default([]), maxSize: z.number().int().min(16).max(2048).default(512) }),
    output: SliceOut,
  },
} as const;
