/** Every CLI command, in the order `fieldpack --help` lists them. */
import type { CliCommand } from '../command.ts';
import { archiveCommand } from './archive.ts';
import { benchCommand } from './bench.ts';
import { compressCommand } from './compress.ts';
import { decompressCommand } from './decompress.ts';
import { doctorCommand } from './doctor.ts';
import { exportCommand } from './export.ts';
import { inspectCommand } from './inspect.ts';
import { runCommand, runsCommand } from './jobs.ts';
import { projectsCommand } from './projects.ts';
import { reportCommand } from './report.ts';
import { serveCommand } from './serve.ts';
import { startCommand } from './start.ts';
import { trainCommand } from './train.ts';

export const COMMANDS: CliCommand[] = [
  startCommand,
  serveCommand,
  projectsCommand,
  inspectCommand,
  exportCommand,
  compressCommand,
  decompressCommand,
  benchCommand,
  archiveCommand,
  trainCommand,
  runCommand,
  runsCommand,
  reportCommand,
  doctorCommand,
];
