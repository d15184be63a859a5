/**
 * Benchmark methods (`fieldpack bench`): codecs on files x variables x bounds, one row per combination with the
 * columns of ../shared/reference/baselines.json (bench.codecs); the cross-field codec on targets whose anchors are
 * compressed first (bench.crossfield); a variable larger than memory comfortably holds, built on disk and compressed
 * slab by slab (bench.large). They need no store (the CLI serves them without opening one); a call carries progress
 * and cancellation. The rows are returned; writing them to a file is the caller's (the CLI's --json / --csv).
 */
import { z } from 'zod';
import { MAX_WORKERS } from '../schemas.ts';
import { BaseSpec, BoundInput } from './compression.ts';

const filePath = z.string().trim().min(1, 'a file path is needed');
const files = z.array(filePath).min(1, 'give at least one file or folder').max(1000);
const bounds = z.array(BoundInput).min(1, 'give at least one bound (e.g. rel:1e-3)').max(100);
const workers = z.number().int().min(0).max(MAX_WORKERS);
/** each row timed over at least this many seconds (2 runs or more, the fastest counts) */
const minSeconds = z.number().min(0).max(600).optional();

export const BenchCodecsInput = z.strictObject({
  files,
  /** only these variables (default: every float or packed variable with 2+ dims longer than 1, and 1-D data of 1024+ values that is not a coordinate variable) */
  variables: z.array(z.string().min(1)).min(1, 'variables: leave it out for every variable, or name at least one').max(1000).optional(),
  /** codec presets (streams.codecs) and external baselines (zfp, sz3 when on PATH); default auto, best, zfp, sz3 */
  codecs: z.array(z.string().min(1)).max(100).default([]),
  bounds,
  workers: workers.default(2),
  entropy: z.enum(['range', 'huffman', 'auto']).optional(),
  /** learned codecs' model: default, none, a file, a sha256 prefix; one file per codec kind, comma-separated */
  model: z.string().trim().min(1).optional(),
  /** learned codecs: the model inside each stream */
  embedModel: z.boolean().default(false),
  /** codec params, each given to the benched codecs whose schema takes it */
  params: z.record(z.string(), z.unknown()).default({}),
  /** residual coders' base (BaseSpec) */
  base: BaseSpec.optional(),
  minSeconds,
  /**
   * train the benched learned codecs' models on the benched fields first (kept as MODELPREFIX.fpvq / .fpnl) and bench
   * with them; python: the interpreter with PyTorch (default: auto-detect)
   */
  train: z.strictObject({ epochs: z.number().int().min(1).max(10000).default(8), modelPrefix: filePath, python: z.string().trim().min(1).optional() }).optional(),
});

/** One row: baselines.json's columns, and ours (MB/s, points over the bound, the learned codecs' parts). */
export interface BenchRow {
  file: string;
  variable: string;
  codec: string;
  bound: string;
  bound_mode: string;
  bound_value: number;
  rel_bound?: number;
  abs_bound: number;
  values: number;
  valid_values: number;
  compressed_bytes: number;
  compression_ratio: number;
  /**
   * Fieldpack codecs: of compressed_bytes, those of the field's self-description in the stream's header (name, units,
   * dims, attributes, source; no coordinates in the bench), which an SZ3 file does not carry
   */
  self_description_bytes?: number;
  /**
   * External tools on a field with fill points: the bytes their file lacks to restore those points (the mask one bit
   * a point through zstd, the lossless stage ours use), and the ratio with them counted; ours store the mask already
   */
  mask_bytes?: number;
  ratio_with_mask?: number;
  bit_rate: number;
  psnr_db: number;
  nrmse: number;
  max_abs_error: number;
  max_error_over_bound: number;
  points_over_bound: number;
  ssim: number;
  compress_mb_s: number;
  decompress_mb_s: number;
  workers: number;
  predictor?: string;
  fills_handling: 'native mask' | 'replaced by valid mean';
  /** learned codecs: bits per value by part (before the lossless stage, scaled to the stored size) */
  bits_latents?: number;
  bits_residual?: number;
  bits_mask?: number;
  /** residual coders' side information (steps, scales, exact values) */
  bits_side?: number;
  /** the model: its file's bytes, whether the stream embeds it, the ratio with it counted in this field */
  model_bytes?: number;
  model_embedded?: boolean;
  /** whether the stream needs the model (not where it fell back, nor where no chunk used it) */
  model_used?: boolean;
  /** with the model's bytes where the stream needs it, and the base's where it has one */
  compression_ratio_with_model?: number;
  /** the codec kept the classic codec's smaller stream */
  fell_back?: boolean;
  training_seconds?: number;
  /**
   * residual coders: the base as given (none, auto, CODEC:MODE:VALUE, file:PATH), the one used (auto's choice), what it
   * counts (bytes, included in compressed_bytes; a file's declared bits / 8), auto's estimates per candidate (bytes
   * for the whole field, null: not applicable) and why, the seconds spent on choosing and encoding the base
   */
  base?: string;
  base_choice?: string;
  base_bytes?: number;
  base_bits?: number;
  base_estimates?: Record<string, number | null>;
  base_reason?: string;
  base_seconds?: number;
  error?: string;
}

export interface TrainedBenchModel {
  network: 'vqvae' | 'nglr';
  path: string;
  seconds: number;
  /** training samples: maps (VQ-VAE) or points (NGLR) */
  samples: number;
}

export const BenchCrossfieldInput = z.strictObject({
  files,
  /** the targets */
  variables: z.array(z.string().min(1)).min(1, 'bench of the cross-field codec needs its targets (variables)').max(1000),
  /** default: chosen from the data per target */
  anchors: z.array(z.string().min(1)).max(100).optional(),
  network: z.enum(['cfnn', 'linear', 'none', 'best']).optional(),
  bounds,
  workers: workers.default(1),
  /** the linear network fitted once on the first step and given, as an archive series reuses it */
  reusedModel: z.boolean().default(false),
  minSeconds,
  /** the SZ3 ratios to compare with (baselines.json; default ../shared/reference/baselines.json where present) */
  reference: filePath.optional(),
  /** the Python with PyTorch that trains a CFNN (network cfnn or best); default: the one found */
  python: z.string().trim().min(1).optional(),
});

/**
 * One benched codec over the rows measured (error rows left out): medians of its speeds, the geometric mean of its
 * ratios, and where SZ3 was benched on the same rows, its ratios against SZ3's (SZ3's with the mask its file lacks on
 * fields with fill points, ratio_with_mask) and how many rows fall below SZ3's ratio
 */
export interface BenchSummaryRow {
  codec: string;
  rows: number;
  median_compress_mb_s: number;
  median_decompress_mb_s: number;
  geomean_ratio: number;
  /** rows where SZ3 ran too (absent for SZ3 itself, or where it was not benched) */
  rows_with_sz3?: number;
  geomean_ratio_over_sz3?: number;
  rows_below_sz3?: number;
  /** of those, the rows that are not below it without the stream's self-description (name, units, attributes) */
  rows_below_sz3_by_self_description?: number;
}

export interface CrossfieldBenchRow {
  file: string;
  variable: string;
  codec: 'crossfield';
  anchors: string[];
  anchor_selection: 'given' | 'auto';
  bound: string;
  rel_bound?: number;
  abs_bound: number;
  values: number;
  compressed_bytes: number;
  compression_ratio: number;
  core_ratio: number;
  sz3_ratio: number | null;
  ratio_over_best: number;
  model_bytes: number;
  model_share: number;
  network: string;
  fusion: string | null;
  train_seconds: number;
  compress_mb_s: number;
  decompress_mb_s: number;
  /** the first compression's MB/s (cold code); with a reused model the fastest of the repeated runs is compress_mb_s */
  first_compress_mb_s: number;
  /** compression runs timed (1 unless reused_model) */
  runs: number;
  max_error_over_bound: number;
  points_over_bound: number;
  psnr_db: number;
  fallback: string | null;
  /** the network was fitted on the first step and given (reusedModel) */
  reused_model: boolean;
  anchor_ratios: Record<string, number>;
  error?: string;
}

export const BenchLargeInput = z.strictObject({
  /** the variable's size: 4GiB, 512MiB, 1e9 (bytes) */
  size: z.string().trim().min(1, 'a size is needed (e.g. 4GiB)'),
  /** where the NetCDF-4 file is written (default: the system temp folder); removed after unless keep */
  dir: filePath.optional(),
  keep: z.boolean().default(false),
  bounds: bounds.default([{ mode: 'rel', value: 1e-3 }]),
  workers: workers.default(2),
});

export interface LargeBenchRow {
  file: string;
  variable: string;
  shape: number[];
  bytes_in: number;
  bound: string;
  compressed_bytes: number;
  compression_ratio: number;
  /** compress seconds include the verification pass (a second read and decode of everything) */
  compress_seconds_with_verify: number;
  compress_mb_s_with_verify: number;
  decompress_seconds: number;
  decompress_mb_s: number;
  max_error_over_bound: number | string | undefined;
  points_over_bound: number | undefined;
  psnr_db: number | string | undefined;
  peak_rss_mib_after_compress: number;
  peak_rss_mib_after_decompress: number;
  workers: number;
}

/** How the rows were measured, written into every result. */
const protocol = z.array(z.string());

export const BENCH_METHODS = {
  'bench.codecs': {
    input: BenchCodecsInput,
    output: z.object({ protocol, rows: z.array(z.custom<BenchRow>()), summary: z.array(z.custom<BenchSummaryRow>()), trained: z.array(z.custom<TrainedBenchModel>()) }),
  },
  'bench.crossfield': {
    input: BenchCrossfieldInput,
    output: z.object({ protocol, rows: z.array(z.custom<CrossfieldBenchRow>()) }),
  },
  'bench.large': {
    input: BenchLargeInput,
    output: z.object({
      protocol,
      /** the file written: its path (kept only with keep), shape, and the build's seconds and peak RSS */
      build: z.object({ path: z.string(), shape: z.array(z.number().int()), seconds: z.number(), peak_rss_mib: z.number() }),
      rows: z.array(z.custom<LargeBenchRow>()),
    }),
  },
} as const;
