/**
 * fieldpack export FILE --var NAME -o OUT.nc|OUT.f32 [--format nc|raw] [--slice A:B,...] ...
 * Reads any file openDataFile reads (NetCDF-3/4, HDF5, raw, and .fpk streams through the registered
 * 'fpk' source, i.e. decompressed) and writes one field as NetCDF-4 (attributes, coordinates and
 * provenance kept) or raw binary + FILE.json sidecar. Needs no store.
 */
import { checkOutputPath } from '../../../services/files/atomic.ts';
import { basename, extname } from 'node:path';
import { type CliCommand, CliUsageError, flag, parseFlags, rawOptionsFromFlags } from '../command.ts';
import { FieldpackError } from '../../../core/errors.ts';
import { openDataFile } from '../../../services/data/readers/index.ts';
import type { FieldSlice } from '../../../services/data/readers/types.ts';
import { writeFieldNetcdf4 } from '../../../services/data/writers/netcdf4.ts';
import { writeFieldRaw } from '../../../services/data/writers/raw.ts';

const NC_EXT = new Set(['.nc', '.nc4', '.h5', '.hdf5', '.cdf']);
const RAW_EXT = new Set(['.f32', '.f64', '.dat', '.bin', '.raw']);

export function parseSlice(s: string): FieldSlice {
  return s.split(',').map((part) => {
    const t = part.trim();
    if (t === '' || t === ':') return undefined;
    const m = /^(\d+)(?::(\d+))?$/.exec(t);
    if (!m) throw new CliUsageError(`--slice takes ranges like 0:1,10:20 (got "${part}")`);
    const a = Number(m[1]);
    return [a, m[2] !== undefined ? Number(m[2]) : a + 1] as [number, number];
  });
}

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'Write one field of a file (NetCDF, HDF5, raw, or a decompressed .fpk) to NetCDF-4 or raw binary',
  usage: [
    'fieldpack export FILE --var NAME -o OUT.nc|OUT.f32 [--format nc|raw] [--slice A:B,C:D,...]',
    '                 [--dtype float32|float64] [--endian little|big] [--fill VALUE|NaN] (raw output)',
    '  .fpk input is decompressed first; its codec and bound become fieldpack_* attributes of the output',
    '  raw input without a sidecar: --raw-shape 100,500,500 --raw-dtype float32 [--raw-endian big]',
  ].join('\n'),
  needsStore: false,
  async run(argv, { io }) {
    const p = parseFlags(argv.map((a) => (a === '-o' ? '--out' : a)), {
      values: ['var', 'out', 'format', 'slice', 'dtype', 'endian', 'fill', 'raw-shape', 'raw-dtype', 'raw-endian'],
    });
    const file = p.positionals[0];
    const out = flag(p, 'out');
    if (!file || !out) throw new CliUsageError('export needs FILE and -o OUT');
    if (p.positionals.length > 1) throw new CliUsageError(`export takes one FILE (got ${p.positionals.join(' ')})`);
    const ext = extname(out).toLowerCase();
    const format = flag(p, 'format') ?? (NC_EXT.has(ext) ? 'nc' : RAW_EXT.has(ext) ? 'raw' : undefined);
    if (format !== 'nc' && format !== 'raw') throw new CliUsageError(`cannot tell the output format from "${out}": give --format nc or --format raw`);
    await checkOutputPath(out, [file]);
    const src = await openDataFile(file, rawOptionsFromFlags(p));
    try {
      let name = flag(p, 'var');
      if (!name) {
        const data = src.variables.filter((v) => v.readable && !v.isCoordinate);
        if (data.length !== 1) throw new CliUsageError(`${file} has ${data.length} fields (${data.map((v) => v.name).join(', ')}): choose one with --var`);
        name = data[0]!.name;
      }
      const sliceFlag = flag(p, 'slice');
      const slice = sliceFlag ? parseSlice(sliceFlag) : undefined;
      const field = await src.readField(name, { slice, onProgress: (f, m) => io.progress(f, m ?? '') });
      io.progressDone();
      const provenance = { source_file: file, ...(sliceFlag ? { source_slice: sliceFlag } : {}) };
      if (format === 'nc') {
        // the readers give the field its coordinate variables, cut like the slice (a .fpk carries them in its header)
        await writeFieldNetcdf4(field, out, { provenance, coordinates: field.coordinates ?? {}, globalAttributes: src.globalAttributes, ...(src.globalAttributeTypes ? { globalAttributeTypes: src.globalAttributeTypes } : {}) });
      } else {
        const dtype = flag(p, 'dtype') ?? (ext === '.f64' ? 'float64' : ext === '.f32' ? 'float32' : undefined);
        if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') throw new CliUsageError('--dtype is float32 or float64');
        // a .f32 / .f64 name says the dtype to whoever reads it next (decompress refuses the same mismatch)
        if ((ext === '.f32' && dtype === 'float64') || (ext === '.f64' && dtype === 'float32')) throw new CliUsageError(`--dtype ${dtype} does not match the name ${basename(out)}: use .${dtype === 'float32' ? 'f32' : 'f64'} or another --dtype`);
        const endian = flag(p, 'endian');
        if (endian !== undefined && endian !== 'little' && endian !== 'big') throw new CliUsageError('--endian is little or big');
        const fillFlag = flag(p, 'fill');
        // NaN as well, as sidecars write it
        const fill = fillFlag === undefined ? undefined : /^nan$/i.test(fillFlag.trim()) ? NaN : Number(fillFlag);
        if (fill !== undefined && Number.isNaN(fill) && !/^nan$/i.test(fillFlag!.trim())) throw new FieldpackError('INVALID_ARGUMENT', `--fill needs a number or NaN (got "${fillFlag}")`);
        await writeFieldRaw(field, out, { dtype, endianness: endian as 'little' | 'big' | undefined, fillValue: fill, provenance });
      }
      const masked = field.mask ? field.mask.reduce((s, m) => s + (m ? 0 : 1), 0) : 0;
      io.out(`${out}: ${field.name} [${field.shape.join('x')}] ${format === 'nc' ? 'NetCDF-4' : `raw (sidecar ${out}.json)`}${masked ? `, ${masked} masked points` : ''}`);
      return 0;
    } finally {
      src.close();
    }
  },
};

export default exportCommand;
