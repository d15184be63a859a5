/** Schemas shared by the API's method groups (see contract.ts). */
import { z } from 'zod';

export const id = z.number().int().positive();
const isoTime = z.string();

export const RunStatus = z.enum(['scheduled', 'running', 'finished', 'failed', 'cancelled', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatus>;
export const ACTIVE_STATUSES: readonly RunStatus[] = ['scheduled', 'running'];

export const Project = z.object({
  id,
  name: z.string(),
  description: z.string(),
  createdAt: isoTime,
  updatedAt: isoTime,
  datasetCount: z.number().int(),
  runCount: z.number().int(),
});
export type Project = z.infer<typeof Project>;

export const projectName = z
  .string()
  .trim()
  .min(1, 'a project needs a name')
  .max(200, 'a project name has at most 200 characters')
  // a line break or escape in a name broke the CLI's tables and the workbench's lists
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'a project name has no line breaks, tabs or other control characters');

export const SerializedErrorSchema = z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() });

/** a run's name, as a job submission and an experiment file's runs give it */
export const RunName = z.string().max(200);

export const Run = z.object({
  id,
  projectId: id.nullable(),
  experimentId: id.nullable(),
  kind: z.string(),
  name: z.string(),
  status: RunStatus,
  params: z.record(z.string(), z.unknown()),
  result: z.unknown().nullable(),
  error: SerializedErrorSchema.nullable(),
  progress: z.number(),
  message: z.string(),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  endedAt: isoTime.nullable(),
  /** the reviewer's note (free text) */
  note: z.string(),
  /** archived runs are kept but left out of lists unless asked for */
  archivedAt: isoTime.nullable(),
  /** where an imported run came from (the exporting database, its run id, software version), null for a run made here */
  origin: z.record(z.string(), z.unknown()).nullable(),
});
export type Run = z.infer<typeof Run>;

/** A metric value: SQLite REAL cannot hold NaN, so non-finite values travel as strings. */
export const MetricValue = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);
export const Metric = z.object({ key: z.string(), step: z.number().int(), value: MetricValue, loggedAt: isoTime });
export type Metric = z.infer<typeof Metric>;

export const Artifact = z.object({
  id,
  name: z.string(),
  path: z.string(),
  kind: z.string(),
  sizeBytes: z.number().nullable(),
  sha256: z.string().nullable(),
});
export type Artifact = z.infer<typeof Artifact>;

export const RunDetail = Run.extend({
  metrics: z.array(Metric),
  artifacts: z.array(Artifact),
  tags: z.record(z.string(), z.string()),
  logs: z.array(z.string()),
});
export type RunDetail = z.infer<typeof RunDetail>;

export const Dataset = z.object({
  id,
  projectId: id,
  name: z.string(),
  files: z.array(z.string()),
  description: z.record(z.string(), z.unknown()),
  createdAt: isoTime,
  fieldCount: z.number().int(),
});
export type Dataset = z.infer<typeof Dataset>;

export const FieldRecord = z.object({
  id,
  datasetId: id,
  name: z.string(),
  file: z.string(),
  dims: z.array(z.string()),
  shape: z.array(z.number().int()),
  dtype: z.string(),
  units: z.string().nullable(),
  gridKey: z.string().nullable(),
  stats: z.record(z.string(), z.unknown()),
});
export type FieldRecord = z.infer<typeof FieldRecord>;

export const Model = z.object({
  id,
  projectId: id.nullable(),
  runId: id.nullable(),
  contentHash: z.string(),
  network: z.string(),
  networkVersion: z.string(),
  ndim: z.number().int().nullable(),
  inputs: z.array(z.unknown()),
  outputs: z.array(z.unknown()),
  params: z.record(z.string(), z.unknown()),
  parameterCount: z.number().int().nullable(),
  sizeBytes: z.number().int(),
  training: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
  path: z.string(),
  createdAt: isoTime,
});
export type Model = z.infer<typeof Model>;

/** The most worker threads a call may ask for (the API's limit on every `workers`). */
export const MAX_WORKERS = 256;

export const Settings = z.object({
  /** Python interpreter for training; null = auto-detect. */
  pythonPath: z.string().nullable(),
  /** Worker threads for codecs; 0 = one per core. */
  workers: z.number().int().min(0).max(MAX_WORKERS),
});
export type Settings = z.infer<typeof Settings>;
export const DEFAULT_SETTINGS: Settings = { pythonPath: null, workers: 0 };

export const PythonReport = z.object({
  interpreter: z.string().nullable(),
  pythonVersion: z.string().nullable(),
  torchVersion: z.string().nullable(),
  cuda: z.boolean(),
  gpuName: z.string().nullable(),
  onnx: z.boolean(),
  problem: z.string().nullable(),
});

export const DoctorReport = z.object({
  fieldpackVersion: z.string(),
  node: z.string(),
  electron: z.string().nullable(),
  platform: z.string(),
  cpus: z.number().int(),
  onnxruntime: z.object({ version: z.string().nullable(), providers: z.array(z.string()), problem: z.string().nullable() }),
  /** whether this engine runs the learned decoders' WebAssembly fast path (otherwise the reference path alone, slower) */
  webassemblyFastPath: z.boolean(),
  python: PythonReport,
  database: z.object({ path: z.string(), schemaVersion: z.number().int(), sizeBytes: z.number() }),
  door: z.enum(['electron', 'http', 'cli']),
});
export type DoctorReport = z.infer<typeof DoctorReport>;


/**
 * One axis of a field as the views label it: the coordinate variable's values and labels (dates decoded from
 * CF time units and calendar, degrees, numbers with units), or index labels when the dimension has none.
 */
export const SliceAxis = z.object({
  dim: z.string(),
  kind: z.enum(['time', 'level', 'latitude', 'longitude', 'y', 'x', 'other']),
  /** The coordinate variable; null when the dimension has none (labels are then the indices). */
  coordinate: z.string().nullable(),
  /** Short units shown beside the axis name ("m", "hPa"); null for dates and degrees (in the labels). */
  units: z.string().nullable(),
  /** One label per index along the axis ("2005-08-28 06:00", "30.5°W", "500 m"). */
  labels: z.array(z.string()),
  /** The coordinate values (null where missing), for placing ticks; null without a coordinate variable. */
  values: z.array(z.number().nullable()).nullable(),
  /** A CF time axis whose reference lies in year 0: a climatology (months of no particular year). */
  climatology: z.boolean(),
  /** Tick marks for an image axis: position in index units (fractional between points) and label. */
  ticks: z.array(z.object({ index: z.number(), label: z.string() })),
});
export type SliceAxis = z.infer<typeof SliceAxis>;

/**
 * A zod issue as a line of an error: its path and message; a refused record key says why (zod's own message there is
 * "Invalid key in record", the reason nested) and quotes the key shortened, not the whole of a hostile one.
 */
export function issueText(i: z.core.$ZodIssue, top = 'input'): string {
  const at = (path: PropertyKey[]) => path.map(String).join('.') || top;
  if (i.code === 'invalid_key' && i.issues.length) {
    const key = String(i.path[i.path.length - 1] ?? '');
    const shown = key.length > 40 ? `${key.slice(0, 40)}... (${key.length} characters)` : key;
    return `${at(i.path.slice(0, -1))}: key ${JSON.stringify(shown)} ${i.issues[0]!.message}`;
  }
  return `${at(i.path)}: ${i.message}`;
}

/**
 * Depth of nested objects and arrays, counted up to just past `limit` (hostile params nest thousands deep to exhaust
 * the stack of what reads them).
 */
export function nestingDepth(v: unknown, limit: number, depth = 0): number {
  if (depth > limit || v === null || typeof v !== 'object') return depth;
  let max = depth;
  for (const x of Object.values(v as Record<string, unknown>)) {
    max = Math.max(max, nestingDepth(x, limit, depth + 1));
    if (max > limit) break;
  }
  return max;
}
