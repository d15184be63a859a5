/**
 * The dataset fields of a project, for a view that offers them as choices (Compress, Cross-field): each field with
 * the name of its dataset, those `keep` takes only. A failure is the notice `about`.
 */
import { ref } from 'vue';
import type { FieldRecord } from '@api/contract.ts';
import { api } from '../api/client.ts';
import { useNotices } from '../stores/notices.ts';

export type ProjectField = FieldRecord & { datasetName: string };

export function useProjectFields(about: string, keep: (f: FieldRecord) => boolean = () => true) {
  const notices = useNotices();
  const fields = ref<ProjectField[]>([]);
  /** a load has ended (an empty list then means the project has no such field) */
  const loaded = ref(false);

  // the newest load only writes: a project chosen before it may answer later (or first) and is no longer the one shown
  let newest = 0;
  /** Resolves true when the project's fields are the ones shown now (false: it failed, or another project was chosen since). */
  async function load(projectId: number | null): Promise<boolean> {
    const mine = ++newest;
    fields.value = [];
    loaded.value = false;
    if (projectId === null) return false;
    const found = await notices.attempt(about, async () => {
      const datasets = await api.call('datasets.list', { projectId });
      const perDataset = await Promise.all(datasets.map((d) => api.call('datasets.fields', { datasetId: d.id })));
      return datasets.flatMap((d, i) => perDataset[i]!.filter(keep).map((f) => ({ ...f, datasetName: d.name })));
    });
    if (mine !== newest) return false;
    loaded.value = true;
    if (!found) return false;
    fields.value = found;
    return true;
  }
  return { fields, loaded, load };
}
