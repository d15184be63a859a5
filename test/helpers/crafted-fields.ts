/** Fields built to break a codec's assumptions, shared by the tests that need them. */
import type { Field } from '../../src-main/core/field.ts';
import { makeField } from '../../src-main/services/codecs/fuzz-corpus.ts';

/**
 * A salinity-like field whose land is written as 0 (or `land`; no fill declared), the land patches all away from the
 * centre: the central block, where auto's sample lies, is smooth open ocean; the field is full of coasts.
 */
export function coastsField(shape: [number, number, number], landValue = 0): Field {
  const [nz, ny, nx] = shape;
  let s = 2024;
  const rnd = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const land = new Uint8Array(ny * nx);
  for (let k = 0; k < 60; k++) {
    const cy = rnd() * ny, cx = rnd() * nx, r = 4 + rnd() * 14;
    if (Math.abs(cy - ny / 2) < ny * 0.3 && Math.abs(cx - nx / 2) < nx * 0.3) continue;
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(ny, cy + r); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(nx, cx + r); x++) if ((y - cy) ** 2 + (x - cx) ** 2 < r * r) land[y * nx + x] = 1;
    }
  }
  const values = new Float32Array(nz * ny * nx);
  let o = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, o++) values[o] = land[y * nx + x] ? landValue : 34 + 0.1 * z + 2 * Math.sin(y / 17 + z / 9) * Math.cos(x / 23) + 0.02 * (rnd() - 0.5);
    }
  }
  return { name: 'SALT', shape, dims: ['z', 'y', 'x'], values, sourceDtype: 'float32', attributes: { units: 'PSU' } } as Field;
}

/**
 * A smooth field off any grid (makeField, noise 0.01) whose block [lo, hi) along each of its last two dims is
 * rounded to `step`: a rounded patch, or with a large block a rounded field in an unrounded frame.
 */
export function roundedPatchField(shape: [number, number, number], lo: number, hi: number, step: number): Field {
  const f = makeField('T', shape, { noise: 0.01, seed: 35 });
  const [, ny, nx] = shape;
  for (let i = 0; i < f.values.length; i++) {
    const x = i % nx;
    const y = Math.floor(i / nx) % ny;
    if (y >= lo && y < hi && x >= lo && x < hi) f.values[i] = Math.fround(Math.round(f.values[i]! / step) * step);
  }
  return f;
}
