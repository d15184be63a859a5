/**
 * The `crossfield` job (job-kinds/crossfield.ts) and the ranking behind crossfield.rank: reads the target and its anchors
 * with the data service's readers, trains + compresses with progress and cancellation, decodes with the anchors'
 * reconstructions (timed), checks the bound on every valid point, and records metrics, tags and the .fpk artifact so the
 * run stands beside the compress runs of the same field.
 */
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../files/atomic.ts';
import { basename, join, resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import type { BoundSpec } from '../../core/codec/bound.ts';
import { fullMetrics } from '../../core/metrics/index.ts';
import { CrossfieldParams } from '../../api/methods/crossfield.ts';
import { listVariables } from '../compression/bench-input.ts';
import { CROSSFIELD_KIND, type CompressRunResult, readVariable, runMetrics, sourceIdentity } from '../compression/runs.ts';
import type { Store } from '../store/store.ts';
import { runDir } from '../store/files.ts';
import type { JobContext } from '../jobs/types.ts';
import { compressCrossfield, decompressCrossfield, measuredCoreRatio } from './index.ts';
import { type AnchorCandidate, rankAnchors } from './ranking.ts';
import { makeFolder } from '../files/folders.ts';
import { anchorStreamPath } from '../codecs/dependencies.ts';

export { CROSSFIELD_KIND };

async function sameGridCandidates(file: string, target: Field, signal?: AbortSignal): Promise<{ fields: Field[]; skipped: { var: string; reason: string }[] }> {
  const fields: Field[] = [];
  const skipped: { var: string; reason: string }[] = [];
  for (const v of await listVariables(file)) {
    if (v.name === target.name) continue;
    if (!/float/.test(v.dtype) || v.shape.filter((d) => d > 1).length < 2) continue;
    if (v.shape.length !== target.shape.length || v.shape.some((d, i) => d !== target.shape[i])) {
      skipped.push({ var: v.name, reason: `grid [${v.shape.join(', ')}] is not the target's [${target.shape.join(', ')}]` });
      continue;
    }
    fields.push(await readVariable(file, v.name, { signal }));
  }
  return { fields, skipped };
}

export async function rankFileAnchors(file: string, target: string, opts: { quickGain?: boolean; bound?: BoundSpec } = {}) {
  const t = await readVariable(resolve(file), target);
  const { fields, skipped } = await sameGridCandidates(resolve(file), t);
  const candidates: AnchorCandidate[] = rankAnchors(t, fields, { quickGain: opts.quickGain ?? true, bound: opts.bound, ndim: t.shape.length >= 4 ? 3 : 2 });
  return { target, shape: t.shape, candidates: candidates.map(({ perAxis: _p, ...c }) => c), skipped };
}

/** A compress run's result (so the run is listed, analysed and reported beside them; codec: the kept stream's), and the cross-field choices. */
export interface CrossfieldRunResult extends CompressRunResult {
  anchors: string[];
  anchorSelection: 'given' | 'auto';
  fallback: string | null;
  network: string;
  fusion: string | null;
}

export async function runCrossfield(store: Store | null, raw: Record<string, unknown>, ctx: JobContext): Promise<CrossfieldRunResult> {
  const parsed = CrossfieldParams.safeParse(raw);
  if (!parsed.success) throw new FieldpackError('INVALID_ARGUMENT', `crossfield: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`);
  const p = parsed.data;
  const file = resolve(p.file);
  ctx.progress(0, `reading ${p.target}`);
  const source = sourceIdentity(file);
  const target = await readVariable(file, p.target, { signal: ctx.signal });
  const ndim = p.ndim ?? (target.shape.length >= 4 ? 3 : 2);
  let anchorNames = p.anchors.filter((a) => a !== p.target);
  let selection: 'given' | 'auto' = 'given';
  let anchors: Field[];
  if (!anchorNames.length) {
    selection = 'auto';
    const { fields } = await sameGridCandidates(file, target, ctx.signal);
    const ranking = rankAnchors(target, fields, { quickGain: true, bound: p.bound, ndim });
    anchorNames = ranking.filter((c) => c.suggested).map((c) => c.var);
    if (!anchorNames.length) throw new FieldpackError('NOT_FOUND', `no useful anchor for ${p.target} in ${basename(file)}`);
    for (const c of ranking) ctx.log(`${c.var}: score ${c.score.toFixed(2)}: ${c.reason}`);
    anchors = fields.filter((f) => anchorNames.includes(f.name));
  } else anchors = await Promise.all(anchorNames.map((v) => readVariable(file, v, { signal: ctx.signal })));
  ctx.log(`target ${p.target} [${target.shape.join(' x ')}], anchors ${anchorNames.join(', ')} (${selection})`);
  const runId = ctx.runId;
  const r = await compressCrossfield({
    // one worker encodes the hybrid while this thread makes the core codec's stream for the fall back (the same
    // bytes as with none; navy UWND <- VWND 20-22 -> 24-26 MB/s on 2 cores, BENCH.md)
    target, anchors, bound: p.bound, network: p.network, ndim, verify: false, signal: ctx.signal, workers: 1,
    ...(p.epochs ? { train: { epochs: p.epochs } } : {}),
    onProgress: (f, m) => ctx.progress(0.05 + 0.8 * f, m),
  });
  ctx.progress(0.86, 'decompressing with the anchors\' reconstructions');
  const t1 = performance.now();
  const d = await decompressCrossfield(r.bytes, r.anchors.map((a) => a.recon), { signal: ctx.signal });
  const ds = (performance.now() - t1) / 1000;
  const coreRatio = await measuredCoreRatio(r, target, p.bound);
  const n = target.values.length;
  const orig = n * target.values.BYTES_PER_ELEMENT;
  const st = fullMetrics(target.values, d.field.values, target.shape, target.mask ?? null, r.absBound, orig, r.bytes.length, {
    compressSeconds: Math.max(r.compressSeconds, 1e-9),
    decompressSeconds: Math.max(ds, 1e-9),
  });
  if (st.pointsOverBound > 0 || !st.nonFiniteExact) {
    throw new FieldpackError('BOUND_VIOLATED', `crossfield: ${st.pointsOverBound > 0 ? `${st.pointsOverBound} points exceed the bound ${r.absBound}` : 'NaN/Inf points were not reproduced exactly'}`);
  }
  // PSNR / NRMSE are targets: say so when the stream kept (the core codec's, on a fall back) does not reach one
  if ((p.bound.mode === 'psnr' && st.psnr < p.bound.value) || (p.bound.mode === 'nrmse' && st.nrmse > p.bound.value)) {
    ctx.log(`warning: ${p.bound.mode} target ${p.bound.value} missed: reached PSNR ${st.psnr.toFixed(2)} dB, NRMSE ${st.nrmse.toExponential(3)}`);
  }
  // the compress runs' metrics under their names (so the run stands in Compare beside them), then the cross-field ones
  const metrics: Record<string, number> = {
    ...runMetrics(st, { orig: target.values, recon: d.field.values, mask: target.mask ?? null, originalBytes: orig, compressedBytes: r.bytes.length }),
    core_ratio: coreRatio,
    model_share: r.modelShare,
    model_bytes: r.modelBytes,
    train_seconds: r.trainSeconds,
  };
  // from here the results are stored: a cancel is too late (as in compression/runs.ts)
  if (ctx.signal.aborted) throw new FieldpackError('CANCELLED', 'cancelled before saving the results');
  ctx.saving?.();
  for (const [k, v] of Object.entries(metrics)) ctx.metric?.(k, v, 0);
  if (r.fallback) ctx.log(`fall back: ${r.fallback}`);
  let artifactPath = '';
  if (store && runId !== undefined) {
    store.setTag(runId, 'codec', 'crossfield');
    store.setTag(runId, 'variable', p.target);
    store.setTag(runId, 'file', basename(file));
    store.setTag(runId, 'bound', `${p.bound.mode}:${p.bound.value}`);
    store.setTag(runId, 'anchors', anchorNames.join(','));
    store.setTag(runId, 'network', r.fallback ? 'core codec (fallback)' : r.network);
    const dir = runDir(store, runId);
    makeFolder(dir);
    const name = `${p.target.replace(/[^A-Za-z0-9_.-]/g, '_')}.crossfield.fpk`;
    const path = join(dir, name);
    await writeFileAtomic(path, r.bytes);
    store.addArtifact(runId, { name, path, kind: 'fpk', sizeBytes: r.bytes.length, sha256: createHash('sha256').update(r.bytes).digest('hex') });
    artifactPath = path;
    // the anchors' own streams beside the target's: `fieldpack decompress` of the target finds them there
    for (const a of r.anchors) {
      if (!a.bytes.length) continue;
      // named as compress names them (TARGET.crossfield.anchor-VAR.fpk), so a decoder's hints name the right file
      const anchorPath = anchorStreamPath(path, a.var);
      await writeFileAtomic(anchorPath, a.bytes);
      store.addArtifact(runId, { name: basename(anchorPath), path: anchorPath, kind: 'fpk-anchor', sizeBytes: a.bytes.length, sha256: createHash('sha256').update(a.bytes).digest('hex') });
    }
  }
  ctx.progress(1, `crossfield: ratio ${r.compressionRatio.toFixed(2)} (core codec ${coreRatio.toFixed(2)})${r.fallback ? ', core codec kept' : ''}`);
  const predictor = r.fallback ? `core codec (fall back: ${r.fallback})` : `from ${anchorNames.join(', ')} (${r.network === 'none' ? 'interpolation and anchors' : `${r.network} network`})`;
  if (store && runId !== undefined) store.setTag(runId, 'predictor', predictor);
  return {
    codec: r.codec, file, variable: p.target, shape: target.shape, dims: target.dims, units: target.units ?? null,
    dtype: target.values instanceof Float64Array ? 'float64' : 'float32', bound: p.bound, absBound: r.absBound, boundLabel: r.boundLabel,
    lossless: r.absBound === 0, predictor, values: n, validValues: target.mask ? target.mask.reduce((a, b) => a + b, 0) : n,
    originalBytes: orig, compressedBytes: r.bytes.length, compressSeconds: r.compressSeconds, decompressSeconds: ds, workers: 1,
    fillsHandling: 'native mask', errorHistogram: st.histogram,
    metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : (String(v) as unknown as number)])),
    artifact: { kind: 'fpk', path: artifactPath, sizeBytes: r.bytes.length }, source,
    anchors: anchorNames, anchorSelection: selection, fallback: r.fallback, network: r.network, fusion: r.mode,
  };
}
