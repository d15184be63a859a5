/**
 * Colour maps for field images: viridis for values, a diverging blue-white-red for errors.
 * 9 anchor colours each, linearly interpolated (close to the matplotlib maps of the same names).
 */
type RGB = [number, number, number];

const VIRIDIS: RGB[] = [
  [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [253, 231, 37],
];
const DIVERGING: RGB[] = [
  [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [247, 247, 247],
  [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
];

export type ColormapName = 'viridis' | 'diverging';
export const MASKED_RGB: RGB = [200, 200, 200];

export function colormapLookup(name: ColormapName, steps = 256): Uint8Array {
  const anchors = name === 'viridis' ? VIRIDIS : DIVERGING;
  const lut = new Uint8Array(steps * 3);
  for (let i = 0; i < steps; i++) {
    const t = (i / (steps - 1)) * (anchors.length - 1);
    const k = Math.min(anchors.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(anchors[k]![c]! * (1 - f) + anchors[k + 1]![c]! * f);
  }
  return lut;
}

export function colormapCss(name: ColormapName): string {
  const anchors = name === 'viridis' ? VIRIDIS : DIVERGING;
  return `linear-gradient(to right, ${anchors.map((c, i) => `rgb(${c.join(',')}) ${(i / (anchors.length - 1)) * 100}%`).join(', ')})`;
}
