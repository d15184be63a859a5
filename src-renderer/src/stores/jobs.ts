import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { Metric, Run, RunStatus } from '@api/contract.ts';
import { api } from '../api/client.ts';

const METRIC_FLUSH_MS = 250;
/**
 * A run only moves forward (scheduled, running, ended). The reply to jobs.submit can arrive after the events of a job
 * that failed at once: it must not put the run back to "scheduled", where the panel kept it, with a Cancel button.
 */
const STAGE: Record<RunStatus, number> = { scheduled: 0, running: 1, finished: 2, failed: 2, cancelled: 2, interrupted: 2 };

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
    const known = runs.value.get(run.id);
    // the same run (the store reuses a deleted run's id for the next one: that is another run, taken as it comes)
    if (known && known.createdAt === run.createdAt && STAGE[run.status] < STAGE[known.status]) return;
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
  return { runs, metrics, revision, active, recent, upsert, refresh, submit, cancel };
});
