/**
 * Review methods: runs kept and shared as experiments (notes, tags, archive, search, export/import as one file),
 * the error analysis behind the Compare view's charts, and reports (self-contained HTML, PDF).
 */
import { z } from 'zod';
import { Run, id } from '../schemas.ts';

/** A number or null (JSON has no NaN: non-finite values travel as null where a chart skips them). */
const num = z.number().nullable();

/** A name an object's prototype answers to (__proto__, constructor): as a tag key it was dropped, or matched every run */
export function reservedTagKey(key: string): boolean {
  return key in Object.prototype;
}

export const TagKey = z.string().trim().min(1).max(200).refine((k) => !reservedTagKey(k), 'is a reserved name (such as __proto__ or constructor): give the tag another key');

/**
 * Tags by key: a record of TagKey. An own `__proto__` key is refused before the record is built (building it set the
 * copy's prototype, so the key vanished: a search for it matched every run, a tag set to it set nothing).
 */
export function tagRecord<V extends z.ZodType>(value: V) {
  return z.unknown().superRefine((raw, ctx) => {
    if (raw !== null && typeof raw === 'object' && Object.hasOwn(raw, '__proto__')) ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'is a reserved name (such as __proto__ or constructor): give the tag another key' });
  }).pipe(z.record(TagKey, value));
}

/** a run's note (free text), as runs.update and an experiment file's runs take it */
export const RunNote = z.string().max(100_000);
/** an experiment's name within its project */
export const ExperimentName = z.string().trim().min(1).max(200);

export const RunUpdateInput = z.object({
  id,
  note: RunNote.optional(),
  archived: z.boolean().optional(),
  /** tags to set: key -> value ('' for a plain label) */
  setTags: tagRecord(z.string().max(2000)).optional(),
  removeTags: z.array(z.string()).optional(),
  /** put the run in the project's experiment of this name (created when missing); null takes it out */
  experiment: ExperimentName.nullable().optional(),
});

export const RunFilter = z.object({
  projectId: id.nullable().optional(),
  kind: z.string().optional(),
  /** case-insensitive substring of the name, note, parameters, tag keys and values */
  query: z.string().max(500).optional(),
  /** every key=value must be carried ('' = the key with any value) */
  tags: tagRecord(z.string()).optional(),
  archived: z.enum(['exclude', 'include', 'only']).default('exclude'),
  experiment: z.string().optional(),
  limit: z.number().int().min(1).max(10_000).default(200),
});

export const Experiment = z.object({ id, name: z.string(), runCount: z.number().int() });

/** A map's side at most (an analysis downsamples its slice far below; an imported one claiming more is refused). */
const MAP_SIDE_MAX = 1 << 14;

/** A 2D map, downsampled: values row-major, null where masked or not available. */
export const MapData = z.object({
  height: z.number().int().min(0).max(MAP_SIDE_MAX),
  width: z.number().int().min(0).max(MAP_SIDE_MAX),
  /** sampling step from the source slice (1 = full resolution) */
  step: z.number().int(),
  values: z.array(num),
  min: z.number(),
  max: z.number(),
}).refine((m) => m.values.length === m.height * m.width, 'its values are not height x width');
export type MapData = z.infer<typeof MapData>;

const DerivedStat = z.object({
  name: z.string(),
  /** what it is computed from (the variable, or the u/v pair) */
  from: z.string(),
  /** error_stat of the quantity after compression against before, over the slice */
  rmse: num,
  maxError: num,
  valueRange: num,
  /** rmse / value range */
  nrmse: num,
  psnr: num,
  before: MapData,
  after: MapData,
});

export const RunAnalysis = z.object({
  runId: id,
  version: z.number().int(),
  variable: z.string(),
  units: z.string().nullable(),
  shape: z.array(z.number().int()),
  dims: z.array(z.string()),
  /** the 2D slice the spatial analyses use (the middle of the leading dims unless asked) */
  slice: z.object({ index: z.array(z.number().int().min(0)), dims: z.array(z.string()), height: z.number().int().min(0), width: z.number().int().min(0) }),
  absBound: z.number().nullable(),
  /** error = reconstruction - original on the slice */
  errorMap: MapData,
  /** flipY: the slice's first axis increases northwards (draw row 0 at the bottom) */
  flipY: z.boolean(),
  /** signed error over the whole field */
  histogram: z.object({ edges: z.array(z.number()), counts: z.array(z.number()) }),
  autocorrelation: z.object({ lags: z.array(z.number()), x: z.array(num), y: z.array(num) }),
  spectrum: z.object({ frequency: z.array(z.number()), original: z.array(z.number()), reconstruction: z.array(z.number()), error: z.array(z.number()) }),
  ssim: z.object({ mean: num, win: z.number().int().min(0), stride: z.number().int().min(0), map: MapData }),
  derived: z.array(DerivedStat),
  /** derived quantities that could not be computed, and why (no u/v partner, ...) */
  derivedNotes: z.array(z.string()),
  computedAt: z.string(),
  seconds: z.number(),
});
export type RunAnalysis = z.infer<typeof RunAnalysis>;

export const ExperimentFileOut = z.object({
  /** where it was written (absent when returned inline) */
  path: z.string().optional(),
  /** the file's text, when no path was given (the browser downloads it) */
  document: z.string().optional(),
  runs: z.number().int(),
  artifacts: z.number().int(),
  /** artifacts left out for their size, by name */
  skipped: z.array(z.string()),
  bytes: z.number().int(),
});

export const ReportOut = z.object({
  htmlPath: z.string().optional(),
  pdfPath: z.string().optional(),
  /** the HTML text when no path was given */
  html: z.string().optional(),
  /** the PDF's bytes (base64) when no path was given: the browser downloads it */
  pdfBase64: z.string().optional(),
  pdfPages: z.number().int().optional(),
  bytes: z.number().int(),
});

export const REVIEW_METHODS = {
  'runs.update': { input: RunUpdateInput, output: Run },
  'runs.search': { input: RunFilter, output: z.array(Run) },
  'runs.analysis': { input: z.object({ runId: id, index: z.array(z.number().int().min(0)).optional(), refresh: z.boolean().default(false) }), output: RunAnalysis },
  'experiments.list': { input: z.object({ projectId: id }), output: z.array(Experiment) },
  'experiments.export': {
    input: z.object({
      projectId: id.optional(),
      runIds: z.array(id).optional(),
      experiment: z.string().optional(),
      /** write here (on the machine that serves the API); absent: return the text */
      path: z.string().trim().min(1).optional(),
      /** artifacts larger than this are left out (named in `skipped`) */
      maxArtifactBytes: z.number().int().min(0).default(16 * 1024 * 1024),
    }),
    output: ExperimentFileOut,
  },
  'experiments.import': {
    input: z.object({ projectId: id, path: z.string().trim().min(1).optional(), document: z.string().optional(), experiment: z.string().trim().min(1).optional() }),
    output: z.object({ runs: z.array(Run), experiment: z.string() }),
  },
  'reports.create': {
    input: z.object({
      runIds: z.array(id).min(1, 'a report needs at least one run').max(24),
      /** HTML file to write; absent: the HTML comes back inline (with a PDF: both also kept in the store's reports folder) */
      path: z.string().trim().min(1).optional(),
      /** also write a PDF (a path, or true for the HTML's path with .pdf) */
      pdf: z.union([z.string().trim().min(1), z.boolean()]).default(false),
      title: z.string().max(300).optional(),
    }),
    output: ReportOut,
  },
} as const;
