/** The demo job: a short real computation in a worker thread, to try the job system end to end. */
import { DemoParams } from '../../api/methods/jobs.ts';
import { FieldpackError } from '../../core/errors.ts';
import type { JobHandler } from '../jobs/types.ts';
import { runWorkerTask } from '../jobs/worker-host.ts';
import type { DemoInput, DemoResult } from './demo.worker.ts';

export { DemoParams };

export const demoJob: JobHandler<Record<string, unknown>, DemoResult> = async (params, ctx) => {
  const parsed = DemoParams.safeParse(params);
  if (!parsed.success) throw new FieldpackError('INVALID_ARGUMENT', `demo job: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const input: DemoInput = parsed.data;
  ctx.log(`demo: ${input.steps} steps on a ${input.size}x${input.size} synthetic field`);
  return runWorkerTask<DemoResult>(new URL('./demo.worker.ts', import.meta.url), input, ctx);
};
