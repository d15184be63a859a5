/**
 * The chunk envelope: what every codec's chunk payload holds around its own prediction, written and read here
 * once. Pieces, in payload order (each codec writes its own flags byte first and says which pieces follow):
 *
 *   mask           range coded, model 1 (rangecoder.ts, v1 and cross-field), model 2 (maskcoder.ts, classic v2
 *                  and cross-field) or model 3 (model 2 with segments skipped: classic v2 flag 128, cross-field
 *                  flag 32)
 *   value lists    non-finite values, then fill exceptions (masked points whose value is not the fill):
 *                  varint count, (varint index delta, raw f32/f64 value)*; both come back bit for bit
 *   codes          u8 entropy coder (0 Huffman, 1 binary range coder, 2 multi-symbol range coder, 3 static-table
 *                  rANS, 4 and 5: coders 2 and 3 with the line context, 6: coder 4 with the line-back code's sign
 *                  and size in its bit contexts)
 *                  + coded quantization codes (stages save their own state: the coders' bytes are
 *                  self-describing; where the caller does not know the count, coders 2 to 6 start with it)
 *   escapes        varint count (= the number of zero codes), raw values (points the quantizer stores exactly)
 *
 * and, on decode, finishChunk: masked points get the fill value, the lists are put back. A new codec (the VQ-VAE
 * outliers, the residual coders' corrections) codes its quantized values through these functions.
 */
import { FieldpackError } from '../errors.ts';
import type { FieldValues } from '../field.ts';
import { maskedScan, validRange } from './bound.ts';
import { countCodeKernel } from './wasm-kernels.ts';
import type { ByteReader, ByteWriter } from './bytes.ts';
import { huffmanDecode, huffmanEncode } from './huffman.ts';
import { MASK_SEGMENT, maskDecode2, maskDecode3, maskEncode2, maskEncode3 } from './maskcoder.ts';
import { type CodeLines, msDecodeCodes, msDecodeCodesBare, msEncodeCodes, msEncodeCodesBare } from './mscoder.ts';
import type { LinearQuantizer } from './quantizer.ts';
import { rangeDecodeCodes, rangeDecodeMask, rangeEncodeCodes, rangeEncodeMask } from './rangecoder.ts';
import { codeStatistics, ransDecodeCodesBare, ransEncodeCodesBare, ransLinesSuits, ransSuits } from './rans.ts';

const bad = (msg: string) => new FieldpackError('BAD_STREAM', msg);

export const ENTROPY_HUFFMAN = 0;
/** adaptive binary range coder (rangecoder.ts) */
export const ENTROPY_RANGE = 1;
/** multi-symbol adaptive range coder (mscoder.ts), format v2 */
export const ENTROPY_MS = 2;
/** static-table rANS (rans.ts): ~2x faster to decode than ENTROPY_MS, as small where ransSuits says so */
export const ENTROPY_RANS = 3;
/**
 * the multi-symbol coder with the line context (mscoder.ts, CodeLines): chunks with nothing skipped whose layout of
 * lines the decoder derives from the chunk's shape and predictor (classic format v2; the cross-field and VQ-VAE
 * interpolation hybrids, which keep the count before the coded block)
 */
export const ENTROPY_MS_LINES = 4;
/**
 * coder 4 with the code one line back in the sign and top bits' contexts (mscoder.ts signContext, upRelation): what
 * the classic, cross-field and VQ-VAE encoders write where coder 4 was (readers before it refuse it as unknown)
 */
export const ENTROPY_MS_LINE_SIGNS = 6;
/**
 * static-table rANS with the line context (rans.ts), where coder 4 could code: large chunks not mostly zeros
 * (ransLinesSuits), about as small as coder 4 (-1.45 % to +0.54 % on the bench's chunks) and as fast; readers
 * before it refuse it as unknown
 */
export const ENTROPY_RANS_LINES = 5;
/** chunks with at most this many codes try both range coders (and rANS where it suits) and keep the smallest */
export const TRY_BOTH_MAX_CODES = 1 << 18;
/**
 * chunks with lines and at least this many codes do not try the previous-two-symbols coder (2) nor the binary one (1)
 * beside coder 6: on none of the 97 such chunks of the bench set, its variants and the held-out ferret fields
 * (esku_heat_budget, etopo40/60/120) at rel 1e-2..1e-4 was either smaller; coding them was a quarter of the coders'
 * time. Smaller chunks, where either can win by a few bytes, still try them.
 */
const LINES_ALONE_MIN_CODES = 1 << 15;
/**
 * Which coders a chunk tries beside the multi-symbol one, by its share of zero residuals. Static-table rANS (3) wins
 * only on busy codes (its tables cannot follow the zero runs the adaptive coders model): on real fields, with lines it
 * was never smaller at 20 % zeros or more, without lines at 8.6 % or more (a crafted chunk of two alternating
 * statistics, rans.test.ts, wins at 21 %: hence 25 %); the binary coder (1) wins only where zeros are common, never
 * below 8.6 %. Over the 302 chunks of the bench fields, their variants and the held-out ones (esku_heat_budget,
 * etopo40/60, the synthetic held.nc and shapes.nc) at rel 1e-2..1e-4, these thresholds change no chunk's bytes and
 * leave out 48 codings: rANS on COADS at 1e-2, WRF P at 1e-4; the binary coder on COADS at 1e-4 (about 2 ms of a
 * 10 ms chunk each).
 */
const RANS_LINES_MAX_ZERO_SHARE = 0.2;
const RANS_MAX_ZERO_SHARE = 0.25;
const BINARY_TRY_MIN_ZERO_SHARE = 0.05;
/** chunks with lines and fewer residuals (non-zero codes) than this try coder 4 beside coder 6 (cheap to code) */
const FEW_RESIDUALS = 1 << 11;
/**
 * larger chunks without lines: share of zero codes from which the binary coder is tried beside the multi-symbol one.
 * It was used alone there (faster), but it was smaller on none of the 26 such chunks with lines of the bench set, its
 * variants and the held-out fields at rel 1e-2..1e-4 (the multi-symbol coder 1.3 % to 5 x smaller: a smooth
 * geopotential at 1e-2, 13.6 KB against 2.7 KB), and without lines it wins by at most 2 % (and loses by up to 2.3 x).
 * Effort fast (one coder) tries it from this share on chunks of up to 2^18 codes without lines as well.
 */
const BINARY_MIN_ZERO_SHARE = 0.85;

/**
 * A list of points stored exactly: chunk-local indices and their values' bytes as stored (little endian, 4 or 8
 * each). Bytes, not numbers: a NaN's sign and payload must come back bit for bit, and a JS number array may
 * canonicalise NaNs.
 */
export interface ValueList {
  idx: number[];
  raw: Uint8Array;
  width: 4 | 8;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Points outside prediction: masked ones whose value is not the fill, and valid ones that are NaN or +-Inf. */
export interface Exceptions {
  /** 1 = not predicted (masked or non-finite) */
  skip: Uint8Array | null;
  nSkip: number;
  nonfinite: number[];
  fillExc: number[];
}

export function scanExceptions(values: FieldValues, mask: Uint8Array | null, fillValue: number | null): Exceptions {
  const n = values.length;
  // without a mask the usual answer is none: one tight pass finds it (validRange's count: in SIMD lanes on a chunk)
  if (mask === null && validRange(values).count === n) return { skip: null, nSkip: 0, nonfinite: [], fillExc: [] };
  // with a mask and a fill value the usual answer is the mask's inverse alone (masked points hold the fill, valid ones
  // are finite): one pass in the module finds it; else the loop below makes the lists (without a fill value every
  // masked point is listed, so the pass would only be done again)
  const usual = mask === null || fillValue === null ? null : maskedScan(values, mask, fillValue, true);
  if (usual && usual.nonfinite === 0 && usual.notFill === 0) {
    const nSkip = n - usual.count;
    return { skip: nSkip ? usual.skip : null, nSkip, nonfinite: [], fillExc: [] };
  }
  let skip: Uint8Array | null = null;
  let nSkip = 0;
  const nonfinite: number[] = [];
  const fillExc: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (mask !== null && mask[i] === 0) {
      skip ??= new Uint8Array(n);
      skip[i] = 1;
      nSkip++;
      if (fillValue === null || !sameValue(v, fillValue)) fillExc.push(i);
    } else if (v - v !== 0) {
      skip ??= new Uint8Array(n);
      skip[i] = 1;
      nSkip++;
      nonfinite.push(i);
    }
  }
  return { skip, nSkip, nonfinite, fillExc };
}

/**
 * Object.is for two numbers, without its call: scanExceptions runs it on every masked point, once per chunk and
 * planning sample, cold, where the call boxed each value.
 */
function sameValue(a: number, b: number): boolean {
  return a === b ? a !== 0 || 1 / a === 1 / b : a !== a && b !== b;
}

/** fastest-dim length and last-two-dims plane size: the mask coders' contexts */
export function maskGeometry(shape: readonly number[]): [number, number] {
  const s = shape.filter((d) => d > 1);
  const w = s.length ? s[s.length - 1]! : 1;
  const plane = s.length >= 2 ? w * s[s.length - 2]! : w;
  return [w, plane];
}

export type MaskModel = 1 | 2 | 3;

/**
 * The model a new chunk's mask is coded with: 3 where its rows hold two of model 3's segments or more, else 2 (rows
 * of a few points, stations x 24 hours or x 4 levels, rarely equal the one before: a bit a row cost 5-12 % more).
 */
export function maskModelFor(shape: readonly number[]): 2 | 3 {
  return maskGeometry(shape)[0] >= 2 * MASK_SEGMENT ? 3 : 2;
}

export function writeMask(w: ByteWriter, mask: Uint8Array, shape: readonly number[], model: MaskModel): void {
  const kept = mask.length >= CODED_MASK_MIN_POINTS;
  const known = kept ? knownMaskCoding(mask, shape, model) : undefined;
  if (known) {
    w.bytes(known);
    return;
  }
  const start = w.pos;
  const [mw, plane] = maskGeometry(shape);
  if (model === 3) maskEncode3(mask, mw, plane, w);
  else if (model === 2) maskEncode2(mask, mw, plane, w);
  else rangeEncodeMask(mask, mw, plane, w);
  if (kept) rememberMaskCoding(mask, shape, model, w.buf.slice(start, w.pos));
}

/**
 * The last large masks coded in this thread, with their bytes (which follow from the mask, the shape and the model):
 * the classic codec's planning codes the sample's mask and a field of one chunk planned on all its values then codes
 * the same mask again (COADS' 194 k points: 1.5 ms of its 7 ms chunk); the cross-field codec codes the field's mask
 * for each hybrid it encodes in full, and the core codec's stream beside them once more (Levitus' 1.3 M points: 10 ms
 * each). Matched by content, so a reused buffer never gets another mask's bytes. (Handing the bytes to a worker that
 * encodes the chunk early was tried: slower, 16.0 -> 17.9 ms on COADS SST rel 1e-3.)
 */
const codedMasks: { key: string; mask: Uint8Array; bytes: Uint8Array }[] = [];
const CODED_MASKS_KEPT = 4;
/**
 * Masks of fewer points are not kept: they code in little time, and the classic codec's eight spread blocks would
 * push out a field's (Levitus' 1.3 M points: 10 ms again for each time step of a series)
 */
const CODED_MASK_MIN_POINTS = 1 << 14;

const maskKey = (shape: readonly number[], model: MaskModel) => `${model}:${shape.join('x')}`;

/** writeMask's bytes for this mask, shape and model where this thread coded them last, else undefined. */
function knownMaskCoding(mask: Uint8Array, shape: readonly number[], model: MaskModel): Uint8Array | undefined {
  const key = maskKey(shape, model);
  return codedMasks.find((m) => m.key === key && sameBytes(m.mask, mask))?.bytes;
}

function rememberMaskCoding(mask: Uint8Array, shape: readonly number[], model: MaskModel, bytes: Uint8Array): void {
  codedMasks.unshift({ key: maskKey(shape, model), mask: mask.slice(), bytes });
  codedMasks.length = Math.min(codedMasks.length, CODED_MASKS_KEPT);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  // four bytes a step where both views allow it (a field-sized mask byte by byte: 4.6 % of COADS SST's whole encode);
  // from a word that differs, the bytes say where
  let i = 0;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const words = a.length >>> 2;
    const wa = new Int32Array(a.buffer, a.byteOffset, words);
    const wb = new Int32Array(b.buffer, b.byteOffset, words);
    while (i < words && wa[i] === wb[i]) i++;
    i <<= 2;
  }
  for (; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether every row along dim 0 of a chunk's mask is its first row's (a fixed land mask over the time steps of a
 * (time, depth, lat, lon) field): the classic codec then codes one row's mask (chunk flag 64). The mask coder's
 * context reaches one slice back, which for 4D fields is the level above, not the time step before.
 */
export function maskRowsRepeat(mask: Uint8Array, shape: readonly number[]): boolean {
  if (shape.length < 3 || shape[0]! < 2) return false;
  const row = mask.length / shape[0]!;
  for (let i = row; i < mask.length; i++) if (mask[i] !== mask[i - row]) return false;
  return true;
}

/** The mask of a chunk's first row repeated over its `rows` rows. */
export function repeatMaskRows(first: Uint8Array, rows: number): Uint8Array {
  const out = new Uint8Array(first.length * rows);
  for (let k = 0; k < rows; k++) out.set(first, k * first.length);
  return out;
}

export function readMask(r: ByteReader, shape: readonly number[], n: number, model: MaskModel): Uint8Array {
  const [mw, plane] = maskGeometry(shape);
  return model === 3 ? maskDecode3(r, n, mw, plane) : model === 2 ? maskDecode2(r, n, mw, plane) : rangeDecodeMask(r, n, mw, plane);
}

export function writeRaw(w: ByteWriter, f32: boolean, v: number): void {
  if (f32) w.f32(v);
  else w.f64(v);
}

/** A value writeRaw wrote (`field` names it in a truncation error) */
export function readRaw(r: ByteReader, f32: boolean, field: string): number {
  return f32 ? r.f32(field) : r.f64(field);
}

/**
 * Writes each non-empty list (the flags byte says which are present); `offset` maps list indices into `values`.
 * Values are copied as bytes when `values` holds them in the stream's width (a NaN's payload stays exact).
 */
export function writeValueLists(w: ByteWriter, lists: readonly number[][], values: ArrayLike<number>, f32: boolean, offset = 0): void {
  const width = f32 ? 4 : 8;
  const typed = (f32 ? values instanceof Float32Array : values instanceof Float64Array) ? (values as FieldValues) : null;
  const src = typed ? new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength) : null;
  const one = new Uint8Array(width);
  for (const list of lists) {
    if (!list.length) continue;
    w.varint(list.length);
    let prev = 0;
    for (const i of list) {
      w.varint(i - prev);
      prev = i;
      if (!src) {
        writeRaw(w, f32, values[offset + i]!);
        continue;
      }
      const at = (offset + i) * width;
      for (let b = 0; b < width; b++) one[b] = src[at + (LITTLE_ENDIAN ? b : width - 1 - b)]!;
      w.bytes(one);
    }
  }
}

export function readValueList(r: ByteReader, n: number, f32: boolean, label: string, what: string): ValueList {
  const cnt = r.varint(label + ' count');
  // each entry takes a varint and a raw value: a count the bytes cannot hold is refused before allocating for it
  if (cnt > n || cnt * (f32 ? 5 : 9) > r.remaining()) throw bad(`corrupted stream: ${what} lists ${cnt} ${label} (${n} points, ${r.remaining()} bytes left)`);
  const idx = new Array<number>(cnt);
  const width = f32 ? 4 : 8;
  const raw = new Uint8Array(cnt * width);
  let p = 0;
  for (let k = 0; k < cnt; k++) {
    p += r.varint(label + ' index');
    if (p >= n) throw bad(`corrupted stream: ${label} index out of range in ${what}`);
    idx[k] = p;
    raw.set(r.bytes(width, 'value'), k * width);
  }
  return { idx, raw, width };
}

export interface CodeCoding {
  /**
   * 'range': the multi-symbol coder, or the binary one where smaller (small chunks; large ones of mostly zeros without lines), or
   * rANS where ransSuits (large chunks: in its place; up to TRY_BOTH_MAX_CODES: the smallest of the three);
   * 'rans': rANS wherever it can code the chunk (radius <= 2^16), else as 'range'
   */
  entropy: 'range' | 'ms' | 'huffman' | 'auto' | 'rans';
  /** the multi-symbol coder without its own count (format v2 classic: the chunk's rows give it) */
  bareCount: boolean;
  /** large chunks of mostly zero codes without lines try the binary coder beside the multi-symbol one (classic) */
  largeBinaryTry: boolean;
  /** where the codes' lines are (nothing skipped, a known pass order): the multi-symbol coder then uses the line context */
  lines?: CodeLines | null;
  /**
   * 'range' chunks up to TRY_BOTH_MAX_CODES: the size of a block after the stream's lossless stage (classic: zstd),
   * which then also sizes the codes Huffman-coded: repeated runs of codes, which the context coders see only a
   * symbol or a line back, are strings the lossless stage finds (see HUFFMAN_LZ_GAIN)
   */
  packedSize?: (block: Uint8Array) => number;
  /**
   * 'range': the coder the codes' statistics pick (rANS or the multi-symbol coder with its context), no other tried
   * but the binary coder on mostly-zero codes without lines, and Huffman through the lossless stage where packedSize
   * is given
   */
  oneCoder?: boolean;
}

/**
 * Huffman codes are kept where the lossless stage packs them this much smaller than the context coders' bytes.
 * They win where code sequences repeat: the coordinates of unstructured grids (CAM-SE longitudes, element by element:
 * 0.47-0.6 x), fields stored to few digits (storm winds at rel 1e-4: 0.8-0.9 x); elsewhere they are larger (the
 * other 741 chunk codings of the NCL sample data and the bench variants: 7-56 % from the tenth to the ninetieth
 * percentile, 21 % the median).
 */
const HUFFMAN_LZ_GAIN = 0.97;

/** Share of zero residuals above which 'auto' uses the range coder rather than Huffman. */
export const RANGE_CODER_MIN_ZERO_SHARE = 0.5;

/** true when at least `share` of the codes are zero residuals */
function zerosDominate(q: LinearQuantizer, share: number): boolean {
  // zeros >= share x n exactly when the other codes are at most n - share x n (a difference of doubles that is
  // exact here): counting those stops at the first count past it, early in a busy chunk
  const othersAllowed = q.nCodes - share * q.nCodes;
  const past = Math.floor(othersAllowed) + 1;
  return residualsUpTo(q, past) < past;
}

/** true when fewer than `limit` codes are residuals (not zero residuals) */
function fewResiduals(q: LinearQuantizer, limit: number): boolean {
  return residualsUpTo(q, limit) < limit;
}

/** How many codes are residuals (not zero residuals), counted up to `cap` at most: the kernel's count where it gave one. */
function residualsUpTo(q: LinearQuantizer, cap: number): number {
  // the quantizer's fields in locals: read per value they cost more than the count (the loop runs once, cold)
  const { codes, nCodes, radius } = q;
  const zeros = q.knownZeros();
  if (zeros !== null) return Math.min(nCodes - zeros, cap);
  let residuals = 0;
  for (let i = 0; i < nCodes && residuals < cap; i++) if (codes[i] !== radius) residuals++;
  return residuals;
}

/**
 * u8 entropy coder + the quantizer's codes, the smallest of the coders `how` allows. rANS replaces the adaptive
 * coders where static tables do as well (ransSuits: a large chunk whose codes are not mostly zeros and do not
 * drift along it); the adaptive multi-symbol coder keeps small chunks (the tables' bytes), mostly-zero codes and
 * drifting statistics.
 */
export function writeCodes(w: ByteWriter, q: LinearQuantizer, how: CodeCoding, newWriter: (cap: number) => ByteWriter): void {
  const { radius, nCodes, codes } = q;
  let useRange = how.entropy !== 'huffman';
  if (how.entropy === 'auto') useRange = zerosDominate(q, RANGE_CODER_MIN_ZERO_SHARE);
  if (!useRange) {
    w.u8(ENTROPY_HUFFMAN);
    huffmanEncode(codes, nCodes, 2 * radius, w);
    return;
  }
  if (how.entropy === 'rans' && radius <= 65536 && nCodes > 0) {
    w.u8(ENTROPY_RANS);
    writeRans(w, q, how.bareCount);
    return;
  }
  // the line context where the lines are known, else the previous two symbols
  const lines = how.lines ?? null;
  const largeMostlyZeros = nCodes > TRY_BOTH_MAX_CODES && zerosDominate(q, BINARY_MIN_ZERO_SHARE);
  // (the classic codec's mostly-zero large chunks skip rANS: its static tables do not follow zero runs)
  if (how.entropy === 'range' && nCodes > TRY_BOTH_MAX_CODES && !(how.largeBinaryTry && largeMostlyZeros)) {
    const stats = codeStatistics(codes, nCodes, radius);
    // where the lines are known, static tables keep the line context (coder 5): coder 3 without it was 6-7 % larger
    // on the chunks that ransSuits passes and ransLinesSuits turns away (etopo5's at 1.34-1.45 bits a code, rel
    // 1e-3), and 6-30 % on every large chunk with lines of the bench files and their variants
    if (lines && (ransLinesSuits(stats) || ransSuits(stats))) {
      w.u8(ENTROPY_RANS_LINES);
      writeRans(w, q, how.bareCount, lines);
      return;
    }
    if (ransSuits(stats)) {
      w.u8(ENTROPY_RANS);
      writeRans(w, q, how.bareCount);
      return;
    }
  }
  const ransTry = how.entropy === 'range' && nCodes <= TRY_BOTH_MAX_CODES && ransWorthTrying(q, lines !== null);
  const coded = (write: (bw: ByteWriter) => void): Uint8Array => {
    const bw = newWriter(Math.max(64, nCodes >>> 3));
    write(bw);
    return bw.finish();
  };
  /** the multi-symbol coder (with lines: coder 6 with the line-back sign, or 4 without), with the count first where the decoder does not know it */
  const ms = (bw: ByteWriter, l: CodeLines | null, lineSigns = l !== null) =>
    how.bareCount ? msEncodeCodesBare(codes, nCodes, radius, bw, l, 'fast', lineSigns) : msEncodeCodes(codes, nCodes, radius, bw, l, lineSigns);
  // one coder (effort fast): rANS where the tries below would try it. Over the 75 chunks of 2^16-2^18 codes where
  // they did (the bench set, its variants, NCL's and the R packages' samples), it was 0.6 % smaller to 5.1 % larger
  // than the multi-symbol coder, 0.16 % in all, and decodes about twice as fast
  let coder = how.oneCoder && ransTry ? ENTROPY_RANS : lines ? ENTROPY_MS_LINE_SIGNS : ENTROPY_MS;
  let best = coded((bw) => (coder === ENTROPY_RANS ? writeRans(bw, q, how.bareCount) : ms(bw, lines)));
  /** another coder's bytes, kept when smaller than the best so far */
  const tryCoder = (id: number, write: (bw: ByteWriter) => void) => {
    const b = coded(write);
    if (b.length < best.length) {
      best = b;
      coder = id;
    }
  };
  if (!how.oneCoder) {
    // small chunks: the previous two symbols as well (a few bytes better on some tiny Lorenzo chunks), and coder 4
    // where there are few residuals (coder 6's sign contexts can take a byte more to learn than they save)
    const linesAlone = lines !== null && nCodes >= LINES_ALONE_MIN_CODES;
    if (lines && nCodes <= TRY_BOTH_MAX_CODES && !linesAlone) tryCoder(ENTROPY_MS, (bw) => ms(bw, null));
    if (lines && fewResiduals(q, FEW_RESIDUALS)) tryCoder(ENTROPY_MS_LINES, (bw) => ms(bw, lines, false));
    if (how.largeBinaryTry && how.entropy !== 'ms' && largeMostlyZeros && !lines) tryCoder(ENTROPY_RANGE, (bw) => rangeEncodeCodes(codes, nCodes, radius, bw));
    if (how.entropy !== 'ms' && nCodes <= TRY_BOTH_MAX_CODES) {
      if (!linesAlone && (lines || zerosDominate(q, BINARY_TRY_MIN_ZERO_SHARE))) tryCoder(ENTROPY_RANGE, (bw) => rangeEncodeCodes(codes, nCodes, radius, bw));
      if (ransTry) tryCoder(ENTROPY_RANS, (bw) => writeRans(bw, q, how.bareCount));
    }
  } else if (!lines && how.entropy === 'range' && nCodes <= TRY_BOTH_MAX_CODES && zerosDominate(q, BINARY_MIN_ZERO_SHARE)) {
    // one coder, but mostly zeros without lines (skipped points): the binary coder too, cheap there. Undeclared
    // fills of NaN and 9999 both (COADS SST) coded 26-34 % smaller so; 50 of 2517 fast codings smaller, none larger
    tryCoder(ENTROPY_RANGE, (bw) => rangeEncodeCodes(codes, nCodes, radius, bw));
  }
  if (how.packedSize && how.entropy === 'range' && nCodes <= TRY_BOTH_MAX_CODES) {
    const huffman = coded((bw) => huffmanEncode(codes, nCodes, 2 * radius, bw));
    if (how.packedSize(huffman) < HUFFMAN_LZ_GAIN * best.length) {
      w.u8(ENTROPY_HUFFMAN);
      w.bytes(huffman);
      return;
    }
  }
  w.u8(coder);
  w.bytes(best);
}

/** Busy codes whose statistics hold over the chunk: static-table rANS (coder 3) may be the smaller coding there. */
function ransWorthTrying(q: LinearQuantizer, withLines: boolean): boolean {
  return !zerosDominate(q, withLines ? RANS_LINES_MAX_ZERO_SHARE : RANS_MAX_ZERO_SHARE) && ransSuits(codeStatistics(q.codes, q.nCodes, q.radius));
}

/** rANS block (coder 5 where lines are given, else 3), after the count where the decoder does not know it (as msEncodeCodes) */
function writeRans(w: ByteWriter, q: LinearQuantizer, bareCount: boolean, lines: CodeLines | null = null): void {
  if (!bareCount) w.varint(q.nCodes);
  ransEncodeCodesBare(q.codes, q.nCodes, q.radius, w, lines);
}

function readRans(r: ByteReader, radius: number, nPredicted: number, bareCount: boolean, into?: Uint32Array, lines: CodeLines | null = null): Uint32Array {
  if (!bareCount) {
    const n = r.varint('symbol count');
    if (n !== nPredicted) throw bad(`corrupted stream: ${r.what} has ${n} rANS-coded symbols, expected ${nPredicted}`);
  }
  if (radius > 65536) throw bad(`corrupted stream: rANS-coded codes in ${r.what} with radius ${radius} (at most 65536)`);
  return ransDecodeCodesBare(r, radius, nPredicted, into, lines);
}

/** The largest quantization radius a stream may use (DEFAULT_RADIUS is 2^15; the range coders need < 2^17). */
export const MAX_RADIUS = 1 << 20;

/** A radius from a stream's params: an integer in [1, MAX_RADIUS], or BAD_STREAM naming it. */
export function checkRadius(radius: unknown, what: string): number {
  if (typeof radius !== 'number' || !Number.isInteger(radius) || radius < 1 || radius > MAX_RADIUS) {
    throw bad(`corrupted header: ${what} radius ${String(radius)} (an integer 1..${MAX_RADIUS})`);
  }
  return radius;
}

/**
 * Reads the coder byte and the codes; checks their count against the points to predict (before the coders allocate:
 * the count is the caller's, never the stream's). `allowed.lines`: the chunk's layout of lines where its encoder
 * could use the line context (nothing skipped, a predictor whose lines are known); a chunk coded with it anywhere
 * else is refused. `into`: memory of nPredicted codes the caller owns (e.g. scratch) that the range and rANS
 * coders decode into instead of a new array.
 */
export function readCodes(
  r: ByteReader, radius: number, nPredicted: number, what: string, allowed: { huffman: boolean; ms: boolean; bareCount: boolean; lines?: () => CodeLines | null },
  into?: Uint32Array,
): Uint32Array {
  const coder = r.u8('entropy coder');
  // rANS wherever the multi-symbol coder may be (format v2 and the codecs that code through here)
  const lineCoder = coder === ENTROPY_MS_LINES || coder === ENTROPY_RANS_LINES || coder === ENTROPY_MS_LINE_SIGNS;
  const lineSigns = coder === ENTROPY_MS_LINE_SIGNS;
  if (!((coder === ENTROPY_HUFFMAN && allowed.huffman) || coder === ENTROPY_RANGE || ((coder === ENTROPY_MS || coder === ENTROPY_RANS) && allowed.ms) || lineCoder)) {
    throw bad(`corrupted stream: unknown entropy coder ${coder} in ${what}`);
  }
  const lines = lineCoder && allowed.ms ? (allowed.lines?.() ?? null) : null;
  if (lineCoder && !lines) throw bad(`corrupted stream: ${what} uses the line context (entropy coder ${coder}) where its codes have no lines`);
  const codes =
    coder === ENTROPY_HUFFMAN ? huffmanDecode(r, 2 * radius, nPredicted)
    : coder === ENTROPY_RANGE ? rangeDecodeCodes(r, radius, nPredicted, 'fast', into)
    : coder === ENTROPY_RANS || coder === ENTROPY_RANS_LINES ? readRans(r, radius, nPredicted, allowed.bareCount, into, lines)
    : allowed.bareCount ? msDecodeCodesBare(r, radius, nPredicted, lines, 'fast', into, lineSigns)
    : msDecodeCodes(r, radius, nPredicted, lines, lineSigns, into);
  if (codes.length !== nPredicted) throw bad(`corrupted stream: ${what} has ${codes.length} codes for ${nPredicted} points`);
  return codes;
}

export function writeEscapes(w: ByteWriter, q: LinearQuantizer, f32: boolean): void {
  w.varint(q.nEscapes);
  for (let i = 0; i < q.nEscapes; i++) writeRaw(w, f32, q.escapes[i]!);
}

/** The escaped values; their count must equal the number of zero (escape) codes. */
export function readEscapes(r: ByteReader, codes: Uint32Array, f32: boolean, what: string): Float64Array {
  const nEsc = r.varint('escape count');
  const zeros = escapeCodes(codes);
  if (zeros !== nEsc) throw bad(`corrupted stream: ${what} has ${zeros} escape codes but ${nEsc} escaped values`);
  r.need(nEsc * (f32 ? 4 : 8), 'escaped values');
  const esc = new Float64Array(nEsc);
  for (let k = 0; k < nEsc; k++) esc[k] = readRaw(r, f32, 'value');
  return esc;
}

/** Chunks from this many codes count their escape codes in the WebAssembly module (below, the call costs more). */
const COUNT_KERNEL_MIN_CODES = 1 << 14;
let countKernel: ReturnType<typeof countCodeKernel> | false | undefined;

/** How many codes are escapes (code 0). */
function escapeCodes(codes: Uint32Array): number {
  if (codes.length >= COUNT_KERNEL_MIN_CODES) {
    countKernel ??= countCodeKernel() ?? false;
    const counted = countKernel ? countKernel(codes, 0) : null;
    if (counted !== null) return counted;
  }
  let zeros = 0;
  for (let k = 0; k < codes.length; k++) if (codes[k] === 0) zeros++;
  return zeros;
}

/**
 * Calls `run` with each run [start, end) of masked points (0) of a mask of 0 and 1: found by indexOf, the engine's
 * byte search, so a land mask costs its runs rather than a branch a point (Levitus' 1.3 M points: filling and
 * skipping them were 8 of a 24 ms decode).
 */
export function eachMaskedRun(mask: Uint8Array, run: (start: number, end: number) => void): void {
  for (let start = mask.indexOf(0); start >= 0; ) {
    let end = mask.indexOf(1, start);
    if (end < 0) end = mask.length;
    run(start, end);
    start = end < mask.length ? mask.indexOf(0, end) : -1;
  }
}

/** Masked points get the fill value; fill exceptions and non-finite values come back exactly. */
export function finishChunk(out: FieldValues, mask: Uint8Array | null, fillValue: number | null, fillExc: ValueList | null, nonfinite: ValueList | null): { values: FieldValues; mask: Uint8Array | null } {
  if (mask) {
    const fill = fillValue ?? NaN;
    eachMaskedRun(mask, (start, end) => out.fill(fill, start, end));
  }
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  for (const list of [fillExc, nonfinite]) {
    if (!list) continue;
    const w = list.width;
    list.idx.forEach((k, j) => {
      for (let b = 0; b < w; b++) bytes[k * w + (LITTLE_ENDIAN ? b : w - 1 - b)] = list.raw[j * w + b]!;
    });
  }
  return { values: out, mask };
}

/** Chunk flag bits every codec of the envelope uses the same way (codecs add their own above these). */
export const F_MASK = 1;
export const F_NONFINITE = 2;
export const F_FILLEXC = 4;

export interface ChunkHead {
  mask: Uint8Array | null;
  /** 1 where a point is not coded (masked, or a non-finite value stored exactly) */
  skip: Uint8Array;
  nonfinite: ValueList | null;
  fillExc: ValueList | null;
}

/** The F_MASK / F_NONFINITE / F_FILLEXC bits for what a chunk has. */
export function chunkHeadFlags(mask: Uint8Array | null, nonfinite: readonly number[], fillExc: readonly number[]): number {
  return (mask ? F_MASK : 0) | (nonfinite.length ? F_NONFINITE : 0) | (fillExc.length ? F_FILLEXC : 0);
}

/** Writes what readChunkHead reads: the mask (model given), then the two exact-value lists. Returns the mask's bytes. */
export function writeChunkHead(w: ByteWriter, mask: Uint8Array | null, shape: readonly number[], nonfinite: number[], fillExc: number[], values: ArrayLike<number>, f32: boolean, maskModel: MaskModel): number {
  const m0 = w.pos;
  if (mask) writeMask(w, mask, shape, maskModel);
  const maskBytes = w.pos - m0;
  writeValueLists(w, [nonfinite, fillExc], values, f32);
  return maskBytes;
}

/** Reads what F_MASK / F_NONFINITE / F_FILLEXC announce: the mask (model given), then the two exact-value lists. */
export function readChunkHead(r: ByteReader, flags: number, shape: readonly number[], n: number, f32: boolean, what: string, maskModel: MaskModel): ChunkHead {
  let mask: Uint8Array | null = null;
  const skip = new Uint8Array(n);
  if (flags & F_MASK) {
    mask = readMask(r, shape, n, maskModel);
    eachMaskedRun(mask, (start, end) => skip.fill(1, start, end));
  }
  const nonfinite = flags & F_NONFINITE ? readValueList(r, n, f32, 'non-finite values', what) : null;
  const fillExc = flags & F_FILLEXC ? readValueList(r, n, f32, 'fill exceptions', what) : null;
  if (nonfinite) for (const k of nonfinite.idx) skip[k] = 1;
  return { mask, skip, nonfinite, fillExc };
}

/** A field's mask as a stream stores it: none when every point is valid; the fill value is the first masked point's. */
export function maskAndFill(values: ArrayLike<number>, mask: Uint8Array | null | undefined): { mask: Uint8Array | null; fillValue: number | null } {
  if (!mask) return { mask: null, fillValue: null };
  const k = mask.indexOf(0);
  return k < 0 ? { mask: null, fillValue: null } : { mask, fillValue: values[k]! };
}

/**
 * What an encoder needs before coding a chunk: which points are not coded (masked, or non-finite: stored exactly),
 * the mask to store (none when every point is valid) and the exact-value lists.
 */
export function scanChunk(values: FieldValues, mask: Uint8Array | null, fillValue: number | null): Omit<Exceptions, 'skip'> & { skip: Uint8Array; mask: Uint8Array | null } {
  const stored = mask && mask.includes(0) ? mask : null;
  const e = scanExceptions(values, stored, fillValue);
  return { ...e, skip: e.skip ?? new Uint8Array(values.length), mask: stored };
}
