/**
 * The codec contract from the outside: a toy codec (test/fixtures/toy-codec, registered here with registerCodec,
 * never in the app) goes through every path a registered codec gets without any other file naming it: the codec
 * service (encodeField / decodeStream / inspectStream), the API's stream methods through dispatch (streams.codecs /
 * compress / decompress / inspect), the CLI's compress command (--codec toy). Unregistered, its streams are
 * refused with UNSUPPORTED naming the codec, in this process and by the real `fieldpack` CLI.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCodecs, registerCodec, unregisterCodec } from '../../../src-main/core/compressors/index.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { closePools, decodeStream, encodeField, inspectStream } from '../../../src-main/services/codecs/index.ts';
import { dispatch, storelessServices } from '../../../src-main/services/services.ts';
import { compressCommand } from '../../../src-main/doors/cli/commands/compress.ts';
import { COADS, haveFile } from '../../helpers/data-files.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { TOY_CODEC_ID, toyQuantizeCodec } from '../../fixtures/toy-codec/index.ts';
import { field as readField, overBound } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const haveCoads = haveFile(COADS);
const tmp = tempDir('fieldpack-toy-');
const services = storelessServices();
const api = (method: string, input: unknown) => dispatch(services, method, input) as Promise<Record<string, any>>;

beforeAll(() => registerCodec(toyQuantizeCodec));
afterAll(async () => {
  unregisterCodec(TOY_CODEC_ID);
  await closePools();
  tmp.cleanup();
});

/** A smooth masked float32 field with a NaN and an infinity among the valid points. */
function synthetic(): Field {
  const shape = [20, 30];
  const n = 600;
  const values = new Float32Array(n);
  const mask = new Uint8Array(n).fill(1);
  for (let i = 0; i < 20; i++) for (let j = 0; j < 30; j++) values[i * 30 + j] = 10 * Math.sin(i / 3) * Math.cos(j / 5) + 0.01 * i * j;
  for (let k = 0; k < n; k += 17) {
    mask[k] = 0;
    values[k] = -1e34;
  }
  values[5] = NaN;
  values[301] = Infinity;
  return { name: 'toyvar', shape, dims: ['y', 'x'], values, mask, sourceDtype: 'float32', units: 'm', attributes: { long_name: 'toy field' } };
}

function rangeOf(f: Pick<Field, 'values' | 'mask'>): number {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < f.values.length; i++) {
    const x = f.values[i]!;
    if ((f.mask && !f.mask[i]) || !Number.isFinite(x)) continue;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  return max - min;
}

const f32 = (p: string) => {
  const b = readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

describe('a toy codec through the codec contract', () => {
  const src = synthetic();
  let bytes: Uint8Array;

  it('encodeField(field, {codec: "toy"}) then decodeStream round-trips within the bound, masked points and non-finite values kept', async () => {
    const r = await encodeField(src, { codec: 'toy', bound: { mode: 'rel', value: 1e-3 }, metadata: { variable: 'toyvar', units: 'm', dims: ['y', 'x'], attributes: { long_name: 'toy field' } } });
    bytes = r.bytes;
    expect(r.codec).toBe(TOY_CODEC_ID);
    expect(r.params).toEqual({});
    const abs = 1e-3 * rangeOf(src);
    expect(r.bound.abs).toBeCloseTo(abs, 12);
    expect(r.verification!.pointsOverBound).toBe(0);
    for (const workers of [0, 2]) {
      const d = await decodeStream(bytes, { workers });
      expect(d.header.codec).toBe(TOY_CODEC_ID);
      expect(d.field).toMatchObject({ name: 'toyvar', shape: [20, 30], dims: ['y', 'x'], units: 'm', attributes: { long_name: 'toy field' } });
      expect(d.field.values).toBeInstanceOf(Float32Array);
      expect(Array.from(d.field.mask!)).toEqual(Array.from(src.mask!));
      expect(overBound(src.values, d.field.values, src.mask, r.bound.abs)).toBe(0);
      expect(d.field.values[5]).toBeNaN();
      expect(d.field.values[301]).toBe(Infinity);
    }
    // rows along the first dimension
    const part = await decodeStream(bytes, { rows: [4, 9] });
    const whole = await decodeStream(bytes);
    expect(part.field.shape).toEqual([5, 30]);
    expect(Array.from(part.field.values)).toEqual(Array.from(whole.field.values.subarray(4 * 30, 9 * 30)));
    // a bound of 0 is lossless
    const lossless = await encodeField(src, { codec: 'toy', bound: { mode: 'abs', value: 0 } });
    const back = (await decodeStream(lossless.bytes)).field.values;
    for (let i = 0; i < src.values.length; i++) if (src.mask![i]) expect(Object.is(back[i], src.values[i]) || (Number.isNaN(back[i]) && Number.isNaN(src.values[i]))).toBe(true);
  });

  it('inspectStream names it, with no dependencies; its params are checked by its schema', async () => {
    const s = inspectStream(bytes);
    expect(s.codec).toEqual({ id: TOY_CODEC_ID, label: 'Toy quantizer' });
    expect(s.dependencies).toEqual([]);
    expect(s.needs).toEqual([]);
    expect(s.summary.step).toBeCloseTo(2 * s.header.bound.abs, 12);
    // the codec id works like its preset; params outside the (empty, strict) schema are refused naming the codec
    expect((await encodeField(src, { codec: TOY_CODEC_ID, bound: { mode: 'abs', value: 0.1 } })).codec).toBe(TOY_CODEC_ID);
    const err = await encodeField(src, { codec: 'toy', params: { radius: 3 }, bound: { mode: 'abs', value: 0.1 } }).catch((e) => e);
    expect(err).toBeInstanceOf(FieldpackError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(TOY_CODEC_ID);
  });

  it('streams.codecs (API dispatch) lists it with its preset and params schema, beside classic and crossfield', async () => {
    const list = (await dispatch(services, 'streams.codecs', {})) as { id: string; presets: { name: string }[]; needsDependencies: boolean; paramsSchema: Record<string, unknown> }[];
    const ids = list.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['classic', 'crossfield', TOY_CODEC_ID]));
    const toy = list.find((c) => c.id === TOY_CODEC_ID)!;
    expect(toy.presets.map((p) => p.name)).toEqual(['toy']);
    expect(toy.needsDependencies).toBe(false);
    expect(toy.paramsSchema.type).toBe('object');
    expect(toy.paramsSchema.properties ?? {}).toEqual({});
  });

  it.skipIf(!haveCoads)('streams.compress / streams.inspect / streams.decompress (the CLI-facing API) and the compress command work with it on COADS SST (needs ferret-datasets)', async () => {
    const out = join(tmp.dir, 'sst-toy.fpk');
    const c = await api('streams.compress', { file: COADS, variable: 'SST', bound: { mode: 'rel', value: 1e-3 }, codec: 'toy', out });
    expect(c).toMatchObject({ out, codec: TOY_CODEC_ID, shape: [12, 90, 180], lossless: false });
    expect(c.verification.pointsOverBound).toBe(0);
    expect(c.compressionRatio).toBeGreaterThan(1);
    const info = await api('streams.inspect', { file: out });
    expect(info).toMatchObject({ codec: TOY_CODEC_ID, codecLabel: 'Toy quantizer', variable: 'SST', shape: [12, 90, 180], dependencies: [], needs: [] });

    const sst = await readField(COADS, 'SST');
    for (const workers of [0, 2]) {
      const raw = join(tmp.dir, `sst-toy-${workers}.f32`);
      const maskOut = join(tmp.dir, `sst-toy-${workers}.mask`);
      const d = await api('streams.decompress', { file: out, out: raw, workers, maskOut });
      expect(d).toMatchObject({ variable: 'SST', dtype: 'float32', shape: [12, 90, 180], rows: [0, 12], maskOut });
      const rec = f32(raw);
      expect(rec.length).toBe(sst.values.length);
      expect(Array.from(readFileSync(maskOut))).toEqual(Array.from(sst.mask!));
      expect(overBound(sst.values, rec, sst.mask, c.absBound)).toBe(0);
      expect(c.absBound).toBeCloseTo(1e-3 * rangeOf(sst), 9);
    }
    expect(readFileSync(join(tmp.dir, 'sst-toy-0.f32')).equals(readFileSync(join(tmp.dir, 'sst-toy-2.f32')))).toBe(true);

    // the CLI's compress command offers it (--codecs) and writes it (--codec toy)
    const lines: string[] = [];
    const ctx = { io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), progress: () => {}, progressDone: () => {} }, app: async () => { throw new Error('no store'); }, globals: {} };
    expect(await compressCommand.run(['--codecs'], ctx)).toBe(0);
    expect(lines.join('\n')).toMatch(/toy-quantize: .*\n\s+toy\s/);
    const cliOut = join(tmp.dir, 'airt-toy.fpk');
    expect(await compressCommand.run([COADS, '--var', 'AIRT', '--bound', 'abs:0.05', '--codec', 'toy', '--workers', '0', '-o', cliOut], ctx)).toBe(0);
    expect(lines.join('\n')).toMatch(/codec toy-quantize/);
    expect(inspectStream(new Uint8Array(readFileSync(cliOut))).codec.id).toBe(TOY_CODEC_ID);
  });

  it('unregistered, its streams are refused with UNSUPPORTED naming the codec (here, and by the fieldpack CLI, which never registered it)', async () => {
    const path = join(tmp.dir, 'toy.fpk');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, bytes);
    unregisterCodec(TOY_CODEC_ID);
    try {
      expect(listCodecs().map((c) => c.id)).not.toContain(TOY_CODEC_ID);
      for (const attempt of [() => decodeStream(bytes), async () => inspectStream(bytes), () => api('streams.decompress', { file: path, out: join(tmp.dir, 'toy.f32') })]) {
        const e = await attempt().catch((x) => x);
        expect(e).toBeInstanceOf(FieldpackError);
        expect(e.code).toBe('UNSUPPORTED');
        expect(e.message).toContain(`codec "${TOY_CODEC_ID}" is not known`);
      }
      // an unknown codec choice for encoding is an invalid argument naming it
      await expect(encodeField(src, { codec: 'toy', bound: { mode: 'abs', value: 0.1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('unknown codec "toy"') });
    } finally {
      registerCodec(toyQuantizeCodec);
    }
    const cli = spawnSync(process.execPath, [join(ROOT, 'bin/fieldpack.mjs'), 'decompress', path, '-o', join(tmp.dir, 'toy-cli.f32')], { encoding: 'utf8', timeout: 60_000 });
    expect(cli.status, cli.stderr).toBe(1);
    expect(cli.stderr).toContain(`error (UNSUPPORTED): codec "${TOY_CODEC_ID}" is not known`);
  });
});
