import type { MODEL_METHODS } from '../../api/methods/models.ts';
import { exportModel, importModel, verifyRegisteredModel } from '../training/registry.ts';
import type { HandlerDeps, Handlers } from './types.ts';

export function modelHandlers({ store }: HandlerDeps): Handlers<keyof typeof MODEL_METHODS> {
  return {
    'models.list': ({ projectId }) => store.listModels(projectId),
    'models.get': ({ id }) => store.getModel(id),
    'models.export': ({ id, path }) => exportModel(store, id, path),
    'models.import': ({ path, projectId }) => importModel(store, path, projectId),
    'models.verify': ({ id }) => verifyRegisteredModel(store, id),
    'models.delete': ({ id }) => {
      store.deleteModel(id);
      return { deleted: id };
    },
  };
}
