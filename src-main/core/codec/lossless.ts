/**
 * The lossless stage after entropy coding. Core stays pure, so the zstd implementation lives in
 * services/codecs/zstd-backend.ts (node:zlib); core only knows this interface and the id
 * written in the stream.
 */
import { FieldpackError } from '../errors.ts';

export interface LosslessBackend {
  /** Stored in the stream header: 0 = none, 1 = zstd. */
  readonly id: number;
  readonly name: string;
  compress(data: Uint8Array): Uint8Array;
  /** Must throw (any error) on corrupted input; `expectedSize` is the decompressed size recorded in the stream. */
  decompress(data: Uint8Array, expectedSize: number): Uint8Array;
}

export const LOSSLESS_NONE = 0;
export const LOSSLESS_ZSTD = 1;

export const identityBackend: LosslessBackend = {
  id: LOSSLESS_NONE,
  name: 'none',
  compress: (d) => d,
  decompress: (d, n) => {
    if (d.length !== n) throw new FieldpackError('BAD_STREAM', `stored block has ${d.length} bytes, expected ${n}`);
    return d;
  },
};

/** Backends known to the running process, keyed by id (services register zstd). */
const registry = new Map<number, LosslessBackend>([[LOSSLESS_NONE, identityBackend]]);

export function registerLosslessBackend(b: LosslessBackend): void {
  registry.set(b.id, b);
}

export function losslessBackendById(id: number): LosslessBackend {
  const b = registry.get(id);
  if (!b) throw new FieldpackError('BAD_STREAM', `stream uses lossless backend id ${id}, which is not available here`);
  return b;
}
