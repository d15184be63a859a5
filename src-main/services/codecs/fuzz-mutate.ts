/**
 * The fuzz harness's mutations of valid streams: what someone else's archive could hold. Every mutation is a pure
 * function of the seed stream and a generator seeded by (run seed, case index), so any case is rebuilt exactly from
 * those two numbers (`npm run fuzz -- --case I --seed S --save DIR`).
 *
 *   flip         bits flipped anywhere, checksums left (the checksums' job)
 *   flip-fixed   bits flipped, then the header CRC and every chunk CRC recomputed
 *   truncate / extend   the stream cut short, or bytes appended
 *   header       one header field re-encoded (dims, dtype, bound mode/value/abs, flags, valid range, backend,
 *                metadata length, chunk count, rows, stored and raw sizes), huge varints included, CRCs recomputed
 *   params       codec params or metadata edited as values (classic radius / tune / maxDims / predictor; cross-field
 *                mode, ndim, anchors, weights, net; dims, attributes, coordinates), CRCs recomputed
 *   payload      one chunk's payload (after the lossless stage) edited (bit flips near the start, bytes set, huge
 *                varints written in, cut, extended, runs zeroed) and stored again through zstd, sizes and CRCs fixed
 *   network      the embedded network's description edited (channels, kernels, weight counts, layers), stored again
 */
import { crc32 } from '../../core/codec/crc32.ts';
import { ByteReader, ByteWriter } from '../../core/codec/bytes.ts';
import { decodeCompact, encodeCompact } from '../../core/codec/stream/compact.ts';
import { zstdBackend } from './zstd-backend.ts';
import { rng32 } from './fuzz-corpus.ts';

export type Rng = () => number;

export interface Mutated {
  bytes: Uint8Array;
  /** what was done, in a few words per mutation */
  what: string[];
}

const int = (r: Rng, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rng, a: readonly T[]): T => a[int(r, a.length)]!;

// ---------------------------------------------------------------- header tokens (format v2)

type Kind = 'u8' | 'varint' | 'svarint' | 'f32' | 'f64' | 'u32' | 'bytes';

interface Tok {
  name: string;
  off: number;
  len: number;
  kind: Kind;
  value: number;
}

interface Tokens {
  H: number;
  toks: Tok[];
  /** the codec params and metadata blob (raw or through zstd) */
  meta?: { enc: number; blob: Tok; len?: Tok };
  chunks: { rows: Tok; size: Tok; raw?: Tok; crc: Tok }[];
}

/** The v2 header's fields with their byte positions, or null when the header does not parse that far. */
export function tokenize(bytes: Uint8Array): Tokens | null {
  if (bytes.length < 14 || bytes[4] !== 2 || bytes[5] !== 0) return null;
  const H = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(6, true);
  if (14 + H > bytes.length) return null;
  const r = new ByteReader(bytes, 'header', 10, 10 + H);
  const toks: Tok[] = [];
  const t = (name: string, kind: Kind, read: () => number): Tok => {
    const off = r.pos;
    const value = read();
    const tok = { name, off, len: r.pos - off, kind, value };
    toks.push(tok);
    return tok;
  };
  try {
    const cid = t('codec id', 'u8', () => r.u8());
    if (cid.value === 0) t('codec string', 'bytes', () => r.block().length);
    t('version string', 'bytes', () => r.block().length);
    t('dtype', 'u8', () => r.u8());
    const nd = t('ndims', 'varint', () => r.varint());
    for (let i = 0; i < nd.value; i++) t(`dim ${i}`, 'varint', () => r.varint());
    const mb = t('bound mode', 'u8', () => r.u8());
    if (mb.value & 16) {
      t('bound mantissa', 'svarint', () => r.svarint());
      t('bound exponent', 'svarint', () => r.svarint());
    } else t('bound value', 'f64', () => r.f64());
    if (!(mb.value & 32)) t('absolute bound', 'f64', () => r.f64());
    const flags = t('flags', 'u8', () => r.u8());
    const nk = flags.value & 4 ? 'f32' : 'f64';
    const num = (name: string) => t(name, nk, () => (nk === 'f32' ? r.f32() : r.f64()));
    num('valid min');
    num('valid max');
    if (flags.value & 2) num('fill value');
    t('backend', 'u8', () => r.u8());
    const me = t('metadata encoding', 'u8', () => r.u8());
    const ml = me.value ? t('metadata length', 'varint', () => r.varint()) : undefined;
    const blob = t('metadata block', 'bytes', () => r.block().length);
    const nc = t('chunk count', 'varint', () => r.varint());
    const chunks: Tokens['chunks'] = [];
    for (let i = 0; i < nc.value && i < 100_000; i++) {
      const rows = t(`chunk ${i} rows`, 'varint', () => r.varint());
      const size = t(`chunk ${i} size`, 'varint', () => r.varint());
      const raw = size.value % 2 === 0 ? t(`chunk ${i} raw size`, 'varint', () => r.varint()) : undefined;
      const crc = t(`chunk ${i} crc`, 'u32', () => r.u32());
      chunks.push({ rows, size, ...(raw ? { raw } : {}), crc });
    }
    return { H, toks, meta: { enc: me.value, blob, ...(ml ? { len: ml } : {}) }, chunks };
  } catch {
    return null;
  }
}

function splice(bytes: Uint8Array, off: number, len: number, put: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - len + put.length);
  out.set(bytes.subarray(0, off), 0);
  out.set(put, off);
  out.set(bytes.subarray(off + len), off + put.length);
  return out;
}

function enc(kind: Kind, v: number): Uint8Array {
  const w = new ByteWriter(16);
  switch (kind) {
    case 'u8': w.u8(v); break;
    case 'u32': w.u32(v); break;
    case 'f32': w.f32(v); break;
    case 'f64': w.f64(v); break;
    case 'svarint': w.svarint(v); break;
    default: rawVarint(w, v);
  }
  return w.finish();
}

/** Any varint up to 8 bytes (2^56), safe or not: the writer's own refuses unsafe values. */
function rawVarint(w: ByteWriter, v: number): void {
  let x = Math.max(0, Math.floor(v));
  for (let i = 0; i < 7 && x >= 0x80; i++) {
    w.u8((x % 128) | 0x80);
    x = Math.floor(x / 128);
  }
  w.u8(Math.min(x, 0xff));
}

/** Replaces header field `tok` with new bytes, fixing the header length (and nothing else). */
function replaceTok(bytes: Uint8Array, tok: Tok, put: Uint8Array): Uint8Array {
  const out = splice(bytes, tok.off, tok.len, put);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(6, dv.getUint32(6, true) + put.length - tok.len, true);
  return out;
}

/** Recomputes every chunk CRC (over the ranges the header now declares, clipped) and then the header CRC. */
export function fixChecksums(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  if (out.length < 14) return out;
  const H = dv.getUint32(6, true);
  if (14 + H > out.length) return out;
  const tk = tokenize(out);
  if (tk) {
    let o = 14 + H;
    for (const c of tk.chunks) {
      const stored = Math.floor(c.size.value / 2);
      const a = Math.min(o, out.length);
      const b = Math.min(o + stored, out.length);
      dv.setUint32(c.crc.off, crc32(out.subarray(a, b)), true);
      o += stored;
    }
  }
  dv.setUint32(10 + H, crc32(out, 0, 10 + H), true);
  return out;
}

/** Header field `name` (as tokenize names it: 'backend', 'dim 1', 'chunk 0 rows', ...) re-encoded as `value`, checksums fixed. */
export function editHeaderField(bytes: Uint8Array, name: string, value: number): Uint8Array {
  const tk = tokenize(bytes);
  const tok = tk?.toks.find((t) => t.name === name);
  if (!tok || tok.kind === 'bytes') throw new Error(`no header field ${name}`);
  return fixChecksums(replaceTok(bytes, tok, enc(tok.kind, value)));
}

// ---------------------------------------------------------------- generic

function flipBits(r: Rng, bytes: Uint8Array, from = 0): Uint8Array {
  const out = bytes.slice();
  const k = 1 + int(r, 8);
  for (let i = 0; i < k; i++) {
    const p = from + int(r, Math.max(1, out.length - from));
    if (p < out.length) out[p] ^= 1 << int(r, 8);
  }
  return out;
}

const HUGE = [2 ** 20, 2 ** 24, 2 ** 28, 2 ** 31, 2 ** 32, 2 ** 34, 2 ** 40, 2 ** 48, 2 ** 53 - 1, 2 ** 56 - 1];

function weirdInt(r: Rng, v: number): number {
  return pick(r, [0, 1, v + 1, Math.max(0, v - 1), v * 2, v * 3 + 7, Math.floor(v / 2), 255, 65535, ...HUGE]);
}

const WEIRD_F = [NaN, -1, 0, -0, Infinity, -Infinity, 1e-310, 5e-324, 1e308, 2 ** 31, 1e-30, 1e30, 0.5];

function headerEdit(r: Rng, bytes: Uint8Array): Mutated | null {
  const tk = tokenize(bytes);
  if (!tk) return null;
  const tok = pick(r, tk.toks);
  let put: Uint8Array;
  let desc: string;
  switch (tok.kind) {
    case 'u8': {
      const v = r() < 0.5 ? int(r, 256) : pick(r, [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 255]);
      put = enc('u8', v);
      desc = `${tok.name} ${tok.value} -> ${v}`;
      break;
    }
    case 'varint': {
      const v = weirdInt(r, tok.value);
      put = enc('varint', v);
      desc = `${tok.name} ${tok.value} -> ${v}`;
      break;
    }
    case 'svarint': {
      const v = pick(r, [0, -1, 1, 300, -300, 2 ** 31, -(2 ** 31), 2 ** 40]);
      put = enc('svarint', v);
      desc = `${tok.name} ${tok.value} -> ${v}`;
      break;
    }
    case 'f32':
    case 'f64': {
      const v = r() < 0.8 ? pick(r, WEIRD_F) : tok.value * pick(r, [2, 0.5, -1, 1e10]);
      put = enc(tok.kind, v);
      desc = `${tok.name} ${tok.value} -> ${v}`;
      break;
    }
    case 'u32': {
      const v = int(r, 2 ** 32);
      put = enc('u32', v);
      desc = `${tok.name} -> ${v}`;
      break;
    }
    default: {
      // a block: its length varint made huge or off by one
      const lenBytes = tok.len - tok.value;
      const v = pick(r, [tok.value + 1, Math.max(0, tok.value - 1), 0, ...HUGE]);
      put = enc('varint', v);
      const out = replaceTok(bytes, { ...tok, len: lenBytes, kind: 'varint' }, put);
      return { bytes: fixChecksums(out), what: [`header ${tok.name} length ${tok.value} -> ${v}`] };
    }
  }
  return { bytes: fixChecksums(replaceTok(bytes, tok, put)), what: [`header ${desc}`] };
}

/** Moves rows between two chunks (the sum stays), or gives a chunk a size that shifts the ones after it. */
function chunkTableEdit(r: Rng, bytes: Uint8Array): Mutated | null {
  const tk = tokenize(bytes);
  if (!tk || !tk.chunks.length) return null;
  const c = pick(r, tk.chunks);
  if (r() < 0.5 && tk.chunks.length > 1) {
    const d = pick(r, tk.chunks.filter((x) => x !== c));
    const k = 1 + int(r, Math.max(1, c.rows.value));
    // replace the later token first so earlier offsets stay valid
    const [first, second] = c.rows.off < d.rows.off ? [c, d] : [d, c];
    const v2 = second === c ? c.rows.value - k : d.rows.value + k;
    const v1 = first === c ? c.rows.value - k : d.rows.value + k;
    let out = replaceTok(bytes, second.rows, enc('varint', Math.max(0, v2)));
    out = replaceTok(out, first.rows, enc('varint', Math.max(0, v1)));
    return { bytes: fixChecksums(out), what: [`chunk rows moved: ${k}`] };
  }
  const stored = Math.floor(c.size.value / 2);
  const raw = c.size.value % 2;
  const v = pick(r, [stored + 1, Math.max(0, stored - 1), 0, stored * 2, ...HUGE.slice(0, 6)]);
  const flip = r() < 0.2 ? 1 - raw : raw;
  return { bytes: fixChecksums(replaceTok(bytes, c.size, enc('varint', v * 2 + flip))), what: [`${c.size.name} ${stored}${raw ? 'r' : ''} -> ${v}${flip ? 'r' : ''}`] };
}

// ---------------------------------------------------------------- params and metadata (values)

function readMeta(bytes: Uint8Array, tk: Tokens): [Record<string, unknown>, Record<string, unknown>] | null {
  if (!tk.meta) return null;
  const blob = tk.meta.blob;
  const lenBytes = blob.len - blob.value;
  let data = bytes.subarray(blob.off + lenBytes, blob.off + blob.len);
  try {
    if (tk.meta.enc === 1) data = zstdBackend.decompress(data, tk.meta.len!.value);
    const v = decodeCompact(new ByteReader(data, 'meta'), 'meta') as unknown[];
    return [v[0] as Record<string, unknown>, v[1] as Record<string, unknown>];
  } catch {
    return null;
  }
}

/** Writes params and metadata back (uncompressed), CRCs fixed. */
function writeMeta(bytes: Uint8Array, tk: Tokens, params: unknown, metadata: unknown): Uint8Array {
  const w = new ByteWriter(256);
  encodeCompact([params, metadata], w);
  const blob = w.finish();
  const bw = new ByteWriter(blob.length + 8);
  bw.block(blob);
  // replace the block, then the encoding byte (and drop the length varint): later tokens first
  let out = replaceTok(bytes, tk.meta!.blob, bw.finish());
  if (tk.meta!.len) out = replaceTok(out, tk.meta!.len, new Uint8Array(0));
  const me = tk.toks.find((t) => t.name === 'metadata encoding')!;
  out = replaceTok(out, me, enc('u8', 0));
  return fixChecksums(out);
}

const RADII = [0, 1, 2, 3, 100, 32767, 32769, 65536, 2 ** 17, 2 ** 20, 2 ** 20 + 1, 2 ** 24, 2 ** 31, 2 ** 32, -5, 1.5, 'x', null, true];

function paramsEdit(r: Rng, bytes: Uint8Array): Mutated | null {
  const tk = tokenize(bytes);
  if (!tk) return null;
  const pm = readMeta(bytes, tk);
  if (!pm) return null;
  const [p, m] = pm;
  const cf = Array.isArray(p.anchors);
  const edits: [string, () => void][] = [
    ['radius', () => (p.radius = pick(r, RADII))],
    ['predictor', () => (p.predictor = pick(r, ['lossless', 'lorenzo', 'dq-lorenzo', 'interp-cubic', 'bogus', 3, null]))],
    ['tune', () => (p.tune = pick(r, [0, 1, 16, 17, 99, -1, 1.5, 'a']))],
    ['maxDims', () => (p.maxDims = pick(r, [0, 1, 2, 4, 5, 99, -1, 'x']))],
    ['dims', () => (m.dims = pick(r, [[1, 2], ['a'], 'lat', null, Array.from({ length: 40 }, () => 'd')]))],
    ['attributes', () => (m.attributes = pick(r, [5, [], null, 'x', { a: { b: [1, 2, { c: null }] } }]))],
    ['coordinates', () => (m.coordinates = pick(r, [
      { lat: ['float64', {}, 0, 1, 2 ** 30] },
      { lon: ['float64', {}, 0, 1, 2 ** 30], time: ['float32', {}, 0, 1, 2 ** 31] },
      { lat: ['float64', {}, Array.from({ length: 24 }, () => 'bogus')] },
      { lat: ['int99', {}, 0, 1, 24] },
      { lat: ['float64', 5, 0, 1, 24] },
      { lat: ['float64', {}, 'a', 1, 24] },
      { lat: 7 },
      [1, 2],
      'x',
    ]))],
    ['variable', () => (m.variable = pick(r, [5, null, '', 'x'.repeat(300)]))],
  ];
  if (cf) {
    const anchors = p.anchors as Record<string, unknown>[];
    edits.push(
      ['mode', () => (p.mode = pick(r, ['weighted', 'blend', 'lorenzo', 'interp', 'auto', 'bogus', 1, null]))],
      ['ndim', () => (p.ndim = pick(r, [0, 1, 2, 3, 4, '2', null, 2 ** 31]))],
      ['anchors', () => (p.anchors = pick(r, [
        [], null, 'A', [5], [{ var: '' , hash: 'h' }], [{ var: 'A' }],
        [...anchors, ...anchors],
        Array.from({ length: 70 }, (_, i) => ({ var: `V${i}`, hash: 'h' })),
        anchors.map((a) => ({ ...a, var: `${String(a.var)}x` })),
        anchors.map((a) => ({ ...a, hash: 'other' })),
        anchors.slice(0, Math.max(0, anchors.length - 1)),
        [...anchors, { var: 'Z', hash: 'z' }],
      ]))],
      ['weights', () => (p.weights = pick(r, [[], [1], [1, 0, 0, 0, 0], [null, 1, 1], [1e308, 1e308, 1e308], 'w', [0.5, 0.5, 0.5]]))],
      ['net', () => (p.net = pick(r, [undefined, null, 5, {}, { hash: 5 }, { inputFill: [] }, { inputFill: ['a', 'b'] }, { inputFill: new Array(1000).fill(0) }]))],
      ['inputFill', () => { if (p.net && typeof p.net === 'object') (p.net as Record<string, unknown>).inputFill = pick(r, [[], [0], [0, 0, 0], [1e30, -1e30], [null, null]]); }],
    );
  }
  const [name, fn] = pick(r, edits);
  fn();
  return { bytes: writeMeta(bytes, tk, p, m), what: [`params ${name}`] };
}

// ---------------------------------------------------------------- chunk payloads

interface ChunkAt {
  i: number;
  off: number;
  stored: number;
  raw: boolean;
  rawBytes: number;
}

function chunksOf(bytes: Uint8Array, tk: Tokens): ChunkAt[] {
  let o = 14 + tk.H;
  return tk.chunks.map((c, i) => {
    const stored = Math.floor(c.size.value / 2);
    const raw = c.size.value % 2 === 1;
    const at = { i, off: o, stored, raw, rawBytes: raw ? stored : c.raw!.value };
    o += stored;
    return at;
  }).filter((c) => c.off + c.stored <= bytes.length);
}

function payloadOf(bytes: Uint8Array, c: ChunkAt): Uint8Array | null {
  const stored = bytes.subarray(c.off, c.off + c.stored);
  if (c.raw) return stored.slice();
  try {
    return zstdBackend.decompress(stored, c.rawBytes).slice();
  } catch {
    return null;
  }
}

/** Stores `payload` as chunk c again (through zstd unless it was raw), sizes and CRCs fixed. */
function storePayload(bytes: Uint8Array, tk: Tokens, c: ChunkAt, payload: Uint8Array): Uint8Array {
  const stored = c.raw ? payload : zstdBackend.compress(payload);
  let out = splice(bytes, c.off, c.stored, stored);
  // chunk table tokens: size then raw size (later one first)
  const t = tk.chunks[c.i]!;
  if (t.raw) out = replaceTok(out, t.raw, enc('varint', payload.length));
  out = replaceTok(out, t.size, enc('varint', stored.length * 2 + (c.raw ? 1 : 0)));
  return fixChecksums(out);
}

function mutatePayload(r: Rng, p: Uint8Array): [Uint8Array, string] {
  const k = int(r, 8);
  switch (k) {
    case 0:
      return [flipBits(r, p), 'bits'];
    case 1: {
      // bits near the start: predictor, flags, counts, the coder byte
      const out = p.slice();
      const n = 1 + int(r, 3);
      for (let i = 0; i < n; i++) if (out.length) out[int(r, Math.min(32, out.length))] ^= 1 << int(r, 8);
      return [out, 'head bits'];
    }
    case 2: {
      const out = p.slice();
      if (out.length) out[int(r, Math.min(24, out.length))] = int(r, 256);
      return [out, 'head byte'];
    }
    case 3: {
      // a huge varint written over a few bytes
      const w = new ByteWriter(16);
      rawVarint(w, pick(r, HUGE));
      const at = int(r, Math.max(1, Math.min(64, p.length)));
      const v = w.finish();
      return [splice(p, Math.min(at, p.length), Math.min(int(r, 3), Math.max(0, p.length - at)), v), 'huge varint'];
    }
    case 4:
      return [p.slice(0, int(r, p.length + 1)), 'cut'];
    case 5: {
      const ext = new Uint8Array(1 + int(r, 64));
      for (let i = 0; i < ext.length; i++) ext[i] = r() < 0.5 ? 0 : int(r, 256);
      const out = new Uint8Array(p.length + ext.length);
      out.set(p);
      out.set(ext, p.length);
      return [out, 'extended'];
    }
    case 6: {
      const out = p.slice();
      const a = int(r, out.length + 1);
      out.fill(r() < 0.5 ? 0 : 0xff, a, Math.min(out.length, a + 1 + int(r, 16)));
      return [out, 'run set'];
    }
    default: {
      // a byte anywhere set to a boundary value
      const out = p.slice();
      if (out.length) out[int(r, out.length)] = pick(r, [0, 1, 0x7f, 0x80, 0xff]);
      return [out, 'byte'];
    }
  }
}

function payloadEdit(r: Rng, bytes: Uint8Array): Mutated | null {
  const tk = tokenize(bytes);
  if (!tk) return null;
  const cs = chunksOf(bytes, tk);
  if (!cs.length) return null;
  const c = pick(r, cs);
  const p = payloadOf(bytes, c);
  if (!p) return null;
  const [q, how] = mutatePayload(r, p);
  return { bytes: storePayload(bytes, tk, c, q), what: [`chunk ${c.i} payload ${how}`] };
}

/** Chunk 0 of a cross-field stream with a network: its description edited, weights fitted to it or not. */
function networkEdit(r: Rng, bytes: Uint8Array): Mutated | null {
  const tk = tokenize(bytes);
  if (!tk) return null;
  const c = chunksOf(bytes, tk)[0];
  if (!c || c.i !== 0) return null;
  const p = payloadOf(bytes, c);
  if (!p || !(p[0]! & 8)) return null;
  const rd = new ByteReader(p, 'chunk 0', 1);
  let len: number;
  try {
    len = rd.varint();
  } catch {
    return null;
  }
  const netStart = rd.pos;
  const net = p.subarray(netStart, netStart + len);
  if (net.length < 12) return null;
  const jl = new DataView(net.buffer, net.byteOffset, net.byteLength).getUint32(8, true);
  let spec: Record<string, unknown>;
  try {
    spec = JSON.parse(new TextDecoder().decode(net.subarray(12, 12 + jl))) as Record<string, unknown>;
  } catch {
    return null;
  }
  const pad0 = (4 - ((12 + jl) % 4)) % 4;
  let weights = net.slice(12 + jl + pad0);
  const layers = (spec.layers as Record<string, unknown>[]) ?? [];
  const conv = layers.find((l) => l.op === 'conv');
  const edits: [string, () => void][] = [
    ['ndim', () => (spec.ndim = pick(r, [2, 3, 1, 4]))],
    ['inChannels', () => (spec.inChannels = pick(r, [1, 2, 3, 4, 8, 2000]))],
    ['outChannels', () => (spec.outChannels = pick(r, [1, 2, 3, 9, 2000]))],
    ['weightCount', () => (spec.weightCount = pick(r, [0, 1, (spec.weightCount as number) + 1, (spec.weightCount as number) * 2, 2 ** 24 + 1, 2 ** 31]))],
    ['kernel', () => { if (conv) conv.kernel = pick(r, [[15, 15], [17, 17], [1, 1], [3], [3, 3, 3], [2, 2], [9999, 1]]); }],
    ['conv channels', () => { if (conv) conv.outChannels = pick(r, [1, 3, 2000, 0]); }],
    ['reused layers', () => { if (conv) spec.layers = Array.from({ length: pick(r, [2, 20, 300]) }, () => ({ ...conv, inChannels: conv.outChannels })); }],
    ['many relus', () => (spec.layers = [...layers, ...Array.from({ length: 300 }, () => ({ op: 'relu' }))])],
    ['receptiveRadius', () => (spec.receptiveRadius = pick(r, [0, 10 ** 9, -1]))],
    ['offsets', () => { if (conv) conv.weight = pick(r, [1, 2 ** 31, -1]); }],
  ];
  const [name, fn] = pick(r, edits);
  fn();
  // half the time the weight bytes follow the edited count (so the description's own checks are what stops it)
  if (r() < 0.5 && typeof spec.weightCount === 'number' && spec.weightCount >= 0 && spec.weightCount <= 2 ** 22) {
    const w = new Uint8Array(spec.weightCount * 4);
    w.set(weights.subarray(0, Math.min(w.length, weights.length)));
    weights = w;
  }
  const json = new TextEncoder().encode(JSON.stringify(spec));
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  const nb = new Uint8Array(12 + json.length + pad + weights.length);
  nb.set(net.subarray(0, 12));
  new DataView(nb.buffer).setUint32(8, json.length, true);
  nb.set(json, 12);
  nb.set(weights, 12 + json.length + pad);
  const w = new ByteWriter(nb.length + 16);
  w.u8(p[0]!);
  w.block(nb);
  w.bytes(p.subarray(netStart + len));
  return { bytes: storePayload(bytes, tk, c, w.finish()), what: [`network ${name}`] };
}

// ---------------------------------------------------------------- one case

const KINDS: [string, number, (r: Rng, b: Uint8Array) => Mutated | null][] = [
  ['flip', 4, (r, b) => ({ bytes: flipBits(r, b), what: ['flip'] })],
  ['flip-fixed', 12, (r, b) => ({ bytes: fixChecksums(flipBits(r, b, 10)), what: ['flip, checksums fixed'] })],
  ['truncate', 4, (r, b) => ({ bytes: b.slice(0, int(r, b.length)), what: ['truncate'] })],
  ['extend', 3, (r, b) => {
    const ext = new Uint8Array(1 + int(r, 40)).map(() => int(r, 256));
    const out = new Uint8Array(b.length + ext.length);
    out.set(b);
    out.set(ext, b.length);
    return { bytes: out, what: ['extend'] };
  }],
  ['header', 22, headerEdit],
  ['chunk table', 8, chunkTableEdit],
  ['params', 15, paramsEdit],
  ['payload', 25, payloadEdit],
  ['network', 7, networkEdit],
];
const TOTAL = KINDS.reduce((a, k) => a + k[1], 0);

/** The generator of case i of a run with `seed`. */
export function caseRng(seed: number, i: number): Rng {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return rng32(h);
}

/** One to three mutations of a seed stream; a mutation that does not apply (no network to edit) is replaced. */
export function mutate(r: Rng, seed: Uint8Array): Mutated {
  let bytes = seed;
  const what: string[] = [];
  const n = r() < 0.75 ? 1 : r() < 0.7 ? 2 : 3;
  for (let k = 0; k < n; k++) {
    for (let tries = 0; tries < 8; tries++) {
      let x = r() * TOTAL;
      let kind = KINDS[0]!;
      for (const e of KINDS) {
        if ((x -= e[1]) < 0) {
          kind = e;
          break;
        }
      }
      let m: Mutated | null = null;
      try {
        m = kind[2](r, bytes);
      } catch {
        m = null;
      }
      if (m) {
        bytes = m.bytes;
        what.push(...m.what);
        break;
      }
    }
  }
  return { bytes, what };
}
