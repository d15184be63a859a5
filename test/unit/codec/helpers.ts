import { loadField } from '../../../src-main/services/compression/bench-input.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { existsSync } from 'node:fs';

export const FERRET = '/usr/share/ferret-vis/data';
export { WRF_KATRINA as WRF } from '../../helpers/data-files.ts';
import { WRF_KATRINA as WRF } from '../../helpers/data-files.ts';
import { rng32 } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import { LinearQuantizer } from '../../../src-main/core/codec/quantizer.ts';
import { ByteWriter } from '../../../src-main/core/codec/bytes.ts';
import { writeCodes } from '../../../src-main/core/codec/envelope.ts';
import type { CodeLines } from '../../../src-main/core/codec/mscoder.ts';
export const haveFerret = existsSync(`${FERRET}/coads_climatology.cdf`);
export const haveWrf = existsSync(WRF);

const cache = new Map<string, Promise<Field>>();
export function field(file: string, v: string): Promise<Field> {
  const k = `${file}|${v}`;
  if (!cache.has(k)) cache.set(k, loadField(file, v));
  return cache.get(k)!;
}

/** rows [a, b) of a field along dim 0 */
export function rows(f: Field, a: number, b: number): Field {
  const rs = f.values.length / f.shape[0]!;
  return { ...f, shape: [b - a, ...f.shape.slice(1)], values: f.values.slice(a * rs, b * rs), ...(f.mask ? { mask: f.mask.slice(a * rs, b * rs) } : {}) };
}

/** point-by-point check over valid finite points; returns count over bound */
export function overBound(orig: ArrayLike<number>, recon: ArrayLike<number>, mask: Uint8Array | undefined | null, bound: number): number {
  let over = 0;
  for (let i = 0; i < orig.length; i++) {
    if (mask && mask[i] === 0) continue;
    const x = orig[i]!;
    if (!Number.isFinite(x)) {
      if (!Object.is(x, recon[i]) && !(Number.isNaN(x) && Number.isNaN(recon[i]!))) over++;
      continue;
    }
    if (!(Math.abs(x - recon[i]!) <= bound)) over++;
  }
  return over;
}

/** Quantization codes around `radius`: Laplacian residuals of scale `scale`, a share of escapes (0), zero runs of mean `run` */
export function laplacianCodes(n: number, scale: number, seed: number, radius: number, escapes = 0, run = 0): Uint32Array {
  const r = rng32(seed);
  const out = new Uint32Array(n).fill(radius);
  for (let i = 0; i < n; i++) {
    if (run && r() < 0.5) {
      i += Math.floor(r() * 2 * run);
      continue;
    }
    if (r() < escapes) {
      out[i] = 0;
      continue;
    }
    const v = Math.min(radius - 1, Math.floor(-scale * Math.log(1 - r())));
    out[i] = r() < 0.5 ? radius - v : radius + v;
  }
  return out;
}

/**
 * Pressure on `levels` levels of a ny x nx grid: nearly one vertical profile, the horizontal structure a
 * `horizontalShare` of it (the high-ratio tests' field: a tuned cubic interpolation beats the untuned ones by far).
 */
export function pressureLevels(levels: number, ny: number, nx: number, horizontalShare = 0.004): { values: Float32Array; shape: number[] } {
  const values = new Float32Array(levels * ny * nx);
  for (let k = 0; k < levels; k++) {
    const z = (15_000 * k) / (levels - 1);
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const horizontal = Math.sin((2 * Math.PI * x) / nx + 0.3) * Math.cos((3 * Math.PI * y) / ny) + 0.5 * Math.sin((5 * Math.PI * (x + y)) / nx);
        const small = Math.sin(0.21 * x + 0.17 * y + 0.5 * k);
        values[(k * ny + y) * nx + x] = 101_325 * Math.exp(-z / 8000) * (1 + horizontalShare * horizontal + (horizontalShare / 8) * small);
      }
    }
  }
  return { values, shape: [levels, ny, nx] };
}

/**
 * writeCodes on quantization codes (radius `radius`) as the classic codec calls it for a chunk whose codes have
 * lines (the range coders' choice, the count left to the chunk's rows, the binary coder tried where it may be)
 */
export function writtenWithLines(codes: Uint32Array, lines: CodeLines | null, radius: number, largeBinaryTry = true): Uint8Array {
  const q = new LinearQuantizer(0.01, true, codes.length, radius);
  q.codes = codes;
  q.nCodes = codes.length;
  const w = new ByteWriter(64);
  writeCodes(w, q, { entropy: 'range', bareCount: true, largeBinaryTry, lines }, (cap) => new ByteWriter(cap));
  return w.finish();
}
