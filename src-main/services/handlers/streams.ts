/**
 * Stream methods (api/methods/streams.ts): compress a variable of a file to a .fpk, decompress one, inspect one,
 * list the codecs. Every codec goes through the codec service; outputs are written atomically. These handlers
 * need no store (the CLI serves them without opening one); a call may carry progress and cancellation.
 */
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import { type BoundSpec, clampToRange } from '../../core/codec/bound.ts';
import type { STREAM_METHODS, StreamInfo } from '../../api/methods/streams.ts';
import { codecById } from '../../core/compressors/index.ts';
import { codecCatalog, decodeStream, encodeField, inspectStream, metadataOf, warmWorkers } from '../codecs/index.ts';
import { externalBaseField, parseBaseSpec, prepareBase, reconstructionIfFile } from '../compression/base.ts';
import { openDataFile } from '../data/readers/index.ts';
import type { OpenOptions } from '../data/readers/types.ts';
import { checkIsField } from '../data/readers/util.ts';
import { readVariable } from '../compression/runs.ts';
import { checkNotReplacing, checkOutputPath, writeAtomically } from '../files/atomic.ts';
import { anchorStreamPath, baseStreamPath, streamBesideOf } from '../codecs/dependencies.ts';
import { isFpk } from '../data/readers/fpk.ts';
import { checkStreamSize, decodeRowsToFile, encodeRowsToFile, readStreamHead, rowSourceOf, rowsRefusal, streamErrorOf, verifyRows } from '../codecs/streamed.ts';
import { coordinateFromField } from '../../core/coordinates.ts';
import { fieldSize } from '../../core/field.ts';
import { undeclaredFill } from '../../core/stats/undeclared-fill.ts';
import type { CallContext, Handlers } from './types.ts';
import { readRegularFile } from '../files/regular.ts';

async function readStreamFile(file: string): Promise<Uint8Array> {
  return new Uint8Array(await readRegularFile(file));
}

/**
 * A data file's variable for a decoder looking for an anchor or a base: null when the file has no such variable. A
 * reconstruction file (.npz, .npy, raw values on the stream's grid) is read as a file base is.
 */
async function variableIfPresent(path: string, variable: string, shape?: readonly number[]): Promise<Field | null> {
  const recon = await reconstructionIfFile(path, variable, shape);
  if (recon) return recon;
  const f = await openDataFile(path);
  try {
    return f.variables.some((v) => v.name === variable) ? await f.readField(variable) : null;
  } finally {
    f.close();
  }
}

function finite(x: number): number | 'NaN' | 'Infinity' | '-Infinity' {
  return Number.isFinite(x) ? x : (String(x) as 'NaN' | 'Infinity' | '-Infinity');
}

export function streamInfo(file: string, bytes: Uint8Array, size = bytes.length): StreamInfo {
  const s = inspectStream(bytes);
  const h = s.header;
  checkStreamSize(file, h, size);
  const width = h.dtype === 'float32' ? 4 : 8;
  return {
    file, bytes: size, codec: s.codec.id, codecLabel: s.codec.label, formatVersion: h.formatVersion, fieldpackVersion: h.fieldpackVersion,
    variable: typeof h.metadata.variable === 'string' ? h.metadata.variable : null,
    dims: Array.isArray(h.metadata.dims) ? h.metadata.dims.map(String) : h.shape.map((_, i) => `dim${i}`),
    shape: h.shape, dtype: h.dtype, bound: { mode: h.bound.mode, value: h.bound.value, abs: h.bound.abs, lossless: h.bound.lossless },
    chunks: h.chunks.length, params: h.params, dependencies: s.dependencies, needs: s.needs, summary: s.summary,
    compressionRatio: (h.shape.reduce((a, b) => a * b, 1) * width) / size,
  };
}

/** An external reconstruction named by a base spec (file:PATH...): an input that no output may replace. */
function baseFileOf(spec: string | undefined): string[] {
  if (!spec) return [];
  const p = parseBaseSpec(spec);
  return p.kind === 'file' ? [p.path] : [];
}

/**
 * Anchors named in params.anchors (variables of the same file), compressed first with the core codec at the same
 * bound and decoded: a decoder will have exactly these reconstructions. Their streams go beside the output
 * (OUT.anchor-VAR.fpk), where `decompress` and the .fpk reader look for them.
 */
async function anchorStreams(file: string, target: string, params: Record<string, unknown>, bound: BoundSpec, out: string, workers: number, call?: CallContext, open?: OpenOptions) {
  const names = Array.isArray(params.anchors) ? params.anchors.map(String) : [];
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new FieldpackError('INVALID_ARGUMENT', `anchors: ${twice} is named twice`);
  const res: { name: string; field: Field; bytes: Uint8Array; path: string }[] = [];
  for (const name of names) {
    if (name === target) throw new FieldpackError('INVALID_ARGUMENT', `the target ${target} cannot be its own anchor`);
    const f = await readVariable(file, name, { open });
    call?.onProgress?.(0, `anchor ${name}: core codec`);
    const a = await encodeField(f, { codec: 'auto', bound, workers, verify: false, metadata: metadataOf(f, basename(file)), signal: call?.signal });
    const d = await decodeStream(a.bytes, { workers, signal: call?.signal });
    res.push({ name, field: { ...d.field, name }, bytes: a.bytes, path: anchorStreamPath(out, name) });
  }
  return res;
}

/**
 * Raw output is written in the stream's own dtype: a name that says the other one (.f32 for float64 values, .f64 for
 * float32) would be read back wrong, so it is refused before anything is written.
 */
function checkRawExtension(out: string, dtype: 'float32' | 'float64'): void {
  const says = /\.f32$/i.test(out) ? 'float32' : /\.f64$/i.test(out) ? 'float64' : null;
  if (says !== null && says !== dtype) {
    const ext = dtype === 'float32' ? '.f32' : '.f64';
    throw new FieldpackError('INVALID_ARGUMENT', `${out}: the stream holds ${dtype} values, written as they are; name the output ${ext} (or give another extension)`, { out, dtype });
  }
}

/** Above this many bytes of values, compress and decompress go slab by slab unless told otherwise. */
export const STREAMED_ABOVE_BYTES = 1 << 30;

/** The bound a field read from a .fpk holds against its original (the .fpk reader's fieldpack_bound_abs), or null. */
function reconstructionBound(attributes: Record<string, unknown>): number | null {
  const b = attributes['fieldpack_bound_abs'];
  return typeof b === 'number' ? b : null;
}

/** The bytes a variable's values take once read (float32 or float64 after unpacking). */
async function variableBytes(file: string, variable: string, open?: OpenOptions): Promise<number> {
  const df = await openDataFile(file, open);
  try {
    const v = df.variable(variable);
    return fieldSize(v.shape) * (v.dtype === 'float64' || v.fill.packing?.unpackedDtype === 'float64' ? 8 : 4);
  } finally {
    df.close();
  }
}

/** A fill value the field's file does not declare, where the bound was taken from the field's range and is lossy. */
function undeclaredFillUnder(bound: { mode: string; lossless: boolean }, field: Field) {
  const u = bound.mode === 'abs' || bound.lossless ? null : undeclaredFill(field.values, field.mask);
  return u && { ...u, dtype: field.sourceDtype };
}

/**
 * A variable compressed slab by slab (services/codecs/streamed.ts): its metadata from the first row and the full
 * coordinates, as readVariable would give them, so the stream's bytes are the in-memory path's.
 */
async function compressRows(file: string, variable: string, o: { codec: string; params: Record<string, unknown>; bound: BoundSpec; workers: number; verify: boolean; out: string; open?: OpenOptions }, call?: CallContext) {
  const df = await openDataFile(file, o.open);
  try {
    const v = df.variable(variable);
    checkIsField(file, v);
    const first = await df.readField(variable, { slice: [[0, 1]], signal: call?.signal });
    const coordinates = { ...first.coordinates };
    const dim0 = v.dims[0]!;
    if (coordinates[dim0]) coordinates[dim0] = coordinateFromField(await df.readField(dim0, { coordinates: false, signal: call?.signal }));
    const whole: Field = { ...first, shape: [...v.shape], coordinates };
    const source = rowSourceOf(df, first, [...v.shape], call?.signal);
    const r = await encodeRowsToFile(source, { ...o, metadata: metadataOf(whole, basename(file)), onProgress: call?.onProgress, signal: call?.signal }, o.out);
    const check = o.verify ? await verifyRows(source, o.out, r.bound.abs, { workers: o.workers, signal: call?.signal }) : null;
    const plan = r.details.plan as { predictor?: string } | undefined;
    const width = source.dtype === 'float32' ? 4 : 8;
    return {
      out: o.out, bytes: r.bytes, codec: r.codec, params: r.params, shape: [...v.shape], boundLabel: r.bound.label, absBound: r.bound.abs, units: first.units ?? null, lossless: r.bound.lossless,
      compressionRatio: (fieldSize(v.shape) * width) / r.bytes, sourceDtype: first.sourceDtype ?? null, seconds: r.seconds, inputBound: reconstructionBound(first.attributes), undeclaredFill: null,
      chose: { predictor: plan?.predictor, choice: r.details.choice, effort: r.details.effort, streamed: true },
      verification: check ? { maxErrorOverBound: finite(check.maxErrorOverBound), psnr: finite(check.psnr), pointsOverBound: check.pointsOverBound } : null,
      base: null,
      baseChoice: null,
    };
  } finally {
    df.close();
  }
}

/**
 * Refuses, before any work, what a compress must not write: OUT where it cannot be written or would replace an input
 * or a file that is not a stream (unless overwrite), OUT named as another stream's base or anchor stream (replacing
 * it would leave that stream undecodable; unless overwrite), and likewise the streams that go beside OUT (`beside`:
 * its anchors' and its base's). The CLI's compress and compress --record both ask it.
 */
export async function checkStreamOutputs(out: string, o: { inputs: readonly string[]; overwrite?: boolean; beside?: readonly string[] }): Promise<void> {
  const check = async (path: string) => {
    await checkOutputPath(path, o.inputs);
    await checkNotReplacing(path, 'a Fieldpack stream', { overwrite: o.overwrite, ours: isFpk });
  };
  await check(out);
  const owned = streamBesideOf(out);
  if (owned && !o.overwrite && existsSync(out) && existsSync(owned.owner)) {
    throw new FieldpackError('INVALID_ARGUMENT', `${out} is the ${owned.role} of ${owned.owner}: replacing it would leave ${basename(owned.owner)} undecodable; give another name, or replace it on purpose (--overwrite)`, { path: out });
  }
  for (const path of o.beside ?? []) await check(path);
}

export function streamHandlers(): Handlers<keyof typeof STREAM_METHODS> {
  return {
    'streams.codecs': () =>
      codecCatalog().map((c) => ({ ...c, paramsSchema: z.toJSONSchema(codecById(c.id).params, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown> })),

    'streams.compress': async ({ file, variable, bound, codec, params, workers, verify, out, overwrite, base: baseSpec, streamed, raw }, call) => {
      // the inputs: the data file and an external base (compress reads both, then writes beside them)
      const inputs = [file, ...baseFileOf(baseSpec)];
      // the streams that may go beside it, checked before any work as it is (each is written only if the stream needs it)
      const anchorNames = Array.isArray(params.anchors) ? params.anchors.filter((a): a is string => typeof a === 'string') : [];
      const besideOut = [...anchorNames.map((a) => anchorStreamPath(out, a)), ...(baseSpec && !baseFileOf(baseSpec).length && baseSpec !== 'none' ? [baseStreamPath(out)] : [])];
      await checkStreamOutputs(out, { inputs, overwrite, beside: besideOut });
      const open: OpenOptions | undefined = raw ? { raw } : undefined;
      const fieldBytes = await variableBytes(file, variable, open);
      warmWorkers(workers, fieldBytes);
      const plain = !baseSpec && !(Array.isArray(params.anchors) && params.anchors.length);
      if (streamed ?? (plain && rowsRefusal(codec, bound) === null && fieldBytes > STREAMED_ABOVE_BYTES)) {
        if (!plain) throw new FieldpackError('INVALID_ARGUMENT', 'compressing slab by slab (streamed) takes no anchors and no base');
        return compressRows(file, variable, { codec, params, bound, workers, verify, out, open }, call);
      }
      const field = await readVariable(file, variable, { open });
      const anchors = await anchorStreams(file, variable, params, bound, out, workers, call, open);
      const metadata = metadataOf(field, basename(file));
      const prepared = await prepareBase(field, baseSpec, { codec, params, bound, workers, signal: call?.signal, metadata, onProgress: call?.onProgress });
      const r = await encodeField(field, {
        codec, params, bound, workers, verify, metadata: { ...metadata, ...prepared?.metadata }, anchors: anchors.map((a) => a.field),
        ...(prepared?.field ? { base: prepared.field } : {}), onProgress: call?.onProgress, signal: call?.signal,
      });
      // only what the stream needs goes beside it (a codec that fell back to the core codec needs neither): the
      // anchors' streams as OUT.anchor-VAR.fpk, a codec base as OUT.base.fpk, where decoders find them by hash
      const needs = inspectStream(r.bytes).dependencies;
      const needed = anchors.filter((a) => needs.some((d) => d.kind === 'anchor' && d.var === a.name));
      const usesBase = needs.some((d) => d.kind === 'base');
      const basePath = prepared?.stream && usesBase ? baseStreamPath(out) : null;
      // checked again as they are now (a file may have come there while the field was coded)
      await checkStreamOutputs(out, { inputs, overwrite, beside: [...needed.map((a) => a.path), ...(basePath ? [basePath] : [])] });
      // a cancel that came while this thread coded alone (seen only once it ended) leaves each file not yet in place
      for (const a of needed) await writeAtomically(a.path, (tmp) => writeFile(tmp, a.bytes), call?.signal);
      if (basePath) await writeAtomically(basePath, (tmp) => writeFile(tmp, prepared!.stream!), call?.signal);
      await writeAtomically(out, (tmp) => writeFile(tmp, r.bytes), call?.signal);
      const v = r.verification;
      const plan = r.details.plan as { predictor?: string } | undefined;
      return {
        out, bytes: r.bytes.length, codec: r.codec, params: r.params, shape: field.shape, boundLabel: r.bound.label, absBound: r.bound.abs, units: field.units ?? null, lossless: r.bound.lossless,
        compressionRatio: r.compressionRatio, sourceDtype: field.sourceDtype ?? null, seconds: r.seconds, inputBound: reconstructionBound(field.attributes),
        undeclaredFill: undeclaredFillUnder(r.bound, field),
        chose: Object.fromEntries(Object.entries({ predictor: plan?.predictor, ...r.details, plan: undefined }).filter(([, x]) => x !== undefined && (typeof x !== 'object' || x === null || Array.isArray(x) ? true : Object.keys(x).length < 20))),
        verification: v ? { maxErrorOverBound: finite(v.maxErrorOverBound), psnr: finite(v.psnr), pointsOverBound: v.pointsOverBound } : null,
        base: prepared?.field && usesBase
          ? { out: basePath ?? prepared.file!.path, bytes: prepared.bytes, codec: prepared.codec, spec: prepared.spec, ...(prepared.file ? { bits: prepared.file.bits } : {}) }
          : null,
        baseChoice: prepared?.choice ?? null,
      };
    },

    'streams.decompress': async ({ file, out, rows, workers, anchors, maskOut, streamed, base, clamp, overwrite }, call) => {
      // every output checked before anything is decoded or written: a failure leaves the old ones as they were
      const inputs = [file, ...(anchors ?? []), ...baseFileOf(base)];
      await checkOutputPath(out, inputs);
      if (maskOut) await checkOutputPath(maskOut, [...inputs, out]);
      for (const path of [out, ...(maskOut ? [maskOut] : [])]) await checkNotReplacing(path, 'decompressed values', { overwrite });
      if (maskOut && resolve(maskOut) === resolve(out)) throw new FieldpackError('INVALID_ARGUMENT', `--mask ${maskOut} is the output file itself: give the mask another name`);
      const head = await readStreamHead(file);
      checkRawExtension(out, head.header.dtype);
      const decodedBytes = fieldSize(head.header.shape) * (head.header.dtype === 'float32' ? 4 : 8);
      warmWorkers(workers ?? 0, decodedBytes);
      if (streamed ?? (!rows && decodedBytes > STREAMED_ABOVE_BYTES && codecById(head.header.codec).dependencies(head.header).length === 0)) {
        if (rows) throw new FieldpackError('INVALID_ARGUMENT', 'decompressing chunk by chunk (streamed) writes every row: leave out rows');
        const range = clamp ? { min: head.header.validMin, max: head.header.validMax } : undefined;
        const r = await decodeRowsToFile(file, out, { workers, maskOut, onProgress: call?.onProgress, signal: call?.signal, ...(range ? { clampTo: range } : {}) }, head.header).catch((e: unknown) => {
          throw streamErrorOf(file, e);
        });
        const info = streamInfo(file, head.headBytes, head.size);
        const maskRemoved = await removeStaleMask(maskOut, r.hasMask);
        return { out, maskOut: r.hasMask ? maskOut! : null, maskRemoved, variable: info.variable ?? '', dtype: info.dtype, shape: head.header.shape, rows: [0, head.header.shape[0]!] as [number, number], info, clamped: range ? { values: r.clamped, ...range } : null };
      }
      const bytes = await readStreamFile(file);
      const info = streamInfo(file, bytes);
      // an external base given again (file:PATH[#var=NAME]): read as when compressing, checked by hash
      const fields: Field[] = base ? [await externalBaseField(base, head.header)] : [];
      const usedFiles: string[] = [];
      const d = await decodeStream(bytes, {
        rows, workers, deps: { files: anchors, besidePath: file, ...(fields.length ? { fields } : {}) }, loadDataFile: variableIfPresent, onProgress: call?.onProgress, signal: call?.signal, usedFiles,
      }).catch((e: unknown) => {
        throw streamErrorOf(file, e);
      });
      // nor may it replace what the stream was decoded from: a base or an anchor found beside it
      await checkOutputPath(out, usedFiles);
      if (maskOut) await checkOutputPath(maskOut, usedFiles);
      const v = d.field.values;
      const range = { min: d.header.validMin, max: d.header.validMax };
      const clamped = clamp ? { values: clampToRange(v, d.field.mask, range.min, range.max), ...range } : null;
      await writeAtomically(out, (tmp) => writeFile(tmp, new Uint8Array(v.buffer, v.byteOffset, v.byteLength)), call?.signal);
      if (maskOut && d.field.mask) await writeAtomically(maskOut, (tmp) => writeFile(tmp, d.field.mask!));
      const maskRemoved = await removeStaleMask(maskOut, !!d.field.mask);
      return { out, maskOut: maskOut && d.field.mask ? maskOut : null, maskRemoved, variable: d.field.name, dtype: info.dtype, shape: d.field.shape, rows: d.rows, info, clamped };
    },

    'streams.inspect': async ({ file }) => streamInfo(file, await readStreamFile(file)),
  };
}

/**
 * A mask file asked for where the stream has no mask: one already there (replaced with overwrite) is another
 * stream's mask, which would pass for this one's, so it is removed once the values are written. Whether one was.
 */
async function removeStaleMask(maskOut: string | undefined, written: boolean): Promise<boolean> {
  if (!maskOut || written || !existsSync(maskOut)) return false;
  await rm(maskOut, { force: true });
  return true;
}
