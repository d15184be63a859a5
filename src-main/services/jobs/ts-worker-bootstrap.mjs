// Worker-thread entry used when running from TypeScript sources: register tsx, then load the worker module.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.__fieldpackModule);
