/**
 * The experiment store: typed access to the SQLite database. All SQL lives here.
 */
import type Database from 'better-sqlite3';
import { FieldpackError, type SerializedError } from '../../core/errors.ts';
import type { Artifact, Dataset, FieldRecord, Metric, Model, Project, Run, RunDetail, RunStatus, Settings } from '../../api/contract.ts';
import { DEFAULT_SETTINGS } from '../../api/contract.ts';
import { openDatabase, type OpenedDatabase } from './open-database.ts';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, uptime } from 'node:os';
import { processAlive } from '../files/atomic.ts';

const now = () => new Date().toISOString();

interface RunRow {
  id: number;
  project_id: number | null;
  experiment_id: number | null;
  kind: string;
  name: string;
  status: RunStatus;
  params_json: string;
  result_json: string | null;
  error_json: string | null;
  progress: number;
  message: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  note: string;
  archived_at: string | null;
  origin_json: string | null;
  owner_json: string | null;
}

/** The process that runs a run: a run left running or scheduled is orphaned once its owner has stopped. */
interface RunOwner {
  host: string;
  pid: number;
  /** the machine's boot, seconds since 1970 (a pid of an earlier boot is another process) */
  bootedAt: number;
  /** this process's own token: a later process given the same pid (a container's PID 1 restarted) has another */
  token?: string;
  /** another process asked the owner to cancel the run (requestCancel): who, as said in the run's log */
  cancelRequestedBy?: string;
}

const thisBoot = () => Math.round(Date.now() / 1000 - uptime());
const THIS_PROCESS_TOKEN = randomBytes(8).toString('hex');

function thisProcess(): string {
  return JSON.stringify({ host: hostname(), pid: process.pid, bootedAt: thisBoot(), token: THIS_PROCESS_TOKEN } satisfies RunOwner);
}

/**
 * Whether a run's owner has stopped: a run recorded before owners were (stores of schema 4), or this machine's
 * process that no longer runs, ran before its last boot, or had this process's pid before it. Another machine's (a
 * store on a shared disk) cannot be asked, so it counts as running here (a cancel from here still ends its record).
 */
function ownerStopped(o: RunOwner | null): boolean {
  // none, or a damaged record of one (ownerOf): no process can be asked about it
  if (!o) return true;
  if (o.host !== hostname()) return false;
  if (o.pid === process.pid) return o.token !== THIS_PROCESS_TOKEN;
  // the boot time from uptime moves by a second or so between calls
  return Math.abs(o.bootedAt - thisBoot()) > 120 || !processAlive(o.pid) || !mayBeFieldpack(o.pid);
}

/** A run's owner as stored, or null where there is none or its record is damaged (not JSON of an owner). */
function ownerOf(json: string | null | undefined): RunOwner | null {
  if (!json) return null;
  const o = storedJson<RunOwner | null, null>(json, null);
  return o && typeof o === 'object' && typeof o.pid === 'number' && typeof o.host === 'string' ? o : null;
}

/**
 * A JSON column's value, or `damaged` where the text is not JSON (a store damaged on disk): one such value made every
 * listing fail with the parser's message, and a running run's made the store unusable (its start-up sweep).
 */
function storedJson<T, D>(text: string, damaged: D): T | D {
  try {
    return JSON.parse(text) as T;
  } catch {
    return damaged;
  }
}

/** Whether a running process may be a Fieldpack (Node or Electron): a pid reused by another program is not (Linux's /proc says; elsewhere it may). */
function mayBeFieldpack(pid: number): boolean {
  try {
    return /node|electron|fieldpack/i.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

/** Job kinds that are data operations (dataset.import), not experiments: never counted or listed as runs unless asked for by kind. */
const NOT_DATA_JOB = `kind NOT LIKE 'dataset.%'`;

/** storedJson's answer for a column that is not JSON */
const DAMAGED = Symbol('damaged');

function toRun(r: RunRow): Run {
  // a damaged column is listed as such, so the run can still be seen and deleted
  const damaged: string[] = [];
  const column = <T,>(name: string, text: string | null, missing: T): T => {
    if (text === null) return missing;
    const v = storedJson<T, typeof DAMAGED>(text, DAMAGED);
    if (v !== DAMAGED) return v;
    damaged.push(name);
    return missing;
  };
  const params = column<Record<string, unknown>>('parameters', r.params_json, {});
  const result = column('result', r.result_json, null);
  const error = column('error', r.error_json, null);
  const origin = column('origin', r.origin_json || null, null);
  return {
    id: r.id,
    projectId: r.project_id,
    experimentId: r.experiment_id,
    kind: r.kind,
    name: r.name,
    status: r.status,
    params,
    result,
    error,
    progress: r.progress,
    message: damaged.length ? `the store's record of this run is damaged (${damaged.join(', ')} not readable)${r.message ? `; ${r.message}` : ''}` : r.message,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    note: r.note ?? '',
    archivedAt: r.archived_at ?? null,
    origin,
  };
}

type MetricNumber = Metric['value'];

function encodeMetric(v: number): { value: number | null; kind: 'finite' | 'nan' | 'inf' | '-inf' } {
  if (Number.isNaN(v)) return { value: null, kind: 'nan' };
  if (v === Infinity) return { value: null, kind: 'inf' };
  if (v === -Infinity) return { value: null, kind: '-inf' };
  return { value: v, kind: 'finite' };
}

function decodeMetric(value: number | null, kind: string): MetricNumber {
  if (kind === 'nan') return 'NaN';
  if (kind === 'inf') return 'Infinity';
  if (kind === '-inf') return '-Infinity';
  return value as number;
}

export interface NewRun {
  projectId: number | null;
  experimentId?: number | null;
  kind: string;
  name: string;
  params?: Record<string, unknown>;
  status?: RunStatus;
}

export interface NewField {
  name: string;
  file: string;
  dims: string[];
  shape: number[];
  dtype: string;
  units?: string | null;
  gridKey?: string | null;
  stats?: Record<string, unknown>;
}

export class Store {
  readonly db: Database.Database;
  readonly path: string;
  readonly schemaVersion: number;
  readonly opened: OpenedDatabase;

  private constructor(opened: OpenedDatabase) {
    this.opened = opened;
    this.db = opened.db;
    this.path = opened.path;
    this.schemaVersion = opened.schemaVersion;
  }

  static open(path: string): Store {
    return new Store(openDatabase(path));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- projects ----

  listProjects(): Project[] {
    return (
      this.db
        .prepare(
          `SELECT p.*, (SELECT COUNT(*) FROM datasets d WHERE d.project_id = p.id) AS dataset_count,
                  (SELECT COUNT(*) FROM runs r WHERE r.project_id = p.id AND r.${NOT_DATA_JOB} AND r.archived_at IS NULL) AS run_count
           FROM projects p ORDER BY p.updated_at DESC, p.id DESC`,
        )
        .all() as ProjectRow[]
    ).map(toProject);
  }

  getProject(id: number): Project {
    const row = this.db
      .prepare(
        `SELECT p.*, (SELECT COUNT(*) FROM datasets d WHERE d.project_id = p.id) AS dataset_count,
                (SELECT COUNT(*) FROM runs r WHERE r.project_id = p.id AND r.${NOT_DATA_JOB} AND r.archived_at IS NULL) AS run_count
         FROM projects p WHERE p.id = ?`,
      )
      .get(id) as ProjectRow | undefined;
    if (!row) throw new FieldpackError('NOT_FOUND', `project ${id} does not exist`, { id });
    return toProject(row);
  }

  findProjectByName(name: string): Project | null {
    const row = this.db.prepare('SELECT id FROM projects WHERE name = ?').get(name) as { id: number } | undefined;
    return row ? this.getProject(row.id) : null;
  }

  createProject(name: string, description = ''): Project {
    if (this.findProjectByName(name)) throw new FieldpackError('CONFLICT', `a project named "${name}" already exists`, { name });
    const t = now();
    const info = this.db
      .prepare('INSERT INTO projects (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)')
      .run(name, description, t, t);
    return this.getProject(Number(info.lastInsertRowid));
  }

  renameProject(id: number, name: string): Project {
    this.getProject(id);
    const other = this.findProjectByName(name);
    if (other && other.id !== id) throw new FieldpackError('CONFLICT', `a project named "${name}" already exists`, { name });
    this.db.prepare('UPDATE projects SET name = ?, updated_at = ? WHERE id = ?').run(name, now(), id);
    return this.getProject(id);
  }

  /** Runs of a project imported from this export (the exporting database, its run ids, the export's time). */
  runsImportedFrom(projectId: number, database: string, exportedAt: string, runIds: number[]): number[] {
    const rows = this.db.prepare(
      `SELECT id, json_extract(origin_json, '$.runId') AS source FROM runs WHERE project_id = ? AND origin_json IS NOT NULL
       AND json_extract(origin_json, '$.database') = ? AND json_extract(origin_json, '$.exportedAt') = ? ORDER BY id`,
    ).all(projectId, database, exportedAt) as { id: number; source: number }[];
    return rows.filter((r) => runIds.includes(r.source)).map((r) => r.id);
  }

  /** Deletes a project with its runs (the database's cascade); returns their ids, whose folders the caller removes. */
  deleteProject(id: number): number[] {
    this.getProject(id);
    const runs = (this.db.prepare('SELECT id FROM runs WHERE project_id = ?').all(id) as { id: number }[]).map((r) => r.id);
    this.db.prepare('DELETE FROM projects WHERE id = ?').run(id);
    return runs;
  }

  touchProject(id: number): void {
    this.db.prepare('UPDATE projects SET updated_at = ? WHERE id = ?').run(now(), id);
  }

  // ---- datasets and fields ----

  /** A dataset and all its fields in one transaction: an import is all or nothing. */
  createDataset(projectId: number, name: string, files: string[], description: Record<string, unknown>, fields: NewField[]): Dataset {
    this.getProject(projectId);
    const insertField = this.db.prepare(
      `INSERT INTO fields (dataset_id, name, file, dims_json, shape_json, dtype, units, grid_key, stats_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const datasetId = this.db.transaction(() => {
      const info = this.db
        .prepare('INSERT INTO datasets (project_id, name, files_json, description_json, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(projectId, name, JSON.stringify(files), JSON.stringify(description), now());
      const dsId = Number(info.lastInsertRowid);
      for (const f of fields) {
        insertField.run(dsId, f.name, f.file, JSON.stringify(f.dims), JSON.stringify(f.shape), f.dtype, f.units ?? null, f.gridKey ?? null, JSON.stringify(f.stats ?? {}));
      }
      this.touchProject(projectId);
      return dsId;
    })();
    return this.getDataset(datasetId);
  }

  getDataset(id: number): Dataset {
    const row = this.db
      .prepare('SELECT d.*, (SELECT COUNT(*) FROM fields f WHERE f.dataset_id = d.id) AS field_count FROM datasets d WHERE d.id = ?')
      .get(id) as DatasetRow | undefined;
    if (!row) throw new FieldpackError('NOT_FOUND', `dataset ${id} does not exist`, { id });
    return toDataset(row);
  }

  listDatasets(projectId: number): Dataset[] {
    return (
      this.db
        .prepare('SELECT d.*, (SELECT COUNT(*) FROM fields f WHERE f.dataset_id = d.id) AS field_count FROM datasets d WHERE d.project_id = ? ORDER BY d.id')
        .all(projectId) as DatasetRow[]
    ).map(toDataset);
  }

  deleteDataset(id: number): void {
    this.getDataset(id);
    this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
  }

  listFields(datasetId: number): FieldRecord[] {
    this.getDataset(datasetId);
    return (this.db.prepare('SELECT * FROM fields WHERE dataset_id = ? ORDER BY id').all(datasetId) as FieldRow[]).map(toField);
  }

  getField(id: number): FieldRecord {
    const row = this.db.prepare('SELECT * FROM fields WHERE id = ?').get(id) as FieldRow | undefined;
    if (!row) throw new FieldpackError('NOT_FOUND', `field ${id} does not exist`, { id });
    return toField(row);
  }

  // ---- runs (which double as job records) ----

  /**
   * The id of the run about to be inserted (in the inserting transaction): past every id ever given, so a deleted
   * run's id never names another run (shared reports, notes, a stale tab and `run12.fpk` name runs by id).
   */
  private nextRunId(): number {
    const last = this.db.prepare('SELECT last FROM run_id_counter').pluck().get() as number | undefined;
    const max = this.db.prepare('SELECT COALESCE(MAX(id), 0) FROM runs').pluck().get() as number;
    const id = Math.max(last ?? 0, max) + 1;
    this.db.prepare('UPDATE run_id_counter SET last = ?').run(id);
    return id;
  }

  createRun(r: NewRun): Run {
    if (r.projectId !== null) this.getProject(r.projectId);
    const id = this.db.transaction(() => {
      const id = this.nextRunId();
      this.db
        .prepare(
          `INSERT INTO runs (id, project_id, experiment_id, kind, name, status, params_json, created_at, owner_json)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, r.projectId, r.experimentId ?? null, r.kind, r.name, r.status ?? 'scheduled', JSON.stringify(r.params ?? {}), now(), thisProcess());
      return id;
    }).immediate();
    if (r.projectId !== null) this.touchProject(r.projectId);
    return this.getRun(id);
  }

  getRun(id: number): Run {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) throw new FieldpackError('NOT_FOUND', `run ${id} does not exist`, { id });
    return toRun(row);
  }

  /**
   * Runs, newest first. Data operations (dataset.import jobs) are left out unless `kind` names them; archived runs
   * unless `archived` is 'include' or 'only'. `query` matches the name, note, parameters and tag values (case-insensitive
   * substring); `tags` keeps runs that carry every key=value given (a value of '' = the key with any value).
   */
  listRuns(
    filter: {
      projectId?: number | null;
      /** one kind, or any of several */
      kind?: string | readonly string[];
      statuses?: readonly RunStatus[];
      limit?: number;
      archived?: 'exclude' | 'include' | 'only';
      query?: string;
      tags?: Record<string, string>;
      experimentId?: number;
      ids?: readonly number[];
    } = {},
  ): Run[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.projectId !== undefined) {
      if (filter.projectId === null) where.push('project_id IS NULL');
      else {
        where.push('project_id = ?');
        args.push(filter.projectId);
      }
    }
    const kinds = typeof filter.kind === 'string' ? [filter.kind] : filter.kind;
    if (kinds?.length) {
      where.push(`kind IN (${kinds.map(() => '?').join(',')})`);
      args.push(...kinds);
    } else if (!filter.statuses?.length) where.push(NOT_DATA_JOB);
    if (filter.statuses?.length) {
      where.push(`status IN (${filter.statuses.map(() => '?').join(',')})`);
      args.push(...filter.statuses);
    }
    const archived = filter.archived ?? (filter.statuses?.length || filter.ids ? 'include' : 'exclude');
    if (archived === 'exclude') where.push('archived_at IS NULL');
    if (archived === 'only') where.push('archived_at IS NOT NULL');
    if (filter.experimentId !== undefined) {
      where.push('experiment_id = ?');
      args.push(filter.experimentId);
    }
    if (filter.ids) {
      where.push(`id IN (${filter.ids.map(() => '?').join(',') || 'NULL'})`);
      args.push(...filter.ids);
    }
    const q = filter.query?.trim().toLowerCase();
    if (q) {
      const like = `%${q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      where.push(
        `(lower(name) LIKE ? ESCAPE '\\' OR lower(note) LIKE ? ESCAPE '\\' OR lower(params_json) LIKE ? ESCAPE '\\' OR kind LIKE ? ESCAPE '\\'
          OR EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND (lower(t.value) LIKE ? ESCAPE '\\' OR lower(t.key) LIKE ? ESCAPE '\\')))`,
      );
      args.push(like, like, like, like, like, like);
    }
    for (const [k, v] of Object.entries(filter.tags ?? {})) {
      where.push(v === '' ? 'EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.key = ?)' : 'EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.key = ? AND t.value = ?)');
      args.push(k, ...(v === '' ? [] : [v]));
    }
    const sql = `SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    args.push(filter.limit ?? 200);
    return (this.db.prepare(sql).all(...args) as RunRow[]).map(toRun);
  }

  /** The reviewer's changes to a run: its note, archived or not, tags set ('' values allowed) and tags removed. */
  updateRun(id: number, patch: { note?: string; archived?: boolean; setTags?: Record<string, string>; removeTags?: string[]; experimentId?: number | null }): Run {
    this.getRun(id);
    this.db.transaction(() => {
      if (patch.note !== undefined) this.db.prepare('UPDATE runs SET note = ? WHERE id = ?').run(patch.note, id);
      if (patch.archived !== undefined) this.db.prepare('UPDATE runs SET archived_at = ? WHERE id = ?').run(patch.archived ? now() : null, id);
      if (patch.experimentId !== undefined) this.db.prepare('UPDATE runs SET experiment_id = ? WHERE id = ?').run(patch.experimentId, id);
      for (const [k, v] of Object.entries(patch.setTags ?? {})) this.setTag(id, k, v);
      for (const k of patch.removeTags ?? []) this.db.prepare('DELETE FROM run_tags WHERE run_id = ? AND key = ?').run(id, k);
    })();
    return this.getRun(id);
  }

  /** An experiment of a project by name, created when missing. */
  experimentNamed(projectId: number, name: string): { id: number; name: string } {
    const row = this.db.prepare('SELECT id, name FROM experiments WHERE project_id = ? AND name = ?').get(projectId, name) as { id: number; name: string } | undefined;
    if (row) return row;
    const info = this.db.prepare('INSERT INTO experiments (project_id, name, created_at) VALUES (?, ?, ?)').run(projectId, name, now());
    return { id: Number(info.lastInsertRowid), name };
  }

  /** Removes an experiment no run belongs to (an import that failed takes back the one it made). */
  deleteEmptyExperiment(id: number): void {
    this.db.prepare('DELETE FROM experiments WHERE id = ? AND NOT EXISTS (SELECT 1 FROM runs WHERE experiment_id = ?)').run(id, id);
  }

  listExperiments(projectId: number): { id: number; name: string; runCount: number }[] {
    return (
      this.db
        .prepare(`SELECT e.id, e.name, (SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id AND r.archived_at IS NULL) AS run_count FROM experiments e WHERE e.project_id = ? ORDER BY e.id`)
        .all(projectId) as { id: number; name: string; run_count: number }[]
    ).map((e) => ({ id: e.id, name: e.name, runCount: e.run_count }));
  }

  /** A run brought in from another database (an experiment file): one transaction, so a failed import leaves nothing. */
  insertImportedRun(r: {
    projectId: number;
    experimentId: number | null;
    run: Run;
    metrics: Metric[];
    tags: Record<string, string>;
    logs: string[];
    origin: Record<string, unknown>;
    artifacts: (run: number) => Omit<Artifact, 'id'>[];
  }): Run {
    const id = this.db.transaction(() => {
      const runId = this.nextRunId();
      this.db
        .prepare(
          `INSERT INTO runs (id, project_id, experiment_id, kind, name, status, params_json, result_json, error_json, progress, message, created_at, started_at, ended_at, note, archived_at, origin_json)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          runId, r.projectId, r.experimentId, r.run.kind, r.run.name, r.run.status, JSON.stringify(r.run.params), r.run.result === null ? null : JSON.stringify(r.run.result),
          r.run.error ? JSON.stringify(r.run.error) : null, r.run.progress, r.run.message, r.run.createdAt, r.run.startedAt, r.run.endedAt, r.run.note, r.run.archivedAt, JSON.stringify(r.origin),
        );
      const metric = this.db.prepare('INSERT INTO run_metrics (run_id, key, step, value, value_kind, logged_at) VALUES (?, ?, ?, ?, ?, ?)');
      for (const m of r.metrics) {
        const e = typeof m.value === 'number' ? encodeMetric(m.value) : encodeMetric(Number(m.value));
        metric.run(runId, m.key, m.step, e.value, e.kind, m.loggedAt);
      }
      for (const [k, v] of Object.entries(r.tags)) this.setTag(runId, k, v);
      for (const line of r.logs) this.appendLog(runId, line);
      for (const a of r.artifacts(runId)) this.addArtifact(runId, a);
      this.touchProject(r.projectId);
      return runId;
    })();
    return this.getRun(id);
  }

  markRunStarted(id: number): Run {
    this.db.prepare(`UPDATE runs SET status = 'running', started_at = ?, progress = 0 WHERE id = ?`).run(now(), id);
    return this.getRun(id);
  }

  setRunProgress(id: number, progress: number, message: string): void {
    this.db.prepare('UPDATE runs SET progress = ?, message = ? WHERE id = ?').run(progress, message, id);
  }

  /** Terminal states: finished (with result), failed (with error), cancelled, interrupted. */
  endRun(id: number, status: Exclude<RunStatus, 'scheduled' | 'running'>, opts: { result?: unknown; error?: SerializedError; message?: string } = {}): Run {
    const run = this.getRun(id);
    this.db
      .prepare('UPDATE runs SET status = ?, ended_at = ?, result_json = ?, error_json = ?, progress = ?, message = ? WHERE id = ?')
      .run(
        status,
        now(),
        opts.result === undefined ? null : JSON.stringify(opts.result),
        opts.error ? JSON.stringify(opts.error) : null,
        status === 'finished' ? 1 : run.progress,
        opts.message ?? (status === 'finished' ? 'done' : opts.error?.message ?? status),
        id,
      );
    return this.getRun(id);
  }

  /**
   * Another process of this machine that runs or queued run `id`, while it still runs; else null. Only it can stop
   * the work (another machine's cannot be asked whether it still runs, so its run is cancelled from here as before).
   */
  otherLiveOwner(id: number): { host: string; pid: number } | null {
    const json = this.db.prepare('SELECT owner_json FROM runs WHERE id = ?').pluck().get(id) as string | null | undefined;
    const o = ownerOf(json);
    if (!o || ownerStopped(o)) return null;
    return o.host !== hostname() || o.pid === process.pid ? null : { host: o.host, pid: o.pid };
  }

  /**
   * Asks the process that runs `id` (a live owner other than this one) to cancel it: its job queue looks for such
   * requests while it runs jobs (JobQueue's cancel watch). `by` names who asked, for the run's log.
   */
  requestCancel(id: number, by: string): void {
    this.db.transaction(() => {
      const json = this.db.prepare(`SELECT owner_json FROM runs WHERE id = ? AND status IN ('running', 'scheduled')`).pluck().get(id) as string | null | undefined;
      if (!json) return;
      const owner = { ...(ownerOf(json) ?? {}), cancelRequestedBy: by };
      this.db.prepare('UPDATE runs SET owner_json = ? WHERE id = ?').run(JSON.stringify(owner), id);
    })();
  }

  /** Who asked another process to cancel run `id` (requestCancel), or null where nobody has. */
  cancelRequestedBy(id: number): string | null {
    const json = this.db.prepare('SELECT owner_json FROM runs WHERE id = ?').pluck().get(id) as string | null | undefined;
    return ownerOf(json)?.cancelRequestedBy ?? null;
  }

  /**
   * Runs left running or scheduled by a process that has stopped (killed, or the machine restarted) end interrupted;
   * those of a Fieldpack still running (the workbench, while a CLI opens the same store) are left to it.
   */
  markOrphanedRunsInterrupted(): Run[] {
    const unfinished = this.listRuns({ statuses: ['running', 'scheduled'], limit: 100_000 });
    const ownerJson = this.db.prepare('SELECT owner_json FROM runs WHERE id = ?').pluck();
    const orphans = unfinished.filter((r) => ownerStopped(ownerOf(ownerJson.get(r.id) as string | null)));
    const stmt = this.db.prepare(`UPDATE runs SET status = 'interrupted', ended_at = ?, message = ? WHERE id = ?`);
    this.db.transaction(() => {
      for (const r of orphans) {
        stmt.run(now(), `interrupted: Fieldpack stopped while this ${r.status === 'running' ? 'ran' : 'waited'} (at ${Math.round(r.progress * 100)}%)`, r.id);
      }
    })();
    return orphans.map((r) => this.getRun(r.id));
  }

  deleteRun(id: number): void {
    const run = this.getRun(id);
    if (run.status === 'running' || run.status === 'scheduled') {
      throw new FieldpackError('CONFLICT', `run ${id} is ${run.status}: cancel it before deleting it`, { id });
    }
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
  }

  logMetric(runId: number, key: string, value: number, step = 0): Metric {
    const { value: v, kind } = encodeMetric(value);
    const t = now();
    this.db
      .prepare(
        `INSERT INTO run_metrics (run_id, key, step, value, value_kind, logged_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, key, step) DO UPDATE SET value = excluded.value, value_kind = excluded.value_kind, logged_at = excluded.logged_at`,
      )
      .run(runId, key, step, v, kind, t);
    return { key, step, value: decodeMetric(v, kind), loggedAt: t };
  }

  listMetrics(runId: number): Metric[] {
    return (
      this.db.prepare('SELECT key, step, value, value_kind, logged_at FROM run_metrics WHERE run_id = ? ORDER BY key, step').all(runId) as {
        key: string;
        step: number;
        value: number | null;
        value_kind: string;
        logged_at: string;
      }[]
    ).map((m) => ({ key: m.key, step: m.step, value: decodeMetric(m.value, m.value_kind), loggedAt: m.logged_at }));
  }

  setTag(runId: number, key: string, value: string): void {
    this.db.prepare('INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value').run(runId, key, value);
  }

  addArtifact(runId: number, a: Omit<Artifact, 'id'>): Artifact {
    const info = this.db
      .prepare('INSERT INTO run_artifacts (run_id, name, path, kind, size_bytes, sha256) VALUES (?, ?, ?, ?, ?, ?)')
      .run(runId, a.name, a.path, a.kind, a.sizeBytes, a.sha256);
    return { id: Number(info.lastInsertRowid), ...a };
  }

  appendLog(runId: number, line: string): void {
    this.db
      .prepare('INSERT INTO run_logs (run_id, seq, logged_at, line) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM run_logs WHERE run_id = ?), ?, ?)')
      .run(runId, runId, now(), line);
  }

  getRunDetail(id: number): RunDetail {
    const run = this.getRun(id);
    const artifacts = (this.db.prepare('SELECT * FROM run_artifacts WHERE run_id = ? ORDER BY id').all(id) as {
      id: number;
      name: string;
      path: string;
      kind: string;
      size_bytes: number | null;
      sha256: string | null;
    }[]).map((a) => ({ id: a.id, name: a.name, path: a.path, kind: a.kind, sizeBytes: a.size_bytes, sha256: a.sha256 }));
    const tags = Object.fromEntries(
      (this.db.prepare('SELECT key, value FROM run_tags WHERE run_id = ?').all(id) as { key: string; value: string }[]).map((t) => [t.key, t.value]),
    );
    const logs = (this.db.prepare('SELECT line FROM run_logs WHERE run_id = ? ORDER BY seq').all(id) as { line: string }[]).map((l) => l.line);
    return { ...run, metrics: this.listMetrics(id), artifacts, tags, logs };
  }

  // ---- models ----

  /** Registers a model (or returns the existing one with the same content hash). */
  registerModel(m: NewModel): Model {
    const existing = this.db.prepare('SELECT id FROM models WHERE content_hash = ?').get(m.contentHash) as { id: number } | undefined;
    if (existing) return this.getModel(existing.id);
    const info = this.db
      .prepare(
        `INSERT INTO models (project_id, run_id, content_hash, network, network_version, ndim, inputs_json, outputs_json, contract_json,
                             params_json, training_json, metrics_json, parameter_count, size_bytes, manifest_json, path, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        m.projectId, m.runId, m.contentHash, m.network, String(m.networkVersion), m.ndim, JSON.stringify(m.inputs), JSON.stringify(m.outputs),
        JSON.stringify(m.contract), JSON.stringify(m.params), JSON.stringify(m.training), JSON.stringify(m.metrics), m.parameterCount,
        m.sizeBytes, JSON.stringify(m.manifest), m.path, m.createdAt ?? now(),
      );
    return this.getModel(Number(info.lastInsertRowid));
  }

  getModel(id: number): Model {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelDbRow | undefined;
    if (!row) throw new FieldpackError('NOT_FOUND', `model ${id} does not exist`, { id });
    return toModel(row);
  }

  findModelByHash(contentHash: string): Model | null {
    const row = this.db.prepare('SELECT * FROM models WHERE content_hash = ?').get(contentHash) as ModelDbRow | undefined;
    return row ? toModel(row) : null;
  }

  listModels(projectId?: number | null): Model[] {
    const rows = (projectId === undefined
      ? this.db.prepare('SELECT * FROM models ORDER BY id DESC').all()
      : this.db.prepare('SELECT * FROM models WHERE project_id IS ? ORDER BY id DESC').all(projectId)) as ModelDbRow[];
    return rows.map(toModel);
  }

  deleteModel(id: number): void {
    this.getModel(id);
    this.db.prepare('DELETE FROM models WHERE id = ?').run(id);
  }

  // ---- settings ----

  getSettings(): Settings {
    const rows = this.db.prepare('SELECT key, value_json FROM settings').all() as { key: string; value_json: string }[];
    const stored = Object.fromEntries(rows.filter((r) => r.key in DEFAULT_SETTINGS).map((r) => [r.key, JSON.parse(r.value_json)]));
    return { ...DEFAULT_SETTINGS, ...stored };
  }

  /** Internal state kept beside the settings (not shown as settings), e.g. whether the demo was offered. */
  getState(key: string): unknown {
    const row = this.db.prepare('SELECT value_json FROM settings WHERE key = ?').get(`state.${key}`) as { value_json: string } | undefined;
    return row ? JSON.parse(row.value_json) : undefined;
  }

  setState(key: string, value: unknown): void {
    this.db
      .prepare('INSERT INTO settings (key, value_json) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json')
      .run(`state.${key}`, JSON.stringify(value));
  }

  updateSettings(patch: Partial<Settings>): Settings {
    const stmt = this.db.prepare('INSERT INTO settings (key, value_json) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json');
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) stmt.run(k, JSON.stringify(v));
    })();
    return this.getSettings();
  }
}

export interface NewModel {
  projectId: number | null;
  runId: number | null;
  contentHash: string;
  network: string;
  networkVersion: string | number;
  ndim: number | null;
  inputs: unknown[];
  outputs: unknown[];
  contract: Record<string, unknown>;
  params: Record<string, unknown>;
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  parameterCount: number | null;
  sizeBytes: number;
  manifest: unknown;
  path: string;
  createdAt?: string;
}

interface ModelDbRow {
  id: number;
  project_id: number | null;
  run_id: number | null;
  content_hash: string;
  network: string;
  network_version: string;
  ndim: number | null;
  inputs_json: string;
  outputs_json: string;
  params_json: string;
  training_json: string;
  metrics_json: string;
  parameter_count: number | null;
  size_bytes: number;
  path: string;
  created_at: string;
}
function toModel(r: ModelDbRow): Model {
  return {
    id: r.id,
    projectId: r.project_id,
    runId: r.run_id,
    contentHash: r.content_hash,
    network: r.network,
    networkVersion: r.network_version,
    ndim: r.ndim,
    inputs: JSON.parse(r.inputs_json),
    outputs: JSON.parse(r.outputs_json),
    params: JSON.parse(r.params_json),
    parameterCount: r.parameter_count,
    sizeBytes: r.size_bytes,
    training: JSON.parse(r.training_json),
    metrics: JSON.parse(r.metrics_json),
    path: r.path,
    createdAt: r.created_at,
  };
}

interface ProjectRow {
  id: number;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
  dataset_count: number;
  run_count: number;
}
function toProject(r: ProjectRow): Project {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    datasetCount: r.dataset_count,
    runCount: r.run_count,
  };
}

interface DatasetRow {
  id: number;
  project_id: number;
  name: string;
  files_json: string;
  description_json: string;
  created_at: string;
  field_count: number;
}
function toDataset(r: DatasetRow): Dataset {
  return {
    id: r.id,
    projectId: r.project_id,
    name: r.name,
    files: JSON.parse(r.files_json),
    description: JSON.parse(r.description_json),
    createdAt: r.created_at,
    fieldCount: r.field_count,
  };
}

interface FieldRow {
  id: number;
  dataset_id: number;
  name: string;
  file: string;
  dims_json: string;
  shape_json: string;
  dtype: string;
  units: string | null;
  grid_key: string | null;
  stats_json: string;
}
function toField(r: FieldRow): FieldRecord {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    name: r.name,
    file: r.file,
    dims: JSON.parse(r.dims_json),
    shape: JSON.parse(r.shape_json),
    dtype: r.dtype,
    units: r.units,
    gridKey: r.grid_key,
    stats: JSON.parse(r.stats_json),
  };
}
