/**
 * Fields for training, read through the data service (one reader for the whole app): CF masks and
 * unpacking included, masked points as NaN with a mask.
 */
import type { Field } from '../../core/field.ts';
import { openDataFile } from '../data/readers/index.ts';

export async function readFields(path: string, names: string[], signal?: AbortSignal): Promise<Field[]> {
  const file = await openDataFile(path);
  try {
    const fields: Field[] = [];
    for (const name of names) fields.push(await file.readField(name, { signal }));
    return fields;
  } finally {
    file.close();
  }
}
