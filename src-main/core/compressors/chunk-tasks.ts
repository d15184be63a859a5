/**
 * How a codec's chunk tasks share the threads (the classic, VQ-VAE and residual codecs encode and decode through it).
 */
import { FieldpackError } from '../errors.ts';
import type { CodecEnv } from './contract.ts';

/**
 * Runs chunk tasks 0..n-1 (`run(j, alone, ahead)`, runTask's options). Where this thread has a core of its own
 * (spareThread), the workers take chunks from the front and this thread from the back, between answering them, with
 * each worker's next chunk sent ahead so that it never waits on this thread (etopo5 rel 1e-3 with 1 worker on 2 cores:
 * decoded in 210 ms, not 250, this thread's chunks decoded into the output itself rather than copied). Otherwise the
 * workers take them all, but for the one inThisThread names.
 *
 * A task that fails stops the lanes taking more, and its error is thrown once the tasks already sent have ended (a
 * cancel at once): they would otherwise go on reporting progress under the error, and hold workers the caller is
 * about to close.
 */
export async function runChunks(n: number, env: CodecEnv, run: (j: number, alone: boolean, ahead: boolean) => Promise<void>): Promise<void> {
  const spare = env.spareThread;
  let failure: { error: unknown } | null = null;
  const guarded = (j: number, alone: boolean, ahead: boolean): Promise<void> =>
    failure ? Promise.resolve() : run(j, alone, ahead).catch((error: unknown) => {
      failure ??= { error };
      if (error instanceof FieldpackError && error.code === 'CANCELLED') throw error;
    });
  const settle = async (tasks: Promise<void>[]) => {
    await Promise.all(tasks);
    if (failure) throw failure.error;
  };
  if (!spare || n <= 2) {
    // a batch one more than whole rounds of the workers (the 7 chunks after a hedged plan's probe, 2 workers): this
    // thread takes the last task beside them, each worker's next sent ahead, rather than a worker taking it alone
    // after the others (3.5 rounds of a chunk, not 4: etopo5 rel 1e-2 with 2 workers on 2 cores 315-322 -> 341-355 MB/s)
    const oneOver = n > (env.parallelism ?? 1) && n % (env.parallelism ?? 1) === 1;
    await settle(Array.from({ length: n }, (_, j) => guarded(j, inThisThread(j, n, env) || (oneOver && j === n - 1), oneOver)));
    return;
  }
  let front = 0;
  let back = n;
  const workerLane = async () => {
    while (front < back && !failure) await guarded(front++, false, true);
  };
  const thisLane = async () => {
    for (await spare(); front < back && !failure; await spare()) await guarded(--back, true, false);
  };
  // two lanes a worker: one task running, the next sent ahead
  await settle([...Array.from({ length: 2 * (env.parallelism ?? 1) }, workerLane), thisLane()]);
}

/** runChunks collecting each task's result in chunk order. */
export async function mapChunks<T>(n: number, env: CodecEnv, run: (j: number, alone: boolean, ahead: boolean) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  await runChunks(n, env, async (j, alone, ahead) => {
    out[j] = await run(j, alone, ahead);
  });
  return out;
}

/**
 * Whether chunk task j of n runs in this thread (runTask's `alone`): the only one, or the last where the workers get
 * one each, which this thread would otherwise wait out (sent after the others, which the pool posts at once): a field
 * of 2 chunks with 1 worker is coded on two threads.
 */
function inThisThread(j: number, n: number, env: CodecEnv): boolean {
  return n === 1 || (j === n - 1 && n <= (env.parallelism ?? 1) + 1);
}
