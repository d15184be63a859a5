// AssemblyScript source of the VQ-VAE decoder's fast path (scripts/build-wasm.mjs compiles it into
// src-main/core/nn/wasm-kernels.generated.ts). Each kernel computes what its twin in src-main/core/nn/vqvae/layers.ts
// computes, every output point's terms added in the same order (bias first, then input channel, kernel row, kernel
// column ascending) with the same IEEE float32 operations: f32x4 lanes are four independent float32 multiply-adds,
// so the fast path gives the reference's bits, which the decoder still checks per chunk (x̂'s CRC in the stream).
// Buffers are float32 arrays the caller placed in this module's memory; pointers are byte addresses.

/** First free byte after this module's static data (the caller lays its buffers out from here). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

/** n float32 values from o set to b (an output row or plane starts at its bias). */
// @ts-ignore: decorator
@inline
function fill(o: usize, n: i32, b: f32): void {
  const bv = f32x4.splat(b);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(o + (<usize>i << 2), bv);
  for (; i < n; i++) store<f32>(o + (<usize>i << 2), b);
}

/** o[x] += w * src[x] for x in [x0, x1), four at a time (one tap of a convolution over a row or plane). */
// @ts-ignore: decorator
@inline
function addTap(o: usize, src: usize, x0: i32, x1: i32, w: f32): void {
  const wv = f32x4.splat(w);
  let x = x0;
  for (; x + 4 <= x1; x += 4) {
    const at = <usize>x << 2;
    v128.store(o + at, f32x4.add(v128.load(o + at), f32x4.mul(wv, v128.load(src + at))));
  }
  for (; x < x1; x++) {
    const at = <usize>x << 2;
    store<f32>(o + at, load<f32>(o + at) + w * load<f32>(src + at));
  }
}

/** Adds the three taps of kernel row wk (float32 weights w[wk], w[wk+1], w[wk+2]) of input row r to output row o. */
// @ts-ignore: decorator
@inline
function rowTaps(o: usize, r: usize, W: i32, w0: f32, w1: f32, w2: f32): void {
  const v0 = f32x4.splat(w0), v1 = f32x4.splat(w1), v2 = f32x4.splat(w2);
  const last = W - 1;
  // interior points 1 .. W-2, four at a time
  let x = 1;
  for (; x + 4 <= last; x += 4) {
    const p = o + (<usize>x << 2);
    const q = r + (<usize>x << 2);
    let a = v128.load(p);
    a = f32x4.add(a, f32x4.mul(v0, v128.load(q - 4)));
    a = f32x4.add(a, f32x4.mul(v1, v128.load(q)));
    a = f32x4.add(a, f32x4.mul(v2, v128.load(q + 4)));
    v128.store(p, a);
  }
  for (; x < last; x++) {
    const p = o + (<usize>x << 2);
    const q = r + (<usize>x << 2);
    let a = load<f32>(p);
    a += w0 * load<f32>(q - 4);
    a += w1 * load<f32>(q);
    a += w2 * load<f32>(q + 4);
    store<f32>(p, a);
  }
  // x = 0 skips kx = 0, x = W - 1 skips kx = 2
  store<f32>(o, load<f32>(o) + w1 * load<f32>(r) + w2 * load<f32>(r + 4));
  const e = <usize>last << 2;
  store<f32>(o + e, load<f32>(o + e) + w0 * load<f32>(r + e - 4) + w1 * load<f32>(r + e));
}

/**
 * 3 x 3 convolution, stride 1, zero padding 1, on [cin, H, W] (W >= 3) into [cout, H, W]; weights [cout, cin, 3, 3].
 * Per output row: the bias, then per input channel the valid kernel rows' taps, row by row over the output row.
 */
export function conv3x3(inp: usize, cin: i32, H: i32, W: i32, weight: usize, bias: usize, cout: i32, out: usize): void {
  const plane = <usize>(H * W) << 2;
  const rowBytes = <usize>W << 2;
  for (let oc = 0; oc < cout; oc++) {
    const b = load<f32>(bias + (<usize>oc << 2));
    for (let y = 0; y < H; y++) {
      const o = out + <usize>oc * plane + <usize>y * rowBytes;
      fill(o, W, b);
      const ky0 = y == 0 ? 1 : 0, ky1 = y == H - 1 ? 1 : 2;
      for (let ic = 0; ic < cin; ic++) {
        const wb = weight + ((<usize>(oc * cin + ic) * 9) << 2);
        const ib = inp + <usize>ic * plane;
        for (let ky = ky0; ky <= ky1; ky++) {
          const wk = wb + (<usize>(3 * ky) << 2);
          rowTaps(o, ib + <usize>(y - 1 + ky) * rowBytes, W, load<f32>(wk), load<f32>(wk + 4), load<f32>(wk + 8));
        }
      }
    }
  }
}

/**
 * Adds input rows sA (kernel row weights a0..a3) and, when `both`, sB (b0..b3) to an output row of the transposed
 * convolution: X = 2m - 1 gets kx = 0 (ix = m) then kx = 2 (ix = m - 1), X = 2m gets kx = 1 (ix = m) then kx = 3
 * (ix = m - 1), for m = 1 .. W - 1, row A's taps before row B's. Four column pairs per step: the pairs' eight
 * interleaved outputs are split into the odd and even columns, updated, and interleaved back.
 */
// @ts-ignore: decorator
@inline
function pairTaps(o: usize, sA: usize, sB: usize, W: i32, both: bool, a0: f32, a1: f32, a2: f32, a3: f32, b0: f32, b1: f32, b2: f32, b3: f32): void {
  const va0 = f32x4.splat(a0), va1 = f32x4.splat(a1), va2 = f32x4.splat(a2), va3 = f32x4.splat(a3);
  const vb0 = f32x4.splat(b0), vb1 = f32x4.splat(b1), vb2 = f32x4.splat(b2), vb3 = f32x4.splat(b3);
  let m = 1;
  for (; m + 4 <= W; m += 4) {
    const p = o + (<usize>(2 * m - 1) << 2);
    const lo = v128.load(p), hi = v128.load(p + 16);
    let u = v128.shuffle<f32>(lo, hi, 0, 2, 4, 6);
    let v = v128.shuffle<f32>(lo, hi, 1, 3, 5, 7);
    const qA = v128.load(sA + (<usize>m << 2)), pA = v128.load(sA + (<usize>(m - 1) << 2));
    u = f32x4.add(u, f32x4.mul(va0, qA));
    u = f32x4.add(u, f32x4.mul(va2, pA));
    v = f32x4.add(v, f32x4.mul(va1, qA));
    v = f32x4.add(v, f32x4.mul(va3, pA));
    if (both) {
      const qB = v128.load(sB + (<usize>m << 2)), pB = v128.load(sB + (<usize>(m - 1) << 2));
      u = f32x4.add(u, f32x4.mul(vb0, qB));
      u = f32x4.add(u, f32x4.mul(vb2, pB));
      v = f32x4.add(v, f32x4.mul(vb1, qB));
      v = f32x4.add(v, f32x4.mul(vb3, pB));
    }
    v128.store(p, v128.shuffle<f32>(u, v, 0, 4, 1, 5));
    v128.store(p + 16, v128.shuffle<f32>(u, v, 2, 6, 3, 7));
  }
  for (; m < W; m++) {
    const p = o + (<usize>(2 * m - 1) << 2);
    const qA = load<f32>(sA + (<usize>m << 2)), pA = load<f32>(sA + (<usize>(m - 1) << 2));
    let u = load<f32>(p) + a0 * qA;
    u += a2 * pA;
    let v = load<f32>(p + 4) + a1 * qA;
    v += a3 * pA;
    if (both) {
      const qB = load<f32>(sB + (<usize>m << 2)), pB = load<f32>(sB + (<usize>(m - 1) << 2));
      u += b0 * qB;
      u += b2 * pB;
      v += b1 * qB;
      v += b3 * pB;
    }
    store<f32>(p, u);
    store<f32>(p + 4, v);
  }
}

/**
 * ConvTranspose2d, kernel 4, stride 2, padding 1 (weights [cin, cout, 4, 4]), [cin, H, W] into [cout, 2H, 2W]
 * (layers.ts's convTranspose2d): per output row the bias, then per input channel the row's two kernel rows.
 */
export function convTranspose4x4(inp: usize, cin: i32, H: i32, W: i32, weight: usize, bias: usize, cout: i32, out: usize): void {
  const Ho = 2 * H, Wo = 2 * W;
  const plane = <usize>(Ho * Wo) << 2;
  const iplane = <usize>(H * W) << 2;
  const rowBytes = <usize>Wo << 2;
  const inRow = <usize>W << 2;
  for (let oc = 0; oc < cout; oc++) {
    const b = load<f32>(bias + (<usize>oc << 2));
    for (let Y = 0; Y < Ho; Y++) {
      const o = out + <usize>oc * plane + <usize>Y * rowBytes;
      fill(o, Wo, b);
      const kyA = (Y + 1) & 1, kyB = kyA + 2;
      const iyA = (Y + 1 - kyA) >> 1, iyB = (Y + 1 - kyB) >> 1;
      const okA = iyA < H, okB = iyB >= 0;
      const last = o + rowBytes - 4;
      for (let ic = 0; ic < cin; ic++) {
        const wb = weight + ((<usize>(ic * cout + oc) * 16) << 2);
        const sA = inp + <usize>ic * iplane + <usize>iyA * inRow, sB = inp + <usize>ic * iplane + <usize>iyB * inRow;
        const wA = wb + (<usize>(4 * kyA) << 2), wB = wb + (<usize>(4 * kyB) << 2);
        const a0 = load<f32>(wA), a1 = load<f32>(wA + 4), a2 = load<f32>(wA + 8), a3 = load<f32>(wA + 12);
        const b0 = load<f32>(wB), b1 = load<f32>(wB + 4), b2 = load<f32>(wB + 8), b3 = load<f32>(wB + 12);
        // column 0 (kx = 1, ix = 0) and column Wo - 1 (kx = 2, ix = W - 1)
        let c0 = load<f32>(o), cl = load<f32>(last);
        if (okA) {
          c0 += a1 * load<f32>(sA);
          cl += a2 * load<f32>(sA + inRow - 4);
        }
        if (okB) {
          c0 += b1 * load<f32>(sB);
          cl += b2 * load<f32>(sB + inRow - 4);
        }
        if (okA && okB) pairTaps(o, sA, sB, W, true, a0, a1, a2, a3, b0, b1, b2, b3);
        else if (okA) pairTaps(o, sA, sA, W, false, a0, a1, a2, a3, b0, b1, b2, b3);
        else pairTaps(o, sB, sB, W, false, b0, b1, b2, b3, b0, b1, b2, b3);
        store<f32>(o, c0);
        store<f32>(last, cl);
      }
    }
  }
}

/**
 * 1 x 1 convolution (stride 1) on [cin, H, W] into [cout, H, W]; weights [cout, cin]: per output plane the bias,
 * then each input channel's product added over the whole plane, channels ascending.
 */
export function conv1x1(inp: usize, cin: i32, H: i32, W: i32, weight: usize, bias: usize, cout: i32, out: usize): void {
  const n = H * W;
  const plane = <usize>n << 2;
  for (let oc = 0; oc < cout; oc++) {
    const o = out + <usize>oc * plane;
    const b = load<f32>(bias + (<usize>oc << 2));
    fill(o, n, b);
    for (let ic = 0; ic < cin; ic++) {
      addTap(o, inp + <usize>ic * plane, 0, n, load<f32>(weight + (<usize>(oc * cin + ic) << 2)));
    }
  }
}

/**
 * 'same' convolution of the predictor networks (core/nn/reference.ts's conv), kernel kd x kh x kw (odd), on
 * [cin, D, H, W] into [cout, D, H, W]; weights [cout, cin, kd, kh, kw] at `weight`, bias at `bias` (0: none, +0
 * start). Per output channel: the bias, then for ic, kz, ky, kx ascending the tap added over every output row it
 * reaches (terms outside the grid skipped), as the reference loops run.
 */
export function convSame(inp: usize, cin: i32, cout: i32, D: i32, H: i32, W: i32, weight: usize, bias: usize, kd: i32, kh: i32, kw: i32, out: usize): void {
  const plane = D * H * W;
  const planeBytes = <usize>plane << 2;
  const rd = (kd - 1) >> 1, rh = (kh - 1) >> 1, rw = (kw - 1) >> 1;
  const kvol = kd * kh * kw;
  for (let oc = 0; oc < cout; oc++) {
    const o = out + <usize>oc * planeBytes;
    const b: f32 = bias ? load<f32>(bias + (<usize>oc << 2)) : 0;
    fill(o, plane, b);
    for (let ic = 0; ic < cin; ic++) {
      const src = inp + <usize>ic * planeBytes;
      const wBase = weight + (<usize>((oc * cin + ic) * kvol) << 2);
      for (let dz = 0; dz < kd; dz++) {
        const oz = dz - rd;
        const z0 = max(0, -oz), z1 = min(D, D - oz);
        for (let dy = 0; dy < kh; dy++) {
          const oy = dy - rh;
          const y0 = max(0, -oy), y1 = min(H, H - oy);
          for (let dx = 0; dx < kw; dx++) {
            const ox = dx - rw;
            const x0 = max(0, -ox), x1 = min(W, W - ox);
            const w = load<f32>(wBase + (<usize>((dz * kh + dy) * kw + dx) << 2));
            for (let z = z0; z < z1; z++) {
              for (let y = y0; y < y1; y++) {
                addTap(o + (<usize>((z * H + y) * W) << 2), src + (<usize>(((z + oz) * H + (y + oy)) * W + ox) << 2), x0, x1, w);
              }
            }
          }
        }
      }
    }
  }
}

/**
 * 4 x 4 convolution, stride 2, zero padding 1 (the VQ-VAE encoder's down-sampling; layers.ts's conv2d general loop
 * with stride 2), [cin, H, W] (H, W even) into [cout, H / 2, W / 2]: per output row the bias, then for ic, ky, kx
 * ascending the tap over the row's columns (input column 2x + kx - 1), four outputs per step from eight inputs.
 */
export function conv4x4s2(inp: usize, cin: i32, H: i32, W: i32, weight: usize, bias: usize, cout: i32, out: usize): void {
  const Ho = H >> 1, Wo = W >> 1;
  const plane = <usize>(Ho * Wo) << 2;
  const iplane = <usize>(H * W) << 2;
  const inRow = <usize>W << 2;
  for (let oc = 0; oc < cout; oc++) {
    const b = load<f32>(bias + (<usize>oc << 2));
    for (let y = 0; y < Ho; y++) {
      const o = out + <usize>oc * plane + (<usize>(y * Wo) << 2);
      fill(o, Wo, b);
      for (let ic = 0; ic < cin; ic++) {
        const wb = weight + ((<usize>(oc * cin + ic) * 16) << 2);
        for (let ky = 0; ky < 4; ky++) {
          const iy = 2 * y + ky - 1;
          if (iy < 0 || iy >= H) continue;
          const row = inp + <usize>ic * iplane + <usize>iy * inRow;
          for (let kx = 0; kx < 4; kx++) {
            const w = load<f32>(wb + (<usize>(ky * 4 + kx) << 2));
            const wv = f32x4.splat(w);
            const dx = kx - 1;
            // output columns whose input column 2x + dx is inside the row
            const x0 = dx < 0 ? 1 : 0;
            const x1 = min(Wo, ((W - 1 - dx) >> 1) + 1);
            let xx = x0;
            for (; xx + 4 <= x1 && 2 * xx + dx + 8 <= W; xx += 4) {
              const at = o + (<usize>xx << 2);
              const src = row + (<usize>(2 * xx + dx) << 2);
              const even = v128.shuffle<f32>(v128.load(src), v128.load(src + 16), 0, 2, 4, 6);
              v128.store(at, f32x4.add(v128.load(at), f32x4.mul(wv, even)));
            }
            for (; xx < x1; xx++) {
              const at = o + (<usize>xx << 2);
              store<f32>(at, load<f32>(at) + w * load<f32>(row + (<usize>(2 * xx + dx) << 2)));
            }
          }
        }
      }
    }
  }
}
