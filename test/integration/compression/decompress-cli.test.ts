/**
 * `fieldpack decompress` as a user runs it (the real CLI, a child process: exit codes, files written) for any
 * number of worker threads, on a large multi-chunk stream and on the committed golden streams; the codec
 * service's pool fed with bytes read from disk (Buffers, views into larger pooled buffers); the golden cross-field
 * streams through the codec service with their anchor given as resolved dependencies, and refused by the CLI
 * without it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closePools, codecEnv, decodeStream, encodeField, inspectStream } from '../../../src-main/services/codecs/index.ts';
import { codecById } from '../../../src-main/core/compressors/index.ts';
import { decompressCommand } from '../../../src-main/doors/cli/commands/decompress.ts';
import { dispatch, storelessServices } from '../../../src-main/services/services.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { ferretFile, haveFile } from '../../helpers/data-files.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { loadField } from '../../../src-main/services/compression/bench-input.ts';
import { ROOT, fieldpack, readF32 } from '../../helpers/cli.ts';

const GOLDEN = join(ROOT, 'test', 'fixtures', 'golden');
const ETOPO5 = ferretFile('etopo5.cdf');
const haveEtopo5 = haveFile(ETOPO5);
const WORKERS = [0, 1, 2] as const;
const tmp = tempDir('fieldpack-decompress-');
afterAll(async () => {
  await closePools();
  tmp.cleanup();
});

const f32 = readF32;
const bytesOf = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** The source field as the data service reads it (CF masks, unpacking). */
const readSource = loadField;

describe('fieldpack decompress --workers 0/1/2 on etopo5 ROSE (needs ferret-datasets)', () => {
  const fpk = join(tmp.dir, 'rose.fpk');
  let compressed: Awaited<ReturnType<typeof fieldpack>> | null = null;
  beforeAll(async () => {
    if (haveEtopo5) compressed = await fieldpack('compress', ETOPO5, '--var', 'ROSE', '--bound', 'rel:1e-3', '-o', fpk);
  }, 120_000);

  it.skipIf(!haveEtopo5)('compress writes a multi-chunk stream; decompress with 0, 1 and 2 workers exits 0 with identical bytes, every value within the bound of the source (needs ferret-datasets)', async () => {
    expect(compressed!.status, compressed!.stderr).toBe(0);
    expect(compressed!.stdout).toMatch(/ROSE \[2161x4320\] rel 0\.001 -> abs/);
    // the default plans a field of 9.3 M values with effort fast, and says so
    expect(compressed!.stdout).toMatch(/; predictor interp-\S+ \(planned with effort fast\)/);
    const info = (await dispatch(storelessServices(), 'streams.inspect', { file: fpk })) as { chunks: number; codec: string; shape: number[]; bound: { abs: number; mode: string; value: number } };
    expect(info.codec).toBe('classic');
    expect(info.shape).toEqual([2161, 4320]);
    expect(info.chunks).toBeGreaterThan(1);
    expect(inspectStream(new Uint8Array(readFileSync(fpk))).header.chunks.length).toBe(info.chunks);

    const outs = WORKERS.map((w) => join(tmp.dir, `rose-w${w}.f32`));
    const runs = [];
    for (const [i, w] of WORKERS.entries()) runs.push(await fieldpack('decompress', fpk, '-o', outs[i]!, '--workers', String(w)));
    for (const r of runs) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/ROSE float32 \[2161x4320\] \(C order, little endian\), bound rel:0\.001 -> abs .*codec classic/);
    }
    const b0 = readFileSync(outs[0]!);
    expect(b0.length).toBe(2161 * 4320 * 4);
    for (const o of outs.slice(1)) expect(readFileSync(o).equals(b0)).toBe(true);

    const src = await readSource(ETOPO5, 'ROSE');
    expect(src.shape).toEqual([2161, 4320]);
    let min = Infinity, max = -Infinity;
    for (let i = 0; i < src.values.length; i++) {
      if (src.mask && !src.mask[i]) continue;
      min = Math.min(min, src.values[i]!);
      max = Math.max(max, src.values[i]!);
    }
    const abs = info.bound.abs;
    expect(abs).toBeCloseTo(1e-3 * (max - min), 6);
    const rec = f32(outs[0]!);
    let over = 0;
    let checked = 0;
    for (let i = 0; i < src.values.length; i++) {
      if (src.mask && !src.mask[i]) continue;
      checked++;
      if (!(Math.abs(rec[i]! - src.values[i]!) <= abs)) over++;
    }
    expect(checked).toBeGreaterThan(9_000_000);
    expect(over).toBe(0);
  }, 120_000);

  it.skipIf(!haveEtopo5)('the pool decodes a stream read from disk (a Buffer, and a view into a larger buffer) as the calling thread does; the caller\'s bytes stay usable (needs ferret-datasets)', async () => {
    const file = readFileSync(fpk);
    const inThread = await decodeStream(new Uint8Array(file), { workers: 0 });
    const pooled = await decodeStream(file, { workers: 2 });
    expect(bytesOf(pooled.field.values).equals(bytesOf(inThread.field.values))).toBe(true);
    // the same stream inside a larger buffer, not at its start
    const prefix = readFileSync(join(GOLDEN, 'classic-v2.fpk'));
    const both = Buffer.concat([prefix, file]);
    const view = both.subarray(prefix.length);
    expect(view.byteOffset).toBeGreaterThan(0);
    expect(view.buffer.byteLength).toBeGreaterThan(view.length);
    const fromView = await decodeStream(view, { workers: 2 });
    expect(bytesOf(fromView.field.values).equals(bytesOf(inThread.field.values))).toBe(true);
    const rows = await decodeStream(view, { workers: 2, rows: [1000, 1300] });
    expect(bytesOf(rows.field.values).equals(bytesOf(inThread.field.values.subarray(1000 * 4320, 1300 * 4320)))).toBe(true);
    // nothing was transferred away from the caller
    expect(view.length).toBe(file.length);
    expect(view.equals(file)).toBe(true);
    expect(both.subarray(0, prefix.length).equals(prefix)).toBe(true);
  }, 120_000);
});

describe('golden classic streams', () => {
  const golden = ['classic-v1', 'classic-v1-huffman', 'classic-v2'];

  it('fieldpack decompress (the command module, as bench-cli.test.ts runs it) decodes every golden classic stream with 0, 1 and 2 workers to its committed values, byte for byte', async () => {
    for (const g of golden) {
      const expected = readFileSync(join(GOLDEN, `${g}.expected.f32`));
      for (const w of WORKERS) {
        const out = join(tmp.dir, `${g}-w${w}.f32`);
        const lines: string[] = [];
        const ctx = { io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), progress: () => {}, progressDone: () => {} }, app: async () => { throw new Error('decompress must not open the store'); }, globals: {} };
        expect(await decompressCommand.run([join(GOLDEN, `${g}.fpk`), '-o', out, '--workers', String(w)], ctx), `${g} workers ${w}`).toBe(0);
        expect(lines[0]).toContain('TG float32 [6x10x12]');
        expect(readFileSync(out).equals(expected), `${g} workers ${w}`).toBe(true);
      }
    }
  });

  it('inspect and streamed decompress refuse a stream with bytes after its last chunk, as whole decompress does (inspect printed the header and exited 0), writing nothing', async () => {
    const joined = join(tmp.dir, 'trailing.fpk');
    writeFileSync(joined, Buffer.concat([readFileSync(join(GOLDEN, 'classic-v2.fpk')), Buffer.from('garbage')]));
    const refusal = { code: 'BAD_STREAM', message: expect.stringMatching(/7 unexpected bytes after the last chunk/) };
    await expect(dispatch(storelessServices(), 'streams.inspect', { file: joined })).rejects.toMatchObject(refusal);
    for (const streamed of [true, false]) {
      const out = join(tmp.dir, `trailing-${streamed}.f32`);
      await expect(dispatch(storelessServices(), 'streams.decompress', { file: joined, out, streamed })).rejects.toMatchObject(refusal);
      expect(existsSync(out), `streamed ${streamed}`).toBe(false);
    }
  });

  it('the fieldpack CLI (child process) exits 0 on a golden stream and writes its committed values', async () => {
    const out = join(tmp.dir, 'classic-v2-cli.f32');
    const r = await fieldpack('decompress', join(GOLDEN, 'classic-v2.fpk'), '-o', out, '--workers', '2');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out).equals(readFileSync(join(GOLDEN, 'classic-v2.expected.f32')))).toBe(true);
    // rows given the wrong way round: a usage error that says how
    const backwards = await fieldpack('decompress', join(GOLDEN, 'classic-v2.fpk'), '-o', join(tmp.dir, 'backwards.f32'), '--rows', '5:0');
    expect(backwards.status).toBe(2);
    expect(backwards.stderr).toMatch(/--rows 5:0: rows A up to B \(not included\), B after A/);
  });

  it('an output named .f32 for a float64 stream (or .f64 for float32) is refused before anything is written', async () => {
    const src = join(tmp.dir, 'f64.fpk');
    const values = Float64Array.from({ length: 600 }, (_, i) => 1000 + Math.sin(i / 9));
    const r = await encodeField({ shape: [20, 30], values }, { codec: 'auto', bound: { mode: 'rel', value: 1e-4 }, params: {}, workers: 0 });
    writeFileSync(src, r.bytes);
    const wrong = await fieldpack('decompress', src, '-o', join(tmp.dir, 'p.f32'));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/p\.f32: the stream holds float64 values, written as they are; name the output \.f64/);
    expect(existsSync(join(tmp.dir, 'p.f32'))).toBe(false);
    const right = await fieldpack('decompress', src, '-o', join(tmp.dir, 'p.f64'));
    expect(right.status, right.stderr).toBe(0);
    expect(readFileSync(join(tmp.dir, 'p.f64')).length).toBe(600 * 8);
    const golden32 = await fieldpack('decompress', join(GOLDEN, 'classic-v2.fpk'), '-o', join(tmp.dir, 'g.f64'));
    expect(golden32.stderr).toMatch(/the stream holds float32 values/);
  });

  it('compress takes a raw binary file without a sidecar from --raw-shape and --raw-dtype (big endian too), within the bound', async () => {
    const values = Float32Array.from({ length: 40 * 60 }, (_, i) => Math.sin(i / 70) * 5 + (i % 60) / 30);
    const src = join(tmp.dir, 'plain.f32');
    const be = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => be.writeFloatBE(v, 4 * i));
    writeFileSync(src, be);
    const out = join(tmp.dir, 'plain.fpk');
    const c = await fieldpack('compress', src, '--raw-shape', '40,60', '--raw-dtype', 'float32', '--raw-endian', 'big', '--var', 'plain', '--bound', 'abs:0.01', '-o', out);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/plain \[40x60\]/);
    const d = await fieldpack('decompress', out, '-o', join(tmp.dir, 'plain-back.f32'));
    expect(d.status, d.stderr).toBe(0);
    const back = readF32(join(tmp.dir, 'plain-back.f32'));
    expect(Math.max(...Array.from(values, (v, i) => Math.abs(v - back[i]!)))).toBeLessThanOrEqual(0.01);
    const without = await fieldpack('compress', src, '--var', 'plain', '--bound', 'abs:0.01', '-o', out);
    expect(without.stderr).toMatch(/raw binary needs its shape and dtype/);
  });

  it('compress notes a fill value the file does not declare where its bound is taken from the range, not under an abs bound', async () => {
    const values = Float32Array.from({ length: 40 * 60 }, (_, i) => (i % 60 < 15 ? -9999 : 14 + 16 * Math.sin(i / 90)));
    const src = join(tmp.dir, 'sst9999.f32');
    writeFileSync(src, bytesOf(values));
    const raw = ['--raw-shape', '40,60', '--raw-dtype', 'float32', '--var', 'sst9999', '-o', join(tmp.dir, 'sst9999.fpk')];
    const rel = await fieldpack('compress', src, ...raw, '--bound', 'rel:1e-4', '--overwrite');
    expect(rel.status, rel.stderr).toBe(0);
    expect(rel.stdout).toMatch(/note: sst9999 looks filled with a value the file does not declare: -9999 on 25\.0 % of the points, the others within -2 \.\. 30: rel 0\.0001 then allows errors of 1\.0029, 3\.1 % of the others' range; declare it as "fillValue": -9999 in \S+sst9999\.f32\.json or give an abs bound/);
    // a lossless bound spans nothing: no note
    const exact = await fieldpack('compress', src, ...raw, '--bound', 'rel:0', '--overwrite');
    expect(exact.stdout).not.toMatch(/does not declare/);
    const abs = await fieldpack('compress', src, ...raw, '--bound', 'abs:0.01', '--overwrite');
    expect(abs.status, abs.stderr).toBe(0);
    expect(abs.stdout).not.toMatch(/does not declare/);
  });

  it('outputs are checked before any work: the input itself, a folder, a mask in a missing folder; what was there stays', async () => {
    const src = join(tmp.dir, 'self.fpk');
    writeFileSync(src, readFileSync(join(GOLDEN, 'classic-v2.fpk')));
    const self = await fieldpack('decompress', src, '-o', src);
    expect(self.stderr).toMatch(/self\.fpk is the input file .*writing it would destroy the input/);
    expect(readFileSync(src).equals(readFileSync(join(GOLDEN, 'classic-v2.fpk')))).toBe(true);
    const old = join(tmp.dir, 'kept.f32');
    writeFileSync(old, 'OLD');
    const mask = await fieldpack('decompress', src, '-o', old, '--mask', join(tmp.dir, 'missing', 'm.mask'));
    expect(mask.status).toBe(1);
    expect(mask.stderr).toMatch(/m\.mask: the folder .*missing does not exist/);
    expect(readFileSync(old, 'utf8')).toBe('OLD');
    expect((await fieldpack('decompress', src, '-o', tmp.dir)).stderr).toMatch(/is a folder: give the output a file name/);
    const nc = join(tmp.dir, 'source.nc');
    writeFileSync(nc, readFileSync(join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc4.nc')));
    const over = await fieldpack('compress', nc, '--var', 'temp_packed', '--bound', 'rel:1e-3', '-o', nc);
    expect(over.stderr).toMatch(/source\.nc is the input file .*writing it would destroy the input/);
    expect(readFileSync(nc).equals(readFileSync(join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc4.nc')))).toBe(true);
  });

  it('an existing output is never replaced unasked: decompress and export refuse any file without --overwrite, compress any but a stream of an earlier run', async () => {
    const dir = join(tmp.dir, 'existing');
    mkdirSync(dir);
    const src = join(dir, 'in.fpk');
    writeFileSync(src, readFileSync(join(GOLDEN, 'classic-v2.fpk')));
    // the user's original raw values, named as the output by mistake
    const original = join(dir, 'original.f32');
    writeFileSync(original, 'ORIGINAL');
    const refused = await fieldpack('decompress', src, '-o', original);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/original\.f32 exists: writing would replace it; .*--overwrite/);
    expect(readFileSync(original, 'utf8')).toBe('ORIGINAL');
    const mask = join(dir, 'kept.mask');
    writeFileSync(mask, 'MASK');
    expect((await fieldpack('decompress', src, '-o', join(dir, 'new.f32'), '--mask', mask)).stderr).toMatch(/kept\.mask exists/);
    expect(existsSync(join(dir, 'new.f32'))).toBe(false);
    const exported = await fieldpack('export', src, '-o', original, '--format', 'raw');
    expect(exported.stderr).toMatch(/original\.f32 exists/);
    expect(readFileSync(original, 'utf8')).toBe('ORIGINAL');
    // a raw export's sidecar (OUT.json) too
    const sidecar = join(dir, 'fresh.f32.json');
    writeFileSync(sidecar, '{"mine": true}');
    expect((await fieldpack('export', src, '-o', join(dir, 'fresh.f32'), '--format', 'raw')).stderr).toMatch(/fresh\.f32\.json exists/);
    expect(readFileSync(sidecar, 'utf8')).toBe('{"mine": true}');
    expect(existsSync(join(dir, 'fresh.f32'))).toBe(false);
    const replaced = await fieldpack('decompress', src, '-o', original, '--overwrite');
    expect(replaced.status, replaced.stderr).toBe(0);
    expect(readFileSync(original).length).toBeGreaterThan(8);
    // compress: a stream of an earlier run is replaced (a new bound, the same name); a file of another kind is not
    const nc = join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc4.nc');
    const out = join(dir, 'T.fpk');
    for (const bound of ['rel:1e-2', 'rel:1e-3']) expect((await fieldpack('compress', nc, '--var', 'temp_packed', '--bound', bound, '-o', out)).status).toBe(0);
    // a packed int16 variable: its ratio against the file's own values is said beside the one against float32
    const packed = await fieldpack('compress', nc, '--var', 'temp_packed', '--bound', 'rel:1e-3', '-o', out);
    const ratios = /ratio ([\d.]+) against the values as float32, ([\d.]+) against the file's int16 values/.exec(packed.stdout);
    expect(ratios, packed.stdout).not.toBeNull();
    expect(Number(ratios![2])).toBeCloseTo(Number(ratios![1]) / 2, 1);
    expect(inspectStream(new Uint8Array(readFileSync(out))).header.bound.value).toBe(1e-3);
    const notes = join(dir, 'notes.fpk');
    writeFileSync(notes, 'my notes');
    const kept = await fieldpack('compress', nc, '--var', 'temp_packed', '--bound', 'rel:1e-3', '-o', notes);
    expect(kept.stderr).toMatch(/notes\.fpk exists and is not a Fieldpack stream: writing would replace it/);
    expect(readFileSync(notes, 'utf8')).toBe('my notes');
    expect((await fieldpack('compress', nc, '--var', 'temp_packed', '--bound', 'rel:1e-3', '-o', notes, '--overwrite')).status).toBe(0);
    // a stream that would go beside the output (an anchor's) is checked before any work as well
    writeFileSync(join(dir, 'X.anchor-temp.fpk'), 'mine');
    const beside = await fieldpack('compress', nc, '--var', 'temp_packed', '--codec', 'crossfield', '--anchors', 'temp', '--bound', 'rel:1e-3', '-o', join(dir, 'X.fpk'));
    expect(beside.stderr).toMatch(/X\.anchor-temp\.fpk exists and is not a Fieldpack stream/);
    expect(existsSync(join(dir, 'X.fpk'))).toBe(false);
  });

  it('mistaken commands say what is wrong: a data file given to decompress, a flag given twice', async () => {
    const nc = join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc4.nc');
    const data = await fieldpack('decompress', nc, '-o', join(tmp.dir, 'nc.f32'));
    expect(data.stderr).toMatch(/synthetic_nc4\.nc is a NetCDF-4\/HDF5 file, not a Fieldpack stream \(\.fpk\): compress it first/);
    const twice = await fieldpack('compress', nc, '--var', 'temp_packed', '--var', 'pressure_be', '--bound', 'rel:1e-3', '-o', join(tmp.dir, 'twice.fpk'));
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/--var was given 2 times \(temp_packed, pressure_be\): this command takes one/);
    expect(existsSync(join(tmp.dir, 'twice.fpk'))).toBe(false);
  });

  it('malformed flag values the CLI checks itself are usage errors (exit 2, with the usage) before any work, as README says: a bound, a codec, --streamed with what cannot go slab by slab', async () => {
    const nc = join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc4.nc');
    const out = join(tmp.dir, 'usage.fpk');
    const arc = join(tmp.dir, 'usage.fpa');
    const json = join(tmp.dir, 'usage.json');
    const cases: [string[], RegExp][] = [
      [['compress', nc, '--var', 'ids', '--bound', '0', '-o', out], /^fieldpack compress: --bound: bad bound "0": expected MODE:VALUE with MODE abs, rel, psnr or nrmse/m],
      [['compress', nc, '--var', 'ids', '--bound', '1e-3', '-o', out], /--bound: bad bound "1e-3": expected MODE:VALUE/],
      [['compress', nc, '--var', 'ids', '--bound', 'rel:-1', '-o', out], /--bound: bound value for rel must be a finite number >= 0, got -1/],
      [['compress', nc, '--var', 'ids', '--bound', 'rel:1e-3', '--codec', 'nope', '-o', out], /--codec nope: unknown codec \(known: auto, .*lbrc.*\)/],
      [['compress', nc, '--var', 'ids', '--bound', 'psnr:60', '--streamed', '-o', out], /--streamed: a psnr target is met by measuring the whole decoded field; use an abs or rel bound/],
      [['compress', nc, '--var', 'ids', '--bound', 'rel:1e-3', '--codec', 'lbrc', '--streamed', '-o', out], /--streamed: codec lbrc cannot compress slab by slab/],
      [['archive', 'build', nc, '-o', arc, '--bound', '0'], /^fieldpack archive: --bound: bad bound "0"/m],
      [['archive', 'plan', nc, '--bound-for', 'ids=rel:x'], /--bound-for ids: bad bound "rel:x": "x" is not a number/],
      [['archive', 'plan', nc, '--codec', 'nope'], /--codec nope: unknown codec/],
      // a flag the verb does not read (it was taken silently)
      [['archive', 'list', arc, '--jobs', '3'], /^fieldpack archive: archive list takes no --jobs/m],
      [['archive', 'verify', arc, '--slurm'], /archive verify takes no --slurm/],
      [['archive', 'restore', arc, '-o', out, '--budget', '2MB'], /archive restore takes no --budget/],
      [['bench', nc, '--bounds', 'rel:1e-3,abs', '--json', json], /^fieldpack bench: --bounds: bad bound "abs"/m],
      [['bench', nc, '--entropy', 'zstd', '--json', json], /--entropy must be one of .*rans.* \(not "zstd"\)/],
    ];
    const runs = await Promise.all(cases.map(([args]) => fieldpack(...args)));
    runs.forEach((r, i) => {
      expect(r.status, `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stderr).toMatch(/^usage:$/m);
      // the synopsis and where the rest is, not the whole usage (which scrolled the message out of sight)
      expect(r.stderr).toMatch(/^\(fieldpack help \w+: what each flag does\)$/m);
      expect(r.stderr).not.toMatch(/^ {2}--/m);
    });
    for (const f of [out, arc, json]) expect(existsSync(f)).toBe(false);
    // a stream that is not there is said as a data file that is not there (it read "cannot read (ENOENT)")
    const missing = join(tmp.dir, 'nothere.fpk');
    for (const args of [['decompress', missing, '-o', join(tmp.dir, 'nothere.f32')], ['decompress', missing, '-o', join(tmp.dir, 'nothere.f32'), '--streamed']]) {
      const r = await fieldpack(...args);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`error (NOT_FOUND): ${missing}: no such file`);
    }
  }, 60_000);

  it('a --workers that is not an integer from 0 to 256 is a usage error naming it (it was read as NaN: no workers, silently)', async () => {
    const ctx = { io: { out: () => {}, err: () => {}, progress: () => {}, progressDone: () => {} }, app: async () => { throw new Error('no store'); }, globals: {} };
    for (const w of ['two', '-1', '1.5', '1000']) {
      await expect(decompressCommand.run([join(GOLDEN, 'classic-v2.fpk'), '-o', join(tmp.dir, 'w.f32'), '--workers', w], ctx)).rejects.toThrow(`--workers needs an integer from 0 to 256, not "${w}"`);
    }
  });

  it.runIf(haveFile(ferretFile('coads_climatology.cdf')))('--clamp keeps a wind speed non-negative (it came back as low as -0.02): decompress in memory and streamed alike, archive restore per member; the bound still holds', async () => {
    const coads = ferretFile('coads_climatology.cdf');
    const fpk = join(tmp.dir, 'wspd.fpk');
    expect((await fieldpack('compress', coads, '--var', 'WSPD', '--bound', 'rel:1e-2', '-o', fpk)).status).toBe(0);
    const orig = await loadField(coads, 'WSPD');
    const plain = join(tmp.dir, 'wspd.f32');
    const kept = join(tmp.dir, 'wspd-clamped.f32');
    const keptStreamed = join(tmp.dir, 'wspd-clamped-streamed.f32');
    expect((await fieldpack('decompress', fpk, '-o', plain)).status).toBe(0);
    const said = await fieldpack('decompress', fpk, '-o', kept, '--clamp');
    expect(said.stdout).toMatch(/clamped (\d+) values into the valid range \[0, 23\.11999/);
    expect((await fieldpack('decompress', fpk, '-o', keptStreamed, '--clamp', '--streamed')).status).toBe(0);
    expect(readFileSync(keptStreamed).equals(readFileSync(kept))).toBe(true);
    const [a, b] = [readF32(plain), readF32(kept)];
    const bound = 0.01 * 23.119998931884766;
    let negativeBefore = 0;
    let moved = 0;
    for (let i = 0; i < a.length; i++) {
      if (orig.mask && !orig.mask[i]) continue;
      if (a[i]! < 0) negativeBefore++;
      if (a[i] !== b[i]) moved++;
      expect(b[i]!).toBeGreaterThanOrEqual(0);
      expect(Math.abs(b[i]! - orig.values[i]!)).toBeLessThanOrEqual(Math.abs(a[i]! - orig.values[i]!));
      expect(Math.abs(b[i]! - orig.values[i]!)).toBeLessThanOrEqual(bound * (1 + 1e-6));
    }
    expect(negativeBefore).toBeGreaterThan(0);
    expect(moved).toBe(Number(/clamped (\d+) values/.exec(said.stdout)![1]));
    // masked (fill) points come back as NaN, as decompress's help says
    let nanAtMask = 0;
    for (let i = 0; i < a.length; i++) {
      if (orig.mask && !orig.mask[i]) {
        expect(Number.isNaN(a[i]!) && Number.isNaN(b[i]!)).toBe(true);
        nanAtMask++;
      }
    }
    expect(nanAtMask).toBeGreaterThan(0);
    expect((await fieldpack('help', 'decompress')).stdout).toMatch(/Masked \(fill\) points are written as NaN; --mask OUT\.mask writes the mask beside, one u8 per value \(1 = valid point\)/);
    const arc = join(tmp.dir, 'wspd.fpa');
    expect((await fieldpack('archive', 'build', coads, '--vars', 'WSPD', '--bound', 'rel:1e-2', '-o', arc)).status).toBe(0);
    const restored = await fieldpack('archive', 'restore', arc, '-o', join(tmp.dir, 'wspd-restored'), '--clamp');
    expect(restored.stdout).toMatch(/WSPD \(from coads_climatology\.cdf\); \d+ values clamped into the valid range/);
    const back = await loadField(join(tmp.dir, 'wspd-restored', 'coads_climatology.nc'), 'WSPD');
    let least = Infinity;
    for (let i = 0; i < back.values.length; i++) if (!back.mask || back.mask[i]) least = Math.min(least, back.values[i]!);
    expect(least).toBeGreaterThanOrEqual(0);
  });

  it('flags the API refuses are named as flags (not as API fields), and a --db that is a folder says so (it said EISDIR)', async () => {
    const nc = join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc4.nc');
    const jobs = await fieldpack('archive', 'build', nc, '-o', join(tmp.dir, 'jobs.fpa'), '--jobs', '1000');
    expect(jobs.status).toBe(1);
    expect(jobs.stderr).toMatch(/^error \(INVALID_ARGUMENT\): --jobs 1000: Too big: expected number to be <=256$/m);
    const slurm = await fieldpack('archive', 'build', nc, '-o', join(tmp.dir, 'jobs.fpa'), '--slurm', '--array-size', '100000', '--no-submit');
    expect(slurm.stderr).toMatch(/--array-size 100000: Too big/);
    // a flag of an API field inside another (raw.shape) is named as the flag too
    const raw = join(tmp.dir, 'zeros.f32');
    writeFileSync(raw, new Uint8Array(4000));
    const shape = await fieldpack('compress', raw, '--var', 'z', '--raw-shape', '1,1,1,1,1,1,1,1,1,1000', '--raw-dtype', 'float32', '--bound', 'abs:1', '-o', join(tmp.dir, 'z.fpk'));
    expect(shape.stderr).toMatch(/^error \(INVALID_ARGUMENT\): --raw-shape 1,1,1,1,1,1,1,1,1,1000: Too big: expected array to have <=8 items$/m);
    // a value refused for its length is not echoed whole
    const title = await fieldpack('--db', join(tmp.dir, 'title.db'), 'report', '1', '-o', join(tmp.dir, 'r.html'), '--title', 'x'.repeat(5000));
    expect(title.stderr).toMatch(/^error \(INVALID_ARGUMENT\): --title x{40}\.\.\. \(5000 characters\): Too big: expected string to have <=300 characters$/m);
    const db = await fieldpack('--db', tmp.dir, 'runs');
    expect(db.status).toBe(1);
    expect(db.stderr).toContain(`${tmp.dir} is a folder, not a database file: pass --db with a file's path (e.g. ${join(tmp.dir, 'fieldpack.db')})`);
  });

  it('inspect takes a file by its bytes, not its name (a NetCDF file named .fpk was refused as a stream); export names a --format it does not write', async () => {
    const nc = join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc4.nc');
    const named = join(tmp.dir, 'netcdf.fpk');
    writeFileSync(named, readFileSync(nc));
    const r = await fieldpack('inspect', named);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/^stream /m);
    const bad = await fieldpack('export', nc, '--format', 'xml', '-o', join(tmp.dir, 'out.xml'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--format xml: the formats are nc \(NetCDF-4\) and raw/);
  });

  it('a damaged chunk of a stream decoded by workers: exit 1 every time, the error names the file, and no progress follows it (it exited 13 or 1 by chance)', async () => {
    const nc = join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc4.nc');
    const stream = join(tmp.dir, 'chunks.fpk');
    const c = await fieldpack('compress', nc, '--var', 'forecast/wind', '--bound', 'rel:1e-4', '--param', 'chunkValues=1024', '-o', stream);
    expect(c.status, c.stderr).toBe(0);
    const bytes = readFileSync(stream);
    bytes[bytes.length - 20] ^= 0x5a;
    const damaged = join(tmp.dir, 'damaged.fpk');
    writeFileSync(damaged, bytes);
    for (let i = 0; i < 3; i++) {
      const d = await fieldpack('decompress', damaged, '-o', join(tmp.dir, 'damaged.f32'), '--workers', '2');
      expect(d.status).toBe(1);
      expect(d.stderr).toMatch(/error \(BAD_STREAM\): .*damaged\.fpk: /);
      expect(d.stderr.trimEnd().split('\n').at(-1)).toMatch(/^error \(BAD_STREAM\)/);
      expect(existsSync(join(tmp.dir, 'damaged.f32'))).toBe(false);
    }
  });

  it.skipIf(!haveFile(ferretFile('etopo5.cdf')))('Ctrl-C or SIGTERM while this thread codes alone (--workers 0): exit 130 or 143, nothing written (a cancel seen only after the coding ended wrote the stream and exited 0) (needs ferret-datasets)', async () => {
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      const out = join(tmp.dir, `cancelled-${signal}.fpk`);
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), 'compress', ferretFile('etopo5.cdf'), '--var', 'ROSE', '--bound', 'rel:1e-4', '--workers', '0', '-o', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      // once the coding has begun (its first progress line): the thread is busy until it ends
      child.stderr!.setEncoding('utf8').on('data', (t: string) => {
        if (!stderr.includes('%') && t.includes('%')) child.kill(signal);
        stderr += t;
      });
      const status = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
      expect(status, stderr).toBe(code);
      expect(stderr).toMatch(/error \(CANCELLED\)/);
      expect(existsSync(out)).toBe(false);
    }
  }, 60_000);

  it('options that would do nothing say so: a stream named as a data file, a mask asked of a stream that has none', async () => {
    const nc = join(ROOT, 'test', 'fixtures', 'data', 'synthetic_nc4.nc');
    const named = join(tmp.dir, 'looks-like.nc');
    const c = await fieldpack('compress', nc, '--var', 'ids', '--bound', 'rel:1e-3', '-o', named);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/note: .*looks-like\.nc will hold a Fieldpack stream, not nc data/);
    const d = await fieldpack('decompress', named, '-o', join(tmp.dir, 'lk.f64'), '--mask', join(tmp.dir, 'lk.mask'));
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/no mask written to .*lk\.mask: the stream has none/);
    expect(existsSync(join(tmp.dir, 'lk.mask'))).toBe(false);
    // with --overwrite over another stream's outputs, that stream's mask does not stay to pass for this one's (both ways of decoding)
    for (const streamed of ['--in-memory', '--streamed']) {
      writeFileSync(join(tmp.dir, 'lk.mask'), new Uint8Array(7));
      const again = await fieldpack('decompress', named, '-o', join(tmp.dir, 'lk.f64'), '--mask', join(tmp.dir, 'lk.mask'), '--overwrite', streamed);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/no mask written to .*lk\.mask: the stream has none \(every point is valid\); the file that was there removed/);
      expect(existsSync(join(tmp.dir, 'lk.mask')), streamed).toBe(false);
    }
  });

  it('Buffers read from disk, and views into one pooled buffer holding two streams, decode through the pool as in this thread', async () => {
    const files = golden.map((g) => readFileSync(join(GOLDEN, `${g}.fpk`)));
    for (const [i, file] of files.entries()) {
      const expected = readFileSync(join(GOLDEN, `${golden[i]}.expected.f32`));
      expect(inspectStream(file).header.chunks.length).toBeGreaterThan(1);
      const inThread = await decodeStream(file, { workers: 0 });
      expect(bytesOf(inThread.field.values).equals(expected)).toBe(true);
      expect(bytesOf((await decodeStream(file, { workers: 2 })).field.values).equals(expected)).toBe(true);
      // small Buffer.concat results live in Node's shared allocation pool: a view at an offset of a bigger buffer
      const other = files[(i + 1) % files.length]!;
      const both = Buffer.concat([other, file]);
      const view = both.subarray(other.length);
      expect(view.byteOffset + view.length).toBeLessThanOrEqual(view.buffer.byteLength);
      expect(view.buffer.byteLength).toBeGreaterThan(view.length);
      const pooled = await decodeStream(view, { workers: 2 });
      expect(bytesOf(pooled.field.values).equals(expected)).toBe(true);
      expect(Array.from(pooled.field.mask!)).toEqual(Array.from(inThread.field.mask!));
      expect(view.equals(file)).toBe(true);
    }
  });
});

describe('golden cross-field streams', () => {
  const anchor = f32(join(GOLDEN, 'crossfield.anchor.f32'));
  const target = f32(join(GOLDEN, 'crossfield.target.f32'));
  const mask = new Uint8Array(readFileSync(join(GOLDEN, 'crossfield.mask')));
  const tags = ['interp', 'weighted', 'interp-net'];

  /** The golden anchor as resolved dependencies: its hash is the placeholder the generator wrote ('golden-anchor'). */
  function resolvedFor(bytes: Uint8Array) {
    const info = inspectStream(bytes);
    expect(info.codec.id).toBe('crossfield');
    expect(info.dependencies).toEqual([{ kind: 'anchor', var: 'A', hash: 'golden-anchor' }]);
    expect(info.needs[0]).toMatch(/^anchor A /);
    const hash = (info.dependencies[0] as { hash: string }).hash;
    return { info, resolved: { anchors: { A: { values: anchor, shape: [...info.header.shape], hash } }, models: {}, bases: {} } };
  }

  function expectGolden(d: { field: Field }, expected: Buffer, abs: number, what: string) {
    expect(d.field.name).toBe('TG');
    expect(d.field.shape).toEqual([3, 20, 24]);
    expect(bytesOf(d.field.values).equals(expected), what).toBe(true);
    expect(Array.from(d.field.mask!)).toEqual(Array.from(mask));
    let over = 0;
    for (let i = 0; i < target.length; i++) if (mask[i] && !(Math.abs(target[i]! - d.field.values[i]!) <= abs)) over++;
    expect(over).toBe(0);
  }

  it('crossfield-interp.fpk (no network) decodes bit for bit through the codec service with the anchor given as resolved dependencies (0 and 2 workers, 0 and 2 inference threads, and rows)', async () => {
    const bytes = readFileSync(join(GOLDEN, 'crossfield-interp.fpk'));
    const expected = readFileSync(join(GOLDEN, 'crossfield-interp.expected.f32'));
    const { info, resolved } = resolvedFor(bytes);
    for (const [workers, threads] of [[0, 0], [2, 0], [0, 2]] as const) {
      expectGolden(await decodeStream(bytes, { resolved, workers, threads }), expected, info.header.bound.abs, `workers ${workers} threads ${threads}`);
    }
    const part = await decodeStream(bytes, { resolved, rows: [1, 3] });
    expect(bytesOf(part.field.values).equals(expected.subarray(1 * 480 * 4, 3 * 480 * 4))).toBe(true);
  });

  // FINDING: make-golden-crossfield wrote the placeholder 'golden-net' as the embedded network's sha256, and the
  // cross-field codec's decode checks that hash (BAD_STREAM). Until the two fixtures carry the real hash, the codec
  // service refuses them; the registered codec's decode, given an env whose hash answers the placeholder, is
  // checked bit for bit instead (same code path otherwise: workers, reference-path inference threads).
  for (const tag of ['weighted', 'interp-net']) {
    it(`crossfield-${tag}.fpk (embedded network): the service refuses its placeholder network hash naming it; the registered codec decodes it bit for bit with 0 and 2 workers, 0 and 2 inference threads`, async () => {
      const bytes = new Uint8Array(readFileSync(join(GOLDEN, `crossfield-${tag}.fpk`)));
      const expected = readFileSync(join(GOLDEN, `crossfield-${tag}.expected.f32`));
      const { info, resolved } = resolvedFor(bytes);
      expect((info.header.params.net as { hash: string }).hash).toBe('golden-net');
      await expect(decodeStream(bytes, { resolved })).rejects.toMatchObject({ code: 'BAD_STREAM', message: expect.stringMatching(/embedded network hashes to [0-9a-f]{16}\.\.\., the stream names golden-net/) });
      const codec = codecById('crossfield');
      for (const [workers, threads] of [[0, 0], [2, 0], [0, 2]] as const) {
        const env = codecEnv({ workers, threads });
        const placeholderHash = { ...env, hash: () => 'golden-net' };
        const d = await codec.decode({ header: info.header, bytes, rows: [0, 3], deps: resolved }, placeholderHash);
        expectGolden(d, expected, info.header.bound.abs, `${tag} workers ${workers} threads ${threads}`);
      }
    });
  }

  it('without the anchor the codec service and the fieldpack CLI refuse them naming anchor A (CLI exit 1)', async () => {
    const path = join(GOLDEN, 'crossfield-interp.fpk');
    await expect(decodeStream(readFileSync(path))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/needs its anchor A \(/) });
    const runs = await Promise.all(tags.map((tag) => fieldpack('decompress', join(GOLDEN, `crossfield-${tag}.fpk`), '-o', join(tmp.dir, `cf-${tag}.f32`))));
    for (const r of runs) {
      expect(r.status, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(/error \(NOT_FOUND\): this stream needs its anchor A \(reconstruction sha256 golden-anchor/);
    }
  });
});
