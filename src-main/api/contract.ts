/**
 * The one service API. Every door (Electron IPC, HTTP/WebSocket for `fieldpack serve`, the CLI) calls
 * these methods and nothing else; inputs are validated with these schemas wherever they cross a
 * process boundary. The renderer imports this file for its types and schemas only.
 */
import { z } from 'zod';

const id = z.number().int().positive();
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

const projectName = z
  .string()
  .trim()
  .min(1, 'a project needs a name')
  .max(200, 'a project name has at most 200 characters');

export const SerializedErrorSchema = z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() });

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

export const Settings = z.object({
  /** Python interpreter for training; null = auto-detect. */
  pythonPath: z.string().nullable(),
  /** Worker threads for codecs; 0 = one per core. */
  workers: z.number().int().min(0).max(256),
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
  python: PythonReport,
  database: z.object({ path: z.string(), schemaVersion: z.number().int(), sizeBytes: z.number() }),
  door: z.enum(['electron', 'http', 'cli']),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

export const JOB_KINDS = ['demo'] as const;
export const JobKind = z.enum(JOB_KINDS);

/** Input and output schema of every method, keyed by `area.verb`. */
export const API = {
  'projects.list': { input: z.object({}), output: z.array(Project) },
  'projects.get': { input: z.object({ id }), output: Project },
  'projects.create': { input: z.object({ name: projectName, description: z.string().max(10_000).default('') }), output: Project },
  'projects.rename': { input: z.object({ id, name: projectName }), output: Project },
  'projects.delete': { input: z.object({ id }), output: z.object({ deleted: id }) },

  'datasets.list': { input: z.object({ projectId: id }), output: z.array(Dataset) },
  'datasets.fields': { input: z.object({ datasetId: id }), output: z.array(FieldRecord) },
  'datasets.delete': { input: z.object({ id }), output: z.object({ deleted: id }) },

  'jobs.submit': {
    input: z.object({
      kind: JobKind,
      projectId: id.nullable().default(null),
      name: z.string().max(200).optional(),
      params: z.record(z.string(), z.unknown()).default({}),
    }),
    output: Run,
  },
  'jobs.cancel': { input: z.object({ runId: id }), output: Run },
  'jobs.active': { input: z.object({}), output: z.array(Run) },

  'runs.list': {
    input: z.object({ projectId: id.nullable().optional(), kind: z.string().optional(), limit: z.number().int().min(1).max(10_000).default(200) }),
    output: z.array(Run),
  },
  'runs.get': { input: z.object({ id }), output: RunDetail },
  'runs.delete': { input: z.object({ id }), output: z.object({ deleted: id }) },

  'settings.get': { input: z.object({}), output: Settings },
  'settings.update': { input: Settings.partial(), output: Settings },

  'system.doctor': { input: z.object({}), output: DoctorReport },
} as const;

export type ApiMethod = keyof typeof API;
export type ApiInput<M extends ApiMethod> = z.input<(typeof API)[M]['input']>;
export type ApiParsedInput<M extends ApiMethod> = z.output<(typeof API)[M]['input']>;
export type ApiOutput<M extends ApiMethod> = z.output<(typeof API)[M]['output']>;

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(API, name);
}

/** Events pushed from the main process to every connected door. */
export type ApiEvent =
  | { type: 'run.updated'; run: Run }
  | { type: 'run.metric'; runId: number; metric: Metric }
  | { type: 'run.log'; runId: number; line: string }
  | { type: 'projects.changed' };

/** What a door implements for the renderer: calls plus an event subscription. */
export interface ApiClient {
  call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
  readonly door: 'electron' | 'http';
}
