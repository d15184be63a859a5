import { afterAll, describe, expect, it } from 'vitest';
import { compressField, decompressStream, closePools } from '../../../src-main/services/compression/index.ts';
import { FieldpackError } from '../../../src-main/core/errors.ts';
import { FERRET, field, haveFerret, pressureLevels } from '../../unit/codec/helpers.ts';
import { encodeField, warmWorkers } from '../../../src-main/services/codecs/index.ts';
import type { Field } from '../../../src-main/core/field.ts';
import { makeField } from '../../../src-main/services/codecs/fuzz-corpus.ts';
import { chunkBytes, readHeader } from '../../../src-main/core/codec/stream/format.ts';
import { classicCodec } from '../../../src-main/core/compressors/classic/index.ts';
import { offerSpareBuffers } from '../../../src-main/core/codec/scratch.ts';
import { identityBackend } from '../../../src-main/core/codec/lossless.ts';
import { zstdBackend } from '../../../src-main/services/codecs/zstd-backend.ts';
import { type CodecEnv, type DecodedChunk, NO_DEPENDENCIES } from '../../../src-main/core/compressors/contract.ts';
import { CodecPool } from '../../../src-main/services/codecs/pool.ts';
import { runChunks } from '../../../src-main/core/compressors/chunk-tasks.ts';
import { type ClassicPlan, assembleStream, chunkInputs, compressClassic, encodeChunk, planCompression } from '../../../src-main/core/compressors/classic/codec.ts';

afterAll(() => closePools());

describe('a worker decodes into buffers handed back to it', () => {
  it('chunks a row apart share them: one of the largest chunk\'s size holds any chunk, from one decode to the next', async () => {
    const f = makeField('smooth', [61, 300], { seed: 7 });
    const a = await compressField(f, { bound: { mode: 'rel', value: 1e-3 }, chunkValues: 20 * 300, workers: 0 });
    const h = readHeader(a.bytes);
    const rows = h.chunks.map((c) => c.rows);
    expect(Math.max(...rows)).toBeGreaterThan(Math.min(...rows));
    const decodeChunk = (i: number) =>
      classicCodec.tasks!.decodeChunk!({ header: h, index: i, stored: chunkBytes(h, a.bytes, i) }, identityBackend).result as { values: Float32Array };
    const largest = rows.indexOf(Math.max(...rows));
    const small = rows.indexOf(Math.min(...rows));
    // a fresh buffer is of the largest chunk's size
    const first = decodeChunk(small);
    expect(first.values.buffer.byteLength).toBe(Math.max(...rows) * 300 * 4);
    const handedBack = decodeChunk(largest).values.buffer as ArrayBuffer;
    offerSpareBuffers([handedBack]);
    const reused = decodeChunk(small);
    offerSpareBuffers([]);
    expect(reused.values.buffer).toBe(handedBack);
    expect(Buffer.from(reused.values.buffer, 0, reused.values.byteLength).equals(Buffer.from(first.values.buffer, 0, first.values.byteLength))).toBe(true);
  });
});

describe('this thread takes chunks beside the workers where it has a core of its own (spareThread)', () => {
  it('the workers take them from the front, each one\'s next sent ahead, this thread from the back into the output: every chunk once, the values of in-thread decoding', async () => {
    const f = makeField('smooth', [64, 300], { seed: 3 });
    const a = await compressField(f, { bound: { mode: 'rel', value: 1e-3 }, chunkValues: 8 * 300, workers: 0 });
    const header = readHeader(a.bytes);
    expect(header.chunks.length).toBe(8);
    const calls: { index: number; alone: boolean; ahead: boolean }[] = [];
    let turns = 0;
    const env: CodecEnv = {
      backend: zstdBackend,
      hash: () => '',
      progress: () => {},
      parallelism: 1,
      spareThread: () => new Promise<void>((resolve) => setImmediate(() => (turns++, resolve()))),
      // a "worker" answers a macrotask later, as one would
      runTask: async <T,>(_codec: string, task: string, args: Record<string, unknown>, opts?: { alone?: boolean; ahead?: boolean }) => {
        calls.push({ index: args.index as number, alone: opts?.alone === true, ahead: opts?.ahead === true });
        if (!opts?.alone) await new Promise((resolve) => setImmediate(resolve));
        return classicCodec.tasks![task]!(args, zstdBackend).result as T;
      },
    };
    const d = await classicCodec.decode({ header, bytes: a.bytes, rows: [0, 64], deps: NO_DEPENDENCIES }, env);
    const d0 = await decompressStream(a.bytes, { workers: 0 });
    expect(Buffer.from(d.field.values.buffer).equals(Buffer.from(d0.field.values.buffer))).toBe(true);
    expect(calls.map((c) => c.index).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const here = calls.filter((c) => c.alone).map((c) => c.index);
    const there = calls.filter((c) => !c.alone);
    expect(here.length).toBeGreaterThan(0);
    expect(there.length).toBeGreaterThan(0);
    // this thread from the back, the workers from the front, every worker task allowed ahead
    expect(Math.min(...here)).toBeGreaterThan(Math.max(...there.map((c) => c.index)));
    expect(there.every((c) => c.ahead)).toBe(true);
    expect(turns).toBeGreaterThanOrEqual(here.length);
  });
});

describe('a hedged plan codes its middle chunk both ways and the others their own way at once, and their alternatives only where that chunk could not tell', () => {
  // two smooth-plus-noise fields whose samples could hardly tell the linear interpolation's axis orders apart (within
  // 3 %): on the first, the probe chunk is 0.4 % larger reversed (and so is every chunk); on the second the reversed
  // order is smaller there, and on 5 of its 8 chunks
  const cases = [
    { name: 'the plan clearly smaller on the probe: the other chunks coded its way alone', shape: [32, 64, 64], keeps: false },
    { name: 'the alternative smaller on the probe: every chunk coded both ways', shape: [24, 48, 96], keeps: true },
  ];
  const bound = { mode: 'rel' as const, value: 1e-3 };
  const chunkValues = 1 << 14;
  for (const { name, shape, keeps } of cases) {
    it(name, async () => {
      const made = makeField('hedged', shape, { noise: 4, seed: 3 });
      const f = { values: made.values, shape: made.shape };
      const planned = planCompression(f, { bound, chunkValues }, zstdBackend);
      expect(planned.hedged).toBe(true);
      expect(planned.chunkRows.length).toBe(8);
      // every chunk coded both ways, as before the probe
      const eachBothWays = chunkInputs(planned, f).map((c) => encodeChunk(planned, c.values, c.mask, c.shape, zstdBackend));
      expect(eachBothWays.filter((c) => c.coding).length).toBe(keeps ? 5 : 0);
      const before = Buffer.from(assembleStream(planned, eachBothWays));
      // the same stream, from the codec with 0, 1 and 2 workers and from the in-thread reference
      expect(Buffer.from(compressClassic(f, { bound, chunkValues }, zstdBackend).bytes).equals(before)).toBe(true);
      for (const workers of [0, 1, 2]) {
        const r = await compressField(f, { bound, chunkValues, workers, metadata: {}, effort: 'best' });
        expect(Buffer.from(r.bytes).equals(before), `${workers} workers`).toBe(true);
        expect(r.verification!.pointsOverBound).toBe(0);
      }
      // the tasks: the probe chunk (4) twice, each way alone, and the other chunks their own way, in one batch; then,
      // only where the probe kept the alternative, the other chunks the alternative's way
      const tasks: { rows: number; plan: ClassicPlan }[] = [];
      const env: CodecEnv = {
        backend: zstdBackend,
        hash: () => '',
        progress: () => {},
        runTask: async <T,>(_codec: string, task: string, args: Record<string, unknown>) => {
          tasks.push({ rows: (args.shape as number[])[0]!, plan: args.plan as ClassicPlan });
          return classicCodec.tasks![task]!(args, zstdBackend).result as T;
        },
      };
      const r = await classicCodec.encode({ field: f, bound, params: classicCodec.params.parse({ chunkValues }), metadata: {}, deps: NO_DEPENDENCIES }, env);
      expect(Buffer.from(r.bytes).equals(before)).toBe(true);
      expect(tasks.length).toBe(keeps ? 16 : 9);
      const [own, other, ...rest] = tasks;
      expect(own!.plan.alternative).toBeUndefined();
      expect(own!.plan.predictor).toBe(planned.predictor);
      expect(other!.plan).toMatchObject({ ...planned.alternative, alternative: undefined });
      for (const t of rest.slice(0, 7)) expect(t.plan).toMatchObject({ predictor: planned.predictor, reversedAxes: planned.reversedAxes, alternative: undefined });
      for (const t of rest.slice(7)) expect(t.plan).toMatchObject({ ...planned.alternative, alternative: undefined });
    });
  }
});

/**
 * The field encoded by the classic codec with one warm worker beside this thread (a fake pool: its tasks run here, a
 * turn of the event loop later): the bytes, and each chunk coding's thread and plan.
 */
async function encodedBesideWorker(f: Pick<Field, 'values' | 'shape'>, bound: { mode: 'rel'; value: number }) {
  const coded: { alone: boolean; plan: ClassicPlan }[] = [];
  const env: CodecEnv = {
    backend: zstdBackend,
    hash: () => '',
    progress: () => {},
    parallelism: 1,
    spareThread: () => new Promise<void>((resolve) => setImmediate(resolve)),
    idleWorker: () => 'warm',
    runTask: async <T,>(_codec: string, task: string, args: Record<string, unknown>, opts?: { alone?: boolean }) => {
      if (task === 'encodeChunk') coded.push({ alone: opts?.alone === true, plan: args.plan as ClassicPlan });
      if (!opts?.alone) await new Promise((resolve) => setImmediate(resolve));
      return classicCodec.tasks![task]!(args, zstdBackend).result as T;
    },
  };
  const r = await classicCodec.encode({ field: f, bound, params: classicCodec.params.parse({}), metadata: {}, deps: NO_DEPENDENCIES }, env);
  return { bytes: r.bytes, coded };
}

describe('a field of one chunk whose plan codes it several ways', () => {
  it('codes its own way in a free worker beside the alternative\'s in this thread: the stream of coding both here', async () => {
    const made = makeField('hedged', [24, 48, 96], { noise: 4, seed: 3 });
    const f = { values: made.values, shape: made.shape };
    const bound = { mode: 'rel' as const, value: 1e-3 };
    const planned = planCompression(f, { bound }, zstdBackend);
    expect(planned.chunkRows.length).toBe(1);
    expect(planned.alternative).toBeDefined();
    const { bytes, coded } = await encodedBesideWorker(f, bound);
    expect(Buffer.from(bytes).equals(Buffer.from(compressClassic(f, { bound, metadata: {} }, zstdBackend).bytes))).toBe(true);
    // the alternative's coding here, alone; the own coding (started during planning, or after it) in the worker
    const here = coded.filter((c) => c.alone);
    expect(here.length).toBe(1);
    expect(here[0]!.plan).toMatchObject({ ...planned.alternative, alternative: undefined });
    expect(coded.some((c) => !c.alone && c.plan.alternative === undefined && c.plan.predictor === planned.predictor && !c.plan.reversedAxes === !planned.reversedAxes)).toBe(true);
  });

  it('with a contest: its own way in the worker, the contest sized and its leader coded here, the stream of coding all here', async () => {
    // a near-profile field at an extreme ratio (high-ratio.test.ts): each chunk sizes the contest's three tunings
    const f = pressureLevels(60, 64, 64, 4e-4);
    const bound = { mode: 'rel' as const, value: 1e-2 };
    const planned = planCompression(f, { bound }, zstdBackend);
    expect(planned.chunkRows.length).toBe(1);
    expect(planned.contest?.length).toBeGreaterThan(0);
    const { bytes, coded } = await encodedBesideWorker(f, bound);
    const inThread = compressClassic(f, { bound, metadata: {} }, zstdBackend);
    expect(Buffer.from(bytes).equals(Buffer.from(inThread.bytes))).toBe(true);
    // no plan coded carries a contest; the own coding in the worker, the contest's leader (the tuning this field is
    // built for: not the own coding) in this thread
    expect(coded.every((c) => !c.plan.contest?.length)).toBe(true);
    expect(coded.filter((c) => !c.alone).length).toBeGreaterThanOrEqual(1);
    expect(coded.some((c) => c.alone && planned.contest!.some((k) => k.tune === c.plan.tune && k.predictor === c.plan.predictor))).toBe(true);
  });
});

describe('a batch one task more than whole rounds of the workers, with no core for this thread', () => {
  it('this thread takes the last task beside the workers, each worker\'s next sent ahead; whole rounds go to the workers alone', async () => {
    const calls = async (n: number, parallelism: number) => {
      const seen: { j: number; alone: boolean; ahead: boolean }[] = [];
      const env = { backend: zstdBackend, hash: () => '', progress: () => {}, parallelism, runTask: async () => undefined } as unknown as CodecEnv;
      await runChunks(n, env, async (j, alone, ahead) => void seen.push({ j, alone, ahead }));
      return seen;
    };
    const nine = await calls(9, 2);
    expect(nine.filter((c) => c.alone).map((c) => c.j)).toEqual([8]);
    expect(nine.every((c) => c.ahead)).toBe(true);
    const eight = await calls(8, 2);
    expect(eight.some((c) => c.alone || c.ahead)).toBe(false);
  });
});

describe('the pool sends a task ahead to a worker busy with one', () => {
  it('one worker, four tasks sent ahead at once: each comes back with its own result, and the pool serves a plain task after', async () => {
    const f = makeField('smooth', [32, 300], { seed: 5 });
    const a = await compressField(f, { bound: { mode: 'rel', value: 1e-3 }, chunkValues: 8 * 300, workers: 0 });
    const header = readHeader(a.bytes);
    const args = (index: number) => ({ header, index, stored: chunkBytes(header, a.bytes, index) });
    const inThread = (index: number) => (classicCodec.tasks!.decodeChunk!(args(index), zstdBackend).result as DecodedChunk).values.slice();
    const pool = new CodecPool(1);
    try {
      const results = await Promise.all([0, 1, 2, 3].map((i) => pool.run<DecodedChunk>('classic', 'decodeChunk', args(i), { ahead: true })));
      results.forEach((r, i) => expect(Array.from(r.values), `chunk ${i}`).toEqual(Array.from(inThread(i))));
      const after = await pool.run<DecodedChunk>('classic', 'decodeChunk', args(2));
      expect(Array.from(after.values)).toEqual(Array.from(inThread(2)));
    } finally {
      await pool.close();
    }
  });
});

describe.runIf(haveFerret)('parallel chunks in worker threads (needs ferret-datasets)', () => {
  it('identical bytes for 0 (in-thread), 1 and 2 workers; decoding with 2 workers gives the same values', async () => {
    const f = await field(`${FERRET}/levitus_climatology.cdf`, 'SALT');
    const opts = { bound: { mode: 'rel' as const, value: 1e-3 }, chunkValues: 200_000 };
    const a = await compressField(f, { ...opts, workers: 0 });
    const b = await compressField(f, { ...opts, workers: 1 });
    const progress: number[] = [];
    const c = await compressField(f, { ...opts, workers: 2, onProgress: (x) => progress.push(x) });
    expect(a.plan.chunkRows.length).toBeGreaterThan(2);
    expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    expect(Buffer.from(c.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    expect(progress.at(-1)).toBe(1);
    expect(c.verification!.pointsOverBound).toBe(0);
    const d0 = await decompressStream(a.bytes, { workers: 0 });
    // 1 worker: on a machine of 2 cores or more this thread decodes chunks beside it (runChunks)
    for (const workers of [1, 2]) {
      const d = await decompressStream(a.bytes, { workers });
      expect(Buffer.from(d.field.values.buffer).equals(Buffer.from(d0.field.values.buffer)), `${workers} workers`).toBe(true);
      expect(Buffer.from(d.field.mask!).equals(Buffer.from(d0.field.mask!)), `${workers} workers`).toBe(true);
    }
    // a slice decodes alone; rows that cut chunks, the same values
    const rs = 180 * 360;
    for (const rows of [[5, 7], [1, 20]] as [number, number][]) {
      const s = await decompressStream(a.bytes, { workers: 2, rows });
      expect(Buffer.from(s.field.values.buffer).equals(Buffer.from(d0.field.values.slice(rows[0] * rs, rows[1] * rs).buffer))).toBe(true);
      expect(Buffer.from(s.field.mask!).equals(Buffer.from(d0.field.mask!.subarray(rows[0] * rs, rows[1] * rs)))).toBe(true);
    }
    // two chunks, one worker: this thread codes the second while the worker codes the first
    const two = await compressField(f, { ...opts, chunkValues: 10 * rs, workers: 0 });
    expect(two.plan.chunkRows.length).toBe(2);
    expect(Buffer.from((await compressField(f, { ...opts, chunkValues: 10 * rs, workers: 1 })).bytes).equals(Buffer.from(two.bytes))).toBe(true);
    const [t0, t1] = [await decompressStream(two.bytes, { workers: 0 }), await decompressStream(two.bytes, { workers: 1 })];
    expect(Buffer.from(t1.field.values.buffer).equals(Buffer.from(t0.field.values.buffer))).toBe(true);
    expect(Array.from(t1.field.mask!)).toEqual(Array.from(t0.field.mask!));
  });
  it('chunks copied into the buffers earlier tasks sent back: two fields of one shape in turn, each the bytes of in-thread encoding', async () => {
    // chunks of 4 levels (1 MB): the pool copies the next chunks into the buffers the workers send back (its spares)
    const opts = { bound: { mode: 'rel' as const, value: 1e-3 }, chunkValues: 300_000 };
    for (const v of ['SALT', 'TEMP', 'SALT']) {
      const f = await field(`${FERRET}/levitus_climatology.cdf`, v);
      const two = await compressField(f, { ...opts, workers: 2 });
      const one = await compressField(f, { ...opts, workers: 0 });
      expect(two.plan.chunkRows.length).toBeGreaterThan(4);
      expect(Buffer.from(two.bytes).equals(Buffer.from(one.bytes)), v).toBe(true);
      expect(two.verification!.pointsOverBound).toBe(0);
    }
  });
  it('chunks decoded into the buffers this thread handed back: fields of one chunk size in turn, each the values of in-thread decoding', async () => {
    // SALT and TEMP (land masked) with a NaN and an infinity in a chunk, then SALT again: the workers decode later chunks
    // into the buffers of earlier ones, which must hold nothing of them
    const opts = { bound: { mode: 'rel' as const, value: 1e-3 }, chunkValues: 300_000 };
    for (const v of ['SALT', 'TEMP', 'SALT']) {
      const f = await field(`${FERRET}/levitus_climatology.cdf`, v);
      const values = Float32Array.from(f.values);
      const at = values.findIndex((x, i) => f.mask![i] === 1 && i > 700_000);
      values[at] = NaN;
      values[at + 1] = -Infinity;
      const c = await compressField({ ...f, values }, { ...opts, workers: 0 });
      const d0 = await decompressStream(c.bytes, { workers: 0 });
      for (let round = 0; round < 2; round++) {
        const d2 = await decompressStream(c.bytes, { workers: 2 });
        expect(Buffer.from(d2.field.values.buffer).equals(Buffer.from(d0.field.values.buffer)), v).toBe(true);
        expect(Buffer.from(d2.field.mask!).equals(Buffer.from(d0.field.mask!)), v).toBe(true);
      }
    }
  });
  it('a field of one chunk with a worker free: it sizes part of the candidates, and starts the encoding with the provisional plan, while planning ends here (the plan and bytes of in-thread encoding either way)', async () => {
    warmWorkers(1, Infinity);
    // the best effort's planning (effort auto plans these fields of 0.1 M values or more with effort fast)
    const encode = (f: Field, rel: number, workers: number) => encodeField(f, { codec: 'best', bound: { mode: 'rel', value: rel }, verify: false, workers });
    const uwnd = await field(`${FERRET}/monthly_navy_winds.cdf`, 'UWND');
    // at 1e-2 few bits per value: the interpolation's tunings will be tried, the worker sizes half of each batch; at
    // 1e-3 it sizes half the screening batch, then encodes with the provisional plan (kept: the final plan is it)
    for (const [rel, overlap] of [[1e-2, { encoding: false, sizing: true }], [1e-3, { encoding: true, sizing: true }]] as const) {
      const reference = await encode(uwnd, rel, 0);
      // the first tasks only warm the worker up (a cold one would finish after this thread)
      let overlapped: unknown = undefined;
      for (let i = 0; i < 40 && overlapped === undefined; i++) {
        const r = await encode(uwnd, rel, 1);
        expect(Buffer.from(r.bytes).equals(Buffer.from(reference.bytes))).toBe(true);
        expect(r.details.plan).toEqual(reference.details.plan);
        overlapped = r.details.planningOverlapped;
        if (overlapped === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(overlapped, `rel ${rel}`).toEqual(overlap);
    }
    // other fields and bounds, where the survivors may overturn screening's leader (then this thread encodes, or
    // sizes the tunings itself)
    for (const [file, v, rel] of [['levitus_climatology.cdf', 'TEMP', 1e-3], ['levitus_climatology.cdf', 'TEMP', 1e-4], ['monthly_navy_winds.cdf', 'VWND', 1e-4], ['coads_climatology.cdf', 'SST', 1e-3], ['coads_climatology.cdf', 'AIRT', 1e-2]] as const) {
      const f = await field(`${FERRET}/${file}`, v);
      const [one, here] = [await encode(f, rel, 1), await encode(f, rel, 0)];
      expect(Buffer.from(one.bytes).equals(Buffer.from(here.bytes)), `${v} ${rel}`).toBe(true);
    }
  }, 120_000);
  it('a worker that fails its share of planning (or its early encoding) leaves it to this thread: the same plan and bytes', async () => {
    // the codec's environment with a "warm worker" whose tasks all fail: planning and encoding fall back here
    const { classicCodec } = await import('../../../src-main/core/compressors/classic/index.ts');
    const { codecEnv } = await import('../../../src-main/services/codecs/index.ts');
    const inThread = codecEnv({ workers: 0 });
    const asked: string[] = [];
    const failing = { ...inThread, idleWorker: () => 'warm' as const, runTask: <T,>(codec: string, task: string, args: Record<string, unknown>, opts?: { alone?: boolean }) => {
      if (opts?.alone) return inThread.runTask<T>(codec, task, args, opts);
      asked.push(task);
      return Promise.reject(new FieldpackError('INTERNAL', 'worker out of memory'));
    } };
    for (const [file, v, rel] of [['coads_climatology.cdf', 'AIRT', 1e-2], ['monthly_navy_winds.cdf', 'UWND', 1e-3]] as const) {
      const f = await field(`${FERRET}/${file}`, v);
      const input = { field: f, bound: { mode: 'rel' as const, value: rel }, params: classicCodec.params.parse({}), metadata: {}, deps: NO_DEPENDENCIES };
      const [here, fallen] = [await classicCodec.encode(input, inThread), await classicCodec.encode(input, failing)];
      expect(Buffer.from(fallen.bytes).equals(Buffer.from(here.bytes)), `${v} ${rel}`).toBe(true);
      expect(fallen.details.planningOverlapped).toBeUndefined();
    }
    // AIRT at 1e-2 shared its batches (then sized them here); UWND at 1e-3 tried an early encoding
    expect(asked).toEqual(expect.arrayContaining(['sizePlans', 'encodeChunk']));
  });

  it('an aborted signal cancels with a FieldpackError CANCELLED, and the pool still works afterwards', async () => {
    const f = await field(`${FERRET}/levitus_climatology.cdf`, 'SALT');
    const ac = new AbortController();
    ac.abort();
    const err = await compressField(f, { bound: { mode: 'rel', value: 1e-2 }, workers: 2, signal: ac.signal }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(FieldpackError);
    expect((err as FieldpackError).code).toBe('CANCELLED');
    const after = await compressField(f, { bound: { mode: 'rel', value: 1e-2 }, workers: 2, chunkValues: 200_000 });
    expect(after.verification!.pointsOverBound).toBe(0);
  });
});

describe('a chunk task that fails (a damaged chunk in a stream)', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const env = (spare: boolean) => ({ parallelism: 2, ...(spare ? { spareThread: async () => {} } : {}) }) as unknown as CodecEnv;
  const damaged = new FieldpackError('BAD_STREAM', 'corrupted stream: chunk 0');

  for (const spare of [false, true]) {
    it(`${spare ? 'with' : 'without'} a core for this thread: no task starts after it, and its error comes once those sent have ended (they reported progress under the error, and the CLI's exit code was 13 or 1 by chance)`, async () => {
      const started: number[] = [];
      const ended: number[] = [];
      const err = await runChunks(12, env(spare), async (j) => {
        started.push(j);
        if (j === 0) throw damaged;
        await sleep(20);
        ended.push(j);
      }).then(() => null, (e: unknown) => e);
      expect(err).toBe(damaged);
      expect(ended.sort((a, b) => a - b)).toEqual(started.filter((j) => j !== 0).sort((a, b) => a - b));
      if (spare) expect(started.length).toBeLessThan(12);
    });
  }

  it('a cancel is thrown at once, not after the tasks sent', async () => {
    const ended: number[] = [];
    const cancelled = new FieldpackError('CANCELLED', 'cancelled');
    const err = await runChunks(4, env(false), async (j) => {
      if (j === 0) throw cancelled;
      await sleep(50);
      ended.push(j);
    }).then(() => null, (e: unknown) => e);
    expect(err).toBe(cancelled);
    expect(ended).toEqual([]);
    await sleep(80);
  });
});
