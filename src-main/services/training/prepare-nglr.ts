/**
 * Training data for the NGLR trainer (resources/trainer/fieldpack_trainer/nglr_train.py): every field's quantized
 * residuals exactly as the nglr codec's chunks hold them (residualChunkInputs + trainingChunk: the same chunks, steps
 * and exact points), at each bound asked for, with the base's values where there is one. meta.json version 1, kind
 * "nglr"; q as int32, the coded-point mask as uint8, the base as float32, the chunk's fitted linear term as float64
 * (the network learns to correct Lorenzo plus that term, the prediction the codec uses it with).
 */
import { join } from 'node:path';
import { type BoundSpec, resolveBound, validRange } from '../../core/codec/bound.ts';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import { residualChunkInputs } from '../../core/compressors/residual.ts';
import { trainingChunk } from '../../core/compressors/nglr/codec.ts';
import { writeFileAtomic } from '../files/atomic.ts';
import { makeFolder } from '../files/folders.ts';

export interface NglrDataMeta {
  version: 1;
  kind: 'nglr';
  /** linear: the chunk's fitted linear term per point (float64; the codec's predictor=linear), absent when none */
  chunks: { name: string; shape: [number, number, number]; q: string; code: string; base: string | null; linear?: string }[];
  source?: Record<string, unknown>;
}

const safeName = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, '_');
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Writes data/ under runDir; `bases[i]` is field i's base reconstruction (or null). */
export async function prepareNglrData(
  runDir: string, fields: Field[], bounds: BoundSpec[], bases: (Field | null)[] = [], source?: Record<string, unknown>,
): Promise<{ dataDir: string; meta: NglrDataMeta; points: number }> {
  if (!fields.length) throw new FieldpackError('INVALID_ARGUMENT', 'no fields to train on');
  if (!bounds.length) throw new FieldpackError('INVALID_ARGUMENT', 'no bound to train at (e.g. nrmse:1e-5)');
  const dataDir = join(runDir, 'data');
  makeFolder(dataDir);
  const meta: NglrDataMeta = { version: 1, kind: 'nglr', chunks: [], ...(source ? { source } : {}) };
  let points = 0;
  for (const [fi, f] of fields.entries()) {
    const base = bases[fi] ?? null;
    if (base && base.values.length !== f.values.length) throw new FieldpackError('INVALID_ARGUMENT', `the base of ${f.name} is not on its grid`);
    const vr = validRange(f.values, f.mask ?? null);
    // (validRange gives 0 .. 0 where nothing is valid: the count tells)
    if (vr.count === 0) throw new FieldpackError('INVALID_ARGUMENT', `${f.name} has no valid point`);
    for (const bound of bounds) {
      const rb = resolveBound(bound, vr.max - vr.min);
      if (vr.max === vr.min && bound.mode !== 'abs') throw new FieldpackError('INVALID_ARGUMENT', `${f.name} is constant (${vr.min} at every valid point): a ${bound.mode} bound is 0 there, and nothing is left for NGLR to learn`);
      if (rb.lossless || !(rb.abs > 0)) throw new FieldpackError('INVALID_ARGUMENT', `${f.name}: the bound ${bound.mode}:${bound.value} is lossless here; NGLR trains on lossy bounds`);
      const { inputs } = residualChunkInputs(f, base?.values ?? null, rb.abs, bound.mode === 'nrmse');
      for (const [ci, input] of inputs.entries()) {
        const c = trainingChunk(input);
        const name = `${fi}-${safeName(f.name)}-${bound.mode}${bound.value}-${ci}`;
        await writeFileAtomic(join(dataDir, `${name}.q.i32`), bytesOf(c.q));
        await writeFileAtomic(join(dataDir, `${name}.code.u8`), c.code);
        if (input.base) await writeFileAtomic(join(dataDir, `${name}.base.f32`), bytesOf(Float32Array.from(input.base)));
        if (c.linear) await writeFileAtomic(join(dataDir, `${name}.linear.f64`), bytesOf(c.linear));
        meta.chunks.push({
          name, shape: c.volume, q: `${name}.q.i32`, code: `${name}.code.u8`, base: input.base ? `${name}.base.f32` : null, ...(c.linear ? { linear: `${name}.linear.f64` } : {}),
        });
        for (const v of c.code) points += v;
      }
    }
  }
  await writeFileAtomic(join(dataDir, 'meta.json'), JSON.stringify(meta, null, 1));
  return { dataDir, meta, points };
}
