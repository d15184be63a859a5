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
export type ScratchSlot = 'predictor' | 'gridIndices' | 'codes' | 'ransSymbols' | 'ransSigns' | 'ransBytes';
const scratch: Record<ScratchSlot, ArrayBuffer | null> = { predictor: null, gridIndices: null, codes: null, ransSymbols: null, ransSigns: null, ransBytes: null };

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
  const b = scratchBuffer('predictor', n * (f32 ? 4 : 8));
  if (b === null) return f32 ? new Float32Array(n) : new Float64Array(n);
  return f32 ? new Float32Array(b, 0, n) : new Float64Array(b, 0, n);
}

/** n float64 values of a slot's memory, not cleared, valid until the slot's next use. */
export function scratchFloat64(slot: ScratchSlot, n: number): Float64Array {
  const b = scratchBuffer(slot, 8 * n);
  return b === null ? new Float64Array(n) : new Float64Array(b, 0, n);
}

/** n uint16 values of a slot's memory, not cleared, valid until the slot's next use. */
export function scratchUint16(slot: ScratchSlot, n: number): Uint16Array {
  const b = scratchBuffer(slot, 2 * n);
  return b === null ? new Uint16Array(n) : new Uint16Array(b, 0, n);
}

/** n bytes of a slot's memory, not cleared, valid until the slot's next use. */
export function scratchUint8(slot: ScratchSlot, n: number): Uint8Array {
  const b = scratchBuffer(slot, n);
  return b === null ? new Uint8Array(n) : new Uint8Array(b, 0, n);
}

/** n uint32 values of a slot's memory, not cleared, valid until the slot's next use. */
export function scratchUint32(slot: ScratchSlot, n: number): Uint32Array {
  const b = scratchBuffer(slot, 4 * n);
  return b === null ? new Uint32Array(n) : new Uint32Array(b, 0, n);
}
