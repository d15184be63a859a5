/** Bad input: each case is a FieldpackError with a message naming the file and the problem. */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { loadH5wasm } from '../../../src-main/services/data/readers/h5.ts';
import { FIXTURES, WRF, available, fixturePath } from './helpers.ts';
import { describeDataset } from '../../../src-main/services/data/describe.ts';
import { closePools, compressField } from '../../../src-main/services/compression/index.ts';
import { npy, npz } from '../../helpers/numpy-files.ts';

const dir = mkdtempSync(join(tmpdir(), 'fieldpack-bad-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await closePools();
});

function write(name: string, data: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

async function expectError(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<FieldpackError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FieldpackError);
    const err = e as FieldpackError;
    expect(err.code, err.message).toBe(code);
    for (const re of patterns) expect(err.message).toMatch(re);
    return err;
  }
  throw new Error('expected an error');
}

describe('bad input', () => {
  it('missing file', async () => {
    await expectError(openDataFile(join(dir, 'nope.nc')), 'NOT_FOUND', /nope\.nc/, /no such file/);
  });

  it('not a NetCDF file (text, empty)', async () => {
    const p = write('notes.nc', 'hello, this is not NetCDF\n');
    const err = await expectError(openDataFile(p), 'BAD_FILE', /notes\.nc/, /not a NetCDF or HDF5 file/, /not recognised, 26 bytes/);
    expect(err.message).not.toMatch(/68 65 6c 6c|hello/); // never the file's content
    await expectError(openDataFile(write('empty.nc', '')), 'BAD_FILE', /empty\.nc/, /empty/);
    // a file named as a stream is said not to be one (it was said not to be NetCDF or HDF5)
    await expectError(openDataFile(write('empty.fpk', '')), 'BAD_FILE', /empty\.fpk: not a Fieldpack stream \(the file is empty; a stream starts "FPK\\x1a"\)/);
    // the HDF5 signature alone: cut short (it read "corrupt HDF5 superblock (version byte undefined)")
    await expectError(openDataFile(write('signature.h5', Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))), 'BAD_FILE', /signature\.h5: truncated: the file ends inside its HDF5 superblock \(8 bytes\)/);
  });

  it('files of formats it does not read (HDF4, GRIB, a compressed NetCDF) are named, with the step that makes them readable', async () => {
    const bytes = (magic: number[]) => Uint8Array.from([...magic, ...new Array(60).fill(7)]);
    await expectError(openDataFile(write('swath.hdf', bytes([0x0e, 0x03, 0x13, 0x01]))), 'BAD_FILE', /swath\.hdf: an HDF4 file \(64 bytes\)/, /h4toh5/);
    await expectError(openDataFile(write('gfs.grib2', bytes([0x47, 0x52, 0x49, 0x42, 0, 0, 0, 2]))), 'BAD_FILE', /gfs\.grib2: a GRIB file/, /cdo -f nc4 copy/);
    await expectError(openDataFile(write('sst.nc.gz', bytes([0x1f, 0x8b, 8, 0]))), 'BAD_FILE', /sst\.nc\.gz: a gzip-compressed file/, /gunzip/);
  });

  it('a CDF-5 header cut short, or with a type past nc_type 11, is refused naming the damage', async () => {
    // CDF-5 counts are 8 bytes: the record count alone takes them all
    await expectError(openDataFile(write('cdf5.nc', Uint8Array.from([0x43, 0x44, 0x46, 5, 0, 0, 0, 0]))), 'BAD_FILE', /cdf5\.nc/, /truncated or corrupt NetCDF-3 header/);
    const u32 = (x: number) => [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255];
    const u64 = (x: number) => [0, 0, 0, 0, ...u32(x)];
    const header = [0x43, 0x44, 0x46, 5, ...u64(0), ...u32(10), ...u64(1), ...u64(1), 0x78, 0, 0, 0, ...u64(4), ...u32(0), ...u64(0),
      ...u32(11), ...u64(1), ...u64(1), 0x76, 0, 0, 0, ...u64(1), ...u64(0), ...u32(0), ...u64(0), ...u32(12), ...u64(16), ...u64(200)];
    await expectError(openDataFile(write('cdf5_type.nc', Uint8Array.from(header))), 'BAD_FILE', /cdf5_type\.nc/, /corrupt NetCDF-3 header \(variable v has type 12 \(nc_type 1-11\)\)/);
  });

  it.skipIf(!available('coads'))('truncated NetCDF-3 (needs ferret-datasets)', async () => {
    const whole = readFileSync(fixturePath('coads'));
    const p = write('coads_trunc.cdf', whole.subarray(0, 1_000_000));
    await expectError(openDataFile(p), 'BAD_FILE', /coads_trunc\.cdf/, /truncated/, /1000000 bytes/);
    const q = write('coads_header_only.cdf', whole.subarray(0, 300));
    await expectError(openDataFile(q), 'BAD_FILE', /coads_header_only\.cdf/, /truncated or corrupt NetCDF-3 header/);
  });

  it.skipIf(!available('coads'))('corrupt NetCDF-3 header (needs ferret-datasets)', async () => {
    const whole = Uint8Array.from(readFileSync(fixturePath('coads')).subarray(0, 200_000));
    whole[11] = 0x07; // the NC_DIMENSION tag (0x0a) becomes garbage
    const p = write('coads_corrupt.cdf', whole);
    await expectError(openDataFile(p), 'BAD_FILE', /coads_corrupt\.cdf/, /corrupt NetCDF-3 header/, /dimensions/);
    // a dimension's length written negative (-5): said so, not as a file that needs 8.6 GB more
    const neg = Uint8Array.from(readFileSync(fixturePath('coads')).subarray(0, 200_000));
    const dv = new DataView(neg.buffer);
    const nameLength = dv.getUint32(16);
    dv.setInt32(20 + Math.ceil(nameLength / 4) * 4, -5);
    await expectError(openDataFile(write('coads_negative_dim.cdf', neg)), 'BAD_FILE', /coads_negative_dim\.cdf/, /corrupt NetCDF-3 header/, /has length -5 \(negative/);
  });

  it.skipIf(!available('coads'))('a NetCDF-3 variable on a dimension the header does not declare, or with the record dimension out of first place (needs ferret-datasets)', async () => {
    const whole = readFileSync(fixturePath('coads'));
    // SST's entry in the header: its name (length 3, "SST" padded to 4), 3 dims, then the ids TIME (2), COADSY, COADSX
    const at = Buffer.from(whole.subarray(0, 20_000)).indexOf(Buffer.from([0, 0, 0, 3, 0x53, 0x53, 0x54, 0, 0, 0, 0, 3, 0, 0, 0, 2]));
    expect(at).toBeGreaterThan(0);
    const ids = at + 12;
    const unknown = Uint8Array.from(whole);
    unknown[ids + 3] = 39;
    await expectError(openDataFile(write('coads_dim39.cdf', unknown)), 'BAD_FILE', /coads_dim39\.cdf/, /corrupt NetCDF-3 header/, /"SST" refers to dimension id 39/, /declares 3 dimensions/);
    const swapped = Uint8Array.from(whole);
    swapped[ids + 3] = 0;
    swapped[ids + 11] = 2;
    await expectError(openDataFile(write('coads_rec_last.cdf', swapped)), 'BAD_FILE', /coads_rec_last\.cdf/, /"SST" has the record \(unlimited\) dimension TIME in place 3/);
  });

  it.skipIf(!available('wrf'))('truncated HDF5 (needs the WRF Katrina file)', async () => {
    const p = write('wrf_trunc.nc', readFileSync(WRF).subarray(0, 100_000));
    await expectError(openDataFile(p), 'BAD_FILE', /wrf_trunc\.nc/, /truncated/, /HDF5 superblock/);
  });

  it.skipIf(!available('wrf'))('corrupt HDF5 (superblock, compressed data) (needs the WRF Katrina file)', async () => {
    const bytes = Uint8Array.from(readFileSync(WRF));
    const sb = Uint8Array.from(bytes);
    sb[8] = 9; // superblock version
    await expectError(openDataFile(write('wrf_badsb.nc', sb)), 'BAD_FILE', /wrf_badsb\.nc/, /corrupt HDF5 superblock/);
    // zero the second half of the file: object headers and deflated chunks there become garbage
    const half = Uint8Array.from(bytes);
    half.fill(0, Math.floor(bytes.length / 2), bytes.length - 16);
    const p = write('wrf_corrupt.nc', half);
    const err = await (async () => {
      try {
        const f = await openDataFile(p);
        for (const v of f.variables) if (v.readable) await f.readField(v.name);
        f.close();
      } catch (e) {
        return e as FieldpackError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(FieldpackError);
    expect(err!.code).toBe('BAD_FILE');
    expect(err!.message).toMatch(/wrf_corrupt\.nc/);
    expect(err!.message).toMatch(/HDF5: /);
  });

  it.skipIf(!available('wrf'))('a corrupt global heap (where NetCDF-4 keeps each variable\'s DIMENSION_LIST) is BAD_FILE, not the process run out of memory (needs the WRF Katrina file)', async () => {
    // a heap collection ("GCOL", version, 3 reserved bytes, then its 8-byte size) 255 bytes longer than written:
    // HDF5 fails to decode it, and h5wasm went on to build arrays of the garbage lengths it left
    const bytes = Uint8Array.from(readFileSync(WRF));
    const at = Buffer.from(bytes).indexOf('GCOL');
    expect(at).toBeGreaterThan(0);
    bytes[at + 8] = 0xff;
    await expectError(
      (async () => {
        const f = await openDataFile(write('wrf_badheap.nc', bytes));
        for (const v of f.variables) if (v.readable) await f.readField(v.name);
      })(),
      'BAD_FILE', /wrf_badheap\.nc/, /corrupt HDF5 global heap collection at byte \d+: object \d+ at offset \d+ is \d+ bytes, past the collection's end/,
    );
  });

  it.skipIf(!available('wrf'))('a global heap object of size 0 (HDF5 walks the collection by sizes and would never return) is BAD_FILE before HDF5 reads it (needs the WRF Katrina file)', async () => {
    // the first object of the first collection made free space (index 0) of 0 bytes: its walk stops advancing there
    const bytes = Uint8Array.from(readFileSync(WRF));
    const at = Buffer.from(bytes).indexOf('GCOL');
    bytes.fill(0, at + 16, at + 18);
    bytes.fill(0, at + 24, at + 32);
    await expectError(openDataFile(write('wrf_zeroobject.nc', bytes)), 'BAD_FILE', /wrf_zeroobject\.nc/, /global heap collection at byte \d+: object 0 at offset 16 is 0 bytes, which ends where it starts/);
  });

  it('an HDF5 file whose links make its groups a cycle (hard links back to a parent, soft links in a loop): each group is read once, no endless walk', async () => {
    const h5 = await loadH5wasm();
    for (const kind of ['hard', 'soft'] as const) {
      const p = join(dir, `cycle-${kind}.h5`);
      const f = new h5.File(p, 'w');
      const g = f.create_group('g') as unknown as { create_dataset: (a: object) => unknown; create_hard_link: (t: string, n: string) => void; create_soft_link: (t: string, n: string) => void };
      g.create_dataset({ name: 'v', data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3], dtype: '<f' });
      // three links back to the group in it: a walk that follows them branches three ways at every level
      for (const n of ['a', 'b', 'c']) (kind === 'hard' ? g.create_hard_link('/g', n) : g.create_soft_link('/g', n));
      f.close();
      const file = await openDataFile(p);
      expect(file.variables.map((v) => v.name)).toEqual(['g/v']);
      expect(Array.from((await file.readField('g/v')).values)).toEqual([1, 2, 3, 4, 5, 6]);
      file.close();
    }
  });

  it('an HDF5 file from h5py: a dataset behind a plugin filter (LZF), float16 and bool are skipped with their reason, the rest read (it failed whole on the LZF one)', async () => {
    const path = join(FIXTURES, 'h5py_kinds.h5');
    const d = await describeDataset([path]);
    expect(d.fields.map((f) => f.name)).toEqual(['deflated']);
    const reasons = Object.fromEntries(d.skipped.map((x) => [x.name, x.reason]));
    expect(reasons['lzf']).toMatch(/compressed with the HDF5 filter lzf \(id 32000\), which Fieldpack cannot decode/);
    expect(reasons['half']).toMatch(/16-bit float/);
    expect(reasons['flags']).toMatch(/enum/);
    const f = await openDataFile(path);
    await expectError(f.readField('lzf'), 'UNSUPPORTED', /h5py_kinds\.h5/, /"lzf" is compressed with the HDF5 filter lzf/);
    expect(Array.from((await f.readField('deflated')).values.subarray(0, 3))).toEqual([0, 1 / 7, 2 / 7].map(Math.fround));
    f.close();
  });

  it('damaged and crafted .npy / .npz files: BAD_FILE naming the problem, inflation held to the declared size', async () => {
    const a = npy(new Float32Array(64).fill(1.5), [8, 8]);
    await expectError(openDataFile(write('short.npy', a.subarray(0, 8))), 'BAD_FILE', /short\.npy/, /truncated \.npy header/);
    await expectError(openDataFile(write('cut.npy', a.subarray(0, a.length - 10))), 'BAD_FILE', /cut\.npy/, /truncated \.npy data/);
    const zip = npz({ a });
    await expectError(openDataFile(write('cut.npz', zip.subarray(0, zip.length - 30))), 'BAD_FILE', /cut\.npz/, /not a readable zip archive/);
    // the central directory entry's extra field runs past the end of the file
    const extra = Uint8Array.from(zip);
    const cd = Buffer.from(extra).lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    new DataView(extra.buffer).setUint16(cd + 30, 60_000, true);
    await expectError(openDataFile(write('extra.npz', extra)), 'BAD_FILE', /extra\.npz/, /corrupted zip central directory/);
    // 4 MB of zeros deflate to ~4 KB: declared as 100 bytes, inflation stops there; declared as 1 GB, deflate cannot make it
    const zeros = npy(new Float32Array(1 << 20), [1 << 20]);
    await expectError(openDataFile(write('bomb.npz', npz({ z: zeros }, { deflate: true, declaredSize: 100 }))), 'BAD_FILE', /bomb\.npz/, /z\.npy inflates to more than its declared 100 bytes/);
    await expectError(openDataFile(write('huge.npz', npz({ z: zeros }, { deflate: true, declaredSize: 1 << 30 }))), 'BAD_FILE', /huge\.npz/, /declares 1073741824 bytes, more than deflate can make/);
    // and the well-formed deflated archive reads
    const ok = await openDataFile(write('ok.npz', npz({ z: zeros }, { deflate: true })));
    expect((await ok.readField('z')).values.length).toBe(1 << 20);
  });

  it('raw: size mismatch, no shape given, unsupported dtype, bad sidecar', async () => {
    const p = write('field.f32', new Uint8Array(4 * 99));
    await expectError(openDataFile(p, { raw: { shape: [10, 10], dtype: 'float32' } }), 'BAD_FILE', /field\.f32/, /size mismatch/, /396 bytes/, /400 bytes/);
    await expectError(openDataFile(p), 'INVALID_ARGUMENT', /field\.f32/, /needs its shape and dtype/);
    write('field.f32.json', JSON.stringify({ shape: [99], dtype: 'int64' }));
    await expectError(openDataFile(p), 'UNSUPPORTED', /field\.f32\.json/, /unsupported dtype "int64"/);
    write('field.f32.json', '{ shape: oops');
    await expectError(openDataFile(p), 'BAD_FILE', /field\.f32\.json/, /not valid JSON/);
    // a key it does not read would have been a silent misreading: a big-endian file read as little endian
    write('field.f32.json', JSON.stringify({ shape: [9, 11], dtype: 'float32', byteOrder: 'big' }));
    await expectError(openDataFile(p), 'INVALID_ARGUMENT', /field\.f32\.json/, /unknown key "byteOrder" \(did you mean "endianness"\?\)/);
    // a repeated or reserved dimension name, a units that is not text: said, not met later as an internal error
    write('field.f32.json', JSON.stringify({ shape: [9, 11], dtype: 'float32', dims: ['x', 'x'] }));
    await expectError(openDataFile(p), 'INVALID_ARGUMENT', /field\.f32\.json/, /dims must be 2 different names/);
    write('field.f32.json', JSON.stringify({ shape: [9, 11], dtype: 'float32', dims: ['__proto__', 'constructor'] }));
    await expectError(openDataFile(p), 'INVALID_ARGUMENT', /field\.f32\.json/, /none empty or reserved/);
    write('field.f32.json', JSON.stringify({ shape: [9, 11], dtype: 'int8', fillValue: 1e30 }));
    await expectError(openDataFile(p), 'INVALID_ARGUMENT', /field\.f32\.json/, /fillValue 1e\+30 is not a int8 value/);
    // JSON's 1e400 is infinite (it was said as "fillValue null"); -0.0, as numpy writes a float fill, is the integer 0
    write('field.f32.json', '{"shape": [9, 11], "dtype": "int8", "fillValue": 1e400}');
    await expectError(openDataFile(p), 'INVALID_ARGUMENT', /field\.f32\.json/, /fillValue Infinity is not a int8 value/);
    write('field.f32.json', '{"shape": [9, 11], "dtype": "int32", "fillValue": -0.0}');
    (await openDataFile(p)).close();
    write('field.f32.json', JSON.stringify({ shape: [9, 11], dtype: 'float32', units: 5 }));
    await expectError(openDataFile(p), 'INVALID_ARGUMENT', /field\.f32\.json/, /units must be a string \(got 5\)/);
    // packing attributes: raw values are never unpacked (an export called them unpacked and doubled the valid range)
    write('field.f32.json', JSON.stringify({ shape: [9, 11], dtype: 'float32', attributes: { scale_factor: 2, add_offset: 1, valid_range: [0, 1] } }));
    await expectError(openDataFile(p), 'INVALID_ARGUMENT', /field\.f32\.json/, /attributes scale_factor, add_offset: raw values are read as stored, never unpacked/);
    // a list, and a shape past the largest double (JSON's 1e400), said as given
    write('field.f32.json', '[1, 2]');
    await expectError(openDataFile(p), 'INVALID_ARGUMENT', /field\.f32\.json/, /a raw file's description is an object with shape and dtype/);
    write('field.f32.json', '{"shape": [1e400], "dtype": "float32"}');
    await expectError(openDataFile(p), 'INVALID_ARGUMENT', /shape must be a non-empty list of positive integers \(got \[Infinity\]\)/);
    write('field.f32.json', JSON.stringify({ shape: [9, 11], dtype: 'float32' }));
    const f = await openDataFile(p);
    expect(f.variables[0]).toMatchObject({ name: 'field', shape: [9, 11], dims: ['dim0', 'dim1'] });
  });

  it.skipIf(!available('wrf'))('unsupported dtype and missing variable name the file and the variable (needs the WRF Katrina file)', async () => {
    const f = await openDataFile(WRF);
    await expectError(f.readField('Times'), 'UNSUPPORTED', /wrf_katrina\.nc/, /"Times"/, /char/);
    const err = await expectError(f.readField('TEMP'), 'NOT_FOUND', /wrf_katrina\.nc/, /no variable "TEMP"/);
    expect((err.details as { variables: string[] }).variables).toContain('T2');
    f.close();
  });

  it('a .fpk stream with bytes after its last chunk, or cut short, is BAD_STREAM as a data file too (export read two joined streams as the first)', async () => {
    const values = Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i / 50));
    const { bytes } = await compressField({ name: 'wave', shape: [64, 64], dims: ['y', 'x'], values, sourceDtype: 'float32', attributes: {} }, { bound: { mode: 'abs', value: 1e-3 } });
    const joined = new Uint8Array(2 * bytes.length);
    joined.set(bytes);
    joined.set(bytes, bytes.length);
    await expectError(openDataFile(write('joined.fpk', joined)), 'BAD_STREAM', /joined\.fpk/, new RegExp(`${bytes.length} unexpected bytes after the last chunk`));
    await expectError(openDataFile(write('cut.fpk', bytes.subarray(0, bytes.length - 10))), 'BAD_STREAM', /truncated stream: .*cut\.fpk holds/);
    const whole = await openDataFile(write('whole.fpk', bytes));
    expect(Array.from((await whole.readField('wave')).values).every((v, i) => Math.abs(v - values[i]!) <= 1e-3)).toBe(true);
  });

  it('a copy with another extension is still detected by its bytes', async () => {
    const p = join(dir, 'renamed.dat');
    copyFileSync(fixturePath('synthetic_nc3'), p);
    expect((await openDataFile(p)).format).toBe('netcdf3-64bit-offset');
  });
});
