/** The demo job: a short real computation in a worker thread, to try the job system end to end. */
import { z } from 'zod';
import { FieldpackError } from '../../../core/errors.ts';
import type { JobHandler } from '../types.ts';
import { runWorkerTask } from '../worker-host.ts';
import type { DemoInput, DemoResult } from './demo.worker.ts';

export const DemoParams = z.object({
  steps: z.number().int().min(1).max(1000).default(20),
  size: z.number().int().min(8).max(4096).default(256),
  stepDelayMs: z.number().int().min(0).max(10_000).default(150),
  failAtStep: z.number().int().default(-1),
});

export const demoJob: JobHandler<Record<string, unknown>, DemoResult> = async (params, ctx) => {
  const parsed = DemoParams.safeParse(params);
  if (!parsed.success) throw new FieldpackError('INVALID_ARGUMENT', `demo job: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const input: DemoInput = parsed.data;
  ctx.log(`demo: ${input.steps} steps on a ${input.size}x${input.size} synthetic field`);
  return runWorkerTask<DemoResult>(new URL('./demo.worker.ts', import.meta.url), input, ctx);
};
