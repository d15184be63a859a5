/**
 * The model file container the learned codecs share (".fpvq" VQ-VAE, ".fpnl" NGLR; docs/vqvae.md, docs/residual.md):
 * an 8-byte magic, a u32 length, a JSON description ({format, version: 1, config, tensors: [{name, shape, offset}],
 * weightCount, training}), then float32 weights (little endian). Every tensor's name and shape is checked against
 * what the configuration implies before anything is computed, so a file from elsewhere (or one embedded in a stream)
 * cannot make a network read out of range or allocate beyond its limits. Pure: no Node imports.
 */
import { FieldpackError } from '../errors.ts';

export type ModelErrorCode = 'BAD_FILE' | 'BAD_STREAM';

/** What one kind of model file declares: its magic, format name, limits, configuration and tensors. */
export interface ModelFileKind<C> {
  /** 8 ASCII characters */
  magic: string;
  format: string;
  /** "VQ-VAE model", for errors */
  what: string;
  limits: { jsonBytes: number; weights: number };
  /** checks the description's config; `fail` throws with the caller's error code */
  parseConfig(raw: unknown, fail: (msg: string) => never): C;
  /** tensor names and shapes, in file order */
  tensorShapes(config: C): [string, number[]][];
}

export interface ModelFile<C> {
  config: C;
  /** tensors by name, views into one Float32Array */
  t: Record<string, Float32Array>;
  weightCount: number;
  /** the description's training block (provenance), as written */
  training: Record<string, unknown>;
}

export const isIntIn = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Parses and checks a model file. `code`: BAD_FILE for a file the user gave, BAD_STREAM for one inside a stream. */
export function readModelFile<C>(kind: ModelFileKind<C>, bytes: Uint8Array, code: ModelErrorCode = 'BAD_FILE'): ModelFile<C> {
  const fail = (msg: string): never => {
    throw new FieldpackError(code, `${kind.what}: ${msg}`);
  };
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== kind.magic) fail(`not a Fieldpack ${kind.what} (no ${kind.magic} magic)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = dv.getUint32(8, true);
  if (len > kind.limits.jsonBytes || 12 + len > bytes.length) fail(`description of ${len} bytes in a file of ${bytes.length}`);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + len))) as Record<string, unknown>;
  } catch (e) {
    fail(`description is not JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || json.format !== kind.format) fail(`format ${String(json?.format)}`);
  if (json.version !== 1) fail(`version ${String(json.version)} is not supported (this build reads 1)`);
  const config = kind.parseConfig(json.config, fail);
  const wc = json.weightCount;
  if (!isIntIn(wc, 1, kind.limits.weights)) fail(`weightCount ${typeof wc === 'number' ? wc : String(wc).slice(0, 40)} (an integer in 1..${kind.limits.weights})`);
  const count = wc as number;
  if (bytes.length !== 12 + len + 4 * count) fail(`${bytes.length - 12 - len} weight bytes, weightCount ${count} needs ${4 * count}`);
  const expected = kind.tensorShapes(config);
  const listed = new Map<string, { shape: unknown; offset: unknown }>();
  if (!Array.isArray(json.tensors)) fail('tensors list missing');
  for (const e of json.tensors as { name?: unknown; shape?: unknown; offset?: unknown }[]) {
    if (typeof e?.name === 'string') listed.set(e.name, { shape: e.shape, offset: e.offset });
  }
  let need = 0;
  for (const [, shape] of expected) need += sizeOf(shape);
  if (need !== count) fail(`the configuration needs ${need} weights, weightCount says ${count}`);
  // copy once to an aligned array (the file's weights may start at any byte)
  const all = new Float32Array(count);
  const start = 12 + len;
  for (let i = 0; i < count; i++) {
    const v = dv.getFloat32(start + 4 * i, true);
    if (!Number.isFinite(v)) fail(`weight ${i} is not finite`);
    all[i] = v;
  }
  const t: Record<string, Float32Array> = {};
  for (const [name, shape] of expected) {
    const e = listed.get(name) ?? fail(`tensor ${name} missing`);
    const n = sizeOf(shape);
    if (!Array.isArray(e.shape) || e.shape.length !== shape.length || e.shape.some((v, i) => v !== shape[i])) {
      fail(`tensor ${name} has shape ${JSON.stringify(e.shape)}, the configuration needs [${shape.join(', ')}]`);
    }
    if (!isIntIn(e.offset, 0, count - n)) fail(`tensor ${name} offset out of range`);
    const off = e.offset as number;
    t[name] = all.subarray(off, off + n);
  }
  const training = json.training && typeof json.training === 'object' ? (json.training as Record<string, unknown>) : {};
  return { config, t, weightCount: count, training };
}

/** Writes a model file (tests and tools; the trainers write the same bytes). */
export function writeModelFile<C>(kind: ModelFileKind<C>, config: C, tensors: Record<string, Float32Array>, training: Record<string, unknown> = {}): Uint8Array {
  let off = 0;
  const list = kind.tensorShapes(config).map(([name, shape]) => {
    const e = { name, shape, offset: off };
    off += sizeOf(shape);
    return e;
  });
  const json = new TextEncoder().encode(JSON.stringify({ format: kind.format, version: 1, config, tensors: list, weightCount: off, training }));
  const out = new Uint8Array(12 + json.length + 4 * off);
  out.set(new TextEncoder().encode(kind.magic), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  for (const e of list) {
    const v = tensors[e.name];
    const n = sizeOf(e.shape);
    if (!v || v.length !== n) throw new FieldpackError('INVALID_ARGUMENT', `tensor ${e.name}: ${v?.length ?? 0} values, needs ${n}`);
    for (let i = 0; i < n; i++) dv.setFloat32(12 + json.length + 4 * (e.offset + i), v[i]!, true);
  }
  return out;
}
