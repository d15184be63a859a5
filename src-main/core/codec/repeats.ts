/**
 * Rows that repeat far apart: a chunk's rows (along its first dimension: time steps of a 3-D chunk, lines of a 2-D
 * one) bit for bit equal to an earlier row that is not the one just before, mask included. A daily cycle repeated
 * over days, a monthly climatology over years, a tiled pattern. Interpolation and Lorenzo see only neighbours, so
 * such repeats cost their full bits again; the classic codec then also codes the distinct rows alone and copies the
 * others (classic/codec.ts, REPEATED_ROWS_ID). A row equal to the one before (a static field over time) is not
 * counted: prediction already makes it nearly free.
 *
 * The test reads a fingerprint of up to FINGERPRINT_WORDS words of each row and compares rows only where fingerprints
 * meet, at most MAX_CANDIDATES each: an etopo5 chunk of 485 x 4320 values takes about 0.1 ms, about 1 % of coding it.
 */
import type { FieldValues } from '../field.ts';

const FINGERPRINT_WORDS = 64;
/** earlier rows of one fingerprint (or hash) a row is compared with: a chunk of many rows alike (zero rows, crafted
 * collisions) stays linear */
const MAX_CANDIDATES = 16;
/**
 * Rows the far-repeat test reads: at least MIN_ROW_VALUES values each and at most MAX_ROWS of them. Narrower rows are
 * not a pattern worth a row map (a 2-D field of 4 M rows of one value took 5 s in a map entry per row), and the
 * repeats it finds (days over days, months over years, tiles down a map) come in hundreds of rows, not millions.
 */
const MIN_ROW_VALUES = 16;
const MAX_ROWS = 1 << 13;

/** Hashes and bitwise comparisons of a chunk's rows. */
function rowsOf(values: FieldValues, mask: Uint8Array | null, rows: number) {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.byteLength >>> 2);
  const rowWords = words.length / rows;
  const rowValues = values.length / rows;
  const valueWords = rowWords / rowValues;
  return {
    /** FNV-1a of every `step`-th word of row r */
    hash(r: number, step: number): number {
      let h = 2166136261;
      for (let k = r * rowWords, end = k + rowWords; k < end; k += step) h = Math.imul(h ^ words[k]!, 16777619);
      return h >>> 0;
    },
    // odd, so that a float64 row is read in both its words (a float32 value widened has a low word of zeros)
    fingerprintStep: Math.max(1, Math.floor(rowWords / FINGERPRINT_WORDS)) | 1,
    equal(a: number, b: number): boolean {
      for (let k = 0; k < rowWords; k++) if (words[a * rowWords + k] !== words[b * rowWords + k]) return false;
      if (mask) for (let k = 0; k < rowValues; k++) if (mask[a * rowValues + k] !== mask[b * rowValues + k]) return false;
      return true;
    },
    /** every value of row r has the bits of its first */
    constant(r: number): boolean {
      const first = r * rowWords;
      for (let k = first + valueWords; k < first + rowWords; k++) if (words[k] !== words[first + ((k - first) % valueWords)]) return false;
      return true;
    },
  };
}

/** How many rows of the chunk repeat an earlier row that is not the one just before (constant rows not counted). */
export function farRepeatedRows(values: FieldValues, mask: Uint8Array | null, shape: readonly number[]): number {
  const rows = shape[0] ?? 0;
  if (shape.length < 2 || rows < 3 || rows > MAX_ROWS || values.length < rows * MIN_ROW_VALUES) return 0;
  const row = rowsOf(values, mask, rows);
  const byFingerprint = new Map<number, number[]>();
  let repeated = 0;
  for (let r = 0; r < rows; r++) {
    const fp = row.hash(r, row.fingerprintStep);
    const earlier = byFingerprint.get(fp);
    if (!earlier) {
      byFingerprint.set(fp, [r]);
      continue;
    }
    // a row equal to the one before is not counted, and one with its fingerprint taken for it unread (etopo5's
    // polar rows, 70 of a chunk's 485, each one value repeated: reading them was nearly all of the test's time); the
    // test only decides whether the distinct rows are tried, distinctRows compares every row it copies
    if (earlier[earlier.length - 1] === r - 1) {
      earlier.push(r);
      continue;
    }
    // the latest rows of this fingerprint, compared until one is equal: unequal rows differ within a few words
    let found = false;
    for (let j = earlier.length - 1, tried = 0; j >= 0 && tried < MAX_CANDIDATES && !found; j--, tried++) found = row.equal(earlier[j]!, r);
    if (found && !row.constant(r)) repeated++;
    earlier.push(r);
  }
  return repeated;
}

/** Whether enough rows repeat far apart (farRepeatedRows) for coding the distinct rows alone to be worth trying. */
export function rowsRepeatFarApart(values: FieldValues, mask: Uint8Array | null, shape: readonly number[]): boolean {
  return farRepeatedRows(values, mask, shape) >= Math.max(2, (shape[0] ?? 0) >> 3);
}

/**
 * The chunk's distinct rows (their indices, first appearances in order) and where each row comes from: 0 for the next
 * distinct row, k for a copy of distinct row k - 1.
 */
export function distinctRows(values: FieldValues, mask: Uint8Array | null, shape: readonly number[]): { distinct: number[]; source: number[] } {
  const rows = shape[0]!;
  const row = rowsOf(values, mask, rows);
  const byHash = new Map<number, number[]>();
  const distinct: number[] = [];
  const source: number[] = [];
  for (let r = 0; r < rows; r++) {
    const h = row.hash(r, 1);
    const same = byHash.get(h);
    // the latest distinct rows of this hash only: a row not found among them is coded as distinct, never wrongly copied
    const d = same?.slice(-MAX_CANDIDATES).find((k) => row.equal(distinct[k]!, r));
    if (d !== undefined) {
      source.push(d + 1);
      continue;
    }
    if (same) same.push(distinct.length);
    else byHash.set(h, [distinct.length]);
    distinct.push(r);
    source.push(0);
  }
  return { distinct, source };
}

/**
 * Whether every row of `values` (rows of `rowSize` values) is bit for bit `row`, masks included (a null mask: every
 * point valid). A chunk of a static map over time steps is that of the row before it (classic joinRepeatingChunks).
 */
export function everyRowEquals(values: FieldValues, mask: Uint8Array | null, rowSize: number, row: FieldValues, rowMask: Uint8Array | null): boolean {
  if (row.length !== rowSize || values.length % rowSize !== 0 || (values instanceof Float32Array) !== (row instanceof Float32Array)) return false;
  const words = new Uint32Array(values.buffer, values.byteOffset, values.byteLength >>> 2);
  const rowWords = new Uint32Array(row.buffer, row.byteOffset, row.byteLength >>> 2);
  const width = rowWords.length;
  for (let a = 0; a < words.length; a += width) {
    for (let k = 0; k < width; k++) if (words[a + k] !== rowWords[k]) return false;
  }
  if (!mask && !rowMask) return true;
  for (let a = 0; a < values.length; a += rowSize) {
    for (let k = 0; k < rowSize; k++) if ((mask ? mask[a + k]! : 1) !== (rowMask ? rowMask[k]! : 1)) return false;
  }
  return true;
}
