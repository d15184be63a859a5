import { type CliCommand, type CliRunContext, CliUsageError, flag, onePositional, paramFlags, parseBoundFlag, parseFlags, rawLayoutFromFlags, workersFlag } from '../command.ts';
import type { BoundSpec } from '../../../core/codec/bound.ts';
import { FIELD_DTYPE_BYTES, isFieldDtype } from '../../../core/field.ts';
import { rowsRefusal } from '../../../services/codecs/streamed.ts';
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Run } from '../../../api/contract.ts';
import { FieldpackError, type ErrorCode } from '../../../core/errors.ts';
import { dispatch } from '../../../services/dispatch.ts';
import type { CompressRunResult } from '../../../services/compression/runs.ts';
import { baseStreamPath } from '../../../services/codecs/dependencies.ts';
import { checkStreamOutputs } from '../../../services/handlers/streams.ts';
import { writeAtomically } from '../../../services/files/atomic.ts';
import { callApi, jobExitCode, terminalCall } from '../api.ts';
import { followRun } from '../follow-run.ts';
import { undeclaredFillNote } from './inspect.ts';

type ParamSchema = { enum?: unknown[]; const?: unknown; type?: string; anyOf?: ParamSchema[] };

/** A --codec that is neither a codec nor a preset of one: a usage error listing them (as `compress --codecs` does). */
export async function checkCodecName(ctx: CliRunContext, codec: string, extra: readonly string[] = []): Promise<void> {
  const catalog = await callApi(ctx, 'streams.codecs', {});
  const known = [...new Set([...catalog.flatMap((c) => c.presets.map((pr) => pr.name)), ...catalog.map((c) => c.id), ...extra])];
  if (!known.includes(codec)) throw new CliUsageError(`--codec ${codec}: unknown codec (known: ${known.join(', ')})`);
}

/** The named values a param takes: its enum, or those among the alternatives of a union (network=none|linear, wrap=true|false|auto). */
export function namedValues(v: ParamSchema, inUnion = false): unknown[] {
  if (v.enum) return v.enum;
  if (v.const !== undefined) return [v.const];
  if (inUnion && v.type === 'boolean') return [true, false];
  return (v.anyOf ?? []).flatMap((a) => namedValues(a, true));
}

export const compressCommand: CliCommand = {
  name: 'compress',
  summary: 'Compress one variable of a data file into an error-bounded .fpk stream',
  usage: [
    'fieldpack compress FILE --var NAME --bound MODE:VALUE [--codec NAME] [--param KEY=VALUE]... [--anchors A,B] [--model REF] [--embed-model] [--base none|auto|CODEC:MODE:VALUE|CODEC:MODEL|file:PATH] [--workers N] [--no-verify] [--streamed|--in-memory] [--raw-shape 100,500,500 --raw-dtype float32 [--raw-endian big]] -o OUT.fpk [--overwrite]',
    'fieldpack compress FILE --var NAME --bound MODE:VALUE --record [--project ID] [--codec NAME] [--param KEY=VALUE]... [--base ...] [--workers N] [-o OUT.fpk [--overwrite]]',
    '  MODE: abs, rel (to the valid range), psnr (dB, > 0), nrmse; abs:0 (or rel:0, nrmse:0) is lossless.',
    '  psnr and nrmse are targets met, not estimates: the stream is measured and the bound tightened until they hold.',
    '  --codec: a codec or preset (default auto); `fieldpack compress --codecs` lists them with their params.',
    '    auto plans fields of up to 64 k values with the best effort and larger ones with effort fast, which chooses on',
    '    a small block and codes each chunk once (level with SZ3\'s speed on the median field of 0.1-1 M values);',
    '    best plans every field with the best effort (there about 2.6 x slower, streams 0.3-1.2 % smaller); fast',
    '    every field with effort fast (docs/codecs.md, "Effort").',
    '  --model (codecs vqvae, nglr): default (the shipped model), a .fpvq / .fpnl file or a sha256 prefix of one in',
    '    resources/models, the store\'s models or FIELDPACK_MODEL_PATH (nglr: also none, plain Lorenzo); the stream names',
    '    it by hash. --embed-model puts it inside the stream (counted in its size).',
    '  --base (residual coders: lbrc, gae, nglr): what the residual is coded over; its bytes count in the ratio printed',
    '    (the stream alone\'s ratio beside it; docs/residual.md):',
    '    none (default);',
    '    CODEC:MODE:VALUE: the field compressed first with CODEC at that bound, written beside OUT = X.fpk as X.base.fpk',
    '      (auto:rel:1e-2 or core:rel:1e-2 = the classic codec\'s auto preset; vqvae:psnr:40 = the VQ-VAE);',
    '    CODEC:MODEL[:MODE:VALUE]: the same with a trained model by sha256 prefix (vqvae:HASH, at psnr:40 unless given);',
    '    auto: chosen per field from samples among none, the core codec at rel 1e-2, 1e-3 and 100 x the target, and the',
    '      VQ-VAE on 2D+ fields: the smallest estimated base + residual (the choice and the estimates are printed);',
    '    file:PATH[#var=NAME,bits=N]: an external reconstruction (.npz with recons_data and latent_bit as the',
    '      residual-modeling code reads it, .npy, a NetCDF file with the variable on the same grid, raw f32/f64), its',
    '      declared bits counted; decompress needs the same file (--base file:PATH or --anchor PATH). E.g.',
    '    fieldpack compress F --var T --codec lbrc --base auto --bound nrmse:1e-5 -o T.fpk',
    '  --param: a codec param, e.g. --param entropy=huffman (numbers, true/false and arrays, block=[8,8,8] or block=8,8,8, are parsed).',
    '  --entropy E is kept as a short form of --param entropy=E. The classic codec\'s entropy: range (default: per chunk',
    '    the coder its codes suit, rANS, the multi-symbol or the binary range coder, small chunks coded each way);',
    '    ms, rans or huffman: that coder on every chunk; auto: Huffman unless half the codes are zero residuals (an',
    '    older rule, up to 12 % larger: etopo5 at rel 1e-4).',
    '  --workers N: worker threads for a field\'s chunks (default 1; 0: all in this thread). This thread reads,',
    '    plans and verifies, and encodes a field of one chunk (up to 2^21 values) itself, or the last chunk where the',
    '    workers get one each, or chunks beside them where the machine has more cores than N; the bytes never depend on N.',
    '  --anchors A,B (codecs that predict from other fields, e.g. --codec crossfield): variables of FILE compressed',
    '    first with the core codec at the same bound, written beside OUT = X.fpk as X.anchor-A.fpk; decompress finds them there.',
    '    --param network=linear embeds a linear CFNN fitted on them (least squares, no Python); the trained CFNN and the',
    '    search over none, linear and CFNN are the Cross-field view\'s and `bench --codec crossfield --network`.',
    '  --streamed: read and compress the variable slab by slab (memory independent of its size; abs and rel bounds),',
    '    automatic above 1 GiB of values; --in-memory: never. The stream is the same either way. With 1 worker on a',
    '    machine of 2 cores or more this thread encodes every other slab beside it.',
    '  raw binary without a FILE.json sidecar (SDRBench: C order, fastest axis last): --raw-shape and --raw-dtype say its',
    '    layout (inspect FILE --raw-shape ... names its variable).',
    '  --record: run it as the Compress view does, as a run in the store (`fieldpack runs`, `fieldpack report` and the',
    '    Runs view then show it): compressed, decompressed (timed) and checked, its metrics, tags and stream kept with',
    '    the run; -o also copies the stream (and its base) out. --project ID files it in that project. Codecs zfp and',
    '    sz3 (external tools on PATH) may be recorded too. The whole field is read (no --streamed, no raw layout flags),',
    '    cross-field runs are the Cross-field view\'s (no --anchors), and a recorded run is always checked.',
  '  OUT (and a stream written beside it) may replace a Fieldpack stream of an earlier run, but not the base or anchor',
    '    stream of another (X.base.fpk, X.anchor-VAR.fpk beside X.fpk); that, and any other existing file of that name,',
    '    is refused before any work unless --overwrite.',
  ].join('\n'),
  needsStore: false,
  async run(argv, ctx) {
    const { io } = ctx;
    const p = parseFlags(argv.map((a) => (a === '-o' ? '--out' : a)), { values: ['var', 'bound', 'codec', 'workers', 'out', 'entropy', 'param', 'anchors', 'model', 'base', 'raw-shape', 'raw-dtype', 'raw-endian', 'project'], booleans: ['no-verify', 'codecs', 'embed-model', 'streamed', 'in-memory', 'overwrite', 'record'] });
    if (flag(p, 'codecs') === 'true') {
      for (const c of await callApi(ctx, 'streams.codecs', {})) {
        io.out(`${c.id}: ${c.description}${c.needsDependencies ? ' (needs other fields: see fieldpack help compress)' : ''}`);
        for (const pr of c.presets) io.out(`  ${pr.name.padEnd(14)} ${pr.description}`);
        const props = (c.paramsSchema.properties ?? {}) as Record<string, ParamSchema>;
        io.out(`  params: ${Object.entries(props).map(([k, v]) => `${k}${namedValues(v).length ? `=${namedValues(v).join('|')}` : v.type ? ` (${v.type})` : ''}`).join(', ')}`);
      }
      return 0;
    }
    const file = p.positionals[0];
    const variable = flag(p, 'var');
    const out = flag(p, 'out');
    const record = flag(p, 'record') === 'true';
    if (!file || !variable || (!out && !record) || !flag(p, 'bound')) throw new CliUsageError('compress needs FILE, --var NAME, --bound MODE:VALUE and -o OUT.fpk (or --record)');
    onePositional(p, 'compress', 'FILE');
    const bound = parseBoundFlag(flag(p, 'bound')!);
    const codec = flag(p, 'codec') ?? 'auto';
    if (flag(p, 'project') !== undefined && !record) throw new CliUsageError('--project files a recorded run: give --record with it');
    // a bound or codec that cannot go slab by slab, said as the flag's (the service's refusal did not name --streamed)
    const whyNotStreamed = flag(p, 'streamed') === 'true' ? rowsRefusal(codec, bound) : null;
    if (whyNotStreamed) throw new CliUsageError(`--streamed: ${whyNotStreamed}`);
    const params: Record<string, unknown> = {};
    if (flag(p, 'entropy')) params.entropy = flag(p, 'entropy');
    if (flag(p, 'anchors')) params.anchors = flag(p, 'anchors')!.split(',').map((s) => s.trim()).filter(Boolean);
    const model = flag(p, 'model');
    // an empty --model (an unset shell variable) is said, not taken as the default model
    if (model !== undefined && !model.trim()) throw new CliUsageError('--model needs a model: default, a model file, or a sha256 prefix of 8+ hex digits');
    if (model) params.model = model;
    if (flag(p, 'embed-model') === 'true') params.embedModel = true;
    Object.assign(params, paramFlags(p));
    const workers = workersFlag(p) ?? 1;
    if (record) return recordedCompress(ctx, p, { file, variable, bound, codec, params, workers, out });
    if (out === undefined) throw new CliUsageError('compress needs -o OUT.fpk (or --record)');
    await checkCodecName(ctx, codec);
    const raw = rawLayoutFromFlags(p);
    // the output is a stream whatever its name: one named as a data file would be taken for one
    const dataName = /\.(nc|nc4|cdf|h5|hdf5|he5|f32|f64|bin|raw|npy|npz)$/i.exec(out);
    if (dataName) io.err(`fieldpack compress: note: ${out} will hold a Fieldpack stream, not ${dataName[1]} data (name it .fpk; \`fieldpack decompress\` or \`fieldpack export\` write the values back)`);
    const call = terminalCall(io);
    try {
      const r = await callApi(ctx, 'streams.compress', {
        file, variable, bound, codec, params, workers, verify: flag(p, 'no-verify') !== 'true', out,
        ...(flag(p, 'overwrite') ? { overwrite: true } : {}),
        ...(flag(p, 'base') ? { base: flag(p, 'base') } : {}),
        ...streamedChoice(p),
        ...(raw ? { raw } : {}),
      }, call);
      call.done();
      // (effort fast named: the default plans fields over 64 k values so, and `--codec best` may choose otherwise)
      const effort = r.chose.effort === 'fast' ? ' (planned with effort fast)' : '';
      const chose = typeof r.chose.predictor === 'string' ? `predictor ${typeof r.chose.choice === 'string' ? r.chose.choice : r.chose.predictor}${effort}` : `codec ${r.codec}`;
      io.out(`${variable} [${r.shape.join('x')}] ${r.boundLabel}${r.units && !r.lossless ? ` ${r.units}` : ''}; ${chose}${r.lossless && !chose.endsWith('(lossless)') ? ' (lossless)' : ''}${r.units ? '' : '; no units attribute: the bound is in the stored values\' units'}`);
      const v = r.verification;
      // the reason begins with the choice ("auto:rel:1e-3: estimated ...", "no base: ...")
      if (r.baseChoice) io.out(`base auto -> ${r.baseChoice.reason} (estimated from ${(r.baseChoice.sample.fraction * 100).toFixed(1)} % of the field in ${r.baseChoice.seconds.toFixed(1)} s)`);
      const withBase = r.base ? (r.compressionRatio * r.bytes) / (r.bytes + r.base.bytes) : null;
      if (r.base) io.out(`${r.base.out}: base (${r.base.codec === 'file' ? `file, ${r.base.bits} bits declared` : r.base.codec}), ${r.base.bytes} bytes`);
      // with a base, the ratio that counts it (bench's) comes first, the stream's alone beside it
      const ratio = withBase !== null ? `ratio ${withBase.toFixed(2)} with its base (the stream alone ${r.compressionRatio.toFixed(2)})` : `ratio ${r.compressionRatio.toFixed(2)}${narrowSourceNote(r.compressionRatio, r.sourceDtype)}`;
      io.out(`${out}: ${r.bytes} bytes, ${ratio}${v ? `, ${errorSummary(bound, v)}` : ''}`);
      if (r.undeclaredFill) {
        const names = { variable, file, raw: raw !== undefined || /\.(f32|f64|bin|raw|dat)$/i.test(file), dtype: r.undeclaredFill.dtype };
        io.out(`note: ${variable} looks filled with a value the file does not declare: ${undeclaredFillNote(r.undeclaredFill, r.units ?? undefined, { label: r.boundLabel, abs: r.absBound }, names)}`);
      }
      if (r.inputBound !== null) io.out(`note: ${file} is itself a reconstruction, within ${r.inputBound.toPrecision(6)} of its original: these errors are against it, so against the original they can reach ${(r.inputBound + r.absBound).toPrecision(6)}`);
      return 0;
    } finally {
      call.done();
    }
  },
};

const WHOLE_FIELD = 'a recorded run reads the whole field';
const DESCRIBED_LAYOUT = 'a recorded run reads files whose layout they describe (a FILE.json sidecar for raw binary)';

/** The flags a recorded run does not take, and why. */
const NOT_RECORDED: [string, string][] = [
  ['streamed', WHOLE_FIELD],
  ['in-memory', WHOLE_FIELD],
  ['raw-shape', DESCRIBED_LAYOUT],
  ['raw-dtype', DESCRIBED_LAYOUT],
  ['raw-endian', DESCRIBED_LAYOUT],
  ['anchors', 'cross-field runs are recorded by the Cross-field view and `bench --codec crossfield`'],
  ['no-verify', 'a recorded run is always decompressed and checked (its metrics are those of the values it gives back)'],
];

/** Log lines of the compress job worth reading on the terminal (the progress line has the rest). */
const COMPRESS_LINE = /^(field |bound: |base |compressed with |warning: |\w+ target: met|target: )/;

/**
 * compress --record: the Compress view's job (services/job-kinds/compress.ts) run from the terminal, so the run is in
 * the store with its metrics, tags and stream; -o copies the stream (and its base) out once the run has finished.
 */
async function recordedCompress(
  ctx: CliRunContext, p: ReturnType<typeof parseFlags>,
  a: { file: string; variable: string; bound: BoundSpec; codec: string; params: Record<string, unknown>; workers: number; out: string | undefined },
): Promise<number> {
  const { io } = ctx;
  const refused = NOT_RECORDED.find(([name]) => flag(p, name) !== undefined);
  if (refused) throw new CliUsageError(`--record with --${refused[0]}: ${refused[1]}`);
  const catalog = await callApi(ctx, 'compression.codecs', {});
  const codec = catalog.find((c) => c.id === a.codec);
  if (!codec) throw new CliUsageError(`--codec ${a.codec}: unknown codec (known: ${catalog.map((c) => c.id).join(', ')})`);
  if (codec.kind === 'baseline' && a.out) throw new CliUsageError(`-o: ${a.codec} writes no Fieldpack stream (its reconstruction is kept with the run); leave -o out`);
  const projectFlag = flag(p, 'project');
  const projectId = projectFlag === undefined ? null : Number(projectFlag);
  if (projectId !== null && !(Number.isInteger(projectId) && projectId > 0)) throw new CliUsageError(`--project ${projectFlag}: a project id (fieldpack projects lists them)`);
  const file = resolve(a.file);
  const base = flag(p, 'base');
  const overwrite = flag(p, 'overwrite') === 'true';
  // where the stream is to be copied: checked before the work as compress checks OUT (not another stream's base
  // or anchor stream, not a file of the user's), and again before the copy
  const copies = a.out ? [resolve(a.out), ...(base && base !== 'none' && !base.startsWith('file:') ? [baseStreamPath(resolve(a.out))] : [])] : [];
  const checkCopies = () => (copies.length ? checkStreamOutputs(copies[0]!, { inputs: [file], overwrite, beside: copies.slice(1) }) : Promise.resolve());
  await checkCopies();
  const app = await ctx.app();
  const params = { file, variable: a.variable, codec: a.codec, bound: a.bound, workers: a.workers, ...(Object.keys(a.params).length ? { params: a.params } : {}), ...(base ? { base } : {}) };
  const run = (await dispatch(app.services, 'jobs.submit', { kind: 'compress', projectId, name: `compress ${a.codec} ${a.variable} ${a.bound.mode}:${a.bound.value}`, params })) as Run;
  io.err(`run ${run.id}: compressing ${a.variable} of ${file} with ${a.codec}`);
  const ended = await followRun(app, run, io, { shows: COMPRESS_LINE, stopping: 'stopping (a cancelled run keeps no results; a second Ctrl-C quits at once)...' });
  if (ended.status === 'failed') {
    const e = ended.error!;
    throw new FieldpackError(e.code as ErrorCode, `run ${run.id}: ${e.message}`, e.details);
  }
  if (ended.status !== 'finished') {
    io.err(`run ${run.id} ${ended.status}`);
    return jobExitCode(ended);
  }
  const r = ended.result as CompressRunResult;
  const m = r.metrics;
  const fmt = (x: number | undefined, d = 4) => (x === undefined ? '?' : Number.isFinite(x) ? x.toPrecision(d) : String(x));
  io.out(`run ${run.id} finished: ${a.variable} [${r.shape.join('x')}] ${r.boundLabel}; ${r.predictor}; ratio ${fmt(m.compression_ratio)}, max error/bound ${fmt(m.max_error_over_bound)}, ${noValidPoint(m.psnr_db) ? 'no valid point' : `PSNR ${fmt(m.psnr_db)} dB`}; ${fmt(m.compress_mb_s, 3)} / ${fmt(m.decompress_mb_s, 3)} MB/s compress / decompress (this one run, start-up included: \`fieldpack bench\` times warm runs)`);
  if (r.artifact.path) io.out(`${r.artifact.kind === 'fpk' ? 'stream' : 'reconstruction'} kept with the run: ${r.artifact.path}`);
  if (a.out && r.artifact.kind === 'fpk') {
    await checkCopies();
    const from = [r.artifact.path, baseStreamPath(r.artifact.path)];
    for (let i = 0; i < copies.length; i++) {
      if (i > 0 && !existsSync(from[i]!)) continue; // a base of none chosen by auto: no stream beside
      await writeAtomically(copies[i]!, (tmp) => copyFile(from[i]!, tmp));
      io.out(`${copies[i]}: ${i === 0 ? 'the stream' : 'its base'} copied from the run`);
    }
  }
  return 0;
}

/**
 * Where the file stores the values in fewer bytes than the float32 they are read as (int16, a packed variable): the
 * ratio against the file's own values beside the one against float32 (which bench and baselines.json use).
 */
function narrowSourceNote(ratio: number, dtype: string | null): string {
  const width = dtype && isFieldDtype(dtype) ? FIELD_DTYPE_BYTES[dtype] : 4;
  return width < 4 ? ` against the values as float32, ${((ratio * width) / 4).toFixed(2)} against the file's ${dtype} values` : '';
}

/** A PSNR of NaN (a number, its JSON text, or null where a store kept it): no valid point to measure an error on. */
function noValidPoint(psnr: unknown): boolean {
  return psnr === null || psnr === 'NaN' || Number.isNaN(psnr);
}

/**
 * The verified errors against what the bound promised: a point-wise bound's max error over it; an NRMSE target's
 * NRMSE (from the PSNR over the same range), as its streams carry their largest error as their bound (always 1 over it).
 */
function errorSummary(bound: BoundSpec, v: { maxErrorOverBound: number | string; psnr: number | string }): string {
  if (noValidPoint(v.psnr)) return 'no valid point to measure errors on (every value is fill or not finite; each comes back exactly)';
  const psnr = typeof v.psnr === 'number' ? v.psnr.toFixed(2) : v.psnr;
  if (bound.mode === 'nrmse' && typeof v.psnr === 'number') return `NRMSE ${Math.pow(10, -v.psnr / 20).toPrecision(4)} (target ${bound.value}), PSNR ${psnr} dB`;
  return `max error/bound ${Number(v.maxErrorOverBound).toFixed(4)}, PSNR ${psnr} dB`;
}

/** --streamed / --in-memory as the API's `streamed` (absent: automatic by size). */
export function streamedChoice(p: ReturnType<typeof parseFlags>): { streamed?: boolean } {
  if (flag(p, 'streamed') === 'true' && flag(p, 'in-memory') === 'true') throw new CliUsageError('--streamed and --in-memory exclude each other');
  if (flag(p, 'streamed') === 'true') return { streamed: true };
  if (flag(p, 'in-memory') === 'true') return { streamed: false };
  return {};
}

export default compressCommand;

