/**
 * One member in and out: compress it (through the codec service, or the cross-field service for a linked target),
 * and decode it again with its dependencies taken from the archive itself (anchor members decoded first, models and
 * base streams from objects/). Build, verify and restore all decode through decodeMember.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { type Field, sameShape } from '../../core/field.ts';
import type { BoundSpec } from '../../core/codec/bound.ts';
import { errorStats } from '../../core/metrics/index.ts';
import type { CrossfieldNetwork } from '../../core/compressors/crossfield/codec.ts';
import { fitLinearCfnn } from '../../core/compressors/crossfield/linear.ts';
import { codecById, resolveCodecChoice } from '../../core/compressors/index.ts';
import { decodeStream, encodeField, inspectStream, metadataOf, verifyBound } from '../codecs/index.ts';
import { findModelByHash } from '../codecs/models.ts';
import { type PreparedBase, prepareBase } from '../compression/base.ts';
import { compressCrossfield, trainCfnn } from '../crossfield/index.ts';
import { openDataFile } from '../data/readers/index.ts';
import { checkIsField } from '../data/readers/util.ts';
import type { DataFile } from '../data/readers/types.ts';
import { writeFileAtomic } from '../files/atomic.ts';
import {
  type ArchiveObject, type MemberDependency, type MemberEntry, type WorkManifest, type WorkMember,
  jsonNumber, memberFile, objectFile, sha256, valuesHash,
} from './format.ts';
import { readRegularFileSync } from '../files/regular.ts';

export type ObjectRecord = Omit<ArchiveObject, 'usedBy'>;

/** What a member's build needs from the builder: reconstructions of its anchors, objects already stored. */
export interface MemberContext {
  dir: string;
  work: WorkManifest;
  sources: SourceReader;
  anchorRecon(memberId: string): Promise<Field>;
  objects: Map<string, ObjectRecord>;
  /** records a newly stored object (journaled by the builder) */
  storeObject(o: ObjectRecord, bytes: Uint8Array): Promise<void>;
  workers?: number;
  signal?: AbortSignal;
}

function memberBound(m: WorkMember): BoundSpec {
  return m.bound.abs !== null ? { mode: 'abs', value: m.bound.abs } : { mode: m.bound.mode, value: m.bound.value };
}

/**
 * Reads members' original values, keeping the last source file open: members come source by source, and opening an
 * HDF5 file loads it whole, so a file of many small variables would otherwise be loaded once per member.
 */
export class SourceReader {
  private open: { id: string; file: DataFile } | null = null;
  constructor(private readonly work: Pick<WorkManifest, 'sources'>) {}

  /** A member's values as its source holds them now; refused where they are no longer of the planned shape. */
  async read(m: Pick<WorkMember, 'source' | 'variable' | 'rows' | 'shape'>, signal?: AbortSignal): Promise<Field> {
    const src = this.work.sources.find((s) => s.id === m.source);
    if (!src) throw new FieldpackError('BAD_FILE', `member of ${m.variable}: unknown source ${m.source}`);
    if (this.open?.id !== m.source) {
      this.close();
      this.open = { id: m.source, file: await openDataFile(resolve(src.path)) };
    }
    const info = this.open.file.variable(m.variable); // NOT_FOUND with the list of variables
    checkIsField(src.path, info);
    const field = await this.open.file.readField(m.variable, { slice: m.rows ? [m.rows] : undefined, signal });
    // a file still written to (a model run appending time steps) grew since the plan: its member would hold other
    // rows than the manifest declares, and no restore could place them
    if (!sameShape(field.shape, m.shape)) {
      throw new FieldpackError('CONFLICT', `${src.path}: ${m.variable} is now [${field.shape.join(', ')}]${m.rows ? ` in rows ${m.rows[0]}-${m.rows[1]}` : ''}, planned as [${m.shape.join(', ')}]: the file changed since the build was planned; build it into a new folder once it is complete`, { path: src.path });
    }
    return field;
  }

  close(): void {
    this.open?.file.close();
    this.open = null;
  }
}

/** A series model as stored in objects/: the network in JSON (float32 weights are exact as JSON numbers). */
function networkJson(net: CrossfieldNetwork): string {
  return JSON.stringify({ spec: net.spec, weights: Array.from(net.weights), anchors: net.anchors, inputFill: net.inputFill });
}

function networkFromJson(text: string): CrossfieldNetwork {
  const j = JSON.parse(text) as { spec: CrossfieldNetwork['spec']; weights: number[]; anchors: string[]; inputFill: number[] };
  return { spec: j.spec, weights: Float32Array.from(j.weights), anchors: j.anchors, inputFill: j.inputFill };
}

/**
 * The series' network: trained once on the series' first member (a least-squares linear network, no Python; or the
 * CFNN in PyTorch with --network cfnn) and stored in objects/ by hash; every later member of the series reuses it
 * (also after a resume, and in another shard of the same group).
 */
async function seriesNetwork(ctx: MemberContext, m: WorkMember, target: Field, anchors: Field[]): Promise<{ net: CrossfieldNetwork; hash: string }> {
  const label = `cross-field network of ${m.series}`;
  const known = [...ctx.objects.values()].find((o) => o.kind === 'model' && o.label === label);
  if (known) return { net: networkFromJson(readRegularFileSync(join(ctx.dir, known.file), label).toString('utf8')), hash: known.hash };
  const net = ctx.work.options.network === 'cfnn'
    ? (await trainCfnn({ target, anchors, ndim: 2, seed: 0, signal: ctx.signal })).net
    : fitLinearCfnn(target, anchors, 2);
  const text = networkJson(net);
  const hash = sha256(text);
  await ctx.storeObject({ hash, kind: 'model', file: objectFile(hash, '.cfnet.json'), bytes: Buffer.byteLength(text), label }, new TextEncoder().encode(text));
  return { net, hash };
}

/** A model a stream names, stored once in objects/ by its SHA-256 (found where the codec keeps its models). */
async function modelDependency(ctx: MemberContext, m: WorkMember, codec: { id: string; label: string }, d: { hash: string; label?: string }, label = d.label): Promise<MemberDependency> {
  const mp = codecById(codec.id).modelParam;
  const found = mp ? findModelByHash(mp, d.hash) : null;
  if (!mp || !found) throw new FieldpackError('NOT_FOUND', `${m.id}: model ${d.hash.slice(0, 16)}... not found to store in the archive`);
  if (!ctx.objects.has(d.hash)) await ctx.storeObject({ hash: d.hash, kind: 'model', file: objectFile(d.hash, mp.extension), bytes: found.length, label: label ?? codec.label }, found);
  return { kind: 'model', hash: d.hash, object: ctx.objects.get(d.hash)!.file, ...(label ? { label } : {}) };
}

/**
 * A member's base: its stream stored once in objects/ (a .fpk named by the SHA-256 of its bytes; the dependency keeps
 * the reconstruction's hash, as the residual stream names it), then the models the base stream names (the VQ-VAE's).
 */
async function baseDependencies(ctx: MemberContext, m: WorkMember, reconstructionHash: string, stream: Uint8Array, spec: string): Promise<MemberDependency[]> {
  const hash = sha256(stream);
  const info = inspectStream(stream);
  if (!ctx.objects.has(hash)) await ctx.storeObject({ hash, kind: 'base', file: objectFile(hash, '.fpk'), bytes: stream.length, label: `${spec} (a ${info.codec.id} stream) for ${m.id}` }, stream);
  const out: MemberDependency[] = [{ kind: 'base', hash: reconstructionHash, object: ctx.objects.get(hash)!.file }];
  for (const d of info.dependencies) {
    if (d.kind !== 'model') throw new FieldpackError('UNSUPPORTED', `${m.id}: its base (${spec}) needs a${d.kind === 'anchor' ? 'n anchor' : ' base'} itself; an archived base may depend on a model only`);
    out.push(await modelDependency(ctx, m, info.codec, d, `${d.label ?? info.codec.id} (the model of the base)`));
  }
  return out;
}

/** Compresses one member, checks it decodes within its bound, writes its stream; returns its manifest entry. */
export async function buildMember(ctx: MemberContext, m: WorkMember): Promise<MemberEntry> {
  const t0 = performance.now();
  const src = ctx.work.sources.find((s) => s.id === m.source)!;
  const field = await ctx.sources.read(m, ctx.signal);
  const metadata = metadataOf(field, basename(src.path));
  const bound = memberBound(m);
  const deps: MemberDependency[] = [];
  let bytes: Uint8Array;
  let modelBytes = 0;
  let anchorFields: Field[] = [];
  let prepared: PreparedBase | null = null;
  if (m.anchors.length) {
    anchorFields = [];
    for (const a of m.anchors) {
      const am = ctx.work.members.find((x) => x.id === a)!;
      anchorFields.push({ ...(await ctx.anchorRecon(a)), name: am.variable });
    }
    const { net, hash } = await seriesNetwork(ctx, m, field, anchorFields);
    const r = await compressCrossfield({
      target: field, anchors: [], anchorRecons: Object.fromEntries(anchorFields.map((f) => [f.name, { recon: f }])),
      bound, model: { net, label: `archive series ${hash.slice(0, 12)}` }, verify: false, metadata, workers: ctx.workers ?? 0, signal: ctx.signal,
    });
    bytes = r.bytes;
    modelBytes = r.modelBytes;
    // the series network only where the stream kept it (the anchors alone or the core codec may have been smaller)
    if (r.network === 'given' && !r.fallback) deps.push({ kind: 'model', hash, object: ctx.objects.get(hash)?.file ?? null, label: 'cross-field network (trained once for the series; also inside the stream)' });
  } else {
    const params = m.codec === ctx.work.options.codec ? ctx.work.options.params : {};
    // residual coders refine the base the archive's --base names (auto may choose none for this member)
    prepared = resolveCodecChoice(m.codec).codec.takesBase
      ? await prepareBase(field, ctx.work.options.base, { codec: m.codec, bound, params, metadata, workers: ctx.workers ?? 0, signal: ctx.signal })
      : null;
    bytes = (await encodeField(field, {
      codec: m.codec, params, bound, metadata, verify: false, workers: ctx.workers ?? 0, signal: ctx.signal, ...(prepared?.field ? { base: prepared.field } : {}),
    })).bytes;
  }
  const info = inspectStream(bytes);
  const addDep = (d: MemberDependency) => {
    if (!deps.some((x) => x.kind === d.kind && x.hash === d.hash)) deps.push(d);
  };
  let baseBytes = 0;
  // models and base streams the stream names: stored once in objects/ by hash
  for (const d of info.dependencies) {
    if (d.kind === 'anchor') {
      const idx = ctx.work.members.find((x) => m.anchors.includes(x.id) && x.variable === d.var);
      if (!idx) throw new FieldpackError('INTERNAL', `${m.id}: the stream needs anchor ${d.var}, which is not one of its anchor members`);
      deps.push({ kind: 'anchor', member: idx.id, var: d.var, hash: d.hash });
    } else if (d.kind === 'model') {
      addDep(await modelDependency(ctx, m, info.codec, d));
    } else {
      // a lossless bound makes the residual coder keep the core codec's stream, which names no base
      if (!prepared?.stream) throw new FieldpackError('INTERNAL', `${m.id}: the stream names a base ${d.hash.slice(0, 16)}... that was not prepared`);
      for (const b of await baseDependencies(ctx, m, d.hash, prepared.stream, prepared.spec)) addDep(b);
      baseBytes = prepared.stream.length;
    }
  }
  const decoded = await decodeStream(bytes, { deps: { fields: anchorFields, files: objectPaths(ctx.dir, deps) }, signal: ctx.signal });
  const abs = info.header.bound.abs;
  const st = verifyBound(field, decoded.field, abs);
  const stats = errorStats(field.values, decoded.field.values, field.mask ?? null, abs);
  const file = memberFile(m.id);
  await writeFileAtomic(join(ctx.dir, file), bytes);
  return {
    id: m.id, source: m.source, variable: m.variable, rows: m.rows, dims: m.dims, shape: m.shape, dtype: info.header.dtype,
    file, bytes: bytes.length, streamSha256: sha256(bytes), codec: info.codec.id, params: jsonSafe(info.header.params),
    bound: { mode: m.bound.mode, value: m.bound.value, abs },
    achieved: { maxError: jsonNumber(st.maxAbsError), maxErrorOverBound: jsonNumber(st.maxErrorOverBound), psnr: jsonNumber(stats.psnr), nrmse: jsonNumber(stats.nrmse) },
    originalBytes: field.values.byteLength,
    originalSha256: valuesHash(field.values, field.mask),
    decodedSha256: valuesHash(decoded.field.values, decoded.field.mask),
    dependencies: deps, modelBytes, baseBytes,
    timing: { seconds: (performance.now() - t0) / 1000 },
  };
}

/** Params as JSON keeps them (typed arrays as lists). */
function jsonSafe(p: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(p, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v))) as Record<string, unknown>;
}

/** The files a member's decoder is given: its base stream (decoded with its own model) and models, from objects/. */
function objectPaths(dir: string, deps: MemberDependency[]): string[] {
  return deps.flatMap((d) => (d.kind !== 'anchor' && d.object ? [join(dir, d.object)] : []));
}

/**
 * A file the manifest records (a member's stream, an object), read and checked against the size and SHA-256 recorded
 * at build time; BAD_FILE (NOT_FOUND when missing) naming `what`, the file and how it differs. A member replaced by
 * another stream of the same shape would decode to the other's values, silently: verify, restore and the build's own
 * decodes take only the bytes the archive was built with.
 */
export function readRecordedFile(dir: string, file: string, recorded: { bytes: number; sha256: string }, what: string): Uint8Array {
  const path = join(dir, file);
  if (!existsSync(path)) throw new FieldpackError('NOT_FOUND', `${what} (${file}): missing`, { path });
  const bytes = new Uint8Array(readRegularFileSync(path, `${what} (${file})`));
  const changed = bytes.length !== recorded.bytes
    ? `${bytes.length} bytes, the manifest says ${recorded.bytes} (${bytes.length < recorded.bytes ? 'truncated' : 'grown'})`
    : sha256(bytes) !== recorded.sha256 ? 'changed since the archive was built (its sha256 is not the manifest\'s)' : null;
  if (changed) throw new FieldpackError('BAD_FILE', `${what} (${file}): ${changed}`, { path });
  return bytes;
}

/**
 * Why a member's decoded values are not the ones decoded and checked against its bound at build time (the SHA-256 the
 * manifest records), or null. Decoders give the same values on every machine (docs/decoding-contract.md), so a
 * difference means a damaged dependency or a decoder that broke the contract: its values' bound was never checked.
 */
export function decodedValuesProblem(entry: MemberEntry, field: Field): string | null {
  return valuesHash(field.values, field.mask) === entry.decodedSha256 ? null
    : `member ${entry.id}: decodes to other values than at build time (the SHA-256 of its decoded values differs), so its bound is not known to hold`;
}

/** A member's stream, checked (readRecordedFile). */
export function readMemberStream(dir: string, entry: MemberEntry): Uint8Array {
  return readRecordedFile(dir, entry.file, { bytes: entry.bytes, sha256: entry.streamSha256 }, `member ${entry.id}`);
}

/**
 * Decodes a member with its dependencies from the archive; `cache` keeps decoded anchors for the members after.
 * `stream`: the member's stream where the caller has already read it with readMemberStream.
 */
export async function decodeMember(dir: string, members: Map<string, MemberEntry>, entry: MemberEntry, cache: Map<string, Field>, signal?: AbortSignal, stream?: Uint8Array, depth = 0): Promise<Field> {
  const hit = cache.get(entry.id);
  if (hit) return hit;
  if (depth > 8) throw new FieldpackError('BAD_FILE', `${entry.id}: anchors nested more than 8 deep (a loop in the manifest?)`);
  const bytes = stream ?? readMemberStream(dir, entry);
  const fields: Field[] = [];
  for (const d of entry.dependencies) {
    if (d.kind !== 'anchor') continue;
    const a = members.get(d.member);
    if (!a) throw new FieldpackError('BAD_FILE', `member ${entry.id}: its anchor member ${d.member} is not in the manifest`);
    fields.push({ ...(await decodeMember(dir, members, a, cache, signal, undefined, depth + 1)), name: d.var });
  }
  // an object the stream needs, gone from objects/, is said as verify says it (the decoder's search would meet a bare
  // ENOENT); one it does not need (a cross-field series network, also inside the stream) does not stop the decoding
  const named = (stream: Uint8Array) => inspectStream(stream).dependencies.flatMap((d) => (d.kind === 'anchor' ? [] : [d.hash]));
  const needs = new Set(named(bytes));
  // and what a base stream the member needs names itself (its model)
  for (const dep of entry.dependencies) {
    if (dep.kind === 'base' && dep.object && needs.has(dep.hash) && existsSync(join(dir, dep.object))) named(readRegularFileSync(join(dir, dep.object))).forEach((h) => needs.add(h));
  }
  for (const dep of entry.dependencies) {
    if (dep.kind !== 'anchor' && dep.object && needs.has(dep.hash) && !existsSync(join(dir, dep.object))) {
      throw new FieldpackError('NOT_FOUND', `member ${entry.id} (${entry.file}): needs ${dep.kind} object ${dep.object}: missing`, { path: join(dir, dep.object) });
    }
  }
  const files = objectPaths(dir, entry.dependencies).filter((p) => existsSync(p));
  const d = await decodeStream(bytes, { deps: { fields, files }, signal }).catch((e: unknown) => {
    // a stream's error names the stream's fault, not which member it is: restore and verify say both
    if (e instanceof FieldpackError && e.code !== 'CANCELLED') throw new FieldpackError(e.code, `member ${entry.id} (${entry.file}): ${e.message}`, e.details);
    throw e;
  });
  if (d.field.shape.join('x') !== entry.shape.join('x')) {
    throw new FieldpackError('BAD_FILE', `member ${entry.id} (${entry.file}): its stream holds [${d.field.shape.join(', ')}], the manifest declares [${entry.shape.join(', ')}]`);
  }
  const f = { ...d.field, name: entry.variable };
  // only anchors are kept: they are decoded again for each target that reads them
  if (depth > 0) cache.set(entry.id, f);
  return f;
}
