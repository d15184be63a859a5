/**
 * A learned codec's model in an archive: COADS SST and SLP split into two members each, compressed by the VQ-VAE
 * (the shipped model, its stream kept: fallback=false); the model is stored once in objects/ by hash, every member
 * names it, the totals count it once (its share and the ratio both ways), and the archive verifies and restores with
 * the model's hash in the provenance.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArchive, restoreArchive, verifyArchive } from '../../../src-main/services/archive/index.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { COADS } from '../../helpers/data-files.ts';
import { tempDir } from '../../helpers/tmp.ts';

describe('archive with a VQ-VAE model', () => {
  const tmp = tempDir('fieldpack-archive-model-');
  afterAll(() => tmp.cleanup());

  it('stores the model once, counts it once, verifies and restores', async () => {
    const out = join(tmp.dir, 'vq');
    const r = await buildArchive({ inputs: [COADS], out, vars: ['SST', 'SLP'], codec: 'vqvae', params: { fallback: false }, crossfield: 'off', bound: 'psnr:40', memberValues: 100000 });
    expect(r.kind).toBe('archive');
    if (r.kind !== 'archive') return;
    const m = r.manifest;
    expect(m.members.map((e) => e.codec)).toEqual(['vqvae', 'vqvae', 'vqvae', 'vqvae']);
    expect(m.objects).toHaveLength(1);
    const model = m.objects[0]!;
    expect(model).toMatchObject({ kind: 'model', usedBy: m.members.map((e) => e.id) });
    expect(existsSync(join(out, model.file))).toBe(true);
    for (const e of m.members) expect(e.dependencies).toEqual([expect.objectContaining({ kind: 'model', hash: model.hash, object: model.file })]);
    expect(m.totals.objectBytes).toBe(model.bytes);
    expect(m.totals.modelShare).toBeCloseTo(model.bytes / m.totals.archiveBytes, 6);
    expect(m.totals.ratioWithoutModels).toBeGreaterThan(m.totals.ratio);
    for (const e of m.members) expect(Number(e.achieved.psnr)).toBeGreaterThanOrEqual(40);
    const v = await verifyArchive(out);
    expect(v.members.filter((x) => !x.ok)).toEqual([]);
    const restored = await restoreArchive(out, join(tmp.dir, 'restored'));
    const f = await openDataFile(restored.files[0]!.path);
    try {
      expect(f.variable('SST').attributes.fieldpack_model_sha256).toBe(model.hash);
      expect(f.variable('SST').attributes.fieldpack_codec).toBe('vqvae');
    } finally {
      f.close();
    }
  }, 120_000);
});
