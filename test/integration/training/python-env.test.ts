import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { clearPythonCache, detectPython, findPython, parseTrainerLine, startTraining } from '../../../src-main/services/training/index.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { systemTorch } from './real-fields.ts';

const torch = systemTorch();
const tmp = tempDir('fieldpack-pyenv-');
afterAll(() => tmp.cleanup());

/** An interpreter that cannot import torch: the system Python without site-packages (-S). */
function pythonWithoutTorch(): string {
  const p = join(tmp.dir, 'python-no-torch');
  writeFileSync(p, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
  chmodSync(p, 0o755);
  return p;
}

async function code(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(FieldpackError);
  return (e as FieldpackError).code;
}

describe('Python detection', () => {
  it('a Python without torch is PYTHON_MISSING, with how to get one', async () => {
    clearPythonCache();
    const none = pythonWithoutTorch();
    const err = (await detectPython({ python: none, fallback: false }).catch((e: unknown) => e)) as FieldpackError;
    expect(err.code).toBe('PYTHON_MISSING');
    expect(err.message).toMatch(/no torch/);
    expect(err.message).toMatch(/apt-get install python3-torch python3-onnx/);
    expect(err.message).toMatch(/--python/);
    expect(await code(startTraining({ runDir: join(tmp.dir, 'r'), python: none, pythonFallback: false }))).toBe('PYTHON_MISSING');
    expect(await code(detectPython({ python: join(tmp.dir, 'nope'), fallback: false }))).toBe('PYTHON_MISSING');
    expect(await code(detectPython({ candidates: [] , python: none }))).toBe('PYTHON_MISSING');
  });

  it('an interpreter that prints an unreadable probe result, or none, is PYTHON_MISSING saying so (it threw where nothing caught it, and took the server down)', async () => {
    clearPythonCache();
    const script = (name: string, body: string) => {
      const p = join(tmp.dir, name);
      writeFileSync(p, `#!/bin/sh\n${body}\n`);
      chmodSync(p, 0o755);
      return p;
    };
    const cases: [string, RegExp][] = [
      [script('probe-bad', 'echo "FIELDPACK_PROBE {bad"'), /printed an unreadable probe result/],
      [script('probe-array', 'echo "FIELDPACK_PROBE [1,2]"'), /printed an unreadable probe result/],
      [script('probe-none', 'echo hello'), /printed no probe result/],
      [script('probe-fails', 'exit 3'), /failed: exit code 3/],
      // not started at all: said as what the path is, not as "exit code EACCES"
      [tmp.dir, /is a folder, not an executable file/],
      [(() => { const f = join(tmp.dir, 'not-executable'); writeFileSync(f, 'x'); return f; })(), /is not executable \(no execute permission\)/],
    ];
    for (const [python, why] of cases) {
      const err = (await detectPython({ python, fallback: false }).catch((e: unknown) => e)) as FieldpackError;
      expect(err.code, python).toBe('PYTHON_MISSING');
      expect(err.message, python).toMatch(why);
    }
  });

  it('a bare `python3` is looked up on PATH, and refused when that one cannot import torch', async () => {
    // A PATH whose first python3 lacks torch, whatever this machine's own python3 has.
    const bin = join(tmp.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    copyFileSync(pythonWithoutTorch(), join(bin, 'python3'));
    chmodSync(join(bin, 'python3'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      clearPythonCache();
      const err = (await detectPython({ python: 'python3', fallback: false }).catch((e: unknown) => e)) as FieldpackError;
      expect(err).toBeInstanceOf(FieldpackError);
      expect(err.code).toBe('PYTHON_MISSING');
      expect(err.message).toMatch(/python3: no torch/);
    } finally {
      process.env.PATH = path;
      clearPythonCache();
    }
  });

  it.skipIf('skip' in torch)('finds /usr/bin/python3 with torch and reports versions, CUDA and onnx; caches the probe (needs python3-torch)', async () => {
    clearPythonCache();
    const env = await detectPython({ python: join(tmp.dir, 'nope'), candidates: ['/usr/bin/python3'] });
    expect(env.interpreter).toBe('/usr/bin/python3');
    expect(env.torchVersion).toMatch(/^\d+\.\d+/);
    expect(env.pythonVersion).toMatch(/^3\./);
    expect(typeof env.cudaAvailable).toBe('boolean');
    expect(env.cudaAvailable ? env.gpuName : null).toBe(env.gpuName);
    expect(existsSync(env.executable)).toBe(true);
    const t0 = performance.now();
    const again = await findPython({ python: join(tmp.dir, 'nope'), candidates: ['/usr/bin/python3'] });
    expect(performance.now() - t0).toBeLessThan(50);
    expect(again.env).toEqual(env);
    expect(again.tried.map((t) => t.ok)).toEqual([false, true]);
  });
});

describe('trainer events', () => {
  it('parses valid lines into typed events and ignores anything else', () => {
    expect(parseTrainerLine('{"event":"step","t":1,"epoch":1,"step":2,"stepsPerEpoch":4,"globalStep":2,"loss":null,"lr":0.001}')).toMatchObject({ event: 'step', loss: null });
    expect(parseTrainerLine('{"event":"device","t":0,"device":"cuda","name":"NVIDIA H100","cudaAvailable":true,"threads":8}')).toMatchObject({ device: 'cuda' });
    expect(parseTrainerLine('Warning: something')).toBeNull();
    expect(parseTrainerLine('{"event":"step","t":1}')).toBeNull();
    expect(parseTrainerLine('{"event":"device","t":0,"device":"tpu","name":null,"cudaAvailable":false,"threads":1}')).toBeNull();
  });
});
