/**
 * Restore's files: one per source, never two sources into one name (sources of one name from different folders once
 * made the third source's fallback name that of the first, and one restored file replaced the other, exit 0), and a
 * cancelled restore takes back what it wrote, so a rerun starts clean. A manifest edited into one that does not hold
 * together is refused by verify and restore alike (verify once passed them, and restore then lost a variable unsaid
 * or failed with a JavaScript error); one changed in a way that keeps it whole is caught by its own checksum, and a
 * member decoding to other values than at build time is not restored as if it held its bound.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArchive, listArchive, restoreArchive, verifyArchive } from '../../../src-main/services/archive/index.ts';
import { openDataFile } from '../../../src-main/services/data/readers/index.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { PYTHON, hasPythonNetcdf4 } from '../data/helpers.ts';
import { execFileSync } from 'node:child_process';

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
    // not among an archive's own files: its folder, members/, objects/ (this archive's or another's)
    for (const inside of [arc, join(arc, 'members'), join(arc, 'objects', 'x')]) {
      await expect(restoreArchive(arc, inside)).rejects.toThrow(/the archive .*: restore into a folder of its own/);
    }
    expect(existsSync(join(arc, 'objects', 'x'))).toBe(false);
    // nor through a link to one of them
    const link = join(tmp.dir, 'members-link');
    if (!existsSync(link)) symlinkSync(join(arc, 'members'), link);
    await expect(restoreArchive(arc, join(link, 'out'))).rejects.toThrow(/is the members\/ folder of the archive .*: restore into a folder of its own/);
    const other = join(tmp.dir, 'other-arc');
    await buildArchive({ inputs: [FIXTURE], out: other, bound: 'rel:1e-2', crossfield: 'off', vars: ['sst'] });
    await expect(restoreArchive(arc, join(other, 'members'))).rejects.toThrow(/is the members\/ folder of the archive .*other-arc: restore into a folder of its own/);
    // nor is a new archive built there: the other archive's verify would meet files it does not know
    for (const inside of [join(other, 'members', 'nested'), join(other, 'objects')]) {
      await expect(buildArchive({ inputs: [FIXTURE], out: inside, bound: 'rel:1e-2', crossfield: 'off', vars: ['sst'] })).rejects.toThrow(/is inside the (members|objects)\/ folder of the archive .*other-arc/);
    }
    expect(readdirSync(join(other, 'members')).every((f) => f.endsWith('.fpk'))).toBe(true);
    // a folder of the user's beside the archive's own is theirs to use
    expect((await restoreArchive(arc, join(other, 'restored'))).files).toHaveLength(3);
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
    // a killed restore's temporary file (its writer gone) is not left among the files
    mkdirSync(out);
    const leftover = join(out, `.topo.nc.${2 ** 22 + 17}-0badc0de.tmp`);
    writeFileSync(leftover, 'half a file');
    expect((await restoreArchive(arc, out)).files).toHaveLength(3);
    expect(existsSync(leftover)).toBe(false);
  });

  it('a build cancelled while it plans writes nothing (it finished planning, then made the folder and its work)', async () => {
    const { sources } = await sameNamedArchive();
    const out = join(tmp.dir, 'cancelled-build');
    const ac = new AbortController();
    const build = buildArchive({ inputs: sources, out, bound: 'rel:1e-2', crossfield: 'off', vars: ['sst'], onProgress: () => ac.abort() }, { signal: ac.signal });
    await expect(build).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(existsSync(join(out, 'work.json'))).toBe(false);
    expect(existsSync(join(out, 'members'))).toBe(false);
  });

  it('an unknown --vars name is refused before the target folder is made', async () => {
    const { arc } = await sameNamedArchive();
    const out = join(tmp.dir, 'nope');
    await expect(restoreArchive(arc, out, { vars: ['NOPE'] })).rejects.toThrow(/the archive has no variable NOPE/);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    ['a member entry deleted', (m: any) => m.members.splice(1, 1), /names member 1-topo\.sst, which the manifest does not list/],
    ['no members', (m: any) => (m.members = []), /names member .* which the manifest does not list/],
    ['a variable taken out of its source', (m: any) => (m.sources[2].variables = []), /member 2-topo\.sst \(2-topo: sst\) is named by no source's variable/],
    ['a member id given twice', (m: any) => (m.members[1].id = m.members[0].id), /member id 0-2-topo\.sst is given twice/],
    ['a huge declared shape', (m: any) => (m.sources[0].variables[0].shape = [100000, 100000]), /member 0-2-topo\.sst holds rows \[0, 4\) of shape \[4, 5, 7\], which do not tile the variable's \[100000, 100000\]/],
  ])('verify and restore refuse a manifest with %s, naming what does not hold together', async (_what, edit, says) => {
    const { arc } = await sameNamedArchive();
    const copy = join(tmp.dir, `edited-${_what.replace(/\W+/g, '-')}`);
    cpSync(arc, copy, { recursive: true });
    const m = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
    edit(m);
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(m));
    await expect(verifyArchive(copy)).rejects.toThrow(says);
    await expect(restoreArchive(copy, join(copy, 'out'))).rejects.toThrow(/the manifest does not hold together/);
    expect(existsSync(join(copy, 'out'))).toBe(false);
  });

  it('a member whose stream holds another shape than the manifest declares (both edited alike) fails verify and its source\'s restore, named', async () => {
    const { arc } = await sameNamedArchive();
    const copy = join(tmp.dir, 'edited-shapes');
    cpSync(arc, copy, { recursive: true });
    const m = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
    m.members[0].shape = [4, 5, 8];
    m.sources[0].variables[0].shape = [4, 5, 8];
    // as a crafter would (or an archive made before the manifest's checksum): the checks behind it still hold
    delete m.manifestSha256;
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(m));
    const says = /member 0-2-topo\.sst \(members\/.*\): its stream holds \[4, 5, 7\], the manifest declares \[4, 5, 8\]/;
    const v = await verifyArchive(copy);
    expect(v.ok).toBe(false);
    expect(v.members.find((c) => c.id === '0-2-topo.sst')).toMatchObject({ ok: false, message: expect.stringMatching(says) });
    const r = await restoreArchive(copy, join(copy, 'out'));
    expect(r.failed).toEqual([{ source: '2-topo.nc', message: expect.stringMatching(says) }]);
    expect(r.files).toHaveLength(2);
  });

  it('a manifest changed in a way that keeps it whole (a coordinate\'s time step) is refused by verify, restore and list, naming its checksum', async () => {
    const { arc } = await sameNamedArchive();
    const copy = join(tmp.dir, 'edited-step');
    cpSync(arc, copy, { recursive: true });
    const text = readFileSync(join(copy, 'manifest.json'), 'utf8');
    const m = JSON.parse(text);
    expect(m.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    // time as [dtype, attributes, start, step, count]: every restored time would move, and nothing else checks it
    expect(m.sources[0].coordinates.time).toEqual(['float64', expect.any(Object), 0, 6, 4]);
    m.sources[0].coordinates.time[3] = 7;
    writeFileSync(join(copy, 'manifest.json'), `${JSON.stringify(m, null, 1)}\n`);
    const says = /manifest\.json: its content is not what was written \(the SHA-256 it records of itself differs\)/;
    await expect(verifyArchive(copy)).rejects.toThrow(says);
    await expect(restoreArchive(copy, join(copy, 'out'))).rejects.toThrow(says);
    expect(() => listArchive(copy)).toThrow(says);
    expect(existsSync(join(copy, 'out'))).toBe(false);
    // the text as written reads again
    writeFileSync(join(copy, 'manifest.json'), text);
    expect((await verifyArchive(copy)).ok).toBe(true);
  });

  it('restore refuses a member that decodes to other values than the verified ones, failing its source by name; the others come back', async () => {
    const { arc } = await sameNamedArchive();
    const copy = join(tmp.dir, 'other-values');
    cpSync(arc, copy, { recursive: true });
    const m = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
    // what a decoder that broke the decoding contract on this machine would look like: values unlike the build's
    m.members[1].decodedSha256 = '0'.repeat(64);
    delete m.manifestSha256;
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(m));
    const r = await restoreArchive(copy, join(copy, 'out'));
    expect(r.failed).toEqual([{ source: expect.any(String), message: expect.stringMatching(/member 1-topo\.sst: decodes to other values than at build time .* its bound is not known to hold/) }]);
    expect(r.files).toHaveLength(2);
    expect((await verifyArchive(copy)).members.find((c) => c.id === '1-topo.sst')).toMatchObject({ ok: false });
  });

  it.runIf(hasPythonNetcdf4())('variables whose names fold alike in member ids ("T.2", "T_2") get members of their own, and both come back (needs python3-netcdf4)', async () => {
    const src = join(tmp.dir, 'folded.nc');
    execFileSync(PYTHON, ['-c', `
import sys, numpy as np, netCDF4
d = netCDF4.Dataset(sys.argv[1], 'w'); d.createDimension('y', 20); d.createDimension('x', 30)
a = d.createVariable('T.2', 'f4', ('y', 'x')); a[:] = np.add.outer(np.arange(20.0), np.arange(30.0))
b = d.createVariable('T_2', 'f4', ('y', 'x')); b[:] = np.add.outer(np.arange(20.0), -np.arange(30.0))
d.close()
`, src]);
    const arc = join(tmp.dir, 'arc-folded');
    const built = await buildArchive({ inputs: [src], out: arc, bound: 'rel:1e-3', crossfield: 'off' });
    if (built.kind !== 'archive') throw new Error(built.kind);
    expect(new Set(built.manifest.members.map((m) => m.id)).size).toBe(2);
    expect((await verifyArchive(arc)).ok).toBe(true);
    const r = await restoreArchive(arc, join(tmp.dir, 'restored-folded'));
    expect(r.files[0]!.variables.sort()).toEqual(['T.2', 'T_2']);
  });

  it.runIf(hasPythonNetcdf4())('a file of coordinates and attributes alone is restored; a source keeps its file name whatever --vars restores (needs python3-netcdf4)', async () => {
    const dirOf = (p: string) => join(tmp.dir, 'names', p);
    execFileSync(PYTHON, ['-c', `
import sys, os, numpy as np, netCDF4
root = sys.argv[1]
for sub, names in [('sub1', ['temp']), ('sub2', ['temp', 'extra'])]:
    os.makedirs(os.path.join(root, sub), exist_ok=True)
    d = netCDF4.Dataset(os.path.join(root, sub, 'same.nc'), 'w'); d.createDimension('y', 10); d.createDimension('x', 20)
    for n in names: d.createVariable(n, 'f4', ('y', 'x'))[:] = np.random.default_rng(len(n)).standard_normal((10, 20))
    d.close()
d = netCDF4.Dataset(os.path.join(root, 'grid.nc'), 'w'); d.title = 'the grid'; d.createDimension('lat', 10)
d.createVariable('lat', 'f4', ('lat',))[:] = np.linspace(-45, 45, 10); d.close()`, dirOf('')]);
    const arc = join(tmp.dir, 'names-arc');
    await buildArchive({ inputs: [dirOf('sub1/same.nc'), dirOf('sub2/same.nc'), dirOf('grid.nc')], out: arc, bound: 'rel:1e-3', crossfield: 'off' });
    const all = await restoreArchive(arc, join(tmp.dir, 'names-all'));
    const names = Object.fromEntries(all.files.map((f) => [f.source, basename(f.path)]));
    expect(Object.keys(names).sort()).toEqual(['grid.nc', 'same.nc']);
    expect(all.files).toHaveLength(3);
    const grid = all.files.find((f) => f.source === 'grid.nc')!;
    expect(grid.variables).toEqual([]);
    expect(JSON.parse(execFileSync(PYTHON, ['-c', 'import sys, json, netCDF4; d = netCDF4.Dataset(sys.argv[1]); print(json.dumps([d.title, list(d.variables), float(d["lat"][-1])]))', grid.path], { encoding: 'utf8' }))).toEqual(['the grid', ['lat'], 45]);
    // --vars extra: sub2's file, under the name the whole restore gave it (not sub1's)
    const sub2Name = basename(all.files.find((f) => f.variables.includes('extra'))!.path);
    const some = await restoreArchive(arc, join(tmp.dir, 'names-some'), { vars: ['extra'] });
    expect(some.files.map((f) => basename(f.path))).toEqual([sub2Name]);
  });

  it.runIf(hasPythonNetcdf4())('NaN and infinite attributes come back as numbers (JSON has neither: they came back as the text "[null,5]") (needs python3-netcdf4)', async () => {
    const src = join(tmp.dir, 'nanattr.nc');
    const attrsOf = (path: string) => JSON.parse(execFileSync(PYTHON, ['-c', `
import sys, json, numpy as np, netCDF4
d = netCDF4.Dataset(sys.argv[1]); v = d['v']
show = lambda x: [str(float(y)) for y in np.atleast_1d(x)] if np.asarray(x).dtype.kind == 'f' else str(x)
print(json.dumps({'actual_range': show(v.actual_range), 'valid_max': show(v.valid_max), 'history_vals': show(d.history_vals)}))`, path], { encoding: 'utf8' }));
    execFileSync(PYTHON, ['-c', `
import sys, numpy as np, netCDF4
d = netCDF4.Dataset(sys.argv[1], 'w'); d.createDimension('y', 10); d.createDimension('x', 20)
d.history_vals = np.array([np.inf, 1.0])
v = d.createVariable('v', 'f4', ('y', 'x')); v.actual_range = np.array([np.nan, 5.0], 'f4'); v.valid_max = np.float32(np.inf)
v[:] = np.random.default_rng(2).standard_normal((10, 20)); d.close()`, src]);
    const arc = join(tmp.dir, 'nanattr-arc');
    await buildArchive({ inputs: [src], out: arc, bound: 'rel:1e-3', crossfield: 'off' });
    expect((await verifyArchive(arc)).ok).toBe(true);
    const [file] = (await restoreArchive(arc, join(tmp.dir, 'nanattr-restored'))).files;
    expect(attrsOf(file!.path)).toEqual({ actual_range: ['nan', '5.0'], valid_max: ['inf'], history_vals: ['inf', '1.0'] });
  });
});
