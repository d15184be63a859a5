import { dispatch } from '../../../services/dispatch.ts';
import { jobExitCode, onCancelSignals } from '../api.ts';
import type { Run, RunDetail } from '../../../api/contract.ts';
import { CliUsageError, flag, idFlag, nonNegativeFlag, onlyFlags, parseFlags, type CliCommand } from '../command.ts';
import { formatTable } from '../io.ts';
import { formatRunSummary } from '../run-summary.ts';
import { RUNS_REVIEW_USAGE, RUNS_REVIEW_VERBS, limitFlag, runId, runReviewVerb } from './runs-review.ts';

/** How long `runs cancel` waits for another process to stop a run it was asked to cancel. */
const CANCEL_WAIT_MS = 15_000;

/** `fieldpack run KIND`: submit a job, draw its progress, Ctrl-C or SIGTERM cancels it (recorded as cancelled). */
export const runCommand: CliCommand = {
  name: 'run',
  summary: 'run a job (demo) with a progress line; Ctrl-C cancels it',
  usage: `fieldpack run demo [--project ID] [--steps N] [--size N] [--delay-ms N]`,
  async run(argv, { io, app }) {
    const p = parseFlags(argv, { values: ['project', 'steps', 'size', 'delay-ms'] });
    const kind = p.positionals[0];
    if (kind !== 'demo') throw new CliUsageError('known job kinds: demo');
    const params: Record<string, unknown> = {};
    for (const [name, param] of [['steps', 'steps'], ['size', 'size'], ['delay-ms', 'stepDelayMs']] as const) {
      const n = nonNegativeFlag(p, name, 'an integer');
      if (n !== undefined) params[param] = n;
    }
    const projectId = idFlag(p, 'project', 'a project id') ?? null;
    const ctx = await app();
    const run = (await dispatch(ctx.services, 'jobs.submit', { kind, projectId, params })) as Run;
    const off = ctx.events.on((e) => {
      if (e.type === 'run.updated' && e.run.id === run.id && e.run.status === 'running') io.progress(e.run.progress, e.run.message);
    });
    const stopListening = onCancelSignals(() => ctx.jobs.cancel(run.id));
    const ended = await ctx.jobs.waitFor(run.id);
    stopListening();
    off();
    io.progressDone();
    io.out(`run ${ended.id} ${ended.status}${ended.error ? `: ${ended.error.message}` : ''}`);
    return jobExitCode(ended);
  },
};

export const runsCommand: CliCommand = {
  name: 'runs',
  summary: 'list, search, show, tag, annotate, archive, delete, export or import runs; cancel one',
  usage: `fieldpack runs [list] [--project ID] [--kind KIND] [--limit N] [--json]   (the newest N runs, default 200; --json the records)
fieldpack runs show ID [--json]   (a summary: parameters, metrics, tags, artifacts, log tail; --json the raw record)
fieldpack runs cancel ID   (a run another Fieldpack runs, a terminal's or the workbench's, is asked of it: it stops within a second or so; waits up to 15 s and says how it ended)
${RUNS_REVIEW_USAGE}`,
  async run(argv, { io, app }) {
    if (argv[0] && RUNS_REVIEW_VERBS.includes(argv[0])) return runReviewVerb(argv[0], argv.slice(1), { io, app });
    const p = parseFlags(argv, { values: ['project', 'kind', 'limit'], booleans: ['json'] });
    const [verb = 'list', idText] = p.positionals;
    if (verb !== 'list' && verb !== 'show' && verb !== 'cancel') throw new CliUsageError(`unknown runs verb "${verb}"`);
    onlyFlags(p, `runs ${verb}`, { list: ['project', 'kind', 'limit', 'json'], show: ['json'], cancel: [] }[verb]);
    const limit = limitFlag(p);
    const projectId = idFlag(p, 'project', 'a project id');
    const { services } = await app();
    if (verb === 'list') {
      // a project that does not exist is said, not listed as empty
      if (projectId !== undefined) await dispatch(services, 'projects.get', { id: projectId });
      const runs = (await dispatch(services, 'runs.list', {
        projectId,
        kind: flag(p, 'kind'),
        ...(limit !== undefined ? { limit } : {}),
      })) as Run[];
      if (flag(p, 'json') === 'true') {
        io.out(JSON.stringify(runs, null, 2));
        return 0;
      }
      io.out(formatTable(['id', 'project', 'kind', 'name', 'status', 'progress', 'started', 'message'], runs.map((r) => [r.id, r.projectId ?? '-', r.kind, r.name, r.status, `${Math.round(r.progress * 100)}%`, r.startedAt?.slice(0, 19) ?? '-', r.message])));
      return 0;
    }
    if (!idText) throw new CliUsageError(`runs ${verb} takes an ID`);
    if (verb === 'show') {
      const r = (await dispatch(services, 'runs.get', { id: runId(idText) })) as RunDetail;
      if (flag(p, 'json') === 'true') io.out(JSON.stringify(r, null, 2));
      else for (const l of formatRunSummary(r)) io.out(l);
      return 0;
    }
    if (verb === 'cancel') {
      let r = (await dispatch(services, 'jobs.cancel', { runId: runId(idText) })) as Run;
      // a run another Fieldpack runs: that process was asked, and stops it within a second or so (a training after
      // its current step); waited for a while, so that what is printed is how the run ended
      for (const start = Date.now(); (r.status === 'running' || r.status === 'scheduled') && Date.now() - start < CANCEL_WAIT_MS;) {
        await new Promise((res) => setTimeout(res, 200));
        r = (await dispatch(services, 'runs.get', { id: r.id })) as RunDetail;
      }
      if (r.status === 'running' || r.status === 'scheduled') io.out(`run ${r.id}: ${r.status}; the process that runs it was asked to cancel it and has not yet stopped it (\`fieldpack runs show ${r.id}\` says when it has)`);
      else io.out(`run ${r.id}: ${r.status}${r.message ? ` (${r.message})` : ''}`);
      return 0;
    }
    throw new CliUsageError(`unknown runs verb "${verb}"`);
  },
};
