/**
 * NaN, +Inf and -Inf that are not the fill are values (issue 11 item 5): every reader keeps them valid
 * (mask 1) and bit for bit, only _FillValue / missing_value / valid_* points (and a NaN _FillValue's NaN
 * points) are masked; the compressor CLI brings them back exactly at abs:0 and rel:1e-3 (export to
 * NetCDF-4 and decompress to raw); the NetCDF-4 and raw writers keep them, read back by netCDF4-python.
 * Files are made with /usr/bin/python3 netCDF4: NetCDF-3 classic, NetCDF-4, raw .f32 + sidecar.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Field, FieldValues } from '../../../src-main/core/field.ts';
import { describeDataset } from '../../../src-main/services/data/describe.ts';
import { fieldHistogram, readSlice2D } from '../../../src-main/services/data/explore.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { writeFieldNetcdf4 } from '../../../src-main/services/data/writers/netcdf4.ts';
import { writeFieldRaw } from '../../../src-main/services/data/writers/raw.ts';
import { PYTHON, ROOT, hasPythonNetcdf4 } from './helpers.ts';

const run = promisify(execFile);
const CLI = join(ROOT, 'bin/fieldpack.mjs');
const dir = mkdtempSync(join(tmpdir(), 'fieldpack-nonfinite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Makes the files (mode "make DIR") or prints what netCDF4-python reads (mode "read FILE VAR"): dtype, mask, bits. */
const PY = String.raw`
import json, sys, netCDF4, numpy as np

def values(dt):
    a = np.linspace(-5, 5, 48).astype(dt)
    ui = 'u4' if dt == 'f4' else 'u8'
    a[0] = np.nan
    a[5] = np.copysign(np.nan, -1)                    # a negative NaN
    a.view(ui)[7] = 0x7fc00123 if dt == 'f4' else 0x7ff8000000000123  # a NaN with a payload
    a[10] = np.inf; a[20] = np.inf; a[11] = -np.inf; a[47] = np.nan
    return a.reshape(6, 8)

def view(path, name):
    d = netCDF4.Dataset(path)
    v = d.variables[name]
    a = np.ma.asarray(v[:])
    data = np.ascontiguousarray(np.ma.getdata(a)).ravel()
    ui = 'u4' if data.dtype.itemsize == 4 else 'u8'
    w = 8 if ui == 'u4' else 16
    out = {'dtype': str(v.dtype), 'format': d.data_model, 'mask': [0 if m else 1 for m in np.ma.getmaskarray(a).ravel()],
           'bits': [format(int(b), '0%dx' % w) for b in data.view(ui)],
           'attrs': {k: (str(v.getncattr(k)) if k == '_FillValue' else None) for k in v.ncattrs() if k == '_FillValue'}}
    d.close()
    return out

if sys.argv[1] == 'make':
    out = sys.argv[2]
    for fmt, fn in [('NETCDF3_CLASSIC', 'nc3.nc'), ('NETCDF4', 'nc4.nc')]:
        d = netCDF4.Dataset(out + '/' + fn, 'w', format=fmt)
        d.createDimension('y', 6); d.createDimension('x', 8)
        for name, dt, fill in [('f32', 'f4', None), ('f64', 'f8', None), ('withfill', 'f4', -999.0), ('nanfill', 'f4', np.nan)]:
            v = d.createVariable(name, dt, ('y', 'x'), fill_value=fill)
            v.set_auto_mask(False)
            a = values(dt)
            if name == 'withfill': a[4, 4] = -999; a[4, 5] = -999
            v[:] = a
        d.close()
    values('f4').tofile(out + '/raw.f32')
    json.dump({'shape': [6, 8], 'dtype': 'float32', 'endianness': 'little', 'name': 'rawvar'}, open(out + '/raw.f32.json', 'w'))
    values('f4').tofile(out + '/rawnan.f32')
    json.dump({'shape': [6, 8], 'dtype': 'float32', 'fillValue': 'NaN'}, open(out + '/rawnan.f32.json', 'w'))
    # what netCDF4-python reads, the reference
    ref = {f: {n: view(out + '/' + f, n) for n in ['f32', 'f64', 'withfill', 'nanfill']} for f in ['nc3.nc', 'nc4.nc']}
    print(json.dumps(ref))
else:
    print(json.dumps(view(sys.argv[2], sys.argv[3])))
`;

interface PyView {
  dtype: string;
  format: string;
  mask: number[];
  bits: string[];
  attrs: Record<string, string | null>;
}

function bitsOf(values: FieldValues | Float32Array | Float64Array): string[] {
  if (values instanceof Float32Array) return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length), (b) => b.toString(16).padStart(8, '0'));
  return Array.from(new BigUint64Array(values.buffer, values.byteOffset, values.length), (b) => b.toString(16).padStart(16, '0'));
}

function valueOfBits(hex: string): number {
  if (hex.length === 8) return new Float32Array(new Uint32Array([parseInt(hex, 16)]).buffer)[0]!;
  return new Float64Array(new BigUint64Array([BigInt('0x' + hex)]).buffer)[0]!;
}

/** The sign bit, also of a NaN. */
function signBit(x: number): number {
  return new Uint8Array(Float64Array.of(x).buffer)[7]! >> 7;
}

const maskOf = (f: Field) => Array.from({ length: f.values.length }, (_, i) => (f.mask ? f.mask[i]! : 1));

/** The reference: positions 0, 5, 7, 47 NaN (5 negative, 7 with a payload), 10 and 20 +Inf, 11 -Inf. */
const NAN_AT = [0, 5, 7, 47];
const POS_INF_AT = [10, 20];
const NEG_INF_AT = [11];
const FILL_AT = [36, 37]; // withfill: [4, 4], [4, 5]

let ref: Record<string, Record<string, PyView>>;
const ready = hasPythonNetcdf4();

function pyView(path: string, name: string): PyView {
  return JSON.parse(execFileSync(PYTHON, ['-c', PY, 'read', path, name], { encoding: 'utf8' }));
}

beforeAll(() => {
  if (!ready) return;
  ref = JSON.parse(execFileSync(PYTHON, ['-c', PY, 'make', dir], { encoding: 'utf8' }));
});

describe.skipIf(!ready)('non-finite values are values (needs python3-netcdf4)', () => {
  it('netCDF4-python itself: NaN / Inf valid, only _FillValue points masked (a NaN _FillValue masks NaN)', () => {
    for (const f of ['nc3.nc', 'nc4.nc']) {
      const r = ref[f]!;
      expect(r['f32']!.mask.every((m) => m === 1)).toBe(true);
      expect(r['f64']!.mask.every((m) => m === 1)).toBe(true);
      expect(r['withfill']!.mask.flatMap((m, i) => (m ? [] : [i]))).toEqual(FILL_AT);
      expect(r['nanfill']!.mask.flatMap((m, i) => (m ? [] : [i]))).toEqual(NAN_AT);
      expect(r['f32']!.bits[5]).toBe('ffc00000');
      expect(r['f32']!.bits[7]).toBe('7fc00123');
      expect(r['f64']!.bits[7]).toBe('7ff8000000000123');
    }
  });

  for (const [file, format] of [['nc3.nc', 'netcdf3-classic'], ['nc4.nc', 'netcdf4-hdf5']] as const) {
    it(`${format}: readField keeps NaN / +Inf / -Inf valid and bit for bit, masks only fill points`, async () => {
      const src = await openDataFile(join(dir, file));
      try {
        expect(src.format).toBe(format);
        for (const name of ['f32', 'f64', 'withfill', 'nanfill']) {
          const want = ref[file]![name]!;
          const field = await src.readField(name);
          expect(field.values.constructor, name).toBe(name === 'f64' ? Float64Array : Float32Array);
          expect(maskOf(field), `${name} mask`).toEqual(want.mask);
          const bits = bitsOf(field.values);
          for (let i = 0; i < bits.length; i++) if (want.mask[i] === 1) expect(bits[i], `${name}[${i}]`).toBe(want.bits[i]);
          if (name !== 'nanfill') {
            for (const i of NAN_AT) expect(Number.isNaN(field.values[i]), `${name}[${i}] NaN`).toBe(true);
            for (const i of POS_INF_AT) expect(field.values[i]).toBe(Infinity);
            for (const i of NEG_INF_AT) expect(field.values[i]).toBe(-Infinity);
          } else {
            for (const i of POS_INF_AT) expect(field.values[i]).toBe(Infinity);
          }
        }
        // a hyperslab too
        const rows = await src.readField('f32', { slice: [[1, 2]] });
        expect(maskOf(rows)).toEqual(Array(8).fill(1));
        expect(Array.from(rows.values).slice(2, 4)).toEqual([Infinity, -Infinity]);
      } finally {
        src.close();
      }
    });
  }

  it('raw .f32 with a sidecar: NaN / Inf valid and bit for bit; "fillValue": "NaN" masks the NaN points', async () => {
    const want = ref['nc3.nc']!['f32']!.bits;
    const raw = await openDataFile(join(dir, 'raw.f32'));
    const f = await raw.readField('rawvar');
    raw.close();
    expect(f.mask).toBeUndefined();
    expect(bitsOf(f.values)).toEqual(want);
    const rn = await openDataFile(join(dir, 'rawnan.f32'));
    const g = await rn.readField('rawnan');
    rn.close();
    expect(maskOf(g).flatMap((m, i) => (m ? [] : [i]))).toEqual(NAN_AT);
    expect(g.values[10]).toBe(Infinity);
    // a sidecar fill that is neither a number nor NaN / Infinity is refused
    writeFileSync(join(dir, 'badfill.f32'), readFileSync(join(dir, 'raw.f32')));
    writeFileSync(join(dir, 'badfill.f32.json'), JSON.stringify({ shape: [6, 8], dtype: 'float32', fillValue: 'none' }));
    await expect(openDataFile(join(dir, 'badfill.f32'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('describe / explore: stats over finite values, non-finite counted, fill fraction only the masked points', async () => {
    const d = await describeDataset([join(dir, 'nc4.nc')]);
    const byName = Object.fromEntries(d.fields.map((f) => [f.name, f]));
    const finite = (f: Field) => Array.from(f.values).filter((v, i) => Number.isFinite(v) && (!f.mask || f.mask[i] === 1));
    const src = await openDataFile(join(dir, 'nc4.nc'));
    for (const name of ['f32', 'f64', 'withfill', 'nanfill']) {
      const s = byName[name]!.stats;
      const fin = finite(await src.readField(name));
      expect(s.min, name).toBe(Math.min(...fin));
      expect(s.max, name).toBe(Math.max(...fin));
      expect(Number.isFinite(s.mean) && Number.isFinite(s.std)).toBe(true);
      expect(s.validCount).toBe(fin.length);
      expect(s.nonFinite, name).toEqual(name === 'nanfill' ? { nan: 0, posInf: 2, negInf: 1 } : { nan: 4, posInf: 2, negInf: 1 });
      expect(s.fillFraction, name).toBe(name === 'withfill' ? 2 / 48 : name === 'nanfill' ? 4 / 48 : 0);
      expect(s.count).toBe(s.validCount + s.nonFinite.nan + s.nonFinite.posInf + s.nonFinite.negInf + Math.round(s.fillFraction * s.count));
    }
    src.close();
    const sl = await readSlice2D(join(dir, 'nc4.nc'), 'f32');
    expect(sl.mask).toBeUndefined();
    expect(Number.isFinite(sl.min) && Number.isFinite(sl.max)).toBe(true);
    const h = await fieldHistogram(join(dir, 'nc4.nc'), 'f32', { bins: 8 });
    expect(h.validCount).toBe(48 - 7);
    expect(h.counts.every((c) => Number.isFinite(c))).toBe(true);
  });

  // compress -> export (NetCDF-4) and decompress (raw) through the CLI: its main() in this process for every
  // source and bound (a child process costs ~10 s of CPU to start), and bin/fieldpack.mjs itself for one
  const SOURCES = [
    ['nc3.nc', 'f32'],
    ['nc3.nc', 'f64'],
    ['nc3.nc', 'withfill'],
    ['nc4.nc', 'f32'],
    ['nc4.nc', 'f64'],
    ['nc4.nc', 'withfill'],
    ['nc4.nc', 'nanfill'],
    ['raw.f32', 'rawvar'],
  ] as const;

  async function roundTrip(file: string, name: string, bound: string, cli: (args: string[]) => Promise<void>, tag: string): Promise<void> {
    const src = join(dir, file);
    const fpk = join(dir, `${tag}.fpk`);
    const nc = join(dir, `${tag}.nc`);
    const f64 = name === 'f64';
    const raw = join(dir, `${tag}.${f64 ? 'f64' : 'f32'}`);
    const maskOut = join(dir, `${tag}.mask`);
    await cli(['compress', src, '--var', name, '--bound', bound, '-o', fpk]);
    await cli(['export', fpk, '-o', nc]);
    await cli(['decompress', fpk, '-o', raw, '--mask', maskOut]);
    const orig = await openDataFile(src);
    const o = await orig.readField(name);
    orig.close();
    const om = maskOf(o);
    const fin = Array.from(o.values).filter((v, i) => om[i] === 1 && Number.isFinite(v));
    const abs = bound === 'abs:0' ? 0 : 1e-3 * (Math.max(...fin) - Math.min(...fin));
    const py = pyView(nc, name);
    expect(py.dtype, tag).toBe(f64 ? 'float64' : 'float32');
    expect(py.mask, `${tag} NetCDF-4 mask`).toEqual(om);
    // a NaN _FillValue (xarray's default) survives the stream's metadata: masked points come back as NaN
    if (name === 'nanfill') expect(py.attrs['_FillValue'], tag).toBe('nan');
    const bytes = readFileSync(raw);
    const back = f64 ? new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    expect(back.length).toBe(48);
    // decompress writes the mask only for a stream with masked points
    expect(existsSync(maskOut) ? Array.from(readFileSync(maskOut)) : Array(48).fill(1), `${tag} decompress mask`).toEqual(om);
    for (const [where, got] of [['export', py.bits.map(valueOfBits)], ['decompress', Array.from(back)]] as const) {
      for (let i = 0; i < 48; i++) {
        if (om[i] !== 1) continue;
        const x = o.values[i]!;
        const y = got[i]!;
        if (Number.isNaN(x)) expect([Number.isNaN(y), signBit(y)], `${tag} ${where} [${i}] NaN and its sign`).toEqual([true, signBit(x)]);
        else if (!Number.isFinite(x)) expect(y, `${tag} ${where} [${i}]`).toBe(x);
        else expect(Math.abs(y - x), `${tag} ${where} [${i}]`).toBeLessThanOrEqual(abs);
      }
    }
    if (bound === 'abs:0') {
      // lossless: every valid point that is not NaN bit for bit (a NaN's payload is not part of the contract:
      // the codec's value lists keep it in a plain JS array, where V8 may quieten it)
      const ob = bitsOf(o.values);
      const rb = bitsOf(back);
      for (let i = 0; i < 48; i++) {
        if (om[i] !== 1 || Number.isNaN(o.values[i])) continue;
        expect(py.bits[i], `${tag} export bits [${i}]`).toBe(ob[i]);
        expect(rb[i], `${tag} decompress bits [${i}]`).toBe(ob[i]);
      }
    }
  }

  async function inProcess(args: string[]): Promise<void> {
    const { main } = await import('../../../src-main/doors/cli/main.ts');
    const status = await main([...args, ...(args[0] === 'export' ? [] : ['--workers', '0'])]);
    if (status !== 0) throw new Error(`fieldpack ${args.join(' ')} exited ${status}`);
  }

  for (const bound of ['abs:0', 'rel:1e-3'] as const) {
    it(`fieldpack compress --bound ${bound} / export / decompress: non-finite values come back exactly, finite ones within the bound`, async () => {
      for (const [file, name] of SOURCES) await roundTrip(file, name, bound, inProcess, `${file.replace('.', '_')}-${name}-${bound.replace(/[:.]/g, '_')}`);
    }, 300_000);
  }

  it('bin/fieldpack.mjs (child processes): the same round trip of a field with fill, NaN and Inf at abs:0', async () => {
    const env = { ...process.env, FIELDPACK_DB: join(dir, 'unused.db') };
    const child = async (args: string[]) => {
      await run(process.execPath, [CLI, ...args], { env, cwd: ROOT });
    };
    await roundTrip('nc4.nc', 'withfill', 'abs:0', child, 'child-withfill');
  }, 600_000);

  it('the NetCDF-4 and raw writers keep NaN / +Inf / -Inf (netCDF4-python and our readers read them back)', async () => {
    const src = await openDataFile(join(dir, 'nc4.nc'));
    for (const name of ['f32', 'f64', 'withfill', 'nanfill']) {
      const f = await src.readField(name);
      const om = maskOf(f);
      const ob = bitsOf(f.values);
      const nc = join(dir, `w-${name}.nc`);
      await writeFieldNetcdf4(f, nc);
      const py = pyView(nc, name);
      expect(py.mask, `${name} NetCDF-4 mask`).toEqual(om);
      for (let i = 0; i < 48; i++) if (om[i] === 1) expect(py.bits[i], `${name} NetCDF-4 [${i}]`).toBe(ob[i]);
      // the source's fill where it had one, NaN included (it masks only NaN points, none of them valid there); else,
      // where points are masked, a finite one: NaN values stay values
      if (name === 'nanfill') expect(py.attrs['_FillValue']).toBe('nan');
      else if (om.includes(0) || name === 'withfill') expect(Number.isFinite(Number(py.attrs['_FillValue']))).toBe(true);
      if (name === 'withfill') expect(Number(py.attrs['_FillValue'])).toBe(-999);

      for (const endianness of ['little', 'big'] as const) {
        const raw = join(dir, `w-${name}-${endianness}.${name === 'f64' ? 'f64' : 'f32'}`);
        await writeFieldRaw(f, raw, { endianness });
        const side = JSON.parse(readFileSync(`${raw}.json`, 'utf8'));
        const back = await openDataFile(raw);
        const g = await back.readField(back.variables[0]!.name);
        back.close();
        expect(maskOf(g), `${name} raw ${endianness} mask`).toEqual(om);
        const gb = bitsOf(g.values);
        for (let i = 0; i < 48; i++) if (om[i] === 1) expect(gb[i], `${name} raw ${endianness} [${i}]`).toBe(ob[i]);
        // masked points need a fill that is no valid value: NaN is one here, so the netCDF default fill
        if (name === 'withfill' || name === 'nanfill') expect(side.fillValue, name).toBe(name === 'withfill' ? Math.fround(9.969209968386869e36) : 'NaN');
        else expect(side.fillValue, name).toBeUndefined();
      }
    }
    src.close();
    // a raw fill that is also a valid value would turn values into fill: refused
    const f = await (await openDataFile(join(dir, 'nc4.nc'))).readField('f32');
    await expect(writeFieldRaw(f, join(dir, 'clash.f32'), { fillValue: NaN })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  }, 180_000);
});
