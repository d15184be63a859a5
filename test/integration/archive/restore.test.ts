/**
 * Restore's files: one per source, never two sources into one name (sources of one name from different folders once
 * made the third source's fallback name that of the first, and one restored file replaced the other, exit 0), and a
 * cancelled restore takes back what it wrote, so a rerun starts clean.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArchive, restoreArchive } from '../../../src-main/services/archive/index.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { tempDir } from '../../helpers/tmp.ts';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'data', 'synthetic_nc3_64bit.nc');

describe('archive restore: file names and cancels', () => {
  const tmp = tempDir('fieldpack-archive-restore-');
  afterAll(() => tmp.cleanup());

  /** three copies of one file: x/2-topo.nc, a/topo.nc, b/topo.nc (source ids 0-2-topo, 1-topo, 2-topo) */
  async function sameNamedArchive(): Promise<{ arc: string; sources: string[] }> {
    const sources = [join('x', '2-topo.nc'), join('a', 'topo.nc'), join('b', 'topo.nc')].map((p) => join(tmp.dir, 'src', p));
    for (const s of sources) {
      mkdirSync(join(s, '..'), { recursive: true });
      copyFileSync(FIXTURE, s);
    }
    const arc = join(tmp.dir, 'arc');
    if (!existsSync(join(arc, 'manifest.json'))) await buildArchive({ inputs: sources, out: arc, bound: 'rel:1e-2', crossfield: 'off', vars: ['sst'] });
    return { arc, sources };
  }

  it('sources that share a name come back as distinct files, none replacing another', async () => {
    const { arc } = await sameNamedArchive();
    const out = join(tmp.dir, 'restored');
    const r = await restoreArchive(arc, out);
    expect(r.failed).toEqual([]);
    const paths = r.files.map((f) => f.path);
    expect(new Set(paths).size).toBe(3);
    expect(readdirSync(out).sort()).toEqual(paths.map((p) => p.slice(out.length + 1)).sort());
    for (const p of paths) expect((await openDataFile(p)).variables.map((v) => v.name)).toContain('sst');
  });

  it('a cancelled restore removes the files it had written and the folder it made; a rerun then restores all', async () => {
    const { arc } = await sameNamedArchive();
    const out = join(tmp.dir, 'cancelled');
    const ac = new AbortController();
    // cancelled as the second source starts: the first one's file is written by then
    const onProgress = (_f: number, m?: string) => {
      if (m?.startsWith('restoring') && existsSync(out) && readdirSync(out).some((f) => f.endsWith('.nc'))) ac.abort();
    };
    await expect(restoreArchive(arc, out, { onProgress, signal: ac.signal })).rejects.toThrow(/restore cancelled: the 1 file it had restored removed/);
    expect(existsSync(out)).toBe(false);
    expect((await restoreArchive(arc, out)).files).toHaveLength(3);
  });

  it('an unknown --vars name is refused before the target folder is made', async () => {
    const { arc } = await sameNamedArchive();
    const out = join(tmp.dir, 'nope');
    await expect(restoreArchive(arc, out, { vars: ['NOPE'] })).rejects.toThrow(/the archive has no variable NOPE/);
    expect(existsSync(out)).toBe(false);
  });
});
