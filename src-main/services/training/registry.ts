/**
 * The model registry: trained or imported models copied under the store's models folder and recorded
 * in its `models` table, keyed by content hash.
 */
import { join, resolve } from 'node:path';
import type { Model } from '../../api/contract.ts';
import type { Store } from '../store/store.ts';
import { modelsDir } from '../store/files.ts';
import { exportModelFile, importModelFile, loadModelDir, modelRow, type ModelManifest } from '../models/models.ts';
import { verifyModel, type ModelVerification } from '../inference/index.ts';
import { FieldpackError } from '../../core/errors.ts';
import { makeFolder } from '../files/folders.ts';
import { copyFolderAtomically } from '../files/atomic.ts';

function toNewModel(manifest: ModelManifest, path: string, projectId: number | null, runId: number | null, verification: ModelVerification | null) {
  const row = modelRow(manifest, path);
  const { inputs, outputs, ...contract } = manifest.contract;
  return {
    projectId,
    runId,
    contentHash: row.content_hash,
    network: row.network_type,
    networkVersion: row.network_version,
    ndim: row.ndim,
    inputs,
    outputs,
    contract,
    params: manifest.network.params,
    training: manifest.training,
    // How the inference paths agreed on the trainer's probe input when the model was registered.
    metrics: { ...manifest.metrics, ...(verification ? { verification } : {}) },
    parameterCount: row.parameter_count,
    sizeBytes: row.size_bytes,
    manifest,
    path,
  };
}

/**
 * Copies a trained model folder into the registry and records it, after checking its hashes and running
 * it through onnxruntime and the reference path on the trainer's probe input (both against PyTorch).
 */
export async function registerModelDir(store: Store, dir: string, opts: { projectId: number | null; runId: number | null }): Promise<Model> {
  const model = await loadModelDir(dir);
  const dest = join(modelsDir(store), model.manifest.contentHash);
  // copied whole or not at all; a copy there that does not load as this model (a file lost, one altered) is replaced
  if (resolve(dest) !== resolve(dir) && !(await holdsModel(dest, model.manifest.contentHash))) {
    makeFolder(modelsDir(store));
    await copyFolderAtomically(dir, dest, { replace: true });
  }
  const verification = model.probe ? await verifyModel(model) : null;
  return store.registerModel(toNewModel(model.manifest, dest, opts.projectId, opts.runId, verification));
}

/** Whether dir holds a complete model folder of this content hash (every file there, each of its sha256). */
async function holdsModel(dir: string, contentHash: string): Promise<boolean> {
  try {
    return (await loadModelDir(dir)).manifest.contentHash === contentHash;
  } catch {
    return false;
  }
}

/** Imports a .fpmodel file (hashes checked, inference verified) into the registry. */
export async function importModel(store: Store, file: string, projectId: number | null): Promise<Model> {
  const model = await importModelFile(file, modelsDir(store));
  const verification = model.probe ? await verifyModel(model) : null;
  return store.registerModel(toNewModel(model.manifest, model.dir!, projectId, null, verification));
}

/** Runs a registered model again through both inference paths on its probe input. */
export async function verifyRegisteredModel(store: Store, id: number): Promise<ModelVerification> {
  const model = await loadModelDir(store.getModel(id).path);
  if (!model.probe) throw new FieldpackError('MODEL_MISSING', `model ${id} has no probe input to verify against (it was exported without one)`);
  return verifyModel(model);
}

/** Writes a registered model as one .fpmodel file. */
export async function exportModel(store: Store, id: number, outPath: string): Promise<{ path: string; sizeBytes: number; contentHash: string }> {
  const m = store.getModel(id);
  const r = await exportModelFile(m.path, outPath);
  return { path: r.path, sizeBytes: r.size, contentHash: r.contentHash };
}
