/**
 * The core codec's convenience layer over the codec service (services/codecs): compressField takes classic
 * options (predictor, entropy) and returns the plan it chose; decompressStream and inspectStream decode and read
 * any registered codec's stream (dependencies resolved by the codec service).
 *
 * workers: 0 = in this thread; N >= 1 = a warm pool of N worker threads. The output bytes never depend on N.
 * Long calls take onProgress(fraction, message) and an AbortSignal, so a job handler can pass its JobContext.
 */
import type { Field } from '../../core/field.ts';
import type { ClassicOptions, ClassicPlan } from '../../core/compressors/classic/codec.ts';
import type { StreamHeader } from '../../core/codec/stream/format.ts';
import type { ErrorStats } from '../../core/metrics/index.ts';
import { type DecodeOptions, type DecodedField, type RunControl, decodeStream, encodeField, inspectStream as inspect, metadataOf } from '../codecs/index.ts';

export { closePools } from '../codecs/index.ts';
export { metadataOf };
export type { ClassicPlan, DecodedField, RunControl, StreamHeader };

export interface CompressOptions extends ClassicOptions, RunControl {
  /** Decode the stream again and check every valid point against the bound before returning (default true). */
  verify?: boolean;
}

export interface CompressResult {
  bytes: Uint8Array;
  plan: ClassicPlan;
  /** e.g. "rel 0.001 -> abs 0.0412" */
  boundLabel: string;
  absBound: number;
  lossless: boolean;
  compressionRatio: number;
  /** when verify ran */
  verification?: ErrorStats;
  seconds: number;
}

/** The core codec on a field (the metadata defaults to the field's own when it has a name). */
export async function compressField(field: Field | Pick<Field, 'values' | 'shape' | 'mask'>, opts: CompressOptions): Promise<CompressResult> {
  const r = await encodeField(field, {
    codec: opts.predictor ?? 'auto',
    params: { ...(opts.entropy ? { entropy: opts.entropy } : {}), ...(opts.chunkValues ? { chunkValues: opts.chunkValues } : {}), ...(opts.effort ? { effort: opts.effort } : {}) },
    bound: opts.bound,
    metadata: opts.metadata ?? ('name' in field ? metadataOf(field as Field) : {}),
    workers: opts.workers, onProgress: opts.onProgress, signal: opts.signal, verify: opts.verify,
  });
  const plan = r.details.plan as ClassicPlan;
  return {
    bytes: r.bytes, plan, boundLabel: r.bound.label, absBound: r.bound.abs, lossless: r.bound.lossless,
    compressionRatio: r.compressionRatio, seconds: r.seconds, ...(r.verification ? { verification: r.verification } : {}),
  };
}

/** Any registered codec's stream back to its field (or rows of it). */
export function decompressStream(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodedField> {
  return decodeStream(bytes, opts);
}

export function inspectStream(bytes: Uint8Array): StreamHeader {
  return inspect(bytes).header;
}
