import { type CliCommand, CliUsageError, checkInputsExist, flag, onePositional, parseFlags, workersFlag } from '../command.ts';
import { FieldpackError } from '../../../core/errors.ts';
import { callApi, terminalCall } from '../api.ts';
import { streamedChoice } from './compress.ts';

export const decompressCommand: CliCommand = {
  name: 'decompress',
  summary: 'Decompress a .fpk stream (any codec) to raw little-endian values in its dtype (.f32 / .f64)',
  usage: [
    'fieldpack decompress IN.fpk -o OUT.f32 [--rows A:B] [--workers N] [--mask OUT.mask] [--anchor FILE]... [--model FILE]... [--base file:PATH] [--clamp] [--streamed|--in-memory] [--overwrite]',
    '  A residual stream (lbrc, gae, nglr) needs its base: a base stream OUT.base.fpk is found beside it; an external',
    '  reconstruction (compressed with --base file:PATH[#var=NAME]) must be given again: --base file:PATH or --anchor PATH.',
    '  A stream that predicts from other fields (cross-field) needs their reconstructions: their .fpk streams',
    '  (or NetCDF files of the decoded fields) given with --anchor, or .fpk streams in the same folder. A VQ-VAE stream\'s',
    '  or NGLR stream\'s model is found by hash in resources/models, the store\'s trained models (--db), FIELDPACK_MODEL_PATH',
    '  or the files given with --model (any name).',
    '  The values are written in the stream\'s dtype (inspect says it): an OUT named .f32 for float64 values, or .f64 for',
    '  float32, is refused. `fieldpack export IN.fpk -o OUT.nc` writes NetCDF-4 with the coordinates.',
    '  Masked (fill) points are written as NaN; --mask OUT.mask writes the mask beside, one u8 per value (1 = valid point);',
    '    a stream with no masked point writes none (and with --overwrite removes the file there, another stream\'s mask).',
    '  --rows A:B: only rows A up to B (not included) of the first dimension (e.g. time steps 0:10).',
    '  --clamp: keep every value inside the original\'s valid range [min, max] (the stream records it): a value the bound',
  '    let pass an end moves to it, so no error grows and a non-negative field (rain, humidity, speed) stays so.',
  '  An OUT (or --mask file) that exists is refused before anything is decoded (it may be the original data): give',
  '    another name, or --overwrite to replace it.',
  '  --streamed: decode and write chunk by chunk (memory independent of the size), automatic above 1 GiB of values;',
  '    with workers a few chunks decode at once, the next ones while these are written.',
    '  --workers N: worker threads for the chunks (default 1; 0: all in this thread); where the workers get one chunk',
    '    each, this thread decodes the last itself, and chunks beside them where the machine has more cores than N.',
    '    The values never depend on N.',
  ].join('\n'),
  needsStore: false,
  async run(argv, ctx) {
    const p = parseFlags(argv.map((a) => (a === '-o' ? '--out' : a)), { values: ['out', 'rows', 'workers', 'mask', 'anchor', 'model', 'base'], booleans: ['streamed', 'in-memory', 'clamp', 'overwrite'] });
    const inp = p.positionals[0];
    const out = flag(p, 'out');
    if (!inp || !out) throw new CliUsageError('decompress needs IN.fpk and -o OUT');
    onePositional(p, 'decompress', 'IN.fpk');
    checkInputsExist([inp]);
    if (/\.nc$/i.test(out)) throw new FieldpackError('UNSUPPORTED', 'NetCDF output is written by `fieldpack export IN.fpk -o OUT.nc`; use .f32/.f64 raw output here');
    let rows: [number, number] | undefined;
    const rf = flag(p, 'rows');
    if (rf) {
      const m = /^(\d+):(\d+)$/.exec(rf);
      if (!m) throw new CliUsageError('--rows needs A:B');
      rows = [Number(m[1]), Number(m[2])];
      if (rows[1] <= rows[0]) throw new CliUsageError(`--rows ${rf}: rows A up to B (not included), B after A (e.g. 0:10)`);
    }
    const workers = workersFlag(p) ?? 1;
    const call = terminalCall(ctx.io);
    try {
      const r = await callApi(ctx, 'streams.decompress', {
        file: inp, out, ...(rows ? { rows } : {}), workers, anchors: [...(p.flags.get('anchor') ?? []), ...(p.flags.get('model') ?? [])], ...(flag(p, 'mask') ? { maskOut: flag(p, 'mask')! } : {}),
        ...(flag(p, 'base') ? { base: flag(p, 'base')! } : {}),
        ...streamedChoice(p),
        ...(flag(p, 'clamp') ? { clamp: true } : {}),
        ...(flag(p, 'overwrite') ? { overwrite: true } : {}),
      }, call);
      call.done();
      const b = r.info.bound;
      ctx.io.out(`${out}: ${r.variable} ${r.dtype} [${r.shape.join('x')}] (C order, little endian), bound ${b.mode}:${b.value} -> abs ${b.abs}${b.lossless ? ' (lossless)' : ''}, codec ${r.info.codec} ${JSON.stringify(r.info.params)}`);
      if (r.info.needs.length) ctx.io.out(`  decoded with ${r.info.needs.join(', ')}`);
      const maskAsked = flag(p, 'mask');
      if (maskAsked) ctx.io.out(r.maskOut ? `  mask: ${r.maskOut} (u8, 1 = valid point)` : `  no mask written to ${maskAsked}: the stream has none (every point is valid)${r.maskRemoved ? `; the file that was there removed` : ''}`);
      if (r.clamped) ctx.io.out(`  clamped ${r.clamped.values} value${r.clamped.values === 1 ? '' : 's'} into the valid range [${r.clamped.min}, ${r.clamped.max}]`);
      return 0;
    } finally {
      call.done();
    }
  },
};

export default decompressCommand;
