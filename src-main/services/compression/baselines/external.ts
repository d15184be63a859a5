/**
 * External baselines run through the same harness: zfp (Debian CLI, fixed-accuracy mode) always, and an `sz3`
 * executable when one is on PATH. Protocol (as ../shared/reference/baselines.json): float32, >3D folded to 3D
 * (leading dims merged), fill points replaced by the mean of the valid points before compressing; size = the
 * tool's whole output file; timings are wall-clock of the tool process (includes its file I/O and start-up).
 * The tools run as child processes awaited asynchronously (the server stays responsive), killed on cancel.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldpackError } from '../../../core/errors.ts';

export interface ExternalResult {
  compressedBytes: number;
  recon: Float32Array;
  compressSeconds: number;
  decompressSeconds: number;
  version: string;
}

export interface ExternalCompressor {
  name: string;
  label: string;
  description: string;
  available(): boolean;
  /** The tolerance acts in powers of two (zfp's accuracy mode keeps floor(log2(tolerance))): nothing to bisect between. */
  powerOfTwoTolerance?: boolean;
  run(values: Float32Array, shape: number[], absBound: number, signal?: AbortSignal): Promise<ExternalResult>;
}

function onPath(cmd: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

/** dims fastest first, folded to at most 3 */
export function fold3(shape: number[]): number[] {
  const s = shape.filter((d) => d > 1);
  if (s.length === 0) return [1];
  while (s.length > 3) s.splice(0, 2, s[0]! * s[1]!);
  return s.reverse();
}

/** Replaces invalid points by the mean of the valid points (protocol of baselines.json). */
export function fillWithMean(values: ArrayLike<number>, mask: Uint8Array | null): Float32Array {
  const out = Float32Array.from(values as ArrayLike<number>);
  let s = 0;
  let n = 0;
  for (let i = 0; i < out.length; i++) {
    const v = out[i]!;
    if ((mask && mask[i] === 0) || v - v !== 0) continue;
    s += v;
    n++;
  }
  const mean = n ? s / n : 0;
  for (let i = 0; i < out.length; i++) if ((mask && mask[i] === 0) || out[i]! - out[i]! !== 0) out[i] = mean;
  return out;
}

/** Runs a tool to completion; resolves with its wall-clock seconds and stdout. Cancel kills it. */
function timed(cmd: string, args: string[], signal?: AbortSignal): Promise<{ seconds: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new FieldpackError('CANCELLED', `cancelled before ${cmd} ran`));
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      if (signal?.aborted) reject(new FieldpackError('CANCELLED', `${cmd} was stopped: cancelled`));
      else reject(new FieldpackError('INTERNAL', `${cmd} could not run: ${err.message}`));
    });
    child.on('close', (code) => {
      if (signal?.aborted) return reject(new FieldpackError('CANCELLED', `${cmd} was stopped: cancelled`));
      if (code !== 0) return reject(new FieldpackError('INTERNAL', `${cmd} ${args.join(' ')} failed (exit ${code}): ${stderr.trim()}`));
      resolve({ seconds: (performance.now() - t0) / 1000, stdout });
    });
  });
}

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'fieldpack-bench-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readF32(path: string, n: number): Float32Array {
  const b = readFileSync(path);
  if (b.length !== n * 4) throw new FieldpackError('INTERNAL', `${path}: ${b.length} bytes, expected ${n * 4}`);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

export const zfpCli: ExternalCompressor = {
  name: 'zfp',
  label: 'zfp',
  description: 'zfp CLI, fixed-accuracy mode (fill points replaced by the valid mean)',
  available: () => onPath('zfp'),
  powerOfTwoTolerance: true,
  run(values, shape, absBound, signal) {
    const dims = fold3(shape);
    return withTmp(async (dir) => {
      const inp = join(dir, 'in.f32');
      const z = join(dir, 'out.zfp');
      const o = join(dir, 'out.f32');
      writeFileSync(inp, values);
      const dimArgs = [`-${dims.length}`, ...dims.map(String)];
      const tol = absBound > 0 ? ['-a', String(absBound)] : ['-R'];
      const compressSeconds = (await timed('zfp', ['-h', '-f', ...dimArgs, ...tol, '-i', inp, '-z', z], signal)).seconds;
      const decompressSeconds = (await timed('zfp', ['-h', '-z', z, '-o', o], signal)).seconds;
      return { compressedBytes: statSync(z).size, recon: readF32(o, values.length), compressSeconds, decompressSeconds, version: zfpVersion() };
    });
  },
};

let zfpVer: string | undefined;
function zfpVersion(): string {
  if (zfpVer === undefined) {
    const r = spawnSync('sh', ['-c', "dpkg-query -W -f='${Version}' zfp 2>/dev/null"], { encoding: 'utf8' });
    zfpVer = r.stdout.trim() || 'unknown';
  }
  return zfpVer;
}

let sz3VersionSeen: string | null = null;

/** `sz3 -v`'s "SZ3 Version: X" as "X" (its other lines are licence notices), asked once per process. */
async function sz3Version(signal?: AbortSignal): Promise<string> {
  if (sz3VersionSeen) return sz3VersionSeen;
  let out = '';
  try {
    out = (await timed('sz3', ['-v'], signal)).stdout;
  } catch (e) {
    if (e instanceof FieldpackError && e.code === 'CANCELLED') throw e;
    /* older CLIs have no -v */
  }
  return (sz3VersionSeen = /SZ3 Version:\s*(\S+)/.exec(out)?.[1] ?? (out.trim().split('\n')[0] || 'unknown'));
}

export const sz3Cli: ExternalCompressor = {
  name: 'sz3',
  label: 'SZ3',
  description: 'sz3 CLI, absolute bound (fill points replaced by the valid mean)',
  available: () => onPath('sz3'),
  run(values, shape, absBound, signal) {
    const dims = fold3(shape);
    return withTmp(async (dir) => {
      const inp = join(dir, 'in.f32');
      const z = join(dir, 'out.sz');
      const o = join(dir, 'out.f32');
      writeFileSync(inp, values);
      const dimArgs = [`-${dims.length}`, ...dims.map(String)];
      const compressSeconds = (await timed('sz3', ['-f', '-i', inp, '-z', z, ...dimArgs, '-M', 'ABS', String(absBound)], signal)).seconds;
      const decompressSeconds = (await timed('sz3', ['-f', '-z', z, '-o', o, ...dimArgs, '-M', 'ABS', String(absBound)], signal)).seconds;
      return { compressedBytes: statSync(z).size, recon: readF32(o, values.length), compressSeconds, decompressSeconds, version: await sz3Version(signal) };
    });
  },
};

export const EXTERNAL: Record<string, ExternalCompressor> = { zfp: zfpCli, sz3: sz3Cli };
