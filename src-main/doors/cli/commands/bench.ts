import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../../services/files/atomic.ts';
import { type CliCommand, CliUsageError, flag, parseFlags } from '../command.ts';
import { parseBound } from '../../../core/codec/bound.ts';
import { type BenchRow, benchCsv, referenceRatios, runBench } from '../../../services/compression/bench.ts';
import { closePools } from '../../../services/compression/index.ts';
import { callApi } from '../api.ts';

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'Benchmark codecs (ours, zfp, sz3) on files x variables x bounds; JSON/CSV rows like baselines.json',
  usage: [
    'fieldpack bench FILE|DIR... [--vars T,QVAPOR] [--codec NAME]... [--bounds rel:1e-2,rel:1e-3,abs:0.5,psnr:60,nrmse:1e-5]',
    '                [--workers N] [--entropy range|huffman|auto] [--reference baselines.json] --json OUT.json [--csv OUT.csv]',
    '  codecs: the presets of `fieldpack compress --codecs` (default auto), zfp, sz3 (when on PATH)',
    '  learned codecs (vqvae): --model default|FILE.fpvq|SHA256 (default: the shipped model), --embed-model,',
    '    --train [--train-epochs N]: train a VQ-VAE on the benched fields first (kept as OUT.json.fpvq); the table then',
    '    also gives each file\'s ratio with the model counted once for all its variables and bounds\' streams',
    '  residual coders (lbrc): --base none|CODEC:MODE:VALUE (e.g. auto:rel:1e-2, vqvae:psnr:40): the base is',
    '    compressed first and its bytes count in the row; bounds such as nrmse:1e-4,nrmse:1e-5,nrmse:1e-6',
    'fieldpack bench FILE --codec crossfield --vars TARGET [--anchors A,B] [--network best|none|linear|cfnn] --bounds rel:1e-3 --json OUT.json',
    '  cross-field: anchors compressed first at the same bound, the target from their reconstructions beside the core',
    '  codec and SZ3; without --anchors they are chosen from the data (docs/crossfield.md)',
  ].join('\n'),
  needsStore: false,
  async run(argv, ctx) {
    const { io } = ctx;
    const p = parseFlags(argv, { values: ['vars', 'codec', 'bounds', 'workers', 'json', 'csv', 'entropy', 'reference', 'min-seconds', 'anchors', 'network', 'model', 'train-epochs', 'base'], booleans: ['embed-model', 'train'] });
    if (!p.positionals.length) throw new CliUsageError('bench needs at least one FILE or folder');
    const json = flag(p, 'json');
    if (!json) throw new CliUsageError('bench needs --json OUT.json');
    const bounds = (flag(p, 'bounds') ?? 'rel:1e-2,rel:1e-3,rel:1e-4').split(',').filter(Boolean).map(parseBound);
    const vars = flag(p, 'vars')?.split(',').filter(Boolean);
    const codecs = (p.flags.get('codec') ?? []).flatMap((c) => c.split(',')).filter(Boolean);
    const workers = Number(flag(p, 'workers') ?? 2);
    const ref = flag(p, 'reference');
    const refs = ref ? referenceRatios(JSON.parse(readFileSync(ref, 'utf8'))) : null;
    // codecs that predict from other fields have their own bench (anchors compressed first, networks tried)
    const catalog = await callApi(ctx, 'streams.codecs', {});
    if (codecs.some((c) => catalog.find((x) => x.id === c)?.needsDependencies)) return (await import('../../../services/crossfield/bench-cli.ts')).crossfieldBenchCli(p.positionals, vars, flag(p, 'anchors'), flag(p, 'network'), bounds, json, ref, io);
    try {
      let model = flag(p, 'model');
      if (p.flags.has('train')) {
        const epochs = Number(flag(p, 'train-epochs') ?? 8);
        if (!Number.isInteger(epochs) || epochs < 1) throw new CliUsageError('--train-epochs needs an integer >= 1');
        const { trainBenchModel } = await import('../../../services/compression/bench-train.ts');
        const t = await trainBenchModel({ files: p.positionals, vars, epochs, out: `${json}.fpvq`, python: ctx.globals.python, onProgress: (f, m) => io.progress(f, m) });
        io.progressDone();
        io.err(`trained a VQ-VAE on ${t.maps} maps in ${t.seconds.toFixed(0)} s: ${t.path}`);
        model = t.path;
      }
      const rows = await runBench({
        files: p.positionals,
        vars,
        codecs,
        bounds,
        workers,
        entropy: flag(p, 'entropy') as BenchRow['codec'] as never,
        model,
        embedModel: p.flags.has('embed-model'),
        base: flag(p, 'base'),
        minSeconds: flag(p, 'min-seconds') ? Number(flag(p, 'min-seconds')) : undefined,
        onProgress: (f, m) => io.progress(f, m ?? ''),
      });
      io.progressDone();
      const protocol = [
        'Each variable whole as float32 in C order; range, bound and metrics over valid points only.',
        'Fieldpack codecs handle fill points natively (mask stored, fills neither predicted nor coded); external baselines get fills replaced by the mean of the valid points.',
        'compression_ratio = 4 x values / whole output bytes. PSNR = 20 log10(range / RMSE).',
        'MB/s = 4 x values / 1e6 / seconds, best of repetitions, warm worker pool; external tools timed as whole processes.',
      ];
      await writeFileAtomic(json, JSON.stringify({ protocol, rows }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1));
      const csv = flag(p, 'csv');
      if (csv) await writeFileAtomic(csv, benchCsv(rows));
      const head = ['file', 'variable', 'codec', 'bound', 'ratio', ...(refs ? ['SZ3 ref'] : []), 'psnr', 'err/bound', 'over', 'c MB/s', 'd MB/s', 'predictor'];
      const table = rows.map((r) => {
        const key = `${r.file}|${r.variable}|${r.rel_bound}`;
        return [r.file, r.variable, r.codec, r.bound, fmt(r.compression_ratio), ...(refs ? [refs.has(key) ? fmt(refs.get(key)!) : ''] : []),
          fmt(r.psnr_db), fmt(r.max_error_over_bound), String(r.points_over_bound), fmt(r.compress_mb_s), fmt(r.decompress_mb_s), r.error ? `ERROR ${r.error}` : (r.predictor ?? '')];
      });
      const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
      io.out(head.map((h, i) => h.padEnd(widths[i]!)).join('  '));
      for (const t of table) io.out(t.map((c, i) => c.padEnd(widths[i]!)).join('  '));
      for (const line of modelPerDataset(rows)) io.out(line);
      return rows.some((r) => r.error || r.points_over_bound > 0) ? 1 : 0;
    } finally {
      await closePools();
    }
  },
};

/**
 * Learned codecs with the model counted once per file and bound (all its variables' streams share it), beside the
 * ratio without the model: the dataset size at which the model pays for itself follows.
 */
function modelPerDataset(rows: BenchRow[]): string[] {
  const groups = new Map<string, BenchRow[]>();
  for (const r of rows) {
    if (r.model_bytes === undefined || r.model_embedded || r.error) continue;
    const k = `${r.file}|${r.codec}|${r.bound}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: string[] = [];
  for (const [k, g] of groups) {
    const orig = g.reduce((a, r) => a + 4 * r.values, 0);
    const bytes = g.reduce((a, r) => a + r.compressed_bytes, 0);
    const usesModel = g.some((r) => !r.fell_back);
    const withModel = bytes + (usesModel ? g[0]!.model_bytes! : 0);
    if (!out.length) out.push('', 'model counted once per file (all its variables):');
    const [file, codec, bound] = k.split('|');
    out.push(`  ${file} ${codec} ${bound}: ${g.length} field${g.length > 1 ? 's' : ''}, ratio ${fmt(orig / bytes)} without the model, ${fmt(orig / withModel)} with it (${g[0]!.model_bytes} bytes${usesModel ? '' : ', unused: every field fell back'})`);
  }
  return out;
}

function fmt(x: number): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

export default benchCommand;
