/** Core methods: projects, datasets, jobs, runs, settings, system. */
import { z } from 'zod';
import { JobSubmitInput } from './jobs.ts';
import { DoctorReport, Dataset, FieldRecord, Project, Run, RunDetail, Settings, id, projectName } from '../schemas.ts';

export const CORE_METHODS = {
  'projects.list': { input: z.object({}), output: z.array(Project) },
  'projects.get': { input: z.object({ id }), output: Project },
  'projects.create': { input: z.object({ name: projectName, description: z.string().max(10_000).default('') }), output: Project },
  'projects.rename': { input: z.object({ id, name: projectName }), output: Project },
  'projects.delete': { input: z.object({ id }), output: z.object({ deleted: id }) },
  /** The project last opened in any window (kept in the store, so a reload, a new port or a bookmark finds it). */
  'projects.lastOpened': { input: z.object({}), output: z.object({ id: id.nullable() }) },
  'projects.setOpened': { input: z.object({ id: id.nullable() }), output: z.object({ id: id.nullable() }) },

  'datasets.list': { input: z.object({ projectId: id }), output: z.array(Dataset) },
  'datasets.fields': { input: z.object({ datasetId: id }), output: z.array(FieldRecord) },
  'datasets.delete': { input: z.object({ id }), output: z.object({ deleted: id }) },

  'jobs.submit': { input: JobSubmitInput, output: Run },
  'jobs.cancel': { input: z.object({ runId: id }), output: Run },
  'jobs.active': { input: z.object({}), output: z.array(Run) },

  'runs.list': {
    input: z.object({ projectId: id.nullable().optional(), kind: z.string().optional(), limit: z.number().int().min(1).max(10_000).default(200) }),
    output: z.array(Run),
  },
  'runs.get': { input: z.object({ id }), output: RunDetail },
  'runs.delete': { input: z.object({ id }), output: z.object({ deleted: id }) },

  'settings.get': { input: z.object({}), output: Settings },
  // strict: a misspelt key is refused by name, not ignored as if the setting had been changed
  'settings.update': { input: Settings.partial().strict(), output: Settings },

  'system.doctor': { input: z.object({}), output: DoctorReport },
} as const;
