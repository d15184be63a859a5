/**
 * Finding what a stream's decoder needs (core/compressors/contract.ts Dependency), checking it by content hash,
 * and saying exactly what is missing or different. Anchors come from fields already in hand, from files given
 * (an .fpk is decoded, a data file is read), or from .fpk streams beside the stream being decoded.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import { type Field, sameShape } from '../../core/field.ts';
import { findModelByHash, modelSearchPlaces, type ModelParam } from './models.ts';
import { type Dependency, type Reconstruction, type ResolvedDependencies, describeDependency } from '../../core/compressors/index.ts';

/** Where dependencies may be found. */
export interface DependencySource {
  /** fields in hand: anchors by variable name (decoded reconstructions) */
  fields?: Field[];
  /** files to look in: .fpk streams (decoded) or data files (the variable read) */
  files?: string[];
  /** the stream's own path: the .fpk streams in its folder are looked at too */
  besidePath?: string;
  /**
   * the streams being decoded for the ones above this one (a stream beside it decoded as a candidate anchor or base
   * looks beside itself in turn): they are not candidates again, so two residual streams of one variable in a folder
   * are not decoded for each other without end
   */
  decoding?: string[];
  /** the external reconstruction file the stream's base was (its header's baseFile): named where the base differs */
  baseFile?: string;
}

/**
 * Reads one variable of a file, or null when the file has no such variable (given by the codec service); shape: the
 * stream's grid (reconstruction files without names, .npz / .npy / raw, are read on it).
 */
export type FieldLoader = (path: string, variable: string, depth: number, shape?: readonly number[]) => Promise<Field | null>;

/** Content hash of a reconstruction: float32 values (invalid points as 0), the shape and the mask. */
export function reconstructionHash(f: { values: ArrayLike<number>; mask?: Uint8Array; shape: number[] }): string {
  const n = f.values.length;
  const { values, mask } = f;
  const h = createHash('sha256').update(`fieldpack-recon\n${f.shape.join('x')}\n`);
  // the float32 values block by block through one small array (a digest of the parts is the whole's): a field-sized
  // copy was fresh memory on every hash, whose first touch took most of it (a 1.4 M-value anchor: ~18 -> ~5 ms here)
  const block = new Float32Array(Math.min(n, HASH_BLOCK));
  for (let start = 0; start < n; start += HASH_BLOCK) {
    const m = Math.min(HASH_BLOCK, n - start);
    for (let i = 0; i < m; i++) block[i] = mask && !mask[start + i] ? 0 : values[start + i]!;
    h.update(new Uint8Array(block.buffer, 0, 4 * m));
  }
  if (mask) h.update(mask);
  return h.digest('hex');
}

/** Values converted to float32 per hash update: 256 KiB. */
const HASH_BLOCK = 1 << 16;

/** The field as a dependency: its reconstructionHash, or the one the caller already computed of it. */
export function toReconstruction(f: Pick<Field, 'values' | 'mask' | 'shape'>, hash = reconstructionHash(f)): Reconstruction {
  return { values: f.values, ...(f.mask ? { mask: f.mask } : {}), shape: [...f.shape], hash };
}

/** OUT.KIND.fpk beside OUT.fpk: where compress writes a stream's anchors and base stream, and decoders look for them. */
function besideStream(out: string, kind: string): string {
  return join(dirname(out), `${basename(out).replace(/\.fpk$/i, '')}.${kind}.fpk`);
}

/** Where an anchor's stream goes beside the output (OUT.anchor-VAR.fpk). */
export function anchorStreamPath(out: string, anchor: string): string {
  return besideStream(out, `anchor-${anchor.replace(/[^\w.-]/g, '_')}`);
}

/** Where a residual coder's base stream goes beside the output (OUT.base.fpk). */
export function baseStreamPath(out: string): string {
  return besideStream(out, 'base');
}

/**
 * The stream a path beside it belongs to (X.fpk for X.base.fpk or X.anchor-VAR.fpk), and which it is; null for a
 * path of no such name.
 */
export function streamBesideOf(path: string): { owner: string; role: string } | null {
  const m = /^(.+)\.(base|anchor-[\w.-]+)\.fpk$/i.exec(basename(path));
  return m ? { owner: join(dirname(path), `${m[1]}.fpk`), role: m[2]!.toLowerCase() === 'base' ? 'base stream' : `${m[2]!.slice(7)} anchor stream` } : null;
}

/** The file compress wrote a stream's anchor or base stream to, beside it; null where there is none (a model, a file base). */
function expectedBeside(dep: Dependency, src: DependencySource): string | null {
  if (!src.besidePath || src.baseFile) return null;
  if (dep.kind === 'anchor') return anchorStreamPath(resolve(src.besidePath), dep.var);
  if (dep.kind === 'base' && dep.var) return baseStreamPath(resolve(src.besidePath));
  return null;
}

/**
 * Where a dependency is looked for, in order: the files given, the one compress wrote for it beside the stream
 * (`beside`, where it exists), then every other stream in the stream's folder (each of the variable decoded to be
 * hashed: a folder of hundreds of them took a minute where the file beside was the one).
 */
function candidatePaths(src: DependencySource, beside: string | null): string[] {
  const out = (src.files ?? []).map((f) => resolve(f));
  if (beside !== null && existsSync(beside) && !out.includes(beside)) out.push(beside);
  if (src.besidePath) {
    const dir = dirname(resolve(src.besidePath));
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => /\.fpk$/i.test(n)).sort();
    } catch {
      names = [];
    }
    const decoding = new Set([resolve(src.besidePath), ...(src.decoding ?? []).map((d) => resolve(d))]);
    for (const n of names) {
      const p = join(dir, n);
      if (!decoding.has(p) && !out.includes(p)) out.push(p);
    }
  }
  return out;
}

/**
 * Resolves every dependency or throws one error naming all that are missing (NOT_FOUND) or that differ from the
 * ones the stream was written with (CONFLICT).
 */
export async function resolveDependencies(
  deps: Dependency[], shape: number[], src: DependencySource, load: FieldLoader, depth = 0, modelParam?: ModelParam,
): Promise<ResolvedDependencies> {
  const out: ResolvedDependencies = { anchors: {}, models: {}, bases: {} };
  if (!deps.length) return out;
  if (depth > 8) throw new FieldpackError('BAD_STREAM', 'streams depend on each other more than 8 levels deep (a loop?)');
  const missing: Dependency[] = [];
  const mismatched: { dep: Dependency; got: string; where: string }[] = [];
  const unusable: string[] = [];
  // model files given, beside the stream, then in the model folders
  const modelFolders = src.besidePath ? [dirname(resolve(src.besidePath))] : [];
  for (const dep of deps) {
    if (dep.kind === 'model') {
      const bytes = modelParam ? findModelByHash(modelParam, dep.hash, src.files ?? [], modelFolders) : null;
      if (bytes) out.models[dep.hash] = bytes;
      else missing.push(dep);
      continue;
    }
    if (dep.kind === 'base' && !dep.var) {
      missing.push(dep);
      continue;
    }
    // anchors, and bases (the reconstruction of another stream of the variable): found the same way
    const variable = dep.var!;
    const candidates: { field: Field; where: string }[] = (src.fields ?? []).filter((f) => f.name === variable).map((field) => ({ field, where: 'given' }));
    let found: Reconstruction | null = null;
    const check = (field: Field, where: string) => {
      if (!sameShape(field.shape, shape)) {
        mismatched.push({ dep, got: `shape [${field.shape.join(', ')}], the stream's field is [${shape.join(', ')}]`, where });
        return false;
      }
      const r = toReconstruction(field);
      if (r.hash === dep.hash) {
        found = r;
        return true;
      }
      mismatched.push({ dep, got: `its reconstruction hashes to ${r.hash.slice(0, 16)}...`, where });
      return false;
    };
    for (const c of candidates) if (check(c.field, c.where)) break;
    if (!found) {
      for (const p of candidatePaths(src, expectedBeside(dep, src))) {
        let f: Field | null;
        try {
          f = await load(p, variable, depth + 1, shape);
        } catch (e) {
          // a stream beside ours that does not decode (its own base missing, corrupted) is not the one: the search
          // goes on, and says why it passed it over where nothing is found
          if (!(e instanceof FieldpackError) || e.code === 'CANCELLED') throw e;
          unusable.push(`${p} does not decode (${e.message})`);
          continue;
        }
        if (f && check(f, p)) break;
      }
    }
    if (found) {
      if (dep.kind === 'anchor') out.anchors[dep.var] = found;
      else out.bases[dep.hash] = found;
    } else if (!mismatched.some((m) => m.dep === dep)) missing.push(dep);
  }
  const resolved = (d: Dependency) => (d.kind === 'anchor' ? !!out.anchors[d.var] : !!out.bases[d.hash]);
  const unresolved = mismatched.filter((m) => !resolved(m.dep));
  // what compress wrote beside the stream for a dependency, where it is not there: the other streams of the variable
  // that were tried are not the one, and the missing file is the news (not a CONFLICT with one of them)
  // (a file or field the user gave that differs is the news then: CONFLICT, below)
  const given = new Set(['given', ...(src.files ?? []).map((f) => resolve(f))]);
  const absent = (d: Dependency) => {
    const p = expectedBeside(d, src);
    return p !== null && !existsSync(p) ? p : null;
  };
  const besideMissing = unresolved.find((m) => absent(m.dep) !== null && !unresolved.some((u) => u.dep === m.dep && given.has(u.where)));
  if (besideMissing && !missing.length) {
    const m = besideMissing;
    const path = absent(m.dep)!;
    const tried = unresolved.filter((u) => u.dep === m.dep).map((u) => basename(u.where));
    throw new FieldpackError(
      'NOT_FOUND',
      `this stream needs its ${m.dep.kind} ${(m.dep as { var: string }).var} (reconstruction sha256 ${m.dep.hash.slice(0, 16)}...): ${basename(path)}, where compress wrote it beside the stream, is not there${tried.length ? `, and ${tried.join(', ')} hold${tried.length > 1 ? '' : 's'} another reconstruction of it` : ''} (give the stream it was compressed to${m.dep.kind === 'anchor' ? ' with --anchor' : ''})`,
      { missing: [m.dep.hash], expected: path },
    );
  }
  if (unresolved.length && !missing.length) {
    const m = unresolved[0]!;
    const name = (m.dep as { var: string }).var;
    const baseFile = src.besidePath ? basename(baseStreamPath(src.besidePath)) : 'NAME.base.fpk';
    const how = m.dep.kind === 'anchor'
      ? 'decode the anchor from the stream it was compressed to, at the same bound'
      : src.baseFile
        ? `its base is the reconstruction file ${src.baseFile}: give that same file (--base file:PATH)`
        : `its base stream is written beside it as ${baseFile}: is it there? Or give the reconstruction it was compressed over`;
    throw new FieldpackError(
      'CONFLICT',
      `${m.dep.kind} ${name} differs from the one this stream was compressed with: ${m.got} (${m.where}), the stream needs ${m.dep.hash.slice(0, 16)}... (${how})${unusable.length ? `; ${unusable.join('; ')}` : ''}`,
      { mismatched: unresolved.map((u) => (u.dep as { var: string }).var), expected: m.dep.hash },
    );
  }
  if (missing.length) {
    const anchors = missing.filter((d): d is Extract<Dependency, { kind: 'anchor' }> => d.kind === 'anchor');
    const others = missing.filter((d) => d.kind !== 'anchor');
    const parts = [
      ...(anchors.length ? [`its anchor${anchors.length > 1 ? 's' : ''} ${anchors.map((d) => `${d.var} (reconstruction sha256 ${d.hash.slice(0, 16)}...)`).join(', ')}`] : []),
      ...others.map(describeDependency),
    ];
    // a model is looked for in the model files given, beside the stream and in the model folders; the rest in the
    // fields, files and streams beside it
    const modelsOnly = missing.every((d) => d.kind === 'model');
    const looked = modelsOnly && modelParam
      ? modelSearchPlaces(modelParam, src.files ?? [], modelFolders)
      : [...(src.fields?.length ? [`given: ${src.fields.map((g) => g.name).join(', ')}`] : []), ...candidatePaths(src, null)];
    const written = missing.map(absent).filter((p): p is string => p !== null).map((p) => basename(p));
    const differ = [...unresolved.map((u) => `${(u.dep as { var: string }).var} differs (${u.got}, ${u.where})`), ...unusable];
    throw new FieldpackError(
      'NOT_FOUND',
      `this stream needs ${parts.join(' and ')}: not given${written.length ? ` (compress wrote ${written.join(', ')} beside it: not there)` : ''}${looked.length ? ` (looked in: ${looked.join('; ')})` : ''}${differ.length ? `; ${differ.join('; ')}` : ''}`,
      { missing: missing.map((d) => (d.kind === 'anchor' ? d.var : d.hash)), needed: deps },
    );
  }
  return out;
}
