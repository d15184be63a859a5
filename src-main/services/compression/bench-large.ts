/**
 * The bench's large case: a NetCDF-4 variable of a given size (4 GiB by default) built on disk slab by slab, for
 * `fieldpack bench --large SIZE` to compress and decompress in bounded memory and report time and peak RSS.
 *
 * The field: T[time, y, x] float32, a smooth travelling pattern plus a little texture (deterministic), so the
 * ratio is that of a real-looking field, not of zeros. Written with h5wasm: dimension scales as netCDF-C writes
 * them, the variable chunked one time step at a time, no deflate (the bench times Fieldpack, not zlib).
 */
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiInput, ApiOutput, ApiParsedInput } from '../../api/contract.ts';
import type { LargeBenchRow } from '../../api/methods/bench.ts';
import type { CallControl as CallContext } from '../codecs/index.ts';
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

/** The smallest large variable: one time step of 1024 x 1024 float32 values. */
const LARGE_MIN_BYTES = 4 * 1024 * 1024;

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

interface StreamCalls {
  compress(input: ApiInput<'streams.compress'>, call?: CallContext): Promise<ApiOutput<'streams.compress'>>;
  decompress(input: ApiInput<'streams.decompress'>, call?: CallContext): Promise<ApiOutput<'streams.decompress'>>;
}

/**
 * bench.large: the variable built in a temporary folder, then at each bound compressed and decompressed slab by slab
 * through the stream methods (`streamed`), with the peak RSS of this process after each.
 */
/** Bytes in GiB, or MiB below 1 GiB (a small disk or size said as "0.0 GiB" told the user nothing). */
const diskSize = (bytes: number): string => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

export async function runLargeBench(input: ApiParsedInput<'bench.large'>, call: CallContext | undefined, streams: StreamCalls): Promise<ApiOutput<'bench.large'>> {
  const asked = parseSize(input.size);
  if (asked < LARGE_MIN_BYTES) throw new FieldpackError('INVALID_ARGUMENT', `size ${input.size}: at least 4MiB (one time step of 1024 x 1024 float32 values)`);
  const shape = largeShape(asked);
  const bytes = shape.reduce((a, b) => a * b, 4);
  const mb = bytes / 1e6;
  const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);
  const parent = input.dir ?? tmpdir();
  // the variable, its stream and its decompressed copy are on disk at once
  const free = await statfs(parent).then((f) => f.bavail * f.bsize, (e: NodeJS.ErrnoException) => {
    throw new FieldpackError(e.code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_ARGUMENT', `the folder ${parent} for the large variable: ${e.code === 'ENOENT' ? 'no such folder' : `cannot use it (${e.code ?? e.message})`}`, { path: parent });
  });
  if (free < 2.2 * bytes) throw new FieldpackError('INVALID_ARGUMENT', `size ${input.size}: the variable and its decompressed copy need ${diskSize(2.2 * bytes)} in ${parent}, which has ${diskSize(free)} free`, { path: parent });
  const dir = await mkdtemp(join(parent, 'fieldpack-large-')).catch((e: NodeJS.ErrnoException) => {
    throw new FieldpackError('INVALID_ARGUMENT', `the folder ${parent} for the large variable: cannot write in it (${e.code ?? e.message})`, { path: parent });
  });
  const src = join(dir, 'large.nc');
  const step = (from: number, to: number) => ({ ...call, onProgress: (f: number, m?: string) => call?.onProgress?.(from + f * (to - from), m) });
  try {
    let t0 = performance.now();
    const stages = 1 + 2 * input.bounds.length;
    await writeLargeNetcdf4(src, shape, step(0, 1 / stages).onProgress, call?.signal);
    const build = { path: src, shape, seconds: (performance.now() - t0) / 1000, peak_rss_mib: rss() };
    const rows: LargeBenchRow[] = [];
    for (const [i, bound] of input.bounds.entries()) {
      const fpk = join(dir, 'large.fpk');
      t0 = performance.now();
      const c = await streams.compress({ file: src, variable: 'T', bound, workers: input.workers, verify: true, out: fpk, streamed: true }, step((1 + 2 * i) / stages, (2 + 2 * i) / stages));
      const compressSeconds = (performance.now() - t0) / 1000;
      const afterCompress = rss();
      t0 = performance.now();
      await streams.decompress({ file: fpk, out: join(dir, 'large.f32'), workers: input.workers, anchors: [], streamed: true }, step((2 + 2 * i) / stages, (3 + 2 * i) / stages));
      const decompressSeconds = (performance.now() - t0) / 1000;
      await rm(join(dir, 'large.f32'), { force: true });
      rows.push({
        file: 'large.nc', variable: 'T', shape, bytes_in: bytes, bound: c.boundLabel, compressed_bytes: c.bytes, compression_ratio: c.compressionRatio,
        compress_seconds_with_verify: compressSeconds, compress_mb_s_with_verify: mb / compressSeconds,
        decompress_seconds: decompressSeconds, decompress_mb_s: mb / decompressSeconds,
        max_error_over_bound: c.verification?.maxErrorOverBound, points_over_bound: c.verification?.pointsOverBound, psnr_db: c.verification?.psnr,
        peak_rss_mib_after_compress: afterCompress, peak_rss_mib_after_decompress: rss(), workers: input.workers,
      });
    }
    return {
      protocol: ['a synthetic float32 NetCDF-4 variable written on disk, then compressed and decompressed with --streamed through the API; peak RSS = maxRSS of this process (building the file included)'],
      build, rows,
    };
  } finally {
    if (!input.keep) await rm(dir, { recursive: true, force: true });
  }
}
