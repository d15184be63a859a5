/** Every job kind the queue runs, by name. A kind validates its own params. */
import type { Store } from '../store/store.ts';
import type { JobHandler } from '../jobs/types.ts';
import { demoJob } from './demo.ts';
import { compressRunJob } from './compress.ts';
import { trainJob } from './train.ts';
import { trainNglrJob, trainVqvaeJob } from './train-model-file.ts';
import { crossfieldJob } from './crossfield.ts';
import { importJob } from './import.ts';
import { archiveBuildJob } from './archive.ts';

export type AnyJobHandler = JobHandler<Record<string, unknown>, unknown>;

/** What job kinds may use beyond their JobContext. */
export interface JobDeps {
  store: Store;
}

export function jobHandlers(_deps: JobDeps): Record<string, AnyJobHandler> {
  return {
    demo: demoJob as AnyJobHandler,
    compress: compressRunJob(_deps) as AnyJobHandler,
    train: trainJob(_deps),
    'train-vqvae': trainVqvaeJob(_deps) as AnyJobHandler,
    'train-nglr': trainNglrJob(_deps) as AnyJobHandler,
    crossfield: crossfieldJob(_deps) as AnyJobHandler,
    'dataset.import': importJob(_deps) as AnyJobHandler,
    'archive.build': archiveBuildJob(),
  };
}
