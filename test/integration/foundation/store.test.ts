import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { hostname, uptime } from 'node:os';
import { Store } from '../../../src-main/services/store/store.ts';
import { migrate } from '../../../src-main/services/store/open-database.ts';
import { SCHEMA_VERSION } from '../../../src-main/services/store/migrations.ts';
import { FieldpackError, serializeError } from '../../../src-main/core/errors.ts';
import { tempDir } from '../../helpers/tmp.ts';

const tmp = tempDir();
afterAll(tmp.cleanup);
let n = 0;
const dbPath = () => join(tmp.dir, `db-${n++}.sqlite`);

describe('experiment store', () => {
  it('creates a WAL database at the latest schema and keeps projects, runs and metrics', () => {
    const path = dbPath();
    const store = Store.open(path);
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const p = store.createProject('Hurricane', 'WRF Katrina');
    expect(() => store.createProject('Hurricane')).toThrow(/already exists/);
    const run = store.createRun({ projectId: p.id, kind: 'demo', name: 'first', params: { bound: 1e-3 } });
    expect(run.status).toBe('scheduled');
    store.logMetric(run.id, 'loss', 0.5, 1);
    store.logMetric(run.id, 'loss', 0.25, 2);
    store.logMetric(run.id, 'psnr', NaN, 0);
    store.logMetric(run.id, 'ratio', Infinity, 0);
    store.setTag(run.id, 'codec', 'lorenzo');
    store.appendLog(run.id, 'hello');
    store.endRun(run.id, 'finished', { result: { ok: true } });
    store.close();

    const again = Store.open(path);
    const detail = again.getRunDetail(run.id);
    expect(detail.status).toBe('finished');
    expect(detail.params).toEqual({ bound: 1e-3 });
    expect(detail.metrics.filter((m) => m.key === 'loss').map((m) => [m.step, m.value])).toEqual([[1, 0.5], [2, 0.25]]);
    expect(detail.metrics.find((m) => m.key === 'psnr')!.value).toBe('NaN');
    expect(detail.metrics.find((m) => m.key === 'ratio')!.value).toBe('Infinity');
    expect(detail.tags).toEqual({ codec: 'lorenzo' });
    expect(detail.logs).toEqual(['hello']);
    expect(again.getProject(p.id).runCount).toBe(1);
    again.renameProject(p.id, 'Katrina');
    expect(again.getProject(p.id).name).toBe('Katrina');
    again.deleteProject(p.id);
    expect(() => again.getRun(run.id)).toThrow(/does not exist/);
    again.close();
  });

  it('migrates a database written by schema version 1, keeping its data and a backup', () => {
    const path = dbPath();
    copyFileSync(join(__dirname, '../../fixtures/db/schema-v1.sqlite'), path);
    // a file of the user's where the backup would go is kept (it was replaced), the backup beside it
    writeFileSync(`${path}.v1.bak`, 'mine');
    const store = Store.open(path);
    expect(store.opened.migratedFrom).toBe(1);
    expect(store.opened.backupPath).toBe(`${path}.v1-2.bak`);
    expect(store.opened.backupPath && existsSync(store.opened.backupPath)).toBeTruthy();
    expect(readFileSync(`${path}.v1.bak`, 'utf8')).toBe('mine');
    const projects = store.listProjects();
    expect(projects.map((p) => p.name)).toEqual(['Old project']);
    const runs = store.listRuns({ projectId: projects[0]!.id });
    expect(runs).toHaveLength(2);
    expect(runs.find((r) => r.name === 'done run')!.progress).toBe(1);
    expect(store.listMetrics(runs.find((r) => r.name === 'done run')!.id)).toHaveLength(1);
    // New columns and tables work on the migrated file; a new run's id follows the ones it had
    store.appendLog(runs[0]!.id, 'after migration');
    expect(store.createRun({ projectId: null, kind: 'demo', name: 'after' }).id).toBe(Math.max(...runs.map((r) => r.id)) + 1);
    expect(store.getSettings().workers).toBe(0);
    store.close();
  });

  it('never gives a deleted run\'s id to another run (reports, notes and file names name runs by id), nor after reopening', () => {
    const path = dbPath();
    const store = Store.open(path);
    const ids = [1, 2, 3].map((k) => store.createRun({ projectId: null, kind: 'demo', name: `r${k}`, status: 'finished' }).id);
    store.deleteRun(ids[2]!);
    store.deleteRun(ids[1]!);
    const next = store.createRun({ projectId: null, kind: 'demo', name: 'r4', status: 'finished' }).id;
    expect(next).toBe(ids[2]! + 1);
    store.deleteRun(next);
    store.close();
    const again = Store.open(path);
    expect(again.createRun({ projectId: null, kind: 'demo', name: 'r5' }).id).toBe(next + 1);
    again.close();
  });

  it('a run whose stored JSON is damaged is listed as damaged and can be deleted; a damaged owner of a running run does not stop the store opening', () => {
    const path = dbPath();
    const store = Store.open(path);
    const ok = store.createRun({ projectId: null, kind: 'demo', name: 'fine', status: 'finished' }).id;
    const bad = store.createRun({ projectId: null, kind: 'demo', name: 'damaged', status: 'finished' }).id;
    const running = store.createRun({ projectId: null, kind: 'demo', name: 'running', status: 'running' }).id;
    store.close();
    const db = new Database(path);
    db.prepare('UPDATE runs SET params_json = ?, result_json = ? WHERE id = ?').run('{"file": "/da', '[1,', bad);
    db.prepare(`UPDATE runs SET owner_json = '{"pid":12' WHERE id = ?`).run(running);
    db.close();
    // one such value made every listing fail with the parser's message, and the running one the store's opening
    const again = Store.open(path);
    const listed = again.listRuns({});
    expect(listed.map((r) => r.id).sort()).toEqual([ok, bad, running]);
    expect(again.getRun(bad)).toMatchObject({ params: {}, result: null, message: "the store's record of this run is damaged (parameters, result not readable)" });
    expect(again.markOrphanedRunsInterrupted().map((r) => r.id)).toEqual([running]);
    expect(again.getRun(running).status).toBe('interrupted');
    again.deleteRun(bad);
    expect(again.listRuns({}).map((r) => r.id).sort()).toEqual([ok, running]);
    again.close();
  });

  it('refuses a device given as the database, and writes nothing beside it (a /dev/null-journal was made as root)', () => {
    expect(() => Store.open('/dev/null')).toThrow(/\/dev\/null is a character device, not a database file/);
    expect(existsSync('/dev/null-journal')).toBe(false);
  });

  it('refuses a file that is not a database and leaves it byte for byte untouched', () => {
    const path = dbPath();
    const garbage = Buffer.from('this is a NetCDF file, not SQLite '.repeat(100));
    writeFileSync(path, garbage);
    let err: unknown;
    try {
      Store.open(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FieldpackError);
    expect((err as FieldpackError).code).toBe('DB_CORRUPT');
    expect((err as FieldpackError).message).toContain(path);
    expect(readFileSync(path).equals(garbage)).toBe(true);
    expect(existsSync(path + '-wal')).toBe(false);
  });

  it('refuses a damaged database (valid header, corrupt pages) without writing to it', () => {
    const path = dbPath();
    const s = Store.open(path);
    for (let i = 0; i < 200; i++) s.createProject(`p${i}`, 'x'.repeat(500));
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    s.close();
    const bytes = readFileSync(path);
    for (let i = 4096 + 100; i < bytes.length; i += 7) bytes[i] = 0xa5; // trash every page after the first
    writeFileSync(path, bytes);
    expect(() => Store.open(path)).toThrow(/damaged|not a Fieldpack database|malformed/);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('says a database locked by another process is locked, not damaged (whose advice was to restore a backup); a write refused later says so too', () => {
    const path = dbPath();
    Store.open(path).close();
    const holder = new Database(path);
    holder.pragma('journal_mode = DELETE');
    holder.prepare('BEGIN EXCLUSIVE').run();
    try {
      expect(() => Store.open(path)).toThrow(expect.objectContaining({ code: 'CONFLICT', message: expect.stringMatching(/is locked by another process .*It was left untouched/) }));
    } finally {
      holder.prepare('ROLLBACK').run();
      holder.close();
    }
    expect(serializeError(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))).toEqual({ code: 'CONFLICT', message: expect.stringMatching(/the experiment database is locked by another process \(database is locked\)/) });
    expect(serializeError(Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' })).code).toBe('INVALID_ARGUMENT');
  }, 20_000);

  it('refuses the SQLite database of another application without adding its tables to it; an empty SQLite file becomes a store', () => {
    const path = dbPath();
    const other = new Database(path);
    other.exec('CREATE TABLE t (x)');
    other.close();
    const bytes = readFileSync(path);
    expect(() => Store.open(path)).toThrow(/is an SQLite database of something else \(tables t\), not a Fieldpack database\. It was left untouched/);
    expect(readFileSync(path).equals(bytes)).toBe(true);
    const empty = dbPath();
    new Database(empty).close();
    const s = Store.open(empty);
    expect(s.listProjects().length).toBeGreaterThanOrEqual(0);
    s.close();
  });

  it('refuses a database from a newer Fieldpack', () => {
    const path = dbPath();
    const db = new Database(path);
    migrate(db, 0);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => Store.open(path)).toThrow(expect.objectContaining({ code: 'DB_TOO_NEW' }));
  });

  it('marks runs left running by a process that has stopped as interrupted, and leaves those of one that runs (the workbench, while the CLI opens the store)', async () => {
    const path = dbPath();
    const s = Store.open(path);
    const started = () => {
      const r = s.createRun({ projectId: null, kind: 'demo', name: 'x' });
      s.markRunStarted(r.id);
      s.setRunProgress(r.id, 0.4, 'step 4/10');
      return r.id;
    };
    const setOwner = (id: number, owner: object | null) => s.db.prepare('UPDATE runs SET owner_json = ? WHERE id = ?').run(owner ? JSON.stringify(owner) : null, id);
    const here = { host: hostname(), bootedAt: Math.round(Date.now() / 1000 - uptime()) };
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    // a live process that is no Fieldpack (the dead owner's pid reused by another program)
    const other = spawn('sleep', ['60']);
    try {
      const ofDead = started();
      setOwner(ofDead, { ...here, pid: dead });
      const ofLive = started();
      setOwner(ofLive, { ...here, pid: sleeper.pid });
      const beforeOwners = started();
      setOwner(beforeOwners, null);
      const lastBoot = started();
      setOwner(lastBoot, { ...here, pid: sleeper.pid, bootedAt: here.bootedAt - 86400 });
      const elsewhere = started();
      setOwner(elsewhere, { host: 'another-node', pid: dead, bootedAt: 0 });
      const reused = started();
      setOwner(reused, { ...here, pid: other.pid });
      // this process's pid held by an earlier process (a container's PID 1 after a restart): its own token differs
      const earlierLife = started();
      setOwner(earlierLife, { ...here, pid: process.pid, token: 'an earlier process' });
      const mine = started();
      s.close();
      const s2 = Store.open(path);
      const marked = s2.markOrphanedRunsInterrupted();
      expect(marked.map((m) => m.id).sort()).toEqual([ofDead, beforeOwners, lastBoot, reused, earlierLife].sort());
      expect(marked.every((m) => m.status === 'interrupted')).toBe(true);
      expect(s2.getRun(ofDead).message).toMatch(/interrupted.*40%/);
      for (const id of [ofLive, elsewhere, mine]) expect(s2.getRun(id).status).toBe('running');
      expect(s2.otherLiveOwner(ofLive)).toEqual({ host: here.host, pid: sleeper.pid });
      expect(s2.otherLiveOwner(mine)).toBeNull();
      // another machine's process cannot be asked: its run stays running here, and a cancel from here may end its record
      expect(s2.otherLiveOwner(elsewhere)).toBeNull();
      s2.close();
    } finally {
      sleeper.kill();
      other.kill();
    }
  });
});
