/**
 * A CLI command: one file under commands/, registered in commands/index.ts.
 * Commands parse their own flags with parseFlags() and call services; they never reach into doors.
 */
import { existsSync } from 'node:fs';
import type { AppContext } from '../../services/app-context.ts';
import { MAX_WORKERS } from '../../api/schemas.ts';
import type { RawInput } from '../../api/methods/data.ts';
import { type BoundSpec, parseBound } from '../../core/codec/bound.ts';
import { FieldpackError } from '../../core/errors.ts';

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  /** One updating progress line on stderr (a TTY) or plain lines otherwise. */
  progress(fraction: number, message: string): void;
  progressDone(): void;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** Usage lines shown by `fieldpack help NAME` and `fieldpack --help`. */
  usage: string;
  /** Commands that need no store (e.g. inspect) set this to skip opening the database. */
  needsStore?: boolean;
  run(argv: string[], ctx: CliRunContext): Promise<number>;
}

export interface CliRunContext {
  io: CliIO;
  /** Opens the app (store, jobs, services) lazily: only commands that need it pay for it. `door` says who serves it (cli unless serving HTTP). */
  app(door?: 'cli' | 'http'): Promise<AppContext>;
  /** Global flags already parsed: --db PATH, --python PATH. */
  globals: { db?: string; python?: string };
}

export interface ParsedFlags {
  positionals: string[];
  flags: Map<string, string[]>;
}

/**
 * Flags: `--name value`, `--name=value`, repeated flags accumulate; `boolean` names take no value. Unknown flags are
 * an error, so a typo never silently does the wrong thing; so is a value that is a flag (`-o --overwrite` wrote a
 * file named --overwrite: `--name=--x` gives such a value). After `--` every argument is a positional.
 */
export function parseFlags(argv: string[], known: { values?: string[]; booleans?: string[] }): ParsedFlags {
  const values = new Set(known.values ?? []);
  const booleans = new Set(known.booleans ?? []);
  const out: ParsedFlags = { positionals: [], flags: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    let value: string;
    if (booleans.has(name)) {
      // a switch: present or not (--overwrite=false was read as --overwrite, and replaced the file)
      if (eq >= 0) throw new CliUsageError(`--${name} takes no value (${a}): give --${name} alone, or leave it out`);
      value = 'true';
    } else if (values.has(name)) {
      if (eq >= 0) value = a.slice(eq + 1);
      else {
        const next = argv[++i];
        if (next === undefined) throw new CliUsageError(`--${name} needs a value`);
        if (next.startsWith('--')) throw new CliUsageError(`--${name} needs a value, not the flag ${next} (a value that starts with --: --${name}=${next})`);
        value = next;
      }
    } else throw new CliUsageError(`unknown flag --${name}`);
    const list = out.flags.get(name) ?? [];
    list.push(value);
    out.flags.set(name, list);
  }
  return out;
}

/**
 * A usage error for a flag that this verb of a command does not take, where the command parses one flag list for
 * all its verbs (`runs tag 3 k --limit 2` passed, the flag unread).
 */
export function onlyFlags(p: ParsedFlags, what: string, takes: readonly string[]): void {
  for (const name of p.flags.keys()) {
    if (!takes.includes(name)) throw new CliUsageError(`${what} takes ${takes.length ? takes.map((f) => `--${f}`).join(', ') : 'no flags'}, not --${name}`);
  }
}

/** A command's one FILE: more positionals (a second path, an unknown -x) are a usage error naming them, not ignored. */
export function onePositional(p: ParsedFlags, command: string, what: string): void {
  if (p.positionals.length > 1) throw new CliUsageError(`${command} takes one ${what} (got ${p.positionals.join(' ')})`);
}

/** A flag the command takes once: its value, or undefined; given twice, a usage error (the last one silently won). */
export function flag(p: ParsedFlags, name: string): string | undefined {
  const v = p.flags.get(name);
  if (v && v.length > 1) throw new CliUsageError(`--${name} was given ${v.length} times (${v.join(', ')}): this command takes one`);
  return v ? v[0] : undefined;
}

/** A flag's text as a number written in decimal digits, else NaN (Number('') is 0, Number('0x10') 16). */
export function decimalNumber(v: string): number {
  return /^\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v) ? Number(v) : NaN;
}

/** A flag's value as a number >= 0 (`what`: "an integer" is checked as one), or undefined when not given. */
export function nonNegativeFlag(p: ParsedFlags, name: string, what: 'an integer' | 'a number of seconds', max = Infinity): number | undefined {
  const v = flag(p, name);
  if (v === undefined) return undefined;
  const n = decimalNumber(v);
  if (!(what === 'an integer' ? Number.isInteger(n) : Number.isFinite(n)) || n < 0 || n > max) {
    throw new CliUsageError(`--${name} needs ${what} ${max === Infinity ? '>= 0' : `from 0 to ${max}`}, not "${v}"`);
  }
  return n;
}

/** An id flag (--project): a whole number from 1, or undefined when not given; else a usage error quoting it. */
export function idFlag(p: ParsedFlags, name: string, what: string): number | undefined {
  const v = flag(p, name);
  if (v === undefined) return undefined;
  const n = decimalNumber(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new CliUsageError(`--${name} needs ${what} (a whole number from 1), not "${v}"`);
  return n;
}

/** --workers: worker threads, 0 (all in the calling thread) to the API's MAX_WORKERS. */
export function workersFlag(p: ParsedFlags): number | undefined {
  return nonNegativeFlag(p, 'workers', 'an integer', MAX_WORKERS);
}

/** Repeated --param KEY=VALUE flags as codec params (numbers and true/false parsed). */
export function paramFlags(p: ParsedFlags): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const kv of p.flags.get('param') ?? []) {
    const m = /^([A-Za-z][\w-]*)=(.*)$/.exec(kv);
    if (!m) throw new CliUsageError(`--param needs KEY=VALUE, got "${kv}"`);
    params[m[1]!] = paramValue(m[1]!, m[2]!);
  }
  return params;
}

/** A --param value: true / false, a number, an array (JSON [8,8,8], or numbers with commas: 8,8,8), else the text. */
function paramValue(key: string, v: string): unknown {
  if (v === 'true' || v === 'false') return v === 'true';
  if (v !== '' && Number.isFinite(Number(v))) return Number(v);
  if (v.trim().startsWith('[')) {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      throw new CliUsageError(`--param ${key}=${v}: not a JSON array (e.g. ${key}=[8,8,8])`);
    }
  }
  const parts = v.split(',');
  if (parts.length > 1 && parts.every((x) => x.trim() !== '' && Number.isFinite(Number(x)))) return parts.map(Number);
  return v;
}

export class CliUsageError extends Error {}

/**
 * Input files named on the command line that are not there: NOT_FOUND "PATH: no such file", as the data readers say
 * it for every command (a stream's reader said "cannot read (ENOENT)").
 */
export function checkInputsExist(paths: readonly string[]): void {
  for (const path of paths) if (!existsSync(path)) throw new FieldpackError('NOT_FOUND', `${path}: no such file`, { path });
}

/**
 * A bound as typed (MODE:VALUE), or a usage error (exit 2) naming the flag: a malformed value is found here, before
 * any file is read, as other malformed flag values are.
 */
export function parseBoundFlag(text: string, name = 'bound'): BoundSpec {
  try {
    return parseBound(text);
  } catch (e) {
    if (e instanceof FieldpackError && e.code === 'INVALID_ARGUMENT') throw new CliUsageError(`--${name}: ${e.message}`);
    throw e;
  }
}

/** A comma-separated list of bounds (--bounds rel:1e-2,rel:1e-3), each as parseBoundFlag reads it; undefined when not given. */
export function boundsFlag(p: ParsedFlags, name = 'bounds'): BoundSpec[] | undefined {
  const text = flag(p, name);
  if (text === undefined) return undefined;
  const bounds = text.split(',').map((b) => b.trim()).filter(Boolean).map((b) => parseBoundFlag(b, name));
  if (!bounds.length) throw new CliUsageError(`--${name} needs at least one bound (e.g. rel:1e-3,abs:0.5)`);
  return bounds;
}

/** A raw binary file's layout from --raw-shape / --raw-dtype / --raw-endian (inspect, export, compress), or undefined. */
export function rawLayoutFromFlags(p: ParsedFlags): RawInput | undefined {
  const shape = flag(p, 'raw-shape');
  const dtype = flag(p, 'raw-dtype');
  // --raw-endian alone was dropped without a word (the sidecar's, or little, was used)
  if (!shape && !dtype && flag(p, 'raw-endian') !== undefined) throw new CliUsageError('--raw-endian goes with --raw-shape and --raw-dtype (a FILE.json sidecar says it as "endianness")');
  if (!shape && !dtype) return undefined;
  if (!shape || !dtype) throw new CliUsageError('raw input needs both --raw-shape (e.g. 100,500,500) and --raw-dtype (float32, float64, ...)');
  const dims = shape.split(/[,x]/).map((s) => Number(s.trim()));
  if (dims.some((d) => !Number.isInteger(d) || d <= 0)) throw new CliUsageError(`--raw-shape needs positive integers, got "${shape}"`);
  const endian = flag(p, 'raw-endian') ?? 'little';
  if (endian !== 'little' && endian !== 'big') throw new CliUsageError('--raw-endian is little or big');
  return { shape: dims, dtype: dtype as RawInput['dtype'], endianness: endian };
}
