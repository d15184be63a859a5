/** Compression workbench methods (api/methods/compression.ts); compress runs are jobs of kind `compress`. */
import type { COMPRESSION_METHODS } from '../../api/methods/compression.ts';
import { codecInfos, listCompressRuns, resolveFieldBound, sliceOfRun } from '../compression/runs.ts';
import type { HandlerDeps, Handlers } from './types.ts';

export function compressionHandlers({ store }: HandlerDeps): Handlers<keyof typeof COMPRESSION_METHODS> {
  return {
    'compression.codecs': () => codecInfos(),
    'compression.resolveBound': ({ fieldId, file, variable, bound }) => resolveFieldBound(store, { fieldId, file, variable }, bound),
    'compression.runs': (filter) => listCompressRuns(store, filter),
    'compression.slice': ({ runId, index, maxSize }) => sliceOfRun(store, runId, index, maxSize),
  };
}
