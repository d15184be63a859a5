/**
 * Per-thread working memory reused from call to call (codec code runs in one thread at a time per worker).
 */
import type { Values } from './predictors/types.ts';

/** Largest scratch array kept between calls: chunk sized (DEFAULT_CHUNK_VALUES float64 values, twice over). */
const MAX_SCRATCH_BYTES = 32 << 20;
/**
 * Working memory kept between calls, one buffer per use (a thread's predictor reconstructions, the chunk's grid
 * indices, its quantization codes, the rANS encoder's symbols and bytes), since fresh large arrays (zeroed, then
 * faulted in page by page: ~4 ms per MB on a VM that hands freed pages back to its host) cost more than a pass's
 * arithmetic. At most MAX_SCRATCH_BYTES each, so a thread keeps under ~70 MB.
 */
export type ScratchSlot = 'predictor' | 'gridIndices' | 'codes' | 'ransSymbols' | 'ransSigns' | 'ransBytes' | 'reversedValues' | 'reversedSkip';
const scratch: Record<ScratchSlot, ArrayBuffer | null> = { predictor: null, gridIndices: null, codes: null, ransSymbols: null, ransSigns: null, ransBytes: null, reversedValues: null, reversedSkip: null };

/** `bytes` of the slot's buffer (not cleared; valid until the slot's next use), or null past MAX_SCRATCH_BYTES. */
function scratchBuffer(slot: ScratchSlot, bytes: number): ArrayBuffer | null {
  if (bytes > MAX_SCRATCH_BYTES) return null;
  const b = scratch[slot];
  if (b === null || b.byteLength < bytes) scratch[slot] = new ArrayBuffer(Math.max(bytes, Math.min(MAX_SCRATCH_BYTES, 2 * (b?.byteLength ?? 0))));
  return scratch[slot];
}

/**
 * A predictor's working array of n float32 or float64 values (reconstructions), not cleared: the same memory for
 * every call up to chunk size, shared by the predictors (one runs at a time, none calls another).
 */
export function scratchArray(n: number, f32: false): Float64Array;
export function scratchArray(n: number, f32: boolean): Values;
export function scratchArray(n: number, f32: boolean): Values {
  return f32 ? scratchTyped('predictor', Float32Array, n) : scratchTyped('predictor', Float64Array, n);
}

/** Buffers handed to this thread for reuse (a worker's earlier results, sent back with its next task). */
const spare: ArrayBuffer[] = [];

/**
 * Buffers another thread has finished with, for spareBuffer while this thread runs one task: `buffers` replace any
 * still unused (a worker keeps none between tasks, so an idle one holds no memory for them).
 */
export function offerSpareBuffers(buffers: readonly ArrayBuffer[]): void {
  spare.length = 0;
  spare.push(...buffers);
}

/**
 * A kept buffer of `bytes` to `most` bytes (removed from the kept ones: the caller owns it), its first `bytes`
 * zero-filled, or null. Its pages are already touched: a fresh buffer's first touch costs ~3-4 ms a MB on VMs that hand
 * freed pages back to their host.
 */
export function spareBuffer(bytes: number, most = bytes): ArrayBuffer | null {
  const i = spare.findIndex((b) => b.byteLength >= bytes && b.byteLength <= most);
  if (i < 0) return null;
  const b = spare.splice(i, 1)[0]!;
  new Uint8Array(b, 0, bytes).fill(0);
  return b;
}

/** A typed array type scratch memory can be viewed as. */
interface TypedArrayOf<T> {
  new (n: number): T;
  new (buffer: ArrayBuffer, offset: number, n: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** n elements of a slot's memory as `type` (e.g. Float64Array), not cleared, valid until the slot's next use. */
export function scratchTyped<T>(slot: ScratchSlot, type: TypedArrayOf<T>, n: number): T {
  const b = scratchBuffer(slot, type.BYTES_PER_ELEMENT * n);
  return b === null ? new type(n) : new type(b, 0, n);
}
