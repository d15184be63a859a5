/**
 * The bench's large case: a NetCDF-4 variable of a given size (4 GiB by default) built on disk slab by slab, for
 * `fieldpack bench --large SIZE` to compress and decompress in bounded memory and report time and peak RSS.
 *
 * The field: T[time, y, x] float32, a smooth travelling pattern plus a little texture (deterministic), so the
 * ratio is that of a real-looking field, not of zeros. Written with h5wasm: dimension scales as netCDF-C writes
 * them, the variable chunked one time step at a time, no deflate (the bench times Fieldpack, not zlib).
 */
import { FieldpackError } from '../../core/errors.ts';
import { h5guard, loadH5wasm, type H5File } from '../data/readers/h5.ts';
import { writeAtomically } from '../files/atomic.ts';

const PURE_DIM = 'This is a netCDF dimension but not a netCDF variable.';

/** "4GiB", "512MiB", "1e9" -> bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*(k|m|g|t)?(i)?b?$/i.exec(s.trim());
  if (!m) throw new FieldpackError('INVALID_ARGUMENT', `size "${s}": give bytes or a size like 4GiB, 512MiB`);
  const unit = m[2] ? 'kmgt'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.round(Number(m[1]) * (m[3] || m[2] ? 1024 : 1000) ** unit);
}

/** The shape of a float32 [time, y, x] variable of about `bytes` (time steps of 1024 x 1024). */
export function largeShape(bytes: number): number[] {
  const plane = 1024 * 1024;
  return [Math.max(1, Math.round(bytes / 4 / plane)), 1024, 1024];
}

function fillStep(t: number, ny: number, nx: number, out: Float32Array): void {
  // separable: one sine per column and one cosine per row per step, then a multiply-add per point
  const sx = new Float64Array(nx);
  for (let x = 0; x < nx; x++) sx[x] = 12 * Math.sin((x - 2 * t) / 83);
  for (let y = 0; y < ny; y++) {
    const cy = Math.cos((y + 3 * t) / 97);
    const base = 280 + 0.002 * y;
    for (let x = 0; x < nx; x++) {
      const i = y * nx + x;
      // a hash-based texture of 0.02 K (reproducible, no Math.random)
      const h = (Math.imul(i ^ Math.imul(t, 2654435761), 2246822519) >>> 0) / 4294967296;
      out[i] = base + sx[x]! * cy + 0.02 * (h - 0.5);
    }
  }
}

/** Writes the large variable T to `path` (atomically); progress per time step. */
export async function writeLargeNetcdf4(path: string, shape: number[], onProgress?: (f: number, m: string) => void, signal?: AbortSignal): Promise<void> {
  const [nt, ny, nx] = shape as [number, number, number];
  const h5 = await loadH5wasm();
  await writeAtomically(path, (tmp) => h5guard(path, 'could not write the large NetCDF-4 file', () => {
    const file = new h5.File(tmp, 'w', { track_order: true }) as H5File;
    try {
      (['time', 'y', 'x'] as const).forEach((dim, i) => {
        const size = shape[i]!;
        const ds = file.create_dataset({ name: dim, data: new Float32Array(size), shape: [size], dtype: '<f' });
        ds.make_scale(`${PURE_DIM}${String(size).padStart(10)}`);
        ds.create_attribute('_Netcdf4Dimid', Int32Array.of(i), [1], '<i');
      });
      const step = new Float32Array(ny * nx);
      fillStep(0, ny, nx, step);
      const ds = file.create_dataset({ name: 'T', data: step, shape: [1, ny, nx], maxshape: [nt, ny, nx], chunks: [1, ny, nx], dtype: '<f', track_order: true });
      ds.create_attribute('units', 'K', null, 'A1');
      ds.create_attribute('long_name', 'synthetic temperature for the large-variable bench', null, 'A51');
      ds.resize([nt, ny, nx]);
      for (let t = 1; t < nt; t++) {
        if (signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled');
        fillStep(t, ny, nx, step);
        ds.write_slice([[t, t + 1], [0, ny], [0, nx]], step);
        if (t % 16 === 0) onProgress?.(t / nt, `writing ${path}: step ${t}/${nt}`);
      }
      ['time', 'y', 'x'].forEach((dim, i) => ds.attach_scale(i, `/${dim}`));
    } finally {
      file.close();
    }
  }, 'INTERNAL'));
}
