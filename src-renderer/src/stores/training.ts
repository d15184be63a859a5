import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ApiInput, ApiOutput, JobParamsInput, Metric, Model, Run, RunDetail } from '@api/contract.ts';
import type { TrainJobResult } from '@api/methods/training.ts';
import { api } from '../api/client.ts';
import { useJobs } from './jobs.ts';

export type NetworkInfo = ApiOutput<'training.networks'>[number];
export type PythonEnvReport = ApiOutput<'training.python'>;

/** Params of a `train` job and what it returns: the API's types (api/methods/training.ts), not copies. */
export type TrainJobParams = JobParamsInput<'train'>;
/** A training job: inputs -> target networks (`train`), the VQ-VAE on maps (`train-vqvae`) or NGLR on residuals (`train-nglr`). */
export type TrainSubmission =
  | { kind: 'train'; params: TrainJobParams }
  | { kind: 'train-vqvae'; params: JobParamsInput<'train-vqvae'> }
  | { kind: 'train-nglr'; params: JobParamsInput<'train-nglr'> };
export type { TrainJobResult };

const LOG_LIMIT = 2000;

/**
 * The Train view's state: the network types, the Python that would train, the project's models, and the
 * training run being followed (its stored detail merged with live run.metric / run.log events).
 */
export const useTraining = defineStore('training', () => {
  const jobs = useJobs();
  const networks = ref<NetworkInfo[]>([]);
  const python = ref<PythonEnvReport | null>(null);
  const pythonLoading = ref(false);
  const models = ref<Model[]>([]);
  const runs = ref<Run[]>([]);
  const runId = ref<number | null>(null);
  const detail = ref<RunDetail | null>(null);
  const liveLogs = ref<string[]>([]);
  const model = ref<Model | null>(null);

  async function loadNetworks() {
    if (!networks.value.length) networks.value = await api.call('training.networks', {});
  }
  async function loadPython(refresh = false) {
    pythonLoading.value = true;
    try {
      python.value = await api.call('training.python', { refresh });
    } finally {
      pythonLoading.value = false;
    }
  }
  async function loadModels(projectId: number) {
    models.value = await api.call('models.list', { projectId });
  }
  async function loadRuns(projectId: number) {
    const lists = await Promise.all(['train', 'train-vqvae', 'train-nglr'].map((kind) => api.call('runs.list', { projectId, kind, limit: 20 })));
    runs.value = lists.flat().sort((x, y) => y.id - x.id).slice(0, 20);
  }

  /** Shows a run: its stored metrics and logs now, live events from then on. */
  async function follow(id: number | null) {
    runId.value = id;
    liveLogs.value = [];
    model.value = null;
    detail.value = null;
    if (id === null) return;
    const d = await api.call('runs.get', { id });
    if (runId.value !== id) return;
    detail.value = d;
    await loadModelOf(d);
  }

  function modelIdOf(d: RunDetail | null): number | null {
    if (!d) return null;
    const r = d.result as TrainJobResult | null;
    if (r && typeof r.modelId === 'number') return r.modelId;
    const tag = d.tags.model;
    return tag ? Number(tag.split(' ')[0]) || null : null;
  }
  async function loadModelOf(d: RunDetail) {
    const id = modelIdOf(d);
    model.value = id ? await api.call('models.get', { id }) : null;
  }

  async function start(projectId: number, submission: TrainSubmission, name: string) {
    const input = { ...submission, projectId, name } as ApiInput<'jobs.submit'>;
    const run = await api.call('jobs.submit', input);
    await follow(run.id);
    await loadRuns(projectId);
    return run;
  }
  async function stop() {
    if (runId.value !== null) await jobs.cancel(runId.value);
  }
  async function exportModel(id: number, path: string) {
    return api.call('models.export', { id, path });
  }
  async function importModel(projectId: number, path: string) {
    const m = await api.call('models.import', { path, projectId });
    await loadModels(projectId);
    return m;
  }

  /** The followed run as the jobs store knows it now (live status, progress, message). */
  const run = computed<Run | null>(() => (runId.value === null ? null : (jobs.runs.get(runId.value) ?? detail.value)));
  const metrics = computed<Metric[]>(() => {
    const seen = new Set<string>();
    const out: Metric[] = [];
    for (const m of [...(detail.value?.metrics ?? []), ...(runId.value !== null ? (jobs.metrics.get(runId.value) ?? []) : [])]) {
      const k = `${m.key}@${m.step}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(m);
    }
    return out;
  });
  const series = computed(() => {
    const byKey = new Map<string, [number, number][]>();
    for (const m of metrics.value) {
      if (m.key !== 'loss' && m.key !== 'val_loss') continue;
      if (typeof m.value !== 'number') continue;
      const pts = byKey.get(m.key) ?? [];
      pts.push([m.step, m.value]);
      byKey.set(m.key, pts);
    }
    for (const pts of byKey.values()) pts.sort((a, b) => a[0] - b[0]);
    return ['loss', 'val_loss'].filter((k) => byKey.has(k)).map((name) => ({ name, points: byKey.get(name)! }));
  });
  const lossPoints = computed(() => series.value.find((s) => s.name === 'loss')?.points.length ?? 0);
  /** validation PSNR per epoch (VQ-VAE runs) */
  const psnrSeries = computed(() => {
    const pts = metrics.value.filter((m) => m.key === 'val_psnr' && typeof m.value === 'number').map((m): [number, number] => [m.step, m.value as number]);
    return pts.length ? [{ name: 'validation PSNR', points: pts.sort((a, b) => a[0] - b[0]) }] : [];
  });
  /** the last value of a metric, or null */
  function latest(key: string): number | null {
    let best: { step: number; value: number } | null = null;
    for (const m of metrics.value) if (m.key === key && typeof m.value === 'number' && (!best || m.step >= best.step)) best = { step: m.step, value: m.value };
    return best?.value ?? null;
  }
  const logs = computed(() => [...(detail.value?.logs ?? []), ...liveLogs.value]);
  const device = computed(() => {
    const line = [...logs.value].reverse().find((l) => l.startsWith('device: '));
    return line ? line.slice('device: '.length) : (detail.value?.tags.device ?? null);
  });

  api.onEvent((e) => {
    if (e.type === 'run.log' && e.runId === runId.value) {
      liveLogs.value.push(e.line);
      if (liveLogs.value.length > LOG_LIMIT) liveLogs.value.splice(0, liveLogs.value.length - LOG_LIMIT);
    }
    if (e.type === 'run.updated' && e.run.id === runId.value && ['finished', 'failed', 'cancelled', 'interrupted'].includes(e.run.status)) {
      const id = e.run.id;
      void (async () => {
        // Reload the stored detail (result, tags, artifacts); live logs are part of it now.
        const d = await api.call('runs.get', { id });
        if (runId.value !== id) return;
        liveLogs.value = [];
        detail.value = d;
        await loadModelOf(d);
        if (d.projectId !== null) await Promise.all([loadModels(d.projectId), loadRuns(d.projectId)]);
      })().catch(() => undefined);
    }
  });

  return {
    networks, python, pythonLoading, models, runs, runId, detail, model, run, metrics, series, lossPoints, psnrSeries, latest, logs, device,
    loadNetworks, loadPython, loadModels, loadRuns, follow, start, stop, exportModel, importModel,
  };
});
