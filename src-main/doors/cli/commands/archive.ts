import { type CliCommand, type CliRunContext, CliUsageError, type ParsedFlags, flag, nonNegativeFlag, paramFlags, parseBoundFlag, parseFlags, workersFlag } from '../command.ts';
import { checkCodecName } from './compress.ts';
import { formatTable } from '../io.ts';
import { callApi, terminalCall } from '../api.ts';
import { parseSize } from '../../../services/archive/plan.ts';
import { counted } from '../../../core/text.ts';

const WORK_FLAGS = ['vars', 'bound', 'bound-for', 'codec', 'param', 'base', 'crossfield', 'network', 'member-values', 'budget', 'bound-limits'];

/** The flags each verb reads (as its usage lists them): another is a usage error (`list --jobs 3` was taken silently). */
const VERB_FLAGS: Record<string, readonly string[]> = {
  plan: [...WORK_FLAGS, 'json'],
  build: [...WORK_FLAGS, 'out', 'jobs', 'workers', 'json', 'slurm', 'array-size', 'partition', 'time', 'no-submit', 'shard'],
  merge: [],
  verify: ['no-sources', 'json'],
  restore: ['out', 'vars', 'overwrite', 'clamp'],
  list: ['json'],
};

const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
const num = (x: number | string, d = 3) => (typeof x === 'number' ? Number(x.toPrecision(d)).toString() : x);

/**
 * --vars, --bound, --bound-for VAR=MODE:VALUE..., --codec, --param, --base, --crossfield, --member-values, --budget,
 * --bound-limits; a malformed bound or an unknown codec is a usage error (exit 2), found before any file is read.
 */
async function workInput(p: ParsedFlags, inputs: string[], ctx: CliRunContext) {
  const boundFor: Record<string, string> = {};
  for (const kv of p.flags.get('bound-for') ?? []) {
    const m = /^([^=]+)=(.+)$/.exec(kv);
    if (!m) throw new CliUsageError(`--bound-for needs VAR=MODE:VALUE, got "${kv}"`);
    parseBoundFlag(m[2]!.trim(), `bound-for ${m[1]!.trim()}`);
    boundFor[m[1]!.trim()] = m[2]!.trim();
  }
  if (flag(p, 'bound') !== undefined) parseBoundFlag(flag(p, 'bound')!);
  if (flag(p, 'codec') !== undefined) await checkCodecName(ctx, flag(p, 'codec')!);
  const params = paramFlags(p);
  const limits = flag(p, 'bound-limits')?.split(',').map((s) => s.trim());
  if (limits && limits.length !== 2) throw new CliUsageError('--bound-limits needs TIGHTEST,LOOSEST, e.g. rel:1e-5,rel:1e-2');
  for (const b of limits ?? []) parseBoundFlag(b, 'bound-limits');
  const crossfield = flag(p, 'crossfield');
  if (crossfield && crossfield !== 'auto' && crossfield !== 'off') throw new CliUsageError('--crossfield is auto or off');
  const network = flag(p, 'network');
  if (network && network !== 'linear' && network !== 'cfnn') throw new CliUsageError('--network is linear or cfnn');
  return {
    inputs,
    ...(flag(p, 'vars') ? { vars: flag(p, 'vars')!.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(flag(p, 'bound') ? { bound: flag(p, 'bound')! } : {}),
    boundFor,
    ...(flag(p, 'codec') ? { codec: flag(p, 'codec')! } : {}),
    params,
    ...(flag(p, 'base') ? { base: flag(p, 'base')! } : {}),
    ...(crossfield ? { crossfield: crossfield as 'auto' | 'off' } : {}),
    ...(network ? { network: network as 'linear' | 'cfnn' } : {}),
    ...(flag(p, 'member-values') ? { memberValues: wholeNumber(flag(p, 'member-values')!, '--member-values') } : {}),
    ...(flag(p, 'budget') ? { budget: parseSize(flag(p, 'budget')!) } : {}),
    ...(limits ? { boundLimits: limits as [string, string] } : {}),
  };
}

const intFlag = (p: ParsedFlags, name: string) => nonNegativeFlag(p, name, 'an integer');

/** Per source: the variables kept as stored, and those not in the archive and why (those left out by --vars not repeated). */
function notArchived(sources: readonly { name: string; carried: readonly string[]; skipped: readonly { name: string; reason: string }[] }[]): string[] {
  return sources.flatMap((s) => {
    const left = s.skipped.filter((x) => x.reason !== 'not selected (--vars)');
    return [
      ...(s.carried.length ? [`kept as stored from ${s.name} (not fields): ${s.carried.join(', ')}`] : []),
      ...(left.length ? [`not archived from ${s.name}: ${left.map((x) => `${x.name} (${x.reason})`).join('; ')}`] : []),
    ];
  });
}

/** A flag's whole number (a count of values), or a usage error naming the flag. */
function wholeNumber(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new CliUsageError(`${name} takes a whole number, not "${text}"`);
  return n;
}

export const archiveCommand: CliCommand = {
  name: 'archive',
  summary: 'Plan, build, verify, restore, list or merge an archive of many files (resumable; local shards or Slurm job arrays)',
  usage: [
    'fieldpack archive plan FILE|DIR|GLOB... [--vars A,B] [--bound rel:1e-3] [--bound-for VAR=MODE:VALUE]... [--codec NAME [--param K=V]...] [--base SPEC]',
    '                       [--crossfield auto|off] [--network linear|cfnn] [--member-values N] [--budget 2GB [--bound-limits rel:1e-4,rel:1e-2]] [--json]',
    'fieldpack archive build FILE|DIR|GLOB... -o ARCHIVE [plan flags] [--jobs N] [--workers N] [--json]',
    'fieldpack archive build FILE|DIR|GLOB... -o ARCHIVE [plan flags] --slurm [--array-size N] [--partition P] [--time T] [--no-submit]',
    'fieldpack archive build ARCHIVE --shard I/N        (what each Slurm array task or local shard process runs)',
    'fieldpack archive merge ARCHIVE                    (join the shards\' journals into manifest.json)',
    'fieldpack archive verify ARCHIVE [--no-sources] [--json]',
    'fieldpack archive restore ARCHIVE -o DIR [--vars A,B] [--overwrite] [--clamp]',
    'fieldpack archive list ARCHIVE [--json]',
    '  An archive is a folder: manifest.json (versioned, docs/archive.md), members/*.fpk, objects/ (models, bases),',
    '  journal/ (finished members: a killed or cancelled build resumes where it stopped when run again).',
    '  Every variable of every file is a member (split along its first dimension above --member-values values,',
    '  default 4194304); rel bounds resolve on the whole variable. Scalars and char variables (a grid_mapping, Times)',
    '  are kept as stored in the manifest and restored, whatever --vars selects. --crossfield auto (default) predicts a target from',
    '  an anchor of the same file where the ranking finds a linked pair, with one network trained once for the series',
    '  (--network linear: least squares, no Python, default; cfnn: the CFNN in PyTorch) and stored once.',
    '  --codec vqvae --param model=FILE.fpvq (e.g. trained with `fieldpack train` on part of the series): the model is',
    '  stored once in objects/ and every member names it by hash; --param fallback=false keeps the VQ-VAE stream.',
    '  --base none|auto|CODEC:MODE:VALUE (residual coders: --codec lbrc, gae, nglr; e.g. --base core:rel:1e-2 or',
    '  vqvae:psnr:40): each member is compressed first with the base codec and its residual coded over it; the base',
    '  stream is stored once in objects/ (with its model) and counts in the ratio; auto chooses per member (none too).',
    '  file:PATH is refused: an archive must be restorable on its own.',
    '  --budget: per-variable bounds chosen between --bound-limits (default: --bound to rel:1e-2) to fit the size.',
    '  --jobs N: N local shard processes; --slurm: an sbatch array of --array-size tasks (default 4) and a merge job.',
    '  --workers N: worker threads for each member\'s chunks (default 0: all in the calling thread, where compress',
    '    defaults to 1), in this process and in each --jobs shard process (Slurm tasks: 0); the bytes never depend on N.',
    '  verify decodes every member, checks its sha256 and its bound (against the source file when it is still there;',
    '  --no-sources: without reading the sources) and exits 1 naming each member that fails; restore writes one NetCDF-4 file per source, and refuses to replace',
    '  files the folder already holds unless --overwrite; a source whose member fails is named, the others still',
    '  restored (exit 1); --clamp keeps each value inside its member\'s original valid range (no error grows; a',
    '  non-negative field such as a wind speed stays non-negative).',
  ].join('\n'),
  needsStore: false,
  async run(argv, ctx) {
    const { io } = ctx;
    const [verb, ...rest] = argv;
    const p = parseFlags(rest.map((a) => (a === '-o' ? '--out' : a)), {
      values: [...WORK_FLAGS, 'out', 'jobs', 'workers', 'array-size', 'partition', 'time', 'shard'],
      booleans: ['json', 'slurm', 'no-submit', 'no-sources', 'overwrite', 'clamp'],
    });
    const unread = verb !== undefined && VERB_FLAGS[verb] ? [...p.flags.keys()].find((k) => !VERB_FLAGS[verb]!.includes(k)) : undefined;
    if (unread) throw new CliUsageError(`archive ${verb} takes no --${unread === 'out' ? 'out (-o)' : unread}`);
    const json = flag(p, 'json') === 'true';
    const call = terminalCall(io);
    try {
      switch (verb) {
        case 'plan': {
          if (!p.positionals.length) throw new CliUsageError('archive plan needs FILE, DIR or GLOB arguments');
          const r = await callApi(ctx, 'archive.plan', await workInput(p, p.positionals, ctx), call);
          call.done();
          if (json) {
            io.out(JSON.stringify(r, null, 2));
            return 0;
          }
          io.out(formatTable(['member', 'bound', 'codec', 'original', 'estimated', 'ratio', 'est. s'], r.members.map((m) => [
            m.id, m.bound, m.crossfield ? 'cross-field' : m.codec, mb(m.originalBytes), mb(m.estBytes), (m.originalBytes / Math.max(1, m.estBytes)).toFixed(1), m.estSeconds.toFixed(2),
          ])));
          for (const l of r.links) io.out(`cross-field: ${l.target} from ${l.anchors.join(', ')} (${l.reason})`);
          for (const line of notArchived(r.sources)) io.out(line);
          if (r.budget) {
            io.out(`budget ${mb(r.budget.bytes)}: ${r.budget.met ? 'met' : 'NOT met even at the loosest bounds'} with ${Object.entries(r.budget.boundFor).map(([v, b]) => `--bound-for ${v}=${b}`).join(' ')}`);
          }
          io.out(`total: ${counted(r.totals.members, 'member')}, ${mb(r.totals.originalBytes)} -> about ${mb(r.totals.estBytes)} (ratio ${r.totals.ratio.toFixed(1)}), about ${Math.ceil(r.totals.estSeconds)} s of compression on one core (estimated from ${r.sampledValues} sampled values)`);
          return 0;
        }
        case 'build': {
          const shardText = flag(p, 'shard');
          const shard = shardText ? /^(\d+)\/(\d+)$/.exec(shardText) : null;
          if (shardText && !shard) throw new CliUsageError('--shard needs I/N, e.g. 0/4');
          const out = flag(p, 'out') ?? (shard ? p.positionals[0] : undefined);
          if (!out) throw new CliUsageError('archive build needs -o ARCHIVE (a folder)');
          const inputs = flag(p, 'out') ? p.positionals : p.positionals.slice(1);
          const slurm = flag(p, 'slurm') === 'true'
            ? { arraySize: intFlag(p, 'array-size') ?? 4, ...(flag(p, 'partition') ? { partition: flag(p, 'partition') } : {}), ...(flag(p, 'time') ? { time: flag(p, 'time') } : {}), submit: flag(p, 'no-submit') !== 'true' }
            : undefined;
          const r = await callApi(ctx, 'archive.build', {
            ...(await workInput(p, inputs, ctx)), out, jobs: intFlag(p, 'jobs') ?? 1, workers: workersFlag(p) ?? 0,
            ...(shard ? { shard: { index: Number(shard[1]), count: Number(shard[2]) } } : {}), ...(slurm ? { slurm } : {}),
          }, call);
          call.done();
          if (json) io.out(JSON.stringify(r, null, 2));
          else if (r.slurm) {
            io.out(`${r.out}: work written; sbatch scripts ${r.slurm.buildScript} and ${r.slurm.mergeScript}`);
            if (r.slurm.arrayJobId) io.out(`submitted: array job ${r.slurm.arrayJobId}, merge job ${r.slurm.mergeJobId} (runs after every task succeeded)`);
          } else if (r.totals) {
            const t = r.totals;
            io.out(`${r.out}: ${counted(t.members, 'member')} (${r.built} built, ${r.reused} already done), ${mb(t.originalBytes)} -> ${mb(t.archiveBytes)}, ratio ${t.ratio.toFixed(2)} (${(t.ratioWithoutModels ?? t.ratio).toFixed(2)} without models), models ${(t.modelShare * 100).toFixed(2)} % of the archive, ${r.seconds.toFixed(1)} s`);
            // what the archive does not hold as fields, as plan and list say it
            for (const line of notArchived((await callApi(ctx, 'archive.list', { archive: r.out })).sources)) io.out(line);
            for (const note of r.notes) io.out(`note: ${note}`);
          } else io.out(`${r.out}: shard built (${counted(r.built, 'member')}, ${r.reused} already done) in ${r.seconds.toFixed(1)} s`);
          return 0;
        }
        case 'merge': {
          const archive = p.positionals[0];
          if (!archive) throw new CliUsageError('archive merge needs ARCHIVE');
          const r = await callApi(ctx, 'archive.merge', { archive }, call);
          call.done();
          io.out(`${archive}: manifest.json written, ${counted(r.totals.members, 'member')}, ratio ${r.totals.ratio.toFixed(2)}`);
          return 0;
        }
        case 'verify': {
          const archive = p.positionals[0];
          if (!archive) throw new CliUsageError('archive verify needs ARCHIVE');
          const r = await callApi(ctx, 'archive.verify', { archive, sources: flag(p, 'no-sources') !== 'true' }, call);
          call.done();
          if (json) io.out(JSON.stringify(r, null, 2));
          else {
            for (const m of r.members) (m.ok ? io.out : io.err)(`${m.ok ? 'ok  ' : 'FAIL'} ${m.ok ? `${m.id}: ${m.message}` : m.message}`);
            for (const o of r.objects) if (!o.ok) io.err(`FAIL ${o.message}`);
            for (const n of r.notes) io.err(`note: ${n}`);
            io.out(r.ok ? `${archive}: ${r.members.length === 1 ? 'the 1 member' : `all ${r.members.length} members`} verified` : `${archive}: ${r.failed} failed`);
          }
          return r.ok ? 0 : 1;
        }
        case 'restore': {
          const archive = p.positionals[0];
          const out = flag(p, 'out');
          if (!archive || !out) throw new CliUsageError('archive restore needs ARCHIVE and -o DIR');
          const r = await callApi(ctx, 'archive.restore', { archive, out, ...(flag(p, 'vars') ? { vars: flag(p, 'vars')!.split(',').map((s) => s.trim()).filter(Boolean) } : {}), ...(p.flags.has('overwrite') ? { overwrite: true } : {}), ...(p.flags.has('clamp') ? { clamp: true } : {}) }, call);
          call.done();
          for (const f of r.files) io.out(`${f.path}: ${f.variables.join(', ') || 'coordinates and attributes'} (from ${f.source})${f.clamped !== undefined ? `; ${f.clamped} value${f.clamped === 1 ? '' : 's'} clamped into the valid range` : ''}`);
          // what the restored files lack, as build, plan and list say it
          const restoredFrom = new Set(r.files.map((f) => f.source));
          for (const line of notArchived((await callApi(ctx, 'archive.list', { archive })).sources.filter((s) => restoredFrom.has(s.name)))) io.out(line);
          for (const f of r.failed) io.err(`FAIL ${f.source}: not restored: ${f.message}`);
          for (const note of r.notes) io.err(`note: ${note}`);
          if (r.failed.length) io.err(`${archive}: ${r.files.length} of ${r.files.length + r.failed.length} files restored; ${r.failed.length} not (the reasons above; archive verify names any damaged member)`);
          return r.failed.length ? 1 : 0;
        }
        case 'list': {
          const archive = p.positionals[0];
          if (!archive) throw new CliUsageError('archive list needs ARCHIVE');
          const r = await callApi(ctx, 'archive.list', { archive }, call);
          call.done();
          if (json) {
            io.out(JSON.stringify(r, null, 2));
            return 0;
          }
          // the base column only where a member has a base (its stream is an object; the ratio counts it)
          const based = r.members.some((m) => m.baseBytes > 0);
          io.out(formatTable(['member', 'shape', 'codec', 'bound', 'max error', 'PSNR', 'bytes', ...(based ? ['base'] : []), 'ratio', 'anchors'], r.members.map((m) => [
            m.id, m.shape.join('x'), m.codec, `${m.bound} (${num(m.boundAbs)})`, num(m.maxError), num(m.psnr, 4), m.bytes, ...(based ? [m.baseBytes] : []), m.ratio.toFixed(1), m.anchors.join(',') || '-',
          ])));
          for (const o of r.objects) io.out(`object ${o.hash.slice(0, 16)}... ${o.kind} ${o.label}: ${o.bytes} bytes, used by ${counted(o.usedBy, 'member')}`);
          for (const line of notArchived(r.sources)) io.out(line);
          const t = r.totals;
          io.out(`archive format ${r.version} (Fieldpack ${r.fieldpackVersion}), ${r.sources.length} sources, ${t.members} members: ${mb(t.originalBytes)} -> ${mb(t.archiveBytes)}, ratio ${t.ratio.toFixed(2)}, models ${(t.modelShare * 100).toFixed(2)} %`);
          return 0;
        }
        default:
          throw new CliUsageError(`archive ${verb ?? ''}: the verbs are plan, build, verify, restore, list, merge`);
      }
    } finally {
      call.done();
    }
  },
};

export default archiveCommand;
