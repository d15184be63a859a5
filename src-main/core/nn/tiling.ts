/**
 * Tiling with a halo: a large field is cut into tiles whose cores cover it exactly once; each tile is
 * computed on its core plus `halo` points on every side (clipped at the field's edges), and only the
 * core is kept. With halo >= the network's receptive radius a core point sees exactly the inputs it
 * would see in the whole field, so tiles leave no seams (and the reference path gives identical bits).
 */
export interface Tile {
  /** Core: the part of the output this tile writes. */
  coreStart: number[];
  coreSize: number[];
  /** Region read from the input (core + halo, clipped). */
  inStart: number[];
  inSize: number[];
}

export function planTiles(spatial: readonly number[], tile: number | readonly number[], halo: number): Tile[] {
  const sizes = spatial.map((n, i) => Math.max(1, Math.min(n, typeof tile === 'number' ? tile : tile[i] ?? n)));
  const starts = spatial.map((n, i) => {
    const s: number[] = [];
    for (let a = 0; a < n; a += sizes[i]!) s.push(a);
    return s;
  });
  const tiles: Tile[] = [];
  const rec = (axis: number, acc: number[]) => {
    if (axis === spatial.length) {
      const coreSize = acc.map((a, i) => Math.min(sizes[i]!, spatial[i]! - a));
      const inStart = acc.map((a) => Math.max(0, a - halo));
      const inEnd = acc.map((a, i) => Math.min(spatial[i]!, a + coreSize[i]! + halo));
      tiles.push({ coreStart: [...acc], coreSize, inStart, inSize: inEnd.map((e, i) => e - inStart[i]!) });
      return;
    }
    for (const a of starts[axis]!) rec(axis + 1, [...acc, a]);
  };
  rec(0, []);
  return tiles;
}

function rows(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length - 1; i++) n *= shape[i]!;
  return n;
}

/** Row-major offset of the start of row `r` (all but the last index) of a box `start`+`size` inside `shape`. */
function rowOffset(r: number, start: readonly number[], size: readonly number[], shape: readonly number[]): number {
  let off = 0;
  let rem = r;
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = shape.length - 2; i >= 0; i--) {
    idx[i] = rem % size[i]!;
    rem = Math.floor(rem / size[i]!);
  }
  for (let i = 0; i < shape.length - 1; i++) off = (off + idx[i]! + start[i]!) * shape[i + 1]!;
  return off + start[shape.length - 1]!;
}

/** Copies box (start, size) of every channel of src [C, ...shape] into a new [C, ...size] array. */
export function extractBox(src: Float32Array, channels: number, shape: readonly number[], start: readonly number[], size: readonly number[]): Float32Array {
  const plane = shape.reduce((a, b) => a * b, 1);
  const boxPlane = size.reduce((a, b) => a * b, 1);
  const w = size[size.length - 1]!;
  const out = new Float32Array(channels * boxPlane);
  const nr = rows(size);
  for (let c = 0; c < channels; c++) {
    for (let r = 0; r < nr; r++) {
      const s = c * plane + rowOffset(r, start, size, shape);
      out.set(src.subarray(s, s + w), c * boxPlane + r * w);
    }
  }
  return out;
}

/**
 * Writes the core of a computed tile (tile data [C, ...tile.inSize]) into dst [C, ...shape].
 */
export function writeCore(dst: Float32Array, channels: number, shape: readonly number[], tile: Tile, data: Float32Array): void {
  const plane = shape.reduce((a, b) => a * b, 1);
  const tPlane = tile.inSize.reduce((a, b) => a * b, 1);
  const rel = tile.coreStart.map((a, i) => a - tile.inStart[i]!);
  const w = tile.coreSize[tile.coreSize.length - 1]!;
  const nr = rows(tile.coreSize);
  for (let c = 0; c < channels; c++) {
    for (let r = 0; r < nr; r++) {
      const s = c * tPlane + rowOffset(r, rel, tile.coreSize, tile.inSize);
      const d = c * plane + rowOffset(r, tile.coreStart, tile.coreSize, shape);
      dst.set(data.subarray(s, s + w), d);
    }
  }
}
