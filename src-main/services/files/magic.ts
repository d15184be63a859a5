/**
 * What a file is, from its first bytes: the containers Fieldpack reads besides its own streams. Here, not in the
 * readers, so that the stream services can name a data file given where a stream belongs without importing them.
 */

/** Whether bytes start as a NetCDF classic-model file ("CDF", then the version byte). */
export function isNetcdf3(head: Uint8Array): boolean {
  return head[0] === 0x43 && head[1] === 0x44 && head[2] === 0x46;
}

export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Offset of the HDF5 signature in `head` (0, 512, 1024, ... as the spec allows), or -1. */
export function findHdf5Signature(head: Uint8Array): number {
  for (let off = 0; off + 8 <= head.length; off = off === 0 ? 512 : off * 2) {
    if (HDF5_SIGNATURE.every((b, i) => head[off + i] === b)) return off;
  }
  return -1;
}
