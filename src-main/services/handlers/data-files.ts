/**
 * Data methods on files (api/methods/data.ts DATA_FILE_METHODS): a file's variables (data.inspect), its fields
 * described with statistics (data.describe), one field written out (data.export). They need no store: the CLI serves
 * them without opening one. A call may carry progress and cancellation.
 */
import { resolve } from 'node:path';
import type { DATA_FILE_METHODS, ExportInput, InspectOut } from '../../api/methods/data.ts';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';
import { externalBaseField } from '../compression/base.ts';
import { readStreamHead } from '../codecs/streamed.ts';
import { describeDataset } from '../data/describe.ts';
import { exportField } from '../data/export.ts';
import { openDataFile } from '../data/readers/index.ts';
import type { OpenOptions } from '../data/readers/types.ts';
import type { Handlers } from './types.ts';

export async function inspectFile(path: string, raw?: OpenOptions['raw']): Promise<InspectOut> {
  const file = await openDataFile(resolve(path), raw ? { raw } : undefined);
  try {
    return {
      path: file.path,
      format: file.format,
      sizeBytes: file.sizeBytes,
      dimensions: { ...file.dimensions },
      variables: file.variables.map((v) => ({
        name: v.name,
        dims: v.dims,
        shape: v.shape,
        dtype: v.dtype,
        readable: v.readable,
        isCoordinate: v.isCoordinate,
        units: v.units ?? null,
        longName: v.longName ?? null,
        fill: JSON.parse(JSON.stringify(v.fill)) as InspectOut['variables'][number]['fill'],
      })),
    };
  } finally {
    file.close();
  }
}

/** A .fpk export's dependencies as decompress takes them: the files given, and an external base's field read again. */
async function exportDependencies(input: ExportInput): Promise<OpenOptions['streamDependencies']> {
  const files = input.anchors ?? [];
  if (!files.length && !input.base) return undefined;
  const fields: Field[] = [];
  if (input.base) {
    const head = await readStreamHead(input.path).catch(() => {
      throw new FieldpackError('INVALID_ARGUMENT', `${input.path}: a base is given, but this is not a Fieldpack stream (.fpk) that could be coded over one`);
    });
    fields.push(await externalBaseField(input.base, head.header));
  }
  return { files, ...(fields.length ? { fields } : {}) };
}

export function dataFileHandlers(): Handlers<keyof typeof DATA_FILE_METHODS> {
  return {
    'data.inspect': ({ path, raw }) => inspectFile(path, raw),
    'data.describe': ({ paths, variables, raw }, call) =>
      describeDataset(paths, {
        ...(variables ? { variables } : {}),
        ...(raw ? { open: Object.fromEntries(paths.map((p) => [p, { raw }])) } : {}),
        ...(call?.onProgress ? { onProgress: call.onProgress } : {}),
        ...(call?.signal ? { signal: call.signal } : {}),
      }),
    'data.export': async (input, call) => exportField(input, call, await exportDependencies(input)),
  };
}
