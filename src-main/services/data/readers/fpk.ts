/**
 * Fieldpack's own compressed streams (.fpk, magic "FPK\x1a") as a data source, so inspect / export /
 * describeDataset read them like any file: the stream header gives name, dims, shape, attributes and the
 * coordinate variables of the dims (listed as 1-D coordinate variables, and in Field.coordinates);
 * readField decompresses (only the chunks holding the requested rows along the first axis).
 * Any registered codec's stream opens (the codec service decodes it); one that needs anchors looks for their
 * streams beside it.
 */
import { type DecodedField, type StreamHeader, decodeStream, inspectStream } from '../../codecs/index.ts';
import { checkStreamSize } from '../../codecs/streamed.ts';
import { type FieldCoordinates, sliceCoordinates, unpackCoordinates } from '../../../core/coordinates.ts';
import { FieldpackError } from '../../../core/errors.ts';
import type { Field, FieldDtype } from '../../../core/field.ts';
import { isFieldDtype } from './cf.ts';
import type { DataFile, OpenOptions, ReadOptions, VariableInfo } from './types.ts';
import { badFile, extractHyperslab, resolveSlice, variableNamed } from './util.ts';
import { readRegularFile } from '../../files/regular.ts';

export const FPK_MAGIC = [0x46, 0x50, 0x4b, 0x1a];

export function isFpk(head: Uint8Array): boolean {
  return FPK_MAGIC.every((b, i) => head[i] === b);
}

export async function openFpk(path: string, sizeBytes: number, given: OpenOptions['streamDependencies'] = {}): Promise<DataFile> {
  const bytes = new Uint8Array(await readRegularFile(path));
  let h: StreamHeader;
  let coordinates: FieldCoordinates | undefined;
  try {
    h = inspectStream(bytes).header;
    coordinates = unpackCoordinates(h.metadata?.coordinates);
  } catch (e) {
    if (e instanceof FieldpackError) throw new FieldpackError(e.code, `${path}: ${e.message}`, { path });
    throw badFile(path, `unreadable Fieldpack stream (${e instanceof Error ? e.message : String(e)})`);
  }
  // a whole stream, as decompress and inspect take it (rows are decoded from it one slice at a time)
  checkStreamSize(path, h, bytes.length);
  const meta = h.metadata ?? {};
  const name = typeof meta.variable === 'string' ? meta.variable : (path.split(/[\\/]/).pop() ?? 'field').replace(/\.fpk$/i, '');
  const dims = Array.isArray(meta.dims) && meta.dims.length === h.shape.length ? meta.dims.map(String) : h.shape.map((_, i) => `dim${i}`);
  const attributes: Record<string, unknown> = {
    ...(meta.attributes ?? {}),
    fieldpack_codec: h.codec,
    fieldpack_bound: h.bound.value,
    fieldpack_bound_mode: h.bound.mode,
    fieldpack_bound_abs: h.bound.abs,
    fieldpack_stream_version: h.fieldpackVersion,
    ...(typeof meta.source === 'string' ? { fieldpack_source_file: meta.source } : {}),
  };
  const sourceDtype: FieldDtype = typeof meta.sourceDtype === 'string' && isFieldDtype(meta.sourceDtype) ? meta.sourceDtype : h.dtype;
  const info: VariableInfo = {
    name,
    dims,
    shape: [...h.shape],
    dtype: h.dtype,
    readable: true,
    attributes,
    ...(typeof meta.units === 'string' ? { units: meta.units } : {}),
    fill: {},
    isCoordinate: false,
  };
  const dimensions: Record<string, number> = {};
  dims.forEach((d, i) => (dimensions[d] = h.shape[i]!));
  // the coordinate variables the stream carries (core/coordinates.ts), as 1-D variables like in the source file
  const coordInfos: VariableInfo[] = [];
  dims.forEach((d, i) => {
    const c = coordinates?.[d];
    if (!c || d === name || c.values.length !== h.shape[i] || coordInfos.some((x) => x.name === d)) return;
    const units = c.attributes?.['units'];
    coordInfos.push({ name: d, dims: [d], shape: [h.shape[i]!], dtype: c.dtype ?? 'float64', readable: true, attributes: c.attributes ?? {}, ...(typeof units === 'string' ? { units } : {}), fill: {}, isCoordinate: true });
  });
  const variables = [info, ...coordInfos];
  const variable = (n: string) => variableNamed(path, variables, n);
  async function readField(n: string, options: ReadOptions = {}): Promise<Field> {
    const v = variable(n);
    if (v.isCoordinate) {
      const { start: [a], count: [k] } = resolveSlice(path, v, options.slice);
      const c = coordinates![n]!;
      const values = (c.values as Float64Array).slice(a!, a! + k!);
      return { name: n, shape: [k!], dims: [n], values, sourceDtype: c.dtype ?? 'float64', ...(v.units ? { units: v.units } : {}), attributes: structuredClone(v.attributes) };
    }
    const { start, count } = resolveSlice(path, info, options.slice);
    const rows: [number, number] = [start[0]!, start[0]! + count[0]!];
    let d: DecodedField;
    try {
      // a stream that needs anchors finds them beside it (the cross-field job writes them there), or among those given
      d = await decodeStream(bytes, { rows, deps: { besidePath: path, ...given }, signal: options.signal, onProgress: options.onProgress });
    } catch (e) {
      if (e instanceof FieldpackError) throw new FieldpackError(e.code, `${path}: ${e.message}`, { path });
      throw e;
    }
    const f = d.field;
    const blockShape = [count[0]!, ...h.shape.slice(1)];
    const blockStart = [0, ...start.slice(1)];
    const values = extractHyperslab(f.values as Float32Array, blockShape, blockStart, count, (m) => new (f.values.constructor as Float32ArrayConstructor)(m));
    const mask = f.mask ? extractHyperslab(f.mask, blockShape, blockStart, count, (m) => new Uint8Array(m)) : undefined;
    const coords = options.coordinates === false ? undefined : sliceCoordinates(coordinates, dims, h.shape, start, count);
    return { name, shape: [...count], dims: [...dims], values, ...(mask ? { mask } : {}), sourceDtype, ...(info.units ? { units: info.units } : {}), attributes: structuredClone(attributes), ...(coords ? { coordinates: coords } : {}) };
  }
  return { path, format: 'fpk' as DataFile['format'], sizeBytes, variables, globalAttributes: {}, dimensions, variable, readField, close() {} };
}
