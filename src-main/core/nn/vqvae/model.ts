/**
 * A VQ-VAE model file (".fpvq", "fieldpack-vqvae" v1; docs/vqvae.md): magic, a JSON description, float32 weights.
 * Every tensor's name and shape is checked against the configuration before anything is computed, so a file from
 * elsewhere (or one embedded in a stream) cannot make the network read out of range or allocate beyond its sizes.
 * Pure: no Node imports.
 */
import { FieldpackError } from '../../errors.ts';

export const VQVAE_MAGIC = 'FPVQVAE1';

export interface VqvaeConfig {
  /** channels at 1/2, 1/4 and 1/8 of the resolution */
  channels: [number, number, number];
  latentDim: number;
  codesY: number;
  codesZ: number;
  negativeSlope: number;
}

export interface VqvaeModel {
  config: VqvaeConfig;
  /** tensors by name, views into one Float32Array */
  t: Record<string, Float32Array>;
  weightCount: number;
  /** the description's training block (provenance), as written */
  training: Record<string, unknown>;
}

/** Limits for a model read from someone else's bytes (the paper's size is channels 128, 256 codes, latent 128). */
export const VQVAE_LIMITS = { channels: 512, latentDim: 512, codes: 4096, jsonBytes: 1 << 20, weights: 1 << 25 } as const;

/** Tensor names and shapes the configuration implies, in file order (docs/vqvae.md). */
export function vqvaeTensorShapes(c: VqvaeConfig): [string, number[]][] {
  const [c1, c2, c3] = c.channels;
  const D = c.latentDim;
  const conv = (name: string, out: number, inp: number, k: number): [string, number[]][] => [[`${name}.weight`, [out, inp, k, k]], [`${name}.bias`, [out]]];
  const convT = (name: string, inp: number, out: number): [string, number[]][] => [[`${name}.weight`, [inp, out, 4, 4]], [`${name}.bias`, [out]]];
  return [
    ...conv('enc.down1', c1, 1, 4), ...conv('enc.res1', c1, c1, 3),
    ...conv('enc.down2', c2, c1, 4), ...conv('enc.res2', c2, c2, 3),
    ...conv('enc.down3', c3, c2, 4), ...conv('enc.res3', c3, c3, 3),
    ...conv('enc.yproj', D, c3, 1), ...conv('enc.down4', c3, c3, 4), ...conv('enc.zproj', D, c3, 1),
    ...convT('upz', D, D),
    ['codebook.z', [c.codesZ, D]], ['codebook.y', [c.codesY, D]],
    ...conv('dec.in', c3, D, 1), ...conv('dec.res3', c3, c3, 3),
    ...convT('dec.up3', c3, c2), ...conv('dec.res2', c2, c2, 3),
    ...convT('dec.up2', c2, c1), ...conv('dec.res1', c1, c1, 3),
    ...convT('dec.out', c1, 1),
  ];
}

function bad(code: 'BAD_FILE' | 'BAD_STREAM', msg: string): never {
  throw new FieldpackError(code, `VQ-VAE model: ${msg}`);
}

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

function parseConfig(raw: unknown, code: 'BAD_FILE' | 'BAD_STREAM'): VqvaeConfig {
  const c = (raw ?? {}) as Record<string, unknown>;
  const ch = c.channels;
  const L = VQVAE_LIMITS;
  if (!Array.isArray(ch) || ch.length !== 3 || !ch.every((v) => isInt(v, 1, L.channels))) bad(code, `config.channels must be 3 integers in 1..${L.channels}`);
  if (!isInt(c.latentDim, 1, L.latentDim)) bad(code, `config.latentDim must be an integer in 1..${L.latentDim}`);
  if (!isInt(c.codesY, 2, L.codes) || !isInt(c.codesZ, 2, L.codes)) bad(code, `config.codesY and codesZ must be integers in 2..${L.codes}`);
  const s = c.negativeSlope;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s >= 1) bad(code, 'config.negativeSlope must be in [0, 1)');
  return { channels: [ch[0], ch[1], ch[2]] as [number, number, number], latentDim: c.latentDim, codesY: c.codesY, codesZ: c.codesZ, negativeSlope: Math.fround(s) };
}

/** Parses and checks a model file. `code`: BAD_FILE for a file the user gave, BAD_STREAM for one inside a stream. */
export function parseVqvaeModel(bytes: Uint8Array, code: 'BAD_FILE' | 'BAD_STREAM' = 'BAD_FILE'): VqvaeModel {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== VQVAE_MAGIC) bad(code, `not a Fieldpack VQ-VAE model (no ${VQVAE_MAGIC} magic)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = dv.getUint32(8, true);
  if (len > VQVAE_LIMITS.jsonBytes || 12 + len > bytes.length) bad(code, `description of ${len} bytes in a file of ${bytes.length}`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + len))) as Record<string, unknown>;
  } catch (e) {
    bad(code, `description is not JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || json.format !== 'fieldpack-vqvae') bad(code, `format ${String(json?.format)}`);
  if (json.version !== 1) bad(code, `version ${String(json.version)} is not supported (this build reads 1)`);
  const config = parseConfig(json.config, code);
  const wc = json.weightCount;
  if (!isInt(wc, 1, VQVAE_LIMITS.weights)) bad(code, 'weightCount');
  if (bytes.length !== 12 + len + 4 * wc) bad(code, `${bytes.length - 12 - len} weight bytes, weightCount ${wc} needs ${4 * wc}`);
  const expected = vqvaeTensorShapes(config);
  const listed = new Map<string, { shape: unknown; offset: unknown }>();
  if (!Array.isArray(json.tensors)) bad(code, 'tensors list missing');
  for (const e of json.tensors as { name?: unknown; shape?: unknown; offset?: unknown }[]) {
    if (typeof e?.name === 'string') listed.set(e.name, { shape: e.shape, offset: e.offset });
  }
  let need = 0;
  for (const [, shape] of expected) need += shape.reduce((a, b) => a * b, 1);
  if (need !== wc) bad(code, `the configuration needs ${need} weights, weightCount says ${wc}`);
  // copy once to an aligned array (the file's weights may start at any byte)
  const all = new Float32Array(wc);
  const base = 12 + len;
  for (let i = 0; i < wc; i++) {
    const v = dv.getFloat32(base + 4 * i, true);
    if (!Number.isFinite(v)) bad(code, `weight ${i} is not finite`);
    all[i] = v;
  }
  const t: Record<string, Float32Array> = {};
  for (const [name, shape] of expected) {
    const e = listed.get(name);
    if (!e) bad(code, `tensor ${name} missing`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!Array.isArray(e.shape) || e.shape.length !== shape.length || e.shape.some((v, i) => v !== shape[i])) {
      bad(code, `tensor ${name} has shape ${JSON.stringify(e.shape)}, the configuration needs [${shape.join(', ')}]`);
    }
    if (!isInt(e.offset, 0, wc - n)) bad(code, `tensor ${name} offset out of range`);
    t[name] = all.subarray(e.offset, e.offset + n);
  }
  const training = json.training && typeof json.training === 'object' ? (json.training as Record<string, unknown>) : {};
  return { config, t, weightCount: wc, training };
}

/** Writes a model file (tests and tools; the trainer writes the same bytes). */
export function writeVqvaeModel(config: VqvaeConfig, tensors: Record<string, Float32Array>, training: Record<string, unknown> = {}): Uint8Array {
  const shapes = vqvaeTensorShapes(config);
  let off = 0;
  const list = shapes.map(([name, shape]) => {
    const e = { name, shape, offset: off };
    off += shape.reduce((a, b) => a * b, 1);
    return e;
  });
  const json = new TextEncoder().encode(JSON.stringify({ format: 'fieldpack-vqvae', version: 1, config, tensors: list, weightCount: off, training }));
  const out = new Uint8Array(12 + json.length + 4 * off);
  out.set(new TextEncoder().encode(VQVAE_MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  list.forEach((e) => {
    const v = tensors[e.name];
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (!v || v.length !== n) throw new FieldpackError('INVALID_ARGUMENT', `tensor ${e.name}: ${v?.length ?? 0} values, needs ${n}`);
    for (let i = 0; i < n; i++) dv.setFloat32(12 + json.length + 4 * (e.offset + i), v[i]!, true);
  });
  return out;
}
