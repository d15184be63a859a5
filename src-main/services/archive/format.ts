/**
 * The archive on disk (docs/archive.md is the reference; bump ARCHIVE_VERSION and document the change whenever a
 * field's meaning changes, never remove one):
 *
 *   ARCHIVE/manifest.json          the manifest (written last, atomically; its presence means the archive is complete)
 *   ARCHIVE/work.json              the work to do: sources, members, bounds, codecs, anchors, shard groups
 *   ARCHIVE/journal/WRITER.jsonl   one line per finished member or stored object, appended and flushed (a torn last
 *                                  line from a killed writer is ignored); WRITER is `build` or `shard-I-of-N`
 *   ARCHIVE/members/ID.fpk         one .fpk stream per member (written atomically)
 *   ARCHIVE/objects/SHA256.EXT     models and base streams (.fpk), stored once by the SHA-256 of their bytes
 *   ARCHIVE/slurm/                 sbatch scripts and logs of a --slurm build
 */
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ArchiveLink, ArchiveTotals, SkippedVariable } from '../../api/methods/archive.ts';

export const ARCHIVE_FORMAT = 'fieldpack-archive';
export const ARCHIVE_VERSION = 1;
export const WORK_FORMAT = 'fieldpack-archive-work';

export const MANIFEST_FILE = 'manifest.json';
export const WORK_FILE = 'work.json';
export const JOURNAL_DIR = 'journal';
export const MEMBERS_DIR = 'members';
export const OBJECTS_DIR = 'objects';

export const manifestPath = (dir: string) => join(dir, MANIFEST_FILE);
export const workPath = (dir: string) => join(dir, WORK_FILE);
export const journalPath = (dir: string, writer: string) => join(dir, JOURNAL_DIR, `${writer}.jsonl`);
export const memberFile = (id: string) => `${MEMBERS_DIR}/${id}.fpk`;
export const objectFile = (hash: string, ext: string) => `${OBJECTS_DIR}/${hash}${ext}`;

/** The folders an archive writes and reads as its own (a folder of the user's beside them is left alone). */
const OWN_FOLDERS = [MEMBERS_DIR, OBJECTS_DIR, JOURNAL_DIR, 'slurm'];

/**
 * The archive `path` is, or whose own folders (members/, objects/, journal/, slurm/) hold it: undefined when none.
 * A folder counts as an archive when it holds a work.json or a manifest.json.
 */
/** `path` with its links resolved as far as it exists (the rest, not made yet, appended as given). */
function realPath(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  const parent = dirname(path);
  return parent === path ? path : join(realPath(parent), basename(path));
}

export function archiveHolding(path: string): { archive: string; folder?: string } | undefined {
  const isArchive = (d: string) => existsSync(workPath(d)) || existsSync(manifestPath(d));
  // through links too: a link to an archive's members/ is that folder
  let child = realPath(resolve(path));
  if (isArchive(child)) return { archive: child };
  for (let parent = dirname(child); parent !== child; child = parent, parent = dirname(parent)) {
    if (OWN_FOLDERS.includes(basename(child)) && isArchive(parent)) return { archive: parent, folder: basename(child) };
  }
  return undefined;
}

/** A number that may be NaN or infinite (JSON has neither). */
const Num = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);
export type Num = z.infer<typeof Num>;
export const jsonNumber = (x: number): Num => (Number.isFinite(x) ? x : (String(x) as 'NaN' | 'Infinity' | '-Infinity'));
export const fromJsonNumber = (x: Num): number => (typeof x === 'number' ? x : Number(x));

export const ArchiveBound = z.object({
  /** as the user gave it (rel is resolved on the whole variable's valid range, so every member of a variable shares abs) */
  mode: z.enum(['abs', 'rel', 'psnr', 'nrmse']),
  value: z.number(),
  /** the absolute point-wise bound the member's stream enforces (0 = lossless) */
  abs: z.number(),
});
export type ArchiveBound = z.infer<typeof ArchiveBound>;

/** A variable of a source as the manifest describes it (archived as members, or carried). */
const VariableOfSource = z.object({
  name: z.string(),
  dims: z.array(z.string()),
  shape: z.array(z.number().int()),
  /** dtype in the source file (a carried variable's: char, or a numeric one) */
  dtype: z.string(),
  /** as in the source (a carried variable's with packing attributes and _FillValue) */
  attributes: z.record(z.string(), z.unknown()),
  /** the stored type (int8 ... float64) of each numeric attribute, so that 2.0 comes back a float (absent in archives made before it: inferred) */
  attributeTypes: z.record(z.string(), z.string()).optional(),
});

export const SourceVariable = VariableOfSource.extend({
  /** member ids holding it, in row order (split along the first dimension when large) */
  members: z.array(z.string()),
});

/**
 * A source's or member's id: a name, which also names files (members/ID.fpk, a restored SOURCE-ID.nc), so no path in
 * it; and a file of the archive as a manifest or journal names it: members/NAME or objects/NAME, nothing else. A
 * tampered or crafted work file, manifest or journal cannot make build, verify, restore or the clean-up of unused
 * objects reach outside the folders they write to.
 */
export const ArchiveName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a name of letters, digits, ., _ and -');
export const ArchiveFile = z.string().regex(/^(members|objects)\/[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a file in the archive\'s members/ or objects/ folder');
/** An object's file: in objects/ only (a journal's object line naming a member's stream had merge delete it as unused) */
const ObjectFile = z.string().regex(/^objects\/[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a file in the archive\'s objects/ folder');

/**
 * A variable that is not a field, kept as the source stored it and written back on restore: a scalar (a CF
 * grid_mapping such as `crs`, which the fields' grid_mapping attribute names) or a char variable (WRF's Times).
 * Small by nature (at most CARRIED_MAX_BYTES stored), so in the manifest itself.
 */
export const CarriedVariable = VariableOfSource.extend({
  /** a char variable's bytes, base64; a numeric one's stored numbers */
  data: z.union([z.object({ base64: z.string() }), z.object({ numbers: z.array(Num) })]),
});
export type CarriedVariable = z.infer<typeof CarriedVariable>;
/** the largest variable carried in the manifest (stored bytes); larger ones are listed as not archived */
export const CARRIED_MAX_BYTES = 1 << 20;
/** and at most this much of a source in all (a file of many char variables would otherwise swell the manifest) */
export const CARRIED_MAX_SOURCE_BYTES = 16 << 20;

export const ArchiveSource = z.object({
  id: ArchiveName,
  /** the path it was read from at build time (verify compares against it when it is still there) */
  path: z.string(),
  name: z.string(),
  format: z.string(),
  sizeBytes: z.number().int(),
  /** its modification time at build time (ms since 1970): a resumed build refuses a source changed since */
  modifiedMs: z.number().optional(),
  /** in the file's order; unlimited: a record (growable) dimension, restored as one */
  dimensions: z.array(z.object({ name: z.string(), size: z.number().int(), unlimited: z.boolean().optional() })),
  globalAttributes: z.record(z.string(), z.unknown()),
  /** the stored type of each numeric global attribute (absent in archives made before it) */
  globalAttributeTypes: z.record(z.string(), z.string()).optional(),
  /** its groups (NetCDF-4), parents first, with their attributes; absent in archives made before them and in formats without groups */
  groups: z.array(z.object({ path: z.string(), attributes: z.record(z.string(), z.unknown()), attributeTypes: z.record(z.string(), z.string()).optional() })).optional(),
  /** every coordinate variable of the file, lossless (core/coordinates.ts packCoordinates form) */
  coordinates: z.record(z.string(), z.array(z.unknown())),
  variables: z.array(SourceVariable),
  /** variables kept exactly in the manifest (scalars, char variables); absent in archives made before them */
  carried: z.array(CarriedVariable).default([]),
  /** variables not archived, with the reason (not selected, a type Fieldpack does not read, too large to carry) */
  skipped: z.array(SkippedVariable),
});
export type ArchiveSource = z.infer<typeof ArchiveSource>;

/** Where a member lies: a variable of a source, or rows [start, end) of it along its first dimension. */
const MemberPlace = z.object({
  id: ArchiveName,
  source: z.string(),
  variable: z.string(),
  rows: z.tuple([z.number().int(), z.number().int()]).nullable(),
  dims: z.array(z.string()),
  shape: z.array(z.number().int()),
});

/** One unit of work. */
export const WorkMember = MemberPlace.extend({
  codec: z.string(),
  bound: z.object({ mode: ArchiveBound.shape.mode, value: z.number(), abs: z.number().nullable() }),
  /** anchor member ids (same source, same rows): built first, in the same shard */
  anchors: z.array(z.string()),
  /** the series a cross-field model is trained once for and reused over (`SOURCE.TARGET<-ANCHORS`) */
  series: z.string().nullable(),
  /** members of one group depend on each other and go to the same shard */
  group: z.number().int(),
  /** original bytes (values x width) */
  bytes: z.number().int(),
});
export type WorkMember = z.infer<typeof WorkMember>;

export const ArchiveOptions = z.object({
  bound: z.string(),
  boundFor: z.record(z.string(), z.string()),
  codec: z.string(),
  /** params of --codec over its preset's (e.g. a VQ-VAE's model, fallback) */
  params: z.record(z.string(), z.unknown()).default({}),
  /** the base of residual-coder members (none, auto or CODEC:MODE:VALUE; never file:, an archive restores on its own) */
  base: z.string().default('none'),
  crossfield: z.enum(['auto', 'off']),
  /** the network a cross-field series trains once: a least-squares linear CFNN (no Python) or the CFNN (PyTorch) */
  network: z.enum(['linear', 'cfnn']).default('linear'),
  memberValues: z.number().int(),
  vars: z.array(z.string()).nullable(),
});
export type ArchiveOptions = z.infer<typeof ArchiveOptions>;

export const WorkManifest = z.object({
  format: z.literal(WORK_FORMAT),
  version: z.literal(ARCHIVE_VERSION),
  createdAt: z.string(),
  options: ArchiveOptions,
  sources: z.array(ArchiveSource),
  members: z.array(WorkMember),
  /** why each cross-field pair was linked (the plan's ranking) */
  links: z.array(ArchiveLink),
});
export type WorkManifest = z.infer<typeof WorkManifest>;

export const MemberDependency = z.discriminatedUnion('kind', [
  /** another member's reconstruction (decode it first) */
  z.object({ kind: z.literal('anchor'), member: z.string(), var: z.string(), hash: z.string() }),
  /** a model in objects/, by content hash (the file's SHA-256) */
  z.object({ kind: z.literal('model'), hash: z.string(), object: ArchiveFile.nullable(), label: z.string().optional() }),
  /**
   * a base stream in objects/: hash is the sha256 of its reconstruction, as the residual stream names it (the object
   * itself is named by the SHA-256 of its bytes); its own model, if any, is another (model) dependency of the member
   */
  z.object({ kind: z.literal('base'), hash: z.string(), object: ArchiveFile.nullable() }),
]);
export type MemberDependency = z.infer<typeof MemberDependency>;

export const MemberEntry = MemberPlace.extend({
  dtype: z.string(),
  file: ArchiveFile,
  bytes: z.number().int(),
  streamSha256: z.string(),
  codec: z.string(),
  params: z.record(z.string(), z.unknown()),
  bound: ArchiveBound,
  achieved: z.object({ maxError: Num, maxErrorOverBound: Num, psnr: Num, nrmse: Num }),
  originalBytes: z.number().int(),
  /** values-sha256 (valuesHash) of the original and of the decoded values */
  originalSha256: z.string(),
  decodedSha256: z.string(),
  dependencies: z.array(MemberDependency),
  /** bytes of a network embedded in the stream (the cross-field codec's), counted in `bytes` */
  modelBytes: z.number().int(),
  /** bytes of the base stream the member's stream refines (its object in objects/, not counted in `bytes`) */
  baseBytes: z.number().int().default(0),
  /** not part of what a rebuild must reproduce */
  timing: z.object({ seconds: z.number() }),
});
export type MemberEntry = z.infer<typeof MemberEntry>;

export const ArchiveObject = z.object({
  hash: z.string(),
  kind: z.enum(['model', 'base']),
  file: ObjectFile,
  bytes: z.number().int(),
  label: z.string(),
  usedBy: z.array(z.string()),
});
export type ArchiveObject = z.infer<typeof ArchiveObject>;

export const Manifest = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  version: z.literal(ARCHIVE_VERSION),
  fieldpackVersion: z.string(),
  createdAt: z.string(),
  options: ArchiveOptions,
  sources: z.array(ArchiveSource),
  /** in build order: anchors before their targets */
  members: z.array(MemberEntry),
  objects: z.array(ArchiveObject),
  links: WorkManifest.shape.links,
  totals: ArchiveTotals,
  /** SHA-256 of the manifest's own text without this key (manifestText); absent in archives made before it */
  manifestSha256: z.string().optional(),
});
export type Manifest = z.infer<typeof Manifest>;

/**
 * A manifest as written: JSON with one space of indent, its own SHA-256 as the last key, over the text of the same
 * document without that key. It holds what no other checksum covers (coordinates, attributes, carried variables,
 * bounds), so damage that leaves it valid JSON (a digit changed) is caught rather than restored as data.
 */
export function manifestText(m: Manifest): string {
  const { manifestSha256: _old, ...body } = m;
  return `${JSON.stringify({ ...body, manifestSha256: sha256(JSON.stringify(body, nonFiniteAsText, 1)) }, nonFiniteAsText, 1)}\n`;
}

/**
 * JSON.stringify's replacer for the archive's files: a NaN or infinite number (an attribute such as actual_range of
 * an all-missing variable, valid_max = inf) written as 'NaN', 'Infinity' or '-Infinity' (JSON made them null, and the
 * restored attribute came back as the text "[null,5]"); attributesFromManifest reads them back.
 */
export function nonFiniteAsText(_key: string, v: unknown): unknown {
  return typeof v === 'number' ? jsonNumber(v) : v;
}

/** Attributes as the manifest holds them, with the numbers of a numeric attribute (attributeTypes) made numbers again. */
export function attributesFromManifest(attrs: Record<string, unknown>, types: Record<string, string> | undefined): Record<string, unknown> {
  if (!types) return attrs;
  const number = (x: unknown) => (x === 'NaN' || x === 'Infinity' || x === '-Infinity' ? fromJsonNumber(x) : x);
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => {
    const type = types[k];
    if (!type || type === 'string' || type === 'char') return [k, v];
    return [k, Array.isArray(v) ? v.map(number) : number(v)];
  }));
}

/**
 * Why a parsed manifest.json's text is not the one its checksum was taken of, or null (also when it carries none:
 * an archive made before it). JSON.stringify gives back the writer's text from what JSON.parse read of it (key order,
 * shortest numbers, escapes), so any change of a value, key or whitespace-free structure is seen.
 */
export function manifestChecksumProblem(json: Record<string, unknown>): string | null {
  const { manifestSha256: recorded, ...body } = json;
  if (recorded === undefined) return null;
  if (typeof recorded !== 'string') return 'its manifestSha256 is not a hash';
  return sha256(JSON.stringify(body, null, 1)) === recorded ? null : 'its content is not what was written (the SHA-256 it records of itself differs): edited or damaged since the archive was built';
}

/**
 * What makes a manifest that passed its schema unusable: ids given twice, a variable naming a member the manifest
 * lacks or one of another source or variable, members that do not tile their variable's rows and shape, a member no
 * variable names (its values would be left out of a restore unsaid), an anchor that is no member. Empty: none.
 */
export function manifestProblems(m: Manifest): string[] {
  const problems: string[] = [];
  const twice = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);
  for (const id of new Set(twice(m.sources.map((s) => s.id)))) problems.push(`source id ${id} is given twice`);
  for (const id of new Set(twice(m.members.map((e) => e.id)))) problems.push(`member id ${id} is given twice`);
  const byId = new Map(m.members.map((e) => [e.id, e]));
  const named = new Set<string>();
  for (const src of m.sources) {
    for (const v of src.variables) {
      const where = `${src.name}: ${v.name}`;
      if (!v.members.length) problems.push(`${where} names no member`);
      let row = 0;
      for (const id of v.members) {
        named.add(id);
        const e = byId.get(id);
        if (!e) {
          problems.push(`${where} names member ${id}, which the manifest does not list`);
          continue;
        }
        if (e.source !== src.id || e.variable !== v.name) problems.push(`${where} names member ${id}, which holds ${e.source}: ${e.variable}`);
        // a member holds rows [a, b) of its variable (all of them where rows is null), with the variable's other dims
        const rows = e.rows ?? [0, e.shape[0] ?? 1];
        const tiles = rows[0] === row && e.shape.length === v.shape.length && e.shape.every((d, i) => (i === 0 ? d === rows[1] - rows[0] : d === v.shape[i]));
        if (!tiles) problems.push(`${where}: member ${id} holds rows [${rows[0]}, ${rows[1]}) of shape [${e.shape.join(', ')}], which do not tile the variable's [${v.shape.join(', ')}] from row ${row}`);
        row = rows[1];
      }
      if (v.members.length && row !== (v.shape[0] ?? 1)) problems.push(`${where}: its members hold ${row} of its ${v.shape[0]} rows`);
    }
  }
  for (const e of m.members) {
    if (!named.has(e.id)) problems.push(`member ${e.id} (${e.source}: ${e.variable}) is named by no source's variable`);
    for (const d of e.dependencies) if (d.kind === 'anchor' && !byId.has(d.member)) problems.push(`member ${e.id}: its anchor member ${d.member} is not in the manifest`);
  }
  return problems;
}

/** Journal lines: a finished member, or an object stored. */
export const JournalLine = z.discriminatedUnion('type', [
  z.object({ type: z.literal('member'), member: MemberEntry }),
  z.object({ type: z.literal('object'), object: ArchiveObject.omit({ usedBy: true }) }),
]);
export type JournalLine = z.infer<typeof JournalLine>;

/**
 * SHA-256 of a field's values as an archive records them: a prefix naming the dtype and count, the values'
 * little-endian bytes with masked (fill) points set to 0, then the mask when there is one.
 */
export function valuesHash(values: Float32Array | Float64Array, mask?: Uint8Array): string {
  const dtype = values instanceof Float32Array ? 'float32' : 'float64';
  const h = createHash('sha256').update(`fieldpack-values\n${dtype}\n${values.length}\n`);
  let v = values;
  if (mask) {
    v = values.slice();
    for (let i = 0; i < v.length; i++) if (mask[i] !== 1) v[i] = 0;
  }
  h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  if (mask) h.update(mask);
  return h.digest('hex');
}

export const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** A name safe in a file name. */
export const safeName = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '_');
