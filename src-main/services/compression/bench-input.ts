/**
 * Minimal private field loader for the bench and the compress CLI (NetCDF-3 through netcdfjs, NetCDF-4/HDF5
 * through h5wasm). The data service (src-main/services/data/) replaces it once its readers land; this file only
 * knows what the bench protocol needs: a variable as float32/float64 in C order, with a mask from
 * _FillValue / missing_value (exact match), scale_factor / add_offset applied.
 */
import { readFileSync } from 'node:fs';
import { NetCDFReader } from 'netcdfjs';
import type { Field, FieldDtype } from '../../core/field.ts';
import { FieldpackError } from '../../core/errors.ts';

export interface VariableInfo {
  name: string;
  shape: number[];
  dtype: string;
}

const isHdf5 = (b: Uint8Array) => b[0] === 0x89 && b[1] === 0x48 && b[2] === 0x44 && b[3] === 0x46;
const isNc3 = (b: Uint8Array) => b[0] === 0x43 && b[1] === 0x44 && b[2] === 0x46;

const NC_TYPES: Record<string, FieldDtype> = { float: 'float32', double: 'float64', byte: 'int8', short: 'int16', int: 'int32' };

function readHead(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new FieldpackError('NOT_FOUND', `cannot read ${path}: ${(e as Error).message}`);
  }
}

export async function listVariables(path: string): Promise<VariableInfo[]> {
  const buf = readHead(path);
  if (isNc3(buf)) {
    const r = new NetCDFReader(buf);
    const dims = r.dimensions;
    return r.variables
      .filter((v) => v.type in NC_TYPES && v.type !== 'char')
      .map((v) => ({ name: v.name, shape: v.dimensions.map((d) => (d === r.recordDimension.id ? r.recordDimension.length : dims[d]!.size)), dtype: NC_TYPES[v.type]! }));
  }
  if (isHdf5(buf)) {
    const { f, close } = await openH5(path);
    try {
      const out: VariableInfo[] = [];
      for (const k of f.keys()) {
        const ds = f.get(k) as { shape?: number[] | null; dtype?: unknown; metadata?: { type: number } } | null;
        if (!ds || !Array.isArray(ds.shape) || typeof ds.dtype !== 'string' || !/^[<>]?[fd]$/.test(ds.dtype)) continue;
        out.push({ name: k, shape: ds.shape, dtype: ds.dtype.endsWith('d') ? 'float64' : 'float32' });
      }
      return out;
    } finally {
      close();
    }
  }
  throw new FieldpackError('BAD_FILE', `${path} is neither NetCDF-3 nor NetCDF-4/HDF5`);
}

/** Variables a bench takes by default: numeric, at least 2 dims, more than one value. */
export async function benchVariables(path: string): Promise<string[]> {
  const vars = await listVariables(path);
  return vars.filter((v) => v.shape.length >= 2 && v.shape.filter((d) => d > 1).length >= 2 && /float/.test(v.dtype)).map((v) => v.name);
}

type H5File = { keys(): string[]; get(k: string): unknown; close(): void };
async function openH5(path: string): Promise<{ f: H5File; close: () => void }> {
  const h5 = (await import('h5wasm/node')) as unknown as { ready: Promise<unknown>; File: new (p: string, m: string) => H5File };
  await h5.ready;
  const f = new h5.File(path, 'r');
  return { f, close: () => f.close() };
}

function makeField(name: string, shape: number[], raw: ArrayLike<number>, attrs: Record<string, unknown>, sourceDtype: FieldDtype): Field {
  const n = raw.length;
  const fills: number[] = [];
  for (const k of ['_FillValue', 'missing_value']) {
    const v = attrs[k];
    const arr = Array.isArray(v) ? v : [v];
    for (const x of arr) if (typeof x === 'number') fills.push(x);
  }
  const scale = typeof attrs.scale_factor === 'number' ? attrs.scale_factor : 1;
  const offset = typeof attrs.add_offset === 'number' ? attrs.add_offset : 0;
  const f64 = sourceDtype === 'float64' || ((scale !== 1 || offset !== 0) && typeof attrs.scale_factor === 'number' && !Number.isInteger(Math.fround(scale)) && false);
  const values = f64 ? new Float64Array(n) : new Float32Array(n);
  let mask: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    const v = raw[i]!;
    let isFill = false;
    for (const fv of fills) if (v === fv || (sourceDtype === 'float32' && Math.fround(v) === Math.fround(fv))) isFill = true;
    if (isFill) {
      if (!mask) mask = new Uint8Array(n).fill(1);
      mask[i] = 0;
      values[i] = v;
    } else values[i] = v * scale + offset;
  }
  return {
    name,
    shape,
    dims: shape.map((_, i) => `dim${i}`),
    values,
    ...(mask ? { mask } : {}),
    sourceDtype,
    ...(typeof attrs.units === 'string' ? { units: attrs.units } : {}),
    attributes: attrs,
  };
}

export async function loadField(path: string, variable: string): Promise<Field> {
  const buf = readHead(path);
  if (isNc3(buf)) {
    const r = new NetCDFReader(buf);
    const v = r.variables.find((x) => x.name === variable);
    if (!v) throw new FieldpackError('NOT_FOUND', `no variable ${variable} in ${path}`);
    const dimsAll = r.dimensions;
    const shape = v.dimensions.map((d) => (d === r.recordDimension.id ? r.recordDimension.length : dimsAll[d]!.size));
    const data = r.getDataVariable(v) as unknown[];
    const flat: number[] = [];
    for (const x of data) {
      if (Array.isArray(x)) for (const y of x) flat.push(y as number);
      else flat.push(x as number);
    }
    const attrs: Record<string, unknown> = {};
    for (const a of v.attributes as { name: string; value: unknown }[]) attrs[a.name] = a.value;
    const f = makeField(variable, shape, flat, attrs, NC_TYPES[v.type] ?? 'float32');
    f.dims = v.dimensions.map((d) => dimsAll[d]!.name);
    return f;
  }
  if (isHdf5(buf)) {
    const { f, close } = await openH5(path);
    try {
      const ds = f.get(variable) as { shape: number[] | null; dtype: unknown; value: unknown; attrs: Record<string, { value: unknown }> } | null;
      if (!ds || !ds.shape) throw new FieldpackError('NOT_FOUND', `no variable ${variable} in ${path}`);
      const attrs: Record<string, unknown> = {};
      for (const [k, a] of Object.entries(ds.attrs)) {
        if (k === 'DIMENSION_LIST' || k === 'REFERENCE_LIST') continue;
        let val = a.value;
        if (ArrayBuffer.isView(val)) val = Array.from(val as unknown as ArrayLike<number>);
        if (Array.isArray(val) && val.length === 1) val = val[0];
        if (typeof val === 'bigint') val = Number(val);
        attrs[k] = val;
      }
      const value = ds.value as ArrayLike<number>;
      const dt = String(ds.dtype).endsWith('d') ? 'float64' : 'float32';
      return makeField(variable, ds.shape, value, attrs, dt);
    } finally {
      close();
    }
  }
  throw new FieldpackError('BAD_FILE', `${path} is neither NetCDF-3 nor NetCDF-4/HDF5`);
}
