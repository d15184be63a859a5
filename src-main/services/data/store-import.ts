/**
 * A described dataset (describeDataset) into the store: one transaction, so an import is all or nothing.
 */
import type { Dataset } from '../../api/contract.ts';
import type { Store } from '../store/store.ts';
import type { DatasetDescription } from './describe.ts';
import { describeDataset, type DescribeOptions } from './describe.ts';

export function storeDataset(store: Store, projectId: number, d: DatasetDescription): Dataset {
  const fields = d.fields.map((f) => ({
    name: f.name,
    file: d.files[f.file]!.path,
    dims: f.dims,
    shape: f.shape,
    dtype: f.dtype,
    units: f.units ?? null,
    gridKey: f.gridId,
    stats: { ...f.stats, role: f.role, longName: f.longName ?? null, valuesDtype: f.valuesDtype, fill: f.fill, attributes: f.attributes },
  }));
  const { fields: _fields, ...rest } = d;
  return store.createDataset(projectId, d.name, d.files.map((f) => f.path), JSON.parse(JSON.stringify(rest)), JSON.parse(JSON.stringify(fields)));
}

/** Reads and describes the files (every one must open), then stores them as one dataset. */
export async function importDataset(store: Store, projectId: number, paths: string[], options: DescribeOptions = {}): Promise<Dataset> {
  store.getProject(projectId); // fail before reading gigabytes for a project that is gone
  const description = await describeDataset(paths, options);
  return storeDataset(store, projectId, description);
}
