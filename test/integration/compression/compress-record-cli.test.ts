/**
 * `fieldpack compress --record` as a user runs it (the real CLI, a child process): the run is in the store as the
 * Compress view would have made it (metrics, tags, the stream kept with it), -o copies that stream out, the report's
 * rerun command records a second run with the same stream, and flags a recorded run cannot honour are refused
 * before any work.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src-main/services/app-context.ts';
import { dispatch } from '../../../src-main/services/services.ts';
import { closePools, decodeStream } from '../../../src-main/services/codecs/index.ts';
import { loadField } from '../../../src-main/services/compression/bench-input.ts';
import { rerunCommand } from '../../../src-main/services/review/report.ts';
import type { Run, RunDetail } from '../../../src-main/api/schemas.ts';
import { COADS, haveFile } from '../../helpers/data-files.ts';
import { fieldpack } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';

const tmp = tempDir('fieldpack-record-');
afterAll(async () => {
  await closePools();
  tmp.cleanup();
});

/** The runs of the store at `db`, in detail, opened as the app opens it. */
async function storedRuns(db: string): Promise<RunDetail[]> {
  const app = createApp({ dbPath: db, door: 'cli' });
  try {
    const runs = (await dispatch(app.services, 'runs.list', {})) as Run[];
    return await Promise.all(runs.map((r) => dispatch(app.services, 'runs.get', { id: r.id }) as Promise<RunDetail>));
  } finally {
    await app.close();
  }
}

const metric = (d: RunDetail, key: string) => Number(d.metrics.find((m) => m.key === key)?.value);

describe.skipIf(!haveFile(COADS))('compress --record (needs ferret-datasets)', () => {
  it('records a finished run with its metrics and stream; -o gets the same bytes, within the bound; the rerun command records another run with the same stream', async () => {
    const db = join(tmp.dir, 'x.db');
    const out = join(tmp.dir, 'sst.fpk');
    const r = await fieldpack('--db', db, 'compress', COADS, '--var', 'SST', '--bound', 'rel:1e-3', '--record', '-o', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^run 1 finished: SST \[12x90x180\] rel 0\.001 -> abs .*ratio [\d.]+, max error\/bound (0\.\d+|1\.000)/m);
    // its speeds are one cold run's, and said to be
    expect(r.stdout).toMatch(/MB\/s compress \/ decompress \(this one run, start-up included: `fieldpack bench` times warm runs\)$/m);
    expect(r.stderr).toMatch(/^bound: rel 0\.001 -> abs/m);
    const [run] = await storedRuns(db);
    expect(run!.kind).toBe('compress');
    expect(run!.status).toBe('finished');
    expect(run!.tags).toMatchObject({ codec: 'auto', variable: 'SST', bound: 'rel:0.001' });
    const stream = run!.artifacts.find((a) => a.kind === 'fpk')!;
    const bytes = readFileSync(out);
    expect(bytes.equals(readFileSync(stream.path))).toBe(true);
    expect(metric(run!, 'compression_ratio')).toBeCloseTo((12 * 90 * 180 * 4) / bytes.length, 6);
    expect(metric(run!, 'points_over_bound')).toBe(0);
    // the copy decodes within the bound the run resolved
    const field = await loadField(COADS, 'SST');
    const back = await decodeStream(new Uint8Array(bytes), { workers: 0 });
    const abs = Number(run!.tags['abs_bound']);
    let worst = 0;
    for (let i = 0; i < field.values.length; i++) if (!field.mask || field.mask[i]) worst = Math.max(worst, Math.abs(back.field.values[i]! - field.values[i]!));
    expect(worst).toBeLessThanOrEqual(abs);

    // the report's rerun command, as a colleague pastes it (in the test's folder, on the same store)
    const rerun = rerunCommand(run!).split(' ').slice(1);
    expect(rerun).toContain('--record');
    const again = await fieldpack('--db', db, ...rerun.map((a) => (a === 'run1.fpk' ? join(tmp.dir, a) : a)));
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(join(tmp.dir, 'run1.fpk')).equals(bytes)).toBe(true);
    expect((await storedRuns(db)).map((d) => d.status)).toEqual(['finished', 'finished']);
  }, 120_000);

  it('refuses, before any run is made, what a recorded run cannot do, and an -o that would replace a file of the user\'s', async () => {
    const db = join(tmp.dir, 'refused.db');
    const notes = join(tmp.dir, 'notes.txt');
    writeFileSync(notes, 'my notes');
    const cases: [string[], RegExp][] = [
      [['--streamed'], /--record with --streamed: a recorded run reads the whole field/],
      [['--no-verify'], /--record with --no-verify: a recorded run is always decompressed and checked/],
      [['--anchors', 'AIRT'], /--record with --anchors: cross-field runs are recorded by the Cross-field view/],
      [['--codec', 'zfp', '-o', join(tmp.dir, 'z.fpk')], /-o: zfp writes no Fieldpack stream/],
      [['--codec', 'nope'], /--codec nope: unknown codec/],
      [['--project', 'x'], /--project x: a project id/],
      [['-o', notes], /notes\.txt exists and is not a Fieldpack stream/],
    ];
    for (const [extra, message] of cases) {
      const r = await fieldpack('--db', db, 'compress', COADS, '--var', 'SST', '--bound', 'rel:1e-3', '--record', ...extra);
      expect(r.status, extra.join(' ')).not.toBe(0);
      expect(r.stderr, extra.join(' ')).toMatch(message);
    }
    expect(readFileSync(notes, 'utf8')).toBe('my notes');
    // nor another stream's base: that stream would be left undecodable (a recorded run's copy replaced it unasked)
    const owner = join(tmp.dir, 'l.fpk');
    const plain = await fieldpack('--db', db, 'compress', COADS, '--var', 'SST', '--codec', 'lbrc', '--base', 'auto:rel:1e-2', '--bound', 'rel:1e-4', '-o', owner);
    expect(plain.status, plain.stderr).toBe(0);
    const baseBytes = readFileSync(join(tmp.dir, 'l.base.fpk'));
    const onBase = await fieldpack('--db', db, 'compress', COADS, '--var', 'SST', '--bound', 'rel:1e-3', '--record', '-o', join(tmp.dir, 'l.base.fpk'));
    expect(onBase.status).not.toBe(0);
    expect(onBase.stderr).toMatch(/l\.base\.fpk is the base stream of .*l\.fpk: replacing it would leave l\.fpk undecodable/);
    expect(readFileSync(join(tmp.dir, 'l.base.fpk')).equals(baseBytes)).toBe(true);
    expect(await storedRuns(db)).toEqual([]);
  }, 120_000);
});
