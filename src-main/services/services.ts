/**
 * The implementation of every API method (src-main/api/contract.ts), composed from the handler groups
 * in handlers/. Doors call `dispatch`, which validates the method name and its input before anything runs.
 */
import type { ApiMethod } from '../api/contract.ts';
import { coreHandlers } from './handlers/core.ts';
import { modelHandlers } from './handlers/models.ts';
import { compressionHandlers } from './handlers/compression.ts';
import { trainingHandlers } from './handlers/training.ts';
import { crossfieldHandlers } from './handlers/crossfield.ts';
import { dataHandlers } from './handlers/data.ts';
import { dataFileHandlers } from './handlers/data-files.ts';
import { streamHandlers } from './handlers/streams.ts';
import { reviewHandlers } from './handlers/review.ts';
import { archiveHandlers } from './handlers/archive.ts';
import { benchHandlers } from './handlers/bench.ts';
import type { HandlerDeps, Handlers } from './handlers/types.ts';

export type Services = Handlers<ApiMethod>;

export function createServices(deps: HandlerDeps): Services {
  return {
    ...coreHandlers(deps),
    ...modelHandlers(deps),
    ...compressionHandlers(deps),
    ...trainingHandlers(deps),
    ...crossfieldHandlers(deps),
    ...dataHandlers(deps),
    ...dataFileHandlers(),
    ...streamHandlers(),
    ...reviewHandlers(deps),
    ...archiveHandlers(),
    ...benchHandlers(),
  };
}

export { dispatch } from './dispatch.ts';
export { storelessServices } from './storeless.ts';
