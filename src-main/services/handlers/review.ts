/** Review API methods (api/methods/review.ts): notes, tags, archive, search, analysis, experiment files, reports. */
import type { REVIEW_METHODS } from '../../api/methods/review.ts';
import type { HandlerDeps, Handlers } from './types.ts';
import { analyseRun } from '../review/analysis.ts';
import { exportExperiment, importExperiment } from '../review/experiments.ts';
import { createReport } from '../review/report.ts';
import { FieldpackError } from '../../core/errors.ts';

export function reviewHandlers(deps: HandlerDeps): Handlers<keyof typeof REVIEW_METHODS> {
  const { store, events } = deps;
  const changed = (id: number) => {
    const run = store.getRun(id);
    events.emit({ type: 'run.updated', run });
    return run;
  };
  return {
    'runs.update': ({ id, note, archived, setTags, removeTags, experiment }) => {
      const run = store.getRun(id);
      let experimentId: number | null | undefined;
      if (experiment === null) experimentId = null;
      else if (experiment !== undefined) {
        if (run.projectId === null) throw new FieldpackError('INVALID_ARGUMENT', `run ${id} belongs to no project, so it cannot join an experiment`);
        experimentId = store.experimentNamed(run.projectId, experiment).id;
      }
      store.updateRun(id, { note, archived, setTags, removeTags, ...(experimentId !== undefined ? { experimentId } : {}) });
      return changed(id);
    },
    'runs.search': ({ projectId, kind, query, tags, archived, experiment, limit }) => {
      let experimentId: number | undefined;
      if (experiment) {
        if (!projectId) throw new FieldpackError('INVALID_ARGUMENT', 'runs.search: an experiment is named within a project: give projectId');
        const e = store.listExperiments(projectId).find((x) => x.name === experiment);
        if (!e) return [];
        experimentId = e.id;
      }
      return store.listRuns({ projectId, kind, query, tags, archived, experimentId, limit });
    },
    'runs.analysis': ({ runId, index, refresh }, call) => analyseRun(store, runId, { index, refresh, signal: call?.signal }),
    'experiments.list': ({ projectId }) => store.listExperiments(projectId),
    'experiments.export': (input) => exportExperiment(store, input),
    'experiments.import': async ({ projectId, path, document, experiment }, call) => {
      const out = await importExperiment(store, projectId, { path, document, experiment }, call?.signal);
      events.emit({ type: 'projects.changed' });
      return out;
    },
    'reports.create': (input) => createReport(store, input, deps.printToPdf),
  };
}
