/** The zstd lossless backend (node:zlib, Node >= 22.15), registered with core's backend registry on import. */
import * as zlib from 'node:zlib';
import { type LosslessBackend, LOSSLESS_ZSTD, registerLosslessBackend } from '../../core/codec/lossless.ts';
import { FieldpackError } from '../../core/errors.ts';

type ZstdZlib = typeof zlib & {
  zstdCompressSync(b: Uint8Array, o?: object): Buffer;
  zstdDecompressSync(b: Uint8Array, o?: object): Buffer;
  constants: typeof zlib.constants & { ZSTD_c_compressionLevel: number };
};
const z = zlib as ZstdZlib;

if (typeof z.zstdCompressSync !== 'function') {
  throw new FieldpackError('UNSUPPORTED', `zstd needs Node >= 22.15 (this is ${process.version})`);
}

export const ZSTD_LEVEL = 3;

export const zstdBackend: LosslessBackend = {
  id: LOSSLESS_ZSTD,
  name: 'zstd',
  compress(data) {
    const b = z.zstdCompressSync(data, { params: { [z.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
  decompress(data, expectedSize) {
    const b = z.zstdDecompressSync(data, { maxOutputLength: Math.max(1, expectedSize) });
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
};

registerLosslessBackend(zstdBackend);
