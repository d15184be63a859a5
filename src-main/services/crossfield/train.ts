/**
 * Training the CFNN for the cross-field codec: a small network, a few epochs on CPU (or CUDA when PyTorch sees it),
 * through the app's trainer (services/training). Online = on the field being compressed; reused = on other time
 * steps (any fields given here), then passed to compressCrossfield as a model.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import type { CrossfieldNetwork } from '../../core/compressors/crossfield/codec.ts';
import { loadModelDir, startTrainingFromFields } from '../training/index.ts';

export interface CfnnTrainOptions {
  /** target as the encoder has it (original values) */
  target: Field;
  /** anchors as the decoder will have them (reconstructions), same shape as the target */
  anchors: Field[];
  /** network dims: the trailing 2 or 3 dims of the fields (default 2) */
  ndim?: 2 | 3;
  epochs?: number;
  hidden?: number;
  layers?: number;
  patchSize?: number;
  patchesPerSample?: number;
  maxStepsPerEpoch?: number;
  python?: string;
  /** go on with the other interpreters found where `python` lacks PyTorch (default true; false: a --python given is the one) */
  pythonFallback?: boolean;
  seed?: number;
  /** keep the run folder (default: removed) */
  runDir?: string;
  signal?: AbortSignal;
  onProgress?: (fraction: number, message: string) => void;
}

export interface CfnnTrained {
  net: CrossfieldNetwork;
  seconds: number;
  epochs: number;
  parameters: number;
  device: string;
  metrics: Record<string, unknown>;
  contentHash: string | null;
}

export const CFNN_DEFAULTS = { hidden: 8, layers: 3, epochs: 4, patchSize: 48, patchesPerSample: 4, maxStepsPerEpoch: 40 } as const;

export async function trainCfnn(opts: CfnnTrainOptions): Promise<CfnnTrained> {
  const t0 = performance.now();
  const ndim = opts.ndim ?? 2;
  const own = !opts.runDir;
  const runDir = opts.runDir ?? (await mkdtemp(join(tmpdir(), 'fieldpack-cfnn-')));
  const names = opts.anchors.map((a) => a.name);
  try {
    const h = await startTrainingFromFields({
      runDir,
      python: opts.python,
      ...(opts.pythonFallback !== undefined ? { pythonFallback: opts.pythonFallback } : {}),
      fields: [...opts.anchors, opts.target],
      spatialDims: ndim,
      signal: opts.signal,
      onProgress: (p) => opts.onProgress?.(p.fraction, p.message),
      config: {
        network: 'cfnn',
        networkParams: { hidden: opts.hidden ?? CFNN_DEFAULTS.hidden, layers: opts.layers ?? CFNN_DEFAULTS.layers, kernel: 3, activation: 'leaky_relu' },
        inputs: names,
        target: opts.target.name,
        epochs: opts.epochs ?? CFNN_DEFAULTS.epochs,
        batchSize: 8,
        learningRate: 3e-3,
        patchSize: opts.patchSize ?? CFNN_DEFAULTS.patchSize,
        patchesPerSample: opts.patchesPerSample ?? CFNN_DEFAULTS.patchesPerSample,
        maxStepsPerEpoch: opts.maxStepsPerEpoch ?? CFNN_DEFAULTS.maxStepsPerEpoch,
        validationFraction: 0,
        seed: opts.seed ?? 0,
        threads: 1,
        logEvery: 10,
        probe: false,
        exportOnnx: false,
      },
    });
    const r = await h.result;
    if (r.status === 'failed') throw new FieldpackError(r.error?.code === 'PYTHON_MISSING' ? 'PYTHON_MISSING' : 'INTERNAL', `CFNN training failed: ${r.error?.message ?? 'unknown error'}`, r.error?.details);
    const model = await loadModelDir(join(runDir, 'out'));
    const c = model.manifest.contract;
    return {
      net: { spec: model.spec, weights: model.weights, anchors: names, inputFill: c.inputFill },
      seconds: (performance.now() - t0) / 1000,
      epochs: r.epochs,
      parameters: model.manifest.network.parameterCount,
      device: r.device ? `${r.device.device}${r.device.name ? ` (${r.device.name})` : ''}` : 'cpu',
      metrics: r.metrics,
      contentHash: r.contentHash,
    };
  } finally {
    if (own) await rm(runDir, { recursive: true, force: true });
  }
}
