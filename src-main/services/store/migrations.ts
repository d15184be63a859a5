/**
 * Schema migrations, applied in order at start-up. PRAGMA user_version holds the version reached.
 * Never edit a released migration: add a new one (a database from any older version must open).
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'projects, datasets, fields, experiments, runs with metrics/artifacts/tags, models',
    up(db) {
      db.exec(`
        CREATE TABLE projects (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          description TEXT NOT NULL DEFAULT '',
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL
        );
        CREATE TABLE datasets (
          id INTEGER PRIMARY KEY,
          project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          files_json TEXT NOT NULL,
          description_json TEXT NOT NULL DEFAULT '{}',
          created_at TEXT NOT NULL
        );
        CREATE TABLE fields (
          id INTEGER PRIMARY KEY,
          dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          file TEXT NOT NULL,
          dims_json TEXT NOT NULL,
          shape_json TEXT NOT NULL,
          dtype TEXT NOT NULL,
          units TEXT,
          grid_key TEXT,
          stats_json TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE experiments (
          id INTEGER PRIMARY KEY,
          project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          created_at TEXT NOT NULL,
          UNIQUE (project_id, name)
        );
        CREATE TABLE runs (
          id INTEGER PRIMARY KEY,
          project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
          experiment_id INTEGER REFERENCES experiments(id) ON DELETE SET NULL,
          kind TEXT NOT NULL,
          name TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('scheduled','running','finished','failed','cancelled')),
          params_json TEXT NOT NULL DEFAULT '{}',
          error_json TEXT,
          created_at TEXT NOT NULL,
          started_at TEXT,
          ended_at TEXT
        );
        CREATE INDEX runs_project ON runs(project_id, id);
        -- SQLite stores NaN as NULL in REAL columns: value_kind keeps NaN and infinities explicit.
        CREATE TABLE run_metrics (
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          key TEXT NOT NULL,
          step INTEGER NOT NULL DEFAULT 0,
          value REAL,
          value_kind TEXT NOT NULL DEFAULT 'finite' CHECK (value_kind IN ('finite','nan','inf','-inf')),
          logged_at TEXT NOT NULL,
          PRIMARY KEY (run_id, key, step)
        );
        CREATE TABLE run_artifacts (
          id INTEGER PRIMARY KEY,
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          name TEXT NOT NULL,
          path TEXT NOT NULL,
          kind TEXT NOT NULL,
          size_bytes INTEGER,
          sha256 TEXT
        );
        CREATE TABLE run_tags (
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (run_id, key)
        );
        CREATE TABLE models (
          id INTEGER PRIMARY KEY,
          project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
          run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
          content_hash TEXT NOT NULL UNIQUE,
          network TEXT NOT NULL,
          network_version TEXT NOT NULL,
          contract_json TEXT NOT NULL DEFAULT '{}',
          training_json TEXT NOT NULL DEFAULT '{}',
          metrics_json TEXT NOT NULL DEFAULT '{}',
          size_bytes INTEGER NOT NULL,
          path TEXT NOT NULL,
          created_at TEXT NOT NULL
        );
      `);
    },
  },
  {
    version: 2,
    description: 'runs double as jobs: progress, message, interrupted status, logs; settings',
    up(db) {
      // SQLite cannot alter a CHECK constraint: rebuild runs with the wider status set.
      db.exec(`
        CREATE TABLE runs_v2 (
          id INTEGER PRIMARY KEY,
          project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
          experiment_id INTEGER REFERENCES experiments(id) ON DELETE SET NULL,
          kind TEXT NOT NULL,
          name TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('scheduled','running','finished','failed','cancelled','interrupted')),
          params_json TEXT NOT NULL DEFAULT '{}',
          result_json TEXT,
          error_json TEXT,
          progress REAL NOT NULL DEFAULT 0,
          message TEXT NOT NULL DEFAULT '',
          created_at TEXT NOT NULL,
          started_at TEXT,
          ended_at TEXT
        );
        INSERT INTO runs_v2 (id, project_id, experiment_id, kind, name, status, params_json, error_json, progress, created_at, started_at, ended_at)
          SELECT id, project_id, experiment_id, kind, name, status, params_json, error_json,
                 CASE WHEN status = 'finished' THEN 1 ELSE 0 END, created_at, started_at, ended_at FROM runs;
        DROP TABLE runs;
        ALTER TABLE runs_v2 RENAME TO runs;
        CREATE INDEX runs_project ON runs(project_id, id);
        CREATE INDEX runs_status ON runs(status);
        CREATE TABLE run_logs (
          run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          seq INTEGER NOT NULL,
          logged_at TEXT NOT NULL,
          line TEXT NOT NULL,
          PRIMARY KEY (run_id, seq)
        );
        CREATE TABLE settings (
          key TEXT PRIMARY KEY,
          value_json TEXT NOT NULL
        );
      `);
    },
  },
  {
    version: 3,
    description: 'model registry: input/output contract, parameter count, full manifest',
    up(db) {
      db.exec(`
        ALTER TABLE models ADD COLUMN ndim INTEGER;
        ALTER TABLE models ADD COLUMN inputs_json TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE models ADD COLUMN outputs_json TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE models ADD COLUMN params_json TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE models ADD COLUMN parameter_count INTEGER;
        ALTER TABLE models ADD COLUMN manifest_json TEXT NOT NULL DEFAULT '{}';
        CREATE INDEX models_project ON models(project_id, id);
      `);
    },
  },
  {
    version: 4,
    description: 'runs to keep and share: notes, archived, where an imported run came from; tag search',
    up(db) {
      db.exec(`
        ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
        ALTER TABLE runs ADD COLUMN archived_at TEXT;
        ALTER TABLE runs ADD COLUMN origin_json TEXT;
        CREATE INDEX run_tags_value ON run_tags(key, value);
      `);
    },
  },
  {
    version: 5,
    description: 'which process runs a run (host, pid, boot), so that opening the store elsewhere leaves it running',
    up(db) {
      db.exec(`ALTER TABLE runs ADD COLUMN owner_json TEXT;`);
    },
  },
  {
    version: 6,
    description: 'run ids never reused: the last id given, so that a deleted run\'s id does not name a new run',
    up(db) {
      db.exec(`
        CREATE TABLE run_id_counter (last INTEGER NOT NULL);
        INSERT INTO run_id_counter SELECT COALESCE(MAX(id), 0) FROM runs;
      `);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
