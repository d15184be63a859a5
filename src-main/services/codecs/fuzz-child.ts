/**
 * A fuzz harness child process (forked by fuzz.ts): reads the seed streams, then for each case it is told to run,
 * rebuilds the mutated stream from (seed, case index), inspects and decodes it through the codec service (workers 0,
 * the seed's anchors handed over as resolved dependencies) and reports the outcome, the time and the memory it took.
 * The parent owns the clock and the kill switch: a case that does not report within the limit is a hang.
 */
import { readFileSync } from 'node:fs';
import { FieldpackError } from '../../core/errors.ts';
import { fieldSize } from '../../core/field.ts';
import { readHeader } from '../../core/codec/stream/format.ts';
import type { ResolvedDependencies } from '../../core/compressors/index.ts';
import { seedDependencies } from './fuzz-corpus.ts';
import { decodeStream, inspectStream } from './index.ts';
import { loadCorpus, type CaseReport, type ChildMessage, type ParentMessage, classify } from './fuzz.ts';
import { caseRng, mutate } from './fuzz-mutate.ts';

const corpusPath = process.argv[2]!;
const corpus = loadCorpus(readFileSync(corpusPath));
const deps: ResolvedDependencies[] = corpus.map(seedDependencies);
const gc = (globalThis as { gc?: () => void }).gc;
const MIB = 1 << 20;
let baseline = process.memoryUsage().rss;

function send(m: ChildMessage): Promise<void> {
  return new Promise((res) => process.send!(m, () => res()));
}

async function runCase(seed: number, i: number, rowsShare: number): Promise<CaseReport> {
  const r = caseRng(seed, i);
  const si = Math.floor(r() * corpus.length);
  const s = corpus[si]!;
  const m = mutate(r, s.bytes);
  const partial = r() < rowsShare;
  const rowPick = [r(), r()];
  let declared = 0;
  let shape: number[] | null = null;
  try {
    const h = readHeader(m.bytes);
    shape = h.shape;
    declared = fieldSize(h.shape) * ((h.dtype === 'float32' ? 4 : 8) + (h.hasMask ? 1 : 0));
  } catch {
    /* the decode reports it */
  }
  if (gc && process.memoryUsage().rss > baseline + 32 * MIB) gc();
  const rss0 = process.memoryUsage().rss;
  const hwm0 = process.resourceUsage().maxRSS * 1024;
  await send({ t: 'start', i });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let outcome: CaseReport['outcome'] = 'decoded';
  let code = '';
  let message = '';
  try {
    inspectStream(m.bytes);
    let rows: [number, number] | undefined;
    if (partial && shape && shape[0]! > 1) {
      const a = Math.floor(rowPick[0]! * shape[0]!);
      const b = a + 1 + Math.floor(rowPick[1]! * (shape[0]! - a));
      rows = [a, Math.min(b, shape[0]!)];
    }
    const d = await decodeStream(m.bytes, { workers: 0, resolved: deps[si]!, ...(rows ? { rows } : {}) });
    const want = rows ? [rows[1] - rows[0], ...d.header.shape.slice(1)] : d.header.shape;
    if (d.field.shape.length !== want.length || d.field.shape.some((x, k) => x !== want[k]) || d.field.values.length !== fieldSize(want)) {
      outcome = 'other';
      code = 'WRONG_SHAPE';
      message = `decoded [${d.field.shape.join(', ')}] (${d.field.values.length} values), the header says [${want.join(', ')}]`;
    }
  } catch (e) {
    ({ outcome, code, message } = classify(e));
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const hwm1 = process.resourceUsage().maxRSS * 1024;
  const rss1 = process.memoryUsage().rss;
  if (rss1 < baseline) baseline = rss1;
  return { i, seedStream: s.name, what: m.what, outcome, code, message: message.slice(0, 300), ms, cpuMs, rss0, hwm0, hwm1, declared, bytes: m.bytes.length };
}

process.on('message', async (msg: ParentMessage) => {
  if (msg.t === 'exit') process.exit(0);
  for (let i = msg.from; i < msg.to; i++) {
    const rep = await runCase(msg.seed, i, msg.rowsShare);
    await send({ t: 'done', rep });
  }
  await send({ t: 'batch', from: msg.from, to: msg.to });
});
process.on('unhandledRejection', (e) => {
  process.stderr.write(`unhandled rejection: ${e instanceof FieldpackError ? e.message : String(e)}\n`);
  process.exit(70);
});
void send({ t: 'ready' });
