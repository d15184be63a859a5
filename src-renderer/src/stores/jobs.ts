import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { Metric, Run } from '@api/contract.ts';
import { api } from '../api/client.ts';

const METRIC_FLUSH_MS = 250;

/** Live state of jobs (runs that are scheduled or running) and of recently ended ones, fed by events. */
export const useJobs = defineStore('jobs', () => {
  const runs = ref(new Map<number, Run>());
  /**
   * Metrics by run, shallow (their objects are never proxied) and replaced at most every METRIC_FLUSH_MS: a long
   * training run sends thousands, and redrawing its charts on each one froze the Train page.
   */
  const metrics = shallowRef(new Map<number, Metric[]>());
  let pendingMetrics: { runId: number; metric: Metric }[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  function flushMetrics() {
    flushTimer = null;
    const byRun = new Map<number, Metric[]>();
    for (const { runId, metric } of pendingMetrics) {
      const list = byRun.get(runId) ?? [];
      list.push(metric);
      byRun.set(runId, list);
    }
    pendingMetrics = [];
    const next = new Map(metrics.value);
    for (const [runId, added] of byRun) next.set(runId, (next.get(runId) ?? []).concat(added));
    metrics.value = next;
  }
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
      pendingMetrics.push({ runId: e.runId, metric: e.metric });
      flushTimer ??= setTimeout(flushMetrics, METRIC_FLUSH_MS);
    }
  });
  return { runs, metrics, revision, active, recent, refresh, submit, cancel };
});
