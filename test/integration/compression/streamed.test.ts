/**
 * Bounded-memory compression (issue 14, part 5): a variable read and compressed slab by slab, decompressed chunk by
 * chunk. What a user checks: the stream is the very one the in-memory path writes (same bytes), it decodes to the
 * same values and mask either way, the bound holds, and what cannot go slab by slab says why. The memory itself is
 * measured by `fieldpack bench --large 4GiB` (BENCH.md), not here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp, type AppContext } from '../../../src-main/services/app-context.ts';
import { dispatch } from '../../../src-main/services/services.ts';
import { closePools } from '../../../src-main/services/compression/index.ts';
import { writeLargeNetcdf4 } from '../../../src-main/services/compression/bench-large.ts';
import { chunkGroups, fileSink, readStreamHead } from '../../../src-main/services/codecs/streamed.ts';
import type { StreamHeader } from '../../../src-main/core/codec/stream/format.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { writeNetcdf4Dataset } from '../../../src-main/services/data/writers/netcdf4.ts';
import { COADS, WRF_KATRINA, ferretFile } from '../../helpers/data-files.ts';
import { coastsField, roundedPatchField } from '../../helpers/crafted-fields.ts';
import { makeField } from '../../../src-main/services/codecs/fuzz-corpus.ts';

const tmp = tempDir();
let app: AppContext;
const call = <T>(method: string, input: unknown) => dispatch(app.services, method, input) as Promise<T>;
interface Compressed { bytes: number; chose: Record<string, unknown>; verification: { pointsOverBound: number; maxErrorOverBound: number } | null }

/** A static map over 12 time steps (a terrain height in a file of many times), masked: its chunks are joined. */
const STATIC = join(tmp.dir, 'static.nc');
/** Coasts away from an open-ocean centre (land as 0): the blocks spread over the field propose the coding that wins. */
const COASTS = join(tmp.dir, 'coasts.nc');
/** A field rounded to 0.01 but for a frame, the sample inside: every chunk coded off the grid, the header without it. */
const FRAME = join(tmp.dir, 'frame.nc');
/** Coasts whose land is -9999, no fill declared: coded as a mask (an implicit fill), decoded without one. */
const LAND9999 = join(tmp.dir, 'land9999.nc');
/** Levels each on a 0.25 grid of their own offset (GRIB messages): a grid of slices, each chunk with its offsets. */
const GRIB_LEVELS = join(tmp.dir, 'grib-levels.nc');

beforeAll(async () => {
  app = createApp({ dbPath: join(tmp.dir, 's.db'), door: 'cli' });
  const map = Float32Array.from({ length: 100 * 120 }, (_, i) => 300 * Math.sin(i / 700) + 40 * Math.cos(i % 120 / 9));
  const values = new Float32Array(12 * map.length);
  const mask = new Uint8Array(values.length);
  for (let t = 0; t < 12; t++) {
    values.set(map, t * map.length);
    for (let k = 0; k < map.length; k++) mask[t * map.length + k] = map[k]! > -200 ? 1 : 0;
  }
  await writeNetcdf4Dataset(STATIC, {
    dimensions: [{ name: 'Time', size: 12 }, { name: 'y', size: 100 }, { name: 'x', size: 120 }],
    coordinates: {},
    variables: [{ field: { name: 'HGT', dims: ['Time', 'y', 'x'], shape: [12, 100, 120], values, mask, sourceDtype: 'float32', attributes: { units: 'm' } } }],
  });
  const coasts = coastsField([12, 160, 320]);
  await writeNetcdf4Dataset(COASTS, {
    dimensions: [{ name: 'z', size: 12 }, { name: 'y', size: 160 }, { name: 'x', size: 320 }],
    coordinates: {},
    variables: [{ field: coasts }],
  });
  await writeNetcdf4Dataset(LAND9999, {
    dimensions: [{ name: 'z', size: 12 }, { name: 'y', size: 160 }, { name: 'x', size: 320 }],
    coordinates: {},
    variables: [{ field: { ...coastsField([12, 160, 320], -9999), name: 'SALT9999' } }],
  });
  await writeNetcdf4Dataset(GRIB_LEVELS, {
    dimensions: [{ name: 'lev', size: 16 }, { name: 'lat', size: 64 }, { name: 'lon', size: 64 }],
    coordinates: {},
    variables: [{ field: { ...makeField('T', [16, 64, 64], { step: 0.25, sliceOffsets: true, noise: 2, seed: 71 }), dims: ['lev', 'lat', 'lon'] } }],
  });
  const frame = roundedPatchField([12, 160, 160], 24, 136, 0.01);
  await writeNetcdf4Dataset(FRAME, {
    dimensions: [{ name: 'z', size: 12 }, { name: 'y', size: 160 }, { name: 'x', size: 160 }],
    coordinates: {},
    variables: [{ field: { ...frame, dims: ['z', 'y', 'x'] } }],
  });
});
afterAll(async () => {
  await app?.close();
  await closePools();
  tmp.cleanup();
});

describe('compressing and decompressing slab by slab', () => {
  // 1 worker: this thread also encodes and decodes chunks where the machine has a second core; 2: the workers alone
  const cases: [string, string, string, number, string?][] = [
    ['COADS SST (land mask, 3D)', COADS, 'SST', 1],
    ['WRF T (4D)', WRF_KATRINA, 'T', 2],
    ['ocean atlas TEMP (4D, masked)', ferretFile('ocean_atlas_subset.nc'), 'TEMP', 1],
    // its plan hedged (ClassicPlan.hedged): the middle chunk read and coded both ways before the others
    ['COADS SLP (hedged plan, 3D)', COADS, 'SLP', 2],
    // a field of 4 x its sample or more: the blocks spread over it read slab by slab too (their proposal wins on the
    // middle chunk, coded both ways first, and the others take it)
    ['coasts away from an open-ocean centre (spread blocks, 3D)', COASTS, 'SALT', 2],
    // the plan's grid (the sample's) left chunk by chunk: each coded off it
    ['a rounded field in an unrounded frame (chunks off the grid)', FRAME, 'T', 1],
    // each chunk's slice offsets found in its own rows
    ['levels each on a grid of their own offset (a grid of slices)', GRIB_LEVELS, 'T', 2],
    // its -9999 coded as a mask that only the spread blocks see (the centre is open ocean), each chunk's made from its rows
    ['land written as -9999, undeclared (an implicit fill)', LAND9999, 'SALT9999', 2],
    // shape chunks of 1 or 2 steps, all repeating the step before them: joined (joinRepeatingChunks)
    ['a static masked map over 12 steps (chunks joined)', STATIC, 'HGT', 2],
    // effort fast: its plan from a smaller block, the slab's crop of the same rows
    ['COADS SST with the fast preset', COADS, 'SST', 1, 'fast'],
    ['WRF T (4D) with the fast preset', WRF_KATRINA, 'T', 2, 'fast'],
  ];
  cases.forEach(([name, file, variable, workers, codec = 'auto'], index) => {
    // output files by variable (a later test reads SST's), numbered where a variable comes again
    const tag = cases.findIndex((c) => c[2] === variable) === index ? variable : `${variable}-${index}`;
    it(`${name}, ${workers} worker(s): the same stream as in memory, decoded to the same values and mask`, async () => {
      const common = { file, variable, bound: { mode: 'rel', value: 1e-4 }, codec, params: { chunkValues: 30000 }, workers };
      const a = join(tmp.dir, `${tag}-mem.fpk`);
      const b = join(tmp.dir, `${tag}-rows.fpk`);
      await call('streams.compress', { ...common, out: a, streamed: false });
      const r = await call<Compressed>('streams.compress', { ...common, out: b, streamed: true });
      expect(r.chose.streamed).toBe(true);
      expect(r.verification!.pointsOverBound).toBe(0);
      expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
      // 8 chunks by the shape (1 or 2 steps of 12,000 values), joined up to twice the chunk size (60,000 values)
      if (file === STATIC) expect((await readStreamHead(b)).header.chunks.map((c) => c.rows)).toEqual([4, 5, 3]);
      if (file === LAND9999) expect((await readStreamHead(b)).header.implicitFill).toBe(true);
      if (file === GRIB_LEVELS) expect((await readStreamHead(b)).header.params.grid).toEqual([0, 0.25, 0, 1]);
      const mem = { out: join(tmp.dir, `${tag}-mem.f32`), maskOut: join(tmp.dir, `${tag}-mem.mask`) };
      const rows = { out: join(tmp.dir, `${tag}-rows.f32`), maskOut: join(tmp.dir, `${tag}-rows.mask`) };
      const dm = await call<{ maskOut: string | null }>('streams.decompress', { file: b, ...mem, workers, streamed: false });
      const dr = await call<{ maskOut: string | null; shape: number[] }>('streams.decompress', { file: b, ...rows, workers, streamed: true });
      expect(readFileSync(rows.out).equals(readFileSync(mem.out))).toBe(true);
      expect(dr.maskOut !== null).toBe(dm.maskOut !== null);
      // the file declared no fill: none comes back, and -9999 is exact
      if (file === LAND9999) {
        expect(dm.maskOut).toBeNull();
        const back = new Float32Array(readFileSync(rows.out).buffer.slice(0));
        const land = coastsField([12, 160, 320], -9999).values;
        expect(land.every((v, i) => v !== -9999 || back[i] === -9999)).toBe(true);
      }
      if (dm.maskOut) expect(readFileSync(rows.maskOut).equals(readFileSync(mem.maskOut))).toBe(true);
    });
  });

  it('a NetCDF-4 variable written slab by slab (the bench\'s large case, small here) round-trips within the bound', async () => {
    const src = join(tmp.dir, 'large.nc');
    await writeLargeNetcdf4(src, [6, 1024, 1024]);
    const out = join(tmp.dir, 'large.fpk');
    const r = await call<Compressed>('streams.compress', { file: src, variable: 'T', bound: { mode: 'abs', value: 0.01 }, workers: 2, out, streamed: true });
    expect(r.verification!.pointsOverBound).toBe(0);
    expect(r.verification!.maxErrorOverBound).toBeLessThanOrEqual(1);
    expect(r.bytes).toBeLessThan((6 * 1024 * 1024 * 4) / 10);
  });

  it('what cannot go slab by slab is refused with the reason; a truncated stream is named', async () => {
    const base = { file: COADS, variable: 'SST', workers: 1, out: join(tmp.dir, 'x.fpk'), streamed: true };
    await expect(call('streams.compress', { ...base, bound: { mode: 'psnr', value: 60 } })).rejects.toThrow(/psnr target is met by measuring the whole decoded field/);
    await expect(call('streams.compress', { ...base, bound: { mode: 'rel', value: 1e-3 }, codec: 'lbrc' })).rejects.toThrow(/cannot compress slab by slab/);
    await expect(call('streams.compress', { ...base, bound: { mode: 'rel', value: 1e-3 }, codec: 'crossfield', params: { anchors: ['AIRT'] } })).rejects.toThrow(/takes no anchors and no base/);
    const good = join(tmp.dir, 'SST-rows.fpk');
    const cut = join(tmp.dir, 'cut.fpk');
    const bytes = readFileSync(good);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    await expect(call('streams.decompress', { file: cut, out: join(tmp.dir, 'cut.f32'), streamed: true })).rejects.toThrow(/truncated stream/);
    // a stream that is not there, through the service (the workbench's and the browser's door): said as the CLI says it
    const gone = join(tmp.dir, 'gone.fpk');
    for (const streamed of [true, false]) {
      await expect(call('streams.decompress', { file: gone, out: join(tmp.dir, 'gone.f32'), streamed })).rejects.toMatchObject({ code: 'NOT_FOUND', message: `${gone}: no such file` });
    }
  });

  it('a chunk damaged past the first groups: the decode stops naming it and leaves no output, the next group decoding', async () => {
    const good = join(tmp.dir, 'SST-rows.fpk');
    const damaged = join(tmp.dir, 'damaged.fpk');
    const bytes = Buffer.from(readFileSync(good));
    const { header } = await readStreamHead(good);
    expect(header.chunks.length).toBeGreaterThan(4);
    const c = header.chunks[header.chunks.length - 2]!;
    bytes[c.offset + (c.storedBytes >> 1)]! ^= 0x55;
    writeFileSync(damaged, bytes);
    const out = join(tmp.dir, 'damaged.f32');
    await expect(call('streams.decompress', { file: damaged, out, workers: 1, streamed: true })).rejects.toThrow(/checksum|corrupted/i);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a streamed output on a full disk', () => {
  it.runIf(existsSync('/dev/full'))('a write that fails (no space left) rejects the write and the end, not an unhandled error event that ended the process', async () => {
    const full = fileSink('/dev/full');
    const block = new Uint8Array(1 << 20);
    const writes = (async () => {
      for (let i = 0; i < 4; i++) await full.write(block);
      await full.end();
    })();
    await expect(writes).rejects.toMatchObject({ code: 'ENOSPC' });
    full.destroy();
  });
});

describe('chunk groups of a streamed decode', () => {
  const header = (rows: number[], rowSize: number) => ({ shape: [rows.reduce((a, b) => a + b, 0), rowSize], chunks: rows.map((r) => ({ rows: r })) }) as unknown as StreamHeader;
  it('one chunk at a time without workers; two a worker and one for this thread with them; within the value cap', () => {
    expect(chunkGroups(header([2, 2, 2], 10), 0)).toEqual([{ first: 0, last: 0, values: 20 }, { first: 1, last: 1, values: 20 }, { first: 2, last: 2, values: 20 }]);
    expect(chunkGroups(header([2, 2, 2, 2, 2, 1], 10), 1)).toEqual([{ first: 0, last: 2, values: 60 }, { first: 3, last: 5, values: 50 }]);
    expect(chunkGroups(header([1, 1, 1, 1, 1, 1, 1], 10), 2)).toEqual([{ first: 0, last: 4, values: 50 }, { first: 5, last: 6, values: 20 }]);
    // chunks of 2^23 values: two fit the cap of 2^24, a third does not; a chunk above the cap goes alone
    expect(chunkGroups(header([8, 8, 8], 1 << 20), 4)).toEqual([{ first: 0, last: 1, values: 1 << 24 }, { first: 2, last: 2, values: 1 << 23 }]);
    expect(chunkGroups(header([32, 1], 1 << 20), 4)).toEqual([{ first: 0, last: 0, values: 1 << 25 }, { first: 1, last: 1, values: 1 << 20 }]);
  });
});
