/**
 * Training: the run configuration the trainer validates (mirrors resources/trainer/fieldpack_trainer/config.py),
 * the params of a `train` job, the network types a run can train (with their defaults) and the Python it would use.
 */
import { z } from 'zod';

export const NETWORK_TYPES = ['tiny-cnn', 'cfnn'] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];

/** Default network parameters per type (the trainer's NETWORKS registry). */
export const NETWORK_DEFAULTS: Record<NetworkType, Record<string, unknown>> = {
  'tiny-cnn': { hidden: 8, layers: 3, kernel: 3, activation: 'relu' },
  cfnn: { hidden: 16, layers: 4, kernel: 3, activation: 'leaky_relu', negativeSlope: 0.01 },
};

const posInt = z.number().int().min(1);
const nonNegInt = z.number().int().min(0);

export const TrainingConfigSchema = z.strictObject({
  version: z.literal(1).default(1),
  network: z.enum(NETWORK_TYPES),
  networkParams: z
    .strictObject({
      hidden: posInt.max(1024).optional(),
      layers: posInt.max(64).optional(),
      kernel: posInt.max(15).refine((k) => k % 2 === 1, 'kernel must be odd').optional(),
      activation: z.enum(['relu', 'leaky_relu', 'tanh']).optional(),
      negativeSlope: z.number().min(0).max(1).optional(),
    })
    .default({}),
  /** Data folder relative to the run folder (prepareTrainingData writes `data`). */
  data: z.string().min(1).default('data'),
  /** Anchor / input variables, in channel order. */
  inputs: z.array(z.string().min(1)).min(1),
  target: z.string().min(1),
  epochs: posInt.max(100_000).default(5),
  batchSize: posInt.max(4096).default(8),
  learningRate: z.number().positive().max(10).default(1e-3),
  weightDecay: z.number().min(0).default(0),
  seed: nonNegInt.default(0),
  patchSize: posInt.max(4096).default(64),
  patchesPerSample: posInt.max(100_000).default(8),
  /** 0 = no limit. */
  maxStepsPerEpoch: nonNegInt.default(0),
  validationFraction: z.number().min(0).lt(1).default(0.25),
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  /** torch.set_num_threads; 0 = torch's default. */
  threads: nonNegInt.default(0),
  outputDir: z.string().min(1).default('out'),
  stopFile: z.string().min(1).default('STOP'),
  logEvery: posInt.default(1),
  opset: z.union([z.literal(13), z.literal(17)]).default(13),
  probe: z.boolean().default(true),
  exportOnnx: z.boolean().default(true),
});

export type TrainingConfigInput = z.input<typeof TrainingConfigSchema>;
export type TrainingConfig = z.output<typeof TrainingConfigSchema>;

export const TrainFieldRef = z.strictObject({ file: z.string().trim().min(1), variable: z.string().trim().min(1) });
export type TrainFieldRef = z.infer<typeof TrainFieldRef>;

const C = TrainingConfigSchema.shape;
/** Hyperparameters: the TrainingConfig keys a user chooses, each optional (the trainer's defaults apply). */
export const TrainHyperparameters = z
  .strictObject({
    epochs: C.epochs.unwrap().optional(),
    batchSize: C.batchSize.unwrap().optional(),
    learningRate: C.learningRate.unwrap().optional(),
    weightDecay: C.weightDecay.unwrap().optional(),
    seed: C.seed.unwrap().optional(),
    patchSize: C.patchSize.unwrap().optional(),
    patchesPerSample: C.patchesPerSample.unwrap().optional(),
    maxStepsPerEpoch: C.maxStepsPerEpoch.unwrap().optional(),
    validationFraction: C.validationFraction.unwrap().optional(),
    device: C.device.unwrap().optional(),
    threads: C.threads.unwrap().optional(),
  })
  .default({});

export const TrainParams = z.strictObject({
  network: z.enum(NETWORK_TYPES),
  /** Input (anchor) variables, in channel order. */
  inputs: z.array(TrainFieldRef).min(1, 'at least one input field is needed'),
  target: TrainFieldRef,
  hyperparameters: TrainHyperparameters,
  /** hidden, layers, kernel, activation, negativeSlope (NETWORK_DEFAULTS fill the rest). */
  networkParams: C.networkParams.unwrap().default({}),
  /** Trailing spatial dimensions (2 or 3); default 3 for 4D+ fields, else 2. */
  spatialDims: z.union([z.literal(2), z.literal(3)]).optional(),
  /** Where the fields come from, kept with the model (dataset id in the current project). */
  datasetId: z.number().int().positive().optional(),
  /** Interpreter for this run only (no fallback to others); default: the setting, then auto-detect. */
  python: z.string().trim().min(1).optional(),
});
export type TrainParams = z.infer<typeof TrainParams>;
export type TrainParamsInput = z.input<typeof TrainParams>;


/** What a `train` job returns when it finishes. */
export interface TrainJobResult {
  modelId: number | null;
  contentHash: string | null;
  device: { device: 'cuda' | 'cpu'; name: string | null } | null;
  epochs: number;
  steps: number;
  secondsPerEpoch: number | null;
  elapsedS: number;
  metrics: Record<string, unknown>;
  runDir: string;
  python: { executable: string; pythonVersion: string; torchVersion: string };
}

export const NetworkInfo = z.object({
  type: z.string(),
  description: z.string(),
  /** Defaults of the network's own parameters (hidden, layers, kernel, activation...). */
  networkParams: z.record(z.string(), z.unknown()),
  /** Defaults of the run's hyperparameters (epochs, batchSize, learningRate, patchSize...). */
  hyperparameters: z.record(z.string(), z.unknown()),
  /** Whether the target may also be an input (anchor). */
  targetMayBeInput: z.boolean(),
  /** the job kind that trains it: `train` (inputs -> target), `train-vqvae` (maps of the chosen fields), `train-nglr` (their quantized residuals) */
  jobKind: z.enum(['train', 'train-vqvae', 'train-nglr']),
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

/**
 * The VQ-VAE trainer's run configuration (resources/trainer/fieldpack_trainer/vqvae_train.py): the model's sizes and
 * the optimisation. Defaults are the small model that trains on a laptop CPU in minutes; the paper's size is
 * channels [64, 128, 128], latentDim 128, codes 256 (a GPU job).
 */
export const VqvaeModelSize = z.strictObject({
  channels: z.tuple([posInt.max(512), posInt.max(512), posInt.max(512)]).default([8, 16, 32]),
  latentDim: posInt.max(512).default(32),
  codesY: z.number().int().min(2).max(4096).default(256),
  codesZ: z.number().int().min(2).max(4096).default(128),
});

export const VqvaeHyperparameters = z.strictObject({
  epochs: posInt.max(100_000).default(20),
  batchSize: posInt.max(4096).default(32),
  learningRate: z.number().positive().max(10).default(3e-4),
  weightDecay: z.number().min(0).default(1e-4),
  patchSize: z.number().int().min(16).max(1024).refine((v) => v % 16 === 0, 'patchSize must be a multiple of 16').default(64),
  patchesPerEpoch: posInt.max(10_000_000).default(2000),
  validationFraction: z.number().min(0).lt(1).default(0.1),
  seed: nonNegInt.default(0),
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  threads: nonNegInt.default(0),
  /**
   * per field: the maps as they are (linear) or log10(x + offset) (log); auto: log for a non-negative field whose
   * skewness is >= 2 (the codec's rule; a model that learned log maps lets the codec's scaling=auto use them)
   */
  scaling: z.enum(['auto', 'linear', 'log']).default('auto'),
});

/** Params of a `train-vqvae` job: 2D maps of these fields (leading dims are samples), standardised per map. */
export const VqvaeTrainParams = z.strictObject({
  fields: z.array(TrainFieldRef).min(1, 'at least one field to train on'),
  model: VqvaeModelSize.default(VqvaeModelSize.parse({})),
  hyperparameters: VqvaeHyperparameters.default(VqvaeHyperparameters.parse({})),
  python: z.string().trim().min(1).optional(),
});
export type VqvaeTrainParams = z.infer<typeof VqvaeTrainParams>;
export type VqvaeTrainParamsInput = z.input<typeof VqvaeTrainParams>;

/** What a `train-vqvae` job returns: the model file (in the store's model folder, found by hash by the codec). */
export interface VqvaeTrainResult {
  contentHash: string | null;
  modelPath: string | null;
  modelBytes: number | null;
  device: { device: 'cuda' | 'cpu'; name: string | null } | null;
  epochs: number;
  secondsPerEpoch: number | null;
  elapsedS: number;
  metrics: Record<string, unknown>;
}

/**
 * The NGLR trainer's run configuration (resources/trainer/fieldpack_trainer/nglr_train.py): the causal bias network's
 * widths (recon 0: no reconstruction branch) and the optimisation. Defaults: a small network that trains on a CPU in
 * well under a minute per million points.
 */
export const NglrModelSize = z.strictObject({
  causal: posInt.max(256).default(16),
  hidden: posInt.max(256).default(16),
  recon: nonNegInt.max(256).default(0),
});

export const NglrHyperparameters = z.strictObject({
  epochs: posInt.max(100_000).default(8),
  stepsPerEpoch: posInt.max(1_000_000).default(150),
  batchSize: posInt.max(1 << 20).default(4096),
  learningRate: z.number().positive().max(10).default(5e-4),
  weightDecay: z.number().min(0).default(1e-6),
  validationFraction: z.number().min(0).lt(1).default(0.1),
  maxPoints: posInt.default(4_000_000),
  seed: nonNegInt.default(0),
  device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  threads: nonNegInt.default(0),
});

/** Params of a `train-nglr` job: the fields' residuals quantized as the codec would at these bounds, on a base or none. */
export const NglrTrainParams = z.strictObject({
  fields: z.array(TrainFieldRef).min(1, 'at least one field to train on'),
  /** bounds the codec will run at, e.g. nrmse:1e-5 (the features are in units of the residual's own scale, so one model serves nearby targets) */
  bounds: z.array(z.string().trim().regex(/^(abs|rel|psnr|nrmse):[^:]+$/, 'a bound such as nrmse:1e-5')).min(1).default(['nrmse:1e-5']),
  /** the base, as the codec's --base takes it (none, CODEC:MODE:VALUE) */
  base: z.string().trim().default('none'),
  model: NglrModelSize.default(NglrModelSize.parse({})),
  hyperparameters: NglrHyperparameters.default(NglrHyperparameters.parse({})),
  python: z.string().trim().min(1).optional(),
});
export type NglrTrainParams = z.infer<typeof NglrTrainParams>;
export type NglrTrainParamsInput = z.input<typeof NglrTrainParams>;

/** What a `train-nglr` job returns (its model file is in the store's model folder, found by hash by the codec). */
export type NglrTrainResult = VqvaeTrainResult & { points: number };
