/**
 * A minimal reader of variables for `fieldpack train`: NetCDF-3 with netcdfjs, NetCDF-4/HDF5 with
 * h5wasm; fill values become masks, scale_factor/add_offset are applied. The data service
 * (src-main/services/data) is the full reader; switch to it once it exposes one for the CLI.
 */
import { readFileSync } from 'node:fs';
import { FieldpackError } from '../../core/errors.ts';
import type { Field } from '../../core/field.ts';

function finish(name: string, shape: number[], dims: string[], raw: ArrayLike<number>, attrs: Record<string, unknown>): Field {
  const num = (k: string) => {
    const v = attrs[k];
    const x = Array.isArray(v) || ArrayBuffer.isView(v) ? Number((v as ArrayLike<number>)[0]) : Number(v);
    return Number.isFinite(x) ? x : undefined;
  };
  const fills = [num('_FillValue'), num('missing_value')].filter((x): x is number => x !== undefined);
  const scale = num('scale_factor') ?? 1;
  const offset = num('add_offset') ?? 0;
  const n = raw.length;
  const values = new Float32Array(n);
  const mask = new Uint8Array(n);
  let invalid = 0;
  for (let i = 0; i < n; i++) {
    const r = raw[i]!;
    const bad = !Number.isFinite(r) || fills.some((f) => r === f || Math.fround(r) === Math.fround(f)) || Math.abs(r) > 1e30;
    mask[i] = bad ? 0 : 1;
    invalid += bad ? 1 : 0;
    values[i] = bad ? NaN : r * scale + offset;
  }
  return { name, shape, dims, values, ...(invalid ? { mask } : {}), sourceDtype: 'float32', ...(typeof attrs.units === 'string' ? { units: attrs.units } : {}), attributes: {} };
}

export async function readFields(path: string, names: string[]): Promise<Field[]> {
  const head = readFileSync(path).subarray(0, 8);
  if (head[0] === 0x43 && head[1] === 0x44 && head[2] === 0x46) {
    const { NetCDFReader } = await import('netcdfjs');
    const r = new NetCDFReader(readFileSync(path));
    return names.map((name) => {
      const v = r.variables.find((x) => x.name === name);
      if (!v) throw new FieldpackError('NOT_FOUND', `${path} has no variable ${name} (have: ${r.variables.map((x) => x.name).join(', ')})`);
      const dims = (v.dimensions as number[]).map((d) => r.dimensions[d]!.name);
      const data = r.getDataVariable(name) as unknown as ArrayLike<number> | ArrayLike<number>[];
      const flat: number[] = v.record ? (data as ArrayLike<number>[]).flatMap((x) => Array.from(x)) : Array.from(data as ArrayLike<number>);
      const recs = v.record ? (data as unknown[]).length : undefined;
      const shape = (v.dimensions as number[]).map((d) => r.dimensions[d]!.size || recs || 0);
      const attrs = Object.fromEntries((v.attributes as unknown as { name: string; value: unknown }[]).map((a) => [a.name, a.value]));
      return finish(name, shape, dims, flat, attrs);
    });
  }
  const h5 = (await import('h5wasm/node')).default;
  await h5.ready;
  const f = new h5.File(path, 'r');
  try {
    return names.map((name) => {
      const d = f.get(name) as unknown as { shape: number[]; value: ArrayLike<number>; attrs: Record<string, { value: unknown }> } | null;
      if (!d || !d.shape) throw new FieldpackError('NOT_FOUND', `${path} has no variable ${name}`);
      const attrs = Object.fromEntries(Object.entries(d.attrs ?? {}).map(([k, a]) => [k, a.value]));
      return finish(name, d.shape, d.shape.map((_, i) => `dim${i}`), d.value, attrs);
    });
  } finally {
    f.close();
  }
}
