/**
 * Embedded sample datasets (resources/samples/samples.json), for the first-start demo project.
 * From source (CLI, serve, tests) the folder is found relative to this file; a packaged app passes its
 * resources folder (e.g. join(process.resourcesPath, 'samples')).
 */
import { existsSync, readFileSync } from 'node:fs';
import { appRoot } from '../system/version.ts';
import { join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { describeDataset, type DatasetDescription, type DescribeOptions } from './describe.ts';

export interface SampleDataset {
  id: string;
  name: string;
  description: string;
  /** Absolute paths. */
  files: string[];
  fields: string[];
  suggested?: { field: string; anchors: string[]; slice?: Record<string, number> };
  license: string;
}

/** The packaged app's resources folder (electron-builder extraResources), else the repository's. */
export function defaultSamplesDir(): string {
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  if (packaged && existsSync(join(packaged, 'samples', 'samples.json'))) return join(packaged, 'samples');
  return join(appRoot(), 'resources', 'samples');
}

export function listSamples(samplesDir: string = defaultSamplesDir()): SampleDataset[] {
  const manifest = join(samplesDir, 'samples.json');
  if (!existsSync(manifest)) throw new FieldpackError('NOT_FOUND', `${manifest}: no sample manifest (is the resources folder packaged?)`, { path: manifest });
  const json = JSON.parse(readFileSync(manifest, 'utf8')) as { samples: Array<Omit<SampleDataset, 'files'> & { files: string[] }> };
  return json.samples.map((s) => ({ ...s, files: s.files.map((f) => join(samplesDir, f)) }));
}

/** The demo dataset described (stats etc.), ready for the store: describeDataset on the sample's files. */
export async function describeSample(id = 'coads-climatology', options: DescribeOptions & { samplesDir?: string } = {}): Promise<{ sample: SampleDataset; dataset: DatasetDescription }> {
  const sample = listSamples(options.samplesDir).find((s) => s.id === id);
  if (!sample) throw new FieldpackError('NOT_FOUND', `no sample "${id}"`);
  const dataset = await describeDataset(sample.files, { ...options, name: options.name ?? sample.name });
  return { sample, dataset };
}
