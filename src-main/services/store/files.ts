/** Where a store keeps its files (models, run artifacts): a folder beside the database file. */
import { rmSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Store } from './store.ts';

export function storeFilesDir(store: Store): string {
  return storeFilesDirOf(store.path);
}

/** The files folder of the store whose database is `dbPath`, found without opening it. */
export function storeFilesDirOf(dbPath: string): string {
  return join(dirname(dbPath), `${basename(dbPath, extname(dbPath))}-files`);
}

/**
 * Where the store of database `dbPath` keeps the learned codecs' models it trained (vqvae, nglr): the codec service
 * looks there by hash, also for a CLI command that does not open the store (compress, decompress, bench).
 */
export function learnedModelsDirOf(dbPath: string, kind: 'vqvae' | 'nglr'): string {
  return join(storeFilesDirOf(dbPath), 'models', kind);
}

export const modelsDir = (store: Store) => join(storeFilesDir(store), 'models');
export const runDir = (store: Store, runId: number) => join(storeFilesDir(store), 'runs', String(runId));

/**
 * A run's folder removed (streams, reconstructions, cached analyses): when the run is deleted, with its project too,
 * and before a new run takes its id. Run ids are reused after the newest runs are deleted (SQLite's rowid): a folder
 * left by such a run lent its stream and cached analysis to the new one, whose report then drew another field.
 */
export function removeRunDir(store: Store, runId: number): void {
  rmSync(runDir(store, runId), { recursive: true, force: true });
}
