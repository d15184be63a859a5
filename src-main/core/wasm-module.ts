/** What the WebAssembly kernel modules share: instantiation on first use and growing a module's memory. Pure. */

/** A 32-bit module's memory: 65536 pages of 64 KiB. */
const MAX_MEMORY_BYTES = 65536 * 65536;

/**
 * The module's exports, compiled and instantiated on the first call and kept; null where this engine cannot (no
 * WebAssembly, or no SIMD): the callers then run their reference loops.
 */
export function lazyInstance<T extends { memory: WebAssembly.Memory; heapBase(): number }>(bytes: Uint8Array<ArrayBuffer>): () => T | null {
  let exports: T | null | undefined;
  return () => {
    if (exports === undefined) {
      try {
        exports = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as T;
      } catch {
        exports = null;
      }
    }
    return exports;
  };
}

/** Grows the memory to hold `end` bytes; false where it cannot (past 4 GiB, or the engine refuses to grow it). */
export function reserveMemory(memory: WebAssembly.Memory, end: number): boolean {
  if (end > MAX_MEMORY_BYTES) return false;
  const need = end - memory.buffer.byteLength;
  if (need <= 0) return true;
  try {
    return memory.grow(Math.ceil(need / 65536)) >= 0;
  } catch {
    return false;
  }
}

/**
 * Byte offsets in a module's memory handed out one after another from `start` (its heapBase()), each 16-byte aligned;
 * `end()` is the first byte past them (for reserveMemory).
 */
export function bumpLayout(start: number): { take(bytes: number): number; end(): number } {
  let at = start;
  return {
    take(bytes) {
      const p = at;
      at += Math.ceil(bytes / 16) * 16;
      return p;
    },
    end: () => at,
  };
}
