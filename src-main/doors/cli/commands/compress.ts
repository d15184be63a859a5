import { writeFileSync } from 'node:fs';
import { type CliCommand, CliUsageError, flag, parseFlags } from '../command.ts';
import { parseBound } from '../../../core/codec/bound.ts';
import { PREDICTOR_NAMES } from '../../../core/codec/predictors/types.ts';
import { compressField, closePools, metadataOf } from '../../../services/compression/index.ts';
import { loadField } from '../../../services/compression/bench-input.ts';
import { basename } from 'node:path';

export const compressCommand: CliCommand = {
  name: 'compress',
  summary: 'Compress one variable of a NetCDF file into an error-bounded .fpk stream',
  usage: [
    'fieldpack compress FILE --var NAME --bound MODE:VALUE [--codec auto|lorenzo|dq-lorenzo|interp-linear|interp-cubic]',
    '                   [--entropy range|huffman|auto] [--workers N] [--no-verify] -o OUT.fpk',
    '  MODE: abs, rel (to the valid range), psnr (dB), nrmse; a bound of 0 is lossless.',
  ].join('\n'),
  needsStore: false,
  async run(argv, { io }) {
    const p = parseFlags(argv.map((a) => (a === '-o' ? '--out' : a)), { values: ['var', 'bound', 'codec', 'workers', 'out', 'entropy'], booleans: ['no-verify'] });
    const file = p.positionals[0];
    const variable = flag(p, 'var');
    const out = flag(p, 'out');
    if (!file || !variable || !out || !flag(p, 'bound')) throw new CliUsageError('compress needs FILE, --var NAME, --bound MODE:VALUE and -o OUT.fpk');
    const bound = parseBound(flag(p, 'bound')!);
    const codec = flag(p, 'codec') ?? 'auto';
    if (codec !== 'auto' && !(PREDICTOR_NAMES as readonly string[]).includes(codec)) throw new CliUsageError(`unknown codec ${codec}`);
    const entropy = (flag(p, 'entropy') ?? 'range') as 'range' | 'huffman' | 'auto';
    if (!['range', 'huffman', 'auto'].includes(entropy)) throw new CliUsageError(`unknown entropy coder ${entropy}`);
    const workers = Number(flag(p, 'workers') ?? 1);
    if (!Number.isInteger(workers) || workers < 0) throw new CliUsageError('--workers needs an integer >= 0');
    try {
      const field = await loadField(file, variable);
      const r = await compressField(field, {
        bound,
        predictor: codec as never,
        entropy,
        workers,
        verify: flag(p, 'no-verify') !== 'true',
        metadata: metadataOf(field, basename(file)),
        onProgress: (f, m) => io.progress(f, m ?? ''),
      });
      io.progressDone();
      writeFileSync(out, r.bytes);
      io.out(`${variable} [${field.shape.join('x')}] ${r.boundLabel}; predictor ${r.plan.predictor}${r.lossless ? ' (lossless)' : ''}`);
      io.out(`${out}: ${r.bytes.length} bytes, ratio ${r.compressionRatio.toFixed(2)}${r.verification ? `, max error/bound ${r.verification.maxErrorOverBound.toFixed(4)}, PSNR ${r.verification.psnr.toFixed(2)} dB` : ''}`);
      return 0;
    } finally {
      await closePools();
    }
  },
};

export default compressCommand;
