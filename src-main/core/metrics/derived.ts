/**
 * Derived quantities of a 2D slice, computed before and after compression: they show errors that a point-wise
 * bound hides (a bounded error can still be rough, and derivatives amplify roughness). Central differences in the
 * interior, one-sided at the edges, per grid point (no metric terms: the grid spacing is taken as 1).
 * Invalid points (mask = 0, non-finite) make every difference that touches them NaN.
 */
type Arr = ArrayLike<number>;

function ok(a: Arr, mask: Uint8Array | null, k: number): boolean {
  const v = a[k]!;
  return !(mask && mask[k] === 0) && v - v === 0;
}

/** d/dx (along the fastest dim) and d/dy of one h x w slice. */
export function gradients(a: Arr, h: number, w: number, mask: Uint8Array | null = null, offset = 0): { dx: Float64Array; dy: Float64Array } {
  const dx = new Float64Array(h * w).fill(NaN);
  const dy = new Float64Array(h * w).fill(NaN);
  const at = (y: number, x: number) => offset + y * w + x;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!ok(a, mask, at(y, x))) continue;
      const l = x > 0 ? x - 1 : x, r = x < w - 1 ? x + 1 : x;
      if (r > l && ok(a, mask, at(y, l)) && ok(a, mask, at(y, r))) dx[y * w + x] = (a[at(y, r)]! - a[at(y, l)]!) / (r - l);
      const u = y > 0 ? y - 1 : y, d = y < h - 1 ? y + 1 : y;
      if (d > u && ok(a, mask, at(u, x)) && ok(a, mask, at(d, x))) dy[y * w + x] = (a[at(d, x)]! - a[at(u, x)]!) / (d - u);
    }
  }
  return { dx, dy };
}

/** |grad a| = sqrt((da/dx)^2 + (da/dy)^2). */
export function gradientMagnitude(a: Arr, h: number, w: number, mask: Uint8Array | null = null, offset = 0): Float64Array {
  const { dx, dy } = gradients(a, h, w, mask, offset);
  return dx.map((gx, i) => Math.hypot(gx, dy[i]!));
}

/** Relative vorticity dv/dx - du/dy of a (u, v) pair on the same grid. */
export function vorticity(u: Arr, v: Arr, h: number, w: number, mask: Uint8Array | null = null, offset = 0): Float64Array {
  const gu = gradients(u, h, w, mask, offset);
  const gv = gradients(v, h, w, mask, offset);
  return gv.dx.map((vx, i) => vx - gu.dy[i]!);
}

/** Horizontal divergence du/dx + dv/dy of a (u, v) pair on the same grid. */
export function divergence(u: Arr, v: Arr, h: number, w: number, mask: Uint8Array | null = null, offset = 0): Float64Array {
  const gu = gradients(u, h, w, mask, offset);
  const gv = gradients(v, h, w, mask, offset);
  return gu.dx.map((ux, i) => ux + gv.dy[i]!);
}

/** Names of a wind/current pair's partner: the v of a u and the u of a v (uwnd/vwnd, u10/v10, U/V, ...), or null. */
export function vectorPartner(name: string): { u: string; v: string } | null {
  const m = /^(.*?)([uUvV])(wnd|WND|10|_?[0-9]*|vel|VEL|curr|CURR|)$/.exec(name);
  if (!m) return null;
  const [, pre, c, post] = m;
  const lower = c === c!.toLowerCase();
  const u = `${pre}${lower ? 'u' : 'U'}${post}`;
  const v = `${pre}${lower ? 'v' : 'V'}${post}`;
  return { u, v };
}
