/**
 * Archives as a user runs them: `fieldpack archive build` on real files (COADS SST with its anchor AIRT, split
 * along time; a WRF file beside it), killed with SIGKILL at a random member and run again (the manifest must equal a
 * clean build's, which runs as two local shard processes), verified (a truncated and an edited member fail, named),
 * restored to NetCDF-4 files that xarray and netCDF4-python open with the original coordinates and attributes, every
 * value within its bound; and the plan's estimate with a budget.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COADS, WRF_KATRINA } from '../../helpers/data-files.ts';
import { ROOT, fieldpack } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { planArchive } from '../../../src-main/services/archive/index.ts';

const NODE22 = join(ROOT, 'node_modules', 'node', 'bin', 'node');
const BIN = join(ROOT, 'bin', 'fieldpack.mjs');
/** two members per variable of COADS (12 x 90 x 180): 6 time steps each; T2, Q2 and the auxiliary coordinates they name (XLAT, XLONG, XTIME) */
const BUILD_ARGS = [COADS, WRF_KATRINA, '--vars', 'SST,AIRT,T2,Q2', '--member-values', '100000'];

/** The manifest without what differs between two builds of the same work: times, and the totals that count the manifest's own size. */
function comparable(dir: string) {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  delete m.createdAt;
  delete m.manifestSha256;
  for (const e of m.members) delete e.timing;
  delete m.totals.archiveBytes;
  delete m.totals.ratio;
  delete m.totals.modelShare;
  delete m.totals.ratioWithoutModels;
  return m;
}

function journalMembers(dir: string): number {
  const jdir = join(dir, 'journal');
  if (!existsSync(jdir)) return 0;
  return readdirSync(jdir).reduce((a, f) => a + readFileSync(join(jdir, f), 'utf8').split('\n').filter((l) => l.includes('"type":"member"')).length, 0);
}

describe('fieldpack archive', () => {
  const tmp = tempDir('fieldpack-archive-');
  const clean = join(tmp.dir, 'clean');
  const killed = join(tmp.dir, 'killed');
  let child: ChildProcess | null = null;

  beforeAll(async () => {
    const r = await fieldpack('archive', 'build', ...BUILD_ARGS, '-o', clean, '--jobs', '2');
    expect(r.stderr).toContain('members ');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/9 members \(9 built, 0 already done\)/);
  }, 180_000);
  afterAll(() => {
    child?.kill('SIGKILL');
    tmp.cleanup();
  });

  it('links SST to its anchor AIRT, fits one network for the series and stores it once', () => {
    const m = JSON.parse(readFileSync(join(clean, 'manifest.json'), 'utf8'));
    expect(m.format).toBe('fieldpack-archive');
    expect(m.version).toBe(1);
    expect(m.links.map((l: { target: string; anchors: string[] }) => `${l.target}<-${l.anchors}`)).toContain('SST<-AIRT');
    const ids = m.members.map((e: { id: string }) => e.id);
    // anchors before targets
    expect(ids.indexOf('0-coads_climatology.AIRT.0-6')).toBeLessThan(ids.indexOf('0-coads_climatology.SST.0-6'));
    const sst = m.members.filter((e: { variable: string }) => e.variable === 'SST');
    expect(sst).toHaveLength(2);
    const models = new Set(sst.flatMap((e: { dependencies: { kind: string; hash: string }[] }) => e.dependencies.filter((d) => d.kind === 'model').map((d) => d.hash)));
    expect(models.size).toBeLessThanOrEqual(1);
    if (models.size) expect(m.objects.filter((o: { hash: string }) => models.has(o.hash))).toHaveLength(1);
    for (const e of m.members) expect(Number(e.achieved.maxError)).toBeLessThanOrEqual(e.bound.abs);
    // rel resolves on the whole variable: both halves of a variable share one absolute bound
    expect(sst[0].bound.abs).toBe(sst[1].bound.abs);
    expect(m.totals.modelShare).toBeGreaterThanOrEqual(0);
  });

  it('resumes a build killed (SIGKILL) at a random member without redoing finished ones; the manifest equals a clean build', async () => {
    const total = 9;
    const killAfter = 1 + Math.floor(Math.random() * (total - 2));
    child = spawn(NODE22, [BIN, 'archive', 'build', ...BUILD_ARGS, '-o', killed], { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise((res) => child!.on('exit', res));
    const t0 = Date.now();
    while (journalMembers(killed) < killAfter && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;
    child = null;
    const done = journalMembers(killed);
    expect(done).toBeGreaterThanOrEqual(killAfter);
    expect(existsSync(join(killed, 'manifest.json'))).toBe(false);
    // an incomplete archive says so
    const early = await fieldpack('archive', 'verify', killed);
    expect(early.status).toBe(1);
    expect(early.stderr).toContain('not complete');
    const r = await fieldpack('archive', 'build', ...BUILD_ARGS, '-o', killed);
    expect(r.status, r.stderr).toBe(0);
    const m = /(\d+) members \((\d+) built, (\d+) already done\)/.exec(r.stdout)!;
    expect(Number(m[2]) + Number(m[3])).toBe(total);
    expect(Number(m[3])).toBeGreaterThanOrEqual(Math.min(done, total));
    expect(comparable(killed)).toEqual(comparable(clean));
  }, 180_000);

  it('stops cleanly on Ctrl-C (SIGINT) after the member in progress; the journal keeps the finished ones', async () => {
    const dir = join(tmp.dir, 'interrupted');
    child = spawn(NODE22, [BIN, 'archive', 'build', ...BUILD_ARGS, '-o', dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const exited = new Promise<number | null>((res) => child!.on('exit', (code) => res(code)));
    const t0 = Date.now();
    while (journalMembers(dir) < 1 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await exited;
    child = null;
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/CANCELLED.*journal keeps them/);
    expect(stderr).toMatch(/members \d+\/9, [\d.]+\/[\d.]+ MB in -> [\d.]+ MB out/);
    expect(journalMembers(dir)).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(dir, 'manifest.json'))).toBe(false);
  }, 120_000);

  it('verifies every member, and names a truncated and an edited one (exit 1)', async () => {
    const ok = await fieldpack('archive', 'verify', clean);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('all 9 members verified');
    expect(ok.stderr).not.toMatch(/note: the manifest carries no checksum/);
    // its checksum taken out (with an attribute edited): still verified, and said that such an edit cannot be seen
    const stripped = join(tmp.dir, 'stripped');
    cpSync(clean, stripped, { recursive: true });
    const { manifestSha256: _gone, ...body } = JSON.parse(readFileSync(join(stripped, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(stripped, 'manifest.json'), JSON.stringify(body, null, 1));
    const quiet = await fieldpack('archive', 'verify', stripped, '--no-sources');
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stderr).toMatch(/note: the manifest carries no checksum of itself .*cannot be seen/);
    expect(ok.stdout).toContain('every point within');
    const dir = killed;
    const truncated = join(dir, 'members', '0-coads_climatology.AIRT.0-6.fpk');
    truncateSync(truncated, readFileSync(truncated).length - 100);
    const edited = join(dir, 'members', '1-wrf_katrina.T2.fpk');
    const b = readFileSync(edited);
    b[b.length >> 1] ^= 0x40;
    writeFileSync(edited, b);
    const r = await fieldpack('archive', 'verify', dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/member 0-coads_climatology\.AIRT\.0-6 \(members\/0-coads_climatology\.AIRT\.0-6\.fpk\): \d+ bytes, the manifest says \d+ \(truncated\)/);
    expect(r.stderr).toMatch(/member 1-wrf_katrina\.T2 \(members\/1-wrf_katrina\.T2\.fpk\): changed since the archive was built/);
    // the target predicted from the truncated anchor cannot be decoded either, and says so
    expect(r.stderr).toMatch(/member 0-coads_climatology\.SST\.0-6: does not decode/);
    expect(r.stdout).toContain('3 failed');
    // restore goes on past a source whose member fails: the intact source comes back, the other is named (exit 1)
    const damaged = join(tmp.dir, 'damaged');
    cpSync(clean, damaged, { recursive: true });
    copyFileSync(edited, join(damaged, 'members', '1-wrf_katrina.T2.fpk'));
    const out = join(tmp.dir, 'damaged-out');
    const restored = await fieldpack('archive', 'restore', damaged, '-o', out);
    expect(restored.status).toBe(1);
    expect(restored.stdout).toMatch(/coads_climatology\.nc: SST, AIRT \(from coads_climatology\.cdf\)/);
    expect(restored.stderr).toMatch(/FAIL wrf_katrina\.nc: not restored: member 1-wrf_katrina\.T2 \(members\/1-wrf_katrina\.T2\.fpk\): changed since the archive was built/);
    expect(restored.stderr).toContain('1 of 2 files restored');
    expect(readdirSync(out)).toEqual(['coads_climatology.nc']);
    // a member replaced by another whole stream of the same shape (Q2's for T2's) decoded, as T2, to Q2's values
    const swapped = join(tmp.dir, 'swapped');
    cpSync(clean, swapped, { recursive: true });
    copyFileSync(join(clean, 'members', '1-wrf_katrina.Q2.fpk'), join(swapped, 'members', '1-wrf_katrina.T2.fpk'));
    const swappedOut = join(tmp.dir, 'swapped-out');
    const r2 = await fieldpack('archive', 'restore', swapped, '-o', swappedOut, '--vars', 'T2');
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/member 1-wrf_katrina\.T2 \(members\/1-wrf_katrina\.T2\.fpk\): \d+ bytes, the manifest says \d+ \(grown\)/);
    expect(existsSync(join(swappedOut, 'wrf_katrina.nc'))).toBe(false);
  }, 120_000);

  it('a new build into a folder that holds a manifest.json of its own (or a finished archive without its work) is refused, the file left as it was', async () => {
    const dir = join(tmp.dir, 'has-manifest');
    mkdirSync(dir);
    writeFileSync(join(dir, 'manifest.json'), '{"my": "precious"}');
    const r = await fieldpack('archive', 'build', WRF_KATRINA, '--vars', 'T2', '-o', dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/CONFLICT.*has-manifest already holds manifest\.json and no archive work/);
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe('{"my": "precious"}');
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  }, 60_000);

  it('refuses a manifest or journal that names files outside the archive: verify says which, the merge leaves them alone', async () => {
    const victim = join(tmp.dir, 'victim.txt');
    writeFileSync(victim, 'not the archive\'s');
    const crafted = join(tmp.dir, 'crafted');
    cpSync(clean, crafted, { recursive: true });
    const m = JSON.parse(readFileSync(join(crafted, 'manifest.json'), 'utf8'));
    m.members[0].file = '../victim.txt';
    writeFileSync(join(crafted, 'manifest.json'), JSON.stringify(m));
    const r = await fieldpack('archive', 'verify', crafted);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not a valid archive manifest \(members\.0\.file: a file in the archive's members\/ or objects\/ folder/);
    // a source id is part of a restored file's name: no path in it either
    const m2 = JSON.parse(readFileSync(join(clean, 'manifest.json'), 'utf8'));
    m2.sources[0].id = '../../escaped';
    writeFileSync(join(crafted, 'manifest.json'), JSON.stringify(m2));
    const restored = await fieldpack('archive', 'restore', crafted, '-o', join(tmp.dir, 'crafted-restore'));
    expect(restored.status).not.toBe(0);
    expect(restored.stderr).toMatch(/sources\.0\.id: a name of letters, digits/);
    writeFileSync(join(crafted, 'manifest.json'), readFileSync(join(clean, 'manifest.json')));
    // a journal line naming an object outside: skipped as unreadable, so the merge's clean-up of unused objects never reaches it
    const jdir = join(crafted, 'journal');
    const jfile = join(jdir, readdirSync(jdir)[0]!);
    writeFileSync(jfile, readFileSync(jfile, 'utf8') + JSON.stringify({ type: 'object', object: { hash: 'f'.repeat(64), kind: 'model', file: '../victim.txt', bytes: 15, label: 'crafted' } }) + '\n');
    const merged = await fieldpack('archive', 'merge', crafted);
    expect(merged.status, merged.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('not the archive\'s');
  }, 120_000);

  it('restores NetCDF-4 files that xarray and netCDF4-python open with the original dimensions (unlimited ones too), coordinates and attributes, within the bounds', async () => {
    const out = join(tmp.dir, 'restored');
    const r = await fieldpack('archive', 'restore', clean, '-o', out);
    expect(r.status, r.stderr).toBe(0);
    const py = `
import json, sys, numpy as np, xarray as xr, netCDF4
m = json.load(open(sys.argv[1]))
res = {}
for src in m['sources']:
    stem = src['name'].rsplit('.', 1)[0]
    a = xr.open_dataset(sys.argv[2] + '/' + stem + '.nc', decode_times=False)
    b = xr.open_dataset(src['path'], decode_times=False)
    n = netCDF4.Dataset(sys.argv[2] + '/' + stem + '.nc')
    o = netCDF4.Dataset(src['path'])
    unlimited_same = all(n.dimensions[d].isunlimited() == o.dimensions[d].isunlimited() and len(n.dimensions[d]) == len(o.dimensions[d]) for d in o.dimensions)
    for v in src['variables']:
        name = v['name']
        x = a[name].values.astype('f8'); y = b[name].values.astype('f8')
        same_nan = bool((np.isnan(x) == np.isnan(y)).all())
        err = float(np.nanmax(np.abs(x - y)))
        coords_equal = all(bool((a[c].values == b[c].values).all()) and {k: str(w) for k, w in a[c].attrs.items()} == {k: str(w) for k, w in b[c].attrs.items()} for c in b[name].dims if c in b.coords)
        attrs = {k: str(w) for k, w in b[name].attrs.items()}
        kept = all(str(a[name].attrs.get(k)) == w for k, w in attrs.items())
        res[stem + ':' + name] = dict(err=err, bound=float(a[name].attrs['fieldpack_bound']), same_nan=same_nan, coords=coords_equal, attrs=kept,
            codec=n[name].getncattr('fieldpack_codec'), dims=list(n[name].dimensions) == list(b[name].dims), globals=all(k in a.attrs for k in b.attrs), unlimited=unlimited_same)
print(json.dumps(res))
`;
    const res = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, join(clean, 'manifest.json'), out], { encoding: 'utf8' })) as Record<string, { err: number; bound: number; same_nan: boolean; coords: boolean; attrs: boolean; codec: string; dims: boolean; globals: boolean; unlimited: boolean }>;
    expect(Object.keys(res).sort()).toEqual(['coads_climatology:AIRT', 'coads_climatology:SST', 'wrf_katrina:Q2', 'wrf_katrina:T2', 'wrf_katrina:XLAT', 'wrf_katrina:XLONG', 'wrf_katrina:XTIME']);
    for (const [k, v] of Object.entries(res)) {
      expect(v.err, k).toBeLessThanOrEqual(v.bound);
      expect(v, k).toMatchObject({ same_nan: true, coords: true, attrs: true, dims: true, globals: true, unlimited: true });
      expect(v.codec.length, k).toBeGreaterThan(0);
    }
  }, 120_000);

  it('plans from samples: the estimate is within a factor 2 of the real size, and a budget loosens bounds to fit', async () => {
    // the CLI's plan (one process start) and the budget through the service in this process
    const plan = await fieldpack('archive', 'plan', ...BUILD_ARGS);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('cross-field: SST from AIRT');
    const est = Number(/-> about ([\d.]+) MB/.exec(plan.stdout)![1]) * 1e6;
    const real = JSON.parse(readFileSync(join(clean, 'manifest.json'), 'utf8')).totals.memberBytes;
    expect(est / real).toBeGreaterThan(0.5);
    expect(est / real).toBeLessThan(2);
    const work = { inputs: [COADS, WRF_KATRINA], vars: ['SST', 'AIRT', 'T2', 'Q2'], memberValues: 100000 };
    const budget = Math.round(est * 0.7);
    const bp = await planArchive({ ...work, budget, boundLimits: ['rel:1e-3', 'rel:1e-2'] });
    expect(bp.budget!.met).toBe(true);
    expect(bp.totals.estBytes).toBeLessThanOrEqual(budget);
    expect(Object.values(bp.budget!.boundFor).some((x) => x !== 'rel:0.001')).toBe(true);
    // a name no input holds is a typo, refused (it was silently ignored)
    await expect(planArchive({ ...work, boundFor: { SSTT: 'abs:1' } })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/--bound-for names SSTT, which no input file holds \(they hold .*SST/) });
    await expect(planArchive({ ...work, vars: ['SST', 'nope'] })).rejects.toThrow(/--vars names nope, which no input file holds/);
    await expect(planArchive({ ...work, boundFor: { TIME: 'abs:1' } })).rejects.toThrow(/--bound-for names TIME, a coordinate variable: coordinates are kept exactly/);
  }, 120_000);
});
