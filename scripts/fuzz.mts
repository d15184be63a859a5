/**
 * npm run fuzz -- --cases N --seed S [--jobs J] [--first F] [--timeout MS] [--json FILE]
 * npm run fuzz -- --case I --seed S --save DIR      (writes case I's stream, to decode or inspect by hand)
 *
 * Mutates valid streams of every registered codec and decodes each in a child process under a time and memory
 * limit (src-main/services/codecs/fuzz.ts); prints the counts per outcome, the worst decode time, the peak RSS and
 * the defects. Exit status 1 when any case crashed, hung, went over memory or ended in another error than BAD_STREAM
 * (or the refusals of a well-formed stream: an unknown codec, an anchor not given).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSeedStreams } from '../src-main/services/codecs/fuzz-corpus.ts';
import { DEFECTS, formatReport, fuzzCase, runFuzz } from '../src-main/services/codecs/fuzz.ts';

const { values: a } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    first: { type: 'string', default: '0' },
    jobs: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '2000' },
    json: { type: 'string' },
    case: { type: 'string' },
    save: { type: 'string' },
  },
});
const num = (s: string | undefined, name: string) => {
  const v = Number(s);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer, got ${s}`);
  return v;
};
const seed = num(a.seed, 'seed');

if (a.case !== undefined) {
  const i = num(a.case, 'case');
  const c = fuzzCase(await buildSeedStreams(), seed, i);
  const dir = a.save ?? '.';
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `fuzz-${seed}-${i}.fpk`);
  writeFileSync(file, c.bytes);
  console.log(`${file}: ${c.bytes.length} bytes, from ${c.seedStream}: ${c.what.join('; ')}`);
  process.exit(0);
}

const cases = num(a.cases, 'cases');
let last = 0;
const report = await runFuzz({
  cases, seed, first: num(a.first, 'first'), jobs: Math.max(1, num(a.jobs, 'jobs')), timeoutMs: num(a.timeout, 'timeout'),
  onProgress: (done, total) => {
    if (process.stderr.isTTY && (done === total || performance.now() - last > 500)) {
      last = performance.now();
      process.stderr.write(`\r${done}/${total}`);
    }
  },
});
if (process.stderr.isTTY) process.stderr.write('\n');
console.log(formatReport(report));
if (a.json) writeFileSync(a.json, JSON.stringify(report, null, 1));
process.exitCode = DEFECTS.some((d) => report.counts[d] > 0) ? 1 : 0;
