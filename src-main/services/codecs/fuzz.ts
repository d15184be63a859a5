/**
 * The decoder fuzz harness (`npm run fuzz -- --cases N --seed S`; test/integration/compression/fuzz.test.ts runs a
 * small fixed-seed run). Valid seed streams of every registered codec (fuzz-corpus.ts) are mutated (fuzz-mutate.ts:
 * bit flips, truncation, extension, header fields re-encoded with the CRCs recomputed, huge varints, params, chunk
 * payloads and embedded networks edited and stored again) and decoded in child processes (fuzz-child.ts), a batch
 * of cases per child, each case under a time limit and a memory limit:
 *
 *   decoded      decoded, and the field has the shape its header declares (a corrupted value is not detectable)
 *   badStream    a FieldpackError BAD_STREAM (the message names the field)
 *   refused      UNSUPPORTED for a codec id this build does not know, NOT_FOUND for an anchor, a model or a base not handed over:
 *                what a well-formed stream of another codec or with other dependencies gets
 *   other        any other error (a TypeError, a RangeError, INTERNAL, another code), or a wrong decoded shape
 *   crash        the child died while decoding
 *   hang         no result within the time limit (the child is killed)
 *   overMemory   the process grew by more than the declared output (values and mask) + the slack while decoding,
 *                went over the hard cap (killed), or ran out of JavaScript heap
 *
 * Memory per case: the child collects garbage before a case when it holds any, then compares its peak resident size
 * (getrusage maxRSS, a high-water mark) with its resident size before the case. When the case did not raise the
 * high-water mark its peak is only known to be below it; such a case is run again alone in a fresh child.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import { buildSeedStreams, type SeedStream } from './fuzz-corpus.ts';
import { caseRng, mutate } from './fuzz-mutate.ts';

export type Outcome = 'decoded' | 'badStream' | 'refused' | 'other' | 'crash' | 'hang' | 'overMemory';
export const OUTCOMES: readonly Outcome[] = ['badStream', 'decoded', 'refused', 'other', 'crash', 'hang', 'overMemory'];
/** outcomes that are defects */
export const DEFECTS: readonly Outcome[] = ['other', 'crash', 'hang', 'overMemory'];

export interface CaseReport {
  i: number;
  seedStream: string;
  what: string[];
  outcome: Outcome;
  code: string;
  message: string;
  /** inspect + decode, milliseconds: wall clock (what the time limit applies to) and CPU time of the child */
  ms: number;
  cpuMs: number;
  /** resident size before the case, high-water mark before and after (bytes) */
  rss0: number;
  hwm0: number;
  hwm1: number;
  /** the header's declared output: values and mask bytes (0 when the header does not parse) */
  declared: number;
  bytes: number;
}

export type ParentMessage = { t: 'run'; seed: number; from: number; to: number; rowsShare: number } | { t: 'exit' };
export type ChildMessage = { t: 'ready' } | { t: 'start'; i: number } | { t: 'done'; rep: CaseReport } | { t: 'batch'; from: number; to: number };

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** first case index (default 0): a run covers [first, first + cases) */
  first?: number;
  /** child processes at once (default 2) */
  jobs?: number;
  /** cases per batch sent to a child (default 100) */
  batch?: number;
  /** decode time limit per case, ms (default 2000) */
  timeoutMs?: number;
  /** memory allowed over the declared output, bytes (default 64 MiB) */
  memSlack?: number;
  /** a child's resident size at which it is killed (default 3 GiB) */
  hardCap?: number;
  /** V8 heap limit of a child, MiB (default 1024) */
  heapMb?: number;
  /** share of cases decoding a random row range rather than the whole field (default 0.25) */
  rowsShare?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  first: number;
  counts: Record<Outcome, number>;
  /** by outcome then error code */
  codes: Record<string, Record<string, number>>;
  worst: { ms: number; i: number; seedStream: string; what: string[] };
  /** the largest CPU time of one case (wall-clock times include waiting for the other children) */
  worstCpu: { ms: number; i: number; seedStream: string; what: string[] };
  /** the largest resident size any child reached (bytes), and the largest growth during one case over its declared output */
  peakRss: number;
  maxGrowth: { bytes: number; declared: number; i: number };
  /** defects, with what was done to the stream */
  defects: CaseReport[];
  seeds: { name: string; codec: string; bytes: number }[];
  seconds: number;
}

const MIB = 1 << 20;
const ROOT = join(import.meta.dirname, '..', '..', '..');
const CHILD = join(import.meta.dirname, 'fuzz-child.ts');

/** An error as an outcome. */
export function classify(e: unknown): { outcome: Outcome; code: string; message: string } {
  if (e instanceof FieldpackError) {
    if (e.code === 'BAD_STREAM') return { outcome: 'badStream', code: e.code, message: e.message };
    // a stream edited to name another codec, anchor, model or base: the decoder asks for what it names
    if ((e.code === 'UNSUPPORTED' && /^codec ".*" is not known/.test(e.message)) || (e.code === 'NOT_FOUND' && /^the .* was not given/.test(e.message))) {
      return { outcome: 'refused', code: e.code, message: e.message };
    }
    return { outcome: 'other', code: e.code, message: e.message };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { outcome: 'other', code: err.name || 'Error', message: `${err.message}\n${(err.stack ?? '').split('\n').slice(1, 4).join('\n')}` };
}

// ---------------------------------------------------------------- corpus on disk (children read it)

interface StoredField {
  name: string;
  shape: number[];
  dims: string[];
  f64: boolean;
  values: string;
  mask?: string;
}

const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

export function saveCorpus(seeds: SeedStream[]): string {
  return JSON.stringify(seeds.map((s) => ({
    name: s.name, codec: s.codec, bytes: b64(s.bytes), models: Object.fromEntries(Object.entries(s.models).map(([h, b]) => [h, b64(b)])),
    anchors: s.anchors.map((a): StoredField => ({ name: a.name, shape: a.shape, dims: a.dims, f64: a.values instanceof Float64Array, values: b64(a.values), ...(a.mask ? { mask: b64(a.mask) } : {}) })),
  })));
}

export function loadCorpus(json: Buffer | string): SeedStream[] {
  const raw = JSON.parse(String(json)) as { name: string; codec: string; bytes: string; models: Record<string, string>; anchors: StoredField[] }[];
  const bytesOf = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
  return raw.map((s) => ({
    name: s.name, codec: s.codec, bytes: bytesOf(s.bytes), models: Object.fromEntries(Object.entries(s.models).map(([h, b]) => [h, bytesOf(b)])),
    anchors: s.anchors.map((a): Field => {
      const b = bytesOf(a.values);
      const values = a.f64 ? new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8) : new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      return { name: a.name, shape: a.shape, dims: a.dims, values, ...(a.mask ? { mask: bytesOf(a.mask) } : {}), sourceDtype: a.f64 ? 'float64' : 'float32', attributes: {} };
    }),
  }));
}

/** The stream of case i (what a child decodes), with the seed stream it came from and what was done to it. */
export function fuzzCase(seeds: SeedStream[], seed: number, i: number): { seedStream: string; what: string[]; bytes: Uint8Array } {
  const r = caseRng(seed, i);
  const s = seeds[Math.floor(r() * seeds.length)]!;
  const m = mutate(r, s.bytes);
  return { seedStream: s.name, what: m.what, bytes: m.bytes };
}

// ---------------------------------------------------------------- the run

function residentBytes(pid: number): number {
  try {
    const statm = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(statm[1]) * 4096;
  } catch {
    return 0;
  }
}

interface Range {
  from: number;
  to: number;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const first = o.first ?? 0;
  const jobs = Math.max(1, o.jobs ?? 2);
  const batch = Math.max(1, o.batch ?? 100);
  const timeoutMs = o.timeoutMs ?? 2000;
  const slack = o.memSlack ?? 64 * MIB;
  const hardCap = o.hardCap ?? 3 * 1024 * MIB;
  const rowsShare = o.rowsShare ?? 0.25;
  const seeds = await buildSeedStreams();
  const dir = mkdtempSync(join(tmpdir(), 'fieldpack-fuzz-'));
  const corpusPath = join(dir, 'corpus.json');
  writeFileSync(corpusPath, saveCorpus(seeds));

  const reports = new Map<number, CaseReport>();
  const queue: Range[] = [];
  for (let a = first; a < first + o.cases; a += batch) queue.push({ from: a, to: Math.min(first + o.cases, a + batch) });
  const recheck: number[] = [];
  let peakRss = 0;
  let done = 0;

  const parentCase = (i: number, outcome: Outcome, code: string, message: string): CaseReport => {
    const c = fuzzCase(seeds, o.seed, i);
    return { i, seedStream: c.seedStream, what: c.what, outcome, code, message, ms: timeoutMs, cpuMs: 0, rss0: 0, hwm0: 0, hwm1: 0, declared: 0, bytes: c.bytes.length };
  };

  /** Runs ranges from `take` in one child after another until `take` gives none; `alone`: rechecks (no retry). */
  const slot = (take: () => Range | undefined, alone: boolean) => new Promise<void>((resolveSlot) => {
    let child: ChildProcess | null = null;
    let current: Range | null = null;
    let inFlight = -1;
    let timer: NodeJS.Timeout | null = null;
    let watch: NodeJS.Timeout | null = null;
    let killedFor: Outcome | null = null;
    let stderr = '';
    const clear = () => {
      if (timer) clearTimeout(timer);
      if (watch) clearInterval(watch);
      timer = watch = null;
    };
    const record = (rep: CaseReport) => {
      if (!reports.has(rep.i) || alone) {
        if (!reports.has(rep.i)) done++;
        reports.set(rep.i, rep);
        o.onProgress?.(done, o.cases);
      }
    };
    const next = () => {
      current = take() ?? null;
      if (!current) {
        child?.send({ t: 'exit' } satisfies ParentMessage);
        return;
      }
      child!.send({ t: 'run', seed: o.seed, from: current.from, to: current.to, rowsShare } satisfies ParentMessage);
    };
    const spawn = () => {
      stderr = '';
      killedFor = null;
      const c = fork(CHILD, [corpusPath], {
        cwd: ROOT,
        execArgv: ['--import', 'tsx', '--expose-gc', `--max-old-space-size=${o.heapMb ?? 1024}`],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      child = c;
      c.stderr!.on('data', (b: Buffer) => {
        stderr = (stderr + b.toString()).slice(-4000);
      });
      c.on('message', (m: ChildMessage) => {
        if (m.t === 'ready') next();
        else if (m.t === 'start') {
          inFlight = m.i;
          timer = setTimeout(() => {
            killedFor = 'hang';
            c.kill('SIGKILL');
          }, timeoutMs);
          watch = setInterval(() => {
            const rss = residentBytes(c.pid!);
            peakRss = Math.max(peakRss, rss);
            if (rss > hardCap) {
              killedFor = 'overMemory';
              c.kill('SIGKILL');
            }
          }, 50);
        } else if (m.t === 'done') {
          clear();
          inFlight = -1;
          const rep = m.rep;
          peakRss = Math.max(peakRss, rep.hwm1);
          const limit = rep.declared + slack;
          if (rep.hwm1 > rep.hwm0) {
            if (rep.hwm1 - rep.rss0 > limit && (rep.outcome === 'decoded' || rep.outcome === 'badStream' || rep.outcome === 'refused')) {
              rep.message = `grew ${((rep.hwm1 - rep.rss0) / MIB).toFixed(1)} MiB, declared output ${(rep.declared / MIB).toFixed(1)} MiB (${rep.outcome}: ${rep.message})`;
              rep.outcome = 'overMemory';
            }
          } else if (rep.hwm0 - rep.rss0 > limit && !alone) recheck.push(rep.i);
          record(rep);
        } else if (m.t === 'batch') next();
      });
      c.on('exit', (code, signal) => {
        clear();
        const was = inFlight;
        inFlight = -1;
        child = null;
        if (was >= 0) {
          const heap = /heap out of memory|Allocation failed/i.test(stderr);
          const outcome: Outcome = killedFor ?? (heap ? 'overMemory' : 'crash');
          const why = killedFor === 'hang' ? `no result in ${timeoutMs} ms` : killedFor === 'overMemory' ? `resident size over ${(hardCap / MIB).toFixed(0)} MiB` : `exit ${code ?? signal}: ${stderr.slice(-600)}`;
          record(parentCase(was, outcome, outcome.toUpperCase(), why));
          // the rest of the batch in a fresh child
          if (current && was + 1 < current.to && !alone) queue.unshift({ from: was + 1, to: current.to });
          spawn();
          return;
        }
        if (current) {
          // died between cases: run the batch's remainder again
          const left = Array.from({ length: current.to - current.from }, (_, k) => current!.from + k).filter((i) => !reports.has(i));
          if (left.length && !alone) {
            queue.unshift({ from: left[0]!, to: current.to });
            spawn();
            return;
          }
        }
        resolveSlot();
      });
    };
    spawn();
  });

  try {
    await Promise.all(Array.from({ length: jobs }, () => slot(() => queue.shift(), false)));
    // cases whose peak was hidden under an earlier high-water mark: alone, in a fresh child each
    for (const i of recheck) await slot((() => { let once = false; return () => (once ? undefined : ((once = true), { from: i, to: i + 1 })); })(), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const counts = Object.fromEntries(OUTCOMES.map((x) => [x, 0])) as Record<Outcome, number>;
  const codes: Record<string, Record<string, number>> = {};
  let worst = { ms: 0, i: -1, seedStream: '', what: [] as string[] };
  let worstCpu = { ...worst };
  let maxGrowth = { bytes: 0, declared: 0, i: -1 };
  const defects: CaseReport[] = [];
  for (const r of [...reports.values()].sort((a, b) => a.i - b.i)) {
    counts[r.outcome]++;
    (codes[r.outcome] ??= {})[r.code || '-'] = (codes[r.outcome]![r.code || '-'] ?? 0) + 1;
    if (r.outcome !== 'hang' && r.ms > worst.ms) worst = { ms: r.ms, i: r.i, seedStream: r.seedStream, what: r.what };
    if (r.cpuMs > worstCpu.ms) worstCpu = { ms: r.cpuMs, i: r.i, seedStream: r.seedStream, what: r.what };
    if (r.hwm1 > r.hwm0 && r.hwm1 - r.rss0 > maxGrowth.bytes) maxGrowth = { bytes: r.hwm1 - r.rss0, declared: r.declared, i: r.i };
    if (DEFECTS.includes(r.outcome)) defects.push(r);
  }
  return {
    seed: o.seed, cases: o.cases, first, counts, codes, worst, worstCpu, peakRss, maxGrowth, defects,
    seeds: seeds.map((s) => ({ name: s.name, codec: s.codec, bytes: s.bytes.length })),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The report as text: the counts table, the worst decode time, the memory peaks, the defects. */
export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  lines.push(`fieldpack decoder fuzz: ${r.cases} cases [${r.first}, ${r.first + r.cases}), seed ${r.seed}, ${r.seeds.length} seed streams (${[...new Set(r.seeds.map((s) => s.codec))].join(', ')}), ${r.seconds.toFixed(1)} s`);
  lines.push('');
  lines.push('| outcome | cases | codes |');
  lines.push('|---|---:|---|');
  for (const k of OUTCOMES) {
    const c = r.codes[k] ? Object.entries(r.codes[k]!).map(([code, n]) => `${code} ${n}`).join(', ') : '';
    lines.push(`| ${k} | ${r.counts[k]} | ${c} |`);
  }
  lines.push('');
  lines.push(`worst decode time: ${r.worst.ms.toFixed(1)} ms wall clock (case ${r.worst.i}, ${r.worst.seedStream}: ${r.worst.what.join('; ')})`);
  lines.push(`worst decode CPU time: ${r.worstCpu.ms.toFixed(1)} ms (case ${r.worstCpu.i}, ${r.worstCpu.seedStream}: ${r.worstCpu.what.join('; ')})`);
  lines.push(`peak RSS of a child: ${(r.peakRss / MIB).toFixed(1)} MiB; largest growth during one case: ${(r.maxGrowth.bytes / MIB).toFixed(1)} MiB (case ${r.maxGrowth.i}, declared output ${(r.maxGrowth.declared / MIB).toFixed(2)} MiB)`);
  if (r.defects.length) {
    lines.push('');
    lines.push(`defects (${r.defects.length}; rebuild one with --case I --save DIR):`);
    for (const d of r.defects.slice(0, 40)) lines.push(`  case ${d.i} ${d.outcome} ${d.code} [${d.seedStream}: ${d.what.join('; ')}] ${d.message.split('\n')[0]}`);
  }
  return lines.join('\n');
}
