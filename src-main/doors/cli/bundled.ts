/**
 * Entry of the prebuilt CLI bundle (scripts/build-cli.mjs writes it to out/cli with the workers beside it): the
 * same `main` as from source, with worker threads started from their bundled .js files instead of through tsx.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBundledWorkers } from '../../services/jobs/worker-host.ts';
import { main } from './main.ts';

useBundledWorkers(dirname(fileURLToPath(import.meta.url)));
process.exitCode = await main(process.argv.slice(2));
