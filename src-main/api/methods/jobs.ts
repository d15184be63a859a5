/**
 * Jobs: every kind's params schema, defined once here. `jobs.submit` validates the params of a known kind with
 * its own schema (errors name the kind and the field) before a run is created; the renderer imports these types
 * (JobSubmission, JobParamsInput) instead of keeping copies. Kinds registered only by tests pass through with plain
 * object params; the job queue refuses kinds it has no handler for.
 */
import { z } from 'zod';
import { RunName, id, nestingDepth } from '../schemas.ts';
import { CompressParams } from './compression.ts';
import { CrossfieldParams } from './crossfield.ts';
import { ImportParams } from './data.ts';
import { NglrTrainParams, TrainParams, VqvaeTrainParams } from './training.ts';
import { ArchiveBuildParams } from './archive.ts';

/** The demo job: a short real computation in a worker thread. */
export const DemoParams = z.strictObject({
  steps: z.number().int().min(1).max(1000).default(20),
  size: z.number().int().min(8).max(4096).default(256),
  stepDelayMs: z.number().int().min(0).max(10_000).default(150),
  failAtStep: z.number().int().default(-1),
});

export const JOB_PARAMS = {
  demo: DemoParams,
  compress: CompressParams,
  crossfield: CrossfieldParams,
  train: TrainParams,
  'train-vqvae': VqvaeTrainParams,
  'train-nglr': NglrTrainParams,
  'dataset.import': ImportParams,
  'archive.build': ArchiveBuildParams,
} as const;

export type JobKind = keyof typeof JOB_PARAMS;
export type JobParamsInput<K extends JobKind> = z.input<(typeof JOB_PARAMS)[K]>;
export type JobParams<K extends JobKind> = z.output<(typeof JOB_PARAMS)[K]>;

/** What a door submits: a discriminated union over the kinds. */
export type JobSubmission = { [K in JobKind]: { kind: K; projectId?: number | null; name?: string; params: JobParamsInput<K> } }[JobKind];

export function isJobKind(kind: string): kind is JobKind {
  return Object.prototype.hasOwnProperty.call(JOB_PARAMS, kind);
}

/** Params of a known kind, parsed by its schema (defaults filled); INVALID_ARGUMENT-style issues otherwise. */
export function parseJobParams<K extends JobKind>(kind: K, params: unknown): z.ZodSafeParseResult<JobParams<K>> {
  return (JOB_PARAMS[kind] as unknown as z.ZodType<JobParams<K>>).safeParse(params);
}

/** how deep a job's params may nest (nestingDepth) */
const NESTING_LIMIT = 32;

export const JobSubmitInput = z
  .object({
    /** a job kind (JOB_PARAMS); its params are validated by that kind's schema */
    kind: z.string().min(1),
    projectId: id.nullable().default(null),
    name: RunName.optional(),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .transform((v, ctx) => {
    if (nestingDepth(v.params, NESTING_LIMIT) > NESTING_LIMIT) {
      ctx.addIssue({ code: 'custom', path: ['params'], message: `nested deeper than ${NESTING_LIMIT} levels` });
      return z.NEVER;
    }
    if (!isJobKind(v.kind)) return v;
    const r = parseJobParams(v.kind, v.params);
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ ...i, path: ['params', ...i.path], message: `${v.kind}: ${i.message}` } as never);
      return z.NEVER;
    }
    return { ...v, params: r.data as Record<string, unknown> };
  });
