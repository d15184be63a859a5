/**
 * Archive methods: many files, variables and time steps into one verified, resumable, restorable archive
 * (docs/archive.md). `archive.build` runs in the caller (the CLI, with progress and Ctrl-C) or as the
 * `archive.build` job (the view: progress and Cancel); the others are quick or read-only. None needs the store.
 */
import { z } from 'zod';
import { MAX_WORKERS } from '../schemas.ts';
import { BaseSpec } from './compression.ts';

const path = z.string().trim().min(1);
const BoundText = z.string().trim().regex(/^(abs|rel|psnr|nrmse)[:=][^\s]+$/i, 'a bound is MODE:VALUE, e.g. rel:1e-3');
const MetricNum = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);

/** What to archive and how: shared by plan, build and the build job. */
export const ArchiveWorkInput = z.strictObject({
  /** files, folders (their .nc/.cdf/.h5 files) or glob patterns */
  inputs: z.array(path).default([]),
  vars: z.array(z.string().trim().min(1)).optional(),
  /** the default bound of every variable (rel resolves on each variable's whole valid range) */
  bound: BoundText.default('rel:1e-3'),
  /** per-variable bounds: VAR -> MODE:VALUE */
  boundFor: z.record(z.string(), BoundText).default({}),
  /** a codec or preset (auto: the core codec's choice); a codec that needs anchors links every variable it can */
  codec: z.string().trim().min(1).default('auto'),
  /** params of that codec over its preset's, validated by the codec (e.g. {model: 'FILE.fpvq', fallback: false}) */
  params: z.record(z.string(), z.unknown()).default({}),
  /**
   * residual coders (lbrc, gae, nglr): the base each member refines, none, auto (chosen per member) or CODEC:MODE:VALUE
   * (e.g. core:rel:1e-2, vqvae:psnr:40); stored once in objects/. file:PATH is refused: an archive restores on its own
   */
  base: BaseSpec.optional(),
  /** auto: targets predicted from an anchor where the ranking finds a linked pair; off: every variable alone */
  crossfield: z.enum(['auto', 'off']).default('auto'),
  /** the network each cross-field series trains once: linear (least squares, no Python) or cfnn (PyTorch) */
  network: z.enum(['linear', 'cfnn']).default('linear'),
  /** a variable above this many values is split along its first dimension */
  memberValues: z.number().int().min(1024, 'a member holds at least 1024 values').max(1 << 30, 'a member holds at most 2^30 values').optional(),
  /** bytes the archive may take: per-variable bounds chosen between boundLimits */
  budget: z.number().positive().optional(),
  /** [tightest, loosest] bounds a budget may choose (default [bound, rel:1e-2]) */
  boundLimits: z.tuple([BoundText, BoundText]).optional(),
});

export const ArchiveBuildParams = ArchiveWorkInput.extend({
  /** the archive folder (created; an unfinished build there is resumed) */
  out: path,
  /** only this shard of the work already in `out` (Slurm array tasks, local shard processes) */
  shard: z.object({ index: z.number().int().min(0), count: z.number().int().min(1).max(10000) }).optional(),
  /** shards as local processes (1: this process) */
  jobs: z.number().int().min(1).max(256).default(1),
  /** write an sbatch job array (+ a dependent merge job) and submit it instead of building here */
  slurm: z.object({ arraySize: z.number().int().min(1).max(10000), partition: z.string().optional(), time: z.string().optional(), submit: z.boolean().default(true) }).optional(),
  workers: z.number().int().min(0).max(MAX_WORKERS).default(0),
});
export type ArchiveBuildParams = z.infer<typeof ArchiveBuildParams>;

/** An archive's totals, as its manifest keeps them. */
export const ArchiveTotals = z.object({
  members: z.number().int(),
  originalBytes: z.number().int(),
  memberBytes: z.number().int(),
  objectBytes: z.number().int(),
  /** members + objects + manifest */
  archiveBytes: z.number().int(),
  ratio: z.number(),
  /** share of the archive taken by models (objects and networks inside streams, each counted once) */
  modelShare: z.number(),
  /** the ratio with the models left out (for a reader who has them already); absent in archives written before it was added */
  ratioWithoutModels: z.number().optional(),
});

/** A target predicted from anchors of the same file, and why the plan linked them. */
export const ArchiveLink = z.object({ source: z.string(), target: z.string(), anchors: z.array(z.string()), reason: z.string() });
/** A variable left out of an archive, and why (sources also list `carried`: the variables kept as stored in the manifest, scalars and char variables). */
export const SkippedVariable = z.object({ name: z.string(), reason: z.string() });

export const ArchiveBuildOutput = z.object({
  kind: z.enum(['archive', 'shard', 'slurm']),
  out: z.string(),
  built: z.number().int(),
  reused: z.number().int(),
  seconds: z.number(),
  totals: ArchiveTotals.nullable(),
  /** what the user should know of the build (a budget it could not meet) */
  notes: z.array(z.string()),
  slurm: z.object({ buildScript: z.string(), mergeScript: z.string(), arrayJobId: z.string().nullable(), mergeJobId: z.string().nullable() }).nullable(),
});

export const ArchivePlanOutput = z.object({
  members: z.array(z.object({
    id: z.string(), source: z.string(), variable: z.string(), rows: z.tuple([z.number(), z.number()]).nullable(), bound: z.string(), codec: z.string(),
    crossfield: z.boolean(), originalBytes: z.number(), estBytes: z.number(), estSeconds: z.number(),
  })),
  totals: z.object({ members: z.number().int(), originalBytes: z.number(), estBytes: z.number(), estSeconds: z.number(), ratio: z.number() }),
  budget: z.object({ bytes: z.number(), met: z.boolean(), boundFor: z.record(z.string(), z.string()) }).nullable(),
  links: z.array(ArchiveLink),
  sources: z.array(z.object({ id: z.string(), name: z.string(), variables: z.number().int(), carried: z.array(z.string()), skipped: z.array(SkippedVariable) })),
  sampledValues: z.number().int(),
});

export const ArchiveListOutput = z.object({
  archive: z.string(),
  version: z.number().int(),
  fieldpackVersion: z.string(),
  createdAt: z.string(),
  options: z.record(z.string(), z.unknown()),
  totals: ArchiveTotals,
  sources: z.array(z.object({ id: z.string(), name: z.string(), path: z.string(), variables: z.array(z.string()), carried: z.array(z.string()), skipped: z.array(SkippedVariable) })),
  links: z.array(ArchiveLink),
  objects: z.array(z.object({ hash: z.string(), kind: z.string(), label: z.string(), bytes: z.number(), usedBy: z.number().int() })),
  members: z.array(z.object({
    id: z.string(), source: z.string(), variable: z.string(), rows: z.tuple([z.number(), z.number()]).nullable(), shape: z.array(z.number().int()), codec: z.string(),
    bytes: z.number(), originalBytes: z.number(), ratio: z.number(), boundAbs: z.number(), bound: z.string(), maxError: MetricNum, psnr: MetricNum,
    anchors: z.array(z.string()), modelBytes: z.number(),
    /** the member's base stream (an object); ratio counts it */
    baseBytes: z.number(),
  })),
});
export type ArchiveListOutput = z.infer<typeof ArchiveListOutput>;

export const ArchiveVerifyOutput = z.object({
  archive: z.string(),
  ok: z.boolean(),
  failed: z.number().int(),
  members: z.array(z.object({ id: z.string(), ok: z.boolean(), message: z.string(), againstSource: z.boolean() })),
  objects: z.array(z.object({ hash: z.string(), file: z.string(), ok: z.boolean(), message: z.string() })),
  /** what the checks could not cover (a manifest without its checksum) */
  notes: z.array(z.string()),
});
export type ArchiveVerifyOutput = z.infer<typeof ArchiveVerifyOutput>;

export const ARCHIVE_METHODS = {
  'archive.plan': { input: ArchiveWorkInput, output: ArchivePlanOutput },
  'archive.build': { input: ArchiveBuildParams, output: ArchiveBuildOutput },
  'archive.merge': { input: z.strictObject({ archive: path }), output: z.object({ archive: z.string(), totals: ArchiveTotals }) },
  'archive.verify': { input: z.strictObject({ archive: path, sources: z.boolean().default(true) }), output: ArchiveVerifyOutput },
  'archive.restore': {
    input: z.strictObject({
      archive: path, out: path, vars: z.array(z.string().trim().min(1)).optional(), overwrite: z.boolean().optional(),
      /** keep each value inside its member's original valid range (the stream's): no error grows */
      clamp: z.boolean().optional(),
    }),
    /** clamped: with clamp, how many values of the file moved into their valid range */
    output: z.object({
      files: z.array(z.object({ source: z.string(), path: z.string(), variables: z.array(z.string()), clamped: z.number().int().optional() })),
      /** sources not restored (a damaged member, a file that cannot be written), with why: the others are */
      failed: z.array(z.object({ source: z.string(), message: z.string() })),
      /** what the user should know (a manifest with no checksum of itself: its edits cannot be seen) */
      notes: z.array(z.string()),
    }),
  },
  'archive.list': { input: z.strictObject({ archive: path }), output: ArchiveListOutput },
} as const;
