/**
 * fieldpack export FILE --var NAME -o OUT.nc|OUT.f32 [--format nc|raw] [--slice A:B,...] ...
 * Reads any file the readers read (NetCDF-3/4, HDF5, raw, and .fpk streams, decompressed) and writes one field as
 * NetCDF-4 (attributes, coordinates and provenance kept) or raw binary + FILE.json sidecar, through the service
 * API's data.export. Needs no store.
 */
import { extname } from 'node:path';
import { type CliCommand, CliUsageError, flag, onePositional, parseFlags, rawLayoutFromFlags } from '../command.ts';
import { callApi, terminalCall } from '../api.ts';
import type { FieldSlice } from '../../../services/data/readers/types.ts';

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
    'fieldpack export FILE --var NAME -o OUT.nc|OUT.f32 [--format nc|raw] [--slice A:B,C:D,...] [--overwrite]',
    '                 [--dtype float32|float64] [--endian little|big] [--fill VALUE|NaN] (raw output)',
    '  .fpk input is decompressed first; its codec and bound become fieldpack_* attributes of the output; what it needs',
    '  is found as decompress finds it: beside it, or given with [--anchor FILE]... [--model FILE]... [--base file:PATH]',
    '  raw input without a sidecar: --raw-shape 100,500,500 --raw-dtype float32 [--raw-endian big]',
    '  an OUT that exists is refused before anything is read, unless --overwrite',
  ].join('\n'),
  needsStore: false,
  async run(argv, ctx) {
    const p = parseFlags(argv.map((a) => (a === '-o' ? '--out' : a)), {
      values: ['var', 'out', 'format', 'slice', 'dtype', 'endian', 'fill', 'raw-shape', 'raw-dtype', 'raw-endian', 'anchor', 'model', 'base'],
      booleans: ['overwrite'],
    });
    const file = p.positionals[0];
    const out = flag(p, 'out');
    if (!file || !out) throw new CliUsageError('export needs FILE and -o OUT');
    onePositional(p, 'export', 'FILE');
    const ext = extname(out).toLowerCase();
    const given = flag(p, 'format');
    const format = given ?? (NC_EXT.has(ext) ? 'nc' : RAW_EXT.has(ext) ? 'raw' : undefined);
    if (format !== 'nc' && format !== 'raw') {
      throw new CliUsageError(given === undefined ? `cannot tell the output format from "${out}": give --format nc or --format raw` : `--format ${given}: the formats are nc (NetCDF-4) and raw`);
    }
    const dtype = flag(p, 'dtype');
    if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') throw new CliUsageError('--dtype is float32 or float64');
    const endian = flag(p, 'endian');
    if (endian !== undefined && endian !== 'little' && endian !== 'big') throw new CliUsageError('--endian is little or big');
    const fillFlag = flag(p, 'fill')?.trim();
    // NaN as well, as sidecars write it
    const fill = fillFlag === undefined ? undefined : /^nan$/i.test(fillFlag) ? 'NaN' : Number(fillFlag);
    if (typeof fill === 'number' && Number.isNaN(fill)) throw new CliUsageError(`--fill needs a number or NaN (got "${fillFlag}")`);
    const sliceFlag = flag(p, 'slice');
    const variable = flag(p, 'var');
    const raw = rawLayoutFromFlags(p);
    const call = terminalCall(ctx.io);
    try {
      const r = await callApi(ctx, 'data.export', {
        path: file, out, format,
        ...(variable ? { variable } : {}),
        ...(sliceFlag ? { slice: parseSlice(sliceFlag).map((range) => range ?? null) } : {}),
        ...(dtype ? { dtype } : {}),
        ...(endian ? { endianness: endian } : {}),
        ...(fill !== undefined ? { fill } : {}),
        ...(raw ? { raw } : {}),
        ...(p.flags.has('anchor') || p.flags.has('model') ? { anchors: [...(p.flags.get('anchor') ?? []), ...(p.flags.get('model') ?? [])] } : {}),
        ...(flag(p, 'base') ? { base: flag(p, 'base') } : {}),
        ...(flag(p, 'overwrite') ? { overwrite: true } : {}),
      }, call);
      call.done();
      ctx.io.out(`${r.out}: ${r.variable} [${r.shape.join('x')}] ${r.format === 'nc' ? 'NetCDF-4' : `raw (sidecar ${r.sidecar})`}${r.maskedPoints ? `, ${r.maskedPoints} masked points` : ''}`);
      return 0;
    } finally {
      call.done();
    }
  },
};

export default exportCommand;
