/**
 * h5wasm, loaded once (its WebAssembly module initialises asynchronously). Node build: reads real files.
 *
 * HDF5 reports errors by printing an "HDF5-DIAG" error stack to stderr, and h5wasm does not turn every
 * failure into an exception: a failed H5Dread (corrupt deflate chunk, bad checksum) returns garbage
 * values silently. h5wasm's Node build uses NODERAWFS, so the C library's stderr is a direct
 * fs.writeSync(2, ...): while h5guard() runs, those writes are collected (not printed) and turned into
 * a FieldpackError naming the file.
 */
import fs from 'node:fs';
import type * as H5 from 'h5wasm';
import { FieldpackError, type ErrorCode } from '../../../core/errors.ts';

export type H5Module = typeof import('h5wasm').default;
export type H5File = H5.File;
export type H5Group = H5.Group;
export type H5Dataset = H5.Dataset;

let loading: Promise<H5Module> | undefined;
let capture: string[] | undefined;
let lastCaptured: string[] = [];

/** The loaded library's low-level functions (h5wasm's `ready` resolves to them). */
let lowLevel:
  | {
      create_object_reference(fileId: bigint, path: string): Uint8Array;
      get_attribute_metadata(fileId: bigint, path: string, name: string): AttributeLayout;
      get_attribute_data(fileId: bigint, path: string, name: string, pointer: bigint): number;
      reclaim_vlen_memory(fileId: bigint, path: string, name: string, pointer: bigint): number;
      _malloc(bytes: number): number;
      _free(pointer: number): void;
      HEAPU8: Uint8Array;
    }
  | undefined;

/** What h5wasm says of an attribute's type and extent (the fields read here). */
interface AttributeLayout {
  type: number;
  size: number;
  total_size?: number;
  vlen_type?: { type: number; size: number; ref_type?: string };
}

export function loadH5wasm(): Promise<H5Module> {
  loading ??= (async () => {
    const mod = (await import('h5wasm/node')).default as H5Module;
    lowLevel = (await mod.ready) as unknown as typeof lowLevel;
    zeroedAllocations(lowLevel!);
    return mod;
  })();
  return loading;
}

/**
 * Every buffer h5wasm allocates (for a read's values among others) is zeroed first. HDF5 leaves a read's buffer as it
 * was where a dataset has no storage and no fill value to give (netCDF's no-fill mode, a variable defined and never
 * written): h5wasm's fresh buffer held what the heap last held, another variable's values, which went into exports
 * and archives. Such data now reads as 0, as netCDF4-python and h5py read it.
 */
function zeroedAllocations(lib: NonNullable<typeof lowLevel>): void {
  const malloc = lib._malloc;
  lib._malloc = (bytes: number) => {
    const at = malloc(bytes);
    // the heap as it is after the allocation (a growth replaces it)
    if (at) lib.HEAPU8.fill(0, at, at + bytes);
    return at;
  };
}

/** An object reference's bytes as an identity: objectIdentity's and dimensionListIdentities's must compare equal. */
function identityText(ref: Uint8Array): string {
  return Buffer.from(ref).toString('hex');
}

/**
 * The identity of the object at `path` (its HDF5 object reference: the same bytes by whichever links it is reached),
 * or null where the library cannot say or nothing is there. Hard links can make groups a cycle; a walk over them
 * needs this to end.
 */
export function objectIdentity(file: H5File, path: string): string | null {
  try {
    const ref = lowLevel?.create_object_reference(file.file_id, path);
    // a path that leads to no object gives address 0
    return ref && ref.some((b) => b !== 0) ? identityText(ref) : null;
  } catch {
    return null;
  }
}

/** HDF5 type classes (H5T_class_t) of references and variable-length sequences */
export const H5T_REFERENCE = 7;
export const H5T_VLEN = 9;
/** Most scales one axis lists that are read here (netCDF attaches one; more are left to HDF5) */
const MAX_LISTED_SCALES = 16;

/**
 * A dataset's DIMENSION_LIST: per axis, the identities (as objectIdentity gives them) of the scales attached to it,
 * read as the attribute's bytes (h5wasm's decoding of references drops them). Asking HDF5 for each axis's scales
 * (get_attached_scales) names each scale by a search of the whole file, so opening a file of N variables took time
 * in N^2 (500 variables of 4 dims: 1.7 s). Only for a dataset that has the attribute (an absent one makes h5wasm
 * throw from within WebAssembly, leaking its stack). Null where the list is not of that layout or HDF5 cannot read it: a failed
 * read prints its error stack to the caller's h5guard, as get_attached_scales's did, and its buffer (zeroed first)
 * is neither decoded nor reclaimed (h5wasm's own decoding of an unwritten buffer ran out of memory on a corrupt
 * heap). An axis listing more scales than MAX_LISTED_SCALES is null: the caller asks HDF5.
 */
export function dimensionListIdentities(file: H5File, path: string): (string[] | null)[] | null {
  const lib = lowLevel;
  if (!lib) return null;
  // a list HDF5 cannot describe is an answer, not an error for the caller's h5guard
  const layout = h5probe(() => lib.get_attribute_metadata(file.file_id, path, 'DIMENSION_LIST'));
  const count = layout?.total_size ?? 0;
  const ref = layout?.vlen_type;
  // per axis an hvl_t (32-bit length and pointer) to that many 8-byte object references
  if (!layout || layout.type !== H5T_VLEN || layout.size !== 8 || ref?.type !== H5T_REFERENCE || ref.ref_type !== 'object' || ref.size !== 8 || !(count >= 1 && count <= 64)) return null;
  const at = lib._malloc(8 * count);
  if (!at) return null;
  lib.HEAPU8.fill(0, at, at + 8 * count);
  let status = -1;
  try {
    status = lib.get_attribute_data(file.file_id, path, 'DIMENSION_LIST', BigInt(at));
  } catch {
    status = -1;
  }
  if (status < 0) {
    lib._free(at);
    return null;
  }
  try {
    // the heap as it is after the read (a growth replaces it)
    const heap = lib.HEAPU8;
    const view = new DataView(heap.buffer);
    return Array.from({ length: count }, (_, axis) => {
      const length = view.getUint32(at + 8 * axis, true);
      const refs = view.getUint32(at + 8 * axis + 4, true);
      if (length > MAX_LISTED_SCALES || refs + 8 * length > heap.length) return null;
      return Array.from({ length }, (_, k) => identityText(heap.subarray(refs + 8 * k, refs + 8 * k + 8)));
    });
  } finally {
    lib.reclaim_vlen_memory(file.file_id, path, 'DIMENSION_LIST', BigInt(at));
    lib._free(at);
  }
}

type WriteSync = typeof fs.writeSync;

function captureStderr<T>(sink: string[], fn: () => T): T {
  const original: WriteSync = fs.writeSync;
  const patched = function (this: unknown, fd: number, buffer: unknown, ...rest: unknown[]) {
    if (fd === 2 && ArrayBuffer.isView(buffer)) {
      const offset = typeof rest[0] === 'number' ? rest[0] : 0;
      const length = typeof rest[1] === 'number' ? rest[1] : buffer.byteLength - offset;
      const text = Buffer.from(buffer.buffer, buffer.byteOffset + offset, length).toString('utf8');
      sink.push(text);
      return length;
    }
    return (original as (...a: unknown[]) => number).call(fs, fd, buffer, ...rest);
  } as WriteSync;
  fs.writeSync = patched;
  try {
    return fn();
  } finally {
    fs.writeSync = original;
  }
}

/** The innermost message of an HDF5 error stack ("incorrect metadata checksum after all read attempts"). */
export function summarizeDiagnostics(lines: readonly string[]): string {
  const msgs = lines.filter((l) => /#\d{3}:/.test(l)).map((l) => l.replace(/^.*?\(\):\s*/, '').trim());
  if (msgs.length === 0) return lines.join(' ').slice(0, 200);
  const first = msgs[0]!;
  const last = msgs[msgs.length - 1]!;
  return first === last ? last : `${first}: ${last}`;
}

/**
 * Run synchronous h5wasm calls; any HDF5 error stack printed meanwhile (or an exception) becomes a
 * FieldpackError `${path}: ${what} (${hdf5 message})`.
 */
export function h5guard<T>(path: string, what: string, fn: () => T, code: ErrorCode = 'BAD_FILE'): T {
  const outer = capture;
  const mine: string[] = [];
  capture = mine;
  let value: T;
  try {
    value = outer ? fn() : captureStderr(mine, fn);
  } catch (e) {
    if (e instanceof FieldpackError) throw e;
    const why = mine.length > 0 ? summarizeDiagnostics(mine) : e instanceof Error ? e.message : String(e);
    throw new FieldpackError(code, `${path}: ${what} (HDF5: ${why})`, { path, hdf5: mine.slice(0, 40) });
  } finally {
    capture = outer;
    if (outer) outer.push(...mine);
    else {
      // writes arrive in pieces (fprintf by fprintf): make lines
      const lines = mine.join('').split('\n').filter((l) => l.length > 0);
      mine.length = 0;
      mine.push(...lines);
    }
    if (mine.length > 0) lastCaptured = [...mine];
  }
  if (mine.some((l) => l.startsWith('HDF5-DIAG'))) {
    throw new FieldpackError(code, `${path}: ${what} (HDF5: ${summarizeDiagnostics(mine)})`, { path, hdf5: mine.slice(0, 40) });
  }
  return value;
}

/**
 * Runs h5wasm calls whose failure is an answer (does this link lead anywhere?): null where they throw, and the error
 * stack HDF5 prints meanwhile is dropped, not left for an enclosing h5guard to fail on.
 */
export function h5probe<T>(fn: () => T): T | null {
  try {
    return captureStderr([], fn);
  } catch {
    return null;
  }
}

/** The last HDF5 error stack captured (for debugging). */
export function lastHdf5Diagnostics(): string[] {
  return [...lastCaptured];
}
