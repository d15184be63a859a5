// AssemblyScript source of the classic codec's planning kernel (scripts/build-wasm.mjs compiles it into
// src-main/core/codec/wasm-kernels.generated.ts). msCost is costBlock of src-main/core/codec/mscoder.ts line for line:
// the same adaptive model updates and the same float64 additions in the same order, read from the same log2 table
// (the caller copies mscoder.ts's into this module's memory), so it returns the reference's bits.
// Memory the caller lays out from heapBase(): the model's tables, the codes, the log2 table, the state.

const NSYM: i32 = 18;
const ESC_SYM: i32 = 17;
const FREQ_INC: u32 = 24;
const FREQ_LIMIT: u32 = 65536;
const BIT_SHIFT: i32 = 5;

/** First free byte after this module's static data (the caller lays its buffers out from here). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

// @ts-ignore: decorator
@inline
function runBucket(run: i32): i32 {
  return run < 4 ? 0 : run < 8 ? 1 : run < 16 ? 2 : run < 32 ? 3 : run < 128 ? 4 : 5;
}

/**
 * Adds the model cost in bits of codes[0, n) to the float64 at `acc`, the model (freq u32[30 x 18], totals u32[30],
 * sign u16[12], mant u16[16]) and the context state (i32 s1, s2, run, lastSign at `state`) carried in and out.
 */
export function msCost(codes: usize, n: i32, radius: u32, freq: usize, totals: usize, sign: usize, mant: usize, log2: usize, state: usize, acc: usize): void {
  let s1 = load<i32>(state);
  let s2 = load<i32>(state, 4);
  let run = load<i32>(state, 8);
  let lastSign = load<i32>(state, 12);
  let bits = load<f64>(acc);
  for (let i = 0; i < n; i++) {
    const c = load<u32>(codes + (<usize>i << 2));
    let s: i32;
    let v: u32 = 0;
    let k: i32 = 0;
    if (c == radius) s = 0;
    else if (c == 0) s = ESC_SYM;
    else {
      v = c > radius ? c - radius : radius - c;
      k = 31 - <i32>clz(v);
      s = 1 + k;
    }
    // FINE[s1] * 3 + COARSE[s2], or the run's bucket
    const ctx = run >= 4 ? 24 + runBucket(run) : (s1 < 7 ? s1 : 7) * 3 + (s2 == 0 ? 0 : s2 <= 2 ? 1 : 2);
    const fAt = freq + (<usize>(ctx * NSYM + s) << 2);
    const tAt = totals + (<usize>ctx << 2);
    const f = load<u32>(fAt);
    let t = load<u32>(tAt);
    bits += load<f64>(log2 + (<usize>t << 3)) - load<f64>(log2 + (<usize>f << 3));
    // SymbolFrequencies.bump
    store<u32>(fAt, f + FREQ_INC);
    t += FREQ_INC;
    if (t > FREQ_LIMIT) {
      t = 0;
      const row = freq + (<usize>(ctx * NSYM) << 2);
      for (let j = 0; j < NSYM; j++) {
        const h = (load<u32>(row + (<usize>j << 2)) + 1) >> 1;
        store<u32>(row + (<usize>j << 2), h);
        t += h;
      }
    }
    store<u32>(tAt, t);
    if (s == 0) lastSign = 0;
    else if (s != ESC_SYM) {
      const sg: i32 = c > radius ? 1 : 0;
      const sAt = sign + (<usize>(lastSign * 4 + (k > 3 ? 3 : k)) << 1);
      const p: i32 = load<u16>(sAt);
      if (sg == 0) {
        bits += 11 - load<f64>(log2 + (<usize>p << 3));
        store<u16>(sAt, p + ((2048 - p) >>> BIT_SHIFT));
      } else {
        bits += 11 - load<f64>(log2 + (<usize>(2048 - p) << 3));
        store<u16>(sAt, p - (p >>> BIT_SHIFT));
      }
      lastSign = 1 + sg;
      if (k >= 1) {
        const mAt = mant + (<usize>k << 1);
        const pm: i32 = load<u16>(mAt);
        if (((v >>> (k - 1)) & 1) == 0) {
          bits += 11 - load<f64>(log2 + (<usize>pm << 3));
          store<u16>(mAt, pm + ((2048 - pm) >>> BIT_SHIFT));
        } else {
          bits += 11 - load<f64>(log2 + (<usize>(2048 - pm) << 3));
          store<u16>(mAt, pm - (pm >>> BIT_SHIFT));
        }
        bits += <f64>(k - 1);
      }
    }
    run = s == 0 ? run + 1 : 0;
    s2 = s1;
    s1 = s;
  }
  store<i32>(state, s1);
  store<i32>(state, s2, 4);
  store<i32>(state, run, 8);
  store<i32>(state, lastSign, 12);
  store<f64>(acc, bits);
}
