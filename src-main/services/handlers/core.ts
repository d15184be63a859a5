/** Core API methods: projects, datasets, jobs, runs, settings, system (api/methods/core.ts). */
import { FieldpackError } from '../../core/errors.ts';
import type { CORE_METHODS } from '../../api/methods/core.ts';
import type { HandlerDeps, Handlers } from './types.ts';
import { doctorReport } from '../system/doctor.ts';
import { LAST_OPENED_KEY } from '../demo.ts';
import { removeRunDir } from '../store/files.ts';
import { configuredPython } from '../system/python-probe.ts';
import { clearPythonCache, pythonPathProblem } from '../system/python-env.ts';

export function coreHandlers(deps: HandlerDeps): Handlers<keyof typeof CORE_METHODS> {
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
      // its runs' folders too, as runs.delete removes a run's
      for (const runId of store.deleteProject(id)) removeRunDir(store, runId);
      if (store.getState(LAST_OPENED_KEY) === id) store.setState(LAST_OPENED_KEY, null);
      events.emit({ type: 'projects.changed' });
      return { deleted: id };
    },
    'projects.lastOpened': () => {
      const last = store.getState(LAST_OPENED_KEY);
      return { id: typeof last === 'number' && store.listProjects().some((p) => p.id === last) ? last : null };
    },
    'projects.setOpened': ({ id }) => {
      if (id !== null) store.getProject(id); // NOT_FOUND for a project that does not exist
      store.setState(LAST_OPENED_KEY, id);
      return { id };
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
      removeRunDir(store, id);
      return { deleted: id };
    },

    'settings.get': () => store.getSettings(),
    'settings.update': (patch) => {
      if (typeof patch.pythonPath === 'string') {
        // One executable file, by absolute path or on PATH; checked now so that a typo (or a command line) is not saved.
        const why = pythonPathProblem(patch.pythonPath);
        if (why) throw new FieldpackError('INVALID_ARGUMENT', `pythonPath ${JSON.stringify(patch.pythonPath)} ${why}`, { field: 'pythonPath' });
      }
      const settings = store.updateSettings(patch);
      if (patch.pythonPath !== undefined) clearPythonCache();
      return settings;
    },

    'system.doctor': () =>
      doctorReport({ dbPath: store.path, schemaVersion: store.schemaVersion, pythonPath: configuredPython(store), door: deps.door }),
  };
}
