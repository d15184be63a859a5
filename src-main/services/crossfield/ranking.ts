/**
 * Anchor ranking (the paper's first open question): which fields of the same grid help predict the target?
 * Score = mean over axes of |r| between the target's and the candidate's backward differences (core/stats
 * correlationMatrix: the signal the CFNN reads), with the value correlation shown beside it. Optionally a quick gain:
 * the size of the target's residual codes when its grid differences are predicted by a per-axis least-squares scale
 * of the candidate's differences (a one-parameter "network"), against Lorenzo alone — cheap, no training.
 * Each candidate comes with the reason in words; auto mode takes the top ones above a threshold.
 */
import { correlationMatrix } from '../../core/stats/correlation.ts';
import type { Field } from '../../core/field.ts';
import { FieldpackError } from '../../core/errors.ts';
import { resolveBound, validRange, type BoundSpec } from '../../core/codec/bound.ts';
import { encodeCrossfield, layoutOf } from '../../core/compressors/crossfield/codec.ts';
import { parseNnSpec } from '../../core/nn/spec.ts';
import { identityBackend } from '../../core/codec/lossless.ts';
import { backwardDifference } from '../../core/nn/features.ts';
import { quantizeToGrid } from '../../core/nn/quantize.ts';

export interface AnchorCandidate {
  var: string;
  /** mean |r| of backward differences over the axes (null: not comparable) */
  diffCorrelation: number | null;
  perAxis: { dim: string; r: number | null }[];
  valueCorrelation: number | null;
  /** quick gain: estimated size with this anchor / size with Lorenzo only (< 1 helps), when asked */
  quickGain?: number;
  score: number;
  suggested: boolean;
  reason: string;
}

export interface RankOptions {
  /** also estimate the quick gain (a one-parameter linear predictor through the codec, no training) */
  quickGain?: boolean;
  bound?: BoundSpec;
  /** network dims for the gain estimate (default 2) */
  ndim?: 2 | 3;
  /** auto mode: at most this many anchors (default 2) */
  maxAnchors?: number;
  /** auto mode: minimum score (default 0.3) */
  minScore?: number;
}

const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));

/** Ranks the candidates (same grid as the target; others are listed as not comparable). */
export function rankAnchors(target: Field, candidates: Field[], opts: RankOptions = {}): AnchorCandidate[] {
  const cands = candidates.filter((c) => c.name !== target.name);
  if (!cands.length) return [];
  const fields = [target, ...cands].map((f) => ({ name: f.name, shape: f.shape, dims: f.dims, values: f.values, ...(f.mask ? { mask: f.mask } : {}) }));
  const cm = correlationMatrix(fields, { grid: { dims: target.dims, shape: target.shape } });
  const ndim = opts.ndim ?? 2;
  const spatialAxes = new Set(Array.from({ length: ndim }, (_, k) => target.shape.length - ndim + k));
  let lorenzoSize = 0;
  if (opts.quickGain) lorenzoSize = quickSize(target, null, opts.bound ?? { mode: 'rel', value: 1e-3 }, ndim);
  const out: AnchorCandidate[] = cands.map((c, j) => {
    const idx = j + 1;
    const info = cm.fields[idx]!;
    const perAxis = cm.differences.map((d) => ({ dim: d.dim, axis: d.axis, r: d.r[0]![idx] ?? null }));
    const used = perAxis.filter((p) => spatialAxes.has(p.axis) && p.r !== null);
    const diffCorrelation = info.matchedBy === 'not-comparable' || !used.length ? null : used.reduce((a, p) => a + Math.abs(p.r!), 0) / used.length;
    const valueCorrelation = cm.values.r[0]![idx] ?? null;
    const sameGrid = c.shape.length === target.shape.length && c.shape.every((x, i) => x === target.shape[i]);
    let quickGain: number | undefined;
    if (opts.quickGain && sameGrid && diffCorrelation !== null) quickGain = quickSize(target, c, opts.bound ?? { mode: 'rel', value: 1e-3 }, ndim) / lorenzoSize;
    const score = !sameGrid || diffCorrelation === null ? 0 : quickGain !== undefined ? Math.max(0, Math.min(1, 1 - quickGain) * 4) * 0.5 + diffCorrelation * 0.5 : diffCorrelation;
    let reason: string;
    if (!sameGrid) reason = info.matchedBy === 'destagger-average' ? `on a staggered grid (${info.destaggeredDim}); the codec needs the target's grid` : `not on the target's grid (${info.note})`;
    else {
      reason = `|r| of differences ${fmt(diffCorrelation)} (${perAxis.filter((p) => spatialAxes.has(p.axis)).map((p) => `${p.dim} ${fmt(p.r)}`).join(', ')}), values r ${fmt(valueCorrelation)}`;
      if (quickGain !== undefined) reason += `; a linear stand-in predictor codes the target in ${(quickGain * 100).toFixed(0)} % of Lorenzo's bytes`;
    }
    return { var: c.name, diffCorrelation, perAxis: perAxis.map(({ dim, r }) => ({ dim, r })), valueCorrelation, ...(quickGain !== undefined ? { quickGain } : {}), score, suggested: false, reason };
  });
  out.sort((a, b) => b.score - a.score);
  const max = opts.maxAnchors ?? 2;
  const min = opts.minScore ?? 0.3;
  let taken = 0;
  for (const c of out) {
    if (taken < max && c.score >= min && (c.quickGain === undefined || c.quickGain < 1)) {
      c.suggested = true;
      taken++;
      c.reason = `suggested: ${c.reason}`;
    }
  }
  return out;
}

/** Automatic mode: the suggested anchors (throws when none is useful). */
export function autoAnchors(target: Field, candidates: Field[], opts: RankOptions = {}): { anchors: string[]; ranking: AnchorCandidate[] } {
  const ranking = rankAnchors(target, candidates, opts);
  const anchors = ranking.filter((c) => c.suggested).map((c) => c.var);
  if (!anchors.length) throw new FieldpackError('NOT_FOUND', `no useful anchor for ${target.name} among ${candidates.map((c) => c.name).join(', ') || 'no candidates'}`, { ranking });
  return { anchors, ranking };
}

/**
 * Size of the target's codes (no lossless backend) with the hybrid predictor fed by a per-axis least-squares scale of the
 * anchor's differences (or none: Lorenzo only). A cheap stand-in for "how much would a network gain".
 */
function quickSize(target: Field, anchor: Field | null, bound: BoundSpec, ndim: 2 | 3): number {
  const { samples, spatial, plane } = layoutOf(target.shape, ndim);
  const vr = validRange(target.values, target.mask ?? null);
  const abs = resolveBound(bound, vr.max - vr.min).abs;
  const spec = parseNnSpec({
    format: 'fieldpack-nn', version: 1, ndim, dtype: 'float32', layout: '', inChannels: ndim, outChannels: ndim, weightCount: ndim * ndim + ndim,
    layers: [{ op: 'conv', inChannels: ndim, outChannels: ndim, kernel: new Array(ndim).fill(1), weight: 0, bias: ndim * ndim }],
  });
  const dq = Array.from({ length: ndim }, () => new Int32Array(samples * plane));
  const weights = new Float32Array(ndim * ndim + ndim);
  if (anchor) {
    for (let k = 0; k < ndim; k++) {
      let sxy = 0, sxx = 0;
      const diffs: Float32Array[] = [];
      for (let s = 0; s < samples; s++) {
        const a = s * plane;
        const sl = (f: Field) => ({ v: f.values.subarray(a, a + plane), m: f.mask?.subarray(a, a + plane) });
        const ta = sl(target), aa = sl(anchor);
        const dt = backwardDifference(ta.v, spatial, k, ta.m);
        const da = backwardDifference(aa.v, spatial, k, aa.m);
        for (let i = 0; i < plane; i++) if (dt.valid[i] && da.valid[i]) { sxy += dt.diff[i]! * da.diff[i]!; sxx += da.diff[i]! * da.diff[i]!; }
        diffs.push(da.diff);
      }
      const scale = sxx > 0 ? sxy / sxx : 0;
      weights[k * ndim + k] = scale;
      for (let s = 0; s < samples; s++) {
        const d = diffs[s]!;
        const p = new Float32Array(plane);
        for (let i = 0; i < plane; i++) p[i] = Math.fround(d[i]! * scale);
        dq[k]!.set(quantizeToGrid(p, abs), s * plane);
      }
    }
  }
  const enc = encodeCrossfield(
    {
      field: target, bound, net: { spec, weights, anchors: ['a'], inputFill: [] }, netHash: '', anchors: [], dq,
      mode: anchor ? 'weighted' : 'lorenzo',
    },
    identityBackend,
  );
  return enc.bytes.length;
}
