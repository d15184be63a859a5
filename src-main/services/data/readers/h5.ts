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
let lowLevel: { create_object_reference(fileId: bigint, path: string): Uint8Array } | undefined;

export function loadH5wasm(): Promise<H5Module> {
  loading ??= (async () => {
    const mod = (await import('h5wasm/node')).default as H5Module;
    lowLevel = (await mod.ready) as unknown as typeof lowLevel;
    return mod;
  })();
  return loading;
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
    return ref && ref.some((b) => b !== 0) ? Buffer.from(ref).toString('hex') : null;
  } catch {
    return null;
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
