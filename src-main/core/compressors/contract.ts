/**
 * The codec contract (after SZ3's stage concepts and numcodecs' codecId + fromConfig registry). A codec is one
 * folder under core/compressors/ plus one line in core/compressors/index.ts. It declares:
 *
 *   id            written in the stream header; never reused for another format
 *   params        a zod schema of what a caller may choose (shared with the API: the workbench and the CLI list
 *                 the presets and validate params through it; nobody keeps a copy of the choices)
 *   presets       named params the workbench and the CLI offer (`--codec NAME`)
 *   encode        field + bound + params + resolved dependencies -> stream bytes
 *   decode        stream bytes + resolved dependencies -> the field (or rows of it)
 *   dependencies  what a decoder must be given, read from the header alone: reconstructions of other variables
 *                 (anchors, by variable and content hash), models (by content hash), base streams (by hash)
 *   tasks         plain functions a worker thread may run by name (chunk encoders/decoders); the codec service
 *                 runs them in this thread or in its pool, with identical results
 *
 * Everything here is pure: the services give a CodecEnv (lossless backend, hashing, a task runner, inference).
 */
import type { z } from 'zod';
import type { Field, FieldValues } from '../field.ts';
import type { BoundMode, BoundSpec, ResolvedBound } from '../codec/bound.ts';
import type { LosslessBackend } from '../codec/lossless.ts';
import type { StreamHeader, StreamMetadata } from '../codec/stream/format.ts';
import type { NnSpec } from '../nn/spec.ts';

/** What a decoder needs besides the stream, named so that a missing one can be reported. */
export type Dependency =
  /** the decoded reconstruction of another variable on the same grid (hash: see reconstructionHash in services) */
  | { kind: 'anchor'; var: string; hash: string }
  /** a model stored by content hash (sha256 of its file) */
  | { kind: 'model'; hash: string; label?: string }
  /** another stream whose decoded field this one refines (residual coders) */
  | { kind: 'base'; hash: string; var?: string };

/** A reconstruction handed to a decoder: values and mask on the stream's grid. */
export interface Reconstruction {
  values: FieldValues;
  mask?: Uint8Array;
  shape: number[];
  /** its content hash, as dependencies name it (computed by the codec service) */
  hash: string;
}

/** Dependencies found and checked (hashes match) by the codec service. */
export interface ResolvedDependencies {
  anchors: Record<string, Reconstruction>;
  models: Record<string, Uint8Array>;
  bases: Record<string, Reconstruction>;
}

export const NO_DEPENDENCIES: ResolvedDependencies = { anchors: {}, models: {}, bases: {} };

/** What the services give a codec: environment-bound capabilities behind pure interfaces. */
export interface CodecEnv {
  backend: LosslessBackend;
  /** sha256 hex */
  hash(bytes: Uint8Array): string;
  /**
   * Runs tasks[name] of this codec, in this thread or a worker; the result never depends on where. `alone`: run in
   * this thread: the only task of its batch (already warm from planning; a worker would add only its cold start), or
   * the one this thread takes while the workers run the others (sent before it). `ahead`: may be sent to a worker
   * still busy with another task, to start the moment that ends (a thread taking tasks of its own answers late).
   */
  runTask<T>(codecId: string, task: string, args: Record<string, unknown>, opts?: { alone?: boolean; ahead?: boolean }): Promise<T>;
  /**
   * Whether a worker thread is running and free now ('warm': it has run a task before, its code compiled), so a task
   * sent to it runs beside this thread's own work (a codec may start a chunk's encoding with a provisional plan while
   * it finishes planning); null where there is none. Absent: never.
   */
  idleWorker?(): 'warm' | 'cold' | null;
  /**
   * Hands back a buffer a task's result came in (runTask from a worker), once this thread has copied what it needs
   * out of it: the workers decode their next chunks into such buffers (spareBuffer) instead of fresh memory, whose
   * first touch costs as much as the decoding on some machines. Absent: dropped.
   */
  recycle?(buffer: ArrayBuffer): void;
  /** Reference-path inference of one network on many inputs (threads allowed: identical results). */
  runReference?(spec: NnSpec, weights: Float32Array, inputs: Float32Array[], spatial: number[]): Promise<Float32Array[]>;
  progress(fraction: number, message?: string): void;
  /**
   * Present where the machine has a core more than the workers use: this thread may then take a batch's tasks beside
   * them, each after awaiting this (which lets its event loop run, so the workers' finished tasks are answered and
   * their next ones sent before this thread is busy again). Absent: this thread only waits on the workers.
   */
  spareThread?(): Promise<void>;
  /** how many tasks run at once (bounded-memory encoding keeps this many slabs in flight) */
  parallelism?: number;
  /** an AbortSignal where the environment has one */
  signal?: { readonly aborted: boolean };
  /** learned decoders: which path runs the network (absent: 'fast') */
  decodePath?: DecodePath;
}

/**
 * How a learned decoder runs its network: 'reference', the decoding contract's own path, or 'fast', one that gives
 * the same bits faster (NGLR: wavefronts through the network together), checked against a hash the stream stores
 * and decoded again on the reference path where it differs.
 */
export type DecodePath = 'reference' | 'fast';

export interface EncodeInput<P> {
  /**
   * dims, coordinates, attributes and source dtype when the caller has them (a codec may read the grid, e.g. a
   * global longitude, or a packed variable's scale_factor)
   */
  field: Pick<Field, 'values' | 'shape' | 'mask'> & Partial<Pick<Field, 'dims' | 'coordinates' | 'attributes' | 'sourceDtype'>>;
  bound: BoundSpec;
  params: P;
  metadata: StreamMetadata;
  deps: ResolvedDependencies;
}

export interface EncodeResult {
  bytes: Uint8Array;
  bound: ResolvedBound;
  /** what the encoder chose (predictor, mode, sizes tried...) for runs and the CLI; `choice`: the choice in a few words */
  details: Record<string, unknown>;
}

export interface DecodeInput {
  header: StreamHeader;
  bytes: Uint8Array;
  /** rows [start, end) along the first dimension (codecs that cannot decode a part decode all and cut) */
  rows: [number, number];
  deps: ResolvedDependencies;
}

export interface DecodedChunk {
  values: FieldValues;
  mask: Uint8Array | null;
}

export interface DecodedField {
  header: StreamHeader;
  field: Field;
  /** rows [start, end) along dim 0 actually decoded */
  rows: [number, number];
}

/** A field too large to hold, read in slabs of rows along dim 0. */
export interface RowSource {
  shape: number[];
  dtype: 'float32' | 'float64';
  /** attributes and source dtype, as a Field gives them (a codec may read a packed variable's scale_factor) */
  attributes?: Record<string, unknown>;
  sourceDtype?: Field['sourceDtype'];
  /** rows [r0, r1) along dim 0 */
  read(r0: number, r1: number): Promise<Pick<Field, 'values' | 'mask'>>;
}

export interface RowsEncodeResult {
  header: Uint8Array;
  bound: ResolvedBound;
  details: Record<string, unknown>;
}

/**
 * A worker-runnable function: structured-clonable args in, result out; `transfer` lists buffers to move back. The
 * args' buffers that the result does not hold go back to the pool for later tasks' args (services/codecs/pool.ts):
 * a task keeps no view of them past its return (a cache keyed by an argument sees a new object each task anyway).
 */
export type CodecTask = (args: Record<string, unknown>, backend: LosslessBackend) => { result: unknown; transfer: ArrayBuffer[] };

export interface CodecPreset<P> {
  /** unique across codecs (the CLI's --codec and the workbench's codec choice) */
  name: string;
  label: string;
  description: string;
  params: P;
}

export interface Codec<P extends Record<string, unknown> = Record<string, unknown>> {
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly params: z.ZodType<P>;
  readonly presets: readonly CodecPreset<P>[];
  /** needs dependencies to encode (anchors, a base, a model): not offered for a lone field */
  readonly needsDependencies: boolean;
  /** codes the residual of a base when the caller hands one over (deps.bases.base: another stream of the field, decoded) */
  readonly takesBase?: boolean;
  /** the bound modes it codes (GAE: NRMSE targets only); absent: every mode */
  readonly boundModes?: readonly BoundMode[];
  dependencies(header: StreamHeader): Dependency[];
  encode(input: EncodeInput<P>, env: CodecEnv): Promise<EncodeResult>;
  /**
   * Bounded-memory encoding (codecs whose chunks are slabs of rows): the field is read slab by slab, each chunk's
   * stored bytes handed to `sink` in order, and the header returned (it goes before them). The bytes equal
   * encode's for the same field. Decoding needs nothing new: decode reads the chunks the rows asked for.
   */
  encodeRows?(source: RowSource, input: Omit<EncodeInput<P>, 'field' | 'deps'>, sink: (stored: Uint8Array) => Promise<void>, env: CodecEnv): Promise<RowsEncodeResult>;
  decode(input: DecodeInput, env: CodecEnv): Promise<DecodedField>;
  readonly tasks?: Readonly<Record<string, CodecTask>>;
  /**
   * A params key naming a model file of this codec's kind: the codec service turns 'default' (the model shipped as
   * resources/models/<defaultFile>), a file path or a content-hash prefix into the model's sha256 (written back into
   * that key) and hands the file's bytes over in deps.models, keyed by that hash.
   */
  readonly modelParam?: { key: string; extension: string; defaultFile: string };
  /** facts for `inspect`, read from the header (and the stream when needed), plain JSON */
  summary?(header: StreamHeader, bytes: Uint8Array): Record<string, unknown>;
}

/** A dependency in words, for errors and inspect. */
export function describeDependency(d: Dependency): string {
  if (d.kind === 'anchor') return `anchor ${d.var} (reconstruction sha256 ${d.hash.slice(0, 16)}...)`;
  if (d.kind === 'model') return `model ${d.label ? `${d.label} ` : ''}(sha256 ${d.hash.slice(0, 16)}...)`;
  return `base stream${d.var ? ` of ${d.var}` : ''} (sha256 ${d.hash.slice(0, 16)}...)`;
}
