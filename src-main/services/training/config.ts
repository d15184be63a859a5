/**
 * The run configuration (run.json in a run folder), validated before the trainer starts so that a bad
 * setting is a clear INVALID_ARGUMENT at once. Mirrors resources/trainer/fieldpack_trainer/config.py.
 */
import { z } from 'zod';
import { FieldpackError } from '../../core/errors.ts';

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

/** Validates and fills defaults; INVALID_ARGUMENT naming every problem. */
export function parseTrainingConfig(input: unknown): TrainingConfig {
  const r = TrainingConfigSchema.safeParse(input);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new FieldpackError('INVALID_ARGUMENT', `bad training configuration: ${msg}`, { issues: r.error.issues });
  }
  const cfg = r.data;
  if (cfg.inputs.includes(cfg.target) && cfg.network === 'cfnn') {
    throw new FieldpackError('INVALID_ARGUMENT', `bad training configuration: the target ${cfg.target} cannot also be an anchor`);
  }
  return cfg;
}
