/**
 * Restore: one NetCDF-4 file per source, mirroring it (its dimensions in order, every coordinate variable, each
 * archived variable's attributes, the variables kept as stored (carried.ts), the global attributes), with provenance attributes per variable (codec, version,
 * bound, achieved error, model hash). A variable split into members is decoded member by member and joined along its
 * first dimension, each member's decoded values checked against the hash recorded when its bound was. Each file is
 * written to a temporary name and renamed.
 */
import { constants, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { counted, firstNames } from '../../core/text.ts';
import { type Field, type FieldDtype, isFieldDtype } from '../../core/field.ts';
import { unpackCoordinates } from '../../core/coordinates.ts';
import { writeNetcdf4Dataset } from '../data/writers/netcdf4.ts';
import { declaredDimension } from '../data/readers/util.ts';
import { readManifest } from './build.ts';
import { decodeMember, decodedValuesProblem } from './members.ts';
import { storedVariableOf } from './carried.ts';
import { clampToRange } from '../../core/codec/bound.ts';
import { readStreamHead } from '../codecs/streamed.ts';
import { type Manifest, type MemberEntry, archiveHolding, attributesFromManifest, fromJsonNumber } from './format.ts';
import { makeFolder } from '../files/folders.ts';
import { removeLeftovers } from '../files/atomic.ts';
import { auxiliaryCoordinatesOf } from './work.ts';
import { NO_MANIFEST_CHECKSUM } from './verify.ts';

function joinRows(parts: Field[], shape: number[]): { values: Float32Array | Float64Array; mask?: Uint8Array } {
  if (parts.length === 1) return { values: parts[0]!.values, ...(parts[0]!.mask ? { mask: parts[0]!.mask } : {}) };
  const n = shape.reduce((a, b) => a * b, 1);
  const values = parts[0]!.values instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
  const anyMask = parts.some((p) => p.mask);
  const mask = anyMask ? new Uint8Array(n) : undefined;
  let off = 0;
  for (const p of parts) {
    values.set(p.values, off);
    if (mask) mask.set(p.mask ?? new Uint8Array(p.values.length).fill(1), off);
    off += p.values.length;
  }
  return { values, ...(mask ? { mask } : {}) };
}

/** Provenance of a restored variable from its members. */
function provenanceOf(members: MemberEntry[], manifest: Manifest): Record<string, string | number> {
  const codecs = [...new Set(members.map((m) => m.codec))];
  const hashes = (kind: 'model' | 'base') => [...new Set(members.flatMap((m) => m.dependencies.filter((d) => d.kind === kind).map((d) => d.hash)))];
  const models = hashes('model');
  const bases = hashes('base');
  const maxError = Math.max(...members.map((m) => fromJsonNumber(m.achieved.maxError)));
  const psnr = Math.min(...members.map((m) => fromJsonNumber(m.achieved.psnr)));
  const b = members[0]!.bound;
  return {
    codec: codecs.join(','),
    codec_version: manifest.fieldpackVersion,
    bound: Math.max(...members.map((m) => m.bound.abs)),
    bound_mode: b.mode,
    bound_value: b.value,
    max_abs_error: maxError,
    ...(Number.isFinite(psnr) ? { psnr } : {}),
    ...(models.length ? { model_sha256: models.join(',') } : {}),
    ...(bases.length ? { base: manifest.options.base, base_sha256: bases.join(',') } : {}),
    archive_members: members.map((m) => m.id).join(','),
  };
}

/**
 * A variable's dimensions as the restored file declares them (declaredDimension: a group's by path). A dimension found
 * nowhere (a source that did not list it) is declared at the top with the variable's size, so that every archived
 * variable can be written back.
 */
function dimensionsInFile<T extends { name: string; dims: string[]; shape: number[] }>(v: T, declared: Map<string, { name: string; size: number }>): T {
  const dims = v.dims.map((dim, i) => {
    const path = declaredDimension(v.name, dim, (name) => declared.has(name));
    if (path !== null) return path;
    declared.set(dim, { name: dim, size: v.shape[i]! });
    return dim;
  });
  return { ...v, dims };
}

export interface RestoreResult {
  /** clamped: with clamp, how many of the file's values moved into their valid range */
  files: { source: string; path: string; variables: string[]; clamped?: number }[];
  /** sources not restored (a member that fails to decode, a file that cannot be written), with why; the others are */
  failed: { source: string; message: string }[];
  /** as verify's: a manifest without its checksum (its bounds and attributes, written into the files, unchecked) */
  notes: string[];
}

/** A member's values kept inside its original valid range (its stream header's), as a copy (anchors are cached). */
async function clampedMember(dir: string, entry: MemberEntry, f: Field): Promise<{ field: Field; moved: number }> {
  const { header } = await readStreamHead(join(dir, entry.file));
  const values = f.values.slice();
  const moved = clampToRange(values, f.mask, header.validMin, header.validMax);
  return { field: { ...f, values }, moved };
}

/**
 * Each wanted source's file in `out`: the source's own name as .nc, else (two sources of one name, in different
 * folders) its archive id, else that with a count; names compared without case, as macOS and Windows folders do.
 * Names are given over every source, wanted or not, so a source's file has one name whatever --vars restores (a
 * restore of one variable once named the second of two same-named sources as the first, and --overwrite replaced
 * that one's file).
 */
function restoredFileNames(manifest: Manifest, out: string, wantedSource: (src: Manifest['sources'][number]) => boolean): Map<string, string> {
  const taken = new Set<string>();
  const targets = new Map<string, string>();
  for (const src of manifest.sources) {
    const candidates = [`${basename(src.name, extname(src.name))}.nc`, `${src.id}.nc`];
    let name = candidates.find((c) => !taken.has(c.toLowerCase()));
    for (let k = 2; !name; k++) if (!taken.has(`${src.id}-${k}.nc`.toLowerCase())) name = `${src.id}-${k}.nc`;
    taken.add(name.toLowerCase());
    if (wantedSource(src)) targets.set(src.id, join(out, name));
  }
  return targets;
}

export async function restoreArchive(dir: string, out: string, opts: { vars?: string[]; overwrite?: boolean; clamp?: boolean; onProgress?: (f: number, m?: string) => void; signal?: AbortSignal } = {}): Promise<RestoreResult> {
  const manifest = readManifest(dir);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new FieldpackError('INVALID_ARGUMENT', `${out} is a file; restore writes one NetCDF-4 file per source into a folder`);
  // not among an archive's own files (its folder, members/, objects/, journal/): the reconstructions would pass for
  // part of it; a folder of their own inside it is the user's choice
  const own = archiveHolding(out);
  if (own) throw new FieldpackError('INVALID_ARGUMENT', `${out} is ${own.folder ? `the ${own.folder}/ folder of ` : ''}the archive ${own.archive}: restore into a folder of its own`, { path: out });
  const byId = new Map(manifest.members.map((m) => [m.id, m]));
  const cache = new Map<string, Field>();
  const files: RestoreResult['files'] = [];
  // --vars T2 restores, in each source that has T2, what T2's `coordinates` names with it (its positions and times),
  // as a build with --vars keeps them; a source without T2 is not restored for its XLAT alone
  const asked = opts.vars?.length ? opts.vars : null;
  const wantedIn = new Map(manifest.sources.map((src) => {
    const named = asked && new Set([...asked, ...src.variables.filter((v) => asked.includes(v.name)).flatMap(auxiliaryCoordinatesOf)]);
    return [src.id, (v: string) => !named || named.has(v)] as const;
  }));
  if (opts.vars?.length) {
    const known = new Set(manifest.sources.flatMap((s) => [...s.variables, ...s.carried].map((v) => v.name)));
    const unknown = opts.vars.filter((v) => !known.has(v));
    if (unknown.length) throw new FieldpackError('NOT_FOUND', `the archive has no variable ${unknown.join(', ')} (it has ${[...known].join(', ')})`);
  }
  // each source's file name, decided (and checked against what the folder holds) before anything is decoded
  // every source without --vars: one of coordinates and attributes alone (a grid file) is restored too, not left out
  const targets = restoredFileNames(manifest, out, (src) => !asked || [...src.variables, ...src.carried].some((v) => asked.includes(v.name)));
  const existing = [...targets.values()].filter((p) => existsSync(p));
  if (existing.length && !opts.overwrite) {
    throw new FieldpackError('INVALID_ARGUMENT', `${out} already holds ${firstNames(existing.map((p) => basename(p)), 10)}: restoring would replace ${existing.length > 1 ? 'them' : 'it'} with reconstructions; restore into another folder, or overwrite on purpose (--overwrite)`, { existing });
  }
  const madeOut = !existsSync(out);
  makeFolder(out);
  // a killed restore's temporary files (their writer gone) are not left among the user's files
  removeLeftovers(out);
  // a folder this user cannot write to is said now, not as an HDF5 error after every member was decoded
  await access(out, constants.W_OK).catch(() => {
    throw new FieldpackError('INVALID_ARGUMENT', `cannot write in ${out}: permission denied (restore into a folder you can write to)`, { path: out });
  });
  const failed: RestoreResult['failed'] = [];
  for (const [i, src] of manifest.sources.entries()) {
    if (!targets.has(src.id)) continue;
    opts.onProgress?.(i / manifest.sources.length, `restoring ${src.name}`);
    try {
      files.push(await restoreSource(dir, manifest, src, targets.get(src.id)!, wantedIn.get(src.id)!, byId, cache, opts));
    } catch (e) {
      // one damaged member costs its source, not the others (as verify goes on past it); a cancel stops here
      if (e instanceof FieldpackError && e.code === 'CANCELLED') throw undoRestore(e, files, existing, madeOut ? out : null);
      failed.push({ source: src.name, message: e instanceof Error ? e.message : String(e) });
    }
  }
  opts.onProgress?.(1, `${counted(files.length, 'file')} restored${failed.length ? `, ${failed.length} failed` : ''}`);
  return { files, failed, notes: manifest.manifestSha256 === undefined ? [NO_MANIFEST_CHECKSUM] : [] };
}

/**
 * A cancelled restore takes back the files it made (a rerun then starts clean, and a cancel writes nothing); a file
 * it replaced (--overwrite) stays restored, as the one it replaced is gone. The cancel's error says which.
 */
function undoRestore(cancel: FieldpackError, files: RestoreResult['files'], replaced: string[], madeFolder: string | null): FieldpackError {
  const made = files.filter((f) => !replaced.includes(f.path));
  for (const f of made) rmSync(f.path, { force: true });
  if (madeFolder && readdirSync(madeFolder).length === 0) rmSync(madeFolder, { recursive: true, force: true });
  const kept = files.filter((f) => replaced.includes(f.path));
  const said = [
    made.length ? `the ${made.length} file${made.length > 1 ? 's' : ''} it had restored removed` : 'nothing restored',
    ...(kept.length ? [`${kept.map((f) => basename(f.path)).join(', ')} kept (already replaced, --overwrite)`] : []),
  ];
  return new FieldpackError('CANCELLED', `restore cancelled: ${said.join('; ')}`, cancel.details);
}

type RestoreOptions = NonNullable<Parameters<typeof restoreArchive>[2]>;

/** One source's file: its variables decoded member by member and written with what it kept as stored. */
async function restoreSource(
  dir: string, manifest: Manifest, src: Manifest['sources'][number], path: string, wanted: (v: string) => boolean,
  byId: Map<string, MemberEntry>, cache: Map<string, Field>, opts: RestoreOptions,
): Promise<RestoreResult['files'][number]> {
  const vars = src.variables.filter((v) => wanted(v.name));
  const fields: { field: Field; provenance: Record<string, string | number> }[] = [];
  let clamped = 0;
  for (const v of vars) {
    const entries = v.members.map((id) => byId.get(id)!);
    const parts: Field[] = [];
    let moved = 0;
    for (const e of entries) {
      const f = await decodeMember(dir, byId, e, cache, opts.signal);
      // values other than the verified ones are not written as if they held the bound
      const differs = decodedValuesProblem(e, f);
      if (differs) throw new FieldpackError('BAD_FILE', `${differs}; \`fieldpack archive verify\` names what is damaged`);
      if (!opts.clamp) parts.push(f);
      else {
        const c = await clampedMember(dir, e, f);
        parts.push(c.field);
        moved += c.moved;
      }
    }
    clamped += moved;
    const { values, mask } = joinRows(parts, v.shape);
    const attrs = attributesFromManifest(v.attributes, v.attributeTypes);
    fields.push({
      field: {
        name: v.name, dims: v.dims, shape: v.shape, values, ...(mask ? { mask } : {}),
        sourceDtype: (isFieldDtype(v.dtype) ? v.dtype : 'float32') as FieldDtype, attributes: attrs,
        ...(v.attributeTypes ? { attributeTypes: v.attributeTypes } : {}),
        ...(typeof attrs.units === 'string' ? { units: attrs.units } : {}),
      },
      provenance: { ...provenanceOf(entries, manifest), source_file: src.name, ...(opts.clamp ? { clamped_values: moved } : {}) },
    });
  }
  const declared = new Map(src.dimensions.map((d) => [d.name, d]));
  await writeNetcdf4Dataset(path, {
    coordinates: unpackCoordinates(src.coordinates),
    variables: fields.map((f) => ({ ...f, field: dimensionsInFile(f.field, declared) })),
    // kept as stored, whichever fields are restored: they refer to them (grid_mapping) or the file needs them (Times)
    stored: src.carried.map((c) => dimensionsInFile(storedVariableOf({ ...c, attributes: attributesFromManifest(c.attributes, c.attributeTypes) }), declared)),
    // the source's, in its order, and any a variable needed that it did not list
    dimensions: [...declared.values()],
    groups: (src.groups ?? []).map((g) => ({ ...g, attributes: attributesFromManifest(g.attributes, g.attributeTypes) })),
    globalAttributes: { ...attributesFromManifest(src.globalAttributes, src.globalAttributeTypes), fieldpack_restored_from: `${src.name} (${src.format}) via a Fieldpack archive` },
    ...(src.globalAttributeTypes ? { globalAttributeTypes: src.globalAttributeTypes } : {}),
  });
  return { source: src.name, path, variables: [...vars, ...src.carried].map((v) => v.name), ...(opts.clamp ? { clamped } : {}) };
}
