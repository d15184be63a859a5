/**
 * The archive service: plan, build (one process, local shards or a Slurm job array), merge, verify, restore, list.
 * The API handlers (services/handlers/archive.ts) and the `archive.build` job call it; docs/archive.md describes
 * the format.
 */
import { resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { type BuildControl, type BuildProgress, type ShardSpec, buildMembers, checkArchiveTarget, mergeArchive, prepareWork, progressLine, readManifest, writerName } from './build.ts';
import { withWriterLock } from './lock.ts';
import { type SlurmOptions, type SlurmSubmission, runLocalShards, submitSlurm } from './cluster.ts';
import { readJournals } from './journal.ts';
import { type PlanOptions, planArchive, parseSize } from './plan.ts';
import type { Manifest } from './format.ts';
import type { ArchiveBuildParams } from '../../api/methods/archive.ts';

export { mergeArchive, readManifest, progressLine, planArchive, parseSize };
export { verifyArchive } from './verify.ts';
export { restoreArchive } from './restore.ts';
export type { BuildProgress, Manifest, PlanOptions, ShardSpec, SlurmOptions };

export interface ArchiveBuildRequest extends PlanOptions {
  out: string;
  /** build only this shard of an existing work.json (a Slurm array task, a local shard process) */
  shard?: ShardSpec | null;
  /** shards as local processes (1 = this process) */
  jobs?: number;
  /** write the sbatch scripts and submit them instead of building here */
  slurm?: SlurmOptions | null;
  workers?: number;
}

export type ArchiveBuildOutcome =
  | { kind: 'archive'; out: string; manifest: Manifest; built: number; reused: number; seconds: number; notes: string[] }
  | { kind: 'shard'; out: string; shard: ShardSpec; built: number; reused: number; seconds: number }
  | { kind: 'slurm'; out: string; members: number; submission: SlurmSubmission };

export async function buildArchive(req: ArchiveBuildRequest, ctl: BuildControl = {}): Promise<ArchiveBuildOutcome> {
  const t0 = performance.now();
  const out = resolve(req.out);
  const seconds = () => (performance.now() - t0) / 1000;
  // before the lock is taken in it (which makes the folder)
  checkArchiveTarget(out);
  if (req.shard) {
    if (!(req.shard.count >= 1 && req.shard.index >= 0 && req.shard.index < req.shard.count)) throw new FieldpackError('INVALID_ARGUMENT', `--shard ${req.shard.index}/${req.shard.count}: I must be in [0, N)`);
    const shard = req.shard;
    return withWriterLock(out, writerName(shard), async () => {
      const work = await prepareWork(out, null);
      const r = await buildMembers(out, work, shard, ctl);
      return { kind: 'shard' as const, out, shard, ...r, seconds: seconds() };
    });
  }
  return withWriterLock(out, writerName(null), () => buildWhole(req, out, ctl, seconds));
}

/** A build that is not one shard: planned (or resumed), built here, in local shards or on Slurm, then merged. */
async function buildWhole(req: ArchiveBuildRequest, out: string, ctl: BuildControl, seconds: () => number): Promise<ArchiveBuildOutcome> {
  // planning reads every file: cancelled with the build, before anything is written; a budget fixes the
  // per-variable bounds before the work is laid out
  let opts: PlanOptions | null = req.inputs.length ? { ...req, signal: ctl.signal ?? req.signal } : null;
  const notes: string[] = [];
  if (opts && req.budget !== undefined) {
    const plan = await planArchive({ ...opts, onProgress: undefined });
    opts = { ...opts, budget: undefined, boundFor: { ...req.boundFor, ...plan.budget!.boundFor } };
    // built anyway, at the loosest bounds it may choose: said, not passed over (the build ended exit 0 without a word)
    if (!plan.budget!.met) notes.push(`the budget of ${req.budget >= 1e6 ? `${(req.budget / 1e6).toFixed(2)} MB` : `${req.budget} bytes`} is not met: the estimate stays above it at every bound between the limits (built with ${Object.entries(plan.budget!.boundFor).map(([v, b]) => `${v}=${b}`).join(', ')}); loosen --bound-limits or raise the budget`);
  }
  const work = await prepareWork(out, opts);
  if (req.slurm) {
    const submission = await submitSlurm(out, req.slurm);
    return { kind: 'slurm', out, members: work.members.length, submission };
  }
  const jobs = req.jobs ?? 1;
  let built = 0;
  let reused = 0;
  if (jobs > 1) {
    const before = readJournals(out).members.size;
    await runLocalShards(out, work, jobs, ctl);
    const after = readJournals(out).members.size;
    built = after - before;
    reused = before;
  } else ({ built, reused } = await buildMembers(out, work, null, ctl));
  const manifest = await mergeArchive(out);
  return { kind: 'archive', out, manifest, built, reused, seconds: seconds(), notes };
}

/** The members of an archive, one row each, with the totals. */
export function listArchive(dir: string) {
  const m = readManifest(dir);
  return {
    archive: resolve(dir), version: m.version, fieldpackVersion: m.fieldpackVersion, createdAt: m.createdAt, options: m.options, totals: m.totals,
    sources: m.sources.map((s) => ({ id: s.id, name: s.name, path: s.path, variables: s.variables.map((v) => v.name), carried: s.carried.map((v) => v.name), skipped: s.skipped })),
    links: m.links,
    objects: m.objects.map((o) => ({ hash: o.hash, kind: o.kind, label: o.label, bytes: o.bytes, usedBy: o.usedBy.length })),
    members: m.members.map((e) => ({
      id: e.id, source: e.source, variable: e.variable, rows: e.rows, shape: e.shape, codec: e.codec, bytes: e.bytes, originalBytes: e.originalBytes,
      ratio: e.originalBytes / (e.bytes + e.baseBytes), boundAbs: e.bound.abs, bound: `${e.bound.mode}:${e.bound.value}`, maxError: e.achieved.maxError, psnr: e.achieved.psnr,
      anchors: e.dependencies.filter((d) => d.kind === 'anchor').map((d) => (d as { member: string }).member), modelBytes: e.modelBytes, baseBytes: e.baseBytes,
    })),
  };
}

/** For the API and the job: a build with progress as (fraction, line). */
export async function runArchiveBuild(p: ArchiveBuildParams, call?: { onProgress?: (fraction: number, message?: string) => void; signal?: AbortSignal }) {
  const r = await buildArchive(
    { ...p, vars: p.vars ?? null, slurm: p.slurm ?? null, shard: p.shard ?? null },
    {
      signal: call?.signal, workers: p.workers,
      onProgress: (pr: BuildProgress) => call?.onProgress?.(pr.totalBytesIn > 0 ? pr.bytesIn / pr.totalBytesIn : pr.done / Math.max(1, pr.total), progressLine(pr)),
    },
  );
  return {
    kind: r.kind, out: r.out,
    built: r.kind === 'slurm' ? 0 : r.built, reused: r.kind === 'slurm' ? 0 : r.reused, seconds: r.kind === 'slurm' ? 0 : r.seconds,
    totals: r.kind === 'archive' ? r.manifest.totals : null,
    notes: r.kind === 'archive' ? r.notes : [],
    slurm: r.kind === 'slurm' ? r.submission : null,
  };
}

