/**
 * Experiments to keep and share: runs (with their metrics, tags, note, log, small artifacts and error analysis)
 * exported as one JSON file, and imported into another database as new runs that say where they came from.
 *
 * File format `fieldpack-experiment` version 1: { format, version, fieldpackVersion, exportedAt, source, experiment,
 * runs: [{ run, metrics, tags, logs, artifacts: [{ name, kind, sizeBytes, sha256, data (base64) | skipped }], analysis }] }.
 * Metric values keep NaN and infinities as the strings 'NaN', 'Infinity', '-Infinity' (JSON has no NaN).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { FieldpackError } from '../../core/errors.ts';
import { ACTIVE_STATUSES, Metric, Run, RunName, type RunDetail, issueText, nestingDepth } from '../../api/schemas.ts';
import { ExperimentName, RunNote, type RunAnalysis, RunAnalysis as RunAnalysisSchema, tagRecord } from '../../api/methods/review.ts';
import type { Store } from '../store/store.ts';
import { removeRunDir, runDir } from '../store/files.ts';
import { checkReplaceable, writeFileAtomic } from '../files/atomic.ts';
import { fieldpackVersion } from '../system/version.ts';
import { FIELD_RUN_KINDS } from '../compression/runs.ts';

/** An experiment file's values nest this deep at most (an analysis' arrays: a few levels; the HTTP door's limit). */
const MAX_FILE_NESTING = 64;
import { analyseRun, cachedAnalysis, storeAnalysis } from './analysis.ts';
import { makeFolder } from '../files/folders.ts';

export const EXPERIMENT_FORMAT = 'fieldpack-experiment';
export const EXPERIMENT_VERSION = 1;

const ArtifactEntry = z.object({
  name: z.string(),
  kind: z.string(),
  sizeBytes: z.number().nullable(),
  sha256: z.string().nullable(),
  data: z.string().optional(),
  skipped: z.string().optional(),
});
/** A time as the exporting Fieldpack wrote it (ISO 8601; 'not a date' sorted and showed as such). */
const ExportedTime = z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'is not a date');
/**
 * A run as an export holds it, checked as the API checks what it stores: of an experiment's kind (a data import is not
 * a run, and was listed nowhere), with tags and texts as runs.update takes them.
 */
const ExportedRun = Run.extend({
  kind: z.string().refine((k) => k !== 'dataset.import', 'a data import (dataset.import) is not an experiment run'),
  name: RunName,
  note: RunNote,
  createdAt: ExportedTime,
  startedAt: ExportedTime.nullable(),
  endedAt: ExportedTime.nullable(),
  archivedAt: ExportedTime.nullable(),
});
const RunEntry = z.object({
  run: ExportedRun,
  metrics: z.array(Metric),
  tags: tagRecord(z.string().max(2000)),
  logs: z.array(z.string()),
  artifacts: z.array(ArtifactEntry),
  // checked as runs.analysis returns it: its slice index names the cache file, its maps size the report's images
  analysis: z.unknown().nullable(),
});
const ExperimentFile = z.object({
  format: z.literal(EXPERIMENT_FORMAT),
  version: z.number().int(),
  fieldpackVersion: z.string(),
  exportedAt: z.string(),
  source: z.object({ database: z.string(), project: z.string().nullable() }),
  experiment: ExperimentName,
  runs: z.array(RunEntry).min(1, 'holds no runs'),
});
export type ExperimentFile = z.infer<typeof ExperimentFile>;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Which runs an export takes: the ids given, else the experiment's, else every (not archived) run of the project. */
function runsToExport(store: Store, sel: { projectId?: number; runIds?: number[]; experiment?: string }): RunDetail[] {
  let ids: number[];
  if (sel.runIds?.length) ids = [...new Set(sel.runIds)]; // a run named twice is one run of the file
  else if (sel.projectId !== undefined && sel.experiment) {
    const e = store.listExperiments(sel.projectId).find((x) => x.name === sel.experiment);
    if (!e) throw new FieldpackError('NOT_FOUND', `project ${sel.projectId} has no experiment named "${sel.experiment}"`, { experiment: sel.experiment });
    ids = store.listRuns({ experimentId: e.id, limit: 10_000 }).map((r) => r.id);
  } else if (sel.projectId !== undefined) ids = store.listRuns({ projectId: sel.projectId, limit: 10_000 }).map((r) => r.id);
  else throw new FieldpackError('INVALID_ARGUMENT', 'experiments.export: give runIds, or a projectId (with an experiment name to take only its runs)');
  // (an import refuses a file of no runs: it would make an empty experiment)
  if (!ids.length) throw new FieldpackError('NOT_FOUND', sel.experiment ? `experiment "${sel.experiment}" has no runs to export` : `project ${sel.projectId} has no runs to export`);
  const runs = ids.map((id) => store.getRunDetail(id));
  const busy = runs.filter((r) => r.status === 'running' || r.status === 'scheduled');
  if (busy.length) throw new FieldpackError('CONFLICT', `run(s) ${busy.map((r) => r.id).join(', ')} are still ${busy[0]!.status}: export them when they end`, { runs: busy.map((r) => r.id) });
  return runs.sort((a, b) => a.id - b.id);
}

export async function exportExperiment(
  store: Store,
  sel: { projectId?: number; runIds?: number[]; experiment?: string; path?: string; maxArtifactBytes: number },
): Promise<{ path?: string; document?: string; runs: number; artifacts: number; skipped: string[]; bytes: number }> {
  // an export replaces an earlier export, never another file of that name (checked before any work)
  if (sel.path) await checkReplaceable(resolve(sel.path), 'a Fieldpack experiment file', (head) => head.startsWith(`{"format":"${EXPERIMENT_FORMAT}"`));
  const runs = runsToExport(store, sel);
  const skipped: string[] = [];
  let artifacts = 0;
  const entries: ExperimentFile['runs'] = [];
  for (const r of runs) {
    let analysis: RunAnalysis | null = null;
    if (FIELD_RUN_KINDS.includes(r.kind) && r.status === 'finished') {
      // carried so that the importing side draws the charts without the data file
      analysis = await analyseRun(store, r.id).catch(() => cachedAnalysis(store, r.id));
    }
    entries.push({
      run: { ...r, metrics: undefined, artifacts: undefined, tags: undefined, logs: undefined } as unknown as z.infer<typeof Run>,
      metrics: r.metrics,
      tags: r.tags,
      logs: r.logs,
      artifacts: r.artifacts.map((a) => {
        const base = { name: a.name, kind: a.kind, sizeBytes: a.sizeBytes, sha256: a.sha256 };
        if (!existsSync(a.path)) {
          skipped.push(`run ${r.id}: ${a.name} (missing)`);
          return { ...base, skipped: 'missing' };
        }
        // sized before it is read: a reconstruction of a large field is left out, not read whole first (past 2 GiB
        // the read failed the whole export)
        const size = statSync(a.path).size;
        if (size > sel.maxArtifactBytes) {
          skipped.push(`run ${r.id}: ${a.name} (${size} bytes)`);
          return { ...base, skipped: `larger than ${sel.maxArtifactBytes} bytes` };
        }
        const bytes = readFileSync(a.path);
        artifacts++;
        return { ...base, data: bytes.toString('base64') };
      }),
      analysis,
    });
  }
  const project = sel.projectId !== undefined ? store.getProject(sel.projectId).name : runs[0]?.projectId ? store.getProject(runs[0].projectId).name : null;
  const doc: ExperimentFile = {
    format: EXPERIMENT_FORMAT,
    version: EXPERIMENT_VERSION,
    fieldpackVersion: fieldpackVersion(),
    exportedAt: new Date().toISOString(),
    source: { database: store.path, project },
    experiment: sel.experiment ?? (project ? `${project} runs ${runs.map((r) => r.id).join(',')}`.slice(0, 200) : 'exported runs'),
    runs: entries,
  };
  const text = JSON.stringify(doc);
  const bytes = Buffer.byteLength(text);
  if (sel.path) {
    await writeFileAtomic(resolve(sel.path), text);
    return { path: resolve(sel.path), runs: runs.length, artifacts, skipped, bytes };
  }
  return { document: text, runs: runs.length, artifacts, skipped, bytes };
}

export async function importExperiment(store: Store, projectId: number, src: { path?: string; document?: string; experiment?: string }, signal?: AbortSignal): Promise<{ runs: z.infer<typeof Run>[]; experiment: string }> {
  store.getProject(projectId);
  let text: string;
  if (src.document !== undefined) text = src.document;
  else if (src.path) {
    const st = statSync(src.path, { throwIfNoEntry: false });
    if (!st) throw new FieldpackError('NOT_FOUND', `experiment file ${src.path} does not exist`, { path: src.path });
    // a folder or a device (/dev/zero would be read without end) is not an experiment file
    if (!st.isFile()) throw new FieldpackError('INVALID_ARGUMENT', `${src.path} is ${st.isDirectory() ? 'a folder' : 'not a regular file'}: give an experiment file (fieldpack runs export writes one)`, { path: src.path });
    text = readFileSync(src.path, 'utf8');
  } else throw new FieldpackError('INVALID_ARGUMENT', 'experiments.import: give a path or a document');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // its size, not its bytes: the parser's message quotes the start of the file, which may be anything readable
    throw new FieldpackError('INVALID_ARGUMENT', `${src.path ?? 'the document'} (${Buffer.byteLength(text)} bytes) is not JSON, so not an experiment file (fieldpack runs export writes one)`);
  }
  // (a run's params nested 100000 deep overflowed the stack of the checks below: an INTERNAL error)
  if (nestingDepth(raw, MAX_FILE_NESTING) > MAX_FILE_NESTING) {
    throw new FieldpackError('INVALID_ARGUMENT', `${src.path ?? 'the document'} is not a Fieldpack experiment file: values nested deeper than ${MAX_FILE_NESTING} levels`);
  }
  const parsed = ExperimentFile.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => issueText(i, 'file'));
    throw new FieldpackError('INVALID_ARGUMENT', `${src.path ?? 'the document'} is not a Fieldpack experiment file: ${issues.join('; ')}`, { issues: parsed.error.issues });
  }
  const doc = parsed.data;
  if (doc.version > EXPERIMENT_VERSION) throw new FieldpackError('UNSUPPORTED', `experiment file version ${doc.version} is newer than this Fieldpack reads (${EXPERIMENT_VERSION}): update Fieldpack`);
  // metrics and artifacts are checked before anything is written
  for (const e of doc.runs) {
    const seen = new Set<string>();
    for (const m of e.metrics) {
      const key = JSON.stringify([m.key, m.step]);
      if (seen.has(key)) throw new FieldpackError('INVALID_ARGUMENT', `experiment file: run ${e.run.id} holds metric ${JSON.stringify(m.key)} at step ${m.step} twice`, { run: e.run.id, metric: m.key });
      seen.add(key);
    }
    for (const a of e.artifacts) {
      const name = basename(a.name);
      if (name === '' || name === '.' || name === '..') throw new FieldpackError('INVALID_ARGUMENT', `experiment file: artifact ${JSON.stringify(a.name)} of run ${e.run.id} has no file name`, { run: e.run.id, artifact: a.name });
      // (a file system takes 255 bytes a name; room is left for a prefix that keeps two of one name apart)
      if (Buffer.byteLength(name) > 200) throw new FieldpackError('INVALID_ARGUMENT', `experiment file: artifact ${JSON.stringify(name.slice(0, 40))}... of run ${e.run.id} has a file name of ${Buffer.byteLength(name)} bytes (200 at most)`, { run: e.run.id });
      if (a.data !== undefined && a.sha256 && sha256(Buffer.from(a.data, 'base64')) !== a.sha256) {
        throw new FieldpackError('INVALID_ARGUMENT', `experiment file: artifact ${a.name} of run ${e.run.id} does not match its sha256 (damaged file)`, { run: e.run.id, artifact: a.name });
      }
    }
  }
  // an export imported twice made every run twice, their origins the same
  const again = store.runsImportedFrom(projectId, doc.source.database, doc.exportedAt, doc.runs.map((e) => e.run.id));
  if (again.length) {
    throw new FieldpackError('CONFLICT', `${src.path ?? 'this experiment file'} was imported into this project already: runs ${again.join(', ')} came from it (exported ${doc.exportedAt} from ${doc.source.database}); delete them to import it again`, { runs: again });
  }
  const experimentName = src.experiment ?? doc.experiment;
  const experimentIsNew = !store.listExperiments(projectId).some((x) => x.name === experimentName);
  const experiment = store.experimentNamed(projectId, experimentName);
  const created: z.infer<typeof Run>[] = [];
  try {
    for (const e of doc.runs) {
      // a cancel (Ctrl-C) takes back what was imported, as a failure does (a signal left some runs, and the rerun refused)
      if (signal?.aborted) throw new FieldpackError('CANCELLED', `import cancelled: the ${created.length} run(s) imported so far were taken back`);
      created.push(await importRun(store, projectId, experiment.id, doc, e));
    }
  } catch (err) {
    // all or nothing: the runs imported before the one that failed are taken back, and the experiment made for them
    for (const run of created) discardRun(store, run.id);
    if (experimentIsNew) store.deleteEmptyExperiment(experiment.id);
    throw err;
  }
  return { runs: created, experiment: experiment.name };
}

/** One run of an experiment file into the store: its record in one transaction, then its files and analysis. */
async function importRun(store: Store, projectId: number, experimentId: number, doc: ExperimentFile, e: ExperimentFile['runs'][number]): Promise<z.infer<typeof Run>> {
  const pending: { path: string; data: Buffer }[] = [];
  const run = store.insertImportedRun({
    projectId,
    experimentId,
    // a run exported while it ran did not end here either (the sweep at start said Fieldpack had stopped while it ran)
    run: ACTIVE_STATUSES.includes(e.run.status) ? { ...e.run, status: 'interrupted', message: `still ${e.run.status} when it was exported` } : e.run,
    metrics: e.metrics,
    tags: e.tags,
    logs: e.logs,
    origin: { database: doc.source.database, project: doc.source.project, runId: e.run.id, fieldpackVersion: doc.fieldpackVersion, exportedAt: doc.exportedAt, importedAt: new Date().toISOString() },
    artifacts: (newId) =>
      e.artifacts.filter((a) => a.data !== undefined).map((a) => {
        // two artifacts of one name in different folders (dirA/same.bin, dirB/same.bin) get files of their own
        const path = join(runDir(store, newId), uniqueName(basename(a.name), pending.map((f) => basename(f.path))));
        const data = Buffer.from(a.data!, 'base64');
        pending.push({ path, data });
        return { name: a.name, path, kind: a.kind, sizeBytes: data.length, sha256: a.sha256 };
      }),
  });
  try {
    removeRunDir(store, run.id);
    makeFolder(runDir(store, run.id));
    for (const f of pending) await writeFileAtomic(f.path, f.data);
    if (e.analysis) await storeImportedAnalysis(store, run.id, e.analysis);
  } catch (err) {
    discardRun(store, run.id);
    throw err;
  }
  return run;
}

/** `name`, or N-name for the first N from 2 that is not among `taken`. */
function uniqueName(name: string, taken: string[]): string {
  if (!taken.includes(name)) return name;
  let n = 2;
  while (taken.includes(`${n}-${name}`)) n++;
  return `${n}-${name}`;
}

/** A run taken back from the store with its folder (an import that failed). */
function discardRun(store: Store, id: number): void {
  store.deleteRun(id);
  removeRunDir(store, id);
}

/**
 * A run's analysis from a file, checked as runs.analysis returns one (RunAnalysis: its slice index names the cache
 * file, its maps size the report's images): one Fieldpack did not write is refused as such.
 */
async function storeImportedAnalysis(store: Store, runId: number, analysis: unknown): Promise<void> {
  const parsed = RunAnalysisSchema.safeParse(analysis);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FieldpackError('INVALID_ARGUMENT', `experiment file: the analysis of a run is not one Fieldpack writes (${issue.path.join('.') || 'analysis'}: ${issue.message})`);
  }
  await storeAnalysis(store, runId, parsed.data);
}
