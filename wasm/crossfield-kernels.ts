// AssemblyScript source of the cross-field interpolation hybrid's WebAssembly kernels (scripts/build-wasm.mjs compiles
// it into src-main/core/compressors/crossfield/wasm-kernels.generated.ts). Each kernel twins a loop of
// src-main/core/compressors/crossfield/interp-hybrid.ts: the same features (the same float64 subtractions and cubic
// predictions, left to right) and the same sums in the same order, so encoder and decoder predict the reference's bits.
// Buffers are the caller's, laid out in this module's memory; pointers are byte addresses; a pass is described by the
// int32 record at `d` (offsets below), as interp-hybrid.ts's run sets it.

/** First free byte after this module's static data (the caller lays its buffers out from here). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

// the pass record: int32 fields
const P_M: i32 = 0;
const P_L: i32 = 1;
const P_S: i32 = 2;
const P_SS: i32 = 3;
const P_S3: i32 = 4;
const P_K: i32 = 5;
const P_KSELF: i32 = 6;
const P_NSHIFT: i32 = 7;
const P_NSRC: i32 = 8;
const P_IDXS: i32 = 9;
const P_TS: i32 = 10;
const P_BASE: i32 = 11;
const P_R: i32 = 12;
/** per shifted axis e < 3: step, stride, size, coordinates (pointer) at P_SHIFT + 4 e */
const P_SHIFT: i32 = 13;
/** per source: values (float64 pointer), valid (uint8 pointer, 0: everywhere) at P_SRC + 2 i (16 sources) */
const P_SRC: i32 = 25;
/** the three coordinate arrays (pointers) of the axes other than the pass's, in axis order */
const P_COORD: i32 = 57;

// @ts-ignore: decorator
@inline
function fld(d: usize, f: i32): i32 {
  return load<i32>(d + (<usize>f << 2));
}

// @ts-ignore: decorator
@inline
function ldf(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline
function ldi(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline
function stf(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

/** interp-hybrid.ts's cubicAt */
// @ts-ignore: decorator
@inline
function cubicAt(R: usize, idx: i32, t: i32, L: i32, s: i32, ss: i32, s3: i32): f64 {
  if (t + s < L) {
    const l3 = t >= 3 * s;
    const r3 = t + 3 * s < L;
    if (l3 && r3) return (-ldf(R, idx - s3) + 9.0 * ldf(R, idx - ss) + 9.0 * ldf(R, idx + ss) - ldf(R, idx + s3)) * 0.0625;
    if (r3) return (3.0 * ldf(R, idx - ss) + 6.0 * ldf(R, idx + ss) - ldf(R, idx + s3)) * 0.125;
    if (l3) return (-ldf(R, idx - s3) + 6.0 * ldf(R, idx - ss) + 3.0 * ldf(R, idx + ss)) * 0.125;
    return (ldf(R, idx - ss) + ldf(R, idx + ss)) * 0.5;
  }
  return t >= 3 * s ? 1.5 * ldf(R, idx - ss) - 0.5 * ldf(R, idx - s3) : ldf(R, idx - ss);
}

/** interp-hybrid.ts's stencilValid */
// @ts-ignore: decorator
@inline
function stencilValid(v: usize, idx: i32, t: i32, L: i32, s: i32, ss: i32, s3: i32): bool {
  if (load<u8>(v + <usize>idx) == 0 || load<u8>(v + <usize>(idx - ss)) == 0) return false;
  if (t + s < L && load<u8>(v + <usize>(idx + ss)) == 0) return false;
  if (t >= 3 * s && load<u8>(v + <usize>(idx - s3)) == 0) return false;
  if (t + 3 * s < L && load<u8>(v + <usize>(idx + s3)) == 0) return false;
  return true;
}

/** run's fillSelf: the decoded context of pass point j, features 0 .. kSelf - 1 into out */
function fillSelf(d: usize, j: i32, out: usize): void {
  const L = fld(d, P_L);
  const s = fld(d, P_S);
  const ss = fld(d, P_SS);
  const s3 = fld(d, P_S3);
  const R = <usize>fld(d, P_R);
  const idx = ldi(<usize>fld(d, P_IDXS), j);
  const t = ldi(<usize>fld(d, P_TS), j);
  const p = ldf(<usize>fld(d, P_BASE), j);
  const hasR = t + s < L;
  stf(out, 0, ldf(R, idx - ss) - p);
  stf(out, 1, hasR ? ldf(R, idx + ss) - p : 0.0);
  stf(out, 2, t >= 3 * s ? ldf(R, idx - s3) - p : 0.0);
  stf(out, 3, t + 3 * s < L ? ldf(R, idx + s3) - p : 0.0);
  let k = 4;
  const nShift = fld(d, P_NSHIFT);
  for (let e = 0; e < nShift; e++) {
    const step = fld(d, P_SHIFT + 4 * e);
    const str = fld(d, P_SHIFT + 4 * e + 1);
    const size = fld(d, P_SHIFT + 4 * e + 2);
    const ce = ldi(<usize>fld(d, P_SHIFT + 4 * e + 3), j);
    for (let sign = -1; sign <= 1; sign += 2) {
      const c2 = ce + sign * step;
      if (c2 >= 0 && c2 < size) {
        const jj = idx + sign * step * str;
        stf(out, k, ldf(R, jj - ss) - p);
        stf(out, k + 1, hasR ? ldf(R, jj + ss) - p : 0.0);
      } else {
        stf(out, k, 0.0);
        stf(out, k + 1, 0.0);
      }
      k += 2;
    }
  }
}

/** run's fillSources: every source's detail and context at pass point j, features kSelf .. K - 1 into out */
function fillSources(d: usize, j: i32, out: usize): void {
  const L = fld(d, P_L);
  const s = fld(d, P_S);
  const ss = fld(d, P_SS);
  const s3 = fld(d, P_S3);
  const idx = ldi(<usize>fld(d, P_IDXS), j);
  const t = ldi(<usize>fld(d, P_TS), j);
  const hasR = t + s < L;
  let k = fld(d, P_KSELF);
  const nSrc = fld(d, P_NSRC);
  for (let si = 0; si < nSrc; si++) {
    const S = <usize>fld(d, P_SRC + 2 * si);
    const V = <usize>fld(d, P_SRC + 2 * si + 1);
    if (V != 0 && !stencilValid(V, idx, t, L, s, ss, s3)) {
      stf(out, k, 0.0);
      stf(out, k + 1, 0.0);
      stf(out, k + 2, 0.0);
      stf(out, k + 3, 0.0);
      stf(out, k + 4, 0.0);
    } else {
      const sb = cubicAt(S, idx, t, L, s, ss, s3);
      stf(out, k, ldf(S, idx) - sb);
      stf(out, k + 1, ldf(S, idx - ss) - sb);
      stf(out, k + 2, hasR ? ldf(S, idx + ss) - sb : 0.0);
      stf(out, k + 3, t >= 3 * s ? ldf(S, idx - s3) - sb : 0.0);
      stf(out, k + 4, t + 3 * s < L ? ldf(S, idx + s3) - sb : 0.0);
    }
    k += 5;
  }
}

/** base[j] + sum of w[k] feat[k] for k in [k0, k1), added in k order */
// @ts-ignore: decorator
@inline
function weighted(pr: f64, w: usize, feat: usize, k0: i32, k1: i32): f64 {
  for (let k = k0; k < k1; k++) pr += ldf(w, k) * ldf(feat, k);
  return pr;
}

/**
 * run's corrected predictions of a pass: base[j] += the weighted features of point j for every j < m, with weights w
 * (float64, K) of `group` (1: context, 2: sources, 3: both); `exactSkips` as run's (a one-group pass sums only its
 * group's terms and sums again in full where that gives zero). feat: K float64 of scratch.
 */
export function predictPass(d: usize, w: usize, group: i32, exactSkips: i32, feat: usize): void {
  const m = fld(d, P_M);
  const K = fld(d, P_K);
  const kSelf = fld(d, P_KSELF);
  const base = <usize>fld(d, P_BASE);
  if (group == 3 || exactSkips == 0) {
    for (let j = 0; j < m; j++) {
      fillSelf(d, j, feat);
      fillSources(d, j, feat);
      stf(base, j, weighted(ldf(base, j), w, feat, 0, K));
    }
    return;
  }
  const self = group == 1;
  const k0 = self ? 0 : kSelf;
  const k1 = self ? kSelf : K;
  for (let j = 0; j < m; j++) {
    if (self) fillSelf(d, j, feat);
    else fillSources(d, j, feat);
    let pr = weighted(ldf(base, j), w, feat, k0, k1);
    if (pr == 0) {
      fillSelf(d, j, feat);
      fillSources(d, j, feat);
      pr = weighted(ldf(base, j), w, feat, 0, K);
    }
    stf(base, j, pr);
  }
}

/**
 * run's pass points, in SZ3's order: the points at odd multiples of s along `axis` of the 4-dims shape sh (int32 x 4,
 * strides str), on the coarser grid of the other axes (step s before the pass's axis, 2 s after); their indices,
 * positions along the axis and coordinates along the other axes into the record's arrays. Returns their count.
 */
export function layPass(d: usize, sh: usize, str: usize, axis: i32, s: i32): i32 {
  const idxs = <usize>fld(d, P_IDXS);
  const ts = <usize>fld(d, P_TS);
  const L = ldi(sh, axis);
  const st = ldi(str, axis);
  let a = -1;
  let b = -1;
  let c = -1;
  for (let e = 0; e < 4; e++) {
    if (e == axis) continue;
    if (a < 0) a = e;
    else if (b < 0) b = e;
    else c = e;
  }
  const coA = <usize>fld(d, P_COORD);
  const coB = <usize>fld(d, P_COORD + 1);
  const coC = <usize>fld(d, P_COORD + 2);
  const stepA = a < axis ? s : 2 * s;
  const stepB = b < axis ? s : 2 * s;
  const stepC = c < axis ? s : 2 * s;
  const nA = ldi(sh, a);
  const nB = ldi(sh, b);
  const nC = ldi(sh, c);
  const strA = ldi(str, a);
  const strB = ldi(str, b);
  const strC = ldi(str, c);
  let m = 0;
  for (let ia = 0; ia < nA; ia += stepA) {
    for (let ib = 0; ib < nB; ib += stepB) {
      for (let ic = 0; ic < nC; ic += stepC) {
        const row = ia * strA + ib * strB + ic * strC;
        for (let t = s; t < L; t += 2 * s) {
          store<i32>(idxs + (<usize>m << 2), row + t * st);
          store<i32>(ts + (<usize>m << 2), t);
          store<i32>(coA + (<usize>m << 2), ia);
          store<i32>(coB + (<usize>m << 2), ib);
          store<i32>(coC + (<usize>m << 2), ic);
          m++;
        }
      }
    }
  }
  return m;
}

/** run's cubic predictions of a pass's points from the decoded values: base[j] for j < m */
export function cubicBase(d: usize): void {
  const m = fld(d, P_M);
  const L = fld(d, P_L);
  const s = fld(d, P_S);
  const ss = fld(d, P_SS);
  const s3 = fld(d, P_S3);
  const R = <usize>fld(d, P_R);
  const idxs = <usize>fld(d, P_IDXS);
  const ts = <usize>fld(d, P_TS);
  const base = <usize>fld(d, P_BASE);
  for (let j = 0; j < m; j++) stf(base, j, cubicAt(R, ldi(idxs, j), ldi(ts, j), L, s, ss, s3));
}

/**
 * fitPass's candidate predictions: pred[i] += sum over k < K of w[k] F[i][k], added in k order, for i < ns. Four rows
 * at a time, a row per f64x2 lane: each lane's sum is still one row's, in k order (the same bits), and the four
 * chains of dependent adds overlap instead of waiting on each other.
 */
function predictRows(F: usize, ns: i32, K: i32, w: usize, pred: usize): void {
  const rowBytes = <usize>K << 3;
  let i = 0;
  for (; i + 4 <= ns; i += 4) {
    const r0 = F + (<usize>(i * K) << 3);
    const r1 = r0 + rowBytes;
    const r2 = r1 + rowBytes;
    const r3 = r2 + rowBytes;
    const at = pred + (<usize>i << 3);
    let a = v128.load(at);
    let b = v128.load(at, 16);
    for (let k = 0; k < K; k++) {
      const wk = f64x2.splat(ldf(w, k));
      const o = <usize>k << 3;
      a = f64x2.add(a, f64x2.mul(wk, f64x2.replace_lane(f64x2.splat(load<f64>(r0 + o)), 1, load<f64>(r1 + o))));
      b = f64x2.add(b, f64x2.mul(wk, f64x2.replace_lane(f64x2.splat(load<f64>(r2 + o)), 1, load<f64>(r3 + o))));
    }
    v128.store(at, a);
    v128.store(at, b, 16);
  }
  for (; i < ns; i++) {
    const row = F + (<usize>(i * K) << 3);
    stf(pred, i, weighted(ldf(pred, i), w, row, 0, K));
  }
}

/** fitPass's sample: the K features of pass points js[0 .. n) into the rows of F (row major) */
export function gatherRows(d: usize, js: usize, n: i32, F: usize): void {
  const K = fld(d, P_K);
  for (let i = 0; i < n; i++) {
    const row = F + (<usize>(i * K) << 3);
    const j = ldi(js, i);
    fillSelf(d, j, row);
    fillSources(d, j, row);
  }
}

/**
 * least-squares.ts's normalEquations: over ns rows of K features F (row major) and targets y, for every u with
 * F[i][u] != 0, b[u] += F[i][u] * y[i] and A[u][v] += F[i][u] * F[i][v] for v >= u. Each entry is summed over the rows
 * in order with the reference's float64 multiply and add; the f64x2 lanes are two entries v, v + 1 of one row of A,
 * so the sums are the reference's bits.
 */
export function normalEquations(F: usize, y: usize, ns: i32, K: i32, A: usize, b: usize): void {
  // two rows at a time where both features are non-zero: each entry still gets row i's product, then row i + 1's
  // (the same sums), loaded and stored once for the two
  let i = 0;
  for (; i + 2 <= ns; i += 2) {
    const r0 = F + (<usize>(i * K) << 3);
    const r1 = r0 + (<usize>K << 3);
    const y0 = ldf(y, i);
    const y1 = ldf(y, i + 1);
    for (let u = 0; u < K; u++) {
      const f0 = ldf(r0, u);
      const f1 = ldf(r1, u);
      if (f0 != 0 && f1 != 0) {
        stf(b, u, ldf(b, u) + f0 * y0 + f1 * y1);
        const ro = A + (<usize>(u * K) << 3);
        const v0 = f64x2.splat(f0);
        const v1 = f64x2.splat(f1);
        let v = u;
        for (; v + 2 <= K; v += 2) {
          const at = <usize>v << 3;
          v128.store(ro + at, f64x2.add(f64x2.add(v128.load(ro + at), f64x2.mul(v0, v128.load(r0 + at))), f64x2.mul(v1, v128.load(r1 + at))));
        }
        if (v < K) stf(ro, v, ldf(ro, v) + f0 * ldf(r0, v) + f1 * ldf(r1, v));
      } else {
        if (f0 != 0) addRowProducts(r0, f0, y0, u, K, A, b);
        if (f1 != 0) addRowProducts(r1, f1, y1, u, K, A, b);
      }
    }
  }
  for (; i < ns; i++) {
    const r = F + (<usize>(i * K) << 3);
    const yi = ldf(y, i);
    for (let u = 0; u < K; u++) {
      const fu = ldf(r, u);
      if (fu != 0) addRowProducts(r, fu, yi, u, K, A, b);
    }
  }
}

/** One row's share of normalEquations for feature u (fu = r[u], not 0): b[u] and A[u][v], v >= u. */
// @ts-ignore: decorator
@inline
function addRowProducts(r: usize, fu: f64, yi: f64, u: i32, K: i32, A: usize, b: usize): void {
  stf(b, u, ldf(b, u) + fu * yi);
  const ro = A + (<usize>(u * K) << 3);
  const fv = f64x2.splat(fu);
  let v = u;
  for (; v + 2 <= K; v += 2) {
    const at = <usize>v << 3;
    v128.store(ro + at, f64x2.add(v128.load(ro + at), f64x2.mul(fv, v128.load(r + at))));
  }
  if (v < K) stf(ro, v, ldf(ro, v) + fu * ldf(r, v));
}

/** quantizer.ts's roundForCode: Math.round but for the sign of a zero */
// @ts-ignore: decorator
@inline
function roundForCode(v: f64): f64 {
  const r = Math.floor(v + 0.5);
  return r - 0.5 > v ? r - 1 : r;
}

/**
 * run's `point` after its value: the reconstruction r of point idx into R, and the largest |reconstruction| so far
 * (a NaN passes the test, so it lasts one point, as in run)
 */
// @ts-ignore: decorator
@inline
function keepReconstruction(R: usize, idx: i32, r: f64, largest: f64): f64 {
  stf(R, idx, r);
  const a = Math.abs(r);
  return !(a <= largest) ? a : largest;
}

// quantizePass's quantizer record (float64): LinearQuantizer's working bound, its radius and dtype, the largest
// |reconstruction| so far (in and out), and the counts written (out)
const Q_INV: i32 = 0;
const Q_TWOE: i32 = 1;
const Q_E: i32 = 2;
const Q_RADIUS: i32 = 3;
const Q_F32: i32 = 4;
const Q_LARGEST: i32 = 5;
const Q_NCODES: i32 = 6;
const Q_NESCAPES: i32 = 7;

/**
 * run's `point` over a pass (encoder): point j < m (index idxs[j]) against its corrected prediction base[j], in j
 * order. A skipped point (skip[idx] == 1) takes its prediction where finite, else 0, and no code; any other point
 * LinearQuantizer.quantizeAt's code (roundForCode, the float32 rounding where f32, the bound check; else code 0 and
 * the value escaped) and reconstruction. Reconstructions into R, x the field's values (float64), codes (uint32) and
 * escaped values (float64) written from 0; the quantizer record q as above.
 */
export function quantizePass(d: usize, x: usize, skip: usize, q: usize, codes: usize, escapes: usize): void {
  const m = fld(d, P_M);
  const idxs = <usize>fld(d, P_IDXS);
  const base = <usize>fld(d, P_BASE);
  const R = <usize>fld(d, P_R);
  const inv = ldf(q, Q_INV);
  const twoE = ldf(q, Q_TWOE);
  const e = ldf(q, Q_E);
  const rad = ldf(q, Q_RADIUS);
  const radius = <i32>rad;
  const f32 = ldf(q, Q_F32) != 0;
  let largest = ldf(q, Q_LARGEST);
  let nc: i32 = 0;
  let ne: i32 = 0;
  for (let j = 0; j < m; j++) {
    const idx = ldi(idxs, j);
    const p = ldf(base, j);
    let r: f64;
    if (load<u8>(skip + <usize>idx) == 1) r = p - p == 0 ? p : 0;
    else {
      const xv = ldf(x, idx);
      const c = roundForCode((xv - p) * inv);
      let code: i32 = 0;
      r = xv;
      if (c > -rad && c < rad) {
        let rr = p + c * twoE;
        if (f32) rr = <f64><f32>rr;
        if (Math.abs(rr - xv) <= e) {
          code = <i32>c + radius;
          r = rr;
        }
      }
      store<u32>(codes + (<usize>nc << 2), <u32>code);
      nc++;
      if (code == 0) {
        stf(escapes, ne, xv);
        ne++;
      }
    }
    largest = keepReconstruction(R, idx, r, largest);
  }
  stf(q, Q_LARGEST, largest);
  stf(q, Q_NCODES, <f64>nc);
  stf(q, Q_NESCAPES, <f64>ne);
}

// recoverPass's decoder record (float64): Q_TWOE, Q_RADIUS, Q_F32 and Q_LARGEST as quantizePass's; where reading is
// in the codes and escapes (in and out), how many there are, and 1 where the pass ran past them (out)
const D_POS: i32 = 6;
const D_ESCPOS: i32 = 7;
const D_NCODES: i32 = 8;
const D_NESCAPES: i32 = 9;
const D_OVERRUN: i32 = 10;

/**
 * run's `point` over a pass (decoder): point j < m (index idxs[j]) against its corrected prediction base[j], in j
 * order. A skipped point (skip != 0 and skip[idx] == 1) takes its prediction where finite, else 0; any other point
 * LinearQuantizer.recoverAt's reconstruction from the next code (code 0: the next escaped value; else base + (code -
 * radius) x 2e, rounded to float32 where f32). Reconstructions into R (the caller copies them to its output), codes
 * (uint32) and escapes (float64) read from the record's positions. Where they run out the pass stops with D_OVERRUN
 * set (the caller then runs the reference over it, which fails or decodes as it does).
 */
export function recoverPass(d: usize, skip: usize, q: usize, codes: usize, escapes: usize): void {
  const m = fld(d, P_M);
  const idxs = <usize>fld(d, P_IDXS);
  const base = <usize>fld(d, P_BASE);
  const R = <usize>fld(d, P_R);
  const twoE = ldf(q, Q_TWOE);
  const radius = ldf(q, Q_RADIUS);
  const f32 = ldf(q, Q_F32) != 0;
  let largest = ldf(q, Q_LARGEST);
  let pos = <i32>ldf(q, D_POS);
  let escPos = <i32>ldf(q, D_ESCPOS);
  const nCodes = <i32>ldf(q, D_NCODES);
  const nEscapes = <i32>ldf(q, D_NESCAPES);
  for (let j = 0; j < m; j++) {
    const idx = ldi(idxs, j);
    const p = ldf(base, j);
    let r: f64;
    if (skip != 0 && load<u8>(skip + <usize>idx) == 1) r = p - p == 0 ? p : 0;
    else {
      if (pos >= nCodes) {
        stf(q, D_OVERRUN, 1);
        return;
      }
      const c = load<u32>(codes + (<usize>pos << 2));
      pos++;
      if (c == 0) {
        if (escPos >= nEscapes) {
          stf(q, D_OVERRUN, 1);
          return;
        }
        r = ldf(escapes, escPos);
        escPos++;
      } else {
        r = p + (<f64>c - radius) * twoE;
        if (f32) r = <f64><f32>r;
      }
    }
    largest = keepReconstruction(R, idx, r, largest);
  }
  stf(q, Q_LARGEST, largest);
  stf(q, D_POS, <f64>pos);
  stf(q, D_ESCPOS, <f64>escPos);
}

/**
 * fitPass's sizing of a candidate group: pred[i] = b0[i] (+ sum over k < K of w[k] F[i][k], in k order, where
 * withWeights), then the histogram (int32 at h, 2 radius + 1 bins, zeroed here) of the codes Math.round((xs[i] -
 * pred[i]) x inv) within (-radius, radius), and the first and last bins it used (int32 x 2 at range; first > last
 where none). Returns how many fell outside (or were NaN).
 */
export function codeHistogram(F: usize, ns: i32, K: i32, w: usize, withWeights: i32, b0: usize, xs: usize, pred: usize, inv: f64, h: usize, radius: i32, range: usize): i32 {
  memory.fill(h, 0, <usize>(2 * radius + 1) << 2);
  memory.copy(pred, b0, <usize>ns << 3);
  if (withWeights != 0) predictRows(F, ns, K, w, pred);
  const rad = <f64>radius;
  let over: i32 = 0;
  // the bins used, lo..hi (lo > hi where none is), for the caller's entropy to read only those
  let lo: i32 = 2 * radius;
  let hi: i32 = -1;
  for (let i = 0; i < ns; i++) {
    const code = roundForCode((ldf(xs, i) - ldf(pred, i)) * inv);
    if (code > -rad && code < rad) {
      const bin = <i32>code + radius;
      lo = min<i32>(lo, bin);
      hi = max<i32>(hi, bin);
      const at = h + (<usize>bin << 2);
      store<i32>(at, load<i32>(at) + 1);
    } else over++;
  }
  store<i32>(range, lo);
  store<i32>(range, hi, 4);
  return over;
}
