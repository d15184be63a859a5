/**
 * Adaptive range coding of signed integers under a context the caller chooses per value (entropy coder of the NGLR
 * residual coder). The multi-symbol coder (mscoder.ts) takes its context from the previous two symbols in coding
 * order, which in a 3D raster is only the left neighbour; a predictive coder knows more: the sizes of the already
 * decoded differences above, to the left and one step back in time. The caller folds those into a context index
 * (magnitudeContext) and codes value by value, so the decoder can interleave decoding with its own prediction.
 *
 * Per value: one symbol of a 32-letter alphabet (0 = zero, 1 + k = |v| in [2^k, 2^(k+1)), k < 31) with adaptive
 * frequencies in the caller's context, then for v != 0 a sign bit (adaptive, by the context's magnitude class and
 * k), the top mantissa bit (adaptive by k) and the k - 1 low bits as equiprobable bits. LZMA-style range coder
 * arithmetic and adaptive symbol frequencies (SymbolFrequencies) from mscoder.ts (exact in doubles). Pure: no Node
 * imports.
 */
import { FieldpackError } from '../errors.ts';
import type { ByteReader, ByteWriter } from './bytes.ts';
import { Dec, Enc, SymbolFrequencies } from './mscoder.ts';

const NSYM = 32;
const BIT_INIT = 1024;
/** |v| below this (2^31) is codable; callers escape larger values themselves */
export const CTX_CODER_LIMIT = 2 ** 31;

class Model extends SymbolFrequencies {
  readonly sign = new Uint16Array(SIGN_CONTEXTS * 4).fill(BIT_INIT);
  readonly mant = new Uint16Array(NSYM).fill(BIT_INIT);
  constructor(contexts: number) {
    // a mild prior: small magnitudes likelier, every symbol possible
    super(contexts, NSYM, (s) => (s < 12 ? 4 : 1));
  }
}

/** sign contexts the caller may give (e.g. the left neighbour's sign: 0 zero, 1 positive, 2 negative) */
export const SIGN_CONTEXTS = 9;
const signSlot = (sctx: number, k: number) => sctx * 4 + (k > 3 ? 3 : k);

/** Codes signed integers |v| < 2^31 one at a time, each under a context in [0, contexts). */
export class ContextIntEncoder {
  private readonly enc: Enc;
  private readonly m: Model;
  constructor(contexts: number, capacityHint: number) {
    this.enc = new Enc(capacityHint);
    this.m = new Model(contexts);
  }
  put(v: number, ctx: number, sctx = 0): void {
    const { enc, m } = this;
    const a = v < 0 ? -v : v;
    if (!(a < CTX_CODER_LIMIT) || !Number.isInteger(a)) throw new FieldpackError('INTERNAL', `context coder: ${v} is not an integer below 2^31 in magnitude`);
    const k = a === 0 ? -1 : 31 - Math.clz32(a);
    const s = k + 1;
    const base = ctx * NSYM;
    let cum = 0;
    for (let j = 0; j < s; j++) cum += m.freq[base + j]!;
    enc.sym(cum, m.freq[base + s]!, m.total[ctx]!);
    m.bump(ctx, s);
    if (a === 0) return;
    enc.bit(m.sign, signSlot(sctx, k), v < 0 ? 1 : 0);
    if (k >= 1) {
      const top = Math.floor(a / 2 ** (k - 1)) & 1;
      enc.bit(m.mant, k, top);
      let nb = k - 1;
      while (nb > 0) {
        const step = nb > 12 ? 12 : nb;
        nb -= step;
        enc.direct(Math.floor(a / 2 ** nb) % (1 << step), step);
      }
    }
  }
  /** Writes the coded block (a varint length, then the bytes). */
  finish(w: ByteWriter): void {
    w.block(this.enc.finish());
  }
}

/** Reads what ContextIntEncoder wrote, value by value, under the same contexts. */
export class ContextIntDecoder {
  private readonly dec: Dec;
  private readonly m: Model;
  readonly end: number;
  constructor(r: ByteReader, contexts: number, what: string) {
    const len = r.varint('range coder length');
    r.need(len, 'range coder data');
    const start = r.pos;
    r.pos += len;
    this.end = start + len;
    this.dec = new Dec(r.buf, start, this.end, `range-coded data in ${what}`);
    this.m = new Model(contexts);
  }
  get(ctx: number, sctx = 0): number {
    const { dec, m } = this;
    const base = ctx * NSYM;
    const total = m.total[ctx]!;
    const r = Math.floor(dec.range / total);
    let target = Math.floor(dec.code / r);
    if (target >= total) target = total - 1;
    let s = 0, cum = 0, f = m.freq[base]!;
    while (cum + f <= target && s < NSYM - 1) {
      cum += f;
      f = m.freq[base + ++s]!;
    }
    dec.code -= r * cum;
    dec.range = r * f;
    if (dec.range < 16777216) dec.norm();
    m.bump(ctx, s);
    if (s === 0) return 0;
    const k = s - 1;
    const neg = dec.bit(m.sign, signSlot(sctx, k));
    let a = 1;
    if (k >= 1) {
      a = 2 + dec.bit(m.mant, k);
      let nb = k - 1;
      while (nb > 0) {
        const step = nb > 12 ? 12 : nb;
        nb -= step;
        a = a * (1 << step) + dec.direct(step);
      }
    }
    return neg ? -a : a;
  }
  /** Throws when the coded block was shorter than the values read from it. */
  check(): void {
    if (this.dec.pos > this.end + 5) throw new FieldpackError('BAD_STREAM', `truncated stream: ${this.dec.what} ends early`);
  }
}

/** Magnitude contexts: 0 for 0, then two per octave of m (m >= 1), capped at contexts - 1. */
export function magnitudeContext(m: number, contexts: number): number {
  if (m <= 0) return 0;
  if (m >= 2 ** 30) return contexts - 1;
  const k = 31 - Math.clz32(m);
  const half = k >= 1 ? Math.floor(m / 2 ** (k - 1)) & 1 : 0;
  const c = 1 + 2 * k + half;
  return c < contexts ? c : contexts - 1;
}
