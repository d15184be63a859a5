import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { Dataset, FieldRecord, Run } from '@api/contract.ts';
import type { ImportParams, ImportResult } from '@api/methods/data.ts';
import { api } from '../api/client.ts';

/** The job kind of an import (api/methods/data.ts IMPORT_KIND; types only are imported here). */
const IMPORT_KIND = 'dataset.import';

/** Base64 of little-endian Float32 values (as data.slice sends them). */
export function decodeFloat32(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

/** The stats the data service stores with a field (core/stats FieldStats plus role and fill). */
export interface StoredStats {
  count?: number;
  validCount?: number;
  fillFraction?: number;
  min?: number | null;
  max?: number | null;
  mean?: number | null;
  std?: number | null;
  distinct?: { count: number; exact: boolean; label: string };
  quantization?: { detected: boolean; step: number | null; source: string | null; note: string };
  /** NaN and +-Inf that are not fill: values of the field, kept exactly, outside min / max / mean */
  nonFinite?: { nan: number; posInf: number; negInf: number };
  /** a fill value the file does not declare (the smallest or largest value, on many points, far from the others) */
  undeclaredFill?: { value: number; count: number; valid: number; rest: [number, number] };
  role?: string;
  longName?: string | null;
}
export const statsOf = (f: FieldRecord) => f.stats as StoredStats;

/** The Data view's state: the current project's datasets and their fields, and imports running. */
export const useData = defineStore('data', () => {
  const datasets = ref<Dataset[]>([]);
  const fields = ref(new Map<number, FieldRecord[]>());
  const loadedFor = ref<number | null>(null);
  const importRun = ref<Run | null>(null);
  /** from the click to the job's end: a second click while jobs.submit is answered made a second dataset */
  const submitting = ref(false);
  const importing = computed(() => submitting.value || importRun.value?.status === 'scheduled' || importRun.value?.status === 'running');

  async function load(projectId: number | null) {
    loadedFor.value = projectId;
    if (projectId === null) {
      datasets.value = [];
      fields.value = new Map();
      return;
    }
    const list = await api.call('datasets.list', { projectId });
    const map = new Map<number, FieldRecord[]>();
    for (const d of list) map.set(d.id, await api.call('datasets.fields', { datasetId: d.id }));
    datasets.value = list;
    fields.value = map;
  }

  /** Submits a dataset.import job and follows it to its end (the run, with its error when it failed). */
  async function importFiles(projectId: number, params: ImportParams): Promise<Run> {
    const name = params.paths.length === 1 ? `import ${params.paths[0]!.split('/').pop()}` : `import ${params.paths.length} files`;
    submitting.value = true;
    let run: Run;
    try {
      run = await api.call('jobs.submit', { kind: IMPORT_KIND, projectId, name, params });
    } finally {
      submitting.value = false;
    }
    importRun.value = run;
    while (run.status === 'scheduled' || run.status === 'running') {
      await new Promise((r) => setTimeout(r, 250));
      run = await api.call('runs.get', { id: run.id });
      importRun.value = run;
    }
    if (run.status === 'finished') await load(projectId);
    return run;
  }

  async function cancelImport() {
    if (importRun.value && importing.value) await api.call('jobs.cancel', { runId: importRun.value.id });
  }

  async function remove(datasetId: number) {
    await api.call('datasets.delete', { id: datasetId });
    await load(loadedFor.value);
  }

  return { datasets, fields, loadedFor, importRun, importing, load, importFiles, cancelImport, remove };
});

export type { ImportResult };
