import { dispatch } from '../../../services/dispatch.ts';
import type { DoctorReport } from '../../../api/contract.ts';
import { parseFlags, type CliCommand } from '../command.ts';

export function formatDoctor(r: DoctorReport): string {
  const py = r.python;
  return [
    `Fieldpack   ${r.fieldpackVersion} (${r.platform}, ${r.cpus} CPUs)`,
    `Node        ${r.node}`,
    `Electron    ${r.electron ?? 'not running under Electron'}`,
    `onnxruntime ${r.onnxruntime.version ?? '-'}; execution providers: ${r.onnxruntime.providers.join(', ') || 'none'}${r.onnxruntime.providers.includes('cuda') ? '' : ' (CUDA: reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm install)'}${r.onnxruntime.problem ? `; ${r.onnxruntime.problem}` : ''}`,
    `WebAssembly ${r.webassemblyFastPath ? 'SIMD fast path on (VQ-VAE and cross-field networks)' : 'no SIMD: learned decoders run the reference path only (slower, the same bits)'}`,
    `Python      ${py.interpreter ?? 'not found'}${py.pythonVersion ? ` (${py.pythonVersion})` : ''}`,
    `PyTorch     ${py.torchVersion ?? 'missing'}${py.torchVersion ? `; CUDA: ${py.cuda ? `yes (${py.gpuName})` : 'no, training runs on CPU'}; onnx: ${py.onnx ? 'yes' : 'no'}` : ''}`,
    ...(py.problem ? [`            ${py.problem}`] : []),
    `Database    ${r.database.path} (schema version ${r.database.schemaVersion}, ${(r.database.sizeBytes / 1024).toFixed(0)} KiB)`,
  ].join('\n');
}

export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'report versions, onnxruntime providers, Python/PyTorch/CUDA and the database',
  usage: 'fieldpack doctor [--json]',
  async run(argv, { io, app }) {
    const p = parseFlags(argv, { booleans: ['json'] });
    const { services } = await app();
    const report = (await dispatch(services, 'system.doctor', {})) as DoctorReport;
    io.out(p.flags.has('json') ? JSON.stringify(report, null, 2) : formatDoctor(report));
    return 0;
  },
};
