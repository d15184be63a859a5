/**
 * Models: what a training run produces, as files and as a registry row. Training writes them, inference,
 * the registry and the codecs' services read them; this folder imports no other service, so none of
 * those loops back through it.
 *
 * A model folder holds manifest.json, nn.json (layer description), weights.bin (float32), model.onnx
 * and the probe files. Its identity is the manifest's contentHash = sha256("fieldpack-nn\n" ||
 * sha256(nn.json bytes) || sha256(weights.bin bytes)): what a decoder needs, and what streams name.
 *
 * One-file form (.fpmodel):
 *   "FPMODEL\n" (8 bytes) | u32 LE format version = 1 | u32 LE header length | header JSON (UTF-8)
 *   | blobs, concatenated in header order
 * header = { manifest, entries: [{ name, offset (from the first blob), size, sha256 }] }
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { checkReplaceable, writeFileAtomic, writeFolderAtomically } from '../files/atomic.ts';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { FieldpackError } from '../../core/errors.ts';
import { firstNames } from '../../core/text.ts';
import { checkWeights, float32FromBytes, parseNnSpec, type NnSpec } from '../../core/nn/spec.ts';
import type { FeatureSpec } from '../../core/nn/features.ts';
import { makeFolder } from '../files/folders.ts';
import { readRegularFile } from '../files/regular.ts';

const FileRef = z.object({ path: z.string(), sha256: z.string(), size: z.number() });
const Feature = z.object({ var: z.string(), transform: z.enum(['values', 'backward-diff']), axis: z.number().nullable() });

export const ModelManifestSchema = z.looseObject({
  format: z.literal('fieldpack-model'),
  formatVersion: z.literal(1),
  contentHash: z.string().regex(/^[0-9a-f]{64}$/),
  network: z.looseObject({ type: z.string(), version: z.number(), params: z.record(z.string(), z.unknown()), parameterCount: z.number() }),
  contract: z.looseObject({
    ndim: z.union([z.literal(2), z.literal(3)]),
    dtype: z.literal('float32'),
    layout: z.string(),
    inputs: z.array(Feature),
    outputs: z.array(Feature),
    inChannels: z.number(),
    outChannels: z.number(),
    receptiveRadius: z.number(),
    invalidInput: z.string(),
    inputFill: z.array(z.number()),
    onnx: z.object({ input: z.string(), output: z.string(), opset: z.number() }).nullable(),
  }),
  training: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
  files: z.looseObject({ spec: FileRef, weights: FileRef, onnx: FileRef.optional(), probe: FileRef.optional(), probeInput: FileRef.optional(), probeOutput: FileRef.optional() }),
  size: z.number(),
  createdAt: z.string(),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

export interface ModelProbe {
  inputShape: number[];
  outputShape: number[];
  input: Float32Array;
  /** PyTorch's float32 CPU output on `input`. */
  output: Float32Array;
}

export interface LoadedModel {
  /** Folder it was read from, when it came from one. */
  dir: string | null;
  manifest: ModelManifest;
  spec: NnSpec;
  weights: Float32Array;
  onnx: Uint8Array | null;
  probe: ModelProbe | null;
  /** Feature plan for buildFeatures (core/nn/features.ts). */
  inputs: FeatureSpec[];
  outputs: FeatureSpec[];
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The content hash from the layer description and weight bytes (same as the trainer's). */
export function modelContentHash(specBytes: Uint8Array, weightBytes: Uint8Array): string {
  return createHash('sha256')
    .update('fieldpack-nn\n')
    .update(createHash('sha256').update(specBytes).digest())
    .update(createHash('sha256').update(weightBytes).digest())
    .digest('hex');
}

export function parseManifest(json: unknown): ModelManifest {
  const r = ModelManifestSchema.safeParse(json);
  if (!r.success) throw new FieldpackError('BAD_FILE', `invalid model manifest: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

async function readChecked(dir: string, ref: { path: string; sha256: string; size: number }, what: string): Promise<Uint8Array> {
  const p = join(dir, basename(ref.path));
  if (!existsSync(p)) throw new FieldpackError('MODEL_MISSING', `model file missing: ${p} (${what})`);
  const b = new Uint8Array(await readRegularFile(p, 'the model file'));
  if (b.length !== ref.size || sha256(b) !== ref.sha256) throw new FieldpackError('BAD_FILE', `model file ${p} does not match its manifest (size or sha256)`);
  return b;
}

/** Builds a LoadedModel from the manifest and file bytes, checking every hash. */
export function assembleModel(dir: string | null, manifest: ModelManifest, files: Record<string, Uint8Array>): LoadedModel {
  const specBytes = files.spec!;
  const weightBytes = files.weights!;
  const hash = modelContentHash(specBytes, weightBytes);
  if (hash !== manifest.contentHash) throw new FieldpackError('BAD_FILE', `model content hash mismatch: manifest says ${manifest.contentHash}, files give ${hash}`);
  const spec = parseNnSpec(JSON.parse(new TextDecoder().decode(specBytes)));
  const weights = float32FromBytes(weightBytes);
  checkWeights(spec, weights);
  if (spec.inChannels !== manifest.contract.inChannels || spec.outChannels !== manifest.contract.outChannels) {
    throw new FieldpackError('BAD_FILE', 'model manifest and network description disagree on channel counts');
  }
  let probe: ModelProbe | null = null;
  if (files.probe && files.probeInput && files.probeOutput) {
    const pj = JSON.parse(new TextDecoder().decode(files.probe)) as { inputShape: number[]; outputShape: number[] };
    probe = { inputShape: pj.inputShape, outputShape: pj.outputShape, input: float32FromBytes(files.probeInput), output: float32FromBytes(files.probeOutput) };
  }
  return {
    dir, manifest, spec, weights, onnx: files.onnx ?? null, probe,
    inputs: manifest.contract.inputs as FeatureSpec[], outputs: manifest.contract.outputs as FeatureSpec[],
  };
}

const FILE_KEYS = ['spec', 'weights', 'onnx', 'probe', 'probeInput', 'probeOutput'] as const;

/** Reads and verifies a model folder (the trainer's output folder or an imported one). */
export async function loadModelDir(dir: string): Promise<LoadedModel> {
  const mp = join(dir, 'manifest.json');
  if (!existsSync(mp)) throw new FieldpackError('MODEL_MISSING', `no model in ${dir} (manifest.json missing)`);
  const manifest = parseManifest(JSON.parse((await readRegularFile(mp, "the model's manifest")).toString('utf8')));
  const files: Record<string, Uint8Array> = {};
  for (const k of FILE_KEYS) {
    const ref = manifest.files[k];
    if (ref) files[k] = await readChecked(dir, ref, k);
  }
  return assembleModel(dir, manifest, files);
}

/** The row for the store's `models` table (JSON columns as strings; no NaN anywhere). */
export interface ModelRow {
  content_hash: string;
  network_type: string;
  network_version: number;
  ndim: number;
  inputs_json: string;
  outputs_json: string;
  contract_json: string;
  params_json: string;
  training_json: string;
  metrics_json: string;
  size_bytes: number;
  parameter_count: number;
  created_at: string;
  manifest_json: string;
  /** Where the files are (a folder), or null when only the .fpmodel is kept. */
  path: string | null;
}

export function modelRow(manifest: ModelManifest, path: string | null = null): ModelRow {
  const { inputs, outputs, ...contract } = manifest.contract;
  return {
    content_hash: manifest.contentHash,
    network_type: manifest.network.type,
    network_version: manifest.network.version,
    ndim: manifest.contract.ndim,
    inputs_json: JSON.stringify(inputs),
    outputs_json: JSON.stringify(outputs),
    contract_json: JSON.stringify(contract),
    params_json: JSON.stringify(manifest.network.params),
    training_json: JSON.stringify(manifest.training),
    metrics_json: JSON.stringify(manifest.metrics),
    size_bytes: manifest.size,
    parameter_count: manifest.network.parameterCount,
    created_at: manifest.createdAt,
    manifest_json: JSON.stringify(manifest),
    path,
  };
}

const MAGIC = Buffer.from('FPMODEL\n', 'ascii');

/** An exported model's path: writable, and replacing only an exported model (never a file of the user's). */
export async function checkModelOutput(outPath: string): Promise<void> {
  await checkReplaceable(outPath, 'an exported Fieldpack model', (head) => head.startsWith(MAGIC.toString('ascii')));
}

/**
 * Where `train --out DIR` copies the model folder: a new or an empty folder, checked before the training (a folder
 * of files would be overwritten, a file there would fail only after it).
 */
export async function checkModelFolderOutput(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (!st) return;
  if (!st.isDirectory()) throw new FieldpackError('INVALID_ARGUMENT', `${dir} is a file: give a new or empty folder for the model's files`, { path: dir });
  const names = await readdir(dir);
  if (names.length) {
    throw new FieldpackError('INVALID_ARGUMENT', `${dir} already holds ${firstNames(names, 3)}: give a new or empty folder for the model's files (they would replace those)`, { path: dir });
  }
}

/** Packs a model folder into one .fpmodel file. */
export async function exportModelFile(dir: string, outPath: string): Promise<{ path: string; size: number; contentHash: string }> {
  await checkModelOutput(outPath);
  const model = await loadModelDir(dir); // verifies before packing
  const entries: { name: string; offset: number; size: number; sha256: string }[] = [];
  const blobs: Uint8Array[] = [];
  let off = 0;
  for (const k of FILE_KEYS) {
    const ref = model.manifest.files[k];
    if (!ref) continue;
    const b = new Uint8Array(await readRegularFile(join(dir, basename(ref.path)), 'the model file'));
    entries.push({ name: k, offset: off, size: b.length, sha256: sha256(b) });
    blobs.push(b);
    off += b.length;
  }
  const header = Buffer.from(JSON.stringify({ manifest: model.manifest, entries }), 'utf8');
  const head = Buffer.alloc(16);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(1, 8);
  head.writeUInt32LE(header.length, 12);
  const all = Buffer.concat([head, header, ...blobs]);
  await writeFileAtomic(outPath, all);
  return { path: outPath, size: all.length, contentHash: model.manifest.contentHash };
}

/** Reads a .fpmodel (verified); with `destDir`, also unpacks it into destDir/<contentHash>/. */
export async function importModelFile(path: string, destDir?: string): Promise<LoadedModel> {
  const buf = new Uint8Array(await readRegularFile(path, 'the model file'));
  if (buf.length < 16 || Buffer.compare(Buffer.from(buf.subarray(0, 8)), MAGIC) !== 0) throw new FieldpackError('BAD_FILE', `${path} is not a Fieldpack model file`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== 1) throw new FieldpackError('BAD_FILE', `${path}: model file version ${version} is newer than this Fieldpack reads (1)`);
  const hl = dv.getUint32(12, true);
  if (16 + hl > buf.length) throw new FieldpackError('BAD_FILE', `${path}: truncated`);
  let header: { manifest: unknown; entries: { name: string; offset: number; size: number; sha256: string }[] };
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(16, 16 + hl)));
  } catch {
    throw new FieldpackError('BAD_FILE', `${path}: unreadable header`);
  }
  if (!isModelHeader(header)) throw new FieldpackError('BAD_FILE', `${path}: unreadable header (no list of entries, or an entry without a name, offset, size and sha256)`);
  const manifest = parseManifest(header.manifest);
  const files: Record<string, Uint8Array> = {};
  const base = 16 + hl;
  for (const e of header.entries) {
    if (!(FILE_KEYS as readonly string[]).includes(e.name)) continue;
    if (e.offset < 0 || base + e.offset + e.size > buf.length) throw new FieldpackError('BAD_FILE', `${path}: entry ${e.name} out of range`);
    const b = buf.slice(base + e.offset, base + e.offset + e.size);
    const ref = manifest.files[e.name as (typeof FILE_KEYS)[number]];
    if (sha256(b) !== e.sha256 || (ref && ref.sha256 !== e.sha256)) throw new FieldpackError('BAD_FILE', `${path}: entry ${e.name} is corrupt (sha256)`);
    files[e.name] = b;
  }
  if (!files.spec || !files.weights) throw new FieldpackError('BAD_FILE', `${path}: network description or weights missing`);
  const missing = FILE_KEYS.filter((k) => manifest.files[k] && !files[k]);
  if (missing.length) throw new FieldpackError('BAD_FILE', `${path}: the manifest lists ${missing.join(', ')}, which the file does not hold`);
  // verified whole before anything is written: the folder is named by the manifest's hash, and a file claiming another
  // model's hash replaced that model's folder before its own was found wrong
  const model = assembleModel(null, manifest, files);
  if (!destDir) return model;
  const dir = join(destDir, manifest.contentHash);
  // a model already there and whole stays as it is: importing it again changes nothing
  const present = existsSync(dir) ? await loadModelDir(dir).catch(() => null) : null;
  if (present?.manifest.contentHash === manifest.contentHash) return present;
  // unpacked whole or not at all: a folder left half-written would pass for the model (its manifest there)
  makeFolder(destDir);
  await writeFolderAtomically(dir, async (tmp) => {
    makeFolder(tmp);
    for (const k of FILE_KEYS) {
      const ref = manifest.files[k];
      if (ref && files[k]) await writeFile(join(tmp, basename(ref.path)), files[k]!);
    }
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
  }, { replace: true });
  return { ...model, dir };
}

/** A .fpmodel header as written by exportModelFile: a manifest and entries of name, offset, size and sha256. */
function isModelHeader(h: unknown): h is { manifest: unknown; entries: { name: string; offset: number; size: number; sha256: string }[] } {
  if (typeof h !== 'object' || h === null || !Array.isArray((h as { entries?: unknown }).entries)) return false;
  return (h as { entries: unknown[] }).entries.every((e) => typeof e === 'object' && e !== null
    && typeof (e as { name?: unknown }).name === 'string' && Number.isSafeInteger((e as { offset?: unknown }).offset)
    && Number.isSafeInteger((e as { size?: unknown }).size) && (e as { size: number }).size >= 0 && typeof (e as { sha256?: unknown }).sha256 === 'string');
}
