/**
 * The VQ-VAE's indices through the core's multi-symbol range coder (mscoder.ts Enc/Dec), with adaptive frequencies:
 * z indices in raster order with the left neighbour's index as context, then y indices with their parent z index
 * (the z cell covering them) as context, so z conditions y as it does in the network. A context table grows only
 * where used; alphabets beyond MAX_CONTEXT_TABLE fall back to one context. Pure: no Node imports.
 */
import { FieldpackError } from '../../errors.ts';
import type { ByteReader, ByteWriter } from '../../codec/bytes.ts';
import { Dec, Enc } from '../../codec/mscoder.ts';
import type { Latents } from './network.ts';

const FREQ_INC = 32;
const FREQ_LIMIT = 1 << 16;
const TOP = 16777216;
/** most counters in one context table (contexts x alphabet) */
const MAX_CONTEXT_TABLE = 1 << 20;

class AdaptiveModel {
  private readonly freq = new Map<number, Uint32Array>();
  private readonly total = new Map<number, number>();
  constructor(readonly alphabet: number) {}
  table(ctx: number): Uint32Array {
    let t = this.freq.get(ctx);
    if (!t) {
      t = new Uint32Array(this.alphabet).fill(1);
      this.freq.set(ctx, t);
      this.total.set(ctx, this.alphabet);
    }
    return t;
  }
  totalOf(ctx: number): number {
    return this.total.get(ctx)!;
  }
  bump(ctx: number, s: number): void {
    const t = this.freq.get(ctx)!;
    t[s]! += FREQ_INC;
    let tot = this.total.get(ctx)! + FREQ_INC;
    if (tot > FREQ_LIMIT) {
      tot = 0;
      for (let i = 0; i < t.length; i++) {
        t[i] = (t[i]! + 1) >>> 1;
        tot += t[i]!;
      }
    }
    this.total.set(ctx, tot);
  }
}

function contextsFit(contexts: number, alphabet: number): boolean {
  return contexts * alphabet <= MAX_CONTEXT_TABLE;
}

/** Parent z index of each y position (y grid is twice the z grid). */
function parentOf(yi: number, yw: number, zw: number, z: Uint16Array): number {
  const r = Math.floor(yi / yw), c = yi - r * yw;
  return z[(r >> 1) * zw + (c >> 1)]!;
}

function encodeSymbols(enc: Enc, model: AdaptiveModel, sym: number, ctx: number): void {
  const t = model.table(ctx);
  let cum = 0;
  for (let j = 0; j < sym; j++) cum += t[j]!;
  enc.sym(cum, t[sym]!, model.totalOf(ctx));
  model.bump(ctx, sym);
}

function decodeSymbol(dec: Dec, model: AdaptiveModel, ctx: number): number {
  const t = model.table(ctx);
  const total = model.totalOf(ctx);
  const r = Math.floor(dec.range / total);
  let target = Math.floor(dec.code / r);
  if (target >= total) target = total - 1;
  let s = 0, cum = 0, f = t[0]!;
  while (cum + f <= target && s < t.length - 1) {
    cum += f;
    f = t[++s]!;
  }
  dec.code -= r * cum;
  dec.range = r * f;
  if (dec.range < TOP) dec.norm();
  model.bump(ctx, s);
  return s;
}

/** Codes the latents of several maps (same model) as one block: varint length + range-coded bytes. */
export function writeLatents(w: ByteWriter, maps: Latents[], codesZ: number, codesY: number): void {
  const zModel = new AdaptiveModel(codesZ);
  const yModel = new AdaptiveModel(codesY);
  const zCtx = contextsFit(codesZ + 1, codesZ);
  const yCtx = contextsFit(codesZ, codesY);
  let count = 0;
  for (const m of maps) count += m.z.length + m.y.length;
  const enc = new Enc(count);
  for (const m of maps) {
    const zw = m.w / 16, yw = m.w / 8;
    for (let i = 0; i < m.z.length; i++) encodeSymbols(enc, zModel, m.z[i]!, zCtx ? (i % zw === 0 ? codesZ : m.z[i - 1]!) : 0);
    for (let i = 0; i < m.y.length; i++) encodeSymbols(enc, yModel, m.y[i]!, yCtx ? parentOf(i, yw, zw, m.z) : 0);
  }
  w.block(enc.finish());
}

/** Reads what writeLatents wrote, for maps of the given padded sizes. */
export function readLatents(r: ByteReader, sizes: { h: number; w: number }[], codesZ: number, codesY: number): Latents[] {
  const len = r.varint('latent length');
  r.need(len, 'latent indices');
  const start = r.pos;
  r.pos += len;
  const dec = new Dec(r.buf, start, start + len, `latent indices in ${r.what}`);
  const zModel = new AdaptiveModel(codesZ);
  const yModel = new AdaptiveModel(codesY);
  const zCtx = contextsFit(codesZ + 1, codesZ);
  const yCtx = contextsFit(codesZ, codesY);
  return sizes.map(({ h, w }) => {
    const zw = w / 16, yw = w / 8;
    const z = new Uint16Array((h / 16) * zw);
    const y = new Uint16Array((h / 8) * yw);
    for (let i = 0; i < z.length; i++) z[i] = decodeSymbol(dec, zModel, zCtx ? (i % zw === 0 ? codesZ : z[i - 1]!) : 0);
    for (let i = 0; i < y.length; i++) y[i] = decodeSymbol(dec, yModel, yCtx ? parentOf(i, yw, zw, z) : 0);
    if (dec.pos > dec.end + 5) throw new FieldpackError('BAD_STREAM', `truncated stream: latent indices in ${r.what} end early`);
    return { z, y, h, w };
  });
}
