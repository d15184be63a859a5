/** The methods that need no store (streams, archives, data files, benchmarks): the CLI serves them without opening one or loading the rest. */
import { streamHandlers } from './handlers/streams.ts';
import { archiveHandlers } from './handlers/archive.ts';
import { dataFileHandlers } from './handlers/data-files.ts';
import { benchHandlers } from './handlers/bench.ts';
import type { Services } from './services.ts';

export function storelessServices(): Partial<Services> {
  return { ...streamHandlers(), ...archiveHandlers(), ...dataFileHandlers(), ...benchHandlers() };
}
