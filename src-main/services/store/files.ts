/** Where a store keeps its files (models, run artifacts): a folder beside the database file. */
import { basename, dirname, extname, join } from 'node:path';
import type { Store } from './store.ts';

export function storeFilesDir(store: Store): string {
  return join(dirname(store.path), `${basename(store.path, extname(store.path))}-files`);
}

export const modelsDir = (store: Store) => join(storeFilesDir(store), 'models');
export const runDir = (store: Store, runId: number) => join(storeFilesDir(store), 'runs', String(runId));
