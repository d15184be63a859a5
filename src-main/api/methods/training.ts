/** Training: the network types a run can train (with their defaults) and the Python it would use. */
import { z } from 'zod';

export const NetworkInfo = z.object({
  type: z.string(),
  description: z.string(),
  /** Defaults of the network's own parameters (hidden, layers, kernel, activation...). */
  networkParams: z.record(z.string(), z.unknown()),
  /** Defaults of the run's hyperparameters (epochs, batchSize, learningRate, patchSize...). */
  hyperparameters: z.record(z.string(), z.unknown()),
  /** Whether the target may also be an input (anchor). */
  targetMayBeInput: z.boolean(),
});
export type NetworkInfo = z.infer<typeof NetworkInfo>;

export const PythonEnvReport = z.object({
  ok: z.boolean(),
  /** The interpreter training would use (as configured or found). */
  interpreter: z.string().nullable(),
  executable: z.string().nullable(),
  pythonVersion: z.string().nullable(),
  torchVersion: z.string().nullable(),
  cuda: z.boolean(),
  cudaVersion: z.string().nullable(),
  gpuName: z.string().nullable(),
  onnx: z.boolean(),
  /** "cuda (GPU name)" or "cpu": where a run with device auto trains. */
  device: z.string().nullable(),
  /** The configured interpreter (settings.pythonPath), null = auto-detect. */
  configured: z.string().nullable(),
  /** Every interpreter probed, with why it was not kept. */
  tried: z.array(z.object({ interpreter: z.string(), ok: z.boolean(), reason: z.string().nullable() })),
  /** The PYTHON_MISSING message (what was tried and how to get a Python with torch), when none was found. */
  problem: z.string().nullable(),
});
export type PythonEnvReport = z.infer<typeof PythonEnvReport>;

export const TRAINING_METHODS = {
  'training.networks': { input: z.object({}), output: z.array(NetworkInfo) },
  'training.python': {
    input: z.object({
      /** Probe this interpreter instead of the setting (e.g. before saving it). */
      python: z.string().trim().min(1).optional(),
      /** Forget cached probes (after installing torch or changing the setting). */
      refresh: z.boolean().default(false),
    }),
    output: PythonEnvReport,
  },
} as const;
