/** Doctor's view of the Python environment, from the training service's detection (one probe for both). */
import type { DoctorReport } from '../../api/contract.ts';
import type { Store } from '../store/store.ts';
import { PYTHON_HELP, clearPythonCache, findPython, pinPython } from './python-env.ts';

export async function probePython(configured: string | null): Promise<DoctorReport['python']> {
  // The doctor is asked after the user installs torch or changes the setting: never answer from cache.
  clearPythonCache();
  const { env, tried } = await findPython({ python: configured ?? undefined });
  if (env) {
    const skipped = configured && env.interpreter !== configured ? tried.find((t) => t.interpreter === configured) : undefined;
    return {
      interpreter: env.interpreter,
      pythonVersion: env.pythonVersion,
      torchVersion: env.torchVersion,
      cuda: env.cudaAvailable,
      gpuName: env.gpuName,
      onnx: env.onnx,
      problem: skipped ? `the configured interpreter ${configured} was not used (${skipped.reason}); found ${env.interpreter} instead` : null,
    };
  }
  const broken = tried.find((t) => t.pinned);
  if (broken) {
    // The user's interpreter no longer exists (or is no longer executable): that is the problem, with no stand-in.
    return { interpreter: broken.interpreter, pythonVersion: null, torchVersion: null, cuda: false, gpuName: null, onnx: false, problem: broken.reason ?? null };
  }
  const first = tried.find((t) => t.env) ?? null;
  return {
    interpreter: first?.interpreter ?? null,
    pythonVersion: first?.env?.pythonVersion ?? null,
    torchVersion: null,
    cuda: false,
    gpuName: null,
    onnx: Boolean(first?.env?.onnx),
    problem: `no Python with PyTorch (${tried.map((t) => `${t.interpreter}: ${t.reason}`).join('; ')}). ${PYTHON_HELP}`,
  };
}

/**
 * The interpreter the user chose: --python for this process (FIELDPACK_PYTHON), else the saved setting.
 * It is pinned (pinPython): if it stops naming an executable file, detection reports that rather than
 * training with some other Python.
 */
export function configuredPython(store: Store): string | null {
  const p = process.env.FIELDPACK_PYTHON || store.getSettings().pythonPath;
  if (p) pinPython(p);
  return p;
}
