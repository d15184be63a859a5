/**
 * A VQ-VAE model file (".fpvq", "fieldpack-vqvae" v1; docs/vqvae.md) in the shared container of model-file.ts:
 * its configuration and the tensors it implies.
 * Pure: no Node imports.
 */
import { type ModelErrorCode, type ModelFile, type ModelFileKind, isIntIn, readModelFile, writeModelFile } from '../model-file.ts';

export const VQVAE_MAGIC = 'FPVQVAE1';

export interface VqvaeConfig {
  /** channels at 1/2, 1/4 and 1/8 of the resolution */
  channels: [number, number, number];
  latentDim: number;
  codesY: number;
  codesZ: number;
  negativeSlope: number;
}

export type VqvaeModel = ModelFile<VqvaeConfig>;

/** Limits for a model read from someone else's bytes (the paper's size is channels 128, 256 codes, latent 128). */
export const VQVAE_LIMITS = { channels: 512, latentDim: 512, codes: 4096, jsonBytes: 1 << 20, weights: 1 << 25 } as const;

/** Tensor names and shapes the configuration implies, in file order (docs/vqvae.md). */
export function vqvaeTensorShapes(c: VqvaeConfig): [string, number[]][] {
  const [c1, c2, c3] = c.channels;
  const D = c.latentDim;
  const conv = (name: string, out: number, inp: number, k: number): [string, number[]][] => [[`${name}.weight`, [out, inp, k, k]], [`${name}.bias`, [out]]];
  const convT = (name: string, inp: number, out: number): [string, number[]][] => [[`${name}.weight`, [inp, out, 4, 4]], [`${name}.bias`, [out]]];
  return [
    ...conv('enc.down1', c1, 1, 4), ...conv('enc.res1', c1, c1, 3),
    ...conv('enc.down2', c2, c1, 4), ...conv('enc.res2', c2, c2, 3),
    ...conv('enc.down3', c3, c2, 4), ...conv('enc.res3', c3, c3, 3),
    ...conv('enc.yproj', D, c3, 1), ...conv('enc.down4', c3, c3, 4), ...conv('enc.zproj', D, c3, 1),
    ...convT('upz', D, D),
    ['codebook.z', [c.codesZ, D]], ['codebook.y', [c.codesY, D]],
    ...conv('dec.in', c3, D, 1), ...conv('dec.res3', c3, c3, 3),
    ...convT('dec.up3', c3, c2), ...conv('dec.res2', c2, c2, 3),
    ...convT('dec.up2', c2, c1), ...conv('dec.res1', c1, c1, 3),
    ...convT('dec.out', c1, 1),
  ];
}

const VQVAE_FILE: ModelFileKind<VqvaeConfig> = {
  magic: VQVAE_MAGIC,
  format: 'fieldpack-vqvae',
  what: 'VQ-VAE model',
  limits: VQVAE_LIMITS,
  tensorShapes: vqvaeTensorShapes,
  parseConfig(raw, fail) {
    const c = (raw ?? {}) as Record<string, unknown>;
    const ch = c.channels;
    const L = VQVAE_LIMITS;
    if (!Array.isArray(ch) || ch.length !== 3 || !ch.every((v) => isIntIn(v, 1, L.channels))) fail(`config.channels must be 3 integers in 1..${L.channels}`);
    if (!isIntIn(c.latentDim, 1, L.latentDim)) fail(`config.latentDim must be an integer in 1..${L.latentDim}`);
    if (!isIntIn(c.codesY, 2, L.codes) || !isIntIn(c.codesZ, 2, L.codes)) fail(`config.codesY and codesZ must be integers in 2..${L.codes}`);
    const s = c.negativeSlope;
    if (typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s >= 1) fail('config.negativeSlope must be in [0, 1)');
    const chs = ch as number[];
    return { channels: [chs[0]!, chs[1]!, chs[2]!], latentDim: c.latentDim as number, codesY: c.codesY as number, codesZ: c.codesZ as number, negativeSlope: Math.fround(s as number) };
  },
};

/** Parses and checks a model file. `code`: BAD_FILE for a file the user gave, BAD_STREAM for one inside a stream. */
export function parseVqvaeModel(bytes: Uint8Array, code: ModelErrorCode = 'BAD_FILE'): VqvaeModel {
  return readModelFile(VQVAE_FILE, bytes, code);
}

/** Writes a model file (tests and tools; the trainer writes the same bytes). */
export function writeVqvaeModel(config: VqvaeConfig, tensors: Record<string, Float32Array>, training: Record<string, unknown> = {}): Uint8Array {
  return writeModelFile(VQVAE_FILE, config, tensors, training);
}
