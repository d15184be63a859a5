/**
 * Building an archive: the work laid out once (work.json), members built in order by one process or by shards
 * (local processes or Slurm array tasks, each with its own journal), then merged into manifest.json. Every finished
 * member is journaled after its stream is in place, so a killed build resumes without redoing it.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { firstNames } from '../../core/text.ts';
import { issueText } from '../../api/schemas.ts';
import type { Field } from '../../core/field.ts';
import { writeFileAtomic } from '../files/atomic.ts';
import { FIELDPACK_VERSION } from '../data/writers/provenance.ts';
import { appendJournal, fileMatches, readJournals } from './journal.ts';
import { type ObjectRecord, SourceReader, buildMember, decodeMember } from './members.ts';
import { type WorkOptions, archiveOptions, expandInputs, planWork, shardAssignment } from './work.ts';
import {
  type Manifest, type MemberEntry, type WorkManifest,
  ARCHIVE_FORMAT, ARCHIVE_VERSION, MANIFEST_FILE, archiveHolding, nonFiniteAsText, MEMBERS_DIR, OBJECTS_DIR, WorkManifest as WorkManifestSchema, Manifest as ManifestSchema, manifestChecksumProblem, manifestPath, manifestProblems, manifestText, workPath,
} from './format.ts';
import { makeFolder } from '../files/folders.ts';
import { readRegularFileSync } from '../files/regular.ts';

export interface BuildProgress {
  done: number;
  total: number;
  /** original bytes of the members done / all */
  bytesIn: number;
  totalBytesIn: number;
  /** stream bytes of the members done */
  bytesOut: number;
  /** seconds left, from this run's speed (null before the first member) */
  secondsLeft: number | null;
  member?: string;
}

export interface BuildControl {
  onProgress?: (p: BuildProgress) => void;
  signal?: AbortSignal;
  workers?: number;
}

export function progressLine(p: BuildProgress): string {
  const mb = (b: number) => (b / 1e6).toFixed(1);
  const left = p.secondsLeft === null ? '' : `, ~${Math.ceil(p.secondsLeft)} s left`;
  return `members ${p.done}/${p.total}, ${mb(p.bytesIn)}/${mb(p.totalBytesIn)} MB in -> ${mb(p.bytesOut)} MB out${left}${p.member ? ` (${p.member})` : ''}`;
}

export function readWork(dir: string): WorkManifest {
  const p = workPath(dir);
  if (!existsSync(p)) throw new FieldpackError('NOT_FOUND', `${dir} has no ${'work.json'}: start the build with its input files`, { path: p });
  let json: unknown;
  try {
    json = JSON.parse(readRegularFileSync(p, 'the work file').toString('utf8'));
  } catch (e) {
    if (e instanceof FieldpackError) throw e;
    // (the parser's message quotes the file's first bytes: not echoed, whatever file the name leads to)
    throw new FieldpackError('BAD_FILE', `${p}: not JSON: the archive's work file is damaged; build into a new folder`, { path: p });
  }
  const r = WorkManifestSchema.safeParse(json);
  if (!r.success) throw new FieldpackError('BAD_FILE', `${p}: not a Fieldpack archive work file (${issueText(r.error.issues[0]!)})`, { path: p });
  return r.data;
}

export function readManifest(dir: string): Manifest {
  const p = manifestPath(dir);
  if (!existsSync(p)) {
    const partial = existsSync(workPath(dir));
    throw new FieldpackError('NOT_FOUND', partial
      ? `${dir}: the archive is not complete (no manifest.json): run the same build again to resume it, or \`fieldpack archive merge\` after its shards`
      : `${dir}: not a Fieldpack archive (no manifest.json)`, { path: p });
  }
  let json: unknown;
  try {
    json = JSON.parse(readRegularFileSync(p, 'the manifest').toString('utf8'));
  } catch (e) {
    if (e instanceof FieldpackError) throw e;
    throw new FieldpackError('BAD_FILE', `${p}: not JSON: the archive's manifest is damaged`, { path: p });
  }
  const fmt = (json as { format?: unknown; version?: unknown }) ?? {};
  if (fmt.format === ARCHIVE_FORMAT && typeof fmt.version === 'number' && fmt.version > ARCHIVE_VERSION) {
    throw new FieldpackError('UNSUPPORTED', `${p}: archive format version ${fmt.version} is newer than this Fieldpack reads (${ARCHIVE_VERSION}); update Fieldpack`);
  }
  const r = ManifestSchema.safeParse(json);
  if (!r.success) throw new FieldpackError('BAD_FILE', `${p}: not a valid archive manifest (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).slice(0, 3).join('; ')})`);
  const problems = manifestProblems(r.data);
  if (problems.length) throw new FieldpackError('BAD_FILE', `${p}: the manifest does not hold together (edited?): ${firstNames(problems, 3, '; ')}`, { problems });
  // after the checks that name what is wrong: the checksum only says that something is
  const changed = manifestChecksumProblem(json as Record<string, unknown>);
  if (changed) throw new FieldpackError('BAD_FILE', `${p}: ${changed}; its coordinates, attributes and bounds cannot be trusted, so nothing is verified or restored from it`);
  return r.data;
}

/** What a resumed build asks that differs from the work laid out in its folder (options, files, their sizes), or null. */
function otherBuild(work: WorkManifest, options: WorkManifest['options'], files: string[]): string | null {
  const said: string[] = [];
  const was = work.options as Record<string, unknown>;
  const now = options as Record<string, unknown>;
  for (const k of new Set([...Object.keys(was), ...Object.keys(now)])) {
    if (JSON.stringify(was[k]) !== JSON.stringify(now[k])) said.push(`${k} ${JSON.stringify(now[k] ?? null)}, the folder's ${JSON.stringify(was[k] ?? null)}`);
  }
  const paths = work.sources.map((src) => src.path);
  const i = paths.findIndex((p, k) => p !== files[k]);
  if (files.length !== paths.length) said.push(`${files.length} files, the folder's ${paths.length}`);
  else if (i >= 0) said.push(`file ${files[i]}, the folder's ${paths[i]}`);
  else for (const src of work.sources) if (statSync(src.path).size !== src.sizeBytes) said.push(`${src.path} is now ${statSync(src.path).size} bytes, the folder's ${src.sizeBytes}`);
  return said.length ? said.join('; ') : null;
}

/** Refuses a build's -o that cannot be an archive folder: a file, or a folder inside another archive's own. */
export function checkArchiveTarget(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new FieldpackError('INVALID_ARGUMENT', `${dir} is a file; an archive is a folder`);
  // another archive's members/ or objects/ would take this one's files for its own (and verify would flag them)
  const around = archiveHolding(dir);
  if (around?.folder) throw new FieldpackError('CONFLICT', `${dir} is inside the ${around.folder}/ folder of the archive ${around.archive}: a new archive is built into a folder of its own; give another -o`, { path: dir });
}

/** Lays out the work in a new archive folder, or reads the one there (a resumed build must ask for the same work). */
export async function prepareWork(dir: string, opts: WorkOptions | null): Promise<WorkManifest> {
  if (existsSync(workPath(dir))) {
    const work = readWork(dir);
    if (opts?.inputs.length) {
      // the same build: the same options and the same files, unchanged in size
      const files = expandInputs(opts.inputs);
      const differs = otherBuild(work, archiveOptions(opts), files);
      if (differs) throw new FieldpackError('CONFLICT', `${dir} holds the work of another build (${differs}): use another -o, or delete it`);
    }
    // members already built from a file written since would sit beside members of its new values (a same-size edit)
    checkSourcesUnchanged(dir, work, 'since this build started');
    return work;
  }
  if (!opts?.inputs.length) throw new FieldpackError('INVALID_ARGUMENT', `${dir} has no work.json: give the files to archive`);
  checkArchiveTarget(dir);
  // the manifest is written last, over whatever has its name: a folder's own manifest.json is not replaced
  for (const name of [MANIFEST_FILE, MEMBERS_DIR, OBJECTS_DIR]) {
    if (existsSync(join(dir, name))) {
      throw new FieldpackError('CONFLICT', `${dir} already holds ${name}${name === MANIFEST_FILE ? '' : '/'} and no archive work (work.json): a new archive is built into a folder of its own; give another -o`, { path: join(dir, name) });
    }
  }
  const work = await planWork(opts);
  if (opts.signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled');
  makeFolder(join(dir, MEMBERS_DIR));
  makeFolder(join(dir, OBJECTS_DIR));
  await writeFileAtomic(workPath(dir), `${JSON.stringify(work, nonFiniteAsText, 1)}\n`);
  return work;
}

/**
 * Refuses an archive whose sources were written since the build was planned (their modification time, where the
 * file is there to ask): members built before and after hold different values, and the planned shapes may be gone.
 */
function checkSourcesUnchanged(dir: string, work: WorkManifest, when: string): void {
  const changed = work.sources.filter((src) => src.modifiedMs !== undefined && existsSync(src.path) && statSync(src.path).mtimeMs !== src.modifiedMs);
  if (changed.length) {
    throw new FieldpackError('CONFLICT', `${changed.map((s) => s.path).join(', ')} changed ${when} in ${dir} (modified ${new Date(statSync(changed[0]!.path).mtimeMs).toISOString()}): members built before and after it hold different values; build into a new folder (-o) once the file is complete, or delete ${dir} to start over`, { changed: changed.map((s) => s.path) });
  }
}

export interface ShardSpec {
  index: number;
  count: number;
}

export const writerName = (shard?: ShardSpec | null) => (shard ? `shard-${shard.index}-of-${shard.count}` : 'build');

/**
 * Builds the members this process owns (all, or one shard's) that are not already done. Returns how many were built
 * and how many were found done.
 */
export async function buildMembers(dir: string, work: WorkManifest, shard: ShardSpec | null, ctl: BuildControl = {}): Promise<{ built: number; reused: number }> {
  const writer = writerName(shard);
  const assignment = shard ? shardAssignment(work, shard.count) : null;
  const mine = work.members.filter((m) => !assignment || assignment.get(m.id) === shard!.index);
  const journal = readJournals(dir);
  const objects = intactObjects(dir, journal);
  // done: its stream there as recorded, and every object it needs (a base stream, a model) too; a member whose object
  // was lost or damaged is built again, which stores the object again
  const intact = new Set([...objects.values()].map((o) => o.file));
  const done = new Map<string, MemberEntry>();
  for (const m of mine) {
    const e = builtEntry(dir, journal, m.id, intact);
    if (e) done.set(m.id, e);
  }
  const entries = new Map<string, MemberEntry>(done);
  const anchorIds = new Set(work.members.flatMap((m) => m.anchors));
  const recons = new Map<string, Field>();
  const totalBytesIn = mine.reduce((a, m) => a + m.bytes, 0);
  let bytesIn = [...done.values()].reduce((a, e) => a + e.originalBytes, 0);
  let bytesOut = [...done.values()].reduce((a, e) => a + e.bytes, 0);
  let runIn = 0;
  const t0 = performance.now();
  const report = (member?: string) => {
    const secs = (performance.now() - t0) / 1000;
    ctl.onProgress?.({ done: entries.size, total: mine.length, bytesIn, totalBytesIn, bytesOut, secondsLeft: runIn > 0 ? (secs / runIn) * (totalBytesIn - bytesIn) : null, ...(member ? { member } : {}) });
  };
  report();
  const sources = new SourceReader(work);
  const ctx = {
    dir, work, sources, objects, workers: ctl.workers, signal: ctl.signal,
    async anchorRecon(id: string): Promise<Field> {
      const hit = recons.get(id);
      if (hit) return hit;
      const e = entries.get(id);
      if (!e) throw new FieldpackError('INTERNAL', `anchor member ${id} is not built yet (the work order puts anchors first)`);
      const f = await decodeMember(dir, entries, e, recons, ctl.signal);
      recons.set(id, f);
      return f;
    },
    async storeObject(o: ObjectRecord, bytes: Uint8Array) {
      await writeFileAtomic(join(dir, o.file), bytes);
      appendJournal(dir, writer, { type: 'object', object: o });
      objects.set(o.hash, o);
    },
  };
  let built = 0;
  try {
    for (const m of mine) await step(m);
  } finally {
    sources.close();
  }
  return { built, reused: done.size };

  async function step(m: (typeof mine)[number]): Promise<void> {
    if (entries.has(m.id)) return;
    const cancelled = () => new FieldpackError('CANCELLED', `cancelled after ${entries.size} of ${mine.length} members (the journal keeps them: run the build again to resume)`);
    if (ctl.signal?.aborted) throw cancelled();
    report(m.id);
    let e: MemberEntry;
    try {
      e = await buildMember(ctx, m);
    } catch (err) {
      // stopped inside the member: nothing of it was written
      if (ctl.signal?.aborted || (err instanceof FieldpackError && err.code === 'CANCELLED')) throw cancelled();
      // which of hundreds of members failed, and where its values come from (the codec's message names neither)
      const src = work.sources.find((s) => s.id === m.source);
      const where = `member ${m.id} (${m.variable}${m.rows ? ` rows ${m.rows[0]}-${m.rows[1]}` : ''} of ${src?.path ?? m.source})`;
      if (err instanceof FieldpackError) throw new FieldpackError(err.code, `${where}: ${err.message}`, err.details);
      throw new FieldpackError('INTERNAL', `${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
    appendJournal(dir, writer, { type: 'member', member: e });
    entries.set(m.id, e);
    built++;
    bytesIn += e.originalBytes;
    runIn += e.originalBytes;
    bytesOut += e.bytes;
    if (!anchorIds.has(m.id)) recons.delete(m.id);
    // a target's anchors are not needed after the last member that reads them
    for (const a of m.anchors) if (!mine.some((x) => !entries.has(x.id) && x.anchors.includes(a))) recons.delete(a);
    report();
  }
}

/** The journal's objects whose files are there as recorded (size and SHA-256), by hash. */
/**
 * The member's journal line that its stream on disk matches, with every object it needs intact: the last such line of
 * all journals (a member built twice, by a resumed build of another layout or two writers, has a line in each; the
 * last one read was taken even where its stream had been replaced by the other's, and the member built again).
 */
function builtEntry(dir: string, journal: ReturnType<typeof readJournals>, id: string, intact: ReadonlySet<string>): MemberEntry | null {
  const lines = journal.memberLines.get(id) ?? [];
  for (let i = lines.length - 1; i >= 0; i--) {
    const e = lines[i]!;
    if (fileMatches(dir, e.file, e.streamSha256, e.bytes) && missingObjects(e, intact).length === 0) return e;
  }
  return null;
}

function intactObjects(dir: string, journal: ReturnType<typeof readJournals>): Map<string, ObjectRecord> {
  return new Map([...journal.objects].filter(([, o]) => fileMatches(dir, o.file, o.hash)));
}

/** The objects a member's stream needs (a base stream, a model file) that are not among the intact ones. */
function missingObjects(e: MemberEntry, intact: ReadonlySet<string>): string[] {
  return e.dependencies.flatMap((d) => (d.kind !== 'anchor' && d.object && !intact.has(d.object) ? [d.object] : []));
}

/** Joins the journals (of one build or of every shard) into manifest.json; fails naming the members still missing. */
export async function mergeArchive(dir: string): Promise<Manifest> {
  const work = readWork(dir);
  // a file written while its members were built (a model run still appending): no manifest declares them complete
  checkSourcesUnchanged(dir, work, 'during the build');
  const journal = readJournals(dir);
  const members: MemberEntry[] = [];
  const missing: string[] = [];
  const intact = new Set([...intactObjects(dir, journal).values()].map((o) => o.file));
  const lost = new Set<string>();
  for (const m of work.members) {
    const e = builtEntry(dir, journal, m.id, intact);
    if (e) members.push(e);
    else {
      missing.push(m.id);
      const last = journal.members.get(m.id);
      if (last) missingObjects(last, intact).forEach((f) => lost.add(f));
    }
  }
  if (missing.length) {
    const objectsSaid = lost.size ? ` (${[...lost].slice(0, 3).join(', ')} missing or damaged)` : '';
    throw new FieldpackError('CONFLICT', `${dir}: ${missing.length} of ${work.members.length} members are not built yet or lost what they need${objectsSaid} (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}): run the build (or its shards) again`, { missing, objects: [...lost] });
  }
  // objects by file: a base dependency's hash is its reconstruction's, the object is named by its bytes' hash
  const usedBy = new Map<string, string[]>();
  for (const e of members) {
    for (const d of e.dependencies) {
      const file = d.kind === 'anchor' ? undefined : (d.object ?? journal.objects.get(d.hash)?.file);
      if (file) usedBy.set(file, [...(usedBy.get(file) ?? []), e.id]);
    }
  }
  const objects = [...journal.objects.values()].filter((o) => usedBy.has(o.file)).sort((a, b) => a.hash.localeCompare(b.hash)).map((o) => ({ ...o, usedBy: usedBy.get(o.file)! }));
  // the series' network object is also inside each stream: count it once (the object), not per member; base streams
  // are objects too (memberBytes leaves them out), each counted once
  const originalBytes = members.reduce((a, e) => a + e.originalBytes, 0);
  const memberBytes = members.reduce((a, e) => a + e.bytes, 0);
  const objectBytes = objects.reduce((a, o) => a + o.bytes, 0);
  const embedded = members.reduce((a, e) => a + e.modelBytes, 0);
  const modelObjects = objects.filter((o) => o.kind === 'model').reduce((a, o) => a + o.bytes, 0);
  const manifest: Manifest = {
    format: ARCHIVE_FORMAT, version: ARCHIVE_VERSION, fieldpackVersion: FIELDPACK_VERSION, createdAt: new Date().toISOString(),
    options: work.options, sources: work.sources, members, objects, links: work.links,
    totals: { members: members.length, originalBytes, memberBytes, objectBytes, archiveBytes: 0, ratio: 0, modelShare: 0 },
  };
  const manifestBytes = Buffer.byteLength(manifestText(manifest)) + 64;
  const archiveBytes = memberBytes + objectBytes + manifestBytes;
  manifest.totals.archiveBytes = archiveBytes;
  manifest.totals.ratio = originalBytes / archiveBytes;
  manifest.totals.modelShare = (embedded + modelObjects) / archiveBytes;
  manifest.totals.ratioWithoutModels = originalBytes / Math.max(1, archiveBytes - embedded - modelObjects);
  await writeFileAtomic(manifestPath(dir), manifestText(manifest));
  // objects no member uses (a series network whose members all kept the core codec's stream) are not part of it
  for (const o of journal.objects.values()) if (!usedBy.has(o.file)) rmSync(join(dir, o.file), { force: true });
  return manifest;
}
