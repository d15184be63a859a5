/**
 * The one service API. Every door (Electron IPC, HTTP/WebSocket for `fieldpack serve`, the CLI) calls
 * these methods and nothing else; inputs are validated with these schemas wherever they cross a
 * process boundary. The renderer imports this file for its types and schemas only.
 *
 * Methods are grouped by area under methods/; each group's implementation is services/handlers/AREA.ts.
 */
import type { z } from 'zod';
import type { Metric, Run } from './schemas.ts';
import { CORE_METHODS } from './methods/core.ts';
import { MODEL_METHODS } from './methods/models.ts';
import { COMPRESSION_METHODS } from './methods/compression.ts';
import { TRAINING_METHODS } from './methods/training.ts';
import { CROSSFIELD_METHODS } from './methods/crossfield.ts';
import { DATA_FILE_METHODS, DATA_METHODS } from './methods/data.ts';
import { STREAM_METHODS } from './methods/streams.ts';
import { REVIEW_METHODS } from './methods/review.ts';
import { ARCHIVE_METHODS } from './methods/archive.ts';
import { BENCH_METHODS } from './methods/bench.ts';

export * from './schemas.ts';
export type * from './methods/description.ts';
export type { JobKind, JobParams, JobParamsInput, JobSubmission } from './methods/jobs.ts';

/** Input and output schema of every method, keyed by `area.verb`. */
export const API = {
  ...CORE_METHODS,
  ...MODEL_METHODS,
  ...COMPRESSION_METHODS,
  ...TRAINING_METHODS,
  ...CROSSFIELD_METHODS,
  ...DATA_FILE_METHODS,
  ...DATA_METHODS,
  ...STREAM_METHODS,
  ...REVIEW_METHODS,
  ...ARCHIVE_METHODS,
  ...BENCH_METHODS,
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
