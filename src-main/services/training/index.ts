export * from './config.ts';
export * from './events.ts';
export * from '../system/python-env.ts';
export * from './prepare-data.ts';
export * from './trainer.ts';
export * from '../models/models.ts';
