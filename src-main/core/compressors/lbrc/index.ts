/**
 * The LBRC residual coder's registration (codec.ts has the method and the chunk layout). Its dependency is its base:
 * the reconstruction of another stream of the same variable (the core codec at a looser bound, the VQ-VAE...), named
 * by content hash, so an archive stores it once and its bytes count once; without a base the residual is the field.
 * Chunks are independent (worker tasks; the same bytes for any worker count).
 */
import { z } from 'zod';
import { FieldpackError } from '../../errors.ts';
import { fieldSize } from '../../field.ts';
import { FIELDPACK_VERSION } from '../../version.ts';
import { resolveBound, validRange } from '../../codec/bound.ts';
import { chunkBytes, writeStream, type StreamHeader } from '../../codec/stream/format.ts';
import type { Codec, CodecTask, DecodedChunk, Dependency } from '../contract.ts';
import { guarded } from '../decoded.ts';
import { assembleDecoded, chunkRowsFor, chunksForRows } from '../classic/codec.ts';
import { classicCodec } from '../classic/index.ts';
import { type ChunkArgs, type ChunkResult, LBRC_CODEC_ID, decodeChunk, encodeChunk } from './codec.ts';

const BLOCK = z.tuple([z.number().int().min(1).max(4096), z.number().int().min(1).max(4096), z.number().int().min(1).max(4096)]);

export const LbrcParams = z.strictObject({
  /** block size [T, H, W] (leading dims folded into T; their paper: 60 x 120 x 120) */
  block: BLOCK.default([60, 120, 120]),
  chunkValues: z.number().int().min(1024).max(1 << 28).optional(),
});
export type LbrcParams = z.infer<typeof LbrcParams>;

const tasks: Record<string, CodecTask> = {
  encodeChunk(a, backend) {
    const r = encodeChunk(a as unknown as ChunkArgs, backend);
    const stored = new Uint8Array(r.stored);
    return { result: { ...r, stored }, transfer: [stored.buffer] };
  },
  decodeChunk(a) {
    const r = decodeChunk(a.header as StreamHeader, a.index as number, a.stored as Uint8Array, (a.base as ChunkArgs['base']) ?? null, a.block as number[]);
    return { result: r, transfer: [r.values.buffer as ArrayBuffer, ...(r.mask ? [r.mask.buffer as ArrayBuffer] : [])] };
  },
};

function bad(msg: string): never {
  throw new FieldpackError('BAD_STREAM', msg);
}

/** The header's block size and base, checked. */
function lbrcHeader(h: StreamHeader): { block: number[]; base: { hash: string; var?: string } | null } {
  const p = h.params;
  const block = BLOCK.safeParse(p.block);
  if (!block.success) bad(`corrupted header: LBRC block ${JSON.stringify(p.block)}`);
  const b = p.base as { hash?: unknown; var?: unknown } | null | undefined;
  if (b !== null && b !== undefined && (typeof b !== 'object' || typeof b.hash !== 'string' || !/^[0-9a-f]{64}$/.test(b.hash))) bad('corrupted header: LBRC base');
  return { block: block.data, base: b ? { hash: b.hash as string, ...(typeof b.var === 'string' ? { var: b.var } : {}) } : null };
}

export const lbrcCodec: Codec<LbrcParams> = {
  id: LBRC_CODEC_ID,
  label: 'Fieldpack LBRC residual',
  description: 'residual of a base (or of nothing) quantized per block (NRMSE per block, or a strict point-wise bound), 3D Lorenzo, range-coded',
  params: LbrcParams,
  presets: [{ name: 'lbrc', label: 'Fieldpack LBRC (no base)', description: 'block-adaptive residual coder on the field itself; NRMSE targets per block', params: LbrcParams.parse({}) }],
  needsDependencies: false,
  takesBase: true,
  dependencies: (h): Dependency[] => {
    const b = lbrcHeader(h).base;
    // the base is a stream of the same variable
    const v = b?.var ?? (typeof h.metadata.variable === 'string' ? h.metadata.variable : undefined);
    return b ? [{ kind: 'base', hash: b.hash, ...(v ? { var: v } : {}) }] : [];
  },
  tasks,
  async encode(input, env) {
    const { field, bound, params, metadata, deps } = input;
    const { shape } = field;
    // the residual of the base the service hands over (a stream of this field decoded), or of nothing
    const base = deps.bases.base;
    if (base && base.values.length !== fieldSize(shape)) throw new FieldpackError('INVALID_ARGUMENT', `the base [${base.shape.join(', ')}] is not on the field's grid [${shape.join(', ')}]`);
    const vr = validRange(field.values, field.mask ?? null);
    const rb = resolveBound(bound, vr.max - vr.min);
    if (rb.lossless || !(rb.abs > 0)) {
      const r = await classicCodec.encode({ ...input, params: classicCodec.params.parse({}) }, env);
      return { ...r, details: { ...r.details, choice: 'classic (lossless)', fellBack: true } };
    }
    const nrmse = bound.mode === 'nrmse';
    // resolveBound's NRMSE bound is sqrt(3) x target x range (x tightening): the target RMSE is abs / sqrt(3)
    const rmse = rb.abs / Math.sqrt(3);
    let mask = field.mask ?? null;
    let fillValue: number | null = null;
    if (mask) {
      const k = mask.indexOf(0);
      if (k < 0) mask = null;
      else fillValue = field.values[k]!;
    }
    const rows = chunkRowsFor([...shape], params.chunkValues);
    const rowSize = fieldSize(shape) / shape[0]!;
    let row0 = 0, done = 0;
    const chunks = await Promise.all(rows.map(async (r) => {
      const a = row0 * rowSize, b = (row0 + r) * rowSize;
      row0 += r;
      const args: ChunkArgs = {
        values: field.values.subarray(a, b), mask: mask ? mask.subarray(a, b) : null, base: base ? base.values.subarray(a, b) : null,
        shape: [r, ...shape.slice(1)], fillValue, block: params.block, mode: nrmse ? 'nrmse' : 'abs', bound: rb.abs, mse: rmse * rmse,
      };
      const c = await env.runTask<ChunkResult>(LBRC_CODEC_ID, 'encodeChunk', args as unknown as Record<string, unknown>);
      env.progress(++done / rows.length, `chunk ${done}/${rows.length}`);
      return c;
    }));
    const maxError = chunks.reduce((m, c) => Math.max(m, c.maxError), 0);
    // NRMSE streams promise the target, not a point-wise bound: the header carries the largest error they have
    const streamBound = nrmse ? { mode: rb.mode, value: rb.value, abs: maxError > 0 ? maxError : Number.MIN_VALUE, lossless: false } : { mode: rb.mode, value: rb.value, abs: rb.abs, lossless: false };
    const bytes = writeStream(
      {
        codec: LBRC_CODEC_ID, fieldpackVersion: FIELDPACK_VERSION, dtype: field.values instanceof Float32Array ? 'float32' : 'float64', shape: [...shape],
        bound: streamBound, validMin: vr.min, validMax: vr.max, backendId: env.backend.id, hasMask: mask !== null, fillValue,
        params: { block: params.block, base: base ? { hash: base.hash } : null, quantization: nrmse ? 'nrmse per block' : 'abs' },
        metadata, chunks: chunks.map((c, i) => ({ rows: rows[i]!, storedBytes: c.stored.length, rawBytes: c.rawBytes, crc: c.crc, ...(c.raw ? { raw: true } : {}) })),
      },
      chunks.map((c) => c.stored),
    );
    const sum = (k: keyof ChunkResult['parts']) => chunks.reduce((s, c) => s + c.parts[k], 0);
    return {
      bytes, bound: { ...rb, abs: streamBound.abs },
      details: { choice: `lbrc${base ? ' on a base' : ''}`, parts: { residual: sum('residual'), side: sum('side'), mask: sum('mask') }, maxError, ...(base ? { base: base.hash } : {}) },
    };
  },
  async decode({ header, bytes, rows, deps }, env) {
    const { block, base } = lbrcHeader(header);
    const recon = base ? deps.bases[base.hash] : undefined;
    if (base && !recon) throw new FieldpackError('NOT_FOUND', `the LBRC base (sha256 ${base.hash.slice(0, 16)}...) was not given`);
    const ids = chunksForRows(header, rows[0], rows[1]);
    const rowSize = fieldSize(header.shape) / header.shape[0]!;
    let done = 0;
    const decoded = await Promise.all(ids.map(async (i) => {
      const c = header.chunks[i]!;
      const b = recon ? recon.values.subarray(c.row0 * rowSize, (c.row0 + c.rows) * rowSize) : null;
      const r = await env.runTask<DecodedChunk>(LBRC_CODEC_ID, 'decodeChunk', { header, index: i, stored: chunkBytes(header, bytes, i), base: b, block });
      env.progress(++done / ids.length, `chunk ${done}/${ids.length}`);
      return r;
    }));
    return guarded(header, () => assembleDecoded(header, ids, decoded, rows[0], rows[1]));
  },
  summary: (h) => {
    const { block, base } = lbrcHeader(h);
    return { block: block.join('x'), base: base ? `${base.hash.slice(0, 16)}...` : 'none', quantization: String(h.params.quantization ?? '') };
  },
};
