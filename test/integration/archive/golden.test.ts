/**
 * The golden archive (test/fixtures/golden/archive-v1, format version 1): COADS SST and AIRT at rel 1e-3, split
 * into four members each, SST predicted from AIRT with one cross-field network for the series (stored once in
 * objects/). Built elsewhere with
 *   fieldpack archive build /usr/share/ferret-vis/data/coads_climatology.cdf --vars SST,AIRT --member-values 50000 -o test/fixtures/golden/archive-v1
 * Every release must decode it bit for bit (the SHA-256 of each member's decoded values is in its manifest) and
 * restore it; never rebuild it to make this test pass.
 */
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listArchive, restoreArchive, verifyArchive } from '../../../src-main/services/archive/index.ts';
import { valuesHash } from '../../../src-main/services/archive/format.ts';
import { NO_MANIFEST_CHECKSUM } from '../../../src-main/services/archive/verify.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { ROOT } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';

const GOLDEN = join(ROOT, 'test', 'fixtures', 'golden', 'archive-v1');

describe('golden archive v1', () => {
  const tmp = tempDir('fieldpack-golden-archive-');
  afterAll(() => tmp.cleanup());

  it('lists the members, their cross-field dependencies and the series model stored once', () => {
    const l = listArchive(GOLDEN);
    expect(l.version).toBe(1);
    expect(l.members).toHaveLength(8);
    const sst = l.members.filter((m) => m.variable === 'SST');
    expect(sst.every((m) => m.anchors.length === 1 && m.anchors[0]!.includes('.AIRT.'))).toBe(true);
    expect(l.objects).toHaveLength(1);
    expect(l.objects[0]!.usedBy).toBe(sst.filter((m) => m.modelBytes > 0).length);
  });

  it('decodes every member bit for bit (decoded values SHA-256 as recorded), without the source file', async () => {
    const r = await verifyArchive(GOLDEN, { sources: false });
    expect(r.members.filter((m) => !m.ok)).toEqual([]);
    expect(r.objects.every((o) => o.ok)).toBe(true);
    expect(r.ok).toBe(true);
    // made before manifests carried their checksum: said, as an edit of it could not be seen
    expect(r.notes).toEqual([NO_MANIFEST_CHECKSUM]);
  });

  it('restores a NetCDF-4 file whose values are the decoded ones, on the source grid', async () => {
    const out = join(tmp.dir, 'restored');
    const r = await restoreArchive(GOLDEN, out);
    expect(r.files.map((f) => f.variables)).toEqual([['SST', 'AIRT']]);
    // its bounds and attributes go into the files unchecked by any checksum: said, as verify says it
    expect(r.notes).toEqual([NO_MANIFEST_CHECKSUM]);
    const manifest = (await import(join(GOLDEN, 'manifest.json'), { with: { type: 'json' } })).default as { members: { variable: string; rows: [number, number]; decodedSha256: string }[] };
    const f = await openDataFile(r.files[0]!.path);
    try {
      expect(f.dimensions).toMatchObject({ TIME: 12, COADSY: 90, COADSX: 180 });
      for (const name of ['SST', 'AIRT']) {
        for (const m of manifest.members.filter((e) => e.variable === name)) {
          const part = await f.readField(name, { slice: [m.rows] });
          expect(valuesHash(part.values, part.mask), `${name} rows ${m.rows}`).toBe(m.decodedSha256);
        }
      }
      expect(f.variable('SST').attributes.fieldpack_codec).toBe('crossfield');
      expect(f.variable('SST').attributes.units).toBe('Deg C');
    } finally {
      f.close();
    }
  });
  it('restores without its series network object: the streams carry the network (verify still names the object missing)', async () => {
    const copy = join(tmp.dir, 'no-network');
    cpSync(GOLDEN, copy, { recursive: true });
    for (const f of readdirSync(join(copy, 'objects'))) rmSync(join(copy, 'objects', f));
    const r = await restoreArchive(copy, join(tmp.dir, 'restored-no-network'));
    expect(r.failed).toEqual([]);
    expect(r.files.map((f) => f.variables)).toEqual([['SST', 'AIRT']]);
    expect((await verifyArchive(copy, { sources: false })).objects.every((o) => o.ok)).toBe(false);
  });
});
