import { readFileSync, writeFileSync } from 'node:fs';
import { type CliCommand, CliUsageError, flag, parseFlags } from '../command.ts';
import { decompressStream, closePools } from '../../../services/compression/index.ts';
import { FieldpackError } from '../../../core/errors.ts';

export const decompressCommand: CliCommand = {
  name: 'decompress',
  summary: 'Decompress a .fpk stream to raw little-endian values (.f32 / .f64)',
  usage: 'fieldpack decompress IN.fpk -o OUT.f32 [--rows A:B] [--workers N] [--mask OUT.mask]',
  needsStore: false,
  async run(argv, { io }) {
    const p = parseFlags(argv.map((a) => (a === '-o' ? '--out' : a)), { values: ['out', 'rows', 'workers', 'mask'] });
    const inp = p.positionals[0];
    const out = flag(p, 'out');
    if (!inp || !out) throw new CliUsageError('decompress needs IN.fpk and -o OUT');
    if (/\.nc$/i.test(out)) throw new FieldpackError('UNSUPPORTED', 'NetCDF output is written by the data service; use .f32/.f64 raw output here');
    let rows: [number, number] | undefined;
    const rf = flag(p, 'rows');
    if (rf) {
      const m = /^(\d+):(\d+)$/.exec(rf);
      if (!m) throw new CliUsageError('--rows needs A:B');
      rows = [Number(m[1]), Number(m[2])];
    }
    const workers = Number(flag(p, 'workers') ?? 1);
    try {
      const d = await decompressStream(readFileSync(inp), { rows, workers, onProgress: (f, m) => io.progress(f, m ?? '') });
      io.progressDone();
      const v = d.field.values;
      writeFileSync(out, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      const maskOut = flag(p, 'mask');
      if (maskOut && d.field.mask) writeFileSync(maskOut, d.field.mask);
      const h = d.header;
      io.out(`${out}: ${d.field.name} ${h.dtype} [${d.field.shape.join('x')}] (C order, little endian), bound ${h.bound.mode}:${h.bound.value} -> abs ${h.bound.abs}${h.bound.lossless ? ' (lossless)' : ''}, codec ${h.codec} ${JSON.stringify(h.params)}`);
      return 0;
    } finally {
      await closePools();
    }
  },
};

export default decompressCommand;
