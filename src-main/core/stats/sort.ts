import { sortFloat64Kernel } from '../codec/wasm-kernels.ts';

let kernel: ReturnType<typeof sortFloat64Kernel> | undefined;

/**
 * Ascending sort of float64 values, as TypedArray.prototype.sort orders them (-0 before +0; no NaN expected), by
 * least-significant-digit radix sort on their bits: planning sorts ~8k sample values per field to find a grid, and
 * V8's sort took ~70 ns per value there (most of a small field's grid search); this takes a few. Passes where every
 * value has the same byte (the low mantissa bytes of float32 data, the exponent of a narrow range) are skipped.
 */
export function sortFloat64(values: Float64Array): Float64Array {
  // in WebAssembly where it can (wasm/codec-kernels.ts sortFloat64, the same order): the loops below run a few times
  // per process, mostly before V8 has compiled them
  kernel ??= sortFloat64Kernel();
  if (values.length >= 64 && kernel?.(values)) return values;
  return sortFloat64Loop(values);
}

/** sortFloat64's reference loops. */
export function sortFloat64Loop(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < 64) return values.sort();
  // keys: the bits with the sign flipped for positives and all bits flipped for negatives, so unsigned order is numeric
  let hi = new Uint32Array(n);
  let lo = new Uint32Array(n);
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1]!;
    const l = words[2 * i]!;
    const neg = h >>> 31;
    hi[i] = neg ? ~h >>> 0 : (h | 0x80000000) >>> 0;
    lo[i] = neg ? ~l >>> 0 : l;
  }
  let hi2 = new Uint32Array(n);
  let lo2 = new Uint32Array(n);
  const count = new Uint32Array(256);
  for (let pass = 0; pass < 8; pass++) {
    const word = pass < 4 ? lo : hi;
    const shift = (pass & 3) * 8;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(word[i]! >>> shift) & 255]!++;
    if (count[(word[0]! >>> shift) & 255] === n) continue; // one byte value: this pass keeps the order
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      const c = count[b]!;
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const at = count[(word[i]! >>> shift) & 255]!++;
      hi2[at] = hi[i]!;
      lo2[at] = lo[i]!;
    }
    [hi, hi2] = [hi2, hi];
    [lo, lo2] = [lo2, lo];
  }
  for (let i = 0; i < n; i++) {
    const h = hi[i]!;
    const neg = h >>> 31 === 0;
    words[2 * i + 1] = neg ? ~h >>> 0 : h & 0x7fffffff;
    words[2 * i] = neg ? ~lo[i]! >>> 0 : lo[i]!;
  }
  return values;
}
