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

export function decodeEmbeddedNetwork(bytes: Uint8Array): { spec: NnSpec; weights: Float32Array } {
  if (bytes.length < 12 || MAGIC.some((m, i) => bytes[i] !== m)) throw new FieldpackError('BAD_STREAM', 'embedded network: bad magic');
  if (bytes[4] !== 1) throw new FieldpackError('BAD_STREAM', `embedded network: version ${bytes[4]} is not supported`);
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + len > bytes.length) throw new FieldpackError('BAD_STREAM', 'embedded network: truncated');
  let spec: NnSpec;
  try {
    spec = parseNnSpec(JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))));
  } catch (e) {
    throw new FieldpackError('BAD_STREAM', `embedded network: ${(e as Error).message}`);
  }
  const pad = (4 - ((12 + len) % 4)) % 4;
  const weights = float32FromBytes(bytes.subarray(12 + len + pad));
  checkWeights(spec, weights);
  return { spec, weights };
}
