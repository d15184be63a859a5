/**
 * External baselines run through the same harness: zfp (Debian CLI, fixed-accuracy mode) always, and an `sz3`
 * executable when one is on PATH. Protocol (as ../shared/reference/baselines.json): float32, >3D folded to 3D
 * (leading dims merged), fill points replaced by the mean of the valid points before compressing; size = the
 * tool's whole output file; timings are wall-clock of the tool process (includes its file I/O and start-up).
 * The tools run as child processes awaited asynchronously (the server stays responsive), killed on cancel, started
 * by a small helper process (toolRunner), never forked from this one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { FieldpackError } from '../../../core/errors.ts';
import { errorStats } from '../../../core/metrics/index.ts';

export interface ExternalResult {
  compressedBytes: number;
  recon: Float32Array;
  compressSeconds: number;
  decompressSeconds: number;
  version: string;
  /** how the tool was run where not its usual way (zfp: reversible where its accuracy mode missed the bound) */
  mode?: string;
}

/** A tool's row label: its name and version, and how it was run where not its usual way. */
export function externalLabel(codec: string, r: Pick<ExternalResult, 'version' | 'mode'>): string {
  return `${codec} ${r.version}${r.mode ? ` (${r.mode})` : ''}`;
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

/** Whether an executable of that name is in a folder of PATH (looked up here: no shell, no fork). */
function onPath(cmd: string): boolean {
  // Windows names executables by extension (PATHEXT); elsewhere the execute permission says it
  const names = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').map((ext) => cmd + ext.toLowerCase()) : [cmd];
  return (process.env.PATH ?? '').split(delimiter).some((dir) =>
    dir !== '' && names.some((name) => {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    }),
  );
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

/**
 * The helper that starts the tools: a process of its own, started once (startToolRunner; the bench starts it before
 * reading any field, while this process is small). A tool started from this process would be forked from it, and a
 * fork marks every page of this process copy-on-write: the compressions that followed ran ~40 % slower for many runs
 * (etopo20 ROSE at rel 1e-3, in a loop: 51 -> 72 ms after one spawnSync('true'), not after the helper ran it), so in
 * a bench every row after an SZ3 or zfp row was timed slow. It times each tool from its own spawn to its exit.
 */
const TOOL_RUNNER = `
const { spawn } = require('node:child_process');
const running = new Map();
process.on('message', (m) => {
  if (m.kill !== undefined) return void running.get(m.kill)?.kill();
  const t0 = performance.now();
  let stdout = '', stderr = '', done = false;
  const reply = (r) => { if (!done) { done = true; running.delete(m.id); process.send({ id: m.id, ...r }); } };
  const child = spawn(m.cmd, m.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.set(m.id, child);
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.on('error', (e) => reply({ error: e.message }));
  child.on('close', (code, signal) => reply({ code, signal, seconds: (performance.now() - t0) / 1000, stdout, stderr }));
});
process.on('disconnect', () => process.exit(0));
`;

interface ToolReply {
  id: number;
  error?: string;
  code?: number | null;
  seconds?: number;
  stdout?: string;
  stderr?: string;
}

let runner: ChildProcess | null = null;
const waiting = new Map<number, (r: ToolReply) => void>();
let nextToolId = 0;

/** The tool runner, started where it is not running; it keeps this process alive only while a tool runs. */
function toolRunner(): ChildProcess {
  if (runner) return runner;
  const child = spawn(process.execPath, ['-e', TOOL_RUNNER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  // a runner that stops (or cannot start) fails the tools it was running; the next tool starts a new one
  const stopped = (why: string) => {
    if (runner === child) runner = null;
    for (const [id, answer] of waiting) answer({ id, error: why });
  };
  child.on('message', (r: ToolReply) => waiting.get(r.id)?.(r));
  child.on('exit', () => stopped('the tool runner stopped'));
  child.on('error', (e) => stopped(`the tool runner failed: ${e.message}`));
  child.unref();
  child.channel?.unref();
  return (runner = child);
}

/** Starts the tool runner now, while this process is small (before a bench reads its fields). */
export function startToolRunner(): void {
  toolRunner();
}

/** Runs a tool to completion; resolves with its wall-clock seconds and stdout. Cancel kills it. */
export function runTool(cmd: string, args: string[], signal?: AbortSignal): Promise<{ seconds: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new FieldpackError('CANCELLED', `cancelled before ${cmd} ran`));
    const child = toolRunner();
    const id = nextToolId++;
    const onAbort = () => child.send({ kill: id }, () => {});
    signal?.addEventListener('abort', onAbort, { once: true });
    child.channel?.ref();
    waiting.set(id, (r) => {
      waiting.delete(id);
      if (waiting.size === 0) child.channel?.unref();
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(new FieldpackError('CANCELLED', `${cmd} was stopped: cancelled`));
      if (r.error !== undefined) return reject(new FieldpackError('INTERNAL', `${cmd} could not run: ${r.error}`));
      if (r.code !== 0) return reject(new FieldpackError('INTERNAL', `${cmd} ${args.join(' ')} failed (exit ${r.code}): ${(r.stderr ?? '').trim()}`));
      resolve({ seconds: r.seconds!, stdout: r.stdout ?? '' });
    });
    child.send({ id, cmd, args }, (e) => e && waiting.get(id)?.({ id, error: `the tool runner took no request: ${e.message}` }));
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
      const coded = async (mode: string[]) => {
        const compressSeconds = (await runTool('zfp', ['-h', '-f', ...dimArgs, ...mode, '-i', inp, '-z', z], signal)).seconds;
        const decompressSeconds = (await runTool('zfp', ['-h', '-z', z, '-o', o], signal)).seconds;
        return { compressedBytes: statSync(z).size, recon: readF32(o, values.length), compressSeconds, decompressSeconds, version: await zfpVersion(signal) };
      };
      if (!(absBound > 0)) return coded(['-R']);
      // a tolerance near or below the values' own spacing (rel 1e-300) is one fixed accuracy does not reach: zfp
      // kept ~1 ulp and its row broke the bound by 1e292 x; it is then run as a user would run it, losslessly
      const accurate = await coded(['-a', String(absBound)]);
      const missed = errorStats(values, accurate.recon, null, absBound).pointsOverBound > 0;
      return missed ? { ...(await coded(['-R'])), mode: `reversible: -a ${absBound} missed the bound` } : accurate;
    });
  },
};

/** What a tool prints, or '' where it cannot run or fails (a version query it may not have); a cancel still cancels. */
async function toolOutput(cmd: string, args: string[], signal?: AbortSignal): Promise<string> {
  try {
    return (await runTool(cmd, args, signal)).stdout;
  } catch (e) {
    if (e instanceof FieldpackError && e.code === 'CANCELLED') throw e;
    return '';
  }
}

let zfpVer: string | undefined;
/** The zfp package's version (not a Debian package: unknown), asked once per process (the CLI has no version option). */
async function zfpVersion(signal?: AbortSignal): Promise<string> {
  zfpVer ??= (await toolOutput('dpkg-query', ['-W', '-f=${Version}', 'zfp'], signal)).trim() || 'unknown';
  return zfpVer;
}

let sz3VersionSeen: string | null = null;

/** `sz3 -v`'s "SZ3 Version: X" as "X" (its other lines are licence notices; older CLIs have no -v), asked once per process. */
async function sz3Version(signal?: AbortSignal): Promise<string> {
  if (sz3VersionSeen) return sz3VersionSeen;
  const out = await toolOutput('sz3', ['-v'], signal);
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
      const compressSeconds = (await runTool('sz3', ['-f', '-i', inp, '-z', z, ...dimArgs, '-M', 'ABS', String(absBound)], signal)).seconds;
      const decompressSeconds = (await runTool('sz3', ['-f', '-z', z, '-o', o, ...dimArgs, '-M', 'ABS', String(absBound)], signal)).seconds;
      return { compressedBytes: statSync(z).size, recon: readF32(o, values.length), compressSeconds, decompressSeconds, version: await sz3Version(signal) };
    });
  },
};

export const EXTERNAL: Record<string, ExternalCompressor> = { zfp: zfpCli, sz3: sz3Cli };
