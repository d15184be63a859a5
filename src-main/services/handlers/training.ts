import { type TRAINING_METHODS, type NetworkInfo, NglrHyperparameters, NglrModelSize, VqvaeHyperparameters, VqvaeModelSize } from '../../api/methods/training.ts';
import { FieldpackError } from '../../core/errors.ts';
import { NETWORK_DEFAULTS, NETWORK_TYPES, TrainingConfigSchema } from '../training/config.ts';
import { clearPythonCache, detectPython, findPython } from '../system/python-env.ts';
import { configuredPython } from '../system/python-probe.ts';
import type { HandlerDeps, Handlers } from './types.ts';

const DESCRIPTIONS: Record<(typeof NETWORK_TYPES)[number], string> = {
  'tiny-cnn': 'A few 3x3 convolutions mapping input fields to the target: quick to train, a baseline and smoke test.',
  cfnn: 'Cross-field CNN (arXiv 2409.18295): predicts the target\'s backward differences from those of the anchor fields.',
};

/** The hyperparameters the Train form offers, with the trainer's defaults. */
const HYPERPARAMETER_KEYS = ['epochs', 'batchSize', 'learningRate', 'patchSize', 'patchesPerSample', 'maxStepsPerEpoch', 'validationFraction', 'seed', 'device'] as const;

/** The VQ-VAE is trained by its own job kind (train-vqvae) on maps of any fields: no target, no anchors. */
function vqvaeNetwork(): NetworkInfo {
  return {
    type: 'vqvae',
    description: 'Hierarchical VQ-VAE (Le & Tao 2024): 2D maps to codebook indices at 1/8 and 1/16; the codec vqvae codes the residual at the bound. Trains on the maps of any fields.',
    networkParams: { ...VqvaeModelSize.parse({}) },
    hyperparameters: { ...VqvaeHyperparameters.parse({}) },
    targetMayBeInput: true,
    jobKind: 'train-vqvae',
  };
}

/** NGLR's causal bias network is trained by train-nglr on the chosen fields' quantized residuals at a bound, on a base. */
function nglrNetwork(): NetworkInfo {
  return {
    type: 'nglr',
    description: 'NGLR causal bias network (Zhu, Ranka, Rangarajan 2026): corrects the prediction of quantized residuals (Lorenzo plus the chunk\'s fitted linear term) from decoded neighbours; the codec nglr codes what is left. Trains on the fields\' residuals at the chosen bounds.',
    networkParams: { ...NglrModelSize.parse({}) },
    hyperparameters: { ...NglrHyperparameters.parse({}) },
    targetMayBeInput: true,
    jobKind: 'train-nglr',
  };
}

function networks(): NetworkInfo[] {
  return [...classicNetworks(), vqvaeNetwork(), nglrNetwork()];
}

function classicNetworks(): NetworkInfo[] {
  return NETWORK_TYPES.map((type) => {
    const cfg = TrainingConfigSchema.parse({ network: type, inputs: ['a'], target: 'b' });
    return {
      type,
      description: DESCRIPTIONS[type],
      networkParams: { ...NETWORK_DEFAULTS[type] },
      hyperparameters: Object.fromEntries(HYPERPARAMETER_KEYS.map((k) => [k, cfg[k]])),
      targetMayBeInput: type !== 'cfnn',
      jobKind: 'train',
    };
  });
}

export function trainingHandlers({ store }: HandlerDeps): Handlers<keyof typeof TRAINING_METHODS> {
  return {
    'training.networks': () => networks(),
    'training.python': async ({ python, refresh }) => {
      if (refresh) clearPythonCache();
      const configured = configuredPython(store);
      const wanted = python ?? configured ?? undefined;
      const { env, tried } = await findPython({ python: wanted, fallback: python === undefined });
      const triedOut = tried.map((t) => ({ interpreter: t.interpreter, ok: t.ok, reason: t.reason ?? null }));
      if (env) {
        return {
          ok: true, interpreter: env.interpreter, executable: env.executable, pythonVersion: env.pythonVersion, torchVersion: env.torchVersion,
          cuda: env.cudaAvailable, cudaVersion: env.cudaVersion, gpuName: env.gpuName, onnx: env.onnx,
          device: env.cudaAvailable ? `cuda${env.gpuName ? ` (${env.gpuName})` : ''}` : 'cpu',
          configured, tried: triedOut, problem: null,
        };
      }
      let problem: string;
      try {
        await detectPython({ python: wanted, fallback: python === undefined });
        problem = 'no Python with PyTorch found';
      } catch (err) {
        problem = err instanceof FieldpackError ? err.message : String(err);
      }
      return {
        ok: false, interpreter: null, executable: null, pythonVersion: null, torchVersion: null, cuda: false, cudaVersion: null, gpuName: null,
        onnx: false, device: null, configured, tried: triedOut, problem,
      };
    },
  };
}
