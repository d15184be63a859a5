import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { Metric, Run } from '@api/contract.ts';
import { api } from '../api/client.ts';

/** Live state of jobs (runs that are scheduled or running) and of recently ended ones, fed by events. */
export const useJobs = defineStore('jobs', () => {
  const runs = ref(new Map<number, Run>());
  const metrics = ref(new Map<number, Metric[]>());
  /** Bumped on every run event so that views can refresh their history. */
  const revision = ref(0);

  const active = computed(() => [...runs.value.values()].filter((r) => r.status === 'scheduled' || r.status === 'running'));
  const recent = computed(() => [...runs.value.values()].sort((a, b) => b.id - a.id).slice(0, 8));

  function upsert(run: Run) {
    runs.value.set(run.id, run);
    revision.value++;
  }
  async function refresh() {
    for (const r of await api.call('jobs.active', {})) upsert(r);
  }
  async function submit(kind: string, projectId: number | null, params: Record<string, unknown> = {}, name?: string) {
    const run = await api.call('jobs.submit', { kind, projectId, params, name });
    upsert(run);
    return run;
  }
  async function cancel(runId: number) {
    upsert(await api.call('jobs.cancel', { runId }));
  }
  api.onEvent((e) => {
    if (e.type === 'run.updated') upsert(e.run);
    if (e.type === 'run.metric') {
      const list = metrics.value.get(e.runId) ?? [];
      list.push(e.metric);
      metrics.value.set(e.runId, list);
    }
  });
  return { runs, metrics, revision, active, recent, refresh, submit, cancel };
});
