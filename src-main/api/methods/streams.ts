/**
 * Stream methods: a variable of a file to a .fpk stream, a stream back to values, and what a stream holds (codec,
 * bound, dependencies). Every registered codec goes through them; the codec and preset names come from
 * `streams.codecs` (the codec registry), never from a list kept here. They need no project store, so the CLI
 * serves them without opening one.
 */
import { z } from 'zod';
import { MAX_WORKERS } from '../schemas.ts';
import { BaseChoiceInfo, BaseSpec, BoundInput } from './compression.ts';
import { RawInput } from './data.ts';

const path = z.string().trim().min(1);
const MetricNum = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);

export const StreamCompressInput = z.strictObject({
  file: path,
  variable: z.string().trim().min(1, 'a variable is needed'),
  bound: BoundInput,
  /** a codec id or preset name (streams.codecs) */
  codec: z.string().trim().min(1).default('auto'),
  /** codec params over the preset's, validated by the codec's schema */
  params: z.record(z.string(), z.unknown()).default({}),
  workers: z.number().int().min(0).max(MAX_WORKERS).default(1),
  verify: z.boolean().default(true),
  /**
   * residual coders (lbrc, gae, any codec that takes a base): the base (BaseSpec). CODEC:MODE:VALUE (e.g.
   * auto:rel:1e-2, vqvae:psnr:40) is compressed first and written beside the output as OUT.base.fpk; auto chooses one
   * per field from samples; file:PATH is an external reconstruction (its declared bits count). none or absent: no base
   */
  base: BaseSpec.optional(),
  /**
   * bounded memory: the variable read and compressed slab by slab (peak memory independent of its size; codecs
   * with encodeRows, abs and rel bounds). Absent: so when its values pass 1 GiB. The bytes are the same.
   */
  streamed: z.boolean().optional(),
  /** a raw binary file without a sidecar FILE.json: its shape, dtype and byte order */
  raw: RawInput.optional(),
  /** the .fpk to write (written to a temporary file, then renamed) */
  out: path,
  /** replace an existing output that is not a Fieldpack stream, or is another stream's base or anchor (a stream of an earlier run is replaced anyway) */
  overwrite: z.boolean().default(false),
});

export const StreamCompressOutput = z.object({
  out: z.string(),
  bytes: z.number().int(),
  codec: z.string(),
  params: z.record(z.string(), z.unknown()),
  shape: z.array(z.number().int()),
  boundLabel: z.string(),
  absBound: z.number(),
  /** the field's units (absolute bounds and errors are in them); null when it has none */
  units: z.string().nullable().default(null),
  lossless: z.boolean(),
  /** the values' bytes (float32: 4 a value, float64: 8; integer and packed sources are read as float32) over the stream's */
  compressionRatio: z.number(),
  /** the dtype the file stores the values in (int16 for a packed variable): its ratio is compressionRatio x its width / 4 */
  sourceDtype: z.string().nullable().default(null),
  seconds: z.number(),
  /** what the encoder chose (predictor, ...) */
  chose: z.record(z.string(), z.unknown()),
  verification: z.object({ maxErrorOverBound: MetricNum, psnr: MetricNum, pointsOverBound: z.number().int() }).nullable(),
  /**
   * where the input is itself a reconstruction (a .fpk): the absolute bound it holds against its original, which adds
   * to this stream's (the verification compares with the input only); null otherwise
   */
  inputBound: z.number().nullable().default(null),
  /**
   * a fill value the file does not declare, found where the bound is taken from the field's range (rel, psnr, nrmse;
   * lossy, in memory): that value, its points, the valid points and the other values' range
   * (core/stats/undeclared-fill.ts); null otherwise
   */
  undeclaredFill: z.object({
    value: z.number(), count: z.number().int(), valid: z.number().int(), rest: z.tuple([z.number(), z.number()]),
    /** the variable's stored dtype (a packed one declares its fill in packed units) */
    dtype: z.string(),
  }).nullable().default(null),
  /**
   * the base (residual coders): the stream written beside the output, or the reconstruction file given (out), what it
   * counts in the ratio (bytes; a file's declared bits / 8), its spec, and auto's choice. null: no base used.
   */
  base: z.object({
    out: z.string(), bytes: z.number(), codec: z.string(), spec: z.string().optional(), bits: z.number().optional(),
  }).nullable().default(null),
  /** base auto: what was estimated per candidate and chosen (also when it chose none) */
  baseChoice: BaseChoiceInfo.nullable().default(null),
});

export const StreamDecompressInput = z.strictObject({
  file: path,
  /** raw little-endian values (.f32 / .f64 as the stream's dtype); written atomically */
  out: path,
  rows: z.tuple([z.number().int().min(0), z.number().int().min(1)]).optional(),
  workers: z.number().int().min(0).max(MAX_WORKERS).default(1),
  /** files holding the dependencies (anchor streams or data files); streams beside `file` are looked at too */
  anchors: z.array(path).default([]),
  /** a residual stream's external base: file:PATH[#var=NAME] as given when compressing (the same file is needed) */
  base: z.string().trim().regex(/^file:.+$/, 'base: file:PATH[#var=NAME] (a stream base is found beside the stream)').optional(),
  /** where to write the mask (1 valid, 0 fill), when the stream has one */
  maskOut: path.optional(),
  /** bounded memory: decoded and written chunk by chunk. Absent: so when the values pass 1 GiB (whole stream, no anchors) */
  streamed: z.boolean().optional(),
  /** keep the values inside the original's valid range (the header's): no error grows, a non-negative field stays so */
  clamp: z.boolean().default(false),
  /** replace an existing output (and mask file); without it they are refused before anything is decoded */
  overwrite: z.boolean().default(false),
});

export const Dependency = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('anchor'), var: z.string(), hash: z.string() }),
  z.object({ kind: z.literal('model'), hash: z.string(), label: z.string().optional() }),
  z.object({ kind: z.literal('base'), hash: z.string(), var: z.string().optional() }),
]);

export const StreamInfo = z.object({
  file: z.string(),
  bytes: z.number().int(),
  codec: z.string(),
  codecLabel: z.string(),
  formatVersion: z.number().int(),
  fieldpackVersion: z.string(),
  variable: z.string().nullable(),
  dims: z.array(z.string()),
  shape: z.array(z.number().int()),
  dtype: z.string(),
  bound: z.object({ mode: z.string(), value: z.number(), abs: z.number(), lossless: z.boolean() }),
  chunks: z.number().int(),
  params: z.record(z.string(), z.unknown()),
  dependencies: z.array(Dependency),
  /** the dependencies in words */
  needs: z.array(z.string()),
  summary: z.record(z.string(), z.unknown()),
  compressionRatio: z.number(),
});
export type StreamInfo = z.infer<typeof StreamInfo>;

export const StreamDecompressOutput = z.object({
  out: z.string(),
  maskOut: z.string().nullable(),
  /** a file at the mask path asked for, removed: the stream has no mask (every point valid) and overwrite was given */
  maskRemoved: z.boolean().default(false),
  variable: z.string(),
  dtype: z.string(),
  shape: z.array(z.number().int()),
  rows: z.tuple([z.number().int(), z.number().int()]),
  info: StreamInfo,
  /** with clamp: how many values were moved into the valid range [min, max]; null without */
  clamped: z.object({ values: z.number().int(), min: z.number(), max: z.number() }).nullable().default(null),
});

export const CodecPresetOut = z.object({ name: z.string(), label: z.string(), description: z.string(), params: z.record(z.string(), z.unknown()) });
export const CodecOut = z.object({
  id: z.string(),
  label: z.string(),
  description: z.string(),
  needsDependencies: z.boolean(),
  /** the bound modes the codec codes; absent: every mode */
  boundModes: z.array(z.enum(['abs', 'rel', 'psnr', 'nrmse'])).optional(),
  presets: z.array(CodecPresetOut),
  /** the params schema (JSON Schema), for forms and validation outside the main process */
  paramsSchema: z.record(z.string(), z.unknown()),
});
export type CodecOut = z.infer<typeof CodecOut>;

export const STREAM_METHODS = {
  'streams.codecs': { input: z.object({}), output: z.array(CodecOut) },
  'streams.compress': { input: StreamCompressInput, output: StreamCompressOutput },
  'streams.decompress': { input: StreamDecompressInput, output: StreamDecompressOutput },
  'streams.inspect': { input: z.strictObject({ file: path }), output: StreamInfo },
} as const;
