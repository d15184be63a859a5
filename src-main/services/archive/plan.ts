/**
 * Plan before spending: each variable is sampled (blocks of whole rows spread along its first dimension, a few hundred
 * thousand values in all), compressed at its bound, and the size and time scaled to all its members. With a size budget, each variable's
 * bound is chosen on a ladder between the limits the user gives (tightest first), loosening first where it saves the
 * most bytes, until the estimate fits.
 */
import { FieldpackError } from '../../core/errors.ts';
import { type Field, fieldSize } from '../../core/field.ts';
import { type BoundSpec, parseBound } from '../../core/codec/bound.ts';
import { resolveCodecChoice } from '../../core/compressors/index.ts';
import { encodeField } from '../codecs/index.ts';
import { prepareBase } from '../compression/base.ts';
import { readVariable } from '../compression/runs.ts';
import { type WorkOptions, planWork } from './work.ts';
import type { WorkManifest, WorkMember } from './format.ts';

const SAMPLE_VALUES = 1 << 18;
const LADDER_STEPS = 5;

export interface MemberEstimate {
  id: string;
  source: string;
  variable: string;
  rows: [number, number] | null;
  bound: string;
  codec: string;
  crossfield: boolean;
  originalBytes: number;
  estBytes: number;
  estSeconds: number;
}

export interface PlanResult {
  work: WorkManifest;
  members: MemberEstimate[];
  totals: { members: number; originalBytes: number; estBytes: number; estSeconds: number; ratio: number };
  /** with a budget: the bound chosen per variable (as --bound-for), and whether the estimate fits */
  budget: { bytes: number; met: boolean; boundFor: Record<string, string> } | null;
  sampledValues: number;
}

/** Blocks of rows the sample is taken from, spread over the variable (its first rows alone can be all land or ice). */
const SAMPLE_BLOCKS = 8;

/**
 * A sample of a variable: up to SAMPLE_BLOCKS blocks of whole rows at evenly spaced places along its first dimension,
 * about SAMPLE_VALUES values in all, joined into one field (a 1-D variable is read whole).
 */
async function sampleOf(work: WorkManifest, m: WorkMember, signal?: AbortSignal): Promise<Field> {
  const src = work.sources.find((s) => s.id === m.source)!;
  const v = src.variables.find((x) => x.name === m.variable)!;
  if (v.shape.length < 2) return readVariable(src.path, m.variable, { signal });
  const total = v.shape[0]!;
  const row = fieldSize(v.shape) / total;
  const rows = Math.max(1, Math.min(total, Math.floor(SAMPLE_VALUES / row)));
  if (rows >= total) return readVariable(src.path, m.variable, { signal });
  const blocks = Math.min(SAMPLE_BLOCKS, rows);
  const per = Math.floor(rows / blocks);
  const parts: Field[] = [];
  for (let b = 0; b < blocks; b++) {
    const start = Math.floor(((total - per) * b) / Math.max(1, blocks - 1));
    parts.push(await readVariable(src.path, m.variable, { slice: [[start, start + per]], signal }));
  }
  const n = parts.reduce((a, f) => a + f.values.length, 0);
  const values = parts[0]!.values instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
  const mask = parts.some((f) => f.mask) ? new Uint8Array(n) : undefined;
  let off = 0;
  for (const f of parts) {
    values.set(f.values, off);
    if (mask) mask.set(f.mask ?? new Uint8Array(f.values.length).fill(1), off);
    off += f.values.length;
  }
  return { ...parts[0]!, shape: [per * blocks, ...v.shape.slice(1)], values, ...(mask ? { mask } : {}) };
}

function boundLabel(b: BoundSpec): string {
  return `${b.mode}:${Number(b.value.toPrecision(4))}`;
}

/** Size and seconds of a sample at a bound (a residual coder's with its base, both counted), scaled to `values`. */
async function measure(sample: Field, codec: string, bound: BoundSpec, values: number, signal?: AbortSignal, params: Record<string, unknown> = {}, base = 'none'): Promise<{ bytes: number; seconds: number }> {
  const t0 = performance.now();
  const prepared = resolveCodecChoice(codec).codec.takesBase ? await prepareBase(sample, base, { codec, bound, params, signal }) : null;
  const r = await encodeField(sample, { codec, params, bound, verify: false, signal, ...(prepared?.field ? { base: prepared.field } : {}) });
  const scale = values / sample.values.length;
  return { bytes: (r.bytes.length + (prepared?.bytes ?? 0)) * scale, seconds: ((performance.now() - t0) / 1000) * scale };
}

/** The absolute bound of member m at bound b of its variable (rel and abs share the variable's range). */
function absFor(m: WorkMember, b: BoundSpec): BoundSpec {
  if (m.bound.abs === null) return b;
  if (b.mode === 'abs') return b;
  const range = m.bound.mode === 'rel' && m.bound.value > 0 ? m.bound.abs / m.bound.value : 0;
  return { mode: 'abs', value: b.value * range };
}

export interface PlanOptions extends WorkOptions {
  /** bytes the archive may take */
  budget?: number;
  /** the bounds the budget may choose between, e.g. ['rel:1e-5', 'rel:1e-2'] (tightest, loosest) */
  boundLimits?: [string, string];
}

export async function planArchive(o: PlanOptions): Promise<PlanResult> {
  let work = await planWork(o);
  let budget: PlanResult['budget'] = null;
  if (o.budget !== undefined) {
    const boundFor = await chooseBounds(work, o.budget, o.boundLimits ?? [work.options.bound, 'rel:1e-2'], o.signal);
    work = await planWork({ ...o, boundFor: { ...o.boundFor, ...boundFor.boundFor } });
    budget = { bytes: o.budget, met: boundFor.met, boundFor: boundFor.boundFor };
  }
  const members: MemberEstimate[] = [];
  let sampledValues = 0;
  const byVar = new Map<string, WorkMember[]>();
  for (const m of work.members) byVar.set(`${m.source}\0${m.variable}`, [...(byVar.get(`${m.source}\0${m.variable}`) ?? []), m]);
  let i = 0;
  for (const ms of byVar.values()) {
    o.onProgress?.(i++ / byVar.size, `sampling ${ms[0]!.variable}`);
    const first = ms[0]!;
    const sample = await sampleOf(work, first, o.signal);
    sampledValues += sample.values.length;
    const codec = first.anchors.length ? 'auto' : first.codec;
    for (const m of ms) {
      const est = await measureCached(sample, codec, absFor(m, { mode: m.bound.mode, value: m.bound.value }), fieldSize(m.shape), o.signal, codec === work.options.codec ? work.options.params : {}, work.options.base);
      members.push({
        id: m.id, source: m.source, variable: m.variable, rows: m.rows, bound: boundLabel({ mode: m.bound.mode, value: m.bound.value }), codec: m.codec,
        crossfield: m.anchors.length > 0, originalBytes: m.bytes, estBytes: Math.round(est.bytes), estSeconds: est.seconds,
      });
    }
  }
  const originalBytes = members.reduce((a, m) => a + m.originalBytes, 0);
  const estBytes = members.reduce((a, m) => a + m.estBytes, 0);
  return { work, members, totals: { members: members.length, originalBytes, estBytes, estSeconds: members.reduce((a, m) => a + m.estSeconds, 0), ratio: originalBytes / Math.max(1, estBytes) }, budget, sampledValues };
}

const measured = new WeakMap<Field, Map<string, { bytes: number; seconds: number; values: number }>>();

/** One measurement per sample, codec and bound (members of one variable share them). */
async function measureCached(sample: Field, codec: string, bound: BoundSpec, values: number, signal?: AbortSignal, params: Record<string, unknown> = {}, base = 'none') {
  const m = measured.get(sample) ?? new Map();
  measured.set(sample, m);
  const key = `${codec}|${bound.mode}:${bound.value}|${base}`;
  let hit = m.get(key);
  if (!hit) {
    const r = await measure(sample, codec, bound, sample.values.length, signal, params, base);
    hit = { ...r, values: sample.values.length };
    m.set(key, hit);
  }
  const scale = values / hit.values;
  return { bytes: hit.bytes * scale, seconds: hit.seconds * scale };
}

/** Per-variable bounds on a geometric ladder between the limits, loosened greedily until the estimate fits. */
async function chooseBounds(work: WorkManifest, budget: number, limits: [string, string], signal?: AbortSignal): Promise<{ met: boolean; boundFor: Record<string, string> }> {
  const [tight, loose] = limits.map(parseBound) as [BoundSpec, BoundSpec];
  if (tight.mode !== loose.mode || (tight.mode !== 'rel' && tight.mode !== 'abs')) throw new FieldpackError('INVALID_ARGUMENT', `a budget chooses between two rel or two abs bounds (got ${limits.join(' and ')})`);
  if (!(tight.value > 0 && loose.value >= tight.value)) throw new FieldpackError('INVALID_ARGUMENT', `bound limits: the tightest (${limits[0]}) must be > 0 and below the loosest (${limits[1]})`);
  const ladder = Array.from({ length: LADDER_STEPS }, (_, k) => tight.value * Math.pow(loose.value / tight.value, k / (LADDER_STEPS - 1)));
  const vars = new Map<string, WorkMember[]>();
  for (const m of work.members) vars.set(m.variable, [...(vars.get(m.variable) ?? []), m]);
  // estimated bytes of each variable (all files) at each ladder step
  const sizes = new Map<string, number[]>();
  for (const [name, ms] of vars) {
    const perStep = new Array<number>(LADDER_STEPS).fill(0);
    const bySource = new Map<string, WorkMember[]>();
    for (const m of ms) bySource.set(m.source, [...(bySource.get(m.source) ?? []), m]);
    for (const group of bySource.values()) {
      const sample = await sampleOf(work, group[0]!, signal);
      const codec = group[0]!.anchors.length ? 'auto' : group[0]!.codec;
      for (const [k, v] of ladder.entries()) {
        // a member kept exact (coordinates) stays so at every step: its bytes count, it is never loosened
        for (const m of group) {
          const bound: BoundSpec = m.bound.abs === 0 ? { mode: 'abs', value: 0 } : absFor(m, { mode: tight.mode, value: v });
          perStep[k]! += (await measureCached(sample, codec, bound, fieldSize(m.shape), signal, codec === work.options.codec ? work.options.params : {}, work.options.base)).bytes;
        }
      }
    }
    sizes.set(name, perStep);
  }
  const step = new Map([...vars.keys()].map((v) => [v, 0]));
  const total = () => [...step].reduce((a, [v, k]) => a + sizes.get(v)![k]!, 0);
  while (total() > budget) {
    let best: string | null = null;
    let gain = 0;
    for (const [v, k] of step) {
      if (k + 1 >= LADDER_STEPS) continue;
      const g = sizes.get(v)![k]! - sizes.get(v)![k + 1]!;
      if (g > gain) {
        gain = g;
        best = v;
      }
    }
    if (!best) break;
    step.set(best, step.get(best)! + 1);
  }
  const exact = new Set(work.members.filter((m) => m.bound.abs === 0).map((m) => m.variable));
  const boundFor = Object.fromEntries([...step].filter(([v]) => !exact.has(v)).map(([v, k]) => [v, boundLabel({ mode: tight.mode, value: ladder[k]! })]));
  return { met: total() <= budget, boundFor };
}

/** "2GB", "500 MB", "1.5GiB", "123456" -> bytes. */
export function parseSize(text: string): number {
  const m = /^\s*([\d.]+(?:e\d+)?)\s*([kmgt]?i?b?)?\s*$/i.exec(text);
  if (!m) throw new FieldpackError('INVALID_ARGUMENT', `bad size "${text}": a number of bytes with an optional unit (KB, MB, GB, TB, KiB, ...)`);
  const unit = (m[2] ?? '').toLowerCase().replace(/b$/, '');
  const pow = { '': 0, k: 1, m: 2, g: 3, t: 4 }[unit.replace('i', '')] ?? 0;
  const base = unit.includes('i') ? 1024 : 1000;
  const v = Number(m[1]) * Math.pow(base, pow);
  if (!(v > 0)) throw new FieldpackError('INVALID_ARGUMENT', `bad size "${text}"`);
  return Math.round(v);
}
