/**
 * Finding a Python that can train: the configured interpreter first, then the usual candidates
 * (`python3`, `/usr/bin/python3`, `python`), keeping the first that imports torch. Probes are cached
 * per interpreter for the life of the process (clearPythonCache() forgets them, e.g. after the user
 * changes the setting or installs torch).
 *
 * The user's own choice (the Python setting, --python) is checked with pythonPathProblem: it must
 * name one executable file, by absolute path or as a command on PATH (never a command line: nothing
 * goes through a shell). Such a pinned interpreter that no longer names one is reported as that
 * problem, never replaced by a candidate.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { FieldpackError } from '../../core/errors.ts';

export interface PythonEnv {
  /** As configured or as found on PATH. */
  interpreter: string;
  /** sys.executable of that interpreter. */
  executable: string;
  pythonVersion: string;
  torchVersion: string;
  cudaAvailable: boolean;
  cudaVersion: string | null;
  gpuCount: number;
  gpuName: string | null;
  onnx: boolean;
  onnxVersion: string | null;
  numpyVersion: string | null;
}

export interface PythonProbe {
  interpreter: string;
  ok: boolean;
  /** Why it was not kept: not found, no torch (with the import error), timed out. */
  reason?: string;
  env?: PythonEnv;
  /** The user's pinned interpreter no longer names an executable (reason says so); nothing else was tried. */
  pinned?: boolean;
}

export const DEFAULT_PYTHON_CANDIDATES = ['python3', '/usr/bin/python3', 'python'];

export const PYTHON_HELP =
  'Training needs a Python 3 with PyTorch. On Debian/Ubuntu: `sudo apt-get install python3-torch python3-onnx` ' +
  '(then /usr/bin/python3 is found by itself); or create a conda/pip environment with torch (and onnx) and point ' +
  'Fieldpack at its interpreter with --python PATH (CLI) or the Python setting (Settings). Everything that does not ' +
  'train keeps working without it.';

const PROBE = String.raw`
import json, sys, platform
r = {"executable": sys.executable, "pythonVersion": platform.python_version()}
try:
    import numpy
    r["numpyVersion"] = numpy.__version__
except Exception:
    r["numpyVersion"] = None
try:
    import torch
    r["torchVersion"] = torch.__version__
    r["cudaAvailable"] = bool(torch.cuda.is_available())
    r["cudaVersion"] = torch.version.cuda
    r["gpuCount"] = torch.cuda.device_count() if r["cudaAvailable"] else 0
    r["gpuName"] = torch.cuda.get_device_name(0) if r["cudaAvailable"] else None
except Exception as e:
    r["torchError"] = type(e).__name__ + ": " + str(e)
try:
    import onnx
    r["onnxVersion"] = onnx.__version__
except Exception:
    r["onnxVersion"] = None
print("FIELDPACK_PROBE " + json.dumps(r))
`;

function executableProblem(file: string): string | null {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'does not exist';
    if (code === 'EACCES') return 'cannot be reached (permission denied)';
    return `cannot be read (${code ?? String(e)})`;
  }
  if (st.isDirectory()) return 'is a folder, not an executable file';
  if (!st.isFile()) return 'is not a regular file';
  if (process.platform !== 'win32') {
    try {
      accessSync(file, constants.X_OK);
    } catch {
      return 'is not executable (no execute permission)';
    }
  }
  return null;
}

/** The executable a bare command name runs, as execFile finds it on PATH; null when none. */
export function whichSync(name: string): string | null {
  const exts = process.platform === 'win32' ? ['', ...(process.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean)] : [''];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    for (const ext of exts) {
      const file = join(dir, name + ext);
      if (executableProblem(file) === null) return file;
    }
  }
  return null;
}

/**
 * Why `interpreter` cannot be the Python setting, as a phrase after its name ("does not exist"); null
 * when it names an executable file: an absolute path, or a bare command name found on PATH. The value
 * is one path, never split into a command and arguments, and never run by a shell.
 */
export function pythonPathProblem(interpreter: string): string | null {
  if (interpreter.trim() === '') return 'is empty (clear the setting instead to auto-detect)';
  if (/[\u0000-\u001f]/.test(interpreter)) return 'contains control characters';
  if (interpreter !== interpreter.trim()) return 'has leading or trailing spaces';
  const args = interpreter.split(/\s+/).slice(1).join(' ');
  const asCommandLine = args ? ` (it must be the path of one executable: arguments such as "${args}" are not accepted, and no shell runs it)` : '';
  if (isAbsolute(interpreter)) {
    const why = executableProblem(interpreter);
    return why ? why + asCommandLine : null;
  }
  if (/[\\/]/.test(interpreter)) return 'is a relative path: give an absolute path, or a command name found on PATH';
  return whichSync(interpreter) ? null : `was not found on PATH${asCommandLine}`;
}

/** Interpreters the user chose (the Python setting, --python): see pinPython. */
const pinned = new Set<string>();

/**
 * Marks `interpreter` as the user's choice: from then on, when it no longer names an executable file
 * (pythonPathProblem), findPython reports that problem alone instead of going on with the candidates,
 * so a deleted environment is never silently replaced by another Python.
 */
export function pinPython(interpreter: string): void {
  pinned.add(interpreter);
}

/** The message for a pinned interpreter that no longer works. */
function pinnedProblem(interpreter: string, why: string): string {
  return `the configured Python ${interpreter} ${why}: fix or clear the Python setting (Settings, or --python PATH); no other interpreter is used in its place`;
}

const probeCache = new Map<string, Promise<PythonProbe>>();

export function clearPythonCache(): void {
  probeCache.clear();
  detectCache.clear();
}

/** Probes one interpreter (cached). Never throws. */
export function probePython(interpreter: string, timeoutMs = 60_000): Promise<PythonProbe> {
  let p = probeCache.get(interpreter);
  if (!p) {
    p = new Promise<PythonProbe>((resolve) => {
      execFile(interpreter, ['-c', PROBE], { timeout: timeoutMs, windowsHide: true, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        const line = String(stdout).split('\n').find((l) => l.startsWith('FIELDPACK_PROBE '));
        if (!line) {
          const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
          // the last lines of what it said, not the probe script a failing interpreter may echo back
          const said = String(stderr).trim().split('\n').slice(-3).join(' ').slice(0, 300);
          // (a code that is a string is why it could not be started, EACCES for a folder or a file without the
          // execute permission: said as the setting's check says it, not as an exit code)
          const unstarted = typeof e?.code === 'string' ? (executableProblem(interpreter) ?? `cannot be started (${e.code})`) : null;
          const reason = e?.code === 'ENOENT' ? 'not found' : unstarted ?? (e?.killed ? `timed out after ${timeoutMs} ms` : e ? `failed: ${said || `exit code ${String(e.code ?? '?')}`}` : 'is not a Python that runs the probe (it printed no probe result)');
          resolve({ interpreter, ok: false, reason });
          return;
        }
        // an interpreter's output is not trusted: unreadable, it is not the Python that was asked for (this callback
        // must not throw: nothing would catch it, and the server would go down)
        let r: Record<string, unknown>;
        try {
          const parsed: unknown = JSON.parse(line.slice('FIELDPACK_PROBE '.length));
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
          r = parsed as Record<string, unknown>;
        } catch {
          resolve({ interpreter, ok: false, reason: 'printed an unreadable probe result (not the Python Fieldpack probes for)' });
          return;
        }
        if (r.torchError || !r.torchVersion) {
          resolve({ interpreter, ok: false, reason: `no torch (${String(r.torchError ?? 'not importable')}); Python ${String(r.pythonVersion)} at ${String(r.executable)}` });
          return;
        }
        resolve({
          interpreter,
          ok: true,
          env: {
            interpreter,
            executable: String(r.executable),
            pythonVersion: String(r.pythonVersion),
            torchVersion: String(r.torchVersion),
            cudaAvailable: Boolean(r.cudaAvailable),
            cudaVersion: (r.cudaVersion as string | null) ?? null,
            gpuCount: Number(r.gpuCount ?? 0),
            gpuName: (r.gpuName as string | null) ?? null,
            onnx: r.onnxVersion != null,
            onnxVersion: (r.onnxVersion as string | null) ?? null,
            numpyVersion: (r.numpyVersion as string | null) ?? null,
          },
        });
      });
    });
    probeCache.set(interpreter, p);
  }
  return p;
}

export interface DetectPythonOptions {
  /** The configured interpreter (setting or --python). */
  python?: string;
  /** When a configured interpreter lacks torch, go on with the candidates (default true). */
  fallback?: boolean;
  candidates?: string[];
}

export interface PythonDetection {
  env: PythonEnv | null;
  tried: PythonProbe[];
}

const detectCache = new Map<string, Promise<PythonDetection>>();

/** Every probe in order until one imports torch; for `fieldpack doctor` and the Settings view. */
export function findPython(opts: DetectPythonOptions = {}): Promise<PythonDetection> {
  if (opts.python && pinned.has(opts.python)) {
    const why = pythonPathProblem(opts.python);
    if (why) return Promise.resolve({ env: null, tried: [{ interpreter: opts.python, ok: false, reason: pinnedProblem(opts.python, why), pinned: true }] });
  }
  const list: string[] = [];
  if (opts.python) list.push(opts.python);
  if (!opts.python || opts.fallback !== false) for (const c of opts.candidates ?? DEFAULT_PYTHON_CANDIDATES) if (!list.includes(c)) list.push(c);
  const key = JSON.stringify(list);
  let p = detectCache.get(key);
  if (!p) {
    p = (async () => {
      const tried: PythonProbe[] = [];
      for (const interp of list) {
        const r = await probePython(interp);
        tried.push(r);
        if (r.ok) return { env: r.env!, tried };
      }
      return { env: null, tried };
    })();
    detectCache.set(key, p);
  }
  return p;
}

/** The Python to train with, or FieldpackError('PYTHON_MISSING') saying what was tried and how to get one. */
export async function detectPython(opts: DetectPythonOptions = {}): Promise<PythonEnv> {
  const { env, tried } = await findPython(opts);
  if (env) return env;
  const broken = tried.find((t) => t.pinned);
  if (broken) throw new FieldpackError('PYTHON_MISSING', `${broken.reason![0]!.toUpperCase()}${broken.reason!.slice(1)}. ${PYTHON_HELP}`, { tried });
  const lines = tried.map((t) => `${t.interpreter}: ${t.reason}`);
  throw new FieldpackError('PYTHON_MISSING', `No Python with PyTorch found (tried ${lines.join('; ')}). ${PYTHON_HELP}`, { tried });
}
