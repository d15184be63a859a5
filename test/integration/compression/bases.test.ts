/**
 * The bases of the residual coders (docs/residual.md): `auto` chooses per field from samples (deterministic, the
 * stream decodes within the target, the chosen base counted in the bench's ratio); `file:PATH` takes an external
 * reconstruction (the residual-modeling code's .npz as numpy writes it, .npy, NetCDF, raw), its declared bits
 * counted, named by hash, needed again to decode (NOT_FOUND that says so without it); clear errors for a wrong shape,
 * NaN in the base, a missing file, an unreadable one, an undeclared size.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src-main/services/codecs/zstd-backend.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { closePools, decodeStream, encodeBase, encodeField, inspectStream, metadataOf } from '../../../src-main/services/codecs/index.ts';
import { resolveDependencies } from '../../../src-main/services/codecs/dependencies.ts';
import { chooseBase, parseBaseSpec, prepareBase, reconstructionIfFile, sampleRows } from '../../../src-main/services/compression/base.ts';
import { runBench } from '../../../src-main/services/compression/bench.ts';
import { loadField } from '../../../src-main/services/compression/bench-input.ts';
import { parseNpz } from '../../../src-main/services/files/npy.ts';
import { dispatch, storelessServices } from '../../../src-main/services/services.ts';
import { errorStats } from '../../../src-main/core/metrics/index.ts';
import { COADS, WRF_KATRINA } from '../../helpers/data-files.ts';
import { ROOT, fieldpack } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { npy, npz } from '../../helpers/numpy-files.ts';

const tmp = tempDir('fieldpack-bases-');
afterAll(async () => {
  await closePools();
  tmp.cleanup();
});

const FIXTURES = join(ROOT, 'test', 'fixtures', 'data');
const nrmseOf = (f: Pick<Field, 'values' | 'mask'>, d: ArrayLike<number>) => errorStats(f.values, d, f.mask ?? null, Infinity).nrmse;

describe('base specs', () => {
  it('parses none, auto, CODEC:MODE:VALUE (auto:rel:1e-2 stays the classic preset) and file:PATH#var=,bits=', () => {
    expect(parseBaseSpec('auto')).toEqual({ kind: 'auto' });
    expect(parseBaseSpec('none')).toEqual({ kind: 'none' });
    expect(parseBaseSpec('auto:rel:1e-2')).toEqual({ kind: 'codec', codec: 'auto', bound: { mode: 'rel', value: 1e-2 }, params: {} });
    expect(parseBaseSpec('core:rel:1e-2')).toEqual(parseBaseSpec('auto:rel:1e-2'));
    expect(parseBaseSpec('file:/a/b#c.npz')).toEqual({ kind: 'file', path: '/a/b#c.npz' });
    expect(parseBaseSpec('file:/x/r.nc#var=T_rec,bits=8000')).toEqual({ kind: 'file', path: '/x/r.nc', var: 'T_rec', bits: 8000 });
    expect(() => parseBaseSpec('vqvae')).toThrow(/none, auto, CODEC:MODE:VALUE/);
  });

  it('CODEC:MODEL[:MODE:VALUE] picks a trained model (vqvae:HASH at psnr:40 unless a bound follows); codecs without models refuse one', () => {
    expect(parseBaseSpec('vqvae:1B2AE9C4AE1A54DE')).toEqual({ kind: 'codec', codec: 'vqvae', bound: { mode: 'psnr', value: 40 }, params: { model: '1b2ae9c4ae1a54de' } });
    expect(parseBaseSpec('vqvae:default:psnr:46')).toEqual({ kind: 'codec', codec: 'vqvae', bound: { mode: 'psnr', value: 46 }, params: { model: 'default' } });
    expect(() => parseBaseSpec('auto:1b2ae9c4ae1a54de')).toThrow(/takes no model/);
    expect(() => parseBaseSpec('vqvae:1b2ae9')).toThrow(/CODEC:MODEL/);
  });

  it('a VQ-VAE base with the model named by hash: the base stream names that model, the residual decodes within the target', async () => {
    const f = await loadField(COADS, 'SST');
    const bound = { mode: 'nrmse' as const, value: 1e-4 };
    const p = (await prepareBase(f, 'vqvae:1b2ae9c4ae1a54de:psnr:46', { codec: 'lbrc', bound, workers: 0, metadata: { variable: 'SST' } }))!;
    expect(p.codec === 'vqvae' || p.codec === 'classic').toBe(true);
    const r = await encodeField(f, { codec: 'lbrc', bound, workers: 0, base: p.field!, metadata: { variable: 'SST' } });
    const d = await decodeStream(r.bytes, { workers: 0, deps: { fields: [p.field!] } });
    expect(nrmseOf(f, d.field.values)).toBeLessThanOrEqual(1e-4);
    expect(await prepareBase(f, 'vqvae:00000000deadbeef', { codec: 'lbrc', bound, workers: 0 }).catch((e: Error) => e.message)).toMatch(/no model "00000000deadbeef"/);
  }, 120_000);

  it('samples bands of rows: the whole of a small field, at most 4 bands of a large one', () => {
    expect(sampleRows([4, 14, 48, 48], 1 << 18)).toEqual([[0, 4]]);
    const r = sampleRows([132, 73, 144], 1 << 18);
    expect(r.length).toBe(4);
    expect(r.reduce((s, [a, b]) => s + (b - a), 0) * 73 * 144).toBeLessThanOrEqual(1 << 18);
    expect(sampleRows([12, 19, 90, 180], 1 << 18)).toEqual([[5, 6]]);
  });
});

describe('--base auto', () => {
  it('chooses the same base twice from a sample, reports every candidate\'s estimate, and the stream decodes within the target', async () => {
    const f = await loadField(WRF_KATRINA, 'QVAPOR');
    const bound = { mode: 'nrmse' as const, value: 1e-5 };
    const opts = { codec: 'lbrc', bound, workers: 0, sampleValues: 40_000 };
    const a = await chooseBase(f, opts);
    const b = await chooseBase(f, opts);
    expect(a.chosen).toBe(b.chosen);
    expect(a.estimates).toEqual(b.estimates);
    expect(a.sample.fraction).toBeLessThan(1);
    expect(a.candidates).toEqual(['none', 'auto:rel:1e-2', 'auto:rel:1e-3', 'auto:nrmse:0.001', 'vqvae:psnr:40']);
    const best = Math.min(...Object.values(a.estimates).map((e) => e.bytes ?? Infinity));
    expect(a.estimates[a.chosen]!.bytes).toBe(best);
    expect(a.reason).toMatch(a.chosen === 'none' ? /^no base/ : new RegExp(`^${a.chosen}`));
    const p = (await prepareBase(f, 'auto', opts))!;
    expect(p.requested).toBe('auto');
    expect(p.spec).toBe(a.chosen);
    const r = await encodeField(f, { codec: 'lbrc', bound, workers: 0, ...(p.field ? { base: p.field } : {}), metadata: { variable: 'QVAPOR' } });
    const d = await decodeStream(r.bytes, { workers: 0, ...(p.field ? { deps: { fields: [p.field] } } : {}) });
    expect(nrmseOf(f, d.field.values)).toBeLessThanOrEqual(1e-5);
  }, 120_000);

  it('in the bench: the row names the base asked for and the one chosen, with the estimates; the base\'s bytes are in the ratio', async () => {
    const rows = await runBench({ files: [WRF_KATRINA], vars: ['QVAPOR'], codecs: ['lbrc'], bounds: [{ mode: 'nrmse', value: 1e-4 }], base: 'auto', workers: 0, minSeconds: 0 });
    const r = rows[0]!;
    expect(r.error).toBeUndefined();
    expect(r.base).toBe('auto');
    expect(Object.keys(r.base_estimates!)).toContain(r.base_choice);
    expect(r.base_reason).toBeTruthy();
    expect(r.nrmse).toBeLessThanOrEqual(1e-4);
    expect(r.compression_ratio).toBeCloseTo((4 * r.values) / r.compressed_bytes, 3);
    if (r.base_choice === 'none') expect(r.base_bytes).toBe(0);
    else expect(r.compressed_bytes).toBeGreaterThan(r.base_bytes!);
    // GAE on QVAPOR at 1e-4: a base pays (the core codec at rel 1e-3); its stream's bytes are in the row, and the
    // estimate (base + residual, from the sample) is near what the row measures
    const g = (await runBench({ files: [WRF_KATRINA], vars: ['QVAPOR'], codecs: ['gae'], bounds: [{ mode: 'nrmse', value: 1e-4 }], base: 'auto', workers: 0, minSeconds: 0 }))[0]!;
    expect(g.error).toBeUndefined();
    expect(g.base_choice).toBe('auto:rel:1e-3');
    const f = await loadField(WRF_KATRINA, 'QVAPOR');
    const baseStream = (await encodeBase({ ...f, values: Float32Array.from(f.values) }, 'auto:rel:1e-3', { workers: 0, metadata: metadataOf(f, 'wrf_katrina.nc', { coordinates: false }) }))!;
    expect(g.base_bytes).toBe(baseStream.bytes.length);
    expect(g.compressed_bytes).toBeGreaterThan(g.base_bytes!);
    expect(Math.abs(g.compressed_bytes - g.base_estimates![g.base_choice!]!) / g.compressed_bytes).toBeLessThan(0.05);
    expect(g.nrmse).toBeLessThanOrEqual(1e-4);
    // a fixed base is counted the same way
    const fixed = (await runBench({ files: [WRF_KATRINA], vars: ['QVAPOR'], codecs: ['lbrc'], bounds: [{ mode: 'nrmse', value: 1e-4 }], base: 'auto:rel:1e-2', workers: 0, minSeconds: 0 }))[0]!;
    expect(fixed.base_choice).toBe('auto:rel:1e-2');
    expect(fixed.base_bytes).toBeGreaterThan(1000);
    expect(fixed.compression_ratio).toBeCloseTo((4 * fixed.values) / fixed.compressed_bytes, 3);
  }, 300_000);
});

describe('the CLI', () => {
  it('compress --base auto prints the choice and why; bench shows the base column and writes the choice and the estimates; decompress and export --base file:', async () => {
    const npzPath = join(FIXTURES, 'residual_input.npz');
    const out = join(tmp.dir, 'cli.fpk');
    const c = await fieldpack('compress', npzPath, '--var', 'original_data', '--codec', 'lbrc', '--base', 'auto', '--bound', 'nrmse:1e-5', '-o', out);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/base auto -> (no base|\S+): .*estimated/);
    // the choice said once ("base auto -> auto:rel:1e-3: auto:rel:1e-3: ..." repeated it)
    expect(c.stdout).not.toMatch(/base auto -> (\S+): \1:/);
    const json = join(tmp.dir, 'cli.json');
    const b = await fieldpack('bench', npzPath, '--vars', 'original_data', '--codec', 'lbrc', '--base', 'auto', '--bounds', 'nrmse:1e-5', '--workers', '0', '--min-seconds', '0', '--json', json);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/\bbase\b[\s\S]*auto->/);
    const row = JSON.parse(readFileSync(json, 'utf8')).rows[0];
    expect(row).toMatchObject({ base: 'auto', base_choice: expect.any(String), base_estimates: expect.objectContaining({ none: expect.any(Number) }) });
    const f = await fieldpack('compress', npzPath, '--var', 'original_data', '--codec', 'lbrc', '--base', `file:${npzPath}`, '--bound', 'nrmse:1e-5', '-o', out);
    expect(f.stdout).toMatch(/base \(file, 20000 bits declared\), 2500 bytes/);
    const missing = await fieldpack('decompress', out, '-o', join(tmp.dir, 'cli.f32'));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr + missing.stdout).toMatch(/NOT_FOUND.*reconstruction file residual_input\.npz/);
    const ok = await fieldpack('decompress', out, '-o', join(tmp.dir, 'cli.f32'), '--base', `file:${npzPath}`);
    expect(ok.status, ok.stderr).toBe(0);
    // export decodes it as decompress does: the base given again (it had no way to take one)
    const exported = join(tmp.dir, 'cli-export.f32');
    const noBase = await fieldpack('export', out, '-o', exported);
    expect(noBase.status).not.toBe(0);
    expect(noBase.stderr).toMatch(/NOT_FOUND.*reconstruction file residual_input\.npz/);
    const withBase = await fieldpack('export', out, '-o', exported, '--base', `file:${npzPath}`);
    expect(withBase.status, withBase.stderr).toBe(0);
    expect(readFileSync(exported).equals(readFileSync(join(tmp.dir, 'cli.f32')))).toBe(true);
    // a base given for a file that is no stream is refused in words
    const notStream = await fieldpack('export', npzPath, '--var', 'original_data', '-o', join(tmp.dir, 'x.f32'), '--base', `file:${npzPath}`);
    expect(notStream.stderr).toMatch(/not a Fieldpack stream \(\.fpk\) that could be coded over one/);
  }, 120_000);

  it('two residual streams of one variable in a folder: each decodes over its own base beside it, and one whose base is gone says so (not a loop)', async () => {
    const dir = join(tmp.dir, 'two-residuals');
    mkdirSync(dir);
    for (const [name, base] of [['a', 'core:rel:1e-2'], ['b', 'core:rel:1e-1']]) {
      const c = await fieldpack('compress', COADS, '--var', 'SST', '--codec', 'lbrc', '--base', base!, '--bound', 'abs:1e-2', '-o', join(dir, `${name}.fpk`));
      expect(c.status, c.stderr).toBe(0);
    }
    rmSync(join(dir, 'a.base.fpk'));
    const b = await fieldpack('decompress', join(dir, 'b.fpk'), '-o', join(dir, 'b.f32'));
    expect(b.status, b.stderr).toBe(0);
    const a = await fieldpack('decompress', join(dir, 'a.fpk'), '-o', join(dir, 'a.f32'));
    expect(a.status).toBe(1);
    // the missing file is named, not a CONFLICT with the other stream of SST the search tried
    expect(a.stderr).toMatch(/error \(NOT_FOUND\): this stream needs its base SST .*: a\.base\.fpk, where compress wrote it beside the stream, is not there, and b\.base\.fpk(, b\.fpk)? holds? another reconstruction of it/);
    expect(a.stderr).not.toMatch(/levels deep/);
  }, 120_000);

  /** SST compressed by LBRC over the core codec's stream into DIR/s.fpk, its base beside it as DIR/s.base.fpk */
  async function streamWithBase(name: string): Promise<{ dir: string; base: Buffer }> {
    const dir = join(tmp.dir, name);
    mkdirSync(dir);
    const c = await fieldpack('compress', COADS, '--var', 'SST', '--codec', 'lbrc', '--base', 'core:rel:1e-2', '--bound', 'abs:1e-2', '-o', join(dir, 's.fpk'));
    expect(c.status, c.stderr).toBe(0);
    return { dir, base: readFileSync(join(dir, 's.base.fpk')) };
  }

  it('a base is looked for first in the stream compress wrote beside it: streams of the variable sorted before it are not decoded', async () => {
    // each candidate in the folder was decoded to be hashed, in name order: a folder of 380 took 50 s
    const { dir } = await streamWithBase('beside-first');
    for (const name of ['0a', '0b']) {
      const c = await fieldpack('compress', COADS, '--var', 'SST', '--bound', `rel:${name === '0a' ? '1e-3' : '1e-4'}`, '-o', join(dir, `${name}.fpk`));
      expect(c.status, c.stderr).toBe(0);
    }
    const stream = join(dir, 's.fpk');
    const info = inspectStream(new Uint8Array(readFileSync(stream)));
    const loaded: string[] = [];
    const load = async (path: string) => {
      loaded.push(basename(path));
      return { ...(await decodeStream(new Uint8Array(readFileSync(path)), { workers: 0 })).field, name: 'SST' };
    };
    const resolved = await resolveDependencies(info.dependencies, info.header.shape, { besidePath: stream }, load);
    expect(Object.keys(resolved.bases)).toHaveLength(1);
    expect(loaded).toEqual(['s.base.fpk']);
  }, 120_000);

  it('decompress never writes over the base stream it decodes from (the stream would be lost with it), even with --overwrite', async () => {
    const { dir, base } = await streamWithBase('own-base');
    const over = await fieldpack('decompress', join(dir, 's.fpk'), '-o', join(dir, 's.base.fpk'), '--overwrite');
    expect(over.status).not.toBe(0);
    expect(over.stderr).toMatch(/s\.base\.fpk is the input file .*would destroy the input/);
    expect(readFileSync(join(dir, 's.base.fpk')).equals(base)).toBe(true);
    expect((await fieldpack('decompress', join(dir, 's.fpk'), '-o', join(dir, 's.f32'))).status).toBe(0);
  }, 120_000);

  it('compress -o X.base.fpk does not replace the base stream X.fpk decodes from unless --overwrite', async () => {
    const { dir, base } = await streamWithBase('others-base');
    const other = await fieldpack('compress', COADS, '--var', 'AIRT', '--bound', 'rel:1e-2', '-o', join(dir, 's.base.fpk'));
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/s\.base\.fpk is the base stream of .*s\.fpk: replacing it would leave s\.fpk undecodable; .*--overwrite/);
    expect(readFileSync(join(dir, 's.base.fpk')).equals(base)).toBe(true);
    expect((await fieldpack('decompress', join(dir, 's.fpk'), '-o', join(dir, 's.f32'))).status).toBe(0);
    // the summary line's ratio counts the base (as bench's row does; its help says so), the stream's alone beside it,
    // and an NRMSE target is reported as the NRMSE reached
    const n = await fieldpack('compress', COADS, '--var', 'SST', '--codec', 'lbrc', '--base', 'core:rel:1e-2', '--bound', 'nrmse:1e-4', '-o', join(dir, 'n.fpk'));
    expect(n.status, n.stderr).toBe(0);
    const line = /n\.fpk: (\d+) bytes, ratio ([\d.]+) with its base \(the stream alone ([\d.]+)\), NRMSE [\d.e-]+ \(target 0\.0001\), PSNR [\d.]+ dB/.exec(n.stdout);
    expect(line, n.stdout).not.toBeNull();
    const baseBytes = Number(/n\.base\.fpk: base \(classic\), (\d+) bytes/.exec(n.stdout)?.[1]);
    const [bytes, withBase, alone] = [Number(line![1]), Number(line![2]), Number(line![3])];
    expect(alone).toBeCloseTo((4 * 12 * 90 * 180) / bytes, 1);
    expect(withBase).toBeCloseTo((4 * 12 * 90 * 180) / (bytes + baseBytes), 1);
    expect(withBase).toBeLessThan(alone);
  }, 120_000);

  it('a stream that fell back to the core codec (a constant field) gets no base file beside it; gae --base auto takes its NRMSE target there', async () => {
    const dir = join(tmp.dir, 'constant');
    mkdirSync(dir);
    const p = join(dir, 'const.f32');
    writeFileSync(p, new Uint8Array(new Float32Array(64).fill(3.5).buffer));
    writeFileSync(`${p}.json`, JSON.stringify({ shape: [8, 8], dtype: 'float32', name: 'c' }));
    for (const base of ['core:rel:1e-2', 'auto']) {
      const c = await fieldpack('compress', p, '--var', 'c', '--codec', 'gae', '--base', base, '--bound', 'nrmse:1e-3', '-o', join(dir, 'k.fpk'));
      expect(c.status, c.stderr).toBe(0);
      expect(c.stdout).not.toMatch(/base \(/);
      expect(readdirSync(dir).sort()).toEqual(['const.f32', 'const.f32.json', 'k.fpk']);
    }
  }, 60_000);
});

describe('file:PATH bases', () => {
  it('reads the residual-modeling .npz as numpy writes it (deflated and stored): recons_data the base, latent_bit / 8 counted', async () => {
    for (const name of ['residual_input.npz', 'residual_input_stored.npz']) {
      const path = join(FIXTURES, name);
      const orig = parseNpz(new Uint8Array(readFileSync(path))).get('original_data')!();
      expect(orig.shape).toEqual([1, 4, 20, 30]);
      const f: Field = { name: 'x', shape: [4, 20, 30], dims: ['t', 'y', 'x'], values: orig.values as Float32Array, sourceDtype: 'float32', attributes: {} };
      const p = (await prepareBase(f, `file:${path}`, { codec: 'lbrc', bound: { mode: 'nrmse', value: 1e-5 } }))!;
      expect(p.bytes).toBe(20000 / 8);
      expect(p.file).toMatchObject({ format: 'npz', bits: 20000, bitsFrom: 'latent_bit' });
      expect(p.stream).toBeNull();
      // bits= overrides what the file declares
      expect((await prepareBase(f, `file:${path}#bits=800`, { codec: 'lbrc', bound: { mode: 'nrmse', value: 1e-5 } }))!.bytes).toBe(100);
      const r = await encodeField(f, { codec: 'lbrc', base: p.field!, bound: { mode: 'nrmse', value: 1e-5 }, workers: 0, metadata: { variable: 'x' } });
      await expect(decodeStream(r.bytes, { workers: 0 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const d = await decodeStream(r.bytes, { workers: 0, deps: { files: [path] }, loadDataFile: reconstructionIfFile });
      expect(nrmseOf(f, d.field.values)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('benches their .npz as it is: original_data as the field (the .npz a data source), recons_data as the base, latent_bit counted', async () => {
    const path = join(FIXTURES, 'residual_input.npz');
    const rows = await runBench({ files: [path], vars: ['original_data'], codecs: ['lbrc'], bounds: [{ mode: 'nrmse', value: 1e-5 }], base: `file:${path}`, workers: 0, minSeconds: 0 });
    const r = rows[0]!;
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ variable: 'original_data', values: 2400, base_bits: 20000, base_bytes: 2500, points_over_bound: 0 });
    expect(r.nrmse).toBeLessThanOrEqual(1e-5);
    expect(r.compressed_bytes).toBeGreaterThan(2500);
  });

  it('through the API: compress names the file base by hash and counts its bits; decompress needs it again (--base file: or --anchor), NOT_FOUND saying so otherwise', async () => {
    const svc = storelessServices();
    const f = await loadField(WRF_KATRINA, 'QVAPOR');
    // a coarse reconstruction of QVAPOR as an .npz with a leading batch axis, as the paper's code takes it
    const recon = Float32Array.from(f.values, (v) => Math.round(v * 2e4) / 2e4);
    const recPath = join(tmp.dir, 'qv-recon.npz');
    writeFileSync(recPath, npz({ original_data: npy(Float32Array.from(f.values), [1, ...f.shape]), recons_data: npy(recon, [1, ...f.shape]), latent_bit: npy(new Float32Array([64000]), []) }));
    const out = join(tmp.dir, 'qv.fpk');
    const c = (await dispatch(svc, 'streams.compress', { file: WRF_KATRINA, variable: 'QVAPOR', bound: { mode: 'nrmse', value: 1e-5 }, codec: 'lbrc', base: `file:${recPath}`, out })) as {
      bytes: number; base: { out: string; bytes: number; codec: string; bits: number }; baseChoice: unknown;
    };
    expect(c.base).toMatchObject({ out: recPath, bytes: 8000, codec: 'file', bits: 64000 });
    expect(c.baseChoice).toBeNull();
    const info = (await dispatch(svc, 'streams.inspect', { file: out })) as { needs: string[] };
    expect(info.needs.join(' ')).toMatch(/base stream of QVAPOR \(sha256/);
    const raw = join(tmp.dir, 'qv.f32');
    await expect(dispatch(svc, 'streams.decompress', { file: out, out: raw })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/reconstruction file qv-recon\.npz: give the same file/) });
    for (const given of [{ base: `file:${recPath}` }, { anchors: [recPath] }]) {
      await dispatch(svc, 'streams.decompress', { file: out, out: raw, overwrite: true, ...given });
      const d = new Float32Array(readFileSync(raw).buffer.slice(0));
      expect(nrmseOf(f, d)).toBeLessThanOrEqual(1e-5);
    }
    // another reconstruction is refused by hash
    const other = join(tmp.dir, 'other.f32');
    writeFileSync(other, Float32Array.from(recon, (v) => v + 1e-3));
    await expect(dispatch(svc, 'streams.decompress', { file: out, out: raw, overwrite: true, base: `file:${other}` })).rejects.toMatchObject({
      code: 'CONFLICT', message: expect.stringMatching(/its base is the reconstruction file qv-recon\.npz: give that same file/),
    });
    // no output may replace the base file, when compressing over it or decoding with it
    const before = readFileSync(recPath);
    await expect(dispatch(svc, 'streams.compress', { file: WRF_KATRINA, variable: 'QVAPOR', bound: { mode: 'nrmse', value: 1e-5 }, codec: 'lbrc', base: `file:${recPath}`, out: recPath })).rejects.toThrow(/would destroy the input/);
    await expect(dispatch(svc, 'streams.decompress', { file: out, out: recPath, overwrite: true, base: `file:${recPath}` })).rejects.toThrow(/would destroy the input/);
    expect(readFileSync(recPath).equals(before)).toBe(true);
  }, 60_000);

  it('a NetCDF file holding the variable on the same grid, with bits=; the bench counts the declared bits', async () => {
    const rows = await runBench({ files: [WRF_KATRINA], vars: ['QVAPOR'], codecs: ['lbrc'], bounds: [{ mode: 'nrmse', value: 1e-5 }], base: `file:${WRF_KATRINA}#bits=80000`, workers: 0, minSeconds: 0 });
    const r = rows[0]!;
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ base: `file:${WRF_KATRINA}#bits=80000`, base_choice: `file:${WRF_KATRINA}#bits=80000`, base_bits: 80000, base_bytes: 10000, points_over_bound: 0 });
    // the base is the field itself: the residual is nearly nothing, the ratio is the declared bits'
    expect(r.compressed_bytes).toBeGreaterThan(10000);
    expect(r.compressed_bytes).toBeLessThan(12000);
  }, 60_000);

  it('refuses a wrong shape, NaN in the base, a missing file, an unreadable one, an npz without recons_data and an undeclared size', async () => {
    const f = await loadField(WRF_KATRINA, 'QVAPOR');
    const o = { codec: 'lbrc', bound: { mode: 'nrmse' as const, value: 1e-5 } };
    const w = (name: string, bytes: Uint8Array) => {
      const p = join(tmp.dir, name);
      writeFileSync(p, bytes);
      return p;
    };
    const good = Float32Array.from(f.values);
    await expect(prepareBase(f, `file:${w('short.npy', npy(good.subarray(0, 1000), [1000]))}#bits=1`, o)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/\[1000\], the field is \[4, 14, 48, 48\]/) });
    const nan = good.slice();
    nan[777] = NaN;
    await expect(prepareBase(f, `file:${w('nan.npy', npy(nan, f.shape))}#bits=1`, o)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/NaN.*at 1 points.*index 777/) });
    await expect(prepareBase(f, `file:${join(tmp.dir, 'nope.npz')}`, o)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no such file/) });
    await expect(prepareBase(f, `file:${w('junk.bin', new Uint8Array(1234))}#bits=1`, o)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/1234 bytes is not 129024 float32 or float64 values/) });
    await expect(prepareBase(f, `file:${w('norecon.npz', npz({ original_data: npy(good, f.shape) }))}`, o)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/without recons_data.*holds original_data/) });
    await expect(prepareBase(f, `file:${w('nobits.npy', npy(good, f.shape))}`, o)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/declare it/) });
    await expect(prepareBase(f, `file:${WRF_KATRINA}#var=NOPE,bits=1`, o)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no variable NOPE/) });
    // a codec that takes no base is told so
    await expect(prepareBase(f, 'auto', { ...o, codec: 'auto' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/takes no base/) });
  }, 60_000);
});
