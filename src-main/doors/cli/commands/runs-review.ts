/** The review verbs of `fieldpack runs`: tags, notes, archive, delete, search, experiment files (through the API). */
import type { CliRunContext } from '../command.ts';
import { CliUsageError, decimalNumber, flag, idFlag, onlyFlags, parseFlags, type ParsedFlags } from '../command.ts';
import { callApi, terminalCall } from '../api.ts';
import { formatTable } from '../io.ts';
import { reservedTagKey } from '../../../api/methods/review.ts';

export const RUNS_REVIEW_USAGE = `fieldpack runs search [TEXT] [--project ID] [--tag KEY[=VALUE]]... [--archived exclude|include|only] [--experiment NAME] [--limit N]
  --archived: exclude (default: archived runs left out), include, or only them; --limit: at most N runs (default 200)
fieldpack runs tag ID KEY[=VALUE]... | untag ID KEY... | note ID TEXT | archive ID... | unarchive ID... | delete ID...
fieldpack runs export (ID... | --project ID [--experiment NAME]) -o FILE.fpexp.json
fieldpack runs import FILE.fpexp.json --project ID [--experiment NAME]   (the project must exist: fieldpack projects create NAME)`;

export const RUNS_REVIEW_VERBS = ['search', 'tag', 'untag', 'note', 'archive', 'unarchive', 'delete', 'export', 'import'];

/** A run id as typed (a whole number from 1), or a usage error quoting it. */
export function runId(x: string): number {
  const n = Number(x);
  if (!Number.isInteger(n) || n <= 0) throw new CliUsageError(`"${x}" is not a run id (runs list shows them)`);
  return n;
}

/** Run ids as given, each once (a run named twice is one run: "delete 33 33" deleted it, then failed on it). */
const ids = (xs: string[]) => [...new Set(xs.map(runId))];

/** --limit: a whole number of runs from 1 to the API's 10000, or a usage error quoting it; undefined when not given. */
export function limitFlag(p: ParsedFlags): number | undefined {
  const v = flag(p, 'limit');
  if (v === undefined) return undefined;
  const n = decimalNumber(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new CliUsageError(`--limit needs a whole number of runs from 1 to 10000, not "${v}"`);
  return n;
}

const ARCHIVED = ['exclude', 'include', 'only'] as const;
const VERB_FLAGS: Record<string, readonly string[]> = {
  search: ['project', 'tag', 'archived', 'experiment', 'limit'],
  export: ['out', 'project', 'experiment'],
  import: ['project', 'experiment'],
};

function keyValues(xs: string[]): Record<string, string> {
  return Object.fromEntries(xs.map((x) => {
    const i = x.indexOf('=');
    const [key, value] = i < 0 ? [x, ''] : [x.slice(0, i), x.slice(i + 1)];
    // a key an object answers to itself would vanish on the way (__proto__) or match every run
    if (reservedTagKey(key)) throw new CliUsageError(`tag key "${key}" is a reserved name: give the tag another key`);
    return [key, value];
  }));
}

export async function runReviewVerb(verb: string, argv: string[], ctx: Pick<CliRunContext, 'app' | 'io'>): Promise<number> {
  const p = parseFlags(argv.map((a) => (a === '-o' ? '--out' : a)), { values: ['project', 'tag', 'archived', 'experiment', 'out', 'limit'] });
  onlyFlags(p, `runs ${verb}`, VERB_FLAGS[verb] ?? []);
  const project = idFlag(p, 'project', 'a project id');
  const rest = p.positionals;
  const { io } = ctx;
  switch (verb) {
    case 'search': {
      const archived = flag(p, 'archived');
      if (archived !== undefined && !(ARCHIVED as readonly string[]).includes(archived)) throw new CliUsageError(`--archived is ${ARCHIVED.join(', ')} (default exclude), not "${archived}"`);
      const limit = limitFlag(p);
      // a project that does not exist is said, not searched as empty
      if (project !== undefined) await callApi(ctx, 'projects.get', { id: project });
      const runs = await callApi(ctx, 'runs.search', {
        projectId: project,
        query: rest.join(' ') || undefined,
        tags: keyValues(p.flags.get('tag') ?? []),
        ...(archived ? { archived: archived as (typeof ARCHIVED)[number] } : {}),
        experiment: flag(p, 'experiment'),
        ...(limit !== undefined ? { limit } : {}),
      });
      io.out(formatTable(['id', 'project', 'kind', 'name', 'status', 'archived', 'note'], runs.map((r) => [r.id, r.projectId ?? '-', r.kind, r.name, r.status, r.archivedAt ? 'yes' : '', r.note.split('\n')[0]!.slice(0, 60)])));
      return 0;
    }
    case 'tag':
    case 'untag': {
      const [id, ...kv] = rest;
      if (!id || !kv.length) throw new CliUsageError(`runs ${verb} takes an ID and at least one ${verb === 'tag' ? 'KEY[=VALUE]' : 'KEY'}`);
      const r = await callApi(ctx, 'runs.update', verb === 'tag' ? { id: ids([id])[0]!, setTags: keyValues(kv) } : { id: ids([id])[0]!, removeTags: kv });
      const detail = await callApi(ctx, 'runs.get', { id: r.id });
      io.out(`run ${r.id} tags: ${Object.entries(detail.tags).map(([k, v]) => (v ? `${k}=${v}` : k)).join(', ') || '(none)'}`);
      return 0;
    }
    case 'note': {
      const [id, ...text] = rest;
      if (!id) throw new CliUsageError('runs note takes an ID and the text');
      const r = await callApi(ctx, 'runs.update', { id: ids([id])[0]!, note: text.join(' ') });
      io.out(`run ${r.id} note: ${r.note || '(none)'}`);
      return 0;
    }
    case 'archive':
    case 'unarchive':
    case 'delete': {
      if (!rest.length) throw new CliUsageError(`runs ${verb} takes run ids`);
      // every id checked first: a missing one changes none (a delete of "1 999999" deleted run 1, then failed)
      for (const id of ids(rest)) await callApi(ctx, 'runs.get', { id });
      for (const id of ids(rest)) {
        if (verb === 'delete') await callApi(ctx, 'runs.delete', { id });
        else await callApi(ctx, 'runs.update', { id, archived: verb === 'archive' });
        io.out(`run ${id} ${verb === 'delete' ? 'deleted' : `${verb}d`}`);
      }
      return 0;
    }
    case 'export': {
      const out = flag(p, 'out');
      if (!out) throw new CliUsageError('runs export needs -o FILE');
      if (!rest.length && project === undefined) throw new CliUsageError('runs export takes run ids, or --project ID');
      const r = await callApi(ctx, 'experiments.export', { runIds: rest.length ? ids(rest) : undefined, projectId: project, experiment: flag(p, 'experiment'), path: out });
      io.out(`exported ${r.runs} run(s) with ${r.artifacts} artifact(s) to ${r.path} (${r.bytes} bytes)${r.skipped.length ? `; left out: ${r.skipped.join(', ')}` : ''}`);
      return 0;
    }
    case 'import': {
      const [file] = rest;
      if (!file || project === undefined) throw new CliUsageError('runs import takes FILE and --project ID');
      // Ctrl-C cancels the call (its runs taken back), not the process half-way
      const call = terminalCall(io);
      let r;
      try {
        r = await callApi(ctx, 'experiments.import', { projectId: project, path: file, experiment: flag(p, 'experiment') }, call);
      } finally {
        call.done();
      }
      io.out(`imported ${r.runs.length} run(s) into experiment "${r.experiment}": ${r.runs.map((x) => x.id).join(', ')}`);
      return 0;
    }
  }
  throw new CliUsageError(`unknown runs verb "${verb}"`);
}
