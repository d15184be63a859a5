/**
 * The run configuration (run.json in a run folder), validated before the trainer starts so that a bad
 * setting is a clear INVALID_ARGUMENT at once. Mirrors resources/trainer/fieldpack_trainer/config.py.
 */
import { FieldpackError } from '../../core/errors.ts';

// The schema lives in the API (the train job's params are built from it); the trainer's side is here.
export { NETWORK_DEFAULTS, NETWORK_TYPES, TrainingConfigSchema, type NetworkType, type TrainingConfig, type TrainingConfigInput } from '../../api/methods/training.ts';
import { TrainingConfigSchema, type TrainingConfig } from '../../api/methods/training.ts';

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
