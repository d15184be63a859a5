import { lorenzo } from './lorenzo.ts';
import { dqLorenzo } from './dq-lorenzo.ts';
import { interpLinear, interpCubic } from './interp.ts';
export { INTERP_TUNINGS } from './interp.ts';
import type { Predictor } from './types.ts';
import { FieldpackError } from '../../errors.ts';

export * from './types.ts';
export const PREDICTORS: readonly Predictor[] = [lorenzo, dqLorenzo, interpLinear, interpCubic];

export function predictorById(id: number): Predictor {
  const p = PREDICTORS.find((x) => x.id === id);
  if (!p) throw new FieldpackError('BAD_STREAM', `corrupted stream: unknown predictor id ${id}`);
  return p;
}

export function predictorByName(name: string): Predictor {
  const p = PREDICTORS.find((x) => x.name === name);
  if (!p) throw new FieldpackError('INVALID_ARGUMENT', `unknown predictor "${name}" (known: ${PREDICTORS.map((x) => x.name).join(', ')}, auto)`);
  return p;
}
