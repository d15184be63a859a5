/**
 * The fuzz harness's seed streams: small valid streams of every registered codec, built through the codec service
 * (encodeField) so they are exactly what users write. Classic: every preset (several predictors), Huffman / range /
 * multi-symbol / rANS coders, several chunks, masks with a fill value, NaN and +-Inf values, float64, 1D to 4D,
 * lossless, a constant field. Cross-field: anchors only (mode interp), and with an embedded linear CFNN
 * (fitLinearCfnn, no Python) in modes weighted, blend and interp, masked. A codec registered later (a test's toy codec) gets its presets
 * on a plain field when it needs no dependencies.
 *
 * Deterministic: the same fields, hence the same streams, on every run (the mutations take the seed).
 */
import type { Field } from '../../core/field.ts';
import type { BoundSpec } from '../../core/codec/bound.ts';
import { fitLinearCfnn } from '../../core/compressors/crossfield/linear.ts';
import { type Reconstruction, type ResolvedDependencies, codecById, listCodecs } from '../../core/compressors/index.ts';
import { encodeField, metadataOf } from './index.ts';
import { resolveModelRef } from './models.ts';

export interface SeedStream {
  name: string;
  codec: string;
  bytes: Uint8Array;
  /** anchors the decoder is given (resolved dependencies) */
  anchors: Field[];
  /** models the decoder is given, by sha256 (learned codecs) */
  models: Record<string, Uint8Array>;
}

/** The resolved dependencies a seed's decoder is given (hashes are not checked on this path). */
export function seedDependencies(s: SeedStream): ResolvedDependencies {
  return {
    anchors: Object.fromEntries(s.anchors.map((a): [string, Reconstruction] => [a.name, { values: a.values, ...(a.mask ? { mask: a.mask } : {}), shape: a.shape, hash: '' }])),
    models: s.models,
    bases: {},
  };
}

/** A small deterministic generator (mulberry32). */
export function rng32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FieldOpts {
  f64?: boolean;
  /** share of masked points (0: no mask) */
  masked?: number;
  /** share of NaN / +-Inf valid points */
  nonFinite?: number;
  noise?: number;
  constant?: number;
  /** values rounded to multiples of this step (a rounded product: the classic codec codes its grid) */
  step?: number;
  /**
   * with step: each slice along the last two dims rounded on a grid of its own offset (a GRIB message's reference
   * value: the classic codec's grid of slices)
   */
  sliceOffsets?: boolean;
  /** values over four decades, smooth in their logarithm (a mixing ratio's); noise is relative then */
  decades?: boolean;
  /** float32 values bit-rounded to this many mantissa bits, as netCDF's BitRound (the classic codec's mantissa grid) */
  bitRound?: number;
  seed?: number;
  /** a second field correlated with this one (an anchor) */
  like?: Field;
}

export function makeField(name: string, shape: number[], o: FieldOpts = {}): Field {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = rng32(o.seed ?? 7);
  const values = o.f64 ? new Float64Array(n) : new Float32Array(n);
  const w = shape[shape.length - 1]!;
  const h = shape.length > 1 ? shape[shape.length - 2]! : 1;
  for (let i = 0; i < n; i++) {
    const x = i % w;
    const y = Math.floor(i / w) % h;
    const z = Math.floor(i / (w * h));
    let v = o.constant ?? 280 + 8 * Math.sin(x / 5 + z) * Math.cos(y / 7) + 0.3 * z + (o.noise ?? 0.05) * (r() - 0.5);
    if (o.like) v = 0.6 * o.like.values[i]! + 2 * Math.sin(x / 9) + 0.02 * (r() - 0.5);
    if (o.decades) v = 10 ** (-3 + 2 * Math.sin(x / 23 + z / 3) * Math.cos(y / 17)) * (1 + (o.noise ?? 0.05) * (r() - 0.5));
    // a slice's own offset: its index's share of the step, and no round number (the slices' offsets differ)
    const offset = o.step && o.sliceOffsets ? 0.6180339887 * o.step * ((z * 7) % 11) + 0.01 * z : 0;
    values[i] = o.step ? offset + Math.round((v - offset) / o.step) * o.step : v;
  }
  if (o.bitRound !== undefined && values instanceof Float32Array) bitRound(values, o.bitRound);
  let mask: Uint8Array | undefined;
  if (o.masked) {
    mask = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      const x = i % w;
      const y = Math.floor(i / w) % h;
      if ((x - w / 3) ** 2 + (y - h / 2) ** 2 < o.masked * w * h * 0.3 || r() < o.masked * 0.1) {
        mask[i] = 0;
        values[i] = -1e34;
      }
    }
    // a few masked points whose value is not the fill (fill exceptions)
    for (let i = 0; i < n; i += 97) if (!mask[i]) values[i] = 1e20;
  }
  if (o.nonFinite) {
    for (let i = 0; i < n; i++) {
      if (mask && !mask[i]) continue;
      const u = r();
      if (u < o.nonFinite / 3) values[i] = NaN;
      else if (u < (2 * o.nonFinite) / 3) values[i] = Infinity;
      else if (u < o.nonFinite) values[i] = -Infinity;
    }
  }
  const dims = shape.map((_, i) => ['time', 'lev', 'lat', 'lon'].slice(4 - shape.length)[i] ?? `d${i}`);
  return { name, shape, dims, values, ...(mask ? { mask } : {}), sourceDtype: o.f64 ? 'float64' : 'float32', units: 'K', attributes: { long_name: `fuzz ${name}` } };
}

/** netCDF-C's BitRound: half of the dropped bits added to the magnitude, then the dropped bits cleared. */
export function bitRound(values: Float32Array, mantissaBits: number): void {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const dropped = 23 - mantissaBits;
  const keep = (0xffffffff << dropped) >>> 0;
  for (let i = 0; i < u.length; i++) if ((u[i]! & 0x7f800000) !== 0x7f800000) u[i] = ((u[i]! + (1 << (dropped - 1))) & keep) >>> 0;
}

/**
 * netCDF-C's BitGroom: the dropped bits of even-indexed values cleared, of odd-indexed nonzero values set (so the
 * mean stays unbiased); netCDF4-python's quantize mode when only significant_digits is given.
 */
export function bitGroom(values: Float32Array, mantissaBits: number): void {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const dropped = (1 << (23 - mantissaBits)) - 1;
  for (let i = 0; i < u.length; i++) {
    if ((u[i]! & 0x7f800000) === 0x7f800000) continue;
    u[i] = (i % 2 === 0 ? u[i]! & ~dropped : values[i] !== 0 ? u[i]! | dropped : u[i]!) >>> 0;
  }
}

interface Plan {
  name: string;
  field: Field;
  codec: string;
  params?: Record<string, unknown>;
  bound: BoundSpec;
  anchors?: Field[];
}

const rel = (v: number): BoundSpec => ({ mode: 'rel', value: v });

function classicPlans(): Plan[] {
  const f2 = makeField('T', [24, 40]);
  // coordinates travel in the header metadata: one regular (a progression), one listed
  f2.coordinates = {
    lat: { values: Float64Array.from({ length: 24 }, (_, i) => -60 + 5 * i), dtype: 'float64', attributes: { units: 'degrees_north' } },
    lon: { values: Float32Array.from({ length: 40 }, (_, i) => Math.fround(i * i * 0.25)), dtype: 'float32', attributes: { units: 'degrees_east' } },
  };
  const f3 = makeField('Q', [6, 10, 12], { f64: true, seed: 3 });
  const masked = makeField('SST', [20, 30], { masked: 0.2, nonFinite: 0.02, seed: 5 });
  // a day of 4 masked steps with NaN, repeated 4 times: coded as its distinct rows (classic REPEATED_ROWS_ID)
  const day = makeField('D', [4, 10, 12], { masked: 0.1, nonFinite: 0.02, seed: 53 });
  const days = { ...day, shape: [16, 10, 12], values: new Float32Array(1920), mask: new Uint8Array(1920) };
  for (let k = 0; k < 4; k++) {
    days.values.set(day.values, k * 480);
    days.mask.set(day.mask ?? new Uint8Array(480).fill(1), k * 480);
  }
  return [
    { name: 'classic-lorenzo-2d', field: f2, codec: 'lorenzo', bound: rel(1e-3) },
    { name: 'classic-dq-f64-3d', field: f3, codec: 'dq-lorenzo', bound: { mode: 'abs', value: 0.01 } },
    { name: 'classic-interp-cubic-tuned', field: makeField('P', [32, 48], { noise: 0 }), codec: 'auto', bound: rel(1e-2) },
    { name: 'classic-interp-linear-1d', field: makeField('U', [3000], { seed: 9 }), codec: 'interp-linear', bound: rel(1e-4) },
    { name: 'classic-masked-huffman', field: masked, codec: 'lorenzo', params: { entropy: 'huffman' }, bound: rel(1e-3) },
    { name: 'classic-masked-nonfinite-auto', field: masked, codec: 'auto', bound: rel(1e-4) },
    // rows of 40 points: the mask coded with model 3 (16-point segments equal to the row one slice back skipped)
    { name: 'classic-mask-segments', field: makeField('S', [3, 24, 40], { masked: 0.25, nonFinite: 0.02, seed: 71 }), codec: 'auto', bound: rel(1e-3) },
    { name: 'classic-lossless-masked-nonfinite', field: masked, codec: 'lorenzo', bound: { mode: 'abs', value: 0 } },
    { name: 'classic-lossless-f64', field: f3, codec: 'auto', bound: { mode: 'abs', value: 0 } },
    { name: 'classic-4d-auto', field: makeField('V', [3, 4, 5, 6], { seed: 11 }), codec: 'auto', bound: rel(1e-3) },
    { name: 'classic-chunks-range', field: makeField('W', [16, 256], { seed: 13 }), codec: 'interp-cubic', params: { chunkValues: 1024 }, bound: rel(1e-3) },
    { name: 'classic-chunks-ms', field: makeField('W', [16, 256], { seed: 13 }), codec: 'lorenzo', params: { chunkValues: 1024, entropy: 'ms' }, bound: rel(1e-5) },
    // static-table rANS (coder 3): its tables, low bits and states mutated with the rest
    { name: 'classic-chunks-rans', field: makeField('W', [16, 256], { seed: 13 }), codec: 'lorenzo', params: { chunkValues: 1024, entropy: 'rans' }, bound: rel(1e-4) },
    // static-table rANS with the line context (coder 5): a chunk of more than 2^18 codes with lines, not mostly zeros
    { name: 'classic-rans-lines', field: makeField('W', [5, 256, 256], { noise: 0.5, seed: 29 }), codec: 'interp-cubic', bound: rel(1e-3) },
    { name: 'classic-huffman-small-bound', field: f2, codec: 'interp-linear', params: { entropy: 'huffman' }, bound: rel(1e-6) },
    { name: 'classic-constant', field: makeField('C', [10, 20], { constant: 3.5 }), codec: 'lorenzo', params: { entropy: 'huffman' }, bound: rel(1e-3) },
    { name: 'classic-constant-masked-nonfinite', field: makeField('Z', [3, 12, 20], { constant: 0, masked: 0.2, nonFinite: 0.02, seed: 41 }), codec: 'auto', bound: { mode: 'abs', value: 0 } },
    { name: 'classic-psnr', field: f2, codec: 'auto', bound: { mode: 'psnr', value: 60 } },
    { name: 'classic-repeated-rows', field: days, codec: 'auto', bound: rel(1e-3) },
    { name: 'classic-grid-masked-nonfinite', field: makeField('T', [20, 30], { step: 0.01, noise: 2, masked: 0.2, nonFinite: 0.02, seed: 17 }), codec: 'auto', bound: { mode: 'abs', value: 0.004 } },
    { name: 'classic-grid-slices-masked-nonfinite', field: makeField('T', [5, 20, 30], { step: 0.25, sliceOffsets: true, noise: 2, masked: 0.2, nonFinite: 0.02, seed: 67 }), codec: 'auto', bound: { mode: 'abs', value: 0.01 } },
    { name: 'classic-grid-lossless-3d', field: makeField('T', [4, 12, 16], { step: 0.1, noise: 3, seed: 19 }), codec: 'interp-cubic', bound: { mode: 'abs', value: 0 } },
    { name: 'classic-mantissa-masked-nonfinite', field: makeField('Q', [4, 20, 30], { decades: true, bitRound: 7, noise: 0.01, masked: 0.2, nonFinite: 0.02, seed: 43 }), codec: 'auto', bound: { mode: 'rel', value: 1e-5 } },
    // land as -1e34 (and a few 1e20) with no mask declared, then as NaN: coded as implicit fills (header flag 8)
    { name: 'classic-implicit-fill', field: undeclared(makeField('S', [4, 20, 30], { masked: 0.3, nonFinite: 0.02, seed: 59 })), codec: 'auto', bound: rel(1e-4), params: { chunkValues: 1024 } },
    { name: 'classic-implicit-nan', field: undeclared(makeField('S', [4, 20, 30], { masked: 0.3, seed: 61 }), NaN), codec: 'auto', bound: rel(1e-3) },
  ];
}

/** The field with its masked points' values as data (as `land`, where given), no mask declared. */
function undeclared(f: Field, land?: number): Field {
  const { mask, ...rest } = f;
  const values = f.values.slice();
  if (land !== undefined && mask) for (let i = 0; i < values.length; i++) if (!mask[i]) values[i] = land;
  return { ...rest, values };
}

function crossfieldPlans(): Plan[] {
  const a2 = makeField('A', [32, 40], { seed: 21 });
  const t2 = makeField('T', [32, 40], { like: a2, seed: 22 });
  const a3 = makeField('A', [4, 16, 20], { seed: 23 });
  const b3 = makeField('B', [4, 16, 20], { seed: 24, noise: 1 });
  const t3 = makeField('T', [4, 16, 20], { like: a3, seed: 25 });
  const am = makeField('A', [3, 12, 16], { seed: 26, masked: 0.2 });
  const tm = makeField('T', [3, 12, 16], { like: am, seed: 27 });
  if (am.mask) tm.mask = am.mask.slice();
  const net2 = fitLinearCfnn(t3, [a3], 2);
  const net2ab = fitLinearCfnn(t3, [a3, b3], 2);
  const netm = fitLinearCfnn(tm, [am], 2);
  const cf = (anchors: Field[], network: unknown, mode: string, extra: Record<string, unknown> = {}) => ({ anchors: anchors.map((a) => a.name), network, mode, ...extra });
  return [
    { name: 'crossfield-interp-anchors-only', field: t2, codec: 'crossfield', params: cf([a2], null, 'interp'), bound: rel(1e-3), anchors: [a2] },
    { name: 'crossfield-weighted-net', field: t3, codec: 'crossfield', params: cf([a3], net2, 'weighted'), bound: rel(1e-3), anchors: [a3] },
    { name: 'crossfield-blend-net-2anchors', field: t3, codec: 'crossfield', params: cf([a3, b3], net2ab, 'blend'), bound: rel(1e-3), anchors: [a3, b3] },
    { name: 'crossfield-interp-net', field: t3, codec: 'crossfield', params: cf([a3], net2, 'interp', { chunkValues: 1024 }), bound: rel(1e-3), anchors: [a3] },
    { name: 'crossfield-lorenzo-net', field: t3, codec: 'crossfield', params: cf([a3], net2, 'lorenzo'), bound: rel(1e-3), anchors: [a3] },
    { name: 'crossfield-masked-weighted', field: tm, codec: 'crossfield', params: cf([am], netm, 'weighted'), bound: rel(1e-3), anchors: [am] },
  ];
}

/** VQ-VAE streams with the shipped model: one embedding it, one naming it by hash (resolved from resources/models). */
function vqvaePlans(): Plan[] {
  const smooth = makeField('H', [40, 56], { seed: 41, noise: 0 });
  const masked3 = makeField('M', [2, 24, 40], { seed: 43, masked: 0.15, nonFinite: 0.01 });
  return [
    { name: 'vqvae-embedded-2d', field: smooth, codec: 'vqvae', params: { fallback: false, embedModel: true }, bound: rel(1e-3) },
    { name: 'vqvae-masked-3d', field: masked3, codec: 'vqvae', params: { fallback: false, chunkValues: 1024 }, bound: rel(1e-3) },
  ];
}

/** Residual coders: LBRC in NRMSE mode (per-block steps) and abs mode, GAE (PCA basis), NGLR, on masked fields with NaN and +-Inf. */
function residualPlans(): Plan[] {
  const f = makeField('R', [3, 30, 44], { seed: 47, masked: 0.1, nonFinite: 0.01 });
  const noisy = makeField('R', [3, 30, 44], { seed: 3, noise: 10, masked: 0.1, nonFinite: 0.01 });
  return [
    { name: 'lbrc-nrmse-blocks', field: f, codec: 'lbrc', params: { block: [2, 16, 16], chunkValues: 2000 }, bound: { mode: 'nrmse', value: 1e-5 } },
    { name: 'lbrc-abs-1d', field: makeField('S', [2000], { seed: 49 }), codec: 'lbrc', bound: { mode: 'abs', value: 1e-3 } },
    { name: 'gae-nrmse', field: makeField('Q', [2, 20, 27], { seed: 51, masked: 0.1, nonFinite: 0.01, noise: 0.5 }), codec: 'gae', bound: { mode: 'nrmse', value: 1e-4 } },
    // NGLR: the shipped model embedded in chunk 0 (its bytes fuzzed with the rest; a noisy field under Lorenzo, where
    // the bias pays: a model no chunk uses is left out), and named by hash in abs mode
    { name: 'nglr-nrmse-embedded', field: noisy, codec: 'nglr', params: { embedModel: true, chunkValues: 2000, fallback: false, predictor: 'lorenzo' }, bound: { mode: 'nrmse', value: 1e-5 } },
    { name: 'nglr-abs', field: noisy, codec: 'nglr', params: { fallback: false, predictor: 'lorenzo' }, bound: { mode: 'abs', value: 1e-3 } },
  ];
}

/** Presets of codecs registered without a builder here (needing no dependencies), on a plain field. */
function genericPlans(known: Set<string>): Plan[] {
  const f = makeField('G', [12, 20], { seed: 31, masked: 0.1 });
  const out: Plan[] = [];
  for (const c of listCodecs()) {
    if (known.has(c.id) || c.needsDependencies) continue;
    const presets = c.presets.length ? c.presets.map((p) => p.name) : [c.id];
    for (const p of presets) out.push({ name: `${c.id}-${p}`, field: f, codec: p, bound: rel(1e-3) });
  }
  return out;
}

/** Every seed stream (a few seconds on one core: the cross-field encoders fit their weights). */
export async function buildSeedStreams(): Promise<SeedStream[]> {
  const plans = [...classicPlans(), ...crossfieldPlans(), ...vqvaePlans(), ...residualPlans()];
  plans.push(...genericPlans(new Set(['classic', 'crossfield', 'vqvae', 'lbrc', 'gae', 'nglr'])));
  const out: SeedStream[] = [];
  for (const p of plans) {
    const r = await encodeField(p.field, { codec: p.codec, params: p.params, bound: p.bound, anchors: p.anchors, workers: 0, verify: true, metadata: metadataOf(p.field) });
    const mp = codecById(r.codec).modelParam;
    const models = mp ? { [String(r.params[mp.key])]: resolveModelRef(mp, String(r.params[mp.key])).bytes } : {};
    out.push({ name: p.name, codec: r.codec, bytes: r.bytes, anchors: p.anchors ?? [], models });
  }
  return out;
}
