/**
 * Data methods. On files, needing no store: a quick look at a file before importing it (data.inspect), its fields
 * described with statistics and quantization step (data.describe, `fieldpack inspect`), one field written out as
 * NetCDF-4 or raw binary (data.export, `fieldpack export`). And what the Data
 * view draws for a stored field: a 2-D slice (data.slice), a value histogram (data.histogram) and the
 * correlation matrix of the fields on one grid (data.correlation). Imports themselves are jobs:
 * jobs.submit({kind: 'dataset.import', params: ImportParams}).
 */
import { z } from 'zod';
import { id, SliceAxis } from '../schemas.ts';
import type { DatasetDescription } from './description.ts';

export const IMPORT_KIND = 'dataset.import';

const filePath = z.string().trim().min(1, 'a file path is needed');

/** Shape, dtype and byte order of a raw binary file (SDRBench: C order, fastest axis last). */
export const RawInput = z.strictObject({
  shape: z.array(z.number().int().positive()).min(1, 'a raw file needs a shape').max(8),
  dtype: z.enum(['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32']),
  endianness: z.enum(['little', 'big']).default('little'),
});
export type RawInput = z.infer<typeof RawInput>;

/** Params of a `dataset.import` job (validated again by the job kind). */
export const ImportParams = z.strictObject({
  paths: z.array(filePath).min(1, 'give at least one file').max(1000),
  name: z.string().trim().min(1).max(200).optional(),
  /** Per path: shape/dtype/endianness of raw binary files without a sidecar. */
  raw: z.record(z.string(), RawInput).optional(),
});
export type ImportParams = z.infer<typeof ImportParams>;

export const ImportResult = z.object({
  datasetId: id,
  name: z.string(),
  fields: z.number().int(),
  grids: z.number().int(),
  skipped: z.array(z.object({ file: z.string(), name: z.string(), reason: z.string() })),
  totalValues: z.number(),
  elapsedMs: z.number(),
});
export type ImportResult = z.infer<typeof ImportResult>;

export const FillSummary = z.object({
  fillValue: z.number().optional(),
  missingValues: z.array(z.number()).optional(),
  validMin: z.number().optional(),
  validMax: z.number().optional(),
  defaultFill: z.number().optional(),
  packing: z.object({ scaleFactor: z.number(), addOffset: z.number(), unpackedDtype: z.string() }).optional(),
  unsigned: z.boolean().optional(),
});

export const InspectOut = z.object({
  path: z.string(),
  format: z.string(),
  sizeBytes: z.number(),
  dimensions: z.record(z.string(), z.number()),
  variables: z.array(
    z.object({
      name: z.string(),
      dims: z.array(z.string()),
      shape: z.array(z.number().int()),
      dtype: z.string(),
      readable: z.boolean(),
      isCoordinate: z.boolean(),
      units: z.string().nullable(),
      longName: z.string().nullable(),
      fill: FillSummary,
    }),
  ),
});
export type InspectOut = z.infer<typeof InspectOut>;

export const DataSliceOut = z.object({
  fieldId: id,
  name: z.string(),
  /** The two axes shown: rows, columns (rows = '' for a 1-D field). */
  dims: z.tuple([z.string(), z.string()]),
  /** Leading axes (one slider each), their sizes and the indices used (clamped). */
  leadingDims: z.array(z.string()),
  leadingShape: z.array(z.number().int()),
  index: z.array(z.number().int()),
  /** The slice before downsampling. */
  sourceHeight: z.number().int(),
  sourceWidth: z.number().int(),
  /** What is sent: every `stride`-th point along both axes (1 = full resolution). */
  height: z.number().int(),
  width: z.number().int(),
  stride: z.number().int(),
  /** base64 of little-endian Float32, row-major height x width; NaN = masked. */
  data: z.string(),
  /** Over valid points of the whole slice (not only the sampled ones); null when all are masked. */
  min: z.number().nullable(),
  max: z.number().nullable(),
  maskedFraction: z.number(),
  units: z.string().nullable(),
  /** The row axis increases northwards: draw row 0 at the bottom. */
  flipY: z.boolean(),
  /** Every axis of the field in order (leading axes, then rows and columns): coordinates and labels. */
  axes: z.array(SliceAxis),
});
export type DataSliceOut = z.infer<typeof DataSliceOut>;

export const HistogramOut = z.object({
  fieldId: id,
  name: z.string(),
  units: z.string().nullable(),
  /** Indices of the leading axes the histogram is restricted to; empty = the whole field. */
  index: z.array(z.number().int()),
  edges: z.array(z.number()),
  counts: z.array(z.number().int()),
  validCount: z.number().int(),
  /** the histogram of a central block only (a field larger than a file description reads): how many values of how many */
  sampled: z.object({ values: z.number().int(), of: z.number().int() }).optional(),
});
export type HistogramOut = z.infer<typeof HistogramOut>;

const Matrix = z.object({ r: z.array(z.array(z.number().nullable())), n: z.array(z.array(z.number().int())) });

export const CorrelationOut = z.object({
  datasetId: id,
  gridKey: z.string(),
  /** Grids of the dataset with at least two comparable fields (for the grid picker). */
  grids: z.array(z.object({ key: z.string(), dims: z.array(z.string()), shape: z.array(z.number().int()), fields: z.number().int(), staggered: z.number().int() })),
  grid: z.object({ dims: z.array(z.string()), shape: z.array(z.number().int()) }),
  fields: z.array(
    z.object({
      fieldId: id,
      name: z.string(),
      matchedBy: z.enum(['same-grid', 'destagger-average', 'not-comparable']),
      note: z.string(),
      destaggeredDim: z.string().nullable(),
    }),
  ),
  values: Matrix,
  /** First-order backward differences along each axis of the grid longer than 1. */
  differences: z.array(Matrix.extend({ axis: z.number().int(), dim: z.string() })),
  cached: z.boolean(),
  elapsedMs: z.number(),
});
export type CorrelationOut = z.infer<typeof CorrelationOut>;

/** A half-open index range [start, end) along one dimension, or null for all of it */
const DimRange = z.tuple([z.number().int().min(0), z.number().int().min(0)]).nullable();

export const ExportInput = z.strictObject({
  /** any file the readers open: NetCDF-3/4, HDF5, raw, or a .fpk stream (decompressed) */
  path: filePath,
  /** the variable; optional where the file holds one field */
  variable: z.string().min(1).optional(),
  out: filePath,
  format: z.enum(['nc', 'raw']),
  /** along the leading dimensions; shorter than the shape: the rest whole */
  slice: z.array(DimRange).optional(),
  /** raw output only: the values' type (default: the field's), byte order, and the value written at masked points */
  dtype: z.enum(['float32', 'float64']).optional(),
  endianness: z.enum(['little', 'big']).optional(),
  /** a number, or "NaN" (JSON has no NaN) */
  fill: z.union([z.number(), z.literal('NaN')]).optional(),
  raw: RawInput.optional(),
  /** a .fpk input's dependencies, as decompress takes them: anchor or base streams, NetCDF files of the decoded fields, model files */
  anchors: z.array(filePath).default([]),
  /** a .fpk residual stream's external base: file:PATH[#var=NAME] as given when compressing */
  base: z.string().trim().regex(/^file:.+$/, 'base: file:PATH[#var=NAME] (a stream base is found beside the stream)').optional(),
  /** replace an existing output; without it one is refused before anything is read */
  overwrite: z.boolean().optional(),
});
export type ExportInput = z.input<typeof ExportInput>;

export const ExportOut = z.object({
  out: z.string(),
  variable: z.string(),
  shape: z.array(z.number().int()),
  format: z.enum(['nc', 'raw']),
  /** raw output: the sidecar that says its shape and type */
  sidecar: z.string().nullable(),
  maskedPoints: z.number().int(),
});
export type ExportOut = z.infer<typeof ExportOut>;

/** The methods on files: they need no store (the CLI serves them without opening one). */
export const DATA_FILE_METHODS = {
  'data.inspect': { input: z.object({ path: filePath, raw: RawInput.optional() }), output: InspectOut },
  'data.describe': {
    input: z.strictObject({
      paths: z.array(filePath).min(1, 'give at least one file').max(1000),
      /** only these variables (any file) */
      variables: z.array(z.string().min(1)).optional(),
      /** the shape and type of raw binary files without a sidecar (every path) */
      raw: RawInput.optional(),
    }),
    output: z.custom<DatasetDescription>(),
  },
  'data.export': { input: ExportInput, output: ExportOut },
} as const;

export const DATA_METHODS = {
  'data.slice': {
    input: z.object({ fieldId: id, leading: z.array(z.number().int().min(0)).default([]), maxSize: z.number().int().min(16).max(2048).default(720) }),
    output: DataSliceOut,
  },
  'data.histogram': {
    input: z.object({ fieldId: id, bins: z.number().int().min(2).max(1000).default(64), leading: z.array(z.number().int().min(0)).optional() }),
    output: HistogramOut,
  },
  'data.correlation': { input: z.object({ datasetId: id, gridKey: z.string().min(1).optional() }), output: CorrelationOut },
} as const;
