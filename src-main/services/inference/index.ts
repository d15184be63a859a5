/**
 * Inference service: model predictions on fields, and the check that a model's three paths agree.
 */
import { FieldpackError } from '../../core/errors.ts';
import { buildFeatures, type FeatureSource } from '../../core/nn/features.ts';
import { runReference } from '../../core/nn/reference.ts';
import { loadModelDir, modelRow, type LoadedModel } from '../models/models.ts';
import { InferencePool, sharedInferencePool, type PredictOptions, type PredictResult } from './pool.ts';

export * from './pool.ts';
export * from './providers.ts';

/**
 * Predicts the model's outputs for one sample of its input fields (by variable name, each of shape
 * `spatial`, optional masks). Builds the features exactly as the trainer did (core/nn/features.ts).
 */
export async function predictFields(
  model: LoadedModel, fields: Record<string, FeatureSource>, spatial: number[], opts: PredictOptions & { pool?: InferencePool } = {},
): Promise<PredictResult> {
  for (const f of model.inputs) if (!fields[f.var]) throw new FieldpackError('INVALID_ARGUMENT', `the model needs field ${f.var}`);
  const input = buildFeatures(model.inputs, model.manifest.contract.inputFill, spatial, (n) => fields[n]);
  return (opts.pool ?? sharedInferencePool()).predict(model, input, spatial, opts);
}

export interface ModelVerification {
  /** max |reference - pytorch| relative to max(1, |pytorch|), on the trainer's probe input. */
  referenceVsTorch: number;
  onnxVsTorch: number | null;
  referenceVsOnnx: number | null;
  provider: string | null;
  tolerance: number;
  ok: boolean;
}

export function maxRelDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
    if (!(d <= m)) m = d; // NaN propagates as NaN > m is false: use !(d <= m)
  }
  return m;
}

/**
 * Runs the trainer's probe input through the reference path and onnxruntime and compares both with
 * PyTorch's output (and with each other). A model whose reference path disagrees is not used.
 */
export async function verifyModel(model: LoadedModel, opts: { pool?: InferencePool; tolerance?: number } = {}): Promise<ModelVerification> {
  const tol = opts.tolerance ?? 1e-5;
  const p = model.probe;
  if (!p) throw new FieldpackError('MODEL_MISSING', 'the model has no probe files to verify against');
  const spatial = p.inputShape.slice(2);
  const ref = runReference(model.spec, model.weights, p.input, spatial);
  const referenceVsTorch = maxRelDiff(ref, p.output);
  let onnxVsTorch: number | null = null;
  let referenceVsOnnx: number | null = null;
  let provider: string | null = null;
  if (model.onnx) {
    const r = await (opts.pool ?? sharedInferencePool()).predict(model, p.input.slice(), spatial, { backend: 'onnx' });
    onnxVsTorch = maxRelDiff(r.output, p.output);
    referenceVsOnnx = maxRelDiff(ref, r.output);
    provider = r.provider;
  }
  const ok = referenceVsTorch <= tol && (onnxVsTorch === null || onnxVsTorch <= tol) && (referenceVsOnnx === null || referenceVsOnnx <= tol);
  return { referenceVsTorch, onnxVsTorch, referenceVsOnnx, provider, tolerance: tol, ok };
}

/**
 * What registering a trained model needs: the verified model, the verification numbers and the row for
 * the store's `models` table. A model whose paths disagree (verification.ok false) should be stored as
 * not usable by codecs.
 */
export async function modelForRegistry(dir: string, opts: { pool?: InferencePool; tolerance?: number } = {}) {
  const model = await loadModelDir(dir);
  const verification = model.probe ? await verifyModel(model, opts) : null;
  return { model, verification, row: modelRow(model.manifest, dir) };
}
