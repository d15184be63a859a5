/**
 * onnxruntime execution providers: tried in order (CUDA where this onnxruntime-node build has it, then
 * CPU), the first that creates a session wins and is reported. GPU users install the CUDA build with
 * `ONNXRUNTIME_NODE_INSTALL=cuda12 npm install`; the default build (and this repository's .npmrc)
 * is CPU only.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { FieldpackError } from '../../core/errors.ts';

export type ExecutionProvider = 'cuda' | 'cpu';

export interface ProviderInfo {
  name: string;
  bundled: boolean;
}

export function listBackends(): ProviderInfo[] {
  try {
    return (ort as unknown as { listSupportedBackends(): ProviderInfo[] }).listSupportedBackends();
  } catch {
    return [{ name: 'cpu', bundled: true }];
  }
}

/**
 * Whether the CUDA provider library is installed next to onnxruntime-node's binding (the default npm
 * install leaves it out: listSupportedBackends says cuda with bundled: false).
 */
export function cudaProviderInstalled(): boolean {
  const b = listBackends().find((x) => x.name === 'cuda');
  if (!b) return false;
  if (b.bundled) return true;
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const dir = join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return existsSync(join(dir, lib));
  } catch {
    return false;
  }
}

/** The order to try: cuda first when its provider is installed, cpu always last. */
export function defaultProviderOrder(): ExecutionProvider[] {
  return cudaProviderInstalled() ? ['cuda', 'cpu'] : ['cpu'];
}

/** What `fieldpack doctor` shows about inference. */
export function inferenceInfo(): { backends: ProviderInfo[]; order: ExecutionProvider[]; cudaHint: string | null } {
  const order = defaultProviderOrder();
  return {
    backends: listBackends(),
    order,
    cudaHint: order.includes('cuda') ? null : 'onnxruntime runs on the CPU; for CUDA reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm install',
  };
}

export interface OrtSession {
  session: ort.InferenceSession;
  provider: ExecutionProvider;
  /** Why earlier providers were skipped. */
  skipped: { provider: ExecutionProvider; reason: string }[];
}

export async function createOrtSession(model: Uint8Array, opts: { providers?: ExecutionProvider[]; intraOpThreads?: number } = {}): Promise<OrtSession> {
  const order = opts.providers ?? defaultProviderOrder();
  const skipped: OrtSession['skipped'] = [];
  for (const p of order) {
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [p],
        intraOpNumThreads: opts.intraOpThreads ?? 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      return { session, provider: p, skipped };
    } catch (e) {
      skipped.push({ provider: p, reason: (e as Error).message.split('\n')[0]! });
    }
  }
  throw new FieldpackError('UNSUPPORTED', `no onnxruntime execution provider could load the model: ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}`);
}

export async function runOrt(s: ort.InferenceSession, input: Float32Array, shape: number[], names?: { input: string; output: string }): Promise<Float32Array> {
  const inName = names?.input ?? s.inputNames[0]!;
  const outName = names?.output ?? s.outputNames[0]!;
  const r = await s.run({ [inName]: new ort.Tensor('float32', input, shape) });
  const t = r[outName]!;
  const data = t.data as Float32Array;
  const out = new Float32Array(data.length);
  out.set(data);
  t.dispose?.();
  return out;
}
