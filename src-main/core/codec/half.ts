/** IEEE 754 half precision (binary16) and bfloat16 bits <-> numbers, for weights and scales stored in streams. Pure. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Nearest binary16 (round to nearest even), as its 16 bits; out of range saturates to +-65504, NaN to 0. */
export function toHalfBits(x: number): number {
  if (Number.isNaN(x)) return 0;
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = ((b >>> 23) & 0xff) - 127 + 15;
  let mant = b & 0x7fffff;
  if (exp >= 31) return sign | 0x7bff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  if ((h & 0x7fff) >= 0x7c00) return sign | 0x7bff;
  return sign | h;
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** x rounded to the nearest binary16 value. */
export const roundHalf = (x: number): number => fromHalfBits(toHalfBits(x));

/** bfloat16 (float32's sign, exponent and top 7 mantissa bits), round to nearest even, as its 16 bits; for finite x. */
export function toBfloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fromBfloat16Bits(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/** x rounded to the nearest bfloat16 value. */
export const roundBfloat16 = (x: number): number => fromBfloat16Bits(toBfloat16Bits(x));
