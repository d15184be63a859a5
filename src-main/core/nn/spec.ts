/**
 * The layer description of a predictor network ("fieldpack-nn" v1), as the trainer writes it (nn.json)
 * and as streams embed it. Pure: no Node imports.
 *
 * Weights are one Float32Array; each layer names offsets (in floats) into it. Conv weights are laid out
 * as PyTorch's [outChannels, inChannels, ...kernel] in C order.
 */
import { FieldpackError } from '../errors.ts';

export type NnLayer =
  | { op: 'affine'; channels: number; scale: number; shift: number }
  | { op: 'conv'; inChannels: number; outChannels: number; kernel: number[]; weight: number; bias: number | null }
  | { op: 'relu' }
  | { op: 'leaky_relu'; negativeSlope: number }
  | { op: 'tanh' };

export interface NnSpec {
  format: 'fieldpack-nn';
  version: 1;
  ndim: 2 | 3;
  dtype: 'float32';
  layout: string;
  inChannels: number;
  outChannels: number;
  /** Sum of the convolutions' kernel radii: an output point depends on inputs within this distance. */
  receptiveRadius: number;
  weightCount: number;
  layers: NnLayer[];
}

function bad(msg: string): never {
  throw new FieldpackError('BAD_FILE', `invalid network description: ${msg}`);
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

/** Validates a parsed nn.json (shapes, offsets, channel flow) so the reference never reads out of range. */
export function parseNnSpec(json: unknown): NnSpec {
  if (!json || typeof json !== 'object') bad('not an object');
  const s = json as Record<string, unknown>;
  if (s.format !== 'fieldpack-nn') bad(`format ${String(s.format)}`);
  if (s.version !== 1) bad(`version ${String(s.version)} is not supported (this build reads 1)`);
  if (s.ndim !== 2 && s.ndim !== 3) bad('ndim must be 2 or 3');
  if (!isInt(s.inChannels, 1) || !isInt(s.outChannels, 1) || !isInt(s.weightCount)) bad('channel counts');
  if (!Array.isArray(s.layers)) bad('layers');
  const ndim = s.ndim;
  const wc = s.weightCount;
  const inRange = (off: unknown, n: number, what: string) => {
    if (!isInt(off) || off + n > wc) bad(`${what} offset out of range`);
  };
  let c = s.inChannels;
  let radius = 0;
  const layers: NnLayer[] = [];
  for (const [i, l] of (s.layers as Record<string, unknown>[]).entries()) {
    switch (l?.op) {
      case 'affine':
        if (l.channels !== c) bad(`layer ${i}: affine over ${String(l.channels)} channels, input has ${c}`);
        inRange(l.scale, c, `layer ${i} scale`);
        inRange(l.shift, c, `layer ${i} shift`);
        layers.push({ op: 'affine', channels: c, scale: l.scale as number, shift: l.shift as number });
        break;
      case 'conv': {
        const k = l.kernel;
        if (!Array.isArray(k) || k.length !== ndim || !k.every((v) => isInt(v, 1) && v % 2 === 1)) bad(`layer ${i}: kernel`);
        if (l.inChannels !== c || !isInt(l.outChannels, 1)) bad(`layer ${i}: conv channels`);
        const kn = (k as number[]).reduce((a, b) => a * b, 1);
        inRange(l.weight, (l.outChannels as number) * c * kn, `layer ${i} weight`);
        if (l.bias !== null && l.bias !== undefined) inRange(l.bias, l.outChannels as number, `layer ${i} bias`);
        radius += ((k[0] as number) - 1) / 2;
        layers.push({ op: 'conv', inChannels: c, outChannels: l.outChannels as number, kernel: [...(k as number[])], weight: l.weight as number, bias: (l.bias as number | null | undefined) ?? null });
        c = l.outChannels as number;
        break;
      }
      case 'relu':
      case 'tanh':
        layers.push({ op: l.op });
        break;
      case 'leaky_relu':
        if (typeof l.negativeSlope !== 'number' || !Number.isFinite(l.negativeSlope)) bad(`layer ${i}: negativeSlope`);
        layers.push({ op: 'leaky_relu', negativeSlope: Math.fround(l.negativeSlope) });
        break;
      default:
        bad(`layer ${i}: unknown op ${String(l?.op)}`);
    }
  }
  if (c !== s.outChannels) bad(`network ends with ${c} channels, outChannels says ${String(s.outChannels)}`);
  const rr = isInt(s.receptiveRadius) ? s.receptiveRadius : radius;
  if (rr < radius) bad('receptiveRadius smaller than the convolutions need');
  return {
    format: 'fieldpack-nn', version: 1, ndim, dtype: 'float32', layout: typeof s.layout === 'string' ? s.layout : '',
    inChannels: s.inChannels, outChannels: s.outChannels, receptiveRadius: rr, weightCount: wc, layers,
  };
}

export function checkWeights(spec: NnSpec, weights: Float32Array): void {
  if (weights.length !== spec.weightCount) {
    throw new FieldpackError('BAD_FILE', `network weights: ${weights.length} floats, the description needs ${spec.weightCount}`);
  }
  for (let i = 0; i < weights.length; i++) {
    if (!Number.isFinite(weights[i]!)) throw new FieldpackError('BAD_FILE', `network weights: value ${i} is not finite`);
  }
}

/** Reads little-endian float32 bytes (any alignment) into a Float32Array. */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new FieldpackError('BAD_FILE', 'weights: byte length is not a multiple of 4');
  const n = bytes.byteLength / 4;
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

export function float32ToBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i]!, true);
  return out;
}
