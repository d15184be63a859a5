/**
 * NumPy .npz archives and .npy arrays as data sources (services/files/npy.ts parses them): each array a variable
 * with dims dim0.., no attributes, no fill. So the residual-modeling code's input (original_data, recons_data,
 * latent_bit) can be benched as it is: `fieldpack bench DATA.npz --vars original_data --codec lbrc
 * --base file:DATA.npz`.
 */
import type { Field, FieldDtype } from '../../../core/field.ts';
import { type NpyArray, isNpy, isZip, npyNumbers, parseNpy, parseNpz } from '../../files/npy.ts';
import type { DataFile, ReadOptions, VariableInfo } from './types.ts';
import { basenameNoExt, extractHyperslab, resolveSlice, variableNamed } from './util.ts';
import { readRegularFile } from '../../files/regular.ts';

const DTYPES: Record<string, FieldDtype> = { f4: 'float32', f8: 'float64', i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32' };

/** .npy arrays, and zip archives named .npz (other zips are not numpy's) */
export const isNumpy = (head: Uint8Array, path: string) => isNpy(head) || (isZip(head) && /\.npz$/i.test(path));

export async function openNumpy(path: string, sizeBytes: number): Promise<DataFile> {
  const bytes = new Uint8Array(await readRegularFile(path));
  const arrays = isNpy(bytes) ? new Map([[basenameNoExt(path), () => parseNpy(bytes, path)]]) : parseNpz(bytes, path);
  const parsed = new Map<string, NpyArray>();
  const get = (n: string) => {
    if (!parsed.has(n)) parsed.set(n, arrays.get(n)!());
    return parsed.get(n)!;
  };
  const variables: VariableInfo[] = [...arrays.keys()].map((name) => {
    const a = get(name);
    const dtype = DTYPES[a.dtype.slice(1)];
    return { name, dims: a.shape.map((_, i) => `dim${i}`), shape: [...a.shape], dtype: dtype ?? 'other', readable: dtype !== undefined && a.shape.length > 0, attributes: {}, fill: {}, isCoordinate: false };
  });
  const variable = (n: string) => variableNamed(path, variables, n);
  async function readField(n: string, options: ReadOptions = {}): Promise<Field> {
    const v = variable(n);
    const a = get(n);
    const { start, count } = resolveSlice(path, v, options.slice);
    const all = a.values instanceof Float32Array || a.values instanceof Float64Array ? a.values : Float64Array.from(npyNumbers(a));
    const make = (m: number) => new (all.constructor as Float32ArrayConstructor)(m);
    const cut = extractHyperslab(all as Float32Array, v.shape, start, count, make);
    const values = cut === all ? cut.slice() : cut; // the parsed array stays the file's
    return { name: n, shape: [...count], dims: [...v.dims], values, sourceDtype: v.dtype as FieldDtype, attributes: {} };
  }
  const dimensions: Record<string, number> = {};
  for (const v of variables) v.dims.forEach((d, i) => (dimensions[d] = Math.max(dimensions[d] ?? 0, v.shape[i]!)));
  return { path, format: 'npz', sizeBytes, variables, globalAttributes: {}, dimensions, variable, readField, close() {} };
}
