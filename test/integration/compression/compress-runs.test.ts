/**
 * Compress runs through the app (createApp + jobs.submit) on a real masked field: COADS SST (12 x 90 x 180,
 * land masked). Finished runs with metrics and a decodable .fpk artifact, the slice API, lossless at bound 0,
 * zfp through the same path, bad inputs failing with clear messages, cancellation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp, type AppContext } from '../../../src-main/services/app-context.ts';
import { dispatch } from '../../../src-main/services/services.ts';
import { closePools, decompressStream } from '../../../src-main/services/compression/index.ts';
import { decodeStream } from '../../../src-main/services/codecs/index.ts';
import { readVariable } from '../../../src-main/services/compression/runs.ts';
import { EXTERNAL } from '../../../src-main/services/compression/baselines/external.ts';
import { rerunCommand } from '../../../src-main/services/review/report.ts';
import { PREDICTOR_NAMES } from '../../../src-main/core/codec/predictors/types.ts';
import type { ApiOutput } from '../../../src-main/api/contract.ts';
import type { Run, RunDetail } from '../../../src-main/api/schemas.ts';
import { tempDir } from '../../helpers/tmp.ts';

const COADS = '/usr/share/ferret-vis/data/coads_climatology.cdf';
const tmp = tempDir();
let app: AppContext;
let projectId: number;

const call = <T>(method: string, input: unknown) => dispatch(app.services, method, input) as Promise<T>;
async function submit(params: Record<string, unknown>): Promise<Run> {
  const run = await call<Run>('jobs.submit', { kind: 'compress', projectId, params });
  return app.jobs.waitFor(run.id);
}
const metric = (d: RunDetail, key: string) => d.metrics.find((m) => m.key === key)?.value;

beforeAll(async () => {
  app = createApp({ dbPath: join(tmp.dir, 'c.db'), door: 'cli' });
  projectId = (await call<{ id: number }>('projects.create', { name: 'compress' })).id;
});
afterAll(async () => {
  await app?.close();
  await closePools();
  tmp.cleanup();
});

describe.skipIf(!existsSync(COADS))('compress runs on COADS SST (needs ferret-datasets)', () => {
  let autoRun: Run;

  it('runs the VQ-VAE as a job with the shipped model by name: bits by part on the run, the bound held', async () => {
    const run = await submit({ file: COADS, variable: 'SST', bound: { mode: 'psnr', value: 46 }, codec: 'vqvae', params: { model: 'default', fallback: false }, workers: 1 });
    expect(run.error).toBeNull();
    const d = app.store.getRunDetail(run.id);
    expect(metric(d, 'max_error_over_bound') as number).toBeLessThanOrEqual(1);
    expect(metric(d, 'psnr_db') as number).toBeGreaterThanOrEqual(46);
    expect(d.tags.bits_by_part).toMatch(/latents [\d.]+, residual [\d.]+, mask [\d.]+/);
    expect(metric(d, 'bits_latents') as number).toBeGreaterThan(0);
    const bad = await submit({ file: COADS, variable: 'SST', bound: { mode: 'psnr', value: 46 }, codec: 'vqvae', params: { model: 'feedbeef' } });
    expect(bad.status).toBe('failed');
    expect(bad.error?.message).toMatch(/no model "feedbeef"/);
  });

  it('runs the LBRC residual coder on a core-codec base: the NRMSE target met, the base kept beside and counted', async () => {
    const run = await submit({ file: COADS, variable: 'SST', bound: { mode: 'nrmse', value: 1e-5 }, codec: 'lbrc', base: 'auto:rel:1e-2', workers: 1 });
    expect(run.error).toBeNull();
    const d = app.store.getRunDetail(run.id);
    expect(metric(d, 'nrmse') as number).toBeLessThanOrEqual(1e-5);
    expect(d.tags.base).toMatch(/^auto:rel:1e-2 \(\d+ bytes\)$/);
    const stream = d.artifacts.find((a) => a.kind === 'fpk')!;
    const base = d.artifacts.find((a) => a.kind === 'fpk-base')!;
    expect(base.path.replace(/\.base\.fpk$/, '.fpk')).toBe(stream.path);
    // the ratio counts both streams
    const n = 12 * 90 * 180;
    expect(metric(d, 'compression_ratio') as number).toBeCloseTo((4 * n) / (stream.sizeBytes! + base.sizeBytes!), 3);
    // the .fpk decodes with its base found beside it
    const again = await decodeStream(new Uint8Array(readFileSync(stream.path)), { deps: { besidePath: stream.path }, loadDataFile: undefined });
    expect(again.field.shape).toEqual([12, 90, 180]);
  });

  it('chooses the base itself with base auto (the same service as the API and the bench): the choice tagged, the target met', async () => {
    const run = await submit({ file: COADS, variable: 'SST', bound: { mode: 'nrmse', value: 1e-4 }, codec: 'lbrc', base: 'auto', workers: 1 });
    expect(run.error).toBeNull();
    const d = app.store.getRunDetail(run.id);
    expect(metric(d, 'nrmse') as number).toBeLessThanOrEqual(1e-4);
    // on COADS SST every base costs more than it saves (docs/residual.md): no base, nothing kept beside
    expect(d.tags.base_choice).toBe('none');
    expect(d.tags.base).toBe('auto: none');
    expect(d.artifacts.some((a) => a.kind === 'fpk-base')).toBe(false);
    const stream = d.artifacts.find((a) => a.kind === 'fpk')!;
    expect(metric(d, 'compression_ratio') as number).toBeCloseTo((4 * 12 * 90 * 180) / stream.sizeBytes!, 3);
  });

  it('runs the classic codec as a job: metrics, tags, a decodable .fpk artifact, the bound held', async () => {
    autoRun = await submit({ file: COADS, variable: 'SST', bound: { mode: 'rel', value: 1e-3 }, codec: 'auto', workers: 1 });
    expect(autoRun.error).toBeNull();
    expect(autoRun.status).toBe('finished');
    expect(autoRun.progress).toBe(1);
    const d = app.store.getRunDetail(autoRun.id);
    for (const k of ['compression_ratio', 'bit_rate', 'psnr_db', 'nrmse', 'max_abs_error', 'max_error_over_bound', 'ssim', 'error_autocorr_lag1', 'compress_mb_s', 'decompress_mb_s']) {
      expect(typeof metric(d, k), k).toBe('number');
    }
    expect(metric(d, 'max_error_over_bound') as number).toBeLessThanOrEqual(1);
    expect(metric(d, 'compression_ratio') as number).toBeGreaterThan(3);
    expect(d.tags).toMatchObject({ codec: 'auto', variable: 'SST', bound: 'rel:0.001' });
    const r = autoRun.result as { absBound: number; boundLabel: string; predictor: string; compressedBytes: number; errorHistogram: { counts: number[] }; lossless: boolean };
    expect(r.absBound).toBeGreaterThan(0);
    expect(r.boundLabel).toMatch(/rel 0.001 -> abs/);
    expect(['lorenzo', 'dq-lorenzo', 'interp-linear', 'interp-cubic']).toContain(r.predictor);
    expect(r.lossless).toBe(false);
    expect(r.errorHistogram.counts.length).toBeGreaterThan(10);
    const art = d.artifacts.find((a) => a.kind === 'fpk')!;
    expect(art.sizeBytes).toBe(r.compressedBytes);
    const decoded = await decompressStream(new Uint8Array(readFileSync(art.path)));
    const orig = await readVariable(COADS, 'SST');
    expect(decoded.field.values.length).toBe(orig.values.length);
    let maxErr = 0;
    for (let i = 0; i < orig.values.length; i++) if (orig.mask?.[i] !== 0) maxErr = Math.max(maxErr, Math.abs(orig.values[i]! - decoded.field.values[i]!));
    expect(maxErr).toBeLessThanOrEqual(r.absBound);
    // the CLI's compress (streams.compress through the same dispatch) writes the very same bytes
    const out = join(tmp.dir, 'cli-sst.fpk');
    await call('streams.compress', { file: COADS, variable: 'SST', bound: { mode: 'rel', value: 1e-3 }, codec: 'auto', workers: 2, out });
    expect(Buffer.compare(readFileSync(out), readFileSync(art.path))).toBe(0);
  });

  it('lists compress runs with flattened metrics and serves image slices', async () => {
    const rows = await call<ApiOutput<'compression.runs'>>('compression.runs', { projectId, variable: 'SST' });
    const row = rows.find((x) => x.runId === autoRun.id)!;
    expect(row).toMatchObject({ codec: 'auto', variable: 'SST', status: 'finished', bound: { mode: 'rel', value: 1e-3 } });
    expect(typeof row.metrics.psnr_db).toBe('number');
    const s = await call<ApiOutput<'compression.slice'>>('compression.slice', { runId: autoRun.id, index: [6] });
    expect(s).toMatchObject({ index: [6], leadingShape: [12], leadingDims: ['TIME'], height: 90, width: 180, step: 1, flipY: true });
    const f32 = (b64: string) => new Float32Array(Uint8Array.from(Buffer.from(b64, 'base64')).buffer);
    const o = f32(s.original.data);
    const rc = f32(s.reconstruction.data);
    const e = f32(s.error.data);
    expect(o.length).toBe(90 * 180);
    const masked = o.filter((v) => Number.isNaN(v)).length;
    expect(masked).toBeGreaterThan(1000); // land
    expect(masked).toBeLessThan(o.length);
    let worst = 0;
    for (let i = 0; i < o.length; i++) if (!Number.isNaN(o[i]!)) {
      expect(e[i]).toBeCloseTo(rc[i]! - o[i]!, 4);
      worst = Math.max(worst, Math.abs(e[i]!));
    }
    expect(worst).toBeLessThanOrEqual(s.absBound * (1 + 1e-6));
    expect(s.original.max).toBeGreaterThan(s.original.min);
    const small = await call<ApiOutput<'compression.slice'>>('compression.slice', { runId: autoRun.id, index: [99], maxSize: 64 });
    expect(small).toMatchObject({ index: [11], step: 3, height: 30, width: 60 });
  });

  it('resolves a bound against the valid range, and lists the codecs', async () => {
    const b = await call<ApiOutput<'compression.resolveBound'>>('compression.resolveBound', { file: COADS, variable: 'SST', bound: { mode: 'rel', value: 1e-2 } });
    expect(b.validMax).toBeGreaterThan(b.validMin);
    expect(b.validMax).toBeLessThan(40); // fill values (-1e34) are not in the range
    expect(b.abs).toBeCloseTo(1e-2 * (b.validMax - b.validMin), 10);
    const codecs = await call<ApiOutput<'compression.codecs'>>('compression.codecs', {});
    expect(codecs.map((c) => c.id)).toEqual(expect.arrayContaining(['auto', 'lorenzo', 'interp-cubic', 'zfp', 'sz3']));
    expect(codecs.find((c) => c.id === 'zfp')!.available).toBe(EXTERNAL.zfp!.available());
    // the API's codec list follows the core's predictors and the bench's baselines
    // the choices come from the registry (classic's presets) and the baselines, not from a list in the API
    expect(codecs.filter((c) => c.kind === 'fieldpack').map((c) => c.id).sort()).toEqual(['auto', 'fast', 'best', ...PREDICTOR_NAMES, 'vqvae', 'lbrc', 'gae', 'nglr'].sort());
    // a learned codec says which params key names its model (the Compress view asks for it)
    expect(codecs.find((c) => c.id === 'vqvae')!.modelParam).toBe('model');
    expect(codecs.filter((c) => c.kind === 'baseline').map((c) => c.id).sort()).toEqual(Object.keys(EXTERNAL).sort());
  });

  it('is lossless at bound 0 and says so', async () => {
    const run = await submit({ file: COADS, variable: 'SST', bound: { mode: 'abs', value: 0 }, codec: 'lorenzo', workers: 0 });
    expect(run.status).toBe('finished');
    const r = run.result as { lossless: boolean; boundLabel: string };
    expect(r.lossless).toBe(true);
    expect(r.boundLabel).toMatch(/lossless/);
    const d = app.store.getRunDetail(run.id);
    expect(metric(d, 'max_abs_error')).toBe(0);
    expect(metric(d, 'psnr_db')).toBe('Infinity');
    expect(d.tags.lossless).toBe('yes');
    expect(d.logs.join('\n')).toMatch(/lossless/);
  });

  it.skipIf(!EXTERNAL.zfp!.available())('runs zfp through the same path with a reconstruction artifact and slices (needs zfp)', async () => {
    const run = await submit({ file: COADS, variable: 'SST', bound: { mode: 'rel', value: 1e-3 }, codec: 'zfp' });
    expect(run.error).toBeNull();
    const d = app.store.getRunDetail(run.id);
    expect(metric(d, 'max_error_over_bound') as number).toBeLessThanOrEqual(1);
    expect(d.artifacts[0]!.kind).toBe('reconstruction');
    const s = await call<ApiOutput<'compression.slice'>>('compression.slice', { runId: run.id, index: [0] });
    expect(s.width).toBe(180);
    // the slice speaks in coordinates: a climatology month, latitudes and longitudes in degrees
    expect(s.axes.map((a) => [a.dim, a.kind])).toEqual([['TIME', 'time'], ['COADSY', 'latitude'], ['COADSX', 'longitude']]);
    expect(s.axes[0]!.labels[0]).toBe('0000-01-16 06:00');
    expect(s.axes[0]!.climatology).toBe(true);
    expect(s.axes[2]!.ticks.map((t) => t.label)).toEqual(expect.arrayContaining(['60°E', '180°', '60°W']));
    expect(d.tags.baseline_match).toBe('bound');
  });

  it.skipIf(!EXTERNAL.zfp!.available())('a zfp run that breaks its bound says so where it is listed: a float64 field at abs 0 is not "lossless" (zfp codes float32) (needs zfp)', async () => {
    const raw = join(tmp.dir, 'f64.f64');
    writeFileSync(raw, Buffer.from(Float64Array.from({ length: 40 * 50 }, (_, i) => 280 + Math.sin(i / 7) * 3 + i * 1e-9).buffer));
    writeFileSync(`${raw}.json`, JSON.stringify({ shape: [40, 50], dtype: 'float64', name: 'dbl' }));
    const run = await submit({ file: raw, variable: 'dbl', bound: { mode: 'abs', value: 0 }, codec: 'zfp' });
    expect(run.status).toBe('finished');
    const d = app.store.getRunDetail(run.id);
    expect(d.result).toMatchObject({ lossless: false, boundLabel: expect.stringMatching(/not met by zfp: it codes float32, and this float64 field's values are rounded to float32 first/) });
    expect(d.tags.bound_met).toBe('no');
    expect(metric(d, 'points_over_bound') as number).toBeGreaterThan(0);
    // a PSNR-matched row where the bound is lossless on the field (constant): no PSNR to match, said (it repeated the
    // equal-bound row under another name)
    const flat = join(tmp.dir, 'flat.f32');
    writeFileSync(flat, Buffer.from(new Float32Array(40 * 50).fill(7).buffer));
    writeFileSync(`${flat}.json`, JSON.stringify({ shape: [40, 50], dtype: 'float32', name: 'flat' }));
    const matched = await submit({ file: flat, variable: 'flat', bound: { mode: 'rel', value: 1e-3 }, codec: 'zfp', match: 'psnr' });
    expect(matched.error?.message).toMatch(/^nothing to match: .* is lossless on flat \(it is constant\), so there is no PSNR to tune zfp to/);
  });

  it('tunes zfp to the PSNR Fieldpack reaches (an equal-PSNR row beside the equal-bound one), with the real zfp CLI', async () => {
    const bound = { mode: 'rel', value: 1e-3 };
    const ours = app.store.getRunDetail((await submit({ file: COADS, variable: 'SST', bound, codec: 'auto', workers: 1 })).id);
    const equalBound = app.store.getRunDetail((await submit({ file: COADS, variable: 'SST', bound, codec: 'zfp' })).id);
    const run = await submit({ file: COADS, variable: 'SST', bound, codec: 'zfp', match: 'psnr', workers: 1 });
    expect(run.error).toBeNull();
    const tuned = app.store.getRunDetail(run.id);
    expect(tuned.tags.baseline_match).toBe('psnr');
    const target = Number(tuned.tags.target_psnr);
    // the target is Fieldpack's PSNR at that bound, met by zfp with a looser tolerance and fewer bytes than at the bound
    expect(target).toBeCloseTo(metric(ours, 'psnr_db') as number, 2);
    expect(metric(tuned, 'psnr_db') as number).toBeGreaterThanOrEqual(target);
    expect(Number(tuned.tags.tolerance)).toBeGreaterThan(Number(equalBound.tags.abs_bound));
    expect(metric(tuned, 'compression_ratio') as number).toBeGreaterThan(metric(equalBound, 'compression_ratio') as number);
    expect(tuned.logs.filter((l) => /zfp tolerance .*: PSNR/.test(l)).length).toBeGreaterThanOrEqual(2);
    // a report's rerun line makes this row again: zfp at the tuned tolerance, not at the bound the tuning started from
    expect(rerunCommand(tuned)).toContain(`--codec zfp --bounds abs:${tuned.tags.tolerance} `);
    expect(rerunCommand(equalBound)).toContain('--codec zfp --bounds rel:0.001 ');
    // where Fieldpack reconstructs exactly (a bound below SST's float resolution) there is no PSNR to match, and it says so
    const exact = await submit({ file: COADS, variable: 'SST', bound: { mode: 'abs', value: 1e-9 }, codec: 'zfp', match: 'psnr', workers: 1 });
    expect(exact.status).toBe('failed');
    expect(exact.error?.message).toMatch(/^nothing to match: Fieldpack \(auto\) reconstructs SST exactly at abs 1e-9/);
    // only baselines are tuned
    const refused = await call<Run>('jobs.submit', { kind: 'compress', projectId, params: { file: COADS, variable: 'SST', bound, codec: 'auto', match: 'psnr' } }).then((r) => app.jobs.waitFor(r.id));
    expect(refused.status).toBe('failed');
    expect(refused.error?.message).toMatch(/match: psnr tunes a baseline/);
  });

  it('fails bad inputs with clear messages', async () => {
    // found while running: the run fails and says why
    const failing: [Record<string, unknown>, RegExp][] = [
      [{ file: '/nonexistent/x.nc', variable: 'SST', bound: { mode: 'rel', value: 1e-3 }, codec: 'auto' }, /no such file/],
      [{ file: COADS, variable: 'NOPE', bound: { mode: 'rel', value: 1e-3 }, codec: 'auto' }, /no variable "NOPE".*SST/],
      [{ file: COADS, variable: 'SST', bound: { mode: 'rel', value: 1e-3 }, codec: 'gzip' }, /unknown codec "gzip"/],
    ];
    for (const [params, re] of failing) {
      const run = await submit(params);
      expect(run.status, JSON.stringify(params)).toBe('failed');
      expect(run.error?.message).toMatch(re);
    }
    // refused by the compress kind's params schema at submission: no run is created
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ file: COADS, variable: 'SST', bound: { mode: 'rel', value: NaN }, codec: 'auto' }, /params\.bound\.value: compress: the bound value is not a number/],
      [{ file: COADS, variable: 'SST', bound: { mode: 'rel', value: null }, codec: 'auto' }, /not a number/],
      [{ file: COADS, variable: 'SST', bound: { mode: 'abs', value: -1 }, codec: 'auto' }, /must be >= 0/],
    ];
    for (const [params, re] of refused) {
      await expect(submit(params), JSON.stringify(params)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(re) });
    }
    await expect(call('compression.slice', { runId: 999_999 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('cancels a running compress job', async () => {
    const run = await call<Run>('jobs.submit', { kind: 'compress', projectId, params: { file: COADS, variable: 'SST', bound: { mode: 'rel', value: 1e-4 }, codec: 'interp-cubic', workers: 0 } });
    const off = app.events.on((e) => {
      // The field has been read and compression is about to start (logs are never throttled, progress is).
      if (e.type === 'run.log' && e.runId === run.id && e.line.startsWith('bound:')) app.jobs.cancel(run.id);
    });
    const ended = await app.jobs.waitFor(run.id);
    off?.();
    expect(ended.status).toBe('cancelled');
    expect(ended.progress).toBeLessThan(1);
    expect(app.store.getRunDetail(run.id).artifacts).toHaveLength(0);
  });
});
