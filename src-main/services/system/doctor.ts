/**
 * `fieldpack doctor` and the Settings view's report: what this installation can do.
 */
import { cpus } from 'node:os';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DoctorReport } from '../../api/contract.ts';
import { fieldpackVersion } from './version.ts';
import { probePython } from './python-probe.ts';
import { nnKernels } from '../../core/nn/wasm-kernels.ts';

const require = createRequire(import.meta.url);

export async function onnxruntimeReport(): Promise<DoctorReport['onnxruntime']> {
  try {
    const ort = require('onnxruntime-node') as { listSupportedBackends?: () => { name: string; bundled: boolean }[] };
    const version = (require('onnxruntime-node/package.json') as { version: string }).version;
    const backends = ort.listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }];
    // Providers whose native library is present in this install; CUDA needs ONNXRUNTIME_NODE_INSTALL=cuda12 npm install.
    const providers = backends.filter((b) => b.bundled).map((b) => b.name);
    return { version, providers, problem: providers.includes('cuda') ? null : null };
  } catch (err) {
    return { version: null, providers: [], problem: `onnxruntime-node cannot load: ${(err as Error).message}` };
  }
}

export async function doctorReport(opts: { dbPath: string; schemaVersion: number; pythonPath: string | null; door: DoctorReport['door'] }): Promise<DoctorReport> {
  const [onnxruntime, python] = await Promise.all([onnxruntimeReport(), probePython(opts.pythonPath)]);
  let sizeBytes = 0;
  try {
    sizeBytes = statSync(opts.dbPath).size;
  } catch {
    /* in-memory or not yet written */
  }
  return {
    fieldpackVersion: fieldpackVersion(),
    node: process.versions.node,
    electron: process.versions.electron ?? null,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    onnxruntime,
    webassemblyFastPath: nnKernels() !== null,
    python,
    database: { path: opts.dbPath, schemaVersion: opts.schemaVersion, sizeBytes },
    door: opts.door,
  };
}
