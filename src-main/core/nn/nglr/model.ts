/**
 * An NGLR model file (".fpnl", "fieldpack-nglr" v1; docs/residual.md) in the shared container of model-file.ts: the
 * causal bias network's sizes and weights. Pure: no Node imports.
 */
import { type ModelErrorCode, type ModelFile, type ModelFileKind, isIntIn, readModelFile, writeModelFile } from '../model-file.ts';

export const NGLR_MAGIC = 'FPNGLR01';

/** Causal inputs per point (features.ts): 7 Lorenzo neighbours and 3 second neighbours relative to the prediction, 3 neighbours' Lorenzo residuals. */
export const NGLR_CAUSAL_INPUTS = 13;
/** Reconstruction inputs per point: the base, its three backward differences and their absolute values. */
export const NGLR_RECON_INPUTS = 7;

export interface NglrConfig {
  /** width of the causal branch's two 1x1 layers */
  causal: number;
  /** output channels of the reconstruction branch's 3x3x3 convolution on the base (0: no reconstruction branch) */
  recon: number;
  /** width of the fusion layer before the single output */
  hidden: number;
  /** leaky ReLU slope (no exp, erf or sqrt in the network: the same bits on every machine) */
  negativeSlope: number;
}

export type NglrModel = ModelFile<NglrConfig>;

/** Widths and the work per point a model from someone else's bytes may ask for (the default: about 800 multiply-adds). */
export const NGLR_LIMITS = { width: 256, recon: 32, macsPerPoint: 1 << 16, jsonBytes: 1 << 20, weights: 1 << 22 } as const;

/** Multiply-adds per decoded point. */
export function nglrMacsPerPoint(c: NglrConfig): number {
  return NGLR_CAUSAL_INPUTS * c.causal + c.causal * c.causal + (c.causal + c.recon) * c.hidden + c.hidden + c.recon * NGLR_RECON_INPUTS * 27;
}

/** Tensor names and shapes the configuration implies, in file order. */
export function nglrTensorShapes(c: NglrConfig): [string, number[]][] {
  const dense = (name: string, out: number, inp: number): [string, number[]][] => [[`${name}.weight`, [out, inp]], [`${name}.bias`, [out]]];
  return [
    ...dense('causal.0', c.causal, NGLR_CAUSAL_INPUTS),
    ...dense('causal.1', c.causal, c.causal),
    ...(c.recon > 0 ? ([[`recon.weight`, [c.recon, NGLR_RECON_INPUTS, 3, 3, 3]], ['recon.bias', [c.recon]]] as [string, number[]][]) : []),
    ...dense('fusion.0', c.hidden, c.causal + c.recon),
    ...dense('fusion.1', 1, c.hidden),
  ];
}

const NGLR_FILE: ModelFileKind<NglrConfig> = {
  magic: NGLR_MAGIC,
  format: 'fieldpack-nglr',
  what: 'NGLR model',
  limits: NGLR_LIMITS,
  tensorShapes: nglrTensorShapes,
  parseConfig(raw, fail) {
    const c = (raw ?? {}) as Record<string, unknown>;
    const W = NGLR_LIMITS.width;
    if (!isIntIn(c.causal, 1, W)) fail(`config.causal must be an integer in 1..${W}`);
    if (!isIntIn(c.recon, 0, NGLR_LIMITS.recon)) fail(`config.recon must be an integer in 0..${NGLR_LIMITS.recon}`);
    if (!isIntIn(c.hidden, 1, W)) fail(`config.hidden must be an integer in 1..${W}`);
    const s = c.negativeSlope;
    if (typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s >= 1) fail('config.negativeSlope must be in [0, 1)');
    const config = { causal: c.causal as number, recon: c.recon as number, hidden: c.hidden as number, negativeSlope: Math.fround(s as number) };
    if (nglrMacsPerPoint(config) > NGLR_LIMITS.macsPerPoint) fail(`the network needs ${nglrMacsPerPoint(config)} multiply-adds per point, more than ${NGLR_LIMITS.macsPerPoint}`);
    return config;
  },
};

export function parseNglrModel(bytes: Uint8Array, code: ModelErrorCode = 'BAD_FILE'): NglrModel {
  return readModelFile(NGLR_FILE, bytes, code);
}

export function writeNglrModel(config: NglrConfig, tensors: Record<string, Float32Array>, training: Record<string, unknown> = {}): Uint8Array {
  return writeModelFile(NGLR_FILE, config, tensors, training);
}
