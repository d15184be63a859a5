import type { CROSSFIELD_METHODS } from '../../api/methods/crossfield.ts';
import type { HandlerDeps, Handlers } from './types.ts';
import { rankFileAnchors } from '../crossfield/runs.ts';

export function crossfieldHandlers(_deps: HandlerDeps): Handlers<keyof typeof CROSSFIELD_METHODS> {
  return {
    'crossfield.rank': ({ file, target, quickGain, bound }) => rankFileAnchors(file, target, { quickGain, bound }),
  };
}
