/**
 * The .fpk stream. Format version 2 (written since 0.1.x; compact header) differs from version 1 only inside the
 * header block, after the u32 header length:
 *   u8 codec (1 = "classic", 0 = a string follows), string fieldpack version, u8 dtype, varint ndims, varint dims,
 *   u8 bound mode (+ 16 when the bound value is the decimal m x 10^e, + 32 when the absolute bound is not stored
 *   because it is the value itself (abs) or the value x (valid max - valid min) (rel)), bound value (f64, or svarint m,
 *   svarint e), [f64 absolute bound], u8 flags (1 mask, 2 fill value, 4 valid min/max and fill as f32, 8 implicit
 *   fill: with 1 and 2, the chunks' masks mark the points that hold the fill value, which the field does not declare:
 *   they decode to it exactly, and the decoded field has no mask; readers before it refuse flag 8 as unknown flags),
 *   valid min, valid max, [fill] (f32 or f64 by flag 4), u8 lossless backend id,
 *   u8 encoding (0 raw, 1 through the lossless backend), [varint raw length when 1], block:
 *        [codec params, metadata] in the compact binary encoding of stream/compact.ts,
 *   varint chunk count, per chunk: varint rows, varint (stored bytes x 2 + 1 if stored without the backend),
 *        [varint raw bytes, when through the backend], u32 CRC32.
 * Classic chunk payloads in v2: no value count after the flags byte (the rows give it); flag 8 = an interpolation
 * tuning byte follows the flags; flag 16 = mask coded with model 2 (maskcoder.ts); entropy coder 2 (multi-symbol
 * range coder) may appear, without a symbol count; flag 32 = the codes are of grid indices (values already on the
 * grid offset + k x step of the header's param `grid: [offset, step, half]`, codec/grid.ts; escapes as f64; points
 * off the grid in the exact-value list), also at a lossless bound. Readers before it refuse flag 32 as bad flags.
 * Flag 64 (with 16, chunks of 3 or more dims and 2 or more rows) = the mask coded is the chunk's first row's, the
 * same in every row (a fixed land mask over time steps); readers before it refuse it as bad flags. Flag 128 (with 16)
 * = the mask coded with model 3 (maskcoder.ts: model 2 with the 16-point segments equal to the row one slice back, or
 * one row back, skipped); readers before it refuse it as bad flags. Entropy coder 5
 * (static rANS with the line context, envelope.ts) and 6 (coder 4 with the line-back code's sign, written where
 * coder 4 was) may appear where coder 4 may; readers before them refuse them as unknown coders.
 * The interpolation byte (flag 8) may have bit 128 set: the predictor ran on the chunk's axes reversed
 * (codec/predictors/axes.ts); readers before it refuse it as a bad interpolation tuning.
 * Predictor byte 254 = a constant chunk (its value count, mask, value lists and the one value; classic/codec.ts);
 * readers before it refuse it as a bad predictor byte. Predictor byte 253 = a chunk whose rows repeat: varint D, per
 * row a varint (0 the next distinct row, k a copy of distinct row k - 1), then its D distinct rows' payload as a
 * chunk of D rows (classic/codec.ts REPEATED_ROWS_ID); readers before it refuse it as a bad predictor byte.
 * A chunk coded exactly (predictor byte 255, byte planes) may appear under a lossy bound, where that was smaller than
 * its codes (a bound below the values' float resolution); readers before it refuse it as lossless under a lossy bound.
 * Classic param grid [offset, step, half, sliceDims] (a fourth entry, 1..ndims - 1): a grid of slices, each slice
 * along the first sliceDims dims on its own offset, which each chunk on the grid (flag 32) stores after its value lists
 * (one per slice, f32 or f64 by dtype; codec/grid.ts gridIndicesOf); readers before it refuse the fourth entry.
 * Classic param mantissaBits N (0..22, float32 only; instead of grid): flag 32's indices are of the mantissa grid, the
 * values' bits with the 23 - N low ones dropped, negative for negative values (codec/grid.ts); readers before it
 * refuse such chunks as coded on a grid the header does not give.
 *
 * Format version 1 layout (little endian), still read:
 *
 *   0   magic "FPK" 0x1A
 *   4   u16 format version
 *   6   u32 header length H
 *   10  header (H bytes):
 *         string codec id, string fieldpack version, u8 dtype (0 float32, 1 float64),
 *         varint ndims, varint dims (C order),
 *         u8 bound mode (0 abs 1 rel 2 psnr 3 nrmse), f64 bound value, f64 absolute bound,
 *         f64 valid min, f64 valid max, u8 lossless backend id,
 *         u8 flags (1 has mask, 2 has fill value), [f64 fill value],
 *         string codec params (JSON),
 *         u8 metadata encoding (0 JSON, 1 JSON through the lossless backend), varint raw length, block metadata,
 *         varint chunk count, per chunk: varint rows (along dim 0), varint stored bytes, varint raw bytes, u32 CRC32
 *   10+H  u32 CRC32 of bytes [0, 10+H)
 *   then the chunk payloads, back to back, in index order.
 *
 * Fields are only ever added (at the end of the header, bumping the version); readers of version N read every
 * version <= N. A golden v1 stream lives in test/fixtures/golden.
 *
 * Decoder limits. A checksum only proves the bytes are the ones written, not that whoever wrote them was this
 * encoder, so readHeader range-checks every field before anything is allocated from it (each failure is BAD_STREAM
 * naming the field): at most MAX_VALUES values (the longest typed array); a finite absolute bound >= 0, 0 exactly
 * when lossless, consistent with the bound mode and value; finite valid min <= max; a known lossless backend; no
 * unknown flag bits; metadata and every chunk's payload no larger than maxChunkPayload of its value count (so the
 * lossless stage never inflates beyond that). Codecs check their own parameters (classic/, crossfield/).
 */
import { FieldpackError } from '../../errors.ts';
import { ByteReader, ByteWriter } from '../bytes.ts';
import { crc32 } from '../crc32.ts';
import { type BoundMode, boundModeFromId, boundModeId } from '../bound.ts';
import { LOSSLESS_NONE, LOSSLESS_ZSTD, losslessBackendById } from '../lossless.ts';
import { fieldSize } from '../../field.ts';
import { decodeCompact, encodeCompact } from './compact.ts';

export const MAGIC = new Uint8Array([0x46, 0x50, 0x4b, 0x1a]);
export const FORMAT_VERSION = 2;
const CODEC_IDS = ['', 'classic'];

/** Most dimensions a stream may declare. */
export const MAX_DIMS = 32;
/** Most values a stream may declare: the longest typed array (a decoded field is one). */
export const MAX_VALUES = 2 ** 32;
/** A chunk payload holds at most this many bytes per value (mask, value lists, codes, escapes: ~14 at worst) ... */
export const MAX_PAYLOAD_BYTES_PER_VALUE = 16;
/** ... plus this (per-chunk tables: a Huffman table, per-pass models) */
export const MAX_PAYLOAD_SLACK = 1 << 20;
/** Chunk 0 may carry codec-wide data on top (the cross-field codec's embedded network, its spec and weights). */
export const MAX_CHUNK0_EXTRA = 64 << 20;
/** Header metadata (codec params, attributes, coordinates): at most this many bytes per value, plus MAX_METADATA_SLACK. */
const MAX_METADATA_BYTES_PER_VALUE = 16;
const MAX_METADATA_SLACK = 16 << 20;

/** The largest metadata blob (codec params and metadata, before the lossless stage) a stream of `values` may have. */
export function maxMetadataBytes(values: number): number {
  return MAX_METADATA_BYTES_PER_VALUE * values + MAX_METADATA_SLACK;
}

/** The largest payload chunk `index` of `values` values may have (raw bytes, before the lossless stage). */
export function maxChunkPayload(values: number, index: number): number {
  return MAX_PAYLOAD_BYTES_PER_VALUE * values + MAX_PAYLOAD_SLACK + (index === 0 ? MAX_CHUNK0_EXTRA : 0);
}

export interface StreamMetadata {
  variable?: string;
  units?: string;
  dims?: string[];
  sourceDtype?: string;
  source?: string;
  attributes?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface ChunkEntry {
  rows: number;
  /** first row (along dim 0) */
  row0: number;
  storedBytes: number;
  rawBytes: number;
  crc: number;
  /** byte offset of the payload in the stream */
  offset: number;
  /** v2: stored as is (the lossless backend did not shrink it) */
  raw?: boolean;
}

export interface StreamHeader {
  formatVersion: number;
  codec: string;
  fieldpackVersion: string;
  dtype: 'float32' | 'float64';
  shape: number[];
  bound: { mode: BoundMode; value: number; abs: number; lossless: boolean };
  validMin: number;
  validMax: number;
  backendId: number;
  hasMask: boolean;
  fillValue: number | null;
  /**
   * the chunks' masks mark the points equal to fillValue, a value the field held without declaring it a fill (an
   * undeclared -9999 on land, the zeros of a sparse field): coded apart, they decode to it exactly and the decoded
   * field has no mask (outputMasked)
   */
  implicitFill?: boolean;
  params: Record<string, unknown>;
  metadata: StreamMetadata;
  chunks: ChunkEntry[];
  /** total length of header incl. magic and CRC = offset of chunk 0 */
  headerBytes: number;
  /** expected total stream length */
  totalBytes: number;
}

/** Whether the stream's decoded field has a mask: a mask, but not one that only marks an implicit fill. */
export function outputMasked(h: Pick<StreamHeader, 'hasMask' | 'implicitFill'>): boolean {
  return h.hasMask && !h.implicitFill;
}

export type HeaderInput = Omit<StreamHeader, 'formatVersion' | 'chunks' | 'headerBytes' | 'totalBytes'> & {
  chunks: Omit<ChunkEntry, 'offset' | 'row0'>[];
};

/**
 * The absolute bound an abs or rel bound gives over the valid range (bound.ts's resolveBound, the same float64
 * operations), or NaN for the modes whose bound depends on more than the header holds. A header whose absolute bound
 * equals it does not store it (flag 32 of the bound mode byte).
 */
function derivedAbsBound(mode: BoundMode, value: number, validMin: number, validMax: number): number {
  if (mode === 'abs') return value;
  if (mode === 'rel') return value * (validMax - validMin);
  return NaN;
}

/** m x 10^e with |m| < 2^31 when that parses back to exactly v, else null */
function decimalOf(v: number): [number, number] | null {
  if (!Number.isFinite(v) || v === 0) return null;
  const m = /^(-?)(\d)(?:\.(\d{0,8}))?e([+-]\d+)$/.exec(v.toExponential());
  if (!m) return null;
  const frac = m[3] ?? '';
  const mant = Number(m[1]! + m[2]! + frac);
  const exp = Number(m[4]) - frac.length;
  return Number(`${mant}e${exp}`) === v ? [mant, exp] : null;
}

export function writeStream(h: HeaderInput, payloads: Uint8Array[]): Uint8Array {
  // never write what readers refuse (readHeader's limits)
  const values = fieldSize(h.shape);
  if (h.shape.length > MAX_DIMS) throw new FieldpackError('INVALID_ARGUMENT', `a stream holds at most ${MAX_DIMS} dimensions, shape [${h.shape.join(', ')}] has ${h.shape.length}: merge some (a raw file's shape is yours to give)`);
  if (!(values >= 1 && values <= MAX_VALUES)) throw new FieldpackError('INVALID_ARGUMENT', `a stream holds 1 to ${MAX_VALUES} values, shape [${h.shape.join(', ')}] has ${values}`);
  const rowSize = values / h.shape[0]!;
  h.chunks.forEach((c, i) => {
    if (c.rawBytes > maxChunkPayload(c.rows * rowSize, i)) throw new FieldpackError('INTERNAL', `chunk ${i} of ${c.rows * rowSize} values has a ${c.rawBytes}-byte payload, more than readers accept`);
  });
  const b = new ByteWriter(256);
  const cid = CODEC_IDS.indexOf(h.codec);
  if (cid > 0) b.u8(cid);
  else {
    b.u8(0);
    b.string(h.codec);
  }
  b.string(h.fieldpackVersion);
  b.u8(h.dtype === 'float32' ? 0 : 1);
  b.varint(h.shape.length);
  for (const d of h.shape) b.varint(d);
  const dec = decimalOf(h.bound.value);
  const derived = h.bound.abs === derivedAbsBound(h.bound.mode, h.bound.value, h.validMin, h.validMax);
  b.u8(boundModeId(h.bound.mode) | (dec ? 16 : 0) | (derived ? 32 : 0));
  if (dec) {
    b.svarint(dec[0]);
    b.svarint(dec[1]);
  } else b.f64(h.bound.value);
  if (!derived) b.f64(h.bound.abs);
  const small = [h.validMin, h.validMax, ...(h.fillValue !== null ? [h.fillValue] : [])].every((x) => Object.is(Math.fround(x), x));
  if (h.implicitFill && (!h.hasMask || h.fillValue === null)) throw new FieldpackError('INTERNAL', 'an implicit fill needs the mask and the fill value');
  b.u8((h.hasMask ? 1 : 0) | (h.fillValue !== null ? 2 : 0) | (small ? 4 : 0) | (h.implicitFill ? 8 : 0));
  for (const x of [h.validMin, h.validMax, ...(h.fillValue !== null ? [h.fillValue] : [])]) {
    if (small) b.f32(x);
    else b.f64(x);
  }
  b.u8(h.backendId);
  const mw = new ByteWriter(256);
  encodeCompact([h.params, h.metadata], mw);
  const metaRaw = mw.finish();
  if (metaRaw.length > maxMetadataBytes(values)) throw new FieldpackError('INVALID_ARGUMENT', `stream metadata of ${metaRaw.length} bytes is more than readers accept (${maxMetadataBytes(values)})`);
  let metaEnc = 0;
  let metaBytes: Uint8Array = metaRaw;
  if (metaRaw.length > 64 && h.backendId !== 0) {
    const c = losslessBackendById(h.backendId).compress(metaRaw);
    if (c.length < metaRaw.length) {
      metaEnc = 1;
      metaBytes = c;
    }
  }
  b.u8(metaEnc);
  if (metaEnc) b.varint(metaRaw.length);
  b.block(metaBytes);
  b.varint(h.chunks.length);
  for (const c of h.chunks) {
    b.varint(c.rows);
    b.varint(c.storedBytes * 2 + (c.raw ? 1 : 0));
    if (!c.raw) b.varint(c.rawBytes);
    b.u32(c.crc);
  }
  const body = b.finish();
  let total = 10 + body.length + 4;
  for (const p of payloads) total += p.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint16(4, FORMAT_VERSION, true);
  dv.setUint32(6, body.length, true);
  out.set(body, 10);
  dv.setUint32(10 + body.length, crc32(out, 0, 10 + body.length), true);
  let off = 14 + body.length;
  for (const p of payloads) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * The bytes a stream spends on its field's self-description (name, units, dims, attributes, source, coordinates):
 * its header's length less that of the same header with no metadata. SZ3's files carry none of it (the bench reports
 * it beside the ratio, which counts it).
 */
export function selfDescriptionBytes(bytes: Uint8Array): number {
  const h = readHeader(bytes);
  return h.headerBytes - writeStream({ ...h, metadata: {} }, []).length;
}

const bad = (msg: string) => new FieldpackError('BAD_STREAM', msg);

export function readHeader(bytes: Uint8Array): StreamHeader {
  if (bytes.length < 14) throw bad(`truncated stream: ${bytes.length} bytes is shorter than a Fieldpack header`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) throw bad('not a Fieldpack stream (bad magic bytes)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint16(4, true);
  if (version === 0 || version > FORMAT_VERSION) {
    throw bad(`stream format version ${version} is not readable by this Fieldpack (reads versions 1..${FORMAT_VERSION})`);
  }
  const H = dv.getUint32(6, true);
  if (10 + H + 4 > bytes.length) throw bad(`truncated stream: header needs ${10 + H + 4} bytes, stream has ${bytes.length}`);
  const stored = dv.getUint32(10 + H, true);
  if (crc32(bytes, 0, 10 + H) !== stored) throw bad('corrupted stream: header checksum mismatch');
  const r = new ByteReader(bytes, 'header', 10, 10 + H);
  const body = version === 1 ? readBodyV1(r) : readBodyV2(r);
  const nc = r.varint('chunk count');
  if (nc < 1 || nc > body.shape[0]!) throw bad(`corrupted header: ${nc} chunks for ${body.shape[0]} rows`);
  const rowSize = fieldSize(body.shape) / body.shape[0]!;
  const chunks: ChunkEntry[] = [];
  let offset = 14 + H;
  let row0 = 0;
  for (let i = 0; i < nc; i++) {
    const rows = r.varint(`chunk ${i} rows`);
    if (rows < 1 || row0 + rows > body.shape[0]!) throw bad(`corrupted header: chunk ${i} rows ${rows} (rows ${row0}.. of ${body.shape[0]})`);
    let storedBytes: number;
    let rawBytes: number;
    let raw = false;
    if (version === 1) {
      storedBytes = r.varint(`chunk ${i} size`);
      rawBytes = r.varint(`chunk ${i} raw size`);
    } else {
      const sz = r.varint(`chunk ${i} size`);
      storedBytes = Math.floor(sz / 2);
      raw = sz % 2 === 1;
      rawBytes = raw ? storedBytes : r.varint(`chunk ${i} raw size`);
    }
    const cap = maxChunkPayload(rows * rowSize, i);
    if (rawBytes > cap) throw bad(`corrupted header: chunk ${i} raw size ${rawBytes} bytes exceeds ${cap} for its ${rows * rowSize} values`);
    const crc = r.u32(`chunk ${i} checksum`);
    chunks.push({ rows, row0, storedBytes, rawBytes, crc, offset, ...(raw ? { raw } : {}) });
    offset += storedBytes;
    row0 += rows;
  }
  if (row0 !== body.shape[0]) throw bad(`corrupted header: chunks cover ${row0} rows, shape has ${body.shape[0]}`);
  return { formatVersion: version, ...body, chunks, headerBytes: 14 + H, totalBytes: offset };
}

type HeaderBody = Omit<StreamHeader, 'formatVersion' | 'chunks' | 'headerBytes' | 'totalBytes'>;

function readShape(r: ByteReader): number[] {
  const nd = r.varint('ndims');
  if (nd < 1 || nd > MAX_DIMS) throw bad(`corrupted header: ${nd} dimensions`);
  const shape: number[] = [];
  let n = 1;
  for (let i = 0; i < nd; i++) {
    const d = r.varint('dimension');
    shape.push(d);
    n *= d;
  }
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_VALUES) {
    throw bad(`corrupted header: shape [${shape.join(', ')}] (${n} values; 1 to ${MAX_VALUES} allowed)`);
  }
  return shape;
}

/** A codec id is a short name (an unknown one is UNSUPPORTED later, where the registry is asked; garbage is not a name). */
function checkCodecId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) throw bad(`corrupted header: codec id ${JSON.stringify(id.slice(0, 80))} is not a codec name`);
}

/** The bound's fields: mode and value as the user gave them, the absolute bound enforced (0 exactly when lossless). */
function checkBound(mode: BoundMode, value: number, abs: number): void {
  if (!(abs >= 0) || !Number.isFinite(2 * abs)) throw bad(`corrupted header: absolute bound ${abs} (must be finite and >= 0)`);
  const okValue = mode === 'psnr' ? value > 0 : value >= 0 && Number.isFinite(value);
  if (!okValue) throw bad(`corrupted header: ${mode} bound value ${value}`);
  // values that can only mean lossless, and abs mode's value is the absolute bound itself
  const losslessValue = mode === 'psnr' ? value === Infinity : value === 0;
  if ((losslessValue && abs !== 0) || (mode === 'abs' && value !== abs)) {
    throw bad(`corrupted header: absolute bound ${abs} does not follow from ${mode} ${value}`);
  }
}

function checkRange(validMin: number, validMax: number): void {
  if (!Number.isFinite(validMin) || !Number.isFinite(validMax) || validMin > validMax) {
    throw bad(`corrupted header: valid range [${validMin}, ${validMax}]`);
  }
}

const KNOWN_BACKENDS = new Set([LOSSLESS_NONE, LOSSLESS_ZSTD]);

function checkBackend(id: number): void {
  if (!KNOWN_BACKENDS.has(id)) throw bad(`corrupted header: unknown lossless backend id ${id}`);
}

function checkMetadataLength(len: number, shape: number[]): void {
  const cap = maxMetadataBytes(fieldSize(shape));
  if (len > cap) throw bad(`corrupted header: metadata length ${len} exceeds ${cap} bytes`);
}

function readBodyV2(r: ByteReader): HeaderBody {
  const cid = r.u8('codec id');
  const codec = cid === 0 ? r.string('codec id') : CODEC_IDS[cid];
  if (!codec) throw bad(`corrupted header: unknown codec id ${cid}`);
  checkCodecId(codec);
  const fieldpackVersion = r.string('fieldpack version');
  const dt = r.u8('dtype');
  if (dt > 1) throw bad(`corrupted header: unknown dtype id ${dt}`);
  const shape = readShape(r);
  const mb = r.u8('bound mode');
  const mode = boundModeFromId(mb & 15);
  if (mb >= 64) throw bad(`corrupted header: unknown bound value encoding ${mb >> 4}`);
  const derived = (mb & 32) !== 0;
  let value: number;
  if (mb & 16) {
    const m = r.svarint('bound value');
    const e = r.svarint('bound value');
    value = Number(`${m}e${e}`);
  } else value = r.f64('bound value');
  const storedAbs = derived ? NaN : r.f64('absolute bound');
  const flags = r.u8('flags');
  if (flags > 15) throw bad(`corrupted header: unknown flags ${flags}`);
  if (flags & 8 && (flags & 3) !== 3) throw bad('corrupted header: an implicit fill without the mask and the fill value');
  const num = (label: string) => (flags & 4 ? r.f32(label) : r.f64(label));
  const validMin = num('valid min');
  const validMax = num('valid max');
  checkRange(validMin, validMax);
  const abs = derived ? derivedAbsBound(mode, value, validMin, validMax) : storedAbs;
  if (Number.isNaN(abs)) throw bad(`corrupted header: the absolute bound of a ${mode} bound cannot follow from it`);
  checkBound(mode, value, abs);
  const fillValue = flags & 2 ? num('fill value') : null;
  const backendId = r.u8('lossless backend');
  checkBackend(backendId);
  const metaEnc = r.u8('metadata encoding');
  if (metaEnc > 1) throw bad(`corrupted header: unknown metadata encoding ${metaEnc}`);
  const metaLen = metaEnc ? r.varint('metadata length') : -1;
  if (metaEnc) checkMetadataLength(metaLen, shape);
  const metaBytes = metaEnc === 1 ? inflateMetadata(backendId, r.block('metadata'), metaLen) : r.block('metadata');
  const mr = new ByteReader(metaBytes, 'header metadata');
  const pm = decodeCompact(mr, 'codec params and metadata');
  if (!Array.isArray(pm) || pm.length !== 2 || typeof pm[0] !== 'object' || !pm[0] || typeof pm[1] !== 'object' || !pm[1] || mr.remaining() !== 0) {
    throw bad('corrupted header: bad codec params and metadata');
  }
  return {
    codec,
    fieldpackVersion,
    dtype: dt === 0 ? 'float32' : 'float64',
    shape,
    bound: { mode, value, abs, lossless: abs === 0 },
    validMin,
    validMax,
    backendId,
    hasMask: (flags & 1) !== 0,
    fillValue,
    ...(flags & 8 ? { implicitFill: true } : {}),
    params: pm[0] as Record<string, unknown>,
    metadata: pm[1] as StreamMetadata,
  };
}

/** Header metadata stored through the lossless stage, back to its `length` bytes. */
function inflateMetadata(backendId: number, stored: Uint8Array, length: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = losslessBackendById(backendId).decompress(stored, length);
  } catch (e) {
    if (e instanceof FieldpackError) throw e;
    throw bad('corrupted header: metadata does not decompress');
  }
  if (bytes.length !== length) throw bad('corrupted header: metadata length mismatch');
  return bytes;
}

function readBodyV1(r: ByteReader): HeaderBody {
  const codec = r.string('codec id');
  checkCodecId(codec);
  const fieldpackVersion = r.string('fieldpack version');
  const dt = r.u8('dtype');
  if (dt > 1) throw bad(`corrupted header: unknown dtype id ${dt}`);
  const shape = readShape(r);
  const mode = boundModeFromId(r.u8('bound mode'));
  const value = r.f64('bound value');
  const abs = r.f64('absolute bound');
  checkBound(mode, value, abs);
  const validMin = r.f64('valid min');
  const validMax = r.f64('valid max');
  checkRange(validMin, validMax);
  const backendId = r.u8('lossless backend');
  checkBackend(backendId);
  const flags = r.u8('flags');
  if (flags > 3) throw bad(`corrupted header: unknown flags ${flags}`);
  const fillValue = flags & 2 ? r.f64('fill value') : null;
  let params: Record<string, unknown>;
  let metadata: StreamMetadata;
  try {
    params = JSON.parse(r.string('codec params')) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof FieldpackError) throw e;
    throw bad('corrupted header: codec params are not JSON');
  }
  const metaEnc = r.u8('metadata encoding');
  const metaLen = r.varint('metadata length');
  if (metaEnc > 1) throw bad(`corrupted header: unknown metadata encoding ${metaEnc}`);
  if (metaEnc) checkMetadataLength(metaLen, shape);
  const metaBytes = metaEnc === 1 ? inflateMetadata(backendId, r.block('metadata'), metaLen) : r.block('metadata');
  try {
    metadata = JSON.parse(new TextDecoder().decode(metaBytes)) as StreamMetadata;
  } catch {
    throw bad('corrupted header: metadata is not JSON');
  }
  return {
    codec,
    fieldpackVersion,
    dtype: dt === 0 ? 'float32' : 'float64',
    shape,
    bound: { mode, value, abs, lossless: abs === 0 },
    validMin,
    validMax,
    backendId,
    hasMask: (flags & 1) !== 0,
    fillValue,
    params,
    metadata,
  };
}

/** The stored bytes of chunk i, checked for length and CRC. */
export function chunkBytes(h: StreamHeader, bytes: Uint8Array, i: number): Uint8Array {
  const c = h.chunks[i];
  if (!c) throw new FieldpackError('INVALID_ARGUMENT', `no chunk ${i} (stream has ${h.chunks.length})`);
  if (c.offset + c.storedBytes > bytes.length) {
    throw bad(`truncated stream: chunk ${i} of ${h.chunks.length} needs bytes up to ${c.offset + c.storedBytes}, stream has ${bytes.length}`);
  }
  const b = bytes.subarray(c.offset, c.offset + c.storedBytes);
  if (crc32(b) !== c.crc) throw bad(`corrupted stream: chunk ${i} of ${h.chunks.length} checksum mismatch`);
  return b;
}

/** Chunk i's payload from its stored bytes (checksum already checked): the lossless stage undone, its size checked. */
export function chunkPayload(h: StreamHeader, i: number, stored: Uint8Array): Uint8Array {
  const c = h.chunks[i]!;
  let payload: Uint8Array;
  try {
    payload = c.raw ? stored : losslessBackendById(h.backendId).decompress(stored, c.rawBytes);
  } catch (e) {
    if (e instanceof FieldpackError) throw e;
    throw bad(`corrupted stream: chunk ${i} does not decompress (${e instanceof Error ? e.message : String(e)})`);
  }
  if (payload.length !== c.rawBytes) throw bad(`corrupted stream: chunk ${i} decompresses to ${payload.length} bytes, expected ${c.rawBytes}`);
  return payload;
}
