import { resolve } from 'node:path';
import type { BenchRow, BenchSummaryRow, CrossfieldBenchRow } from '../../../api/methods/bench.ts';
import type { BoundSpec } from '../../../core/codec/bound.ts';
import { checkOutputPath, checkReplaceable, writeFileAtomic } from '../../../services/files/atomic.ts';
import { FieldpackError } from '../../../core/errors.ts';
import { BENCH_COLUMNS, benchCsv, expandFiles, readBaselines, referenceRatios } from '../../../services/compression/bench.ts';
import { closePools } from '../../../services/compression/index.ts';
import { boundsFlag, type CliCommand, CliUsageError, flag, nonNegativeFlag, onlyFlags, paramFlags, parseFlags, workersFlag } from '../command.ts';
import { namedValues } from './compress.ts';
import { callApi, terminalCall } from '../api.ts';
import { formatTable } from '../io.ts';

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'Benchmark codecs (ours, zfp, sz3) on files x variables x bounds; JSON/CSV rows like baselines.json',
  usage: [
    'fieldpack bench FILE|DIR... [--vars T,QVAPOR] [--codec NAME]... [--bounds B,B...] [--workers N] [--entropy E]',
    '                [--param KEY=VALUE]... [--reference baselines.json] [--min-seconds S] --json OUT.json [--csv OUT.csv]',
    '  --vars: default every float or packed variable with 2+ dims longer than 1, and 1-D data of 1024+ values (not a',
    '    coordinate variable: series, particle arrays)',
    '  --bounds: default rel:1e-2,rel:1e-3,rel:1e-4; any of abs, rel, psnr, nrmse, e.g. rel:1e-3,abs:0.5,psnr:60,nrmse:1e-5',
    '  --workers N: worker threads for our codecs\' chunks (default 2; the cross-field bench: 1)',
    '  --min-seconds: each row is timed over at least S seconds (default 0.3; 2 runs or more), its fastest run counts;',
    '    each of our codecs runs its first row once untimed before; a larger S gives warm worker threads (steady-state',
    '    MB/s, as in a long archive job)',
    '  --param: codec params, each given to the benched codecs that take it (e.g. fallback=false, scaling=log for vqvae)',
    '  --entropy E: short for --param entropy=E (the values `fieldpack compress --codecs` lists for entropy)',
    '  --reference baselines.json: an "SZ3 ref" column of the SZ3 ratios that file holds for the same file, variable and bound',
    '  codecs: the presets of `fieldpack compress --codecs`, zfp, sz3 (when on PATH); default auto, best, zfp, and sz3 when on PATH',
    '  fill points: ours store the mask; zfp and SZ3 get them replaced by the valid mean and their "+mask" column counts the',
    '    mask their files lack to restore them (one bit a point through zstd; JSON mask_bytes, ratio_with_mask)',
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
    '  a float32 variable of SIZE (e.g. 4GiB) written as NetCDF-4 in DIR (default: the system temp folder; --keep: not',
    '  removed after), compressed and decompressed slab by slab (--streamed) with N workers (default 2); reports MB/s,',
    '  ratio, the bound check and the peak RSS of this process',
  ].join('\n'),
  needsStore: false,
  async run(argv, ctx) {
    const { io } = ctx;
    const p = parseFlags(argv, { values: ['vars', 'codec', 'bounds', 'workers', 'json', 'csv', 'entropy', 'reference', 'min-seconds', 'anchors', 'network', 'model', 'train-epochs', 'base', 'large', 'dir', 'param'], booleans: ['embed-model', 'train', 'keep', 'reused-model'] });
    const json = flag(p, 'json');
    if (!json) throw new CliUsageError(flag(p, 'large') ? 'bench --large needs --json OUT.json' : 'bench needs --json OUT.json');
    // the outputs checked before the work, not after it: neither may be an input, nor the other output
    // (the data files benched, folders' included: a missing path or a folder without one is said here)
    const inputs = expandFiles(p.positionals);
    await checkOutputPath(json, inputs);
    // an earlier bench's result may be replaced, any other file of that name is the user's (a data file, notes)
    await checkReplaceable(json, 'a bench result (JSON)', (head) => /^\{\s*"protocol"\s*:/.test(head));
    const csvOut = flag(p, 'csv');
    if (csvOut) {
      await checkOutputPath(csvOut, inputs);
      if (resolve(csvOut) === resolve(json)) throw new CliUsageError(`--csv and --json name the same file (${json}): give each its own`);
      await checkReplaceable(csvOut, 'a bench result (CSV)', (head) => head.startsWith(`${BENCH_COLUMNS.slice(0, 3).join(',')},`));
    }
    const refFile = flag(p, 'reference');
    const refs = refFile ? readReference(refFile) : null;
    const bounds = boundsFlag(p, 'bounds');
    const minSeconds = nonNegativeFlag(p, 'min-seconds', 'a number of seconds');
    const call = terminalCall(io);
    try {
      if (flag(p, 'large')) {
        // the large case benches the core codec on a variable it builds: the codec and file flags would go unread
        onlyFlags(p, 'bench --large', ['large', 'dir', 'keep', 'bounds', 'workers', 'json']);
        if (p.positionals.length) throw new CliUsageError(`bench --large builds its own variable: it takes no FILE (${p.positionals.join(' ')})`);
        return await largeBench(p, ctx, call, json, bounds);
      }
      if (flag(p, 'dir') || p.flags.has('keep')) throw new CliUsageError('--dir and --keep are for bench --large (where the variable it builds is written)');
      if (!p.positionals.length) throw new CliUsageError('bench needs at least one FILE or folder');
      const common = { files: p.positionals, bounds: bounds ?? DEFAULT_BOUNDS, ...(minSeconds !== undefined ? { minSeconds } : {}) };
      const vars = flag(p, 'vars')?.split(',').map((v) => v.trim()).filter(Boolean);
      if (vars && !vars.length) throw new CliUsageError('--vars needs at least one name (leave it out to bench every data variable)');
      const codecs = (p.flags.get('codec') ?? []).flatMap((c) => c.split(',')).filter(Boolean);
      const workers = workersFlag(p);
      // codecs that predict from other fields have their own bench (anchors compressed first, networks tried)
      const catalog = await callApi(ctx, 'streams.codecs', {});
      if (codecs.some((c) => catalog.find((x) => x.id === c)?.needsDependencies)) {
        if (!vars?.length) throw new CliUsageError('bench --codec crossfield needs --vars TARGET[,TARGET...]');
        const network = flag(p, 'network');
        if (network && !['cfnn', 'linear', 'none', 'best'].includes(network)) throw new CliUsageError('--network must be cfnn, linear, none or best');
        const r = await callApi(ctx, 'bench.crossfield', {
          ...common, variables: vars, workers: workers ?? 1, reusedModel: p.flags.has('reused-model'),
          ...(flag(p, 'anchors') ? { anchors: flag(p, 'anchors')!.split(',').filter(Boolean) } : {}),
          ...(network ? { network: network as 'cfnn' } : {}),
          ...(refFile ? { reference: refFile } : {}),
          // the global --python trains the CFNN too (it went to --train's trainings only)
          ...(ctx.globals.python ? { python: ctx.globals.python } : {}),
        }, call);
        call.done();
        await writeFileAtomic(json, jsonText(r));
        io.out(crossfieldBenchTable(r.rows));
        return r.rows.some((x) => x.error || x.points_over_bound > 0) ? 1 : 0;
      }
      const crossfieldOnly = ['anchors', 'network', 'reused-model'].find((f) => p.flags.has(f));
      if (crossfieldOnly) throw new CliUsageError(`--${crossfieldOnly} is for the cross-field bench (--codec crossfield --vars TARGET); none of the benched codecs takes it`);
      const epochs = flag(p, 'train-epochs');
      const { protocol, rows, summary, trained } = await callApi(ctx, 'bench.codecs', {
        ...common, codecs, workers: workers ?? 2, embedModel: p.flags.has('embed-model'), params: { ...paramFlags(p), ...entropyParam(p, catalog) },
        ...(vars ? { variables: vars } : {}),
        ...(flag(p, 'model') ? { model: flag(p, 'model')! } : {}),
        ...(flag(p, 'base') ? { base: flag(p, 'base')! } : {}),
        ...(p.flags.has('train') ? { train: { modelPrefix: json, ...(epochs !== undefined ? { epochs: Number(epochs) } : {}), ...(ctx.globals.python ? { python: ctx.globals.python } : {}) } } : {}),
      }, call);
      call.done();
      for (const t of trained) io.err(t.network === 'vqvae' ? `trained a VQ-VAE on ${t.samples} maps in ${t.seconds.toFixed(0)} s: ${t.path}` : `trained NGLR on ${t.samples} points in ${t.seconds.toFixed(0)} s: ${t.path}`);
      await writeFileAtomic(json, jsonText({ protocol, rows, summary }));
      const csv = flag(p, 'csv');
      if (csv) await writeFileAtomic(csv, benchCsv(rows));
      // residual coders: the base used (auto's choice) and what it counts, included in the ratio
      const withBase = rows.some((r) => r.base !== undefined);
      const baseCell = (r: BenchRow) => (r.base === undefined ? '' : `${r.base === r.base_choice ? r.base_choice : `${r.base}->${r.base_choice}`}${r.base_bytes ? ` ${Math.round(r.base_bytes)} B` : ''}`);
      // external tools on fields with fill points: their ratio with the mask they lack counted (ours store it)
      const withMask = rows.some((r) => r.ratio_with_mask !== undefined);
      const head = ['file', 'variable', 'codec', 'bound', 'ratio', ...(withMask ? ['+mask'] : []), ...(refs ? ['SZ3 ref'] : []), ...(withBase ? ['base'] : []), 'psnr', 'err/bound', 'over', 'c MB/s', 'd MB/s', 'predictor'];
      const table = rows.map((r) => {
        const key = `${r.file}|${r.variable}|${r.rel_bound}`;
        return [r.file, r.variable, r.codec, r.bound, fmt(r.compression_ratio), ...(withMask ? [r.ratio_with_mask === undefined ? '' : fmt(r.ratio_with_mask)] : []), ...(refs ? [refs.has(key) ? fmt(refs.get(key)!) : ''] : []), ...(withBase ? [baseCell(r)] : []),
          fmt(r.psnr_db), fmt(r.max_error_over_bound), String(r.points_over_bound), fmt(r.compress_mb_s), fmt(r.decompress_mb_s), r.error ? `ERROR ${r.error}` : (r.predictor ?? '')];
      });
      const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
      io.out(head.map((h, i) => h.padEnd(widths[i]!)).join('  '));
      for (const t of table) io.out(t.map((c, i) => c.padEnd(widths[i]!)).join('  '));
      for (const line of modelPerDataset(rows)) io.out(line);
      for (const line of summaryTable(summary)) io.out(line);
      return rows.some((r) => r.error || r.points_over_bound > 0) ? 1 : 0;
    } finally {
      call.done();
      await closePools();
    }
  },
};

/**
 * --entropy E as the param entropy=E, which every codec that has the choice takes (compress's --entropy is the same
 * short form); E is one the catalog names for entropy (range, huffman, auto, ms, rans: bench took only the first three).
 */
function entropyParam(p: ReturnType<typeof parseFlags>, catalog: { paramsSchema: Record<string, unknown> }[]): { entropy?: string } {
  const entropy = flag(p, 'entropy');
  if (entropy === undefined) return {};
  if ((p.flags.get('param') ?? []).some((kv) => kv.startsWith('entropy='))) throw new CliUsageError('--entropy E is short for --param entropy=E: give one of them');
  const known = [...new Set(catalog.flatMap((c) => {
    const schema = ((c.paramsSchema.properties ?? {}) as Record<string, Parameters<typeof namedValues>[0]>).entropy;
    return schema ? namedValues(schema).map(String) : [];
  }))];
  if (!known.includes(entropy)) throw new CliUsageError(`--entropy must be one of ${known.join(', ')} (not "${entropy}")`);
  return { entropy };
}

/** --reference: baselines.json's SZ3 ratios, read before the work; a file that is not one is named. */
function readReference(path: string): Map<string, number> {
  try {
    const ratios = referenceRatios({ rows: readBaselines(path, '--reference') });
    if (!ratios.size) throw new CliUsageError(`--reference ${path}: no SZ3 (default) row in it, so no reference ratio to show`);
    return ratios;
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    if (e instanceof FieldpackError) throw new CliUsageError(e.message);
    throw new CliUsageError(`--reference ${path}: not a baselines.json (JSON with rows of file, variable, rel_bound, compressor, compression_ratio)`);
  }
}

const DEFAULT_BOUNDS = [{ mode: 'rel', value: 1e-2 }, { mode: 'rel', value: 1e-3 }, { mode: 'rel', value: 1e-4 }] as const satisfies BoundSpec[];

/** Rows as JSON: NaN and Infinity (a failed row's cells) as strings, which JSON has no other word for. */
function jsonText(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1);
}

/** The large case: the variable built, compressed and decompressed slab by slab (bench.large), peak RSS after each. */
async function largeBench(p: ReturnType<typeof parseFlags>, ctx: Parameters<CliCommand['run']>[1], call: ReturnType<typeof terminalCall>, json: string, bounds: BoundSpec[] | undefined): Promise<number> {
  const { io } = ctx;
  const r = await callApi(ctx, 'bench.large', {
    size: flag(p, 'large')!, keep: p.flags.has('keep'), ...(flag(p, 'dir') ? { dir: flag(p, 'dir')! } : {}), ...(bounds ? { bounds } : {}), workers: workersFlag(p) ?? 2,
  }, call);
  call.done();
  const bytes = r.build.shape.reduce((a, b) => a * b, 4);
  io.err(`wrote ${r.build.path}: T [${r.build.shape.join('x')}] float32, ${(bytes / 2 ** 30).toFixed(2)} GiB in ${r.build.seconds.toFixed(0)} s${p.flags.has('keep') ? ' (kept)' : ' (removed after)'}`);
  await writeFileAtomic(json, JSON.stringify(r, null, 1));
  for (const x of r.rows) {
    io.out(`${x.bound}: ratio ${x.compression_ratio.toFixed(2)}, compress+verify ${x.compress_mb_s_with_verify.toFixed(1)} MB/s, decompress ${x.decompress_mb_s.toFixed(1)} MB/s, max error/bound ${x.max_error_over_bound}, over ${x.points_over_bound}, peak RSS ${x.peak_rss_mib_after_decompress} MiB (${(bytes / 2 ** 20).toFixed(0)} MiB of values)`);
  }
  return r.rows.some((x) => x.points_over_bound !== 0) ? 1 : 0;
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
    const usesModel = g.some((r) => r.model_used ?? !r.fell_back);
    const withModel = bytes + (usesModel ? g[0]!.model_bytes! : 0);
    if (!out.length) out.push('', 'model counted once per file (all its variables):');
    const [file, codec, bound] = k.split('|');
    out.push(`  ${file} ${codec} ${bound}: ${g.length} field${g.length > 1 ? 's' : ''}, ratio ${fmt(orig / bytes)} without the model, ${fmt(orig / withModel)} with it (${g[0]!.model_bytes} bytes${usesModel ? '' : ', unused: no field\'s stream needs it'})`);
  }
  return out;
}

/** Each codec's medians and ratios over the rows measured, and against SZ3's where it was benched too (benchSummary). */
function summaryTable(summary: BenchSummaryRow[]): string[] {
  if (!summary.length) return [];
  const withSz3 = summary.some((s) => s.rows_with_sz3 !== undefined);
  const head = ['codec', 'rows', 'median c MB/s', 'median d MB/s', 'ratio (geo. mean)', ...(withSz3 ? ['x SZ3 (geo. mean)', 'rows below SZ3'] : [])];
  const table = summary.map((s) => [s.codec, String(s.rows), fmt(s.median_compress_mb_s), fmt(s.median_decompress_mb_s), fmt(s.geomean_ratio),
    ...(withSz3 ? (s.rows_with_sz3 === undefined ? ['', ''] : [fmt(s.geomean_ratio_over_sz3!), `${s.rows_below_sz3} of ${s.rows_with_sz3}${s.rows_below_sz3_by_self_description ? ` (${s.rows_below_sz3_by_self_description} by the self-description alone)` : ''}`]) : [])]);
  return ['', 'summary (rows measured; SZ3 with the mask its files lack where a field has fill points):', ...formatTable(head, table).split('\n')];
}

function fmt(x: number): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

function crossfieldBenchTable(rows: CrossfieldBenchRow[]): string {
  const head = ['file', 'target', 'anchors', 'bound', 'ratio', 'core', 'SZ3', 'x best', 'model %', 'net', 'train s', 'c MB/s', 'first c', 'd MB/s', 'err/bound'];
  const f = (x: number | null) => (x === null || !Number.isFinite(x) ? '' : Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(2));
  const t = rows.map((r) => r.error ? [r.file, r.variable, r.anchors.join(','), r.bound, `ERROR ${r.error}`] : [
    r.file, r.variable, r.anchors.join(',') + (r.anchor_selection === 'auto' ? ' (auto)' : ''), r.bound, f(r.compression_ratio), f(r.core_ratio), f(r.sz3_ratio),
    f(r.ratio_over_best), (r.model_share * 100).toFixed(1), r.network + (r.fusion ? `/${r.fusion}` : ''), f(r.train_seconds), f(r.compress_mb_s), f(r.first_compress_mb_s), f(r.decompress_mb_s), f(r.max_error_over_bound),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...t.map((x) => (x[i] ?? '').length)));
  return [head, ...t].map((x) => x.map((c, i) => (c ?? '').padEnd(w[i]!)).join('  ')).join('\n');
}

export default benchCommand;
