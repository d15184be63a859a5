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

  /** Resolves true when the project's fields are the ones shown now. */
  async function load(projectId: number | null): Promise<boolean> {
    fields.value = [];
    loaded.value = false;
    if (projectId === null) return false;
    const ok = await notices.attempt(about, async () => {
      for (const d of await api.call('datasets.list', { projectId })) {
        for (const f of await api.call('datasets.fields', { datasetId: d.id })) if (keep(f)) fields.value.push({ ...f, datasetName: d.name });
      }
      return true;
    });
    loaded.value = true;
    return ok === true;
  }
  return { fields, loaded, load };
}
