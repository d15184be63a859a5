import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createApp } from '../../../src-main/services/app-context.ts';
import { handleIpcCall } from '../../../src-main/doors/electron/ipc-handler.ts';
import { dispatch } from '../../../src-main/services/dispatch.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { onCancelSignals } from '../../../src-main/doors/cli/api.ts';
import { SCHEMA_VERSION } from '../../../src-main/services/store/migrations.ts';

const tmp = tempDir();
afterAll(tmp.cleanup);
const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('Electron IPC handler', () => {
  it('serves our own pages, refuses other origins, and returns errors as {code, message}', async () => {
    const app = createApp({ dbPath: join(tmp.dir, 'ipc.db'), door: 'electron' });
    const ok = await handleIpcCall(app.services, 'file:///app/out/renderer/index.html', 'projects.create', { name: 'via IPC' });
    expect(ok).toMatchObject({ ok: true, value: { name: 'via IPC' } });
    const foreign = await handleIpcCall(app.services, 'https://example.org/', 'projects.list', {});
    expect(foreign).toEqual({ ok: false, error: { code: 'UNAUTHORIZED', message: expect.stringContaining('example.org') } });
    const unknown = await handleIpcCall(app.services, 'file:///x', 'fs.readFile', { path: '/etc/passwd' });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const invalid = await handleIpcCall(app.services, 'file:///x', 'projects.rename', { id: -1, name: 3 });
    expect(invalid).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/id.*name|name.*id/s) } });
    const doctor = await handleIpcCall(app.services, 'file:///x', 'system.doctor', {});
    expect(doctor).toMatchObject({ ok: true, value: { door: "electron", webassemblyFastPath: true, database: { schemaVersion: SCHEMA_VERSION } } });
    await app.close();
  });
});

describe('CLI', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, FIELDPACK_DB: join(tmp.dir, 'cli.db') } });

  it('manages projects and runs a job with a progress line', () => {
    expect(cli('projects', 'create', 'From the CLI').stdout).toContain('created project 1: From the CLI');
    const run = cli('run', 'demo', '--project', '1', '--steps', '4', '--size', '32', '--delay-ms', '0');
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/100% step 4\/4/);
    expect(run.stdout).toContain('finished');
    expect(cli('runs', '--project', '1').stdout).toMatch(/demo\s+demo\s+finished\s+100%/);
    const del = cli('projects', 'delete', '1');
    expect(del.status).toBe(1);
    expect(del.stderr).toContain('--yes');
    expect(cli('projects', 'delete', '1', '--yes').stdout).toContain('deleted project 1');
  });

  it('explains bad usage and bad databases with a non-zero exit', () => {
    const unknown = cli('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const badFlag = cli('runs', '--bogus');
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toContain('unknown flag --bogus');
    const corrupt = spawnSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), '--db', join(ROOT, 'package.json'), 'projects'], { encoding: 'utf8' });
    expect(corrupt.status).toBe(1);
    expect(corrupt.stderr).toMatch(/DB_CORRUPT.*package\.json is not a Fieldpack database/);
    // a database asked for by a path where there is none is made, and said so (a mistyped --db is not a store whose
    // runs vanished); the next command says nothing
    const fresh = join(tmp.dir, 'typo', 'sub', 'new.db');
    const first = spawnSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), '--db', fresh, 'projects', 'list'], { encoding: 'utf8' });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/new\.db did not exist: a new, empty experiment database was made there/);
    const again = spawnSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), '--db', fresh, 'projects', 'list'], { encoding: 'utf8' });
    expect(again.stderr).not.toMatch(/did not exist/);
  });

  it('projects and runs parse their flags: an unknown one, or one the verb does not take, is a usage error; runs list --json prints JSON', () => {
    const db = join(tmp.dir, 'verbs.db');
    const at = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), '--db', db, ...args], { encoding: 'utf8' });
    // `projects create --foo` made a project named "--foo"
    for (const [args, said] of [
      [['projects', 'create', '--foo'], /unknown flag --foo/],
      [['projects', 'create', 'P', '--yes'], /projects create takes --description, not --yes/],
      [['projects', 'rename', '1', 'Q', '--description', 'x'], /projects rename takes no flags, not --description/],
      [['projects', 'delete', 'one', '--yes'], /"one" is not a project id/],
      [['runs', 'list', '--limit', '0'], /--limit needs a whole number of runs from 1 to 10000, not "0"/],
      [['runs', 'search', '--archived', 'yes'], /--archived is exclude, include, only \(default exclude\), not "yes"/],
      [['runs', 'tag', '1', 'keep', '--limit', '2'], /runs tag takes no flags, not --limit/],
      [['runs', 'show', '1', '--kind', 'demo'], /runs show takes --json, not --kind/],
      // a switch with a value: --overwrite=false was read as --overwrite (and compress replaced the file)
      [['runs', 'list', '--json=false'], /--json takes no value \(--json=false\): give --json alone, or leave it out/],
      [['compress', 'x.nc', '--var', 'T', '--bound', 'rel:1e-2', '-o', 'x.fpk', '--overwrite=false'], /--overwrite takes no value/],
      // a value that is a flag (-o --overwrite wrote a file named --overwrite), a second FILE or an unknown -x (ignored),
      // numbers not in decimal digits ('' was 0, 0x10 16), a port or project id that is not one
      [['compress', 'x.nc', '--var', 'T', '--bound', 'rel:1e-2', '-o', '--overwrite'], /--out needs a value, not the flag --overwrite/],
      [['compress', 'x.nc', 'y.nc', '-x', '--var', 'T', '--bound', 'rel:1e-2', '-o', 'x.fpk'], /compress takes one FILE \(got x\.nc y\.nc -x\)/],
      [['decompress', 'x.fpk', 'y.fpk', '-o', 'x.f32'], /decompress takes one IN\.fpk/],
      [['run', 'demo', '--steps', '0x2'], /--steps needs an integer >= 0, not "0x2"/],
      [['runs', 'list', '--project', 'abc'], /--project needs a project id \(a whole number from 1\), not "abc"/],
      [['runs', 'list', '--limit', ''], /--limit needs a whole number of runs/],
      [['serve', '--port', '1e3x'], /--port needs an integer from 0 to 65535, not "1e3x"/],
      [['--db', '--python', 'projects', 'list'], /--db needs a value, not the flag --python/],
    ] as const) {
      const r = at(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(said);
    }
    expect(existsSync(db), 'refused before the store is opened').toBe(false);
    expect(at('projects', 'create', 'Flags', '--description', 'made with a description').stdout).toContain('created project 1: Flags');
    expect(at('projects', 'list').stdout).toMatch(/^ *1 +Flags /m);
    for (let i = 0; i < 3; i++) expect(at('run', 'demo', '--project', '1', '--steps', '2', '--size', '8', '--delay-ms', '0').status).toBe(0);
    // --json is the records as JSON (it printed the table); --limit the newest N
    const list = at('runs', 'list', '--json', '--limit', '2');
    expect(list.status, list.stderr).toBe(0);
    const runs = JSON.parse(list.stdout) as { id: number; kind: string; status: string }[];
    expect(runs.map((r) => [r.id, r.kind, r.status])).toEqual([[3, 'demo', 'finished'], [2, 'demo', 'finished']]);
    expect(at('runs', 'archive', '3').status).toBe(0);
    const ids = (args: string[]) => [...at('runs', 'search', ...args).stdout.matchAll(/^ *(\d+) /gm)].map((m) => Number(m[1]));
    expect(ids([])).toEqual([2, 1]);
    expect(ids(['--archived', 'include', '--limit', '2'])).toEqual([3, 2]);
    expect(ids(['--archived', 'only'])).toEqual([3]);
    const help = at('help', 'runs').stdout;
    expect(help).toMatch(/--archived exclude\|include\|only/);
    expect(help).toMatch(/--archived: exclude \(default: archived runs left out\), include, or only them; --limit: at most N runs \(default 200\)/);
    expect(help).toMatch(/fieldpack runs \[list\] \[--project ID\] \[--kind KIND\] \[--limit N\] \[--json\]/);
    // a project that does not exist is said (an empty table was printed)
    for (const verb of ['list', 'search']) expect(at('runs', verb, '--project', '999').stderr).toMatch(/project 999 does not exist/);
    // after -- every argument is a positional (a name that starts with --)
    expect(at('projects', 'create', '--', '--dash').stdout).toContain('created project 2: --dash');
    // control characters in a name are refused (an escape sequence in a name set the window's title), never echoed
    const escaped = at('projects', 'create', 'title\u001b]0;pwned\u0007');
    expect(escaped.stderr).toMatch(/no line breaks, tabs or other control characters/);
    expect(escaped.stdout + escaped.stderr).not.toMatch(/[\u001b\u0007]/);
    // and the bidirectional overrides reach the terminal as \uNNNN: a name that reads as another
    const spoof = at('projects', 'create', 'run\u202Egpj.nc');
    expect(spoof.stdout).toContain('created project 3: run\\u202egpj.nc');
  });

  it('prints help that lists every command, and the README shows exactly that help', () => {
    const help = cli('--help');
    expect(help.status).toBe(0);
    for (const c of ['start', 'serve', 'projects', 'run', 'runs', 'doctor']) expect(help.stdout).toMatch(new RegExp(`^  ${c}\\s`, 'm'));
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /```\n(fieldpack \S+: error-bounded[\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README has the help block').toBeDefined();
    expect(block!.trimEnd()).toBe(help.stdout.trimEnd());
    // --version is in the help it works beside
    expect(help.stdout).toMatch(/fieldpack --version \(-V\) prints the version/);
    const version = /^fieldpack (\S+):/.exec(help.stdout)![1]!;
    for (const flag of ['--version', '-V']) expect(cli(flag)).toMatchObject({ status: 0, stdout: `${version}\n` });
  });

  it('takes global flags after the command too (npm run serve -- --db X)', () => {
    const db = join(tmp.dir, 'after.db');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), 'projects', 'create', 'Late flag', '--db', db], { encoding: 'utf8' });
    expect(r.stderr).not.toContain('unknown flag');
    expect(r.status).toBe(0);
    expect(existsSync(db)).toBe(true);
    const list = spawnSync(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), 'projects', `--db=${db}`], { encoding: 'utf8' });
    expect(list.stdout).toContain('Late flag');
  });

  it('shows a run as a readable summary, and the raw record with --json', () => {
    cli('projects', 'create', 'Summaries');
    const run = cli('run', 'demo', '--steps', '3', '--size', '16', '--delay-ms', '0');
    const id = /run (\d+) finished/.exec(run.stdout)![1]!;
    const show = cli('runs', 'show', id);
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^run ${id}: `));
    expect(show.stdout).toMatch(/kind demo, status finished/);
    expect(show.stdout).toMatch(/^parameters:\n  steps: 3/m);
    expect(show.stdout).toMatch(/^metrics:/m);
    expect(show.stdout).not.toMatch(/^\{/);
    const json = JSON.parse(cli('runs', 'show', id, '--json').stdout) as { id: number; metrics: unknown[] };
    expect(json.id).toBe(Number(id));
    expect(json.metrics.length).toBeGreaterThan(0);
    // an id that is no number is quoted back (the schema's "expected number, received NaN" said nothing of it)
    const bad = cli('runs', 'show', 'nope');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/"nope" is not a run id/);
  });

  it('Ctrl-C or SIGTERM while following a job cancels it: the run is recorded cancelled and the exit code is the shell\'s (130, 143)', async () => {
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), 'run', 'demo', '--steps', '400', '--size', '16', '--delay-ms', '50'], { env: { ...process.env, FIELDPACK_DB: join(tmp.dir, 'cli.db') }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
      // once the job runs (its first progress line)
      child.stderr!.setEncoding('utf8').on('data', (t: string) => {
        if (!stderr.includes('%') && t.includes('%')) child.kill(signal);
        stderr += t;
      });
      const status = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
      expect(status, stderr).toBe(code);
      const id = /run (\d+) cancelled/.exec(stdout)?.[1];
      expect(id, stdout).toBeDefined();
      expect(cli('runs', 'show', id!).stdout).toMatch(/status cancelled/);
    }
  }, 60_000);

  it('a cancelling signal delivered twice at once (timeout sends it to the command, then to its process group) is one stop; a later one has its default action (ends the process)', async () => {
    const before = { int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM') };
    const stops: string[] = [];
    const stop = onCancelSignals((signal) => stops.push(signal));
    try {
      process.emit('SIGTERM', 'SIGTERM');
      // the copy: still listened to (so not the default action, which would end this process), and not a second stop
      await new Promise((res) => setTimeout(res, 50));
      expect(process.listenerCount('SIGTERM')).toBe(before.term + 1);
      process.emit('SIGTERM', 'SIGTERM');
      process.emit('SIGINT', 'SIGINT');
      expect(stops).toEqual(['SIGTERM']);
      // past the window, nothing listens: a second Ctrl-C quits at once
      await new Promise((res) => setTimeout(res, 400));
      expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual([before.int, before.term]);
    } finally {
      stop();
    }
  });

  it('a job another Fieldpack runs stays running when this one opens the store; a cancel from here asks that process, which stops it', async () => {
    const db = join(tmp.dir, 'shared.db');
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'fieldpack.mjs'), 'run', 'demo', '--steps', '400', '--size', '16', '--delay-ms', '50'], { env: { ...process.env, FIELDPACK_DB: db }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    await new Promise<void>((res) => child.stderr!.setEncoding('utf8').on('data', (t: string) => t.includes('%') && res()));
    const app = createApp({ dbPath: db, door: 'cli' });
    try {
      const [run] = app.store.listRuns({ kind: 'demo' });
      expect(run!.status).toBe('running');
      // asked, not ended here: the run is the other process's to end (it records how)
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      expect(((await dispatch(app.services, 'jobs.cancel', { runId: run!.id })) as { status: string }).status).toBe('running');
      // its cancel watch sees the request within a second; the CLI ends as a run cancelled from elsewhere does
      expect(await exited).toBe(1);
      expect(stdout).toMatch(/cancelled/);
      const ended = app.store.getRun(run!.id);
      expect(ended.status).toBe('cancelled');
      expect(ended.message).toMatch(new RegExp(`cancelled by process ${process.pid} on `));
    } finally {
      child.kill('SIGKILL');
      await app.close();
    }
  }, 60_000);
});
