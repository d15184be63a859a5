/** A tiny PNG writer (8-bit RGB, one zlib stream) for the report's maps: no image library needed, no network. */
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** rgb: width * height * 3 bytes, row-major from the top. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

type Rgb = [number, number, number];
/** Diverging blue - white - red (for signed errors) and a sequential dark-to-yellow ramp (for SSIM), as colour stops. */
export const DIVERGING: Rgb[] = [[33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247], [253, 219, 199], [239, 138, 98], [178, 24, 43]];
export const SEQUENTIAL: Rgb[] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

export function colourAt(stops: Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!, b = stops[i + 1]!;
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

export const toHex = (c: Rgb) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** A map (null = no data, drawn grey) as a PNG data URL, values scaled from [lo, hi] onto the stops; scale: pixels per cell. */
export function mapPng(values: (number | null)[], width: number, height: number, lo: number, hi: number, stops: Rgb[], flipY = false, scale = 2): string {
  const W = width * scale, H = height * scale;
  const rgb = new Uint8Array(W * H * 3);
  for (let Y = 0; Y < H; Y++) {
    const y = flipY ? height - 1 - Math.floor(Y / scale) : Math.floor(Y / scale);
    for (let X = 0; X < W; X++) {
      const v = values[y * width + Math.floor(X / scale)];
      const c: Rgb = v === null || v === undefined ? [200, 200, 200] : colourAt(stops, hi > lo ? (v - lo) / (hi - lo) : 0.5);
      rgb.set(c, (Y * W + X) * 3);
    }
  }
  return `data:image/png;base64,${encodePng(W, H, rgb).toString('base64')}`;
}
