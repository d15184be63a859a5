/**
 * Doctor's view of the Python environment. Interim: replaced by the training service's detection
 * (src-main/services/training/python-env.ts) once it lands, so that there is one probe.
 */
import { execFile } from 'node:child_process';
import type { DoctorReport } from '../../api/contract.ts';

const PROBE = `import json, sys
r = {"python": sys.version.split()[0]}
try:
    import torch
    r["torch"] = torch.__version__
    r["cuda"] = bool(torch.cuda.is_available())
    r["gpu"] = torch.cuda.get_device_name(0) if r["cuda"] else None
except Exception as e:
    r["torch_error"] = str(e)
try:
    import onnx
    r["onnx"] = True
except Exception:
    r["onnx"] = False
print(json.dumps(r))`;

function run(interpreter: string): Promise<Record<string, unknown> | null> {
  return new Promise((resolve) => {
    execFile(interpreter, ['-c', PROBE], { timeout: 60_000 }, (err, stdout) => {
      if (err) return resolve(null);
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? ''));
      } catch {
        resolve(null);
      }
    });
  });
}

export async function probePython(configured: string | null): Promise<DoctorReport['python']> {
  const candidates = configured ? [configured] : ['python3', '/usr/bin/python3', 'python'];
  let firstFound: { interpreter: string; r: Record<string, unknown> } | null = null;
  for (const c of candidates) {
    const r = await run(c);
    if (!r) continue;
    firstFound ??= { interpreter: c, r };
    if (typeof r.torch === 'string') {
      return { interpreter: c, pythonVersion: String(r.python), torchVersion: r.torch, cuda: Boolean(r.cuda), gpuName: (r.gpu as string | null) ?? null, onnx: Boolean(r.onnx), problem: null };
    }
  }
  const how = 'install PyTorch (Debian: apt-get install python3-torch python3-onnx; or a conda/pip environment with torch) and set it with --python PATH or in Settings';
  return {
    interpreter: firstFound?.interpreter ?? null,
    pythonVersion: firstFound ? String(firstFound.r.python) : null,
    torchVersion: null,
    cuda: false,
    gpuName: null,
    onnx: Boolean(firstFound?.r.onnx),
    problem: firstFound
      ? `no Python with PyTorch found (tried ${candidates.join(', ')}): training is unavailable; ${how}`
      : `no Python interpreter found (tried ${candidates.join(', ')}): training is unavailable; ${how}`,
  };
}
