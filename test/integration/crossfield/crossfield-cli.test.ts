/**
 * A cross-field stream as a CLI user makes and reads it (the real `fieldpack`, a child process: exit codes,
 * files written, messages): compress --codec crossfield --anchors writes the anchor's stream beside the target's;
 * decompress finds it there (0, 1 and 2 workers, identical bytes, the bound held on every valid point); inspect says
 * what the stream needs; the .fpk data reader opens it. Moved away from its anchor, the stream is refused naming
 * the anchor, decodes with --anchor, and is refused (CONFLICT) with an anchor that differs.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closePools, inspectStream } from '../../../src-main/services/codecs/index.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { COADS, WRF_KATRINA, haveFile } from '../../helpers/data-files.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { loadField } from '../../../src-main/services/compression/bench-input.ts';
import { fieldpack, readF32 } from '../../helpers/cli.ts';

const haveCoads = haveFile(COADS);
const tmp = tempDir('fieldpack-crossfield-cli-');
afterAll(async () => {
  await closePools();
  tmp.cleanup();
});

const f32 = readF32;

/** The source field as the data service reads it (CF masks, unpacking). */
const readSource = loadField;

describe('fieldpack compress --codec crossfield / decompress / inspect on COADS SST with anchor AIRT (needs ferret-datasets)', () => {
  const dir = join(tmp.dir, 'run');
  const sst = join(dir, 'sst.fpk');
  const anchorStream = join(dir, 'sst.anchor-AIRT.fpk');
  const lone = join(tmp.dir, 'elsewhere', 'sst.fpk');
  let compressed: Awaited<ReturnType<typeof fieldpack>> | null = null;
  beforeAll(async () => {
    if (!haveCoads) return;
    mkdirSync(dir, { recursive: true });
    compressed = await fieldpack('compress', COADS, '--var', 'SST', '--bound', 'rel:1e-3', '--codec', 'crossfield', '--anchors', 'AIRT', '-o', sst);
  }, 120_000);

  it.skipIf(!haveCoads)('compress writes the target stream and its anchor\'s stream beside it (needs ferret-datasets)', () => {
    expect(compressed!.status, compressed!.stderr).toBe(0);
    expect(compressed!.stdout).toMatch(/SST \[12x90x180\] rel 0\.001 -> abs .*codec crossfield/);
    expect(compressed!.stdout).toMatch(/max error\/bound (0\.\d+|1\.0000)/);
    expect(existsSync(sst)).toBe(true);
    expect(existsSync(anchorStream)).toBe(true);
    const target = inspectStream(new Uint8Array(readFileSync(sst)));
    expect(target.codec.id).toBe('crossfield');
    expect(target.dependencies.map((d) => (d.kind === 'anchor' ? d.var : d.kind))).toEqual(['AIRT']);
    const anchor = inspectStream(new Uint8Array(readFileSync(anchorStream)));
    expect(anchor.codec.id).toBe('classic');
    expect(anchor.header.metadata.variable).toBe('AIRT');
    expect(anchor.header.bound).toMatchObject({ mode: 'rel', value: 1e-3 });
  });

  it.skipIf(!haveCoads)('decompress with 0, 1 and 2 workers exits 0 with identical bytes, every valid SST point within the bound (needs ferret-datasets)', async () => {
    const outs = [0, 1, 2].map((w) => join(dir, `sst-w${w}.f32`));
    const runs = [];
    for (const [w, out] of outs.entries()) runs.push(await fieldpack('decompress', sst, '-o', out, '--workers', String(w), '--mask', `${out}.mask`));
    for (const r of runs) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/SST float32 \[12x90x180\] .*codec crossfield/);
      expect(r.stdout).toMatch(/decoded with anchor AIRT/);
    }
    const b0 = readFileSync(outs[0]!);
    for (const o of outs.slice(1)) expect(readFileSync(o).equals(b0)).toBe(true);

    const src = await readSource(COADS, 'SST');
    expect(src.mask).toBeDefined();
    const abs = inspectStream(new Uint8Array(readFileSync(sst))).header.bound.abs;
    let min = Infinity, max = -Infinity;
    for (let i = 0; i < src.values.length; i++) if (src.mask![i]) { min = Math.min(min, src.values[i]!); max = Math.max(max, src.values[i]!); }
    expect(abs).toBeCloseTo(1e-3 * (max - min), 9);
    expect(Array.from(readFileSync(`${outs[0]}.mask`))).toEqual(Array.from(src.mask!));
    const rec = f32(outs[0]!);
    expect(rec.length).toBe(src.values.length);
    let over = 0, checked = 0;
    for (let i = 0; i < src.values.length; i++) {
      if (!src.mask![i]) continue;
      checked++;
      if (!(Math.abs(rec[i]! - src.values[i]!) <= abs)) over++;
    }
    expect(checked).toBeGreaterThan(50_000);
    expect(over).toBe(0);
  }, 120_000);

  it.skipIf(!haveCoads)('inspect prints codec crossfield and "needs: anchor AIRT" (needs ferret-datasets)', async () => {
    const r = await fieldpack('inspect', sst);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/stream .*sst\.fpk: codec crossfield \(/);
    expect(r.stdout).toMatch(/anchors AIRT/);
    expect(r.stdout).toMatch(/needs: anchor AIRT \(reconstruction sha256 [0-9a-f]{16}\.\.\.\)/);
  });

  it.skipIf(!haveCoads)('openDataFile(sst.fpk).readField("SST") decodes it, finding the anchor beside it (needs ferret-datasets)', async () => {
    const f = await openDataFile(sst);
    try {
      expect(f.format).toBe('fpk');
      const field = await f.readField('SST');
      expect(field.shape).toEqual([12, 90, 180]);
      expect(field.attributes.fieldpack_codec).toBe('crossfield');
      expect(Buffer.from(field.values.buffer, field.values.byteOffset, field.values.byteLength).equals(readFileSync(join(dir, 'sst-w0.f32')))).toBe(true);
      const src = await readSource(COADS, 'SST');
      expect(Array.from(field.mask!)).toEqual(Array.from(src.mask!));
      // a slice decodes too
      const part = await f.readField('SST', { slice: [[3, 5], [10, 20]] });
      expect(part.shape).toEqual([2, 10, 180]);
      expect(part.values[0]).toBe(field.values[3 * 90 * 180 + 10 * 180]);
    } finally {
      f.close();
    }
  });

  it.skipIf(!haveCoads)('the target alone in another folder: decompress exits 1 naming AIRT; --anchor ANCHOR.fpk decodes it; an AIRT stream at rel:1e-2 is refused as different (CONFLICT) (needs ferret-datasets)', async () => {
    mkdirSync(join(tmp.dir, 'elsewhere'), { recursive: true });
    copyFileSync(sst, lone);
    const missing = await fieldpack('decompress', lone, '-o', join(tmp.dir, 'elsewhere', 'a.f32'));
    expect(missing.status, missing.stdout).toBe(1);
    expect(missing.stderr).toMatch(/error \(NOT_FOUND\): this stream needs its anchor AIRT \(reconstruction sha256 [0-9a-f]{16}\.\.\.\): not given \(compress wrote sst\.anchor-AIRT\.fpk beside it: not there\)/);
    expect(existsSync(join(tmp.dir, 'elsewhere', 'a.f32'))).toBe(false);

    const given = await fieldpack('decompress', lone, '-o', join(tmp.dir, 'elsewhere', 'b.f32'), '--anchor', anchorStream);
    expect(given.status, given.stderr).toBe(0);
    expect(readFileSync(join(tmp.dir, 'elsewhere', 'b.f32')).equals(readFileSync(join(dir, 'sst-w0.f32')))).toBe(true);

    const other = join(tmp.dir, 'other', 'airt-1e-2.fpk');
    mkdirSync(join(tmp.dir, 'other'), { recursive: true });
    const c = await fieldpack('compress', COADS, '--var', 'AIRT', '--bound', 'rel:1e-2', '-o', other);
    expect(c.status, c.stderr).toBe(0);
    const wrong = await fieldpack('decompress', lone, '-o', join(tmp.dir, 'elsewhere', 'c.f32'), '--anchor', other);
    expect(wrong.status, wrong.stdout).toBe(1);
    expect(wrong.stderr).toMatch(/error \(CONFLICT\): anchor AIRT differs from the one this stream was compressed with/);
    expect(wrong.stderr).toContain('airt-1e-2.fpk');
    expect(existsSync(join(tmp.dir, 'elsewhere', 'c.f32'))).toBe(false);
  }, 120_000);

  it.skipIf(!haveCoads)('decompress refuses to write over the anchor stream it decodes with, even with --overwrite; an anchor named twice is refused as such (needs ferret-datasets)', async () => {
    const before = readFileSync(anchorStream);
    const over = await fieldpack('decompress', sst, '-o', anchorStream, '--overwrite');
    expect(over.status).toBe(1);
    expect(over.stderr).toMatch(/sst\.anchor-AIRT\.fpk is the input file .*would destroy the input/);
    expect(readFileSync(anchorStream).equals(before)).toBe(true);
    const twice = await fieldpack('compress', COADS, '--var', 'SST', '--bound', 'rel:1e-3', '--codec', 'crossfield', '--anchors', 'AIRT,AIRT', '-o', join(dir, 'twice.fpk'));
    expect(twice.status).not.toBe(0);
    expect(twice.stderr).toMatch(/INVALID_ARGUMENT.*anchors: AIRT is named twice/);
  }, 120_000);

  it.skipIf(!haveCoads)('--param network=linear embeds a linear CFNN fitted on the anchors (smaller here than none, as the bench finds), decoded bit for bit; what compress cannot do is said (needs ferret-datasets)', async () => {
    const linear = join(dir, 'sst-linear.fpk');
    const c = await fieldpack('compress', COADS, '--var', 'SST', '--bound', 'rel:1e-3', '--codec', 'crossfield', '--anchors', 'AIRT', '--param', 'network=linear', '-o', linear);
    expect(c.status, c.stderr).toBe(0);
    expect(readFileSync(linear).length).toBeLessThan(readFileSync(sst).length);
    const i = await fieldpack('inspect', linear);
    expect(i.stdout).toMatch(/network 2D, \d+ weights; networkKind linear/);
    const outs = [0, 2].map((w) => join(dir, `sst-linear-w${w}.f32`));
    for (const [k, out] of outs.entries()) expect((await fieldpack('decompress', linear, '-o', out, '--workers', String(k * 2))).status).toBe(0);
    expect(readFileSync(outs[0]!).equals(readFileSync(outs[1]!))).toBe(true);
    const cfnn = await fieldpack('compress', COADS, '--var', 'SST', '--bound', 'rel:1e-3', '--codec', 'crossfield', '--anchors', 'AIRT', '--param', 'network=cfnn', '-o', join(dir, 'cfnn.fpk'));
    expect(cfnn.stderr).toMatch(/network: none or linear \(a trained CFNN, .*bench --codec crossfield --network cfnn\|best\)/);
    const noAnchors = await fieldpack('compress', COADS, '--var', 'SST', '--bound', 'rel:1e-3', '--codec', 'crossfield', '-o', join(dir, 'none.fpk'));
    expect(noAnchors.stderr).toMatch(/anchors: the cross-field codec needs its anchors: variables of the same file on the target's grid \(--anchors A,B\)/);
    const codecs = await fieldpack('compress', '--codecs');
    expect(codecs.stdout).toMatch(/network=none\|linear/);
    expect(codecs.stdout).toMatch(/wrap=true\|false\|auto/);
  }, 120_000);
});

describe('an anchor on another grid', () => {
  it('WRF V on the staggered grid [4, 14, 49, 48] (as many values as U [4, 14, 48, 49]) is refused as an anchor of U, nothing written (its stream decoded nowhere)', async () => {
    const dir = join(tmp.dir, 'staggered');
    mkdirSync(dir, { recursive: true });
    const r = await fieldpack('compress', WRF_KATRINA, '--var', 'U', '--bound', 'abs:0.05', '--codec', 'crossfield', '--anchors', 'V', '-o', join(dir, 'u.fpk'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/INVALID_ARGUMENT.*anchor V \[4, 14, 49, 48\] is not on the target's grid \[4, 14, 48, 49\]/);
    expect(readdirSync(dir)).toEqual([]);
  }, 120_000);
});
