import { checkOutputPath } from '../../../services/files/atomic.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../services/files/atomic.ts';
import { type CliCommand, CliUsageError, flag, nonNegativeFlag, paramFlags, parseFlags, workersFlag } from '../command.ts';
import { parseBound } from '../../../core/codec/bound.ts';
import { type BenchRow, benchCsv, referenceRatios, runBench } from '../../../services/compression/bench.ts';
import { closePools } from '../../../services/compression/index.ts';
import { callApi } from '../api.ts';

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'Benchmark codecs (ours, zfp, sz3) on files x variables x bounds; JSON/CSV rows like baselines.json',
  usage: [
    'fieldpack bench FILE|DIR... [--vars T,QVAPOR] [--codec NAME]... [--bounds rel:1e-2,rel:1e-3,abs:0.5,psnr:60,nrmse:1e-5]',
    '                [--workers N] [--entropy range|huffman|auto] [--param KEY=VALUE]... [--reference baselines.json] [--min-seconds S] --json OUT.json [--csv OUT.csv]',
    '  --min-seconds: each row is timed over at least S seconds (default 0.3; 2 to 5 runs), its fastest run counts; a',
    '    larger S gives warm worker threads (steady-state MB/s, as in a long archive job)',
    '  --param: codec params, each given to the benched codecs that take it (e.g. fallback=false, scaling=log for vqvae)',
    '  codecs: the presets of `fieldpack compress --codecs` (default auto), zfp, sz3 (when on PATH)',
    '  learned codecs (vqvae, nglr): --model default|none|FILE.fpvq|FILE.fpnl|SHA256 (default: the shipped models; one file',
    '    per codec kind, comma-separated), --embed-model, --train [--train-epochs N]: train the benched learned codecs\' models',
    '    on the benched fields first (kept as OUT.json.fpvq / OUT.json.fpnl; NGLR at the benched bounds); the table then',
    '    also gives each file\'s ratio with the model counted once for all its variables and bounds\' streams',
    '  residual coders (lbrc, gae, nglr): --base none|auto|CODEC:MODE:VALUE|CODEC:MODEL[:MODE:VALUE]|file:PATH[#var=NAME,bits=N]',
    '    (docs/residual.md);',
    '    the base\'s bytes are in the row\'s ratio (columns base, base_choice, base_bytes, base_estimates, base_reason):',
    '    CODEC:MODE:VALUE is compressed first (auto:rel:1e-2 = core:rel:1e-2, the classic codec\'s auto preset;',
    '    vqvae:psnr:40; vqvae:HASH[:psnr:46] with a trained model, psnr:40 unless given); auto picks per field and target the smallest estimated base + residual from samples (none,',
    '    the core codec at rel 1e-2, 1e-3 and 100 x the target, the VQ-VAE); file:PATH is an external reconstruction',
    '    (.npz of the residual-modeling code with latent_bit, .npy, NetCDF, raw f32/f64) whose declared bits count.',
    '    Bounds such as nrmse:1e-4,nrmse:1e-5,nrmse:1e-6. Their .npz benches as it is:',
    '    fieldpack bench DATA.npz --vars original_data --codec lbrc --base file:DATA.npz --bounds nrmse:1e-5 --json OUT.json',
    'fieldpack bench FILE --codec crossfield --vars TARGET [--anchors A,B] [--network best|none|linear|cfnn] [--reused-model [--min-seconds S]] [--workers N] --bounds rel:1e-3 --json OUT.json',
    '  cross-field: anchors compressed first at the same bound, the target from their reconstructions beside the core',
    '  codec and SZ3; without --anchors they are chosen from the data (docs/crossfield.md); --reused-model: the linear',
    '  network fitted once on the first step and given, as an archive series reuses it (compress MB/s without the fit,',
    '  timed as the core codec\'s rows: the fastest of runs over --min-seconds, the first run apart as "first c");',
    '  --workers N (default 1, as compress): the candidates near the smallest estimate encoded in N worker threads',
    '  while this thread predicts and makes the core codec\'s stream (the same bytes with any N; a one-shot row pays',
    '  their start)',
    'fieldpack bench --large SIZE [--dir DIR] [--keep] [--bounds rel:1e-3] [--workers N] --json OUT.json',
    '  a float32 variable of SIZE (e.g. 4GiB) written as NetCDF-4 in DIR (default: the system temp folder), compressed',
    '  and decompressed slab by slab (--streamed); reports MB/s, ratio, the bound check and the peak RSS of this process',
  ].join('\n'),
  needsStore: false,
  async run(argv, ctx) {
    const { io } = ctx;
    const p = parseFlags(argv, { values: ['vars', 'codec', 'bounds', 'workers', 'json', 'csv', 'entropy', 'reference', 'min-seconds', 'anchors', 'network', 'model', 'train-epochs', 'base', 'large', 'dir', 'param'], booleans: ['embed-model', 'train', 'keep', 'reused-model'] });
    if (flag(p, 'large')) return largeBench(p, ctx);
    if (!p.positionals.length) throw new CliUsageError('bench needs at least one FILE or folder');
    const json = flag(p, 'json');
    if (!json) throw new CliUsageError('bench needs --json OUT.json');
    // the outputs checked before the work, not after it
    await checkOutputPath(json);
    if (flag(p, 'csv')) await checkOutputPath(flag(p, 'csv')!);
    const bounds = (flag(p, 'bounds') ?? 'rel:1e-2,rel:1e-3,rel:1e-4').split(',').filter(Boolean).map(parseBound);
    if (!bounds.length) throw new CliUsageError('--bounds needs at least one bound (e.g. rel:1e-3,abs:0.5)');
    const vars = flag(p, 'vars')?.split(',').filter(Boolean);
    const codecs = (p.flags.get('codec') ?? []).flatMap((c) => c.split(',')).filter(Boolean);
    const workersGiven = workersFlag(p);
    const workers = workersGiven ?? 2;
    const ref = flag(p, 'reference');
    const refs = ref ? referenceRatios(JSON.parse(readFileSync(ref, 'utf8'))) : null;
    // codecs that predict from other fields have their own bench (anchors compressed first, networks tried)
    const catalog = await callApi(ctx, 'streams.codecs', {});
    if (codecs.some((c) => catalog.find((x) => x.id === c)?.needsDependencies)) return (await import('../../../services/crossfield/bench-cli.ts')).crossfieldBenchCli(p.positionals, vars, flag(p, 'anchors'), flag(p, 'network'), bounds, json, ref, io, { workers: workersGiven ?? 1, reusedModel: p.flags.has('reused-model'), minSeconds: nonNegativeFlag(p, 'min-seconds', 'a number of seconds') });
    try {
      let model = flag(p, 'model');
      if (p.flags.has('train')) {
        const epochs = Number(flag(p, 'train-epochs') ?? 8);
        if (!Number.isInteger(epochs) || epochs < 1) throw new CliUsageError('--train-epochs needs an integer >= 1');
        const { trainBenchModel } = await import('../../../services/compression/bench-train.ts');
        const trained: string[] = [];
        // each learned codec benched gets a model of its own (the VQ-VAE when none is named, as before)
        for (const network of codecs.includes('nglr') ? (codecs.includes('vqvae') ? ['vqvae', 'nglr'] as const : ['nglr'] as const) : ['vqvae'] as const) {
          const out = `${json}.${network === 'vqvae' ? 'fpvq' : 'fpnl'}`;
          const t = await trainBenchModel({ files: p.positionals, vars, epochs, out, network, bounds, base: flag(p, 'base'), python: ctx.globals.python, onProgress: (f, m) => io.progress(f, m) });
          io.progressDone();
          io.err(network === 'vqvae' ? `trained a VQ-VAE on ${t.maps} maps in ${t.seconds.toFixed(0)} s: ${t.path}` : `trained NGLR on ${t.maps} points in ${t.seconds.toFixed(0)} s: ${t.path}`);
          trained.push(t.path);
        }
        model = trained.join(',');
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
        params: paramFlags(p),
        base: flag(p, 'base'),
        minSeconds: nonNegativeFlag(p, 'min-seconds', 'a number of seconds'),
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
      // residual coders: the base used (auto's choice) and what it counts, included in the ratio
      const withBase = rows.some((r) => r.base !== undefined);
      const baseCell = (r: BenchRow) => (r.base === undefined ? '' : `${r.base === r.base_choice ? r.base_choice : `${r.base}->${r.base_choice}`}${r.base_bytes ? ` ${Math.round(r.base_bytes)} B` : ''}`);
      const head = ['file', 'variable', 'codec', 'bound', 'ratio', ...(refs ? ['SZ3 ref'] : []), ...(withBase ? ['base'] : []), 'psnr', 'err/bound', 'over', 'c MB/s', 'd MB/s', 'predictor'];
      const table = rows.map((r) => {
        const key = `${r.file}|${r.variable}|${r.rel_bound}`;
        return [r.file, r.variable, r.codec, r.bound, fmt(r.compression_ratio), ...(refs ? [refs.has(key) ? fmt(refs.get(key)!) : ''] : []), ...(withBase ? [baseCell(r)] : []),
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

/** The large case: build the variable, compress and decompress it through the API slab by slab, peak RSS after each. */
async function largeBench(p: ReturnType<typeof parseFlags>, ctx: Parameters<CliCommand['run']>[1]): Promise<number> {
  const { io } = ctx;
  const { largeShape, parseSize, writeLargeNetcdf4 } = await import('../../../services/compression/bench-large.ts');
  const json = flag(p, 'json');
  if (!json) throw new CliUsageError('bench --large needs --json OUT.json');
  const dir = mkdtempSync(join(flag(p, 'dir') ?? tmpdir(), 'fieldpack-large-'));
  const shape = largeShape(parseSize(flag(p, 'large')!));
  const bytes = shape.reduce((a, b) => a * b, 4);
  const mb = bytes / 1e6;
  const workers = workersFlag(p) ?? 2;
  const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);
  const src = join(dir, 'large.nc');
  try {
    let t0 = performance.now();
    await writeLargeNetcdf4(src, shape, (f, m) => io.progress(f, m));
    io.progressDone();
    const build = { seconds: (performance.now() - t0) / 1000, peak_rss_mib: rss() };
    io.err(`wrote ${src}: T [${shape.join('x')}] float32, ${(bytes / 2 ** 30).toFixed(2)} GiB in ${build.seconds.toFixed(0)} s`);
    const rows = [];
    for (const bound of (flag(p, 'bounds') ?? 'rel:1e-3').split(',').filter(Boolean).map(parseBound)) {
      const fpk = join(dir, 'large.fpk');
      t0 = performance.now();
      const c = await callApi(ctx, 'streams.compress', { file: src, variable: 'T', bound, workers, verify: true, out: fpk, streamed: true }, { onProgress: (f, m) => io.progress(f, m ?? '') });
      io.progressDone();
      const compressSeconds = (performance.now() - t0) / 1000;
      const afterCompress = rss();
      t0 = performance.now();
      await callApi(ctx, 'streams.decompress', { file: fpk, out: join(dir, 'large.f32'), workers, anchors: [], streamed: true }, { onProgress: (f, m) => io.progress(f, m ?? '') });
      io.progressDone();
      const decompressSeconds = (performance.now() - t0) / 1000;
      rmSync(join(dir, 'large.f32'), { force: true });
      rows.push({
        file: 'large.nc', variable: 'T', shape, bytes_in: bytes, bound: c.boundLabel, compressed_bytes: c.bytes, compression_ratio: c.compressionRatio,
        // compress seconds include the verification pass (a second read and decode of everything)
        compress_seconds_with_verify: compressSeconds, compress_mb_s_with_verify: mb / compressSeconds,
        decompress_seconds: decompressSeconds, decompress_mb_s: mb / decompressSeconds,
        max_error_over_bound: c.verification?.maxErrorOverBound, points_over_bound: c.verification?.pointsOverBound, psnr_db: c.verification?.psnr,
        peak_rss_mib_after_compress: afterCompress, peak_rss_mib_after_decompress: rss(), workers,
      });
    }
    await writeFileAtomic(json, JSON.stringify({ protocol: ['a synthetic float32 NetCDF-4 variable written on disk, then compressed and decompressed with --streamed through the API; peak RSS = maxRSS of this process (building the file included)'], build, rows }, null, 1));
    for (const r of rows) {
      io.out(`${r.bound}: ratio ${r.compression_ratio.toFixed(2)}, compress+verify ${r.compress_mb_s_with_verify.toFixed(1)} MB/s, decompress ${r.decompress_mb_s.toFixed(1)} MB/s, max error/bound ${r.max_error_over_bound}, over ${r.points_over_bound}, peak RSS ${r.peak_rss_mib_after_decompress} MiB (${(bytes / 2 ** 20).toFixed(0)} MiB of values)`);
    }
    return rows.some((r) => r.points_over_bound !== 0) ? 1 : 0;
  } finally {
    if (p.flags.has('keep')) io.err(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    await closePools();
  }
}

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
