/**
 * The work of an archive: which files, which variables, split how, at which bound, with which codec, and which
 * targets are predicted from which anchors (cross-field, where the ranking finds a linked pair). Written once as
 * work.json; every builder (one process, local shards, Slurm array tasks) reads the same list.
 */
import { globSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { counted, firstNames } from '../../core/text.ts';
import { type Field, fieldSize } from '../../core/field.ts';
import { coordinateFromField, packCoordinates } from '../../core/coordinates.ts';
import { type BoundSpec, parseBound, resolveBound, validRange } from '../../core/codec/bound.ts';
import type { FieldCoordinates } from '../../core/field.ts';
import { openDataFile } from '../data/readers/index.ts';
import { declaredDimension, notAFieldReason } from '../data/readers/util.ts';
import type { DataFile, VariableInfo } from '../data/readers/types.ts';
import { rankAnchors } from '../crossfield/ranking.ts';
import { carriedBytes, carryVariable, notCarriedReason } from './carried.ts';
import { unwritableGroupReason, unwritableVariableReason } from '../data/writers/netcdf4.ts';
import { listCodecs, resolveCodecChoice } from '../../core/compressors/index.ts';
import { parseBaseSpec } from '../compression/base.ts';
import { type ArchiveOptions, type ArchiveSource, type WorkManifest, type WorkMember, ARCHIVE_VERSION, WORK_FORMAT, safeName } from './format.ts';

/** Data files an archive reads from a folder. */
const DATA_EXTENSIONS = new Set(['.nc', '.cdf', '.nc4', '.h5', '.hdf5', '.he5', '.netcdf']);
/** A variable above this many values is split along its first dimension (time or level). */
export const DEFAULT_MEMBER_VALUES = 1 << 22;
/** Values of each variable the anchor ranking looks at. */
const RANK_VALUES = 1 << 18;

export interface WorkOptions {
  inputs: string[];
  vars?: string[] | null;
  bound?: string;
  boundFor?: Record<string, string>;
  codec?: string;
  params?: Record<string, unknown>;
  /** the base of residual-coder members: none, auto or CODEC:MODE:VALUE (services/compression/base.ts) */
  base?: string;
  crossfield?: 'auto' | 'off';
  network?: 'linear' | 'cfnn';
  memberValues?: number;
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
}

/**
 * FILE | DIR | GLOB arguments to data files, each once, in the order given (a folder's or a glob's files sorted):
 * member ids number the files in that order, so they do not depend on where the files live.
 */
export function expandInputs(inputs: string[]): string[] {
  const out = new Set<string>();
  for (const input of inputs) {
    if (/[*?[]/.test(input)) {
      const hits = globSync(input).map((p) => resolve(p)).filter((p) => statSync(p).isFile());
      if (!hits.length) throw new FieldpackError('NOT_FOUND', `${input}: no file matches`);
      hits.sort().forEach((h) => out.add(h));
      continue;
    }
    let st;
    try {
      st = statSync(input);
    } catch {
      throw new FieldpackError('NOT_FOUND', `${input}: no such file or folder`, { path: input });
    }
    if (st.isDirectory()) {
      const files = dataFilesUnder(input);
      if (!files.length) throw new FieldpackError('NOT_FOUND', `${input}: no data file (${[...DATA_EXTENSIONS].join(', ')}) in this folder`);
      files.map((f) => resolve(f)).sort().forEach((f) => out.add(f));
    } else out.add(resolve(input));
  }
  // one file reached by two paths (a link to it beside it) is archived once, under its own path where it is given
  const chosen = new Map<string, string>();
  for (const p of out) {
    const real = realpathSync(p);
    if (!chosen.has(real) || p === real) chosen.set(real, p);
  }
  const kept = new Set(chosen.values());
  return [...out].filter((p) => kept.has(p));
}

/**
 * The data files in a folder and its subfolders. A link to a file counts as that file; links to folders are not
 * followed (a link to the folder itself looped until the path was too long), and a dangling link is no file.
 */
function dataFilesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...dataFilesUnder(path));
    else if (DATA_EXTENSIONS.has(extname(entry.name).toLowerCase()) && (entry.isFile() || (entry.isSymbolicLink() && statSync(path, { throwIfNoEntry: false })?.isFile()))) found.push(path);
  }
  return found;
}

export function archiveOptions(o: WorkOptions): ArchiveOptions {
  const opts: ArchiveOptions = {
    bound: o.bound ?? 'rel:1e-3',
    boundFor: o.boundFor ?? {},
    codec: o.codec ?? 'auto',
    params: o.params ?? {},
    base: o.base?.trim() || 'none',
    crossfield: o.crossfield ?? 'auto',
    network: o.network ?? 'linear',
    memberValues: o.memberValues ?? DEFAULT_MEMBER_VALUES,
    vars: o.vars?.length ? o.vars : null,
  };
  parseBound(opts.bound);
  for (const [v, b] of Object.entries(opts.boundFor)) {
    try {
      parseBound(b);
    } catch (e) {
      throw new FieldpackError('INVALID_ARGUMENT', `--bound-for ${v}: ${(e as Error).message}`);
    }
  }
  const { codec } = resolveCodecChoice(opts.codec); // an unknown codec fails here, naming it
  const base = parseBaseSpec(opts.base);
  if (base.kind === 'file') {
    throw new FieldpackError('INVALID_ARGUMENT', `--base ${opts.base}: an archive must be restorable on its own, and a file base stays outside it; give none, auto or CODEC:MODE:VALUE (the base stream is stored in objects/)`);
  }
  if (base.kind !== 'none' && !codec.takesBase) {
    throw new FieldpackError('INVALID_ARGUMENT', `--base ${opts.base}: codec ${opts.codec} takes no base (residual coders do: ${listCodecs().filter((c) => c.takesBase).map((c) => c.id).join(', ')})`);
  }
  if (base.kind === 'codec') resolveCodecChoice(base.codec); // an unknown base codec fails here, before any member is built
  return opts;
}

/** The first rows of a field, at most `max` values (at least one row). */
function leadingRows(f: Field, max: number): Field {
  if (f.shape.length < 2) return f;
  const row = fieldSize(f.shape) / f.shape[0]!;
  const rows = Math.max(1, Math.min(f.shape[0]!, Math.floor(max / row)));
  if (rows === f.shape[0]) return f;
  const n = rows * row;
  return { ...f, shape: [rows, ...f.shape.slice(1)], values: f.values.subarray(0, n), ...(f.mask ? { mask: f.mask.subarray(0, n) } : {}) };
}

/** Rows read at once when a variable's valid range is taken (memory bounded by this, not by the variable). */
const RANGE_SLAB_VALUES = 1 << 24;

/**
 * A variable's valid range (max - min over its valid finite values; 0 when none) and its leading rows of at most
 * RANK_VALUES values, read a slab of rows at a time: planning an archive of a 10 GB variable holds one slab.
 */
async function rangeAndLeadingRows(df: DataFile, v: VariableInfo, signal?: AbortSignal): Promise<{ range: number; sample: Field }> {
  const rows = v.shape[0]!;
  const rowSize = fieldSize(v.shape) / rows;
  const step = Math.max(1, Math.floor(RANGE_SLAB_VALUES / rowSize));
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  let sample: Field | null = null;
  for (let r = 0; r < rows; r += step) {
    const whole = r === 0 && step >= rows;
    const slab = await df.readField(v.name, { coordinates: false, signal, ...(whole ? {} : { slice: [[r, Math.min(rows, r + step)]] }) });
    const vr = validRange(slab.values, slab.mask ?? null);
    if (vr.count) {
      min = Math.min(min, vr.min);
      max = Math.max(max, vr.max);
      count += vr.count;
    }
    if (!sample) sample = whole ? leadingRows(slab, RANK_VALUES) : copied(leadingRows(slab, RANK_VALUES));
  }
  return { range: count ? max - min : 0, sample: sample! };
}

/** A field's own copy of its values (a view would keep the slab it came from alive). */
function copied(f: Field): Field {
  return { ...f, values: f.values.slice(), ...(f.mask ? { mask: f.mask.slice() } : {}) };
}

/** Splits of the first dimension so that each member holds at most `memberValues` values. */
export function rowSplits(shape: number[], memberValues: number): ([number, number] | null)[] {
  const n = fieldSize(shape);
  if (shape.length < 2 || n <= memberValues) return [null];
  const row = n / shape[0]!;
  const per = Math.max(1, Math.floor(memberValues / row));
  const out: [number, number][] = [];
  for (let s = 0; s < shape[0]!; s += per) out.push([s, Math.min(shape[0]!, s + per)]);
  return out.length > 1 ? out : [null];
}

/** The variables a variable's `coordinates` attribute names (CF auxiliary coordinates: WRF's XLAT, XLONG, XTIME). */
export function auxiliaryCoordinatesOf(v: { attributes: Record<string, unknown> }): string[] {
  const named = v.attributes['coordinates'];
  return typeof named === 'string' ? named.split(/\s+/).filter(Boolean) : [];
}

export function memberId(sourceId: string, variable: string, rows: [number, number] | null): string {
  return `${sourceId}.${safeName(variable)}${rows ? `.${rows[0]}-${rows[1]}` : ''}`;
}

interface Candidate {
  name: string;
  dims: string[];
  shape: number[];
  sample: Field;
  bound: BoundSpec;
  abs: number | null;
}

/**
 * Cross-field links of one file: for each variable (in file order) the best anchor on the same grid, taken when the
 * ranking suggests it and a quick linear stand-in predicts it codes the target in fewer bytes. A variable is either a
 * target or an anchor, never both, so members never depend on each other in a loop.
 */
function linkPairs(cands: Candidate[], forced: boolean): { target: string; anchors: string[]; reason: string }[] {
  const links: { target: string; anchors: string[]; reason: string }[] = [];
  const roles = new Map<string, 'target' | 'anchor'>();
  for (const t of cands) {
    if (roles.has(t.name) || t.shape.length < 2 || t.abs === 0) continue;
    const grid = cands.filter((c) => c.name !== t.name && roles.get(c.name) !== 'target' && c.dims.join() === t.dims.join() && c.shape.join() === t.shape.join());
    if (!grid.length) continue;
    // the correlation of differences first (cheap), then the quick gain (a compression each) for the two best only
    const byCorrelation = rankAnchors(t.sample, grid.map((c) => c.sample)).filter((r) => r.diffCorrelation !== null).slice(0, 2).map((r) => r.var);
    if (!byCorrelation.length) continue;
    let ranking: ReturnType<typeof rankAnchors>;
    try {
      ranking = rankAnchors(t.sample, grid.filter((c) => byCorrelation.includes(c.name)).map((c) => c.sample), {
        quickGain: true, bound: t.abs !== null ? { mode: 'abs', value: t.abs } : t.bound, maxAnchors: 1, minScore: forced ? 0 : 0.5,
      });
    } catch (e) {
      // a pair the quick estimate cannot size (weights past float32 for a 1e30 target on a 1e-30 anchor, a lossless
      // PSNR or NRMSE target) is not linked: the target keeps the core codec, and the other files their plan
      if (e instanceof FieldpackError && e.code !== 'CANCELLED' && e.code !== 'INTERNAL') continue;
      throw e;
    }
    const best = ranking.find((r) => r.suggested && (forced || (r.quickGain ?? 1) < 0.95));
    if (!best) continue;
    roles.set(t.name, 'target');
    roles.set(best.var, 'anchor');
    links.push({ target: t.name, anchors: [best.var], reason: best.reason });
  }
  return links;
}

/** Reads every input and lays out the work (no compression). */
export async function planWork(o: WorkOptions): Promise<WorkManifest> {
  const options = archiveOptions(o);
  const files = expandInputs(o.inputs);
  const forced = resolveCodecChoice(options.codec).codec.needsDependencies;
  const sources: ArchiveSource[] = [];
  const members: WorkMember[] = [];
  const links: WorkManifest['links'] = [];
  let group = 0;
  for (const [i, path] of files.entries()) {
    o.onProgress?.(i / files.length, `reading ${basename(path)}`);
    if (o.signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled');
    const id = `${i}-${safeName(basename(path, extname(path)))}`;
    const df = await openDataFile(path);
    try {
      const coords: FieldCoordinates = {};
      const skipped: ArchiveSource['skipped'] = [];
      const carried: ArchiveSource['carried'] = [];
      const cands: Candidate[] = [];
      // auxiliary coordinates (named in a variable's `coordinates`, as WRF's XLAT, XLONG and XTIME are) and 1-D
      // variables along a dimension are positions and times: kept exactly unless a bound is given for them
      const auxiliary = new Set(df.variables.flatMap(auxiliaryCoordinatesOf));
      // --vars T2 keeps what T2's `coordinates` names too: its positions and times (a restore without them lost them)
      const selected = options.vars && new Set([...options.vars, ...df.variables.filter((v) => options.vars!.includes(v.name)).flatMap(auxiliaryCoordinatesOf)]);
      for (const v of df.variables) {
        if (v.isCoordinate && v.readable) {
          coords[v.name] = coordinateFromField(await df.readField(v.name, { coordinates: false }));
          continue;
        }
        // what is not a field is kept as stored where it can be, whatever --vars selects: the fields refer to it
        // (grid_mapping) or the file is incomplete without it (Times)
        if (notAFieldReason(v) !== null) {
          const why = notCarriedReason(v, df, carried.reduce((a, c) => a + carriedBytes(c), 0));
          const kept = why === null ? await carryVariable(df, v) : { reason: why };
          if ('reason' in kept) skipped.push({ name: v.name, reason: kept.reason });
          else carried.push(kept);
          continue;
        }
        if (selected && !selected.has(v.name)) {
          skipped.push({ name: v.name, reason: 'not selected (--vars)' });
          continue;
        }
        // what the restore's NetCDF-4 writer would refuse, refused here: an archive that builds must restore
        const unwritable = unwritableVariableReason(v) ?? dimensionMismatch(v, df);
        if (unwritable) {
          skipped.push({ name: v.name, reason: `${unwritable}, so not archived` });
          continue;
        }
        let read: Awaited<ReturnType<typeof rangeAndLeadingRows>>;
        try {
          read = await rangeAndLeadingRows(df, v, o.signal);
        } catch (e) {
          // a variable no field can hold (an int64 past 2^53) is left out with the reason, as inspect lists it, and
          // the file's other variables are archived
          if (!(e instanceof FieldpackError && e.code === 'UNSUPPORTED')) throw e;
          skipped.push({ name: v.name, reason: e.message.replace(`${path}: `, '') });
          continue;
        }
        const { range, sample } = read;
        const exact = auxiliary.has(v.name) || v.shape.length === 1;
        const bound = parseBound(options.boundFor[v.name] ?? (exact ? 'abs:0' : options.bound));
        // rel and abs resolve on the whole variable, so every member of a split variable shares one absolute bound
        const abs = bound.mode === 'rel' || bound.mode === 'abs' ? resolveBound(bound, range).abs : null;
        cands.push({ name: v.name, dims: v.dims, shape: v.shape, sample, bound, abs });
      }
      const fileLinks = options.crossfield === 'auto' || forced ? linkPairs(cands, forced) : [];
      links.push(...fileLinks.map((l) => ({ source: id, ...l })));
      const targetOf = new Map(fileLinks.map((l) => [l.target, l]));
      const anchorVars = new Set(fileLinks.flatMap((l) => l.anchors));
      // build order inside a file: anchors, then the others, then targets
      const order = [...cands.filter((c) => anchorVars.has(c.name)), ...cands.filter((c) => !anchorVars.has(c.name) && !targetOf.has(c.name)), ...cands.filter((c) => targetOf.has(c.name))];
      // one group per set of linked variables: an anchor two targets share joins both targets' groups (each link gave
      // it its own, the last overwrote the first, and with 4 or more shards a target went apart from its anchor)
      const groupOfVar = new Map<string, number>();
      for (const l of fileLinks) {
        const linked = [l.target, ...l.anchors];
        const joined = [...new Set(linked.map((v) => groupOfVar.get(v)).filter((g): g is number => g !== undefined))];
        const g = joined[0] ?? group++;
        for (const [v, of] of groupOfVar) if (joined.includes(of)) groupOfVar.set(v, g);
        for (const v of linked) groupOfVar.set(v, g);
      }
      const variables: ArchiveSource['variables'] = [];
      // one member-name stem per variable: names that safeName folds alike ("T 2", "T_2") get a count, not one id
      const stems = new Map<string, string>();
      for (const c of order) {
        let stem = safeName(c.name);
        for (let k = 2; [...stems.values()].includes(stem); k++) stem = `${safeName(c.name)}-${k}`;
        stems.set(c.name, stem);
      }
      for (const c of order) {
        const link = targetOf.get(c.name);
        const splits = rowSplits(c.shape, options.memberValues);
        const width = c.sample.values.BYTES_PER_ELEMENT;
        const ids: string[] = [];
        for (const rows of splits) {
          const mid = memberId(id, stems.get(c.name)!, rows);
          ids.push(mid);
          const shape = rows ? [rows[1] - rows[0], ...c.shape.slice(1)] : c.shape;
          members.push({
            id: mid, source: id, variable: c.name, rows, dims: c.dims, shape,
            codec: link || forced ? 'auto' : options.codec,
            bound: { mode: c.bound.mode, value: c.bound.value, abs: c.abs },
            anchors: link ? link.anchors.map((a) => memberId(id, stems.get(a) ?? a, rows)) : [],
            series: link ? `${id}.${c.name}<-${link.anchors.join(',')}` : null,
            group: groupOfVar.get(c.name) ?? group++,
            bytes: fieldSize(shape) * width,
          });
        }
        const info = df.variable(c.name);
        variables.push({ name: c.name, dims: c.dims, shape: c.shape, dtype: info.dtype, attributes: info.attributes, ...(info.attributeTypes ? { attributeTypes: info.attributeTypes } : {}), members: ids });
      }
      // variables in the file's order in the manifest (members keep the build order)
      const fileOrder = df.variables.map((v) => v.name);
      variables.sort((a, b) => fileOrder.indexOf(a.name) - fileOrder.indexOf(b.name));
      // a group the NetCDF-4 writer could not make (a name HDF5 allows and netCDF not) is named, not restored
      const groups = (df.groups ?? []).filter((g) => {
        const why = unwritableGroupReason(g);
        if (why) skipped.push({ name: `${g.path}/`, reason: `a group with ${why}: its attributes are not archived` });
        return !why;
      });
      sources.push({
        id, path, name: basename(path), format: df.format, sizeBytes: df.sizeBytes, modifiedMs: statSync(path).mtimeMs,
        dimensions: Object.entries(df.dimensions).map(([name, size]) => ({ name, size, ...(df.unlimited?.includes(name) ? { unlimited: true } : {}) })),
        globalAttributes: df.globalAttributes, ...(df.globalAttributeTypes ? { globalAttributeTypes: df.globalAttributeTypes } : {}), ...(groups.length ? { groups } : {}), coordinates: packCoordinates(coords) ?? {}, variables, carried, skipped,
      });
    } finally {
      df.close();
    }
  }
  // a variable --vars or --bound-for names that no input holds is a typo, not a choice (it was silently ignored)
  const held = new Set(sources.flatMap((s) => [...s.variables, ...s.carried, ...s.skipped].map((v) => v.name)));
  const coordinates = new Set(sources.flatMap((s) => Object.keys(s.coordinates)));
  for (const [flag, names] of [['--vars', options.vars ?? []], ['--bound-for', Object.keys(options.boundFor)]] as const) {
    const coordinate = names.find((v) => !held.has(v) && coordinates.has(v));
    if (coordinate) throw new FieldpackError('INVALID_ARGUMENT', `${flag} names ${coordinate}, a coordinate variable: coordinates are kept exactly with every field, not archived on their own`);
    const unknown = names.filter((v) => !held.has(v));
    if (unknown.length) throw new FieldpackError('NOT_FOUND', `${flag} names ${firstNames(unknown, 20)}, which no input file holds (they hold ${firstNames([...held], 20)})`);
  }
  if (!members.length) {
    // why each variable was left out (a name netCDF does not take, a 16-bit float): said, not only "nothing"
    const why = sources.flatMap((s) => s.skipped.filter((k) => !k.reason.startsWith('not selected')).map((k) => `${k.name} (${k.reason})`));
    throw new FieldpackError('NOT_FOUND', `nothing to archive in ${firstNames(files, 5)}${options.vars ? ` (--vars ${options.vars.join(',')})` : ''}${why.length ? `: ${firstNames(why, 5, '; ')}` : ''}`);
  }
  o.onProgress?.(1, `${counted(members.length, 'member')} from ${counted(files.length, 'file')}`);
  return { format: WORK_FORMAT, version: ARCHIVE_VERSION, createdAt: new Date().toISOString(), options, sources, members, links };
}

/**
 * Where a variable is longer or shorter along an axis than the dimension the file names for it (an HDF5 dimension
 * scale of another length attached to it): the restore's file could not hold it (it refused the whole file after the
 * archive had verified), so it is left out at build with the reason.
 */
function dimensionMismatch(v: VariableInfo, df: DataFile): string | null {
  for (let i = 0; i < v.dims.length; i++) {
    const dim = declaredDimension(v.name, v.dims[i]!, (d) => d in df.dimensions);
    const size = dim === null ? undefined : df.dimensions[dim];
    if (size !== undefined && size !== v.shape[i]) return `its axis ${i} is ${v.shape[i]} long, its dimension ${dim} ${size}`;
  }
  return null;
}

/** Shard of each member: whole groups (a target with its anchors) go to the least loaded shard, largest first. */
export function shardAssignment(work: WorkManifest, count: number): Map<string, number> {
  const groups = new Map<number, { bytes: number; ids: string[]; first: number }>();
  work.members.forEach((m, i) => {
    const g = groups.get(m.group) ?? { bytes: 0, ids: [], first: i };
    g.bytes += m.bytes;
    g.ids.push(m.id);
    groups.set(m.group, g);
  });
  const load = new Array<number>(count).fill(0);
  const out = new Map<string, number>();
  for (const g of [...groups.values()].sort((a, b) => b.bytes - a.bytes || a.first - b.first)) {
    const s = load.indexOf(Math.min(...load));
    load[s]! += g.bytes;
    for (const id of g.ids) out.set(id, s);
  }
  return out;
}
