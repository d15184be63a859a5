/**
 * Stream methods (api/methods/streams.ts): compress a variable of a file to a .fpk, decompress one, inspect one,
 * list the codecs. Every codec goes through the codec service; outputs are written atomically. These handlers
 * need no store (the CLI serves them without opening one); a call may carry progress and cancellation.
 */
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { readFile } from 'node:fs/promises';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import type { BoundSpec } from '../../core/codec/bound.ts';
import type { STREAM_METHODS, StreamInfo } from '../../api/methods/streams.ts';
import { codecById } from '../../core/compressors/index.ts';
import { codecCatalog, decodeStream, encodeBase, encodeField, inspectStream, metadataOf } from '../codecs/index.ts';
import { openDataFile } from '../data/readers/index.ts';
import { readVariable } from '../compression/runs.ts';
import { writeAtomically } from '../files/atomic.ts';
import type { CallContext, Handlers } from './types.ts';

async function readStreamFile(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (e) {
    throw new FieldpackError('NOT_FOUND', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { path: file });
  }
}

/** A data file's variable for a decoder looking for an anchor: null when the file has no such variable. */
async function variableIfPresent(path: string, variable: string): Promise<Field | null> {
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

export function streamInfo(file: string, bytes: Uint8Array): StreamInfo {
  const s = inspectStream(bytes);
  const h = s.header;
  const width = h.dtype === 'float32' ? 4 : 8;
  return {
    file, bytes: bytes.length, codec: s.codec.id, codecLabel: s.codec.label, formatVersion: h.formatVersion, fieldpackVersion: h.fieldpackVersion,
    variable: typeof h.metadata.variable === 'string' ? h.metadata.variable : null,
    dims: Array.isArray(h.metadata.dims) ? h.metadata.dims.map(String) : h.shape.map((_, i) => `dim${i}`),
    shape: h.shape, dtype: h.dtype, bound: { mode: h.bound.mode, value: h.bound.value, abs: h.bound.abs, lossless: h.bound.lossless },
    chunks: h.chunks.length, params: h.params, dependencies: s.dependencies, needs: s.needs, summary: s.summary,
    compressionRatio: (h.shape.reduce((a, b) => a * b, 1) * width) / bytes.length,
  };
}

/**
 * Anchors named in params.anchors (variables of the same file), compressed first with the core codec at the same
 * bound and decoded: a decoder will have exactly these reconstructions. Their streams go beside the output
 * (OUT.anchor-VAR.fpk), where `decompress` and the .fpk reader look for them.
 */
async function anchorStreams(file: string, target: string, params: Record<string, unknown>, bound: BoundSpec, out: string, workers: number, call?: CallContext) {
  const names = Array.isArray(params.anchors) ? params.anchors.map(String) : [];
  const res: { field: Field; bytes: Uint8Array; path: string }[] = [];
  for (const name of names) {
    if (name === target) throw new FieldpackError('INVALID_ARGUMENT', `the target ${target} cannot be its own anchor`);
    const f = await readVariable(file, name);
    call?.onProgress?.(0, `anchor ${name}: core codec`);
    const a = await encodeField(f, { codec: 'auto', bound, workers, verify: false, metadata: metadataOf(f, basename(file)), signal: call?.signal });
    const d = await decodeStream(a.bytes, { workers, signal: call?.signal });
    res.push({ field: { ...d.field, name }, bytes: a.bytes, path: join(dirname(out), `${basename(out).replace(/\.fpk$/i, '')}.anchor-${name.replace(/[^\w.-]/g, '_')}.fpk`) });
  }
  return res;
}

export function streamHandlers(): Handlers<keyof typeof STREAM_METHODS> {
  return {
    'streams.codecs': () =>
      codecCatalog().map((c) => ({ ...c, paramsSchema: z.toJSONSchema(codecById(c.id).params, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown> })),

    'streams.compress': async ({ file, variable, bound, codec, params, workers, verify, out, base: baseSpec }, call) => {
      const field = await readVariable(file, variable);
      const anchors = await anchorStreams(file, variable, params, bound, out, workers, call);
      const encodedBase = await encodeBase(field, baseSpec, { workers, signal: call?.signal, metadata: metadataOf(field, basename(file)) });
      // written beside the output as OUT.base.fpk, where decompress and the .fpk reader find it by hash
      const base = encodedBase && { ...encodedBase, path: join(dirname(out), `${basename(out).replace(/\.fpk$/i, '')}.base.fpk`) };
      const r = await encodeField(field, {
        codec, params, bound, workers, verify, metadata: metadataOf(field, basename(file)), anchors: anchors.map((a) => a.field),
        ...(base ? { base: base.field } : {}), onProgress: call?.onProgress, signal: call?.signal,
      });
      for (const a of anchors) await writeAtomically(a.path, (tmp) => writeFile(tmp, a.bytes));
      if (base) await writeAtomically(base.path, (tmp) => writeFile(tmp, base.bytes));
      await writeAtomically(out, (tmp) => writeFile(tmp, r.bytes));
      const v = r.verification;
      const plan = r.details.plan as { predictor?: string } | undefined;
      return {
        out, bytes: r.bytes.length, codec: r.codec, params: r.params, shape: field.shape, boundLabel: r.bound.label, absBound: r.bound.abs, units: field.units ?? null, lossless: r.bound.lossless,
        compressionRatio: r.compressionRatio, seconds: r.seconds,
        chose: Object.fromEntries(Object.entries({ predictor: plan?.predictor, ...r.details, plan: undefined }).filter(([, x]) => x !== undefined && (typeof x !== 'object' || x === null || Array.isArray(x) ? true : Object.keys(x).length < 20))),
        verification: v ? { maxErrorOverBound: finite(v.maxErrorOverBound), psnr: finite(v.psnr), pointsOverBound: v.pointsOverBound } : null,
        base: base ? { out: base.path, bytes: base.bytes.length, codec: base.codec } : null,
      };
    },

    'streams.decompress': async ({ file, out, rows, workers, anchors, maskOut }, call) => {
      const bytes = await readStreamFile(file);
      const info = streamInfo(file, bytes);
      const d = await decodeStream(bytes, {
        rows, workers, deps: { files: anchors, besidePath: file }, loadDataFile: variableIfPresent, onProgress: call?.onProgress, signal: call?.signal,
      });
      const v = d.field.values;
      await writeAtomically(out, (tmp) => writeFile(tmp, new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));
      if (maskOut && d.field.mask) await writeAtomically(maskOut, (tmp) => writeFile(tmp, d.field.mask!));
      return { out, maskOut: maskOut && d.field.mask ? maskOut : null, variable: d.field.name, dtype: info.dtype, shape: d.field.shape, rows: d.rows, info };
    },

    'streams.inspect': async ({ file }) => streamInfo(file, await readStreamFile(file)),
  };
}
