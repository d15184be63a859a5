import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchSummary, readBaselines, runBench } from '../../../src-main/services/compression/bench.ts';
import type { BenchRow } from '../../../src-main/api/methods/bench.ts';
import { benchVariables } from '../../../src-main/services/compression/bench-input.ts';
import { writeNetcdf4Dataset } from '../../../src-main/services/data/writers/netcdf4.ts';
import { closePools } from '../../../src-main/services/compression/index.ts';
import { benchCommand } from '../../../src-main/doors/cli/commands/bench.ts';
import { CliUsageError } from '../../../src-main/doors/cli/command.ts';
import { compressCommand } from '../../../src-main/doors/cli/commands/compress.ts';
import { decompressCommand } from '../../../src-main/doors/cli/commands/decompress.ts';
import { FERRET, WRF, field, haveFerret, haveWrf, overBound } from '../../unit/codec/helpers.ts';
import { spawnSync } from 'node:child_process';
import type { ApiOutput } from '../../../src-main/api/contract.ts';
import { dispatch } from '../../../src-main/services/dispatch.ts';
import { storelessServices } from '../../../src-main/services/storeless.ts';

afterAll(() => closePools());
const haveZfp = spawnSync('sh', ['-c', 'command -v zfp']).status === 0;
const io = () => {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), progress: () => {}, progressDone: () => {} } };
};
const ctx = (o: ReturnType<typeof io>) => ({ io: o.io, app: async () => { throw new Error('no store'); }, globals: {} });

describe('bench summary', () => {
  const row = (codec: string, variable: string, ratio: number, c: number, d: number, extra: Partial<BenchRow> = {}) =>
    ({ file: 'f.nc', variable, codec, bound: 'rel:0.001', compressed_bytes: 1000 / ratio, compression_ratio: ratio, compress_mb_s: c, decompress_mb_s: d, ...extra }) as BenchRow;

  it('per codec: median speeds, geometric mean ratio; against SZ3 (with the mask its file lacks) the rows below it; error rows left out', () => {
    const rows = [
      row('fast', 'a', 20, 100, 200), row('fast', 'b', 5, 50, 80), row('fast', 'c', 10, 70, 90), row('fast', 'd', NaN, NaN, NaN, { error: 'failed' }),
      // on b SZ3 is ahead as it stands (8 > 5), but with its mask counted it is not (4 < 5)
      row('sz3', 'a', 10, 90, 300), row('sz3', 'b', 8, 60, 100, { ratio_with_mask: 4 }), row('sz3', 'c', 12.5, 40, 50),
    ];
    const [fast, sz3] = benchSummary(rows);
    expect(fast).toMatchObject({ codec: 'fast', rows: 3, median_compress_mb_s: 70, median_decompress_mb_s: 90, rows_with_sz3: 3, rows_below_sz3: 1 });
    expect(fast!.geomean_ratio).toBeCloseTo(10, 6);
    expect(fast!.geomean_ratio_over_sz3).toBeCloseTo(Math.cbrt((20 / 10) * (5 / 4) * (10 / 12.5)), 5);
    expect(sz3).toMatchObject({ codec: 'sz3', rows: 3, median_compress_mb_s: 60 });
    expect(sz3!.rows_with_sz3).toBeUndefined();
    // a row below SZ3's ratio only by the field's name, units and attributes the stream carries is counted apart
    // (4000 values: ours 160 bytes, 100 without its 60 of self-description; SZ3's 107)
    const small = [row('fast', 'e', 100, 1, 1, { values: 4000, compressed_bytes: 160, self_description_bytes: 60 }), row('sz3', 'e', 150, 1, 1, { values: 4000, compressed_bytes: 107 })];
    expect(benchSummary(small)[0]).toMatchObject({ rows_below_sz3: 1, rows_below_sz3_by_self_description: 1 });
    // an even count: the mean of the middle two
    expect(benchSummary([row('auto', 'a', 2, 10, 1), row('auto', 'b', 8, 30, 3)])[0]).toMatchObject({ median_compress_mb_s: 20, median_decompress_mb_s: 2, geomean_ratio: 4 });
  });
});

describe.runIf(haveFerret && haveZfp)('bench on a field with fill points (COADS SST, land masked)', () => {
  it('an external tool\'s row counts the mask its file lacks to restore the fills; ours store it in their bytes', async () => {
    const rows = await runBench({ files: [`${FERRET}/coads_climatology.cdf`], vars: ['SST'], codecs: ['fast', 'zfp'], bounds: [{ mode: 'rel', value: 1e-2 }], workers: 0, minSeconds: 0 });
    const [ours, zfp] = [rows.find((r) => r.codec === 'fast')!, rows.find((r) => r.codec === 'zfp')!];
    expect(ours.mask_bytes).toBeUndefined();
    // 194,400 points, 46 % of them land: one bit a point is 24.3 KB before zstd
    expect(zfp.mask_bytes).toBeGreaterThan(100);
    expect(zfp.mask_bytes).toBeLessThan(194_400 / 8);
    expect(zfp.ratio_with_mask).toBeCloseTo((4 * 194_400) / (zfp.compressed_bytes + zfp.mask_bytes!), 3);
    expect(zfp.ratio_with_mask).toBeLessThan(zfp.compression_ratio);
  });

  it.runIf(haveZfp)('missing points written as NaN (no fill declared) are counted in that mask too: the tool\'s file lacks them as it lacks fills', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fpk-bench-nan-'));
    const path = join(dir, 'nan.nc');
    const values = Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 3 === 0 && (i >> 6) % 2 === 0 ? NaN : Math.sin(i / 97) + (i >> 6) / 64));
    await writeNetcdf4Dataset(path, { dimensions: [{ name: 'y', size: 64 }, { name: 'x', size: 64 }], variables: [{ field: { name: 'v', dims: ['y', 'x'], shape: [64, 64], values, sourceDtype: 'float32', attributes: {} } }] });
    const rows = await runBench({ files: [path], vars: ['v'], codecs: ['fast', 'zfp'], bounds: [{ mode: 'rel', value: 1e-3 }], workers: 0, minSeconds: 0 });
    const zfp = rows.find((r) => r.codec === 'zfp')!;
    expect(zfp.mask_bytes).toBeGreaterThan(0);
    expect(zfp.ratio_with_mask).toBeCloseTo((4 * 64 * 64) / (zfp.compressed_bytes + zfp.mask_bytes!), 3);
  });
});

describe.runIf(haveWrf)('bench (needs the WRF Katrina file)', () => {
  it('rows carry the columns of baselines.json, ours and zfp, zero points over the bound', async () => {
    const rows = await runBench({ files: [WRF], vars: ['T2'], codecs: ['auto', 'lorenzo', ...(haveZfp ? ['zfp'] : [])], bounds: [{ mode: 'rel', value: 1e-3 }, { mode: 'psnr', value: 60 }], workers: 1, minSeconds: 0 });
    expect(rows.length).toBe(2 * (haveZfp ? 3 : 2));
    for (const r of rows) {
      expect(r.error).toBeUndefined();
      expect(r).toMatchObject({ file: expect.stringContaining('wrf_katrina.nc'), variable: 'T2', values: 4 * 48 * 48 });
      expect(['auto', 'lorenzo', 'zfp']).toContain(r.codec);
      for (const k of ['compression_ratio', 'psnr_db', 'compress_mb_s', 'decompress_mb_s', 'abs_bound'] as const) {
        expect(Number.isFinite(r[k]) && r[k] > 0, `${r.codec} ${k} = ${r[k]}`).toBe(true);
      }
      expect(r.compression_ratio).toBeGreaterThan(1);
      expect(r.points_over_bound).toBe(0);
      expect(r.max_error_over_bound).toBeLessThanOrEqual(1);
    }
    expect(rows[0]!.rel_bound).toBe(1e-3);
  });

  it('a residual coder on a base: the ratio with its model counts the base too, and no model where the stream needs none', async () => {
    const [r] = await runBench({ files: [WRF], vars: ['T'], codecs: ['nglr'], base: 'auto:rel:1e-2', bounds: [{ mode: 'nrmse', value: 1e-4 }], workers: 0, minSeconds: 0 });
    expect(r!.error).toBeUndefined();
    expect(r!.base_bytes).toBeGreaterThan(0);
    // it read higher than the ratio without the model: the base was left out of it
    expect(r!.compression_ratio_with_model!).toBeLessThanOrEqual(r!.compression_ratio);
    if (r!.model_used === false) expect(r!.compression_ratio_with_model).toBeCloseTo(r!.compression_ratio, 3);
  });

  it('--param goes to the codecs that take it; a param no benched codec takes is refused, named', async () => {
    const rows = await runBench({ files: [WRF], vars: ['T2'], codecs: ['auto', 'vqvae'], params: { fallback: false, scaling: 'log' }, bounds: [{ mode: 'psnr', value: 46 }], workers: 1, minSeconds: 0 });
    expect(rows.map((r) => [r.codec, r.error, r.points_over_bound])).toEqual([['auto', undefined, 0], ['vqvae', undefined, 0]]);
    expect(rows[1]!.predictor).toBe('vqvae (log)');
    expect(rows[1]!.fell_back).toBe(false);
    await expect(runBench({ files: [WRF], vars: ['T2'], codecs: ['auto'], params: { scaling: 'log' }, bounds: [{ mode: 'psnr', value: 46 }], minSeconds: 0 }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/no benched codec takes the param scaling="log"/) });
    // a model or a base no benched codec takes: refused, not left out (an NGLR file benched the default VQ-VAE)
    const nglrModel = join(import.meta.dirname, '..', '..', '..', 'resources', 'models', 'nglr-default.fpnl');
    await expect(runBench({ files: [WRF], vars: ['T2'], codecs: ['vqvae'], model: nglrModel, bounds: [{ mode: 'psnr', value: 46 }], minSeconds: 0 }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/no benched codec takes the model .*nglr-default\.fpnl, a \.fpnl file \(vqvae takes \.fpvq\)/) });
    await expect(runBench({ files: [WRF], vars: ['T2'], codecs: ['auto'], model: nglrModel, bounds: [{ mode: 'psnr', value: 46 }], minSeconds: 0 }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/no benched codec takes the model .*vqvae and nglr take one/) });
    await expect(runBench({ files: [WRF], vars: ['T2'], codecs: ['auto'], base: 'auto:rel:1e-2', bounds: [{ mode: 'nrmse', value: 1e-4 }], minSeconds: 0 }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/no benched codec takes the base auto:rel:1e-2 .*residual coders do: .*lbrc/) });
    // a listed variable no file has: said before any work, with the variables there are (it gave an empty table)
    await expect(runBench({ files: [WRF], vars: ['T2', 'NOPE'], codecs: ['auto'], bounds: [{ mode: 'rel', value: 1e-3 }], minSeconds: 0 }))
      .rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/no variable "NOPE" in wrf_katrina\.nc \(variables: .*T2/) });
  });
});

describe.runIf(haveFerret)('CLI commands (needs ferret-datasets)', () => {
  it('compress -> decompress round trip through the command modules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fpk-cli-'));
    const o1 = io();
    expect(await compressCommand.run([`${FERRET}/coads_climatology.cdf`, '--var', 'SST', '--bound', 'rel:1e-3', '--codec', 'interp-cubic', '--workers', '2', '-o', join(dir, 'sst.fpk')], ctx(o1))).toBe(0);
    expect(o1.lines.join('\n')).toMatch(/rel 0.001 -> abs/);
    const o2 = io();
    expect(await decompressCommand.run([join(dir, 'sst.fpk'), '-o', join(dir, 'sst.f32')], ctx(o2))).toBe(0);
    const b = readFileSync(join(dir, 'sst.f32'));
    const rec = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    const f = await field(`${FERRET}/coads_climatology.cdf`, 'SST');
    let min = Infinity, max = -Infinity;
    for (let i = 0; i < f.values.length; i++) if (f.mask![i]) { min = Math.min(min, f.values[i]!); max = Math.max(max, f.values[i]!); }
    expect(overBound(f.values, rec, f.mask, 1e-3 * (max - min))).toBe(0);
  });
  it('bench writes JSON and CSV and prints a table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fpk-bench-'));
    const o = io();
    const code = await benchCommand.run([`${FERRET}/etopo120.cdf`, '--vars', 'ROSE', '--codec', 'auto', '--bounds', 'rel:1e-2,abs:0.5', '--workers', '1', '--min-seconds', '0', '--json', join(dir, 'b.json'), '--csv', join(dir, 'b.csv')], ctx(o));
    expect(code).toBe(0);
    const j = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'));
    expect(j.rows.length).toBe(2);
    expect(j.protocol.join(' ')).toMatch(/mean of the valid points/);
    // what the speeds depend on: huge pages for this process and the tools it starts, Node, cores
    expect(j.protocol.join(' ')).toMatch(/Environment: Node v\d+.*cores; glibc huge pages for large allocations (on|off)/);
    // how many of our bytes are the field's self-description (none of SZ3's are)
    expect(j.rows[0].self_description_bytes).toBeGreaterThan(0);
    expect(j.rows[0].self_description_bytes).toBeLessThan(j.rows[0].compressed_bytes);
    expect(readFileSync(join(dir, 'b.csv'), 'utf8').split('\n')[0]).toContain('self_description_bytes');
    expect(o.lines[0]).toMatch(/ratio/);
    // the codec's medians and ratio over its rows, printed and in the JSON
    expect(j.summary).toEqual([expect.objectContaining({ codec: 'auto', rows: 2 })]);
    expect(o.lines.find((l) => /^auto\s+2\s/.test(l))).toBeDefined();
    // outputs that would destroy an input or each other, and a reference that is not one, are refused before the work
    const input = join(dir, 'in.cdf');
    writeFileSync(input, readFileSync(`${FERRET}/etopo120.cdf`));
    await expect(benchCommand.run([input, '--vars', 'ROSE', '--json', input], ctx(io()))).rejects.toThrow(/is the input file .* would destroy the input/);
    await expect(benchCommand.run([dir, '--vars', 'ROSE', '--json', join(dir, 'x.json'), '--csv', input], ctx(io()))).rejects.toThrow(/is the input file/);
    await expect(benchCommand.run([input, '--vars', 'ROSE', '--json', join(dir, 's.json'), '--csv', join(dir, 's.json')], ctx(io()))).rejects.toThrow(/--csv and --json name the same file/);
    const notJson = join(dir, 'notes.txt');
    writeFileSync(notJson, 'root:x:0:0\n');
    await expect(benchCommand.run([input, '--vars', 'ROSE', '--json', join(dir, 'r.json'), '--reference', notJson], ctx(io()))).rejects.toThrow(/--reference .*notes\.txt: not a baselines\.json/);
    // a reference's rows of another shape are passed over: the well-formed one is read, nothing prints "[object Object]"
    const oddRef = join(dir, 'odd.json');
    const refRow = { file: 'ferret-datasets: etopo120.cdf', variable: 'ROSE', rel_bound: 0.01, compressor: 'SZ3 (default)' };
    writeFileSync(oddRef, JSON.stringify({ rows: [{ ...refRow, compression_ratio: { odd: 1 } }, { ...refRow, variable: 'OTHER', compression_ratio: 7.5 }, 'junk', null] }));
    expect(readBaselines(oddRef, '--reference')).toEqual([{ ...refRow, variable: 'OTHER', compression_ratio: 7.5 }]);
    // a bench result given as the reference was read as none, without a word; one without SZ3 rows gives none either
    const benchJson = join(dir, 'earlier-bench.json');
    writeFileSync(benchJson, JSON.stringify({ protocol: {}, rows: [{ file: 'etopo120.cdf', variable: 'ROSE', codec: 'sz3', bound: 'rel:0.01', compression_ratio: 9 }] }));
    await expect(benchCommand.run([input, '--vars', 'ROSE', '--json', join(dir, 'r.json'), '--reference', benchJson], ctx(io()))).rejects.toThrow(/--reference .*earlier-bench\.json: a fieldpack bench result, not a baselines\.json/);
    const zfpOnly = join(dir, 'zfp-only.json');
    writeFileSync(zfpOnly, JSON.stringify({ rows: [{ ...refRow, compressor: 'ZFP', compression_ratio: 3 }] }));
    await expect(benchCommand.run([input, '--vars', 'ROSE', '--json', join(dir, 'r.json'), '--reference', zfpOnly], ctx(io()))).rejects.toThrow(/--reference .*zfp-only\.json: no SZ3 \(default\) row in it/);
    await expect(benchCommand.run([input, '--vars', ',', '--json', join(dir, 'v.json')], ctx(io()))).rejects.toThrow(/--vars needs at least one name/);
    expect(existsSync(join(dir, 'r.json'))).toBe(false);
    expect(readFileSync(input).equals(readFileSync(`${FERRET}/etopo120.cdf`))).toBe(true);
    // a file of the user's under an output's name is kept (a data file that is not benched, notes); an earlier
    // bench's JSON and CSV are replaced
    const other = join(dir, 'other.nc');
    writeFileSync(other, readFileSync(`${FERRET}/etopo120.cdf`));
    await expect(benchCommand.run([input, '--vars', 'ROSE', '--json', other], ctx(io()))).rejects.toThrow(/other\.nc exists and is not a bench result \(JSON\)/);
    await expect(benchCommand.run([input, '--vars', 'ROSE', '--json', join(dir, 'n.json'), '--csv', notJson], ctx(io()))).rejects.toThrow(/notes\.txt exists and is not a bench result \(CSV\)/);
    expect(readFileSync(other).equals(readFileSync(`${FERRET}/etopo120.cdf`))).toBe(true);
    expect(readFileSync(notJson, 'utf8')).toBe('root:x:0:0\n');
    expect(await benchCommand.run([`${FERRET}/etopo120.cdf`, '--vars', 'ROSE', '--codec', 'auto', '--bounds', 'rel:1e-2', '--min-seconds', '0', '--json', join(dir, 'b.json'), '--csv', join(dir, 'b.csv')], ctx(io()))).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')).rows.length).toBe(1);
    // a timing budget that is not a number of seconds is refused, named
    await expect(benchCommand.run([`${FERRET}/etopo120.cdf`, '--min-seconds', 'soon', '--json', join(dir, 'c.json')], ctx(io()))).rejects.toThrow(/--min-seconds needs a number of seconds/);
  });

  it('--entropy takes every entropy coder compress --codecs lists (rans, ms too: it took range|huffman|auto), as --param entropy=E does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fpk-bench-entropy-'));
    const bytes: Record<string, number> = {};
    for (const [name, args] of [['--entropy rans', ['--entropy', 'rans']], ['--param entropy=rans', ['--param', 'entropy=rans']], ['--entropy ms', ['--entropy', 'ms']]] as const) {
      const out = join(dir, `${name.replace(/\W+/g, '-')}.json`);
      expect(await benchCommand.run([`${FERRET}/etopo120.cdf`, '--vars', 'ROSE', '--codec', 'auto', '--bounds', 'rel:1e-3', '--workers', '1', '--min-seconds', '0', ...args, '--json', out], ctx(io()))).toBe(0);
      const [row] = JSON.parse(readFileSync(out, 'utf8')).rows as { compressed_bytes: number; error?: string }[];
      expect(row!.error).toBeUndefined();
      bytes[name] = row!.compressed_bytes;
    }
    expect(bytes['--entropy rans']).toBe(bytes['--param entropy=rans']);
    const refused = benchCommand.run([`${FERRET}/etopo120.cdf`, '--entropy', 'zstd', '--json', join(dir, 'z.json')], ctx(io()));
    await expect(refused).rejects.toBeInstanceOf(CliUsageError);
    await expect(refused).rejects.toThrow(/--entropy must be one of (?=.*\brange\b)(?=.*\bhuffman\b)(?=.*\bauto\b)(?=.*\bms\b)(?=.*\brans\b).* \(not "zstd"\)/);
    await expect(benchCommand.run([`${FERRET}/etopo120.cdf`, '--entropy', 'rans', '--param', 'entropy=ms', '--json', join(dir, 'z.json')], ctx(io()))).rejects.toThrow(/--entropy E is short for --param entropy=E: give one of them/);
    // a bound the CLI can read itself is a usage error too (exit 2), named by its flag
    await expect(benchCommand.run([`${FERRET}/etopo120.cdf`, '--bounds', 'rel:1e-3,1e-4', '--json', join(dir, 'z.json')], ctx(io()))).rejects.toThrow(new CliUsageError('--bounds: bad bound "1e-4": expected MODE:VALUE with MODE abs, rel, psnr or nrmse (e.g. rel:1e-3)'));
    expect(existsSync(join(dir, 'z.json'))).toBe(false);
  });
});

describe.runIf(haveFerret)('bench.* through dispatch, as the HTTP and Electron doors call them (needs ferret-datasets)', () => {
  const services = storelessServices();
  it('bench.codecs returns the rows and the protocol, reports progress, and is cancelled between rows', async () => {
    const progress: number[] = [];
    const r = (await dispatch(services, 'bench.codecs', { files: [`${FERRET}/etopo120.cdf`], variables: ['ROSE'], codecs: ['auto'], bounds: [{ mode: 'rel', value: 1e-2 }, { mode: 'rel', value: 1e-3 }], workers: 0, minSeconds: 0 }, { onProgress: (f) => progress.push(f) })) as ApiOutput<'bench.codecs'>;
    expect(r.rows.map((x) => [x.variable, x.codec, x.bound, x.points_over_bound])).toEqual([['ROSE', 'auto', 'rel:0.01', 0], ['ROSE', 'auto', 'rel:0.001', 0]]);
    expect(r.rows.every((x) => x.compression_ratio > 1)).toBe(true);
    expect(r.protocol.join(' ')).toMatch(/best of repetitions/);
    expect(r.trained).toEqual([]);
    expect(progress.at(-1)).toBe(1);
    const ac = new AbortController();
    ac.abort();
    await expect(dispatch(services, 'bench.codecs', { files: [`${FERRET}/etopo120.cdf`], variables: ['ROSE'], codecs: ['auto'], bounds: [{ mode: 'rel', value: 1e-2 }] }, { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
  it('bad inputs are refused before any work, named', async () => {
    await expect(dispatch(services, 'bench.codecs', { files: [], bounds: [{ mode: 'rel', value: 1e-3 }] })).rejects.toThrow(/files: give at least one file/);
    await expect(dispatch(services, 'bench.codecs', { files: [`${FERRET}/etopo120.cdf`], bounds: [] })).rejects.toThrow(/bounds: give at least one bound/);
    await expect(dispatch(services, 'bench.codecs', { files: [`${FERRET}/etopo120.cdf`], codecs: ['nope'], bounds: [{ mode: 'rel', value: 1e-3 }] })).rejects.toThrow(/unknown codec "nope"/);
    await expect(dispatch(services, 'bench.crossfield', { files: [`${FERRET}/coads_climatology.cdf`], variables: ['SST'], reusedModel: true, network: 'cfnn', bounds: [{ mode: 'rel', value: 1e-3 }] })).rejects.toThrow(/reused model is the linear network/);
    // the cross-field bench's flags on another codec's bench: refused, not left out
    await expect(benchCommand.run([`${FERRET}/etopo120.cdf`, '--codec', 'lbrc', '--network', 'linear', '--json', join(tmpdir(), 'fp-unused.json')], ctx(io()))).rejects.toThrow(/--network is for the cross-field bench \(--codec crossfield --vars TARGET\)/);
    // the large case's own flags only: a codec or a file would go unread (they were), --dir and --keep are its alone
    await expect(benchCommand.run(['--large', '4MiB', '--codec', 'lbrc', '--json', join(tmpdir(), 'fp-unused.json')], ctx(io()))).rejects.toThrow(/bench --large takes --large, --dir, --keep, --bounds, --workers, --json, not --codec/);
    await expect(benchCommand.run(['--large', '4MiB', `${FERRET}/etopo120.cdf`, '--json', join(tmpdir(), 'fp-unused.json')], ctx(io()))).rejects.toThrow(/bench --large builds its own variable: it takes no FILE/);
    await expect(benchCommand.run([`${FERRET}/etopo120.cdf`, '--keep', '--json', join(tmpdir(), 'fp-unused.json')], ctx(io()))).rejects.toThrow(/--dir and --keep are for bench --large/);
    await expect(dispatch(services, 'bench.large', { size: 'huge' })).rejects.toThrow(/size "huge"/);
    await expect(dispatch(services, 'bench.large', { size: '1KiB' })).rejects.toThrow(/at least 4MiB/);
    await expect(dispatch(services, 'bench.large', { size: '1e30' })).rejects.toThrow(/GiB free/);
    await expect(dispatch(services, 'bench.large', { size: '4MiB', dir: '/nonexistent/x' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/\/nonexistent\/x.*no such folder/) });
    await expect(dispatch(services, 'bench.codecs', { files: ['/nonexistent.nc'], bounds: [{ mode: 'rel', value: 1e-3 }] })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/\/nonexistent\.nc: no such file or folder/) });
    const empty = mkdtempSync(join(tmpdir(), 'fpk-bench-empty-'));
    await expect(dispatch(services, 'bench.codecs', { files: [empty], bounds: [{ mode: 'rel', value: 1e-3 }] })).rejects.toThrow(/no NetCDF or HDF5 file .* in the folder/);
    await expect(dispatch(services, 'bench.codecs', { files: [`${FERRET}/etopo120.cdf`], codecs: ['auto'], bounds: [{ mode: 'rel', value: 1e-3 }], train: { modelPrefix: join(empty, 'm') } })).rejects.toThrow(/train makes a model for the learned codecs/);
    await expect(dispatch(services, 'bench.crossfield', { files: [`${FERRET}/coads_climatology.cdf`], variables: ['SST'], anchors: ['SST'], bounds: [{ mode: 'rel', value: 1e-3 }] })).rejects.toThrow(/SST is the target: a field cannot be its own anchor/);
    const notJson = join(empty, 'notes.txt');
    writeFileSync(notJson, 'root:x:0:0\n');
    await expect(dispatch(services, 'bench.crossfield', { files: [`${FERRET}/coads_climatology.cdf`], variables: ['SST'], anchors: ['AIRT'], reference: notJson, bounds: [{ mode: 'rel', value: 1e-3 }] })).rejects.toThrow(/reference .*notes\.txt: not a baselines\.json/);
    // the Python given trains the CFNN (it was ignored: another interpreter trained it)
    const given = await dispatch(services, 'bench.crossfield', { files: [`${FERRET}/coads_climatology.cdf`], variables: ['SST'], anchors: ['AIRT'], network: 'cfnn', python: '/nonexistent/python', bounds: [{ mode: 'rel', value: 1e-3 }], minSeconds: 0 }) as { rows: { error?: string }[] };
    expect(given.rows[0]!.error).toMatch(/tried \/nonexistent\/python: not found/);
  });
  it('a cross-field target with no field worth its bytes as an anchor gets error rows saying so; the other targets are still benched', async () => {
    const r = (await dispatch(services, 'bench.crossfield', { files: [`${FERRET}/monthly_navy_winds.cdf`], variables: ['UWND', 'VWND'], bounds: [{ mode: 'rel', value: 1e-2 }, { mode: 'rel', value: 1e-3 }] })) as ApiOutput<'bench.crossfield'>;
    expect(r.rows.map((x) => `${x.variable} ${x.bound}`)).toEqual(['UWND rel:0.01', 'UWND rel:0.001', 'VWND rel:0.01', 'VWND rel:0.001']);
    expect(r.rows[0]!.error).toBe('no useful anchor for UWND among VWND');
    expect(r.rows[3]!.error).toBe('no useful anchor for VWND among UWND');
    expect(r.rows.every((x) => Number.isNaN(x.compression_ratio) && x.anchor_selection === 'auto')).toBe(true);
  });
  it('names given twice give their rows once; a float64 field past float32\'s range gives error rows, not measurements', async () => {
    const r = (await dispatch(services, 'bench.codecs', { files: [`${FERRET}/etopo120.cdf`], variables: ['ROSE', 'ROSE'], codecs: ['auto', 'auto'], bounds: [{ mode: 'rel', value: 1e-2 }, { mode: 'rel', value: 1e-2 }], workers: 0, minSeconds: 0 })) as ApiOutput<'bench.codecs'>;
    expect(r.rows).toHaveLength(1);
    const dir = mkdtempSync(join(tmpdir(), 'fpk-bench-f64-'));
    const big = join(dir, 'big.f64');
    writeFileSync(big, Buffer.from(Float64Array.from({ length: 20 * 30 }, (_, i) => Math.sin(i) * 1e300).buffer));
    writeFileSync(`${big}.json`, JSON.stringify({ shape: [20, 30], dtype: 'float64' }));
    const f = (await dispatch(services, 'bench.codecs', { files: [big], codecs: ['auto'], bounds: [{ mode: 'rel', value: 1e-3 }], workers: 0, minSeconds: 0 })) as ApiOutput<'bench.codecs'>;
    expect(f.rows).toHaveLength(1);
    expect(f.rows[0]!.error).toMatch(/past float32's range: the bench runs every codec on float32/);
    // and one below float32's normal range: it was benched as all zeros (every row "constant", exact)
    const tiny = join(dir, 'tiny.f64');
    writeFileSync(tiny, Buffer.from(Float64Array.from({ length: 20 * 30 }, (_, i) => (2 + Math.sin(i)) * 1e-50).buffer));
    writeFileSync(`${tiny}.json`, JSON.stringify({ shape: [20, 30], dtype: 'float64' }));
    const t = (await dispatch(services, 'bench.codecs', { files: [tiny], codecs: ['auto'], bounds: [{ mode: 'rel', value: 1e-3 }], workers: 0, minSeconds: 0 })) as ApiOutput<'bench.codecs'>;
    expect(t.rows[0]!.error).toMatch(/values as small as 1\.\d+e-50, below float32's normal range/);
  });
});

describe('the variables a bench takes by default', () => {
  it('2-D and larger fields and 1-D data of 1024+ values; not coordinate variables, short vectors or integers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fpk-bench-vars-'));
    const path = join(dir, 'series.nc');
    const f = (name: string, dims: string[], shape: number[], values: Float32Array) => ({ field: { name, dims, shape, values, sourceDtype: 'float32' as const, attributes: {} } });
    const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i / 50) + i / n);
    await writeNetcdf4Dataset(path, {
      dimensions: [{ name: 't', size: 2048 }, { name: 'time', size: 4 }, { name: 'y', size: 8 }, { name: 'x', size: 16 }],
      coordinates: { t: { values: Array.from({ length: 2048 }, (_, i) => i * 0.5), dtype: 'float32' } },
      variables: [f('SERIES', ['t'], [2048], ramp(2048)), f('XTIME', ['time'], [4], ramp(4)), f('FIELD', ['y', 'x'], [8, 16], ramp(128))],
      stored: [{ name: 'COUNT', dims: ['t'], shape: [2048], dtype: 'int32', attributes: {}, attributeTypes: {}, data: Array.from({ length: 2048 }, (_, i) => i % 7) }],
    });
    expect(await benchVariables(path)).toEqual(['SERIES', 'FIELD']);
    const rows = await runBench({ files: [path], codecs: ['auto'], bounds: [{ mode: 'rel', value: 1e-3 }], workers: 0, minSeconds: 0 });
    expect(rows.map((r) => [r.variable, r.points_over_bound])).toEqual([['SERIES', 0], ['FIELD', 0]]);
  });
});
