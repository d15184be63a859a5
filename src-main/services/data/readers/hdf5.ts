/**
 * NetCDF-4 / HDF5 reader (h5wasm, which reads through to the real file system in Node).
 * Groups are walked recursively (variables in groups are named "group/var"); deflate and shuffle are
 * decoded by HDF5 itself; NetCDF-4 dimension scales give the dimension names, and the pure
 * "netCDF dimension but not a netCDF variable" scales are not listed as variables.
 * h5wasm's own error messages say little ("name not defined"), so the file is checked first:
 * signature, superblock, and the end-of-file address it records (a truncated copy fails here).
 */
import { open as openFile } from 'node:fs/promises';
import { FieldpackError } from '../../../core/errors.ts';
import { HDF5_SIGNATURE } from '../../files/magic.ts';
import { fieldSize, type Field } from '../../../core/field.ts';
import { NETCDF_DEFAULT_FILL, fieldFromRaw, fillInfoFor, int64Fills } from './cf.ts';
import { dimensionListIdentities, H5T_REFERENCE, H5T_VLEN, h5guard, h5probe, loadH5wasm, objectIdentity, type H5Dataset, type H5File, type H5Group } from './h5.ts';
import type { DataFile, GroupInfo, ReadOptions, VariableDtype, VariableInfo } from './types.ts';
import { INT64, badFile, checkReadable, checkAborted, declaredDimension, exactDoubles, jsonAttr, missingVariable, padWithFill, readsAsField, resolveSlice, valuesDtypeOf } from './util.ts';

const HIDDEN_ATTRS = new Set(['DIMENSION_LIST', 'REFERENCE_LIST', 'CLASS', 'NAME', '_Netcdf4Dimid', '_Netcdf4Coordinates', '_nc3_strict', '_NCProperties', '_SuperblockVersion', '_IsNetcdf4']);
const PURE_DIM = 'This is a netCDF dimension but not a netCDF variable';
const CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Offset of the HDF5 signature in a file of `size` bytes, or -1: after a user block (h5py's userblock_size, a
 * program's own header) the superblock is at 512 x 2^k, which can be far beyond the first bytes.
 */
export async function locateHdf5Signature(path: string, size: number): Promise<number> {
  const fh = await openFile(path, 'r');
  try {
    const sig = new Uint8Array(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      await fh.read(sig, 0, 8, off);
      if (HDF5_SIGNATURE.every((b, i) => sig[i] === b)) return off;
    }
    return -1;
  } finally {
    await fh.close();
  }
}

function readUint(b: Uint8Array, off: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[off + i]!;
  return v;
}

/** Bytes at each end of a file searched for global heap collections (checkGlobalHeaps); a smaller file is read whole. */
const HEAP_SCAN_BYTES = 16 << 20;
/** Largest global heap collection checked (HDF5 makes them 4 KiB and up, as large as the largest object they hold). */
const MAX_HEAP_COLLECTION = 64 << 20;
/** The scan reads this much at a time */
const HEAP_SCAN_STEP = 1 << 20;
const GCOL = Buffer.from('GCOL');

/**
 * Refuses a file whose global heap collection would make the HDF5 library loop forever. NetCDF-4 keeps each
 * variable's DIMENSION_LIST and its string attributes there; HDF5 walks a collection's objects by their sizes, and an
 * object whose size is 0 (or runs past the collection's end) stops that walk from advancing: one flipped byte, and
 * opening the file never returned. So every collection found, by its signature ("GCOL", version 1, reserved zeros, a
 * size of 4 KiB or more that fits the file) in the first and last HEAP_SCAN_BYTES of the file where writers put
 * their metadata, must be tiled by its objects, each ending within it. (A collection in the middle of a large file is
 * not looked at.)
 */
async function checkGlobalHeaps(path: string, size: number, lengthBytes: number): Promise<void> {
  const fh = await openFile(path, 'r');
  try {
    const read = async (at: number, n: number, into = new Uint8Array(n)) => {
      const { bytesRead } = await fh.read(into, 0, n, at);
      return into.subarray(0, bytesRead);
    };
    const ranges: [number, number][] = size <= 2 * HEAP_SCAN_BYTES ? [[0, size]] : [[0, HEAP_SCAN_BYTES], [size - HEAP_SCAN_BYTES, size]];
    // one step's buffer, reused (a fresh 16 MiB one cost 50 ms in page faults); steps overlap by a collection header
    const step = new Uint8Array(HEAP_SCAN_STEP);
    const header = 8 + lengthBytes;
    for (const [from, to] of ranges) {
      for (let start = from; start < to; start += HEAP_SCAN_STEP - header) {
        const bytes = await read(start, Math.min(HEAP_SCAN_STEP, to - start), step);
        for (let at = indexOfGcol(bytes, 0); at >= 0; at = indexOfGcol(bytes, at + 1)) {
          if (bytes[at + 4] !== 1 || bytes[at + 5] || bytes[at + 6] || bytes[at + 7] || at + header > bytes.length) continue;
          const collection = readUint(bytes, at + 8, lengthBytes);
          if (collection < 4096 || collection > MAX_HEAP_COLLECTION || start + at + collection > size) continue;
          const problem = heapCollectionProblem(await read(start + at, collection), lengthBytes);
          if (problem) throw badFile(path, `corrupt HDF5 global heap collection at byte ${start + at}: ${problem}`);
        }
        if (start + bytes.length >= to) break;
      }
    }
  } finally {
    await fh.close();
  }
}

function indexOfGcol(bytes: Uint8Array, from: number): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(GCOL, from);
}

/** Why a global heap collection's objects do not tile it (HDF5's H5HG walk would not end), or null. */
function heapCollectionProblem(collection: Uint8Array, lengthBytes: number): string | null {
  // the collection's header and each object's: index (u16), references (u16), 4 reserved bytes, size
  const header = 8 + lengthBytes;
  for (let p = header; p + header <= collection.length; ) {
    const index = collection[p]! | (collection[p + 1]! << 8);
    const objectSize = readUint(collection, p + 8, lengthBytes);
    // the free space (index 0) is as long as it says; every other object is padded to 8 bytes after its header
    const span = index === 0 ? objectSize : header + Math.ceil(objectSize / 8) * 8;
    if (!(span > 0) || p + span > collection.length) return `object ${index} at offset ${p} is ${objectSize} bytes, ${span > 0 ? 'past the collection\'s end' : 'which ends where it starts'}`;
    p += span;
  }
  return null;
}

/** Validate the superblock; throws BAD_FILE for unknown versions or truncation. Returns its size of lengths. */
async function checkSuperblock(path: string, size: number): Promise<number> {
  const at = await locateHdf5Signature(path, size);
  if (at < 0) throw badFile(path, 'not an HDF5 file (no HDF5 signature)');
  const fh = await openFile(path, 'r');
  try {
    const head = new Uint8Array(Math.min(size - at, 128));
    await fh.read(head, 0, head.length, at);
    // the signature and nothing after it (it read "version byte undefined")
    if (head.length < 16) throw badFile(path, `truncated: the file ends inside its HDF5 superblock (${size} bytes)`, { sizeBytes: size });
    const version = head[8];
    // base address, (free-space or superblock extension address,) end-of-file address
    let sizeOfOffsets: number;
    let sizeOfLengths: number;
    let addrStart: number;
    if (version === 0 || version === 1) {
      sizeOfOffsets = head[13]!;
      sizeOfLengths = head[14]!;
      addrStart = 24 + (version === 1 ? 4 : 0);
    } else if (version === 2 || version === 3) {
      sizeOfOffsets = head[9]!;
      sizeOfLengths = head[10]!;
      addrStart = 12;
    } else {
      throw badFile(path, `corrupt HDF5 superblock (version byte ${version})`);
    }
    if (![2, 4, 8].includes(sizeOfOffsets)) throw badFile(path, `corrupt HDF5 superblock (size of offsets ${sizeOfOffsets})`);
    if (head.length < addrStart + 3 * sizeOfOffsets) throw badFile(path, `truncated: the file ends inside its HDF5 superblock`, { sizeBytes: size });
    const base = readUint(head, addrStart, sizeOfOffsets);
    const eof = readUint(head, addrStart + 2 * sizeOfOffsets, sizeOfOffsets);
    // the library writes the end of file as an absolute address (user block included); relative to the base address
    // where it is less than the base
    const needed = eof >= base ? eof : base + eof;
    if (needed > size) throw badFile(path, `truncated: the file has ${size} bytes but its HDF5 superblock says ${needed}`, { sizeBytes: size, neededBytes: needed });
    if (![2, 4, 8].includes(sizeOfLengths)) throw badFile(path, `corrupt HDF5 superblock (size of lengths ${sizeOfLengths})`);
    return sizeOfLengths;
  } finally {
    await fh.close();
  }
}

/** HDF5's own filters, which h5wasm decodes: deflate, shuffle, fletcher32, szip, nbit, scaleoffset. */
const BUILT_IN_FILTERS = new Set([1, 2, 3, 4, 5, 6]);

/**
 * The first of a dataset's filters this build cannot decode (a plugin's: h5py's LZF, Blosc, Zstandard, SZ, zfp...),
 * as a phrase, or null. Reading such a dataset fails deep in HDF5 with a message about a plugin folder.
 */
function undecodableFilter(ds: H5Dataset): string | null {
  let filters: { id: number; name: string }[] = [];
  try {
    filters = (ds as unknown as { filters: { id: number; name: string }[] }).filters ?? [];
  } catch {
    return null; // read errors say what is wrong, as before
  }
  const f = filters.find((x) => !BUILT_IN_FILTERS.has(x.id));
  return f ? `compressed with the HDF5 filter ${f.name || 'unnamed'} (id ${f.id}), which Fieldpack cannot decode (it decodes deflate, shuffle, fletcher32, szip, nbit and scaleoffset: h5repack -f NONE or -f GZIP=4 rewrites it)` : null;
}

/** HDF5 type classes (H5T_class_t) with no field dtype here, as users know them. */
const OTHER_CLASSES: Record<number, string> = { 2: 'a time', 4: 'a bitfield', 5: 'opaque', 6: 'a compound (record)', 7: 'a reference', 8: 'an enum (h5py writes booleans so)', 9: 'a variable-length', 10: 'an array' };

/** What a dataset of dtype 'other' holds, for the reason it is not read. */
function otherTypeOf(meta: { type: number; size: number }): string {
  if (meta.type === 1) return `a ${8 * meta.size}-bit float type (float32 and float64 are read)`;
  return `${OTHER_CLASSES[meta.type] ?? `an HDF5 class ${meta.type}`} type, not a numeric field type`;
}

function dtypeOf(meta: { type: number; size: number; signed?: boolean; vlen?: boolean }): VariableDtype {
  if (meta.type === 0) {
    const s = meta.signed;
    switch (meta.size) {
      case 1: return s ? 'int8' : 'uint8';
      case 2: return s ? 'int16' : 'uint16';
      case 4: return s ? 'int32' : 'uint32';
      case 8: return s ? 'int64' : 'uint64';
    }
  }
  if (meta.type === 1) return meta.size === 4 ? 'float32' : meta.size === 8 ? 'float64' : 'other';
  if (meta.type === 3) return meta.size === 1 && !meta.vlen ? 'char' : 'string';
  return 'other';
}

type AttrMeta = { type: number; size: number; signed?: boolean; vlen_type?: AttrMeta; array_type?: AttrMeta; compound_type?: { members?: AttrMeta[] } };

/**
 * Whether an attribute's type holds references or variable-length sequences (NetCDF-4's DIMENSION_LIST,
 * REFERENCE_LIST), at any depth. Such values are never shown, and they are not read: where their heap is corrupt,
 * HDF5 fails but h5wasm goes on to decode the buffer it left unwritten, lengths that are garbage, and builds arrays
 * of them until the process runs out of memory (one flipped byte in a NetCDF-4 file's global heap did so).
 */
function holdsReferences(meta: AttrMeta | undefined): boolean {
  if (!meta) return false;
  if (meta.type === H5T_REFERENCE || meta.type === H5T_VLEN) return true;
  return holdsReferences(meta.array_type) || (meta.compound_type?.members ?? []).some(holdsReferences);
}

/** The stored type of a numeric attribute (HDF5 class 0: integer, 1: float), or undefined. */
function attributeDtype(meta: AttrMeta): VariableDtype | undefined {
  if (meta.type === 1) return meta.size === 4 ? 'float32' : meta.size === 8 ? 'float64' : undefined;
  if (meta.type !== 0 || ![1, 2, 4, 8].includes(meta.size)) return undefined;
  return `${meta.signed === false ? 'u' : ''}int${meta.size * 8}` as VariableDtype;
}

/**
 * An object's attributes as shown (values, which of them are float64, their stored types) and the names of all of them, the
 * hidden ones included (whether a DIMENSION_LIST is there to read: asking h5wasm for one that is not throws from
 * within WebAssembly, which leaks its stack, and after ~15,000 such throws the library aborted).
 */
function readAttrs(obj: { attrs: Record<string, { json_value: unknown; value: unknown; metadata: AttrMeta }> }, hideAll: boolean): { values: Record<string, unknown>; doubles: Set<string>; types: Record<string, VariableDtype>; names: string[] } {
  const values: Record<string, unknown> = {};
  const doubles = new Set<string>();
  const types: Record<string, VariableDtype> = {};
  let attrs: Record<string, { json_value: unknown; value: unknown; metadata: AttrMeta }>;
  try {
    attrs = obj.attrs;
  } catch {
    return { values, doubles, types, names: [] };
  }
  const names = Object.keys(attrs);
  for (const name of names) {
    if (hideAll && HIDDEN_ATTRS.has(name)) continue;
    try {
      const a = attrs[name]!;
      const meta = a.metadata;
      if (holdsReferences(meta)) continue;
      if (meta.type === 1 && meta.size === 8) doubles.add(name);
      const t = attributeDtype(meta);
      if (t) types[name] = t;
      let v: unknown = meta.type === 0 || meta.type === 1 ? jsonAttr(a.value) : a.json_value;
      if (Array.isArray(v) && v.length === 1) v = v[0];
      if (typeof v === 'string') v = v.replace(/\0+$/, '');
      values[name] = v;
    } catch {
      // exotic attribute types: not shown
    }
  }
  return { values, doubles, types, names };
}

/** Deeper group nesting is refused (NetCDF-4 files nest a few levels; a cycle of links would go on). */
const MAX_GROUP_DEPTH = 64;

interface Entry {
  info: VariableInfo;
  path: string;
  /** the dataset's extent as written: shorter than info.shape along an unlimited dimension other variables extend */
  written?: number[];
}

export async function openHdf5(path: string, size: number): Promise<DataFile> {
  await checkGlobalHeaps(path, size, await checkSuperblock(path, size));
  const h5 = await loadH5wasm();
  const file = h5guard(path, 'corrupt HDF5 file, the HDF5 library cannot open it', () => new h5.File(path, 'r') as H5File);
  try {
    const entries = new Map<string, Entry>();
    const dimensions: Record<string, number> = {};
    const unlimited: string[] = [];
    // groups by identity: hard links can make them a cycle, each is walked once (and soft links nest only so deep)
    const walked = new Set<string>();
    const groups: GroupInfo[] = [];
    const walk = (group: H5Group, prefix: string) => {
      const id = objectIdentity(file, `/${prefix}`);
      if (id !== null) {
        if (walked.has(id)) return;
        walked.add(id);
      }
      if (prefix.split('/').length > MAX_GROUP_DEPTH) throw badFile(path, `HDF5 groups nested more than ${MAX_GROUP_DEPTH} deep at "/${prefix}" (a cycle of links?)`);
      if (prefix) {
        const { values: attributes, types } = readAttrs(group as never, true);
        groups.push({ path: prefix.slice(0, -1), attributes, ...(Object.keys(types).length ? { attributeTypes: types } : {}) });
      }
      let keys: string[];
      try {
        keys = group.keys();
      } catch (e) {
        throw badFile(path, `corrupt HDF5 group "/${prefix}" (${e instanceof Error ? e.message : String(e)})`);
      }
      for (const key of keys) {
        const link = softLink(group, `/${prefix}${key}`);
        if (link?.dangling) {
          found.push({ name: `${prefix}${key}`, notRead: `a soft link to "${link.target}", which is not in the file (a dangling link)` });
          continue;
        }
        let obj: unknown;
        try {
          obj = group.get(key);
        } catch (e) {
          throw badFile(path, `corrupt HDF5 object "/${prefix}${key}" (${e instanceof Error ? e.message : String(e)})`);
        }
        if (!obj) continue;
        const type = (obj as { type: string }).type;
        if (type === 'Group') walk(obj as H5Group, `${prefix}${key}/`);
        else if (type === 'Dataset') found.push({ ...describeDataset(obj as H5Dataset, prefix, key), viaSoftLink: link !== null });
        else if (type === 'ExternalLink') {
          // h5wasm does not follow a link into another file: listed with where it leads, as a dangling one is
          const { filename, obj_path: target } = obj as { filename: string; obj_path: string };
          found.push({ name: `${prefix}${key}`, notRead: `an external link to "${target}" in ${filename}, which is read by opening that file` });
        }
      }
    };
    // an axis without a dimension scale (plain HDF5) gets a phony dimension as netCDF-C names them: the first one of
    // its length the dataset does not use yet, else a new one (a name always means one length)
    const phonyBySize = new Map<number, string[]>();
    let phonyCount = 0;
    const phonyDim = (size: number, taken: readonly string[]): string => {
      const known = phonyBySize.get(size) ?? [];
      const free = known.find((d) => !taken.includes(d));
      if (free) return free;
      const name = `phony_dim_${phonyCount++}`;
      phonyBySize.set(size, [...known, name]);
      return name;
    };
    /** The soft link at `at` (null: a hard one), and whether it leads nowhere (HDF5 would fail the walk on it). */
    const softLink = (group: H5Group, at: string): { target: string; dangling: boolean } | null => {
      const target = h5probe(() => (group as unknown as { get_link(p: string): string | null }).get_link(at));
      if (typeof target !== 'string') return null;
      const resolved = target.startsWith('/') ? target : `${at.slice(0, at.lastIndexOf('/'))}/${target}`;
      return { target, dangling: h5probe(() => objectIdentity(file, resolved)) === null };
    };
    /** A link that leads to no dataset of this file (dangling, or into another file), listed (not read) with why. */
    const addLink = (name: string, why: string) => {
      entries.set(name, {
        path: `/${name}`,
        info: {
          name, dims: [], shape: [], dtype: 'other', readable: false, unreadable: why,
          attributes: {}, fill: {}, isCoordinate: false,
        },
      });
    };
    /** A dataset as the walk finds it: its attributes read, a dimension scale's length noted; its dims come later. */
    const describeDataset = (ds: H5Dataset, prefix: string, key: string) => {
      const name = `${prefix}${key}`;
      const shape = (ds.shape ?? []).map(Number);
      // every attribute read once: the hidden ones (CLASS, NAME, DIMENSION_LIST, ...) say what the dataset is, the others are shown
      const attrs = readAttrs(ds as never, false);
      const isScale = attrs.values['CLASS'] === 'DIMENSION_SCALE';
      if (isScale && shape.length === 1) dimensions[name] = shape[0]!;
      // h5wasm reports an unlimited maximum as 2^64 - 1
      if (isScale && shape.length === 1 && Number((ds as { metadata?: { maxshape?: unknown[] } }).metadata?.maxshape?.[0] ?? 0) > Number.MAX_SAFE_INTEGER) unlimited.push(name);
      return { ds, prefix, key, name, shape, attrs, isScale };
    };
    type Described = ReturnType<typeof describeDataset> & { viaSoftLink: boolean };
    /** What the walk found, in its order: datasets, and links to no dataset of the file (listed, not read) */
    const found: (Described | { name: string; notRead: string })[] = [];
    /**
     * Every dataset the walk found, by identity (objectIdentity): where a DIMENSION_LIST's references lead. A dataset
     * reached by several links is named by a hard link before a soft one, and by the one its NAME attribute (a
     * dimension scale's name) says before others.
     */
    const pathsByIdentity = () => {
      const paths = new Map<string, string>();
      const rank = (d: Described) => (d.viaSoftLink ? 2 : 0) + (d.attrs.values['NAME'] === d.key ? 0 : 1);
      const datasets = found.filter((f): f is Described => 'ds' in f).map((d, i) => ({ d, i }));
      for (const { d: f } of datasets.sort((a, b) => rank(a.d) - rank(b.d) || a.i - b.i)) {
        const id = objectIdentity(file, `/${f.name}`);
        if (id !== null && !paths.has(id)) paths.set(id, `/${f.name}`);
      }
      return paths;
    };
    const addDataset = ({ ds, prefix, key, name, shape, attrs, isScale }: Described, datasetPaths: () => Map<string, string>) => {
      const { values: allAttrs, doubles, types: attrTypes } = attrs;
      const nameAttr = typeof allAttrs['NAME'] === 'string' ? (allAttrs['NAME'] as string) : '';
      if (isScale && nameAttr.startsWith(PURE_DIM)) return; // a dimension only, not a variable
      const attributes = Object.fromEntries(Object.entries(allAttrs).filter(([n]) => !HIDDEN_ATTRS.has(n)));
      // the scales each axis lists, where every one is a dataset of the walk; else HDF5 is asked for that axis
      const listed = attrs.names.includes('DIMENSION_LIST') && !(isScale && shape.length === 1) ? dimensionListIdentities(file, `/${name}`) : null;
      const attachedScales = (axis: number): string[] => {
        const paths = listed?.[axis]?.map((id) => datasetPaths().get(id));
        return paths && paths.every((p) => p !== undefined) ? (paths as string[]) : ds.get_attached_scales(axis);
      };
      const dims: string[] = [];
      let labels: (string | null)[] = [];
      try {
        labels = ds.get_dimension_labels();
      } catch {
        labels = [];
      }
      for (let i = 0; i < shape.length; i++) {
        let dim: string | undefined;
        if (isScale && shape.length === 1) dim = key;
        if (!dim) {
          try {
            const scales = attachedScales(i);
            if (scales.length > 0) {
              const p = scales[0]!.replace(/^\//, '');
              dim = p.startsWith(prefix) ? p.slice(prefix.length) : p;
            }
          } catch {
            /* no scales */
          }
        }
        dims.push(dim ?? labels[i] ?? phonyDim(shape[i]!, dims));
        if (!dim && dimensions[dims[i]!] === undefined) dimensions[dims[i]!] = shape[i]!;
      }
      const dtype = dtypeOf(ds.metadata as never);
      // a null dataspace (h5py's shape=None, an HDF5 "empty" dataset) holds no value at all, not one
      const empty = ds.shape === null;
      const unreadable = empty ? 'empty (an HDF5 null dataspace: no values)' : dtype === 'other' ? `of ${otherTypeOf(ds.metadata as never)}` : undecodableFilter(ds);
      const isCoordinate = shape.length === 1 && dims[0] === key;
      entries.set(name, {
        path: `/${name}`,
        info: {
          name,
          dims,
          shape,
          dtype,
          readable: readsAsField(dtype) && !unreadable,
          ...(unreadable ? { unreadable } : {}),
          attributes,
          attributeTypes: Object.fromEntries(Object.entries(attrTypes).filter(([n]) => n in attributes)),
          units: typeof attributes['units'] === 'string' ? (attributes['units'] as string) : undefined,
          longName: typeof attributes['long_name'] === 'string' ? (attributes['long_name'] as string) : undefined,
          fill: fillInfoFor(dtype, attributes, (n) => doubles.has(n)),
          isCoordinate,
        },
      });
    };
    const { values: globalAttributes, types: globalAttributeTypes } = h5guard(path, 'corrupt HDF5 structure', () => {
      walk(file as unknown as H5Group, '');
      // made on the first list read: a file without any (plain HDF5) asks no dataset its identity
      let paths: Map<string, string> | null = null;
      const datasetPaths = () => (paths ??= pathsByIdentity());
      for (const f of found) {
        if ('ds' in f) addDataset(f, datasetPaths);
        else addLink(f.name, f.notRead);
      }
      return readAttrs(file as never, true);
    });
    const variables = [...entries.values()].map((e) => e.info);
    // an unlimited dimension's scale is as long as it was written (netCDF-4 leaves it empty): its length is the
    // longest extent of the variables along it, as netCDF's own len(dimension) says. A group's variable names its
    // group's dimension by the bare name ("rec" for "g/rec"): matched as netCDF looks it up (declaredDimension), else
    // a group's record dimension read 0 long, and an archive of it verified but did not restore
    const dimensionOf = (v: VariableInfo, i: number) => declaredDimension(v.name, v.dims[i]!, (d) => d in dimensions) ?? v.dims[i]!;
    for (const name of unlimited) {
      for (const v of variables) {
        v.dims.forEach((_, i) => {
          if (dimensionOf(v, i) === name) dimensions[name] = Math.max(dimensions[name] ?? 0, v.shape[i]!);
        });
      }
    }
    // a variable written to fewer records than its unlimited dimension has is as long as the dimension, its records
    // past its own end fill values (netCDF reads them so, and they are masked)
    for (const e of entries.values()) {
      const shape = e.info.shape.map((n, i) => {
        const dim = dimensionOf(e.info, i);
        return unlimited.includes(dim) ? Math.max(n, dimensions[dim] ?? n) : n;
      });
      if (shape.some((n, i) => n !== e.info.shape[i])) {
        e.written = e.info.shape;
        e.info.shape = shape;
      }
    }

    const variable = (name: string): VariableInfo => {
      const e = entries.get(name);
      if (!e) throw missingVariable(path, name, variables);
      return e.info;
    };

    async function readField(name: string, options: ReadOptions = {}): Promise<Field> {
      const v = variable(name);
      checkReadable(path, v);
      // 64-bit integer coordinates (xarray writes its times so) are read as doubles, exactly or not at all
      const dtype = valuesDtypeOf(v.dtype);
      const { start, count } = resolveSlice(path, v, options.slice);
      const entry = entries.get(name)!;
      // the part of the slice the dataset holds (it starts where the slice does): all of it, but for a variable written
      // to fewer records than its unlimited dimension has, whose records past its end are fill values (netCDF reads so)
      const inside = entry.written ? count.map((c, i) => Math.max(0, Math.min(c, entry.written![i]! - start[i]!))) : count;
      const stored = fieldSize(inside) > 0 ? readStored(v, entry.path, start, inside, options) : null;
      // (a 64-bit integer's records past its end: its default fill's double, which its mask takes)
      const raw = entry.written ? padWithFill(stored as never, inside, count, v.fill.fillValue ?? (INT64.has(v.dtype) ? v.fill.defaultFill : undefined) ?? NETCDF_DEFAULT_FILL[dtype]!, dtype) : stored!;
      return fieldFromRaw(v, count, raw, dtype);
    }

    async function readVerbatim(name: string): Promise<Uint8Array | ArrayLike<number>> {
      const v = variable(name);
      const entry = entries.get(name)!;
      if (v.unreadable || entry.written) throw new FieldpackError('UNSUPPORTED', `${path}: variable "${name}" cannot be read as stored${v.unreadable ? ` (${v.unreadable})` : ' (written to fewer records than its dimension)'}`, { path, variable: name });
      if (v.dtype === 'char') {
        const ds = file.get(entry.path) as H5Dataset;
        // h5wasm gives one string per byte (an empty one for NUL)
        const chars = h5guard(path, `could not read variable "${name}" (corrupt or unreadable HDF5 data)`, () => ds.value) as unknown;
        const list = typeof chars === 'string' ? [chars] : (chars as string[]);
        // h5wasm decodes each byte as text: past ASCII the byte it came from is not known (0x80 reads as U+20AC)
        if (list.some((c) => c.length > 1 || c.charCodeAt(0) > 0x7f)) throw new FieldpackError('UNSUPPORTED', `${path}: variable "${name}" holds characters past ASCII, which are not read as stored`, { path, variable: name });
        return Uint8Array.from(list, (c) => (c.length ? c.charCodeAt(0) : 0));
      }
      checkReadable(path, v);
      return readStored(v, entry.path, v.shape.map(() => 0), v.shape, {});
    }

    /** The stored values of a hyperslab of a readable variable (64-bit integers as exact doubles), in pieces where large. */
    function readStored(v: VariableInfo, at: string, start: number[], count: number[], options: ReadOptions): ArrayLike<number> {
      const name = v.name;
      const ds = file.get(at) as H5Dataset;
      let raw: ArrayLike<number>;
      const guard = <T,>(fn: () => T): T => h5guard(path, `could not read variable "${name}" (corrupt or unreadable HDF5 data)`, fn);
      try {
        if (v.shape.length === 0) {
          const val = guard(() => ds.value) as unknown;
          // a 64-bit scalar comes as a bigint: kept one for the exactness check below (Number() rounded 2^55 + 1 first)
          raw = ArrayBuffer.isView(val) ? (val as unknown as ArrayLike<number>)
            : typeof val === 'bigint' ? (v.dtype === 'uint64' ? BigUint64Array.of(val) : BigInt64Array.of(val)) as unknown as ArrayLike<number> : [Number(val)];
        } else {
          const total = fieldSize(count);
          const rowElems = total / count[0]!;
          const elemSize = ds.metadata.size;
          const rowsPerChunk = Math.max(1, Math.floor((options.chunkBytes ?? CHUNK_BYTES) / Math.max(1, rowElems * elemSize)));
          if (rowsPerChunk >= count[0]!) {
            raw = guard(() => ds.slice(start.map((s, i) => [s, s + count[i]!]))) as unknown as ArrayLike<number>;
          } else {
            let out: (ArrayLike<number> & { set(a: ArrayLike<number>, o: number): void }) | undefined;
            for (let r = 0; r < count[0]!; r += rowsPerChunk) {
              checkAborted(options.signal, `reading ${name} from ${path}`);
              const k = Math.min(rowsPerChunk, count[0]! - r);
              const ranges = start.map((s, i) => (i === 0 ? [s + r, s + r + k] : [s, s + count[i]!]));
              const part = guard(() => ds.slice(ranges as never)) as unknown as ArrayLike<number> & { constructor: new (n: number) => never };
              out ??= new part.constructor(total);
              out.set(part, r * rowElems);
              options.onProgress?.((r + k) / count[0]!, `${name}: ${r + k}/${count[0]}`);
            }
            raw = out!;
          }
        }
      } catch (e) {
        if (e instanceof FieldpackError) throw e;
        throw badFile(path, `could not read variable "${name}" (corrupt or unreadable HDF5 data: ${e instanceof Error ? e.message : String(e)})`, { variable: name });
      }
      if (!raw || raw.length !== fieldSize(count)) throw badFile(path, `could not read variable "${name}" (HDF5 returned ${raw?.length ?? 0} values, expected ${fieldSize(count)})`);
      return INT64.has(v.dtype) ? exactDoubles(path, name, raw as unknown as BigInt64Array | BigUint64Array, int64Fills(v)) : raw;
    }

    let closed = false;
    return {
      path,
      format: 'netcdf4-hdf5',
      sizeBytes: size,
      variables,
      globalAttributes,
      globalAttributeTypes,
      groups,
      dimensions,
      unlimited,
      variable,
      readField,
      readVerbatim,
      close() {
        if (!closed) {
          closed = true;
          file.close();
        }
      },
    };
  } catch (e) {
    file.close();
    throw e;
  }
}
