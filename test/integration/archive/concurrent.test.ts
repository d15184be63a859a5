/**
 * Archives touched by others while they are built: a second build into the same folder (it reused the first one's
 * members under its own bound), a source still being written (a member of more rows than the manifest declares, and
 * a build that said it succeeded), a crafted journal line naming a member's stream as an object (merge deleted it),
 * a damaged work.json. Each is refused naming what happened, and nothing already built is lost. Input folders with
 * links (to themselves, dangling, a second path to a file) are walked once per file.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArchive, mergeArchive, verifyArchive } from '../../../src-main/services/archive/index.ts';
import { buildMembers, prepareWork } from '../../../src-main/services/archive/build.ts';
import { expandInputs, shardAssignment } from '../../../src-main/services/archive/work.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { COADS } from '../../helpers/data-files.ts';
import { PYTHON, hasPythonNetcdf4 } from '../data/helpers.ts';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'data', 'synthetic_nc3_64bit.nc');
const tmp = tempDir('fieldpack-archive-concurrent-');
afterAll(() => tmp.cleanup());

const options = (inputs: string[], out: string) => ({ inputs, out, bound: 'rel:1e-2', crossfield: 'off' as const, vars: ['sst'] });

/** An archive of a copy of the fixture, built into a folder of that name; its path. */
async function builtArchive(name: string): Promise<string> {
  const src = join(tmp.dir, `${name}.nc`);
  copyFileSync(FIXTURE, src);
  const out = join(tmp.dir, name);
  await buildArchive(options([src], out));
  return out;
}

describe('archive builds that meet other writers', () => {
  it('a second build into a folder another process builds is refused; a lock its ended build left is taken over', async () => {
    const src = join(tmp.dir, 'topo.nc');
    copyFileSync(FIXTURE, src);
    const out = join(tmp.dir, 'locked');
    // this process stands for the other build: alive, so its lock holds
    const lock = join(out, '.build.lock');
    mkdirSync(out, { recursive: true });
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), since: '2026-01-01T00:00:00Z' }));
    await expect(buildArchive(options([src], out))).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/is being built by process \d+ on .*: two builds into one folder would mix their members/) });
    expect(readdirSync(out)).toEqual(['.build.lock']);
    // a killed build's lock (no such process): taken over, and gone once the build ends
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 17, host: hostname(), since: '2026-01-01T00:00:00Z' }));
    const built = await buildArchive(options([src], out));
    expect(built.kind).toBe('archive');
    expect(existsSync(lock)).toBe(false);
    expect((await verifyArchive(out)).ok).toBe(true);
  });

  it('a crafted journal line naming a member\'s stream as an object is not read: merge keeps the member', async () => {
    const out = await builtArchive('crafted');
    const member = readdirSync(join(out, 'members'))[0]!;
    const bytes = readFileSync(join(out, 'members', member));
    const hash = createHash('sha256').update(bytes).digest('hex');
    appendFileSync(join(out, 'journal', 'build.jsonl'), `${JSON.stringify({ type: 'object', object: { hash, kind: 'model', file: `members/${member}`, bytes: bytes.length, label: 'x' } })}\n`);
    await mergeArchive(out);
    expect(existsSync(join(out, 'members', member))).toBe(true);
    expect((await verifyArchive(out)).ok).toBe(true);
  });

  it('a member with lines in two journals (a stale one read last) keeps the line its stream matches: merged and reused, not built again', async () => {
    const out = await builtArchive('twolines');
    const [line] = readFileSync(join(out, 'journal', 'build.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"member"'));
    const stale = JSON.parse(line!);
    stale.member.streamSha256 = '0'.repeat(64);
    // a journal sorted after build.jsonl: its line was the one taken, the member counted as missing
    writeFileSync(join(out, 'journal', 'shard-0-of-2.jsonl'), `${JSON.stringify(stale)}\n`);
    const m = await mergeArchive(out);
    expect(m.members.map((e) => e.streamSha256)).not.toContain('0'.repeat(64));
    const work = JSON.parse(readFileSync(join(out, 'work.json'), 'utf8'));
    expect(await buildMembers(out, work, null)).toEqual({ built: 0, reused: work.members.length });
    expect((await verifyArchive(out)).ok).toBe(true);
  });

  it('an anchor two targets share keeps both targets in its shard group: COADS with 4 and 8 shards puts every target beside its anchors (with 4 or more a target went apart and the build failed)', async () => {
    const out = join(tmp.dir, 'shared-anchor');
    const work = await prepareWork(out, { inputs: [COADS], bound: 'rel:1e-3', crossfield: 'auto' } as never);
    const byId = new Map(work.members.map((m) => [m.id, m]));
    const linked = work.members.filter((m) => m.anchors.length);
    expect(new Set(linked.flatMap((m) => m.anchors)).size).toBeLessThan(linked.flatMap((m) => m.anchors).length);
    for (const m of linked) for (const a of m.anchors) expect(byId.get(a)!.group, `${m.id} <- ${a}`).toBe(m.group);
    for (const count of [4, 8]) {
      const shard = shardAssignment(work, count);
      for (const m of linked) for (const a of m.anchors) expect(shard.get(a), `${count} shards: ${m.id} <- ${a}`).toBe(shard.get(m.id));
    }
  });

  it('a damaged work.json is said as such, naming the file', async () => {
    const out = await builtArchive('damaged');
    const work = join(out, 'work.json');
    writeFileSync(work, readFileSync(work, 'utf8').slice(0, 200));
    await expect(mergeArchive(out)).rejects.toMatchObject({ code: 'BAD_FILE', message: expect.stringMatching(/work\.json: not JSON: the archive's work file is damaged/) });
  });

  it.runIf(hasPythonNetcdf4())('a source that grows during the build (a run still writing it): its member is refused naming member and file, and no manifest declares the archive complete (needs python3-netcdf4)', async () => {
    const src = join(tmp.dir, 'growing.nc');
    const py = (code: string) => execFileSync(PYTHON, ['-c', code, src]);
    py(`
import sys, numpy as np, netCDF4
d = netCDF4.Dataset(sys.argv[1], 'w'); d.createDimension('time', None); d.createDimension('y', 20); d.createDimension('x', 30)
d.createVariable('temp', 'f4', ('time', 'y', 'x'))[:] = np.random.default_rng(1).standard_normal((5, 20, 30)).cumsum(-1)
d.close()`);
    const out = join(tmp.dir, 'grown');
    const work = await prepareWork(out, { inputs: [src], bound: 'rel:1e-3', crossfield: 'off' } as never);
    // two more time steps appended after the plan (and a second later, so the modification time differs)
    await new Promise((res) => setTimeout(res, 1100));
    py(`
import sys, numpy as np, netCDF4
d = netCDF4.Dataset(sys.argv[1], 'a'); d['temp'][5:7] = np.zeros((2, 20, 30)); d.close()`);
    await expect(buildMembers(out, work, null)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/^member \S+ \(temp of .*growing\.nc\): .*temp is now \[7, 20, 30\], planned as \[5, 20, 30\]: the file changed since the build was planned/) });
    await expect(mergeArchive(out)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/growing\.nc changed during the build/) });
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  });
});

describe('input folders with links', () => {
  it('a link to the folder itself, a dangling link and a second path to a file: each file planned once, under its own path', async () => {
    const input = join(tmp.dir, 'linked');
    mkdirSync(join(input, 'sub'), { recursive: true });
    copyFileSync(FIXTURE, join(input, 'real.nc'));
    copyFileSync(FIXTURE, join(input, 'sub', 'other.nc'));
    symlinkSync(input, join(input, 'loop'));
    symlinkSync('/nonexistent/gone.nc', join(input, 'dangling.nc'));
    symlinkSync('real.nc', join(input, 'alias.nc'));
    expect(expandInputs([input])).toEqual([join(input, 'real.nc'), join(input, 'sub', 'other.nc')]);
  });
});
