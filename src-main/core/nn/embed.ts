/**
 * A network as bytes inside a stream: the layer description and the float32 weights.
 *
 *   "FPNN" | u8 version=1 | u8 0 | u16 0 | u32 spec byte length (LE) | spec JSON (UTF-8) | 0-3 zero bytes
 *   to a multiple of 4 | weights (float32 LE)
 *
 * Pure: TextEncoder/TextDecoder exist in Node, workers and browsers.
 */
import { FieldpackError } from '../errors.ts';
import { float32FromBytes, float32ToBytes, parseNnSpec, checkWeights, type NnSpec } from './spec.ts';

const MAGIC = [0x46, 0x50, 0x4e, 0x4e];

export function encodeEmbeddedNetwork(spec: NnSpec, weights: Float32Array): Uint8Array {
  checkWeights(spec, weights);
  // never write a network decoders refuse
  checkEmbeddedLimits(spec, 'INVALID_ARGUMENT');
  const json = new TextEncoder().encode(JSON.stringify(spec));
  const head = 12;
  const pad = (4 - ((head + json.length) % 4)) % 4;
  const out = new Uint8Array(head + json.length + pad + weights.length * 4);
  out.set(MAGIC, 0);
  out[4] = 1;
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, head);
  out.set(float32ToBytes(weights), head + json.length + pad);
  return out;
}

/**
 * Limits of a network read from a stream (someone else's bytes): the trainer's own limits (channels <= 1024, kernels
 * <= 15) and sizes that keep inference proportional to the bytes present: every weight is stored, and no layer may
 * reuse another's weights, so the multiply-adds per point never exceed the weight count.
 */
export const EMBEDDED_LIMITS = { specBytes: 1 << 20, weights: 1 << 24, layers: 256, channels: 1024, kernel: 15, receptiveRadius: 4096 } as const;

/** Throws (BAD_STREAM reading, INVALID_ARGUMENT writing) naming the first limit the network exceeds. */
export function checkEmbeddedLimits(spec: NnSpec, code: 'BAD_STREAM' | 'INVALID_ARGUMENT' = 'BAD_STREAM'): void {
  const L = EMBEDDED_LIMITS;
  const bad = (what: string) => new FieldpackError(code, `embedded network: ${what}`);
  if (spec.weightCount > L.weights) throw bad(`${spec.weightCount} weights (at most ${L.weights})`);
  if (spec.layers.length > L.layers) throw bad(`${spec.layers.length} layers (at most ${L.layers})`);
  if (spec.receptiveRadius > L.receptiveRadius) throw bad(`receptive radius ${spec.receptiveRadius} (at most ${L.receptiveRadius})`);
  if (spec.inChannels > L.channels || spec.outChannels > L.channels) throw bad(`${spec.inChannels} / ${spec.outChannels} channels (at most ${L.channels})`);
  let macs = 0;
  for (const [i, l] of spec.layers.entries()) {
    if (l.op === 'conv') {
      if (l.outChannels > L.channels) throw bad(`layer ${i}: ${l.outChannels} channels (at most ${L.channels})`);
      if (l.kernel.some((k) => k > L.kernel)) throw bad(`layer ${i}: kernel [${l.kernel.join(', ')}] (at most ${L.kernel})`);
      macs += l.inChannels * l.outChannels * l.kernel.reduce((a, b) => a * b, 1) + (l.bias === null ? 0 : l.outChannels);
    } else if (l.op === 'affine') macs += 2 * l.channels;
  }
  if (macs > spec.weightCount) throw bad(`its layers use ${macs} weights per point, it stores ${spec.weightCount}`);
}

export function decodeEmbeddedNetwork(bytes: Uint8Array): { spec: NnSpec; weights: Float32Array } {
  if (bytes.length < 12 || MAGIC.some((m, i) => bytes[i] !== m)) throw new FieldpackError('BAD_STREAM', 'embedded network: bad magic');
  if (bytes[4] !== 1) throw new FieldpackError('BAD_STREAM', `embedded network: version ${bytes[4]} is not supported`);
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + len > bytes.length) throw new FieldpackError('BAD_STREAM', 'embedded network: truncated');
  if (len > EMBEDDED_LIMITS.specBytes) throw new FieldpackError('BAD_STREAM', `embedded network: a ${len}-byte description (at most ${EMBEDDED_LIMITS.specBytes})`);
  let spec: NnSpec;
  try {
    spec = parseNnSpec(JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))));
  } catch (e) {
    throw new FieldpackError('BAD_STREAM', `embedded network: ${(e as Error).message}`);
  }
  checkEmbeddedLimits(spec);
  const pad = (4 - ((12 + len) % 4)) % 4;
  const wbytes = bytes.length - (12 + len + pad);
  if (wbytes !== 4 * spec.weightCount) throw new FieldpackError('BAD_STREAM', `embedded network: ${wbytes} weight bytes, its description needs ${4 * spec.weightCount}`);
  const weights = float32FromBytes(bytes.subarray(12 + len + pad));
  try {
    checkWeights(spec, weights);
  } catch (e) {
    throw new FieldpackError('BAD_STREAM', `embedded network: ${(e as Error).message}`);
  }
  return { spec, weights };
}
