/**
 * The implementation of every API method (src-main/api/contract.ts). Doors call `dispatch`, which
 * validates the method name and its input before anything runs.
 */
import { FieldpackError } from '../core/errors.ts';
import { API, isApiMethod, type ApiMethod, type ApiOutput, type ApiParsedInput, type DoctorReport } from '../api/contract.ts';
import type { EventBus } from './events.ts';
import type { JobQueue } from './jobs/queue.ts';
import type { Store } from './store/store.ts';
import { doctorReport } from './system/doctor.ts';

export type Services = { [M in ApiMethod]: (input: ApiParsedInput<M>) => Promise<ApiOutput<M>> | ApiOutput<M> };

export function createServices(deps: { store: Store; jobs: JobQueue; events: EventBus; door: DoctorReport['door'] }): Services {
  const { store, jobs, events } = deps;
  return {
    'projects.list': () => store.listProjects(),
    'projects.get': ({ id }) => store.getProject(id),
    'projects.create': ({ name, description }) => {
      const p = store.createProject(name, description);
      events.emit({ type: 'projects.changed' });
      return p;
    },
    'projects.rename': ({ id, name }) => {
      const p = store.renameProject(id, name);
      events.emit({ type: 'projects.changed' });
      return p;
    },
    'projects.delete': ({ id }) => {
      const busy = jobs.activeRuns().filter((r) => r.projectId === id);
      if (busy.length) {
        throw new FieldpackError('CONFLICT', `project ${id} has ${busy.length} job(s) in progress: cancel them first`, { runs: busy.map((r) => r.id) });
      }
      store.deleteProject(id);
      events.emit({ type: 'projects.changed' });
      return { deleted: id };
    },

    'datasets.list': ({ projectId }) => store.listDatasets(projectId),
    'datasets.fields': ({ datasetId }) => store.listFields(datasetId),
    'datasets.delete': ({ id }) => {
      store.deleteDataset(id);
      return { deleted: id };
    },

    'jobs.submit': ({ kind, projectId, name, params }) => jobs.submit(kind, projectId, params, name),
    'jobs.cancel': ({ runId }) => jobs.cancel(runId),
    'jobs.active': () => jobs.activeRuns(),

    'runs.list': ({ projectId, kind, limit }) => store.listRuns({ projectId, kind, limit }),
    'runs.get': ({ id }) => store.getRunDetail(id),
    'runs.delete': ({ id }) => {
      store.deleteRun(id);
      return { deleted: id };
    },

    'settings.get': () => store.getSettings(),
    'settings.update': (patch) => store.updateSettings(patch),

    'system.doctor': () =>
      doctorReport({ dbPath: store.path, schemaVersion: store.schemaVersion, pythonPath: store.getSettings().pythonPath, door: deps.door }),
  };
}

/** Validates and runs one call. Every door goes through here. */
export async function dispatch(services: Services, method: unknown, rawInput: unknown): Promise<unknown> {
  if (!isApiMethod(method)) throw new FieldpackError('INVALID_ARGUMENT', `unknown API method ${JSON.stringify(method)}`);
  const parsed = API[method].input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
    throw new FieldpackError('INVALID_ARGUMENT', `${method}: ${issues.join('; ')}`, { issues: parsed.error.issues });
  }
  const impl = services[method] as (input: unknown) => unknown;
  return await impl(parsed.data);
}
