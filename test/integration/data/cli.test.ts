/** fieldpack inspect / export, called through their run() as the CLI does (no store). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliRunContext } from '../../../src-main/doors/cli/command.ts';
import { exportCommand, parseSlice } from '../../../src-main/doors/cli/commands/export.ts';
import { inspectCommand } from '../../../src-main/doors/cli/commands/inspect.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { EXPECTED, PYTHON, available, fixturePath, hasPythonNetcdf4 } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fieldpack-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ctx() {
  const out: string[] = [];
  const err: string[] = [];
  const c: CliRunContext = {
    io: { out: (l) => out.push(l), err: (l) => err.push(l), progress: () => {}, progressDone: () => {} },
    app: () => Promise.reject(new Error('inspect/export must not open the store')),
    globals: {},
  };
  return { c, out, err };
}

describe('fieldpack inspect', () => {
  for (const key of Object.keys(EXPECTED)) {
    it.skipIf(!available(key))(`works on ${key} (needs ${EXPECTED[key]!.path})`, async () => {
      const { c, out } = ctx();
      expect(inspectCommand.needsStore).toBe(false);
      expect(await inspectCommand.run([fixturePath(key)], c)).toBe(0);
      const text = out.join('\n');
      for (const [name, v] of Object.entries(EXPECTED[key]!.variables)) {
        if (v.readable && !(v.dims?.length === 1 && v.dims[0] === name)) expect(text).toContain(name);
      }
      if (key === 'etopo5') expect(text).toMatch(/ROSE: values lie on a grid of step 1 \(whole units\)/);
      if (key === 'wrf') {
        expect(text).toMatch(/staggered: averages onto/);
        // Time has no coordinate variable; XTIME, a CF time variable along it, dates it as the views do
        expect(text).toMatch(/^coordinates:\n {2}XTIME +\(Time\) +4 +minutes since 2005-08-28 00:00:00 +2005-08-28 12:00 \.\. 2005-08-28 21:00$/m);
      }
      if (key === 'coads') expect(text).toMatch(/^ {2}TIME +\(TIME\) +12 +hour since 0000-01-01 00:00:00 +0000-01-16 06:00 \.\. 0000-12-16 01:20:06 \(climatology, year 0\)$/m);
    });
  }

  it.skipIf(!available('coads'))('--var and --json (needs ferret-datasets)', async () => {
    const { c, out } = ctx();
    expect(await inspectCommand.run([fixturePath('coads'), '--var', 'SST', '--json'], c)).toBe(0);
    const d = JSON.parse(out.join('\n'));
    expect(d.fields.map((f: { name: string }) => f.name)).toEqual(['SST']);
    expect(d.fields[0].stats.validCount).toBe(EXPECTED['coads']!.variables['SST']!.shape!.reduce((a, b) => a * b, 1) - EXPECTED['coads']!.variables['SST']!.masked!);
  });

  it('the valid column counts finite unmasked values and names the NaN and +-Inf: an all-NaN field is 0 % valid, not 100', async () => {
    const p = join(dir, 'allnan.f32');
    writeFileSync(p, new Uint8Array(Float32Array.from({ length: 20 }, (_, i) => (i < 16 ? NaN : i === 16 ? Infinity : i)).buffer));
    writeFileSync(`${p}.json`, JSON.stringify({ shape: [4, 5], dtype: 'float32' }));
    const { c, out } = ctx();
    expect(await inspectCommand.run([p], c)).toBe(0);
    expect(out.join('\n')).toMatch(/15\.0% \(16 NaN, 1 \+Inf\)/);
  });

  it('names a fill value the file does not declare (land as -9999 in a temperature) and what it makes of a relative bound', async () => {
    const p = join(dir, 'sst9999.f32');
    const values = Float32Array.from({ length: 40 * 50 }, (_, i) => (i % 50 < 12 ? -9999 : 14 + 16 * Math.sin(i / 90)));
    writeFileSync(p, new Uint8Array(values.buffer));
    writeFileSync(`${p}.json`, JSON.stringify({ shape: [40, 50], dtype: 'float32' }));
    const { c, out } = ctx();
    expect(await inspectCommand.run([p], c)).toBe(0);
    expect(out.join('\n')).toMatch(/fill values the file does not declare\?[^\n]*\n {2}\S+: -9999 on 24\.0 % of the points, the others within -2 \.\. 30: rel 1e-4 then allows errors of 1\.0029, 3\.1 % of the others' range/);
  });

  it('--json writes a NaN fill value as "NaN" (JSON has no NaN; null would read as no fill)', async () => {
    const p = join(dir, 'nanfill.f32');
    writeFileSync(p, new Uint8Array(Float32Array.from({ length: 12 }, (_, i) => (i % 5 ? i : NaN)).buffer));
    writeFileSync(`${p}.json`, JSON.stringify({ shape: [3, 4], dtype: 'float32', fillValue: 'NaN' }));
    const { c, out } = ctx();
    expect(await inspectCommand.run([p, '--json'], c)).toBe(0);
    const d = JSON.parse(out.join('\n'));
    expect(d.fields[0].fill.fillValue).toBe('NaN');
  });

  it('errors name the file (non-zero exit comes from the thrown FieldpackError)', async () => {
    const p = join(dir, 'junk.nc');
    writeFileSync(p, 'junk');
    await expect(inspectCommand.run([p], ctx().c)).rejects.toMatchObject({ code: 'BAD_FILE', message: expect.stringContaining('junk.nc') });
    await expect(inspectCommand.run([fixturePath('synthetic_nc3'), '--var', 'nope'], ctx().c)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(inspectCommand.run([], ctx().c)).rejects.toThrow(/needs a FILE/);
    // a missing stream is said as a missing data file is (it read "cannot read (ENOENT)")
    for (const missing of [join(dir, 'nothere.nc'), join(dir, 'nothere.fpk')]) {
      await expect(inspectCommand.run([missing], ctx().c)).rejects.toMatchObject({ code: 'NOT_FOUND', message: `${missing}: no such file` });
    }
  });

  it('raw input with --raw-shape/--raw-dtype', async () => {
    const p = join(dir, 'ramp.f32');
    writeFileSync(p, new Uint8Array(Float32Array.from({ length: 60 }, (_, i) => i).buffer));
    const { c, out } = ctx();
    expect(await inspectCommand.run([p, '--raw-shape', '3,4,5', '--raw-dtype', 'float32'], c)).toBe(0);
    expect(out.join('\n')).toMatch(/ramp .*float32/);
    // --raw-endian alone was dropped without a word
    await expect(inspectCommand.run([p, '--raw-endian', 'big'], ctx().c)).rejects.toThrow(/--raw-endian goes with --raw-shape and --raw-dtype/);
    // a sidecar beside the file is its description: flags that would set it aside are refused (a big-endian file
    // read as little-endian made a stream of garbage)
    writeFileSync(`${p}.json`, JSON.stringify({ shape: [3, 4, 5], dtype: 'float32', endianness: 'big' }));
    await expect(inspectCommand.run([p, '--raw-shape', '3,4,5', '--raw-dtype', 'float32'], ctx().c)).rejects.toThrow(/ramp\.f32\.json describes its layout; give no raw layout/);
  });
});

describe('fieldpack export', () => {
  it('slices', () => {
    expect(parseSlice('0:2,:,5')).toEqual([[0, 2], undefined, [5, 6]]);
    expect(() => parseSlice('a:b')).toThrow(/--slice/);
  });

  it.skipIf(!available('coads'))('NetCDF-4 with coordinates and a slice (needs ferret-datasets)', async () => {
    const out = join(dir, 'airt.nc');
    const { c, out: lines } = ctx();
    expect(exportCommand.needsStore).toBe(false);
    expect(await exportCommand.run([fixturePath('coads'), '--var', 'AIRT', '-o', out, '--slice', '0:2'], c)).toBe(0);
    expect(lines.join('\n')).toMatch(/AIRT \[2x90x180\] NetCDF-4/);
    const back = await openDataFile(out);
    const f = await back.readField('AIRT');
    expect(f.shape).toEqual([2, 90, 180]);
    expect(f.attributes).toMatchObject({ units: 'DEG C', fieldpack_source_slice: '0:2' });
    expect(back.variable('TIME').shape).toEqual([2]);
    back.close();
    // an empty range says so (it was called outside the dimension)
    await expect(exportCommand.run([fixturePath('coads'), '--var', 'AIRT', '-o', join(dir, 'empty.nc'), '--slice', '2:2'], c)).rejects.toThrow(/slice \[2, 2\) of dimension TIME of "AIRT" is empty: give START:END with END > START \(e\.g\. 2:3/);
    const src = await openDataFile(fixturePath('coads'));
    const orig = await src.readField('AIRT', { slice: [[0, 2]] });
    expect(Array.from(f.values).map((x) => (Number.isNaN(x) ? null : x))).toEqual(Array.from(orig.values).map((x) => (Number.isNaN(x) ? null : x)));
  });

  it.skipIf(!available('coads') || !hasPythonNetcdf4())('netCDF4-python reads the exported slice (needs ferret-datasets and python3-netcdf4)', async () => {
    const out = join(dir, 'airt-py.nc');
    expect(await exportCommand.run([fixturePath('coads'), '--var', 'AIRT', '-o', out, '--slice', '0:2'], ctx().c)).toBe(0);
    const r = execFileSync(PYTHON, ['-c', 'import netCDF4,sys; d=netCDF4.Dataset(sys.argv[1]); v=d["AIRT"]; print(v.dimensions, v.shape, len(d["TIME"][:]))', out], { encoding: 'utf8' });
    expect(r.trim()).toBe("('TIME', 'COADSY', 'COADSX') (2, 90, 180) 2");
  });

  it('--fill NaN writes masked points as NaN, the sidecar says "NaN"', async () => {
    const out = join(dir, 'nanfill-out.f32');
    expect(await exportCommand.run([fixturePath('synthetic_nc3'), '--var', 'sst', '-o', out, '--fill', 'NaN'], ctx().c)).toBe(0);
    expect(JSON.parse(readFileSync(`${out}.json`, 'utf8')).fillValue).toBe('NaN');
    await expect(exportCommand.run([fixturePath('synthetic_nc3'), '--var', 'sst', '-o', out, '--fill', 'nope'], ctx().c)).rejects.toThrow(/--fill needs a number or NaN \(got "nope"\)/);
  });

  it('refuses a --dtype the raw file\'s name contradicts (x.f64 of float32 values)', async () => {
    await expect(exportCommand.run([fixturePath('synthetic_nc3'), '--var', 'sst', '-o', join(dir, 'x.f64'), '--dtype', 'float32'], ctx().c)).rejects.toThrow(/dtype float32 does not match the name x\.f64/);
  });

  it('raw output with sidecar, big endian float64; format from extension or --format', async () => {
    const out = join(dir, 'height.f64');
    expect(await exportCommand.run([fixturePath('synthetic_nc3'), '--var', 'height', '-o', out, '--endian', 'big', '--fill', '-9999'], ctx().c)).toBe(0);
    const back = await openDataFile(out);
    const f = await back.readField('height');
    expect(f.values).toBeInstanceOf(Float64Array);
    expect(f.mask?.filter((m) => m === 0).length).toBe(4);
    await expect(exportCommand.run([fixturePath('synthetic_nc3'), '--var', 'height', '-o', join(dir, 'x.out')], ctx().c)).rejects.toThrow(/--format nc or --format raw/);
    expect(await exportCommand.run([fixturePath('synthetic_nc3'), '--var', 'height', '-o', join(dir, 'x.out'), '--format', 'raw'], ctx().c)).toBe(0);
  });

  it('.fpk input is decompressed through the compression service', async () => {
    const { compressField } = await import('../../../src-main/services/compression/index.ts');
    const src = await openDataFile(fixturePath('synthetic_nc3'));
    const sst = await src.readField('sst');
    const res = await compressField(sst, { bound: { mode: 'abs', value: 0.01 } as never, metadata: { variable: 'sst', dims: sst.dims, units: sst.units } });
    const fpk = join(dir, 'sst.fpk');
    writeFileSync(fpk, res.bytes);
    const out = join(dir, 'sst_from_fpk.nc');
    expect(await exportCommand.run([fpk, '-o', out], ctx().c)).toBe(0);
    const back = await openDataFile(out);
    const f = await back.readField('sst');
    expect(f.dims).toEqual(['time', 'y', 'x']);
    expect(typeof f.attributes['fieldpack_codec']).toBe('string');
    for (let i = 0; i < f.values.length; i++) {
      expect(f.mask?.[i] ?? 1).toBe(sst.mask?.[i] ?? 1);
      if (sst.mask?.[i] !== 0) expect(Math.abs(f.values[i]! - sst.values[i]!)).toBeLessThanOrEqual(0.01 + 1e-6);
    }
    const { c, out: lines } = ctx();
    expect(await inspectCommand.run([fpk], c)).toBe(0);
    expect(lines.join('\n')).toMatch(/fpk/);
  });
});
