/**
 * The `fieldpack` command line: global flags, then one command from commands/index.ts.
 * Exit codes: 0 success, 1 a failure the message explains, 2 a usage error, 128 + the signal's number when Ctrl-C
 * (130) or SIGTERM (143) cancelled the work.
 */
import { existsSync } from 'node:fs';
import { FieldpackError, serializeError } from '../../core/errors.ts';
import type { AppContext } from '../../services/app-context.ts';
import { fieldpackVersion } from '../../services/system/version.ts';
import { CliUsageError, type CliRunContext } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { terminalIO } from './io.ts';
import { cancelledExitCode } from './api.ts';
import { closePools } from '../../services/codecs/pool.ts';

/**
 * A usage's synopsis lines (those not indented): what a usage error prints under its message, which the whole usage
 * (40 lines for compress) scrolled out of sight.
 */
function synopsis(usage: string): string {
  return usage.split('\n').filter((line) => line && !/^\s/.test(line)).join('\n');
}

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `fieldpack ${fieldpackVersion()}: error-bounded compression of scientific fields`,
    '',
    'usage: fieldpack [--db PATH] [--python PATH] COMMAND [ARGS]   (global flags also after COMMAND)',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'global flags:',
    '  --db PATH      experiment database (default: FIELDPACK_DB, else the app-data folder)',
    '  --python PATH  Python interpreter with PyTorch for training (default: auto-detect)',
    '',
    'fieldpack help COMMAND shows a command\'s usage; fieldpack --version (-V) prints the version.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const io = terminalIO();
  const globals: CliRunContext['globals'] = {};
  const rest: string[] = [];
  // global flags go before the command or anywhere after it (`npm run serve -- --db X` puts them after), up to a `--`
  let literal = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') literal = true;
    const m = literal ? null : /^--(db|python)(?:=(.*))?$/.exec(a);
    if (m) {
      const value = m[2] ?? argv[++i];
      if (!value) {
        io.err(`--${m[1]} needs a value`);
        return 2;
      }
      // (`--db --python` made a database file named --python)
      if (m[2] === undefined && value.startsWith('--')) {
        io.err(`--${m[1]} needs a value, not the flag ${value} (a path that starts with --: --${m[1]}=${value})`);
        return 2;
      }
      globals[m[1] as 'db' | 'python'] = value;
    } else rest.push(a);
  }
  const [name, ...args] = rest;
  if (!name || name === '--help' || name === '-h') {
    io.out(help());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    io.out(fieldpackVersion());
    return 0;
  }
  if (name === 'help') {
    const c = COMMANDS.find((x) => x.name === args[0]);
    io.out(c ? `${c.summary}\n\n${c.usage}` : help());
    return c || !args[0] ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`unknown command "${name}"; fieldpack --help lists them`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(`${command.summary}\n\n${command.usage}`);
    return 0;
  }
  let app: AppContext | null = null;
  const ctx: CliRunContext = {
    io,
    globals,
    // the app (store, jobs, every handler) is loaded only by commands that need it
    app: async (door = 'cli') => (app ??= await openApp(door)),
  };
  // a database asked for by path that is not there yet is made: said, so that a mistyped --db is not taken for a store
  // whose runs vanished
  const openApp = async (door: 'cli' | 'http') => {
    const { createApp } = await import('../../services/app-context.ts');
    const { resolveDbPath } = await import('../../services/store/open-database.ts');
    const path = resolveDbPath(globals.db);
    const made = !existsSync(path);
    const opened = createApp({ dbPath: globals.db, door, pythonPath: globals.python });
    if (made && (globals.db || process.env.FIELDPACK_DB)) io.err(`fieldpack: ${path} did not exist: a new, empty experiment database was made there`);
    return opened;
  };
  try {
    return await command.run(args, ctx);
  } catch (err) {
    io.progressDone();
    if (err instanceof CliUsageError) {
      io.err(`fieldpack ${command.name}: ${err.message}\nusage:\n${synopsis(command.usage)}\n(fieldpack help ${command.name}: what each flag does)`);
      return 2;
    }
    const e = serializeError(err);
    io.err(`error (${e.code}): ${flagWording(err, args) ?? e.message}`);
    if (e.code === 'INTERNAL' && process.env.FIELDPACK_DEBUG && err instanceof Error) io.err(err.stack ?? '');
    return e.code === 'CANCELLED' ? cancelledExitCode() : 1;
  } finally {
    await (app as AppContext | null)?.close();
    await closePools(); // worker threads would keep the process alive
  }
}

/**
 * An API input refusal of values the user gave as flags, worded by its flags ("--jobs: Too big: ...") rather than by
 * the API's fields ("archive.build: jobs: ..."); null where an issue is not of a given flag.
 */
function flagWording(err: unknown, args: readonly string[]): string | null {
  if (!(err instanceof FieldpackError) || err.code !== 'INVALID_ARGUMENT') return null;
  const issues = (err.details as { issues?: { path: PropertyKey[]; message: string }[] } | undefined)?.issues;
  if (!issues?.length) return null;
  const worded = issues.map((i) => {
    // the innermost field that is a given flag (slurm.arraySize is --array-size), alone or with the fields around it
    // (raw.shape is --raw-shape)
    const keys = i.path.filter((k): k is string => typeof k === 'string');
    const names: string[] = [];
    for (let end = keys.length; end >= 1; end--) for (let start = end - 1; start >= 0; start--) names.push(keys.slice(start, end).join('-'));
    for (const key of names) {
      const name = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      const at = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
      if (at < 0) continue;
      const given = args[at]!.includes('=') ? args[at]!.slice(name.length + 1) : args[at + 1];
      // a value refused for its length is not echoed whole (a 5000-character --title came back in the error)
      const shown = given !== undefined && given.length > 60 ? `${given.slice(0, 40)}... (${given.length} characters)` : given;
      return `${name} ${shown ?? ''}: ${i.message}`.replace(' :', ':');
    }
    return null;
  });
  return worded.every((w) => w !== null) ? worded.join('; ') : null;
}

export { FieldpackError };
