/**
 * Review on real data: compress runs of COADS (SST at three bounds and two codecs, UWND for the u/v pair) through
 * the app; the error_stat metrics stored per run; the analysis behind the Compare charts; tags, notes, archive and
 * search; imports not counted as runs; an experiment exported from one SQLite database and imported into another
 * (same runs and metrics, charts without the data file); a report as HTML and PDF through the CLI, read back with
 * pdftotext and pdftoppm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createApp, type AppContext } from '../../../src-main/services/app-context.ts';
import { dispatch } from '../../../src-main/services/services.ts';
import { closePools } from '../../../src-main/services/compression/index.ts';
import type { ApiOutput } from '../../../src-main/api/contract.ts';
import type { Run, RunDetail } from '../../../src-main/api/schemas.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { COADS } from '../../helpers/data-files.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const tmp = tempDir();
const dbA = join(tmp.dir, 'a.db');
const dbB = join(tmp.dir, 'b.db');
let app: AppContext;
let projectId: number;
const runIds: number[] = [];
let uwndRun = 0;

const call = <T>(a: AppContext, method: string, input: unknown) => dispatch(a.services, method, input) as Promise<T>;
const metric = (d: RunDetail, key: string) => d.metrics.find((m) => m.key === key && m.step === 0)?.value;

beforeAll(async () => {
  app = createApp({ dbPath: dbA, door: 'cli' });
  projectId = (await call<{ id: number }>(app, 'projects.create', { name: 'review' })).id;
  // a real import job: a data operation, not a run
  const imp = await call<Run>(app, 'jobs.submit', { kind: 'dataset.import', projectId, params: { paths: [COADS], name: 'COADS' } });
  expect((await app.jobs.waitFor(imp.id)).status).toBe('finished');
  const jobs = [
    { codec: 'auto', bound: { mode: 'rel', value: 1e-2 }, variable: 'SST' },
    { codec: 'auto', bound: { mode: 'rel', value: 1e-3 }, variable: 'SST' },
    { codec: 'lorenzo', bound: { mode: 'rel', value: 1e-2 }, variable: 'SST' },
    { codec: 'auto', bound: { mode: 'rel', value: 1e-2 }, variable: 'UWND' },
  ];
  for (const j of jobs) {
    const run = await call<Run>(app, 'jobs.submit', { kind: 'compress', projectId, name: `${j.codec} ${j.variable} ${j.bound.mode}:${j.bound.value}`, params: { file: COADS, workers: 0, ...j } });
    const done = await app.jobs.waitFor(run.id);
    expect(done.status, JSON.stringify(done.error)).toBe('finished');
    if (j.variable === 'SST') runIds.push(run.id);
    else uwndRun = run.id;
  }
}, 120_000);
afterAll(async () => {
  await app?.close();
  await closePools();
  tmp.cleanup();
});

describe('review', () => {
  it('stores the libpressio error_stat and size metrics with every compress run', async () => {
    const d = await call<RunDetail>(app, 'runs.get', { id: runIds[0] });
    for (const k of ['average_difference', 'average_error', 'difference_range', 'error_range', 'max_error', 'max_pw_rel_error', 'max_rel_error', 'min_error', 'mse', 'n', 'psnr', 'rmse', 'value_max', 'value_mean', 'value_min', 'value_range', 'value_std', 'bit_rate', 'compressed_size', 'compression_ratio']) {
      expect(typeof metric(d, k), k).toBe('number');
    }
    expect(metric(d, 'psnr')).toBeCloseTo(metric(d, 'psnr_db') as number, 9);
    expect(metric(d, 'max_error')).toBe(metric(d, 'max_abs_error'));
    expect(metric(d, 'n')).toBeLessThan(12 * 90 * 180); // land is masked
    expect(metric(d, 'max_error') as number).toBeLessThanOrEqual(0.01 * (metric(d, 'value_range') as number) * (1 + 1e-6));
  });

  it('analyses a run for the charts: histogram, spectra, autocorrelation, SSIM map, derived quantities (cached)', async () => {
    const a = await call<ApiOutput<'runs.analysis'>>(app, 'runs.analysis', { runId: runIds[0] });
    const d = await call<RunDetail>(app, 'runs.get', { id: runIds[0] });
    expect(a.slice).toMatchObject({ index: [6], height: 90, width: 180 });
    expect(a.histogram.counts.reduce((s, c) => s + c, 0)).toBe(metric(d, 'n'));
    expect(a.autocorrelation.x[0]).toBeCloseTo(1, 9);
    expect(a.spectrum.frequency.length).toBe(45);
    expect(a.spectrum.original[0]!).toBeGreaterThan(a.spectrum.error[0]!);
    expect(a.ssim.mean!).toBeGreaterThan(0.5);
    expect(a.errorMap.values.filter((v) => v !== null).length).toBeGreaterThan(1000);
    expect(a.derived.map((x) => x.name)).toEqual(['gradient magnitude']);
    expect(a.derivedNotes.join(' ')).toMatch(/not one of a u\/v pair/);
    // a run made before the error_stat metrics: the analysis adds them
    const stored = metric(d, 'max_pw_rel_error');
    app.store.db.prepare(`DELETE FROM run_metrics WHERE run_id = ? AND key IN ('max_pw_rel_error', 'n', 'value_std')`).run(runIds[2]);
    await call(app, 'runs.analysis', { runId: runIds[2] });
    const d2 = await call<RunDetail>(app, 'runs.get', { id: runIds[2] });
    expect(typeof metric(d2, 'max_pw_rel_error')).toBe('number');
    expect(metric(d2, 'n')).toBe(metric(d, 'n'));
    expect(stored).toBeGreaterThan(0);
    const again = await call<ApiOutput<'runs.analysis'>>(app, 'runs.analysis', { runId: runIds[0] });
    expect(again.computedAt).toBe(a.computedAt);
    // UWND: its partner VWND is compressed the same way, vorticity and divergence before and after
    const u = await call<ApiOutput<'runs.analysis'>>(app, 'runs.analysis', { runId: uwndRun });
    expect(u.derived.map((x) => x.name)).toEqual(['gradient magnitude', 'vorticity', 'divergence']);
    expect(u.derived[1]!.from).toBe('UWND, VWND');
    expect(u.derived[1]!.nrmse!).toBeGreaterThan(0);
    expect(u.derived[1]!.nrmse!).toBeLessThan(0.2);
  }, 60_000);

  it('keeps imports apart from runs; tags, notes, archive and search', async () => {
    const listed = await call<Run[]>(app, 'runs.list', { projectId });
    expect(listed.map((r) => r.kind)).not.toContain('dataset.import');
    expect((await call<Run[]>(app, 'runs.list', { projectId, kind: 'dataset.import' })).length).toBe(1);
    expect((await call<{ runCount: number }>(app, 'projects.get', { id: projectId })).runCount).toBe(4);

    await call(app, 'runs.update', { id: runIds[1], setTags: { keep: '', reviewer: 'ana' }, note: 'Best PSNR for SST; check the coasts.' });
    await call(app, 'runs.update', { id: uwndRun, archived: true });
    expect((await call<{ runCount: number }>(app, 'projects.get', { id: projectId })).runCount).toBe(3);
    const search = (input: object) => call<Run[]>(app, 'runs.search', { projectId, ...input }).then((rs) => rs.map((r) => r.id));
    expect(await search({ tags: { keep: '' } })).toEqual([runIds[1]]);
    expect(await search({ tags: { reviewer: 'ana' } })).toEqual([runIds[1]]);
    expect(await search({ query: 'COASTS' })).toEqual([runIds[1]]);
    expect(await search({ query: 'lorenzo' })).toEqual([runIds[2]]);
    expect(await search({ query: 'UWND' })).toEqual([]);
    expect(await search({ query: 'UWND', archived: 'include' })).toEqual([uwndRun]);
    expect(await search({ archived: 'only' })).toEqual([uwndRun]);
    const detail = await call<RunDetail>(app, 'runs.get', { id: runIds[1] });
    expect(detail.note).toBe('Best PSNR for SST; check the coasts.');
    expect(detail.tags).toMatchObject({ keep: '', reviewer: 'ana', codec: 'auto' });
    await call(app, 'runs.update', { id: runIds[1], removeTags: ['reviewer'] });
    // a refused tag key says why (zod's "Invalid key in record" alone did not), and a long one is not echoed whole
    await expect(call(app, 'runs.update', { id: runIds[1], setTags: { constructor: 'x' } })).rejects.toThrow(/setTags: key "constructor" is a reserved name/);
    await expect(call(app, 'runs.update', { id: runIds[1], setTags: { ['k'.repeat(300)]: 'x' } })).rejects.toThrow(/setTags: key "k{40}\.\.\. \(300 characters\)" Too big/);
    expect(await search({ tags: { reviewer: 'ana' } })).toEqual([]);
    // __proto__ as a key of the JSON the HTTP door parses: refused (it vanished, and the search matched every run)
    await expect(call(app, 'runs.search', JSON.parse('{"tags": {"__proto__": "x"}}'))).rejects.toThrow(/__proto__: is a reserved name/);
    await expect(call(app, 'runs.update', JSON.parse(`{"id": ${runIds[1]}, "setTags": {"__proto__": "x"}}`))).rejects.toThrow(/__proto__: is a reserved name/);
    await expect(call(app, 'compression.runs', JSON.parse('{"projectId": null, "tags": {"__proto__": "x"}}'))).rejects.toThrow(/__proto__: is a reserved name/);
  });

  it('exports an experiment from one database and imports it into another: same runs and metrics, charts without the data file', async () => {
    const file = join(tmp.dir, 'sst.fpexp.json');
    await call(app, 'runs.update', { id: runIds[0], experiment: 'SST bounds' });
    await call(app, 'runs.update', { id: runIds[1], experiment: 'SST bounds' });
    await call(app, 'runs.update', { id: runIds[2], experiment: 'SST bounds' });
    const out = await call<ApiOutput<'experiments.export'>>(app, 'experiments.export', { projectId, experiment: 'SST bounds', path: file });
    expect(out).toMatchObject({ runs: 3, artifacts: 3, skipped: [] });
    const before = await Promise.all(runIds.map((id) => call<RunDetail>(app, 'runs.get', { id })));

    const other = createApp({ dbPath: dbB, door: 'cli' });
    try {
      const pid = (await call<{ id: number }>(other, 'projects.create', { name: 'colleague' })).id;
      // a cancelled import (Ctrl-C) takes back what it imported, so it can be run again (a signal left some runs)
      const cancelled = new AbortController();
      cancelled.abort();
      await expect(dispatch(other.services, 'experiments.import', { projectId: pid, path: file }, { signal: cancelled.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(await call<unknown[]>(other, 'runs.search', { projectId: pid })).toEqual([]);
      const imp = await call<ApiOutput<'experiments.import'>>(other, 'experiments.import', { projectId: pid, path: file });
      expect(imp.experiment).toBe('SST bounds');
      expect(imp.runs.length).toBe(3);
      const after = await Promise.all(imp.runs.map((r) => call<RunDetail>(other, 'runs.get', { id: r.id })));
      const strip = (d: RunDetail) => ({
        name: d.name, kind: d.kind, status: d.status, params: d.params, result: d.result, note: d.note, tags: d.tags,
        metrics: d.metrics.map((m) => [m.key, m.step, m.value]),
        artifacts: d.artifacts.map((a) => [a.name, a.kind, a.sizeBytes, a.sha256]),
      });
      expect(after.map(strip)).toEqual(before.map(strip));
      expect(after[0]!.origin).toMatchObject({ database: dbA, runId: runIds[0] });
      expect(after.every((d) => d.artifacts.every((a) => existsSync(a.path) && a.path.startsWith(join(tmp.dir, 'b-files'))))).toBe(true);
      // the analysis came along in the file: drawn without reading the data file
      const a = await call<ApiOutput<'runs.analysis'>>(other, 'runs.analysis', { runId: imp.runs[0]!.id });
      expect(a.histogram.counts.reduce((s, c) => s + c, 0)).toBe(metric(before[0]!, 'n'));
      expect((await call<Run[]>(other, 'runs.search', { projectId: pid, experiment: 'SST bounds' })).length).toBe(3);
      // a damaged file is refused before anything is written
      const doc = JSON.parse(readFileSync(file, 'utf8'));
      doc.runs[0].artifacts[0].data = Buffer.from('not the stream').toString('base64');
      await expect(call(other, 'experiments.import', { projectId: pid, document: JSON.stringify(doc) })).rejects.toThrow(/does not match its sha256/);
      await expect(call(other, 'experiments.import', { projectId: pid, document: '{"hello": 1}' })).rejects.toThrow(/not a Fieldpack experiment file/);
      await expect(call(other, 'experiments.import', { projectId: pid, path: tmp.dir })).rejects.toThrow(/is a folder: give an experiment file/);
      await expect(call(other, 'experiments.import', { projectId: pid, path: '/dev/zero' })).rejects.toThrow(/is not a regular file/);
      // a file that is not JSON is named with its size, its contents are not quoted back
      const secret = join(tmp.dir, 'secret.txt');
      writeFileSync(secret, 'root:S3CR3T:0:0');
      const refused = call(other, 'experiments.import', { projectId: pid, path: secret });
      await expect(refused).rejects.toThrow(/secret\.txt \(15 bytes\) is not JSON, so not an experiment file/);
      await expect(refused).rejects.not.toThrow(/S3CR3T/);
      // an artifact without a file name is refused before anything is written; a run whose analysis Fieldpack did not
      // write is refused as such, and the runs imported before it are taken back with the experiment made for them
      const unnamed = JSON.parse(readFileSync(file, 'utf8'));
      unnamed.runs[1].artifacts[0].name = '.';
      await expect(call(other, 'experiments.import', { projectId: pid, document: JSON.stringify(unnamed), experiment: 'half' })).rejects.toThrow(/artifact "\." of run \d+ has no file name/);
      // refused as what they are, not as INTERNAL or raw SQLite / file-system errors: values nested 100000 deep, a
      // metric given twice at one step, an artifact name longer than a file system takes
      const deep = JSON.parse(readFileSync(file, 'utf8'));
      deep.runs[0].run.params = 'DEEP';
      const twice = JSON.parse(readFileSync(file, 'utf8'));
      twice.runs[0].metrics.push(twice.runs[0].metrics[0]);
      const longName = JSON.parse(readFileSync(file, 'utf8'));
      longName.runs[0].artifacts[0].name = 'x'.repeat(300);
      // and what the API would not store: a data import as a run (listed nowhere), a date that is none, a reserved
      // tag key, a file of no runs (an empty experiment)
      const edited = (edit: (d: { runs: { run: Record<string, unknown>; tags: Record<string, string> }[] }) => void) => {
        const d = JSON.parse(readFileSync(file, 'utf8'));
        edit(d);
        return d;
      };
      const more = [
        [edited((d) => (d.runs[0]!.run.kind = 'dataset.import')), /a data import \(dataset\.import\) is not an experiment run/],
        [edited((d) => (d.runs[0]!.run.createdAt = 'not a date')), /runs\.0\.run\.createdAt: is not a date/],
        [edited((d) => (d.runs[0]!.tags = { constructor: 'x' })), /reserved name/],
        [edited((d) => (d.runs = [])), /runs: holds no runs/],
      ] as const;
      for (const [doc, said] of [[deep, /nested deeper than 64 levels/], [twice, /run \d+ holds metric .* at step \d+ twice/], [longName, /has a file name of 300 bytes \(200 at most\)/], ...more] as const) {
        const text = JSON.stringify(doc).replace('"DEEP"', `${'{"a":'.repeat(100_000)}{}${'}'.repeat(100_000)}`);
        await expect(call(other, 'experiments.import', { projectId: pid, document: text, experiment: 'refused' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(said) });
      }
      const bogus = JSON.parse(readFileSync(file, 'utf8'));
      bogus.runs[2].analysis = { bogus: [1, 2, 3] };
      const halfProject = (await call<{ id: number }>(other, 'projects.create', { name: 'half' })).id;
      await expect(call(other, 'experiments.import', { projectId: halfProject, document: JSON.stringify(bogus), experiment: 'half' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/the analysis of a run is not one Fieldpack writes/) });
      expect((await call<Run[]>(other, 'runs.list', { projectId: halfProject })).length).toBe(0);
      expect((await call<{ name: string }[]>(other, 'experiments.list', { projectId: halfProject })).map((x) => x.name)).not.toContain('half');
      // a run exported while it ran comes in as interrupted, saying so (not as stopped by this Fieldpack)
      const running = JSON.parse(readFileSync(file, 'utf8'));
      running.exportedAt = new Date().toISOString();
      running.runs = [running.runs[0]];
      running.runs[0].run.status = 'running';
      const [wasRunning] = (await call<ApiOutput<'experiments.import'>>(other, 'experiments.import', { projectId: pid, document: JSON.stringify(running), experiment: 'running' })).runs;
      expect(wasRunning).toMatchObject({ status: 'interrupted', message: 'still running when it was exported' });
      // the same export imported again into the project is refused, naming the runs it made (it made them all twice)
      await expect(call(other, 'experiments.import', { projectId: pid, path: file })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(new RegExp(`was imported into this project already: runs ${imp.runs.map((r) => r.id).join(', ')} came from it`)) });
      // deleting a run removes its files
      const victim = after[2]!;
      await call(other, 'runs.delete', { id: victim.id });
      expect(existsSync(victim.artifacts[0]!.path)).toBe(false);
      // two artifacts of one name from different folders keep a file each (the second overwrote the first)
      const twins = JSON.parse(readFileSync(file, 'utf8'));
      const [first] = twins.runs[0].artifacts;
      twins.runs[0].artifacts = [{ ...first, name: `dirA/${first.name}` }, { ...first, name: `dirB/${first.name}` }];
      const twinsProject = (await call<{ id: number }>(other, 'projects.create', { name: 'twins' })).id;
      const [twin] = (await call<ApiOutput<'experiments.import'>>(other, 'experiments.import', { projectId: twinsProject, document: JSON.stringify(twins), experiment: 'twins' })).runs;
      const paths = (await call<RunDetail>(other, 'runs.get', { id: twin!.id })).artifacts.map((a) => a.path);
      expect(new Set(paths).size).toBe(2);
      // deleting a project removes its runs' folders: a later run that takes a reused id (SQLite's rowid) found the
      // deleted run's stream and cached analysis there, and its report drew that field
      const doomed = (await call<{ id: number }>(other, 'projects.create', { name: 'doomed' })).id;
      const [last] = (await call<ApiOutput<'experiments.import'>>(other, 'experiments.import', { projectId: doomed, path: file })).runs.slice(-1);
      const lastDir = dirname((await call<RunDetail>(other, 'runs.get', { id: last!.id })).artifacts[0]!.path);
      await call(other, 'projects.delete', { id: doomed });
      expect(existsSync(lastDir)).toBe(false);
    } finally {
      await other.close();
    }
  }, 60_000);

  it('a hostile experiment file writes nothing outside its run, and its values cannot script, frame or shell-inject the report', async () => {
    const file = join(tmp.dir, 'hostile-src.fpexp.json');
    await call(app, 'experiments.export', { runIds: [runIds[0]], path: file });
    const other = createApp({ dbPath: join(tmp.dir, 'hostile.db'), door: 'cli' });
    try {
      const pid = (await call<{ id: number }>(other, 'projects.create', { name: 'hostile' })).id;
      const fresh = (edit: (run: Record<string, any>) => void) => {
        const d = JSON.parse(readFileSync(file, 'utf8'));
        d.exportedAt = new Date(Date.now() + Math.random() * 1e9).toISOString(); // each a file of its own
        edit(d.runs[0]);
        return JSON.stringify(d);
      };
      // an analysis whose slice index walks out of the run's folder: refused, nothing written there
      const victim = join(tmp.dir, 'victim');
      const traversal = fresh((r) => (r.analysis.slice.index = [`x/../../../../../../../..${victim}`]));
      await expect(call(other, 'experiments.import', { projectId: pid, document: traversal })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/the analysis of a run is not one Fieldpack writes \(slice\.index\.0: /) });
      expect(existsSync(`${victim}.json`)).toBe(false);
      // script and frames in values the report prints (the run's result, its analysis' sizes must be numbers)
      await expect(call(other, 'experiments.import', { projectId: pid, document: fresh((r) => (r.analysis.ssim.win = '<script>x()</script>')) })).rejects.toThrow(/ssim\.win/);
      const html = fresh((r) => {
        r.run.result.absBound = '<img src=x onerror="document.title=1">';
        r.run.result.workers = '<iframe src="file:///etc/hostname"></iframe>';
        r.run.params.workers = '2; touch /tmp/pwned';
        r.run.params.bound.value = '0.01 $(touch /tmp/pwned)';
        r.tags = { ...r.tags, baseline_match: 'psnr', tolerance: "0.1'; rm -rf ~ #" };
        r.run.params.file = '/dev/zero';
      });
      const [run] = (await call<ApiOutput<'experiments.import'>>(other, 'experiments.import', { projectId: pid, document: html })).runs;
      const started = Date.now();
      const report = (await call<{ html?: string }>(other, 'reports.create', { runIds: [run!.id] })).html!;
      // the data file named is a device: not read (it was hashed forever)
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(report).toContain('/dev/zero</code></td><td>not a regular file (a device or pipe): not read');
      expect(report).not.toMatch(/<img src=x|<iframe/);
      expect(report).toContain('&lt;iframe src=&quot;file:///etc/hostname&quot;&gt;');
      expect(report).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`);
      // every piece of the rerun line quoted for the shell
      const rerun = /<pre>(fieldpack compress [^<]*)<\/pre>/.exec(report)![1]!.replace(/&#39;|&quot;|&amp;/g, (e) => ({ '&#39;': "'", '&quot;': '"', '&amp;': '&' })[e]!);
      expect(rerun).toContain(`--bound 'rel:0.01 $(touch /tmp/pwned)'`);
      expect(rerun).toContain(`--workers '2; touch /tmp/pwned'`);
      // an HTML report named .pdf, or a PDF named as its HTML, is refused before any work
      await expect(call(other, 'reports.create', { runIds: [run!.id], path: join(tmp.dir, 'r.pdf') })).rejects.toThrow(/the HTML report is HTML; name it \.html/);
      await expect(call(other, 'reports.create', { runIds: [run!.id], path: join(tmp.dir, 'r.html'), pdf: join(tmp.dir, 'r.html') })).rejects.toThrow(/named for both the HTML report and its PDF/);
      // the PDF named after the report replaces only an earlier PDF (it overwrote any file of that name)
      writeFileSync(join(tmp.dir, 'thesis.pdf'), 'my thesis notes, not a pdf');
      await expect(call(other, 'reports.create', { runIds: [run!.id], path: join(tmp.dir, 'thesis.html'), pdf: true })).rejects.toThrow(/thesis\.pdf exists and is not a PDF/);
      expect(readFileSync(join(tmp.dir, 'thesis.pdf'), 'utf8')).toBe('my thesis notes, not a pdf');
    } finally {
      await other.close();
    }
  }, 60_000);

  it('exports and imports through the CLI, and tags and finds runs there', () => {
    const cli = (...args: string[]) => execFileSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const file = join(tmp.dir, 'cli.fpexp.json');
    expect(cli('--db', dbA, 'runs', 'export', ...runIds.slice(0, 2).map(String), '-o', file)).toMatch(/exported 2 run\(s\) with 2 artifact\(s\)/);
    const dbC = join(tmp.dir, 'c.db');
    cli('--db', dbC, 'projects', 'create', 'C');
    expect(cli('--db', dbC, 'runs', 'import', file, '--project', '1', '--experiment', 'from A')).toMatch(/imported 2 run\(s\) into experiment "from A": 1, 2/);
    expect(cli('--db', dbC, 'runs', 'tag', '2', 'keep', 'reviewer=bo')).toMatch(/^run 2 tags: .*keep, .*reviewer=bo/);
    const found = cli('--db', dbC, 'runs', 'search', '--tag', 'reviewer=bo');
    expect(found.trim().split('\n').length).toBe(3); // header, rule, one run
    // an export replaces an earlier export, never another file of that name; a report likewise
    expect(cli('--db', dbA, 'runs', 'export', String(runIds[0]), '-o', file)).toMatch(/exported 1 run/);
    const precious = join(tmp.dir, 'precious.txt');
    writeFileSync(precious, 'precious');
    expect(() => cli('--db', dbA, 'runs', 'export', String(runIds[0]), '-o', precious)).toThrow(/precious\.txt exists and is not a Fieldpack experiment file: writing would replace it/);
    expect(() => cli('--db', dbA, 'report', String(runIds[0]), '-o', precious)).toThrow(/precious\.txt exists and is not a Fieldpack report/);
    expect(() => cli('--db', dbA, 'report', String(runIds[0]), '-o', join(tmp.dir, 'r.html'), '--pdf', join(tmp.dir, 'nope', 'r.pdf'))).toThrow(/the folder .*nope does not exist/);
    expect(existsSync(join(tmp.dir, 'r.html'))).toBe(false);
    expect(readFileSync(precious, 'utf8')).toBe('precious');
    // a tag key an object answers to itself is refused (__proto__ vanished, and as a search matched every run)
    expect(() => cli('--db', dbC, 'runs', 'tag', '2', '__proto__=x')).toThrow(/tag key "__proto__" is a reserved name/);
    expect(() => cli('--db', dbC, 'runs', 'search', '--tag', 'constructor')).toThrow(/tag key "constructor" is a reserved name/);
    // a delete naming a run that does not exist deletes none
    expect(() => cli('--db', dbC, 'runs', 'delete', '1', '999999')).toThrow(/run 999999 does not exist/);
    expect(cli('--db', dbC, 'runs', 'show', '1')).toMatch(/run 1\b/);
  }, 120_000);

  it('writes a self-contained HTML report and a PDF whose pages hold the charts (CLI, pdftotext, pdftoppm)', () => {
    const html = join(tmp.dir, 'report.html');
    const pdf = join(tmp.dir, 'report.pdf');
    // a run named twice is reported once
    const said = execFileSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), '--db', dbA, 'report', ...runIds.map(String), String(runIds[0]), '-o', html, '--pdf', pdf], { cwd: ROOT, encoding: 'utf8', timeout: 150_000 });
    expect(said).toMatch(/report: .*report\.html .*PDF .*report\.pdf \(\d+ pages?\)/);
    const text = readFileSync(html, 'utf8');
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    expect(text).toContain(`Fieldpack ${version}`);
    expect(text).toContain(COADS); // provenance
    expect(text).toMatch(/sha256 [0-9a-f]{64}/);
    expect(text).toContain(`fieldpack compress ${COADS} --var SST --bound rel:0.001 --codec auto`);
    expect(text.split(`<pre>fieldpack compress ${COADS} --var SST --bound rel:0.01 --codec auto`).length - 1).toBe(1);
    // what is missing from the command is said
    const usage = (...a: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), '--db', dbA, 'report', ...a], { cwd: ROOT, encoding: 'utf8' }).stderr;
    expect(usage('1', '2')).toMatch(/-o REPORT\.html is missing/);
    expect(usage('abc', '-o', join(tmp.dir, 'x.html'))).toMatch(/"abc" is not a run id/);
    expect((text.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(7);
    expect((text.match(/src="data:image\/png;base64,/g) ?? []).length).toBe(10); // 3 error maps, 3 SSIM maps, gradient magnitude before + 3 after
    expect(text).not.toMatch(/<script|<link|src="https?:|url\(https?:/); // nothing fetched
    // the PDF: its text has every section, its pages hold drawn charts and coloured maps
    const pdfText = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    for (const s of ['Data provenance', 'Parameters', 'Rerun', 'Metrics', 'Rate-distortion', 'Error histograms', 'power spectra', 'autocorrelation', 'Error maps', 'SSIM maps', 'Derived quantities', 'max_pw_rel_error']) expect(pdfText).toContain(s);
    execFileSync('pdftoppm', ['-r', '40', pdf, join(tmp.dir, 'page')]);
    const pages = readdirSync(tmp.dir).filter((f) => /^page-\d+\.ppm$/.test(f)).sort();
    expect(pages.length).toBeGreaterThanOrEqual(2);
    const coloured = pages.map((f) => colouredShare(readFileSync(join(tmp.dir, f))));
    // charts' lines and the maps are coloured; at least two pages carry a good share of them
    expect(coloured.filter((c) => c > 0.01).length).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('a cross-field run stands beside the compress runs: listed in Compare, analysed (decoded with its anchor\'s stream), drawn and reported with its rerun command', async () => {
    const run = await call<Run>(app, 'jobs.submit', { kind: 'crossfield', projectId, name: 'SST from AIRT', params: { file: COADS, target: 'SST', anchors: ['AIRT'], bound: { mode: 'rel', value: 1e-3 }, network: 'linear' } });
    const done = await app.jobs.waitFor(run.id);
    expect(done.status, JSON.stringify(done.error)).toBe('finished');
    const rows = await call<ApiOutput<'compression.runs'>>(app, 'compression.runs', { projectId });
    const row = rows.find((r) => r.runId === run.id)!;
    expect(row).toMatchObject({ codec: 'crossfield', variable: 'SST', file: COADS, boundText: 'rel:0.001', shape: [12, 90, 180] });
    expect(row.predictor).toMatch(/^from AIRT|^core codec/);
    expect(row.compressedBytes).toBeGreaterThan(0);
    for (const k of ['compression_ratio', 'psnr_db', 'ssim', 'max_pw_rel_error', 'core_ratio']) expect(typeof row.metrics[k], k).toBe('number');
    // the analysis decodes the stream with the anchor's stream stored beside it, and holds the bound
    const a = await call<ApiOutput<'runs.analysis'>>(app, 'runs.analysis', { runId: run.id });
    expect(a.variable).toBe('SST');
    expect(a.histogram.counts.reduce((x, c) => x + c, 0)).toBe(row.metrics['n']);
    expect(Math.max(...a.errorMap.values.filter((v): v is number => v !== null).map(Math.abs))).toBeLessThanOrEqual(row.absBound!);
    const slice = await call<ApiOutput<'compression.slice'>>(app, 'compression.slice', { runId: run.id, index: [0] });
    expect(slice.height).toBe(90);
    const report = await call<{ html?: string }>(app, 'reports.create', { runIds: [runIds[1], run.id] });
    expect(report.html).toContain(`fieldpack bench ${COADS} --codec crossfield --vars SST --anchors AIRT --network linear --bounds rel:0.001 --json run${run.id}.json`);
    expect(report.html).toContain(`#${run.id} crossfield rel:0.001`);
  }, 120_000);

  it('a data file changed since its run is refused for the run\'s errors and maps (they would be of other values), and the report says why', async () => {
    const file = join(tmp.dir, 'changing.nc');
    copyFileSync(join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc3_64bit.nc'), file);
    const run = await call<Run>(app, 'jobs.submit', { kind: 'compress', projectId, name: 'changing sst', params: { file, variable: 'sst', codec: 'auto', bound: { mode: 'abs', value: 0.05 }, workers: 0 } });
    expect((await app.jobs.waitFor(run.id)).status).toBe('finished');
    // the same size, other values (a model rerun written over the output), and a later modification time
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(file, bytes);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    await expect(call(app, 'runs.analysis', { runId: run.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/changing\.nc is not the one it compressed: its size or modification time changed since the run read it/) });
    await expect(call(app, 'compression.slice', { runId: run.id, index: [0] })).rejects.toMatchObject({ code: 'CONFLICT' });
    const report = await call<{ html?: string }>(app, 'reports.create', { runIds: [run.id] });
    expect(report.html).toMatch(new RegExp(`run ${run.id}: no error analysis \\(run ${run.id}: its data file .*changing\\.nc is not the one it compressed`));
  }, 120_000);

  it('runs of two files of one name in other folders get a section each, labelled by path', async () => {
    const ids: number[] = [];
    for (const d of ['one', 'two']) {
      mkdirSync(join(tmp.dir, d), { recursive: true });
      const file = join(tmp.dir, d, 'same.nc');
      copyFileSync(join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc3_64bit.nc'), file);
      const run = await call<Run>(app, 'jobs.submit', { kind: 'compress', projectId, name: `same ${d}`, params: { file, variable: 'sst', codec: 'auto', bound: { mode: 'abs', value: 0.05 }, workers: 0 } });
      expect((await app.jobs.waitFor(run.id)).status).toBe('finished');
      ids.push(run.id);
    }
    const html = (await call<{ html?: string }>(app, 'reports.create', { runIds: ids })).html!;
    for (const d of ['one', 'two']) expect(html).toContain(`<h2>Field sst (${join(tmp.dir, d, 'same.nc')})</h2>`);
  }, 120_000);

  it('a report of runs of two variables draws each variable\'s figures apart, on its own scale and units', async () => {
    const report = await call<{ html?: string }>(app, 'reports.create', { runIds: [runIds[0], uwndRun] });
    const html = report.html!;
    for (const v of ['SST', 'UWND']) {
      expect(html).toContain(`<h2>Field ${v} (coads_climatology.cdf)</h2>`);
      expect(html).toContain(`<h2>Error maps: ${v} (coads_climatology.cdf)</h2>`);
    }
    const [sstPart, uwndPart] = [html.slice(html.indexOf('<h2>Field SST'), html.indexOf('<h2>Field UWND')), html.slice(html.indexOf('<h2>Field UWND'))];
    expect(sstPart).toMatch(/error \(Deg C\)/);
    expect(sstPart).not.toMatch(/M\/S/);
    expect(uwndPart).toMatch(/error \(M\/S\)/);
    expect(uwndPart).not.toMatch(/Deg C/);
  }, 120_000);
});

/** Share of clearly coloured (saturated) pixels of a binary PPM page. */
function colouredShare(ppm: Buffer): number {
  const header = ppm.subarray(0, 64).toString('latin1');
  const m = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(header)!;
  const [w, h] = [Number(m[1]), Number(m[2])];
  const data = ppm.subarray(m[0].length);
  let n = 0;
  for (let i = 0; i < w * h; i++) {
    const r = data[3 * i]!, g = data[3 * i + 1]!, b = data[3 * i + 2]!;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
  }
  return n / (w * h);
}
