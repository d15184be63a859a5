/**
 * Benchmark methods (api/methods/bench.ts): the codec harness, the cross-field bench and the large-variable case.
 * They need no store (the CLI serves them without opening one); a call may carry progress and cancellation. The
 * harnesses load on first use: a door that never benches never pays for them.
 */
import { API, type ApiOutput } from '../../api/contract.ts';
import type { BENCH_METHODS } from '../../api/methods/bench.ts';
import { streamHandlers } from './streams.ts';
import type { Handlers } from './types.ts';

export function benchHandlers(): Handlers<keyof typeof BENCH_METHODS> {
  return {
    'bench.codecs': async (input, call) => (await import('../compression/bench.ts')).benchCodecsWithModels(input, call),
    'bench.crossfield': async (input, call) => (await import('../crossfield/bench.ts')).crossfieldBench(input, call),
    'bench.large': async (input, call) => {
      // the variable goes through the stream methods, as a user's `compress --streamed` and `decompress` would
      const streams = streamHandlers();
      return (await import('../compression/bench-large.ts')).runLargeBench(input, call, {
        compress: (i, c) => streams['streams.compress'](API['streams.compress'].input.parse(i), c) as Promise<ApiOutput<'streams.compress'>>,
        decompress: (i, c) => streams['streams.decompress'](API['streams.decompress'].input.parse(i), c) as Promise<ApiOutput<'streams.decompress'>>,
      });
    },
  };
}
