/**
 * The VQ-VAE trainer's entry point and run configuration (resources/trainer/fieldpack_trainer/vqvae_train.py): the
 * model's sizes and the optimisation over the data folder prepare-maps.ts writes. The train-vqvae job and
 * `bench --train` both start it through this.
 */
import type { z } from 'zod';
import type { VqvaeHyperparameters, VqvaeModelSize } from '../../api/methods/training.ts';
import type { StartTrainingOptions } from './trainer.ts';

export function vqvaeEntry(
  model: z.output<typeof VqvaeModelSize>, hyperparameters: z.output<typeof VqvaeHyperparameters>, logEvery: number,
): NonNullable<StartTrainingOptions['entry']> {
  return {
    module: 'fieldpack_trainer.vqvae_train',
    config: { ...model, ...hyperparameters, data: 'data', outputDir: 'out', stopFile: 'STOP', logEvery },
    epochs: hyperparameters.epochs,
  };
}
