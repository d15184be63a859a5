/**
 * The classic codec's registration: prediction (Lorenzo, dual-quantization Lorenzo or multilevel interpolation)
 * -> linear quantizer -> entropy coder -> lossless stage, chunk by chunk (codec.ts). Chunks are independent, so
 * encode and decode run them as worker tasks; the bytes never depend on how many workers ran them.
 */
import { z } from 'zod';
import { PREDICTOR_NAMES } from '../../codec/predictors/types.ts';
import { chunkBytes, type StreamHeader } from '../../codec/stream/format.ts';
import type { Codec, CodecEnv, CodecPreset, CodecTask, DecodedChunk, EncodeInput, EncodeResult } from '../contract.ts';
import { chunkAssembly, guarded } from '../decoded.ts';
import { mapChunks, runChunks } from '../chunk-tasks.ts';
import { declaredGrid } from '../../codec/grid.ts';
import { resolveBound } from '../../codec/bound.ts';
import { spareBuffer } from '../../codec/scratch.ts';
import { INTERP_TUNINGS } from '../../codec/predictors/index.ts';
import { everyRowEquals } from '../../codec/repeats.ts';
import {
  CLASSIC_CODEC_ID,
  type ChunkSummary,
  type ClassicOptions,
  type ClassicPlan,
  type PlanAlternative,
  type PlanBatch,
  type EncodedChunk,
  type FieldStats,
  assembleHeader,
  codedOneWay,
  codedPlan,
  assembleStream,
  sampleBlockRange,
  spreadBlockRanges,
  chunkInputs,
  chunkMask,
  chunkRowsFor,
  joinRepeatingChunks,
  chunksForRows,
  cropBlock,
  decodeChunkStored,
  encodeChunk,
  fieldStats,
  hedgeProbe,
  mergeStats,
  contestSizer,
  contestWanted,
  contestWinner,
  probeOutcome,
  probePlans,
  type PlanSample,
  planCompressionSteps,
  planFromStats,
  samePlan,
  sampleBudget,
  sizePlans,
  settleChunk,
  smallestCoding,
} from './codec.ts';
import { FieldpackError } from '../../errors.ts';
import { type Field, type FieldValues, fieldSize } from '../../field.ts';

const PREDICTOR_CHOICES = ['auto', ...PREDICTOR_NAMES] as const;

export const ClassicParams = z.strictObject({
  /** auto: chosen from a sample of the field */
  predictor: z.enum(PREDICTOR_CHOICES).default('auto'),
  entropy: z.enum(['range', 'ms', 'huffman', 'auto', 'rans']).default('range'),
  /** values per chunk (chunking follows the shape only, never the worker count) */
  chunkValues: z.number().int().min(1024).max(1 << 28).optional(),
  /** values already on a grid (packed, rounded; bit-rounded float32: the mantissa grid): auto codes their grid indices when a sample says it is smaller */
  grid: z.enum(['auto', 'off']).default('auto'),
  /** best: every candidate planning knows, each small chunk coded with every entropy coder; fast: a few candidates on a small block, one coder; auto: best up to 64 k values, fast above (codec.ts Effort) */
  effort: z.enum(['best', 'fast', 'auto']).default('best'),
});
export type ClassicParams = z.infer<typeof ClassicParams>;

const PRESET_TEXT: Record<(typeof PREDICTOR_CHOICES)[number], [string, string]> = {
  auto: ['Fieldpack auto', 'classic codec; the predictor is chosen from a sample of the field: effort best up to 64 k values, fast above (the default)'],
  lorenzo: ['Fieldpack Lorenzo', 'first-order Lorenzo predictor'],
  'dq-lorenzo': ['Fieldpack dual-quant Lorenzo', 'pre-quantized Lorenzo (chunks independent)'],
  'interp-linear': ['Fieldpack interp (linear)', 'multilevel linear interpolation'],
  'interp-cubic': ['Fieldpack interp (cubic)', 'multilevel cubic interpolation (SZ3 default)'],
};

const presets: CodecPreset<ClassicParams>[] = [
  ...PREDICTOR_CHOICES.map((p) => ({
    name: p, label: PRESET_TEXT[p][0], description: PRESET_TEXT[p][1], params: { predictor: p, entropy: 'range', grid: 'auto', effort: p === 'auto' ? 'auto' : 'best' } as const,
  })),
  {
    name: 'fast', label: 'Fieldpack fast',
    description: 'classic codec, effort fast on every field: the predictor chosen on a small block, each chunk coded once (near SZ3\'s speed)',
    params: { predictor: 'auto', entropy: 'range', grid: 'auto', effort: 'fast' },
  },
  {
    name: 'best', label: 'Fieldpack best',
    description: 'classic codec, effort best on every field: every predictor, folding and tuning sized on a sample, small chunks coded with every coder (on 0.1-1 M values about 2.6 x slower than fast, streams 0.3-1.2 % smaller)',
    params: { predictor: 'auto', entropy: 'range', grid: 'auto', effort: 'best' },
  },
];

/** A batch of candidates is shared with a worker from this many values to size in all (below, the message costs more). */
const SHARED_SIZING_MIN = 1 << 15;

/** Worker tasks: one chunk in, its bytes (or values) out, in buffers of their own so they can be transferred. */
const tasks: Record<string, CodecTask> = {
  encodeChunk(a, backend) {
    const r = encodeChunk(a.plan as ClassicPlan, a.values as Float32Array, a.mask as Uint8Array | null, a.shape as number[], backend);
    const own = (c: EncodedChunk): EncodedChunk => ({ ...c, stored: new Uint8Array(c.stored) });
    const result = { ...own(r), ...(r.exactCoded ? { exactCoded: own(r.exactCoded) } : {}) };
    return { result, transfer: [result.stored.buffer as ArrayBuffer, ...(result.exactCoded ? [result.exactCoded.stored.buffer as ArrayBuffer] : [])] };
  },
  /** candidate plans sized on the planning sample (the share of planning a free worker takes) */
  sizePlans(a, backend) {
    const sample: PlanSample = { values: a.values as Float32Array, mask: a.mask as Uint8Array | null, shape: a.shape as number[] };
    return { result: sizePlans(a.base as ClassicPlan, sample, a.plans as ClassicPlan[], backend, a.batch as PlanBatch), transfer: [] };
  },
  /** into (optional, in the caller's thread): the function that gives the output's own view of the chunk's values */
  decodeChunk(a) {
    const header = a.header as StreamHeader;
    const inOutput = typeof a.into === 'function' ? (a.into as () => FieldValues) : undefined;
    const r = decodeChunkStored(header, a.index as number, a.stored as Uint8Array, inOutput ?? intoSpare(header, a.index as number));
    // values decoded into the caller's output are already where it reads them
    return { result: r, transfer: inOutput ? [] : [r.values.buffer as ArrayBuffer, ...(r.mask ? [r.mask.buffer as ArrayBuffer] : [])] };
  },
};

/**
 * Chunk i's values in a buffer handed back for reuse (env.recycle) where one holds them and is no larger than the
 * stream's largest chunk, else in a fresh buffer of that largest chunk's size: a stream's chunks differ by a row
 * (rows split evenly; a chunk joined from repeating ones, joinRepeatingChunks, is at most twice the others), and
 * buffers of one size serve them all, from one decode to the next.
 */
function intoSpare(h: StreamHeader, i: number): () => FieldValues {
  const rowSize = fieldSize(h.shape) / h.shape[0]!;
  const n = h.chunks[i]!.rows * rowSize;
  const most = Math.max(...h.chunks.map((c) => c.rows)) * rowSize;
  const f32 = h.dtype === 'float32';
  const bytesPer = f32 ? 4 : 8;
  return () => {
    const b = spareBuffer(n * bytesPer, most * bytesPer) ?? new ArrayBuffer(most * bytesPer);
    return f32 ? new Float32Array(b, 0, n) : new Float64Array(b, 0, n);
  };
}

/**
 * Plans a field (planCompressionSteps) with a free worker's help where there is one, never changing a byte. A warm
 * worker sizes half of each batch of candidates (on the screening block, then the survivors and the winner's tunings
 * on the sample) while this thread sizes the rest, the same numbers either way; but for a field of one chunk whose
 * leader will likely not be tuned, it encodes the chunk with screening's leader's plan while this thread sizes the
 * survivors (that encoding takes longer than half the survivors): `early`, where the final plan is that one (it may
 * still fail), or `earlyOwn`, where it is the own coding of a final plan coded several ways (codedApart);
 * `sizedElsewhere` where the worker sized a share. A cold worker (its code still loading and compiling)
 * would finish later than this thread: it only warms up, on the encoding.
 */
async function planWithWorker(field: Pick<Field, 'values' | 'shape' | 'mask'>, opts: ClassicOptions, env: CodecEnv): Promise<{ plan: ClassicPlan; early: Promise<EncodedChunk> | null; earlyOwn: Promise<EncodedChunk> | null; sizedElsewhere: boolean }> {
  const worker = env.idleWorker?.() ?? null;
  const oneChunk = chunkRowsFor(field.shape, opts.chunkValues).length === 1;
  const started: { plan: ClassicPlan; chunk: Promise<EncodedChunk> }[] = [];
  let sizedElsewhere = false;
  const steps = planCompressionSteps(field, opts, env.backend);
  let step = steps.next();
  while (!step.done) {
    const s = step.value;
    let sizes: number[] | undefined;
    if (s.kind === 'provisional') {
      if (oneChunk && (worker === 'cold' || (worker === 'warm' && !s.tuningsLikely))) {
        const [c] = chunkInputs(s.plan, field);
        const chunk = encodeChunkTask(env, s.plan, c!);
        chunk.catch(() => {}); // awaited only where it is kept
        started.push({ plan: s.plan, chunk });
      }
    } else if (worker === 'warm' && !started.length) {
      // the worker's share: half the candidates, where they are worth a message (SHARED_SIZING_MIN values in all)
      const there = s.plans.length > 1 && s.plans.length * s.sample.values.length >= SHARED_SIZING_MIN ? Math.floor(s.plans.length / 2) : 0;
      const { values, mask, shape } = s.sample;
      // a worker that fails leaves its share to this thread
      const remote = there ? env.runTask<number[]>(CLASSIC_CODEC_ID, 'sizePlans', { base: s.base, plans: s.plans.slice(0, there), values, mask, shape, batch: s.of }).catch(() => null) : null;
      const here = s.plans.slice(there).map(s.sizeHere);
      const fromWorker = remote ? await remote : null;
      if (fromWorker) sizedElsewhere = true;
      sizes = [...(fromWorker ?? s.plans.slice(0, there).map(s.sizeHere)), ...here];
    }
    step = steps.next(sizes);
  }
  const plan = step.value;
  const startedAs = (p: ClassicPlan) => (worker === 'warm' ? (started.find((e) => samePlan(e.plan, p))?.chunk ?? null) : null);
  // a plan coded several ways (severalCodings) whose own coding the worker started
  return { plan, early: startedAs(plan), earlyOwn: severalCodings(plan) ? startedAs(codedOneWay(plan)) : null, sizedElsewhere };
}

/**
 * Whether a worker is free to code beside this thread, where this thread has a core of its own (spareThread): asked
 * after a turn of its event loop, which is when the pool hears of the tasks its workers finished (in a loop of
 * encodings the worker was otherwise seen busy with one it had ended long before).
 */
async function workerBeside(env: CodecEnv): Promise<boolean> {
  if (!env.spareThread || !env.idleWorker) return false;
  await env.spareThread();
  return env.idleWorker() !== null;
}

/** A plan each chunk codes more than its own way: its alternative's, its contest's leader's (encodeChunk's smallest). */
function severalCodings(plan: ClassicPlan): boolean {
  return !!plan.alternative || !!plan.contest?.length;
}

export const classicCodec: Codec<ClassicParams> = {
  id: CLASSIC_CODEC_ID,
  label: 'Fieldpack classic',
  description: 'prediction (Lorenzo or multilevel interpolation) + linear quantization + range coding + zstd; lossless at bound 0',
  params: ClassicParams,
  presets,
  needsDependencies: false,
  dependencies: () => [],
  tasks,
  async encode({ field, bound, params, metadata }, env) {
    const opts: ClassicOptions = { bound, ...classicOptions(params), declaredGrid: declaredGrid(field) };
    const { plan: planned, early, earlyOwn, sizedElsewhere } = await planWithWorker(field, opts, env);
    const inputs = chunkInputs(planned, field);
    const chunks: EncodedChunk[] = [];
    // a field of one chunk coded several ways (severalCodings): its own way in a worker and the others here, at once,
    // where planning started its own coding in a worker or a worker is free beside this thread. Held-out F64 (786 k
    // values, an alternative) at rel 1e-3, 1 worker on 2 cores, bench medians of 3 interleaved runs: 30.7 -> 54.5 MB/s
    // (TURB3D at 1e-4 30.7 -> 47.7; 18 rows 1.19 x, the slowest 0.92 x)
    const apart = inputs.length === 1 && severalCodings(planned) && (earlyOwn || (await workerBeside(env)));
    if (apart) chunks[0] = await codedApart(planned, inputs[0]!, env, earlyOwn);
    // a hedged plan: its probe chunk both ways and the other chunks their own way, all at once (hedgedChunks)
    const probe = apart ? null : hedgeProbe(planned);
    if (probe !== null) {
      const hedged = await hedgedChunks(planned, inputs, probe, env);
      return { bytes: assembleStream(hedged.plan, hedged.chunks, metadata), bound: planned.bound, details: { ...chosen(hedged.plan, hedged.chunks), ...(sizedElsewhere ? { planningOverlapped: { encoding: false, sizing: true } } : {}) } };
    }
    // a field of one chunk coded apart has no chunk left
    let done = apart ? 1 : 0;
    let encodedEarly = apart && !!earlyOwn;
    await runChunks(apart ? 0 : inputs.length, env, async (j, alone, ahead) => {
      const c = inputs[j]!;
      const here = () => encodeChunkTask(env, planned, c, { alone, ahead });
      // a worker that failed (out of memory, say) leaves the chunk to this thread, as without one
      chunks[j] = settleChunk(early ? await early.then((x) => ((encodedEarly = true), x), here) : await here());
      env.progress(++done / inputs.length, `chunk ${done}/${inputs.length}`);
    });
    return { bytes: assembleStream(planned, chunks, metadata), bound: planned.bound, details: { ...chosen(planned, chunks), ...(encodedEarly || sizedElsewhere ? { planningOverlapped: { encoding: encodedEarly, sizing: sizedElsewhere } } : {}) } };
  },
  async encodeRows(source, { bound, params, metadata }, sink, env) {
    const opts: ClassicOptions = { bound, ...classicOptions(params), declaredGrid: declaredGrid(source) };
    const { shape } = source;
    const shapeRows = chunkRowsFor(shape, params.chunkValues);
    // first row of each chunk
    const startsOf = (rows: number[]) => {
      const starts = [0];
      for (const n of rows.slice(0, -1)) starts.push(starts[starts.length - 1]! + n);
      return starts;
    };
    const rowSize = fieldSize(shape) / shape[0]!;
    const checkAbort = () => {
      if (env.signal?.aborted) throw new FieldpackError('CANCELLED', 'cancelled');
    };
    // pass 1: the whole field's stats, slab by slab, and which slabs repeat the row before them (the chunks then
    // joined as in memory, joinRepeatingChunks); then the planning sample (the central block's rows)
    let stats: FieldStats | null = null;
    const shapeStarts = startsOf(shapeRows);
    const repeatsPrevious: boolean[] = [];
    let lastRow: { values: FieldValues; mask: Uint8Array | null } | null = null;
    for (let i = 0; i < shapeRows.length; i++) {
      checkAbort();
      const slab = await source.read(shapeStarts[i]!, shapeStarts[i]! + shapeRows[i]!);
      const s = fieldStats(slab.values, slab.mask);
      stats = stats ? mergeStats(stats, s) : s;
      const slabMask = slab.mask ?? null;
      repeatsPrevious.push(lastRow !== null && everyRowEquals(slab.values, slabMask, rowSize, lastRow.values, lastRow.mask));
      const end = slab.values.length;
      lastRow = { values: slab.values.slice(end - rowSize, end), mask: slabMask ? slabMask.slice(end - rowSize, end) : null };
      env.progress((0.2 * (i + 1)) / shapeRows.length, `range: rows ${shapeStarts[i]! + shapeRows[i]!}/${shape[0]}`);
    }
    const whole = stats!;
    const chunkRows = joinRepeatingChunks(shapeRows, repeatsPrevious, rowSize, params.chunkValues);
    const starts = startsOf(chunkRows);
    // as planCompression sees it: a mask (all ones where the slab has none) exactly when the field has one
    const maskOf = (slab: { values: { length: number }; mask?: Uint8Array | null }) => (whole.hasMask ? (slab.mask ?? new Uint8Array(slab.values.length).fill(1)) : null);
    // chunk i's input, read from the source (its mask the plan's: an implicit fill's too, chunkMask)
    const rowsOf = async (i: number, plan: ClassicPlan) => {
      const rows = await source.read(starts[i]!, starts[i]! + chunkRows[i]!);
      if (rows.values.length !== chunkRows[i]! * rowSize) throw new FieldpackError('INTERNAL', `rows ${starts[i]}.. read ${rows.values.length} values, expected ${chunkRows[i]! * rowSize}`);
      return { values: rows.values, mask: chunkMask(plan, rows.values, maskOf(rows)), shape: [chunkRows[i]!, ...shape.slice(1)] };
    };
    const block = sampleBlockRange(shape, sampleBudget(fieldSize(shape)));
    const r0 = block ? block.start[0]! : 0;
    const slab = await source.read(r0, r0 + (block ? block.size[0]! : shape[0]!));
    const sample = block
      ? cropBlock(slab.values, maskOf(slab), [block.size[0]!, ...shape.slice(1)], [0, ...block.start.slice(1)], block.size)
      : { values: slab.values, mask: maskOf(slab), shape };
    // the blocks spread over the field too (planSteps' second opinion; auto at a lossy bound), each cropped from its
    // rows: the sample's slab where they are its rows (a short dim 0 is whole in both), else read
    const spread: PlanSample[] = [];
    const spreadWanted = (opts.predictor ?? 'auto') === 'auto' && !resolveBound(opts.bound, whole.max - whole.min).lossless;
    for (const b of spreadWanted ? spreadBlockRanges(shape) : []) {
      checkAbort();
      const rows = b.start[0] === r0 && b.size[0] === slab.values.length / rowSize ? slab : await source.read(b.start[0]!, b.start[0]! + b.size[0]!);
      spread.push(cropBlock(rows.values, maskOf(rows), [b.size[0]!, ...shape.slice(1)], [0, ...b.start.slice(1)], b.size));
    }
    const planned = { ...planFromStats(whole, shape, source.dtype, () => sample, opts, env.backend, () => spread), chunkRows };
    // a hedged plan's probe chunk first (hedgeProbe), kept until its turn comes
    const probe = hedgeProbe(planned);
    const probed = probe === null ? null : await probeHedge(planned, await rowsOf(probe, planned), env);
    const plan = probed?.rest ?? planned;
    // pass 2: chunks encoded in workers, at most `parallelism` + 1 chunks in memory, handed to the sink in order.
    // Where this thread has a core of its own (spareThread) it encodes every (parallelism + 1)-th chunk itself, with
    // one slab more in flight so that the workers have theirs meanwhile (a 512 MiB variable, 1 worker on 2 cores:
    // 5.5 -> 4.4 s)
    const summaries: ChunkSummary[] = [];
    const inFlight: Promise<EncodedChunk>[] = [];
    const parallelism = env.parallelism ?? 1;
    const shared = !!env.spareThread;
    const window = parallelism + (shared ? 2 : 1);
    let next = 0;
    const submit = async (i: number) => {
      if (i === probe) return probed!.chunk;
      const rows = await rowsOf(i, plan);
      const alone = shared && i % (parallelism + 1) === parallelism;
      return encodeChunkTask(env, plan, rows, { alone });
    };
    for (let i = 0; i < chunkRows.length; i++) {
      while (next < chunkRows.length && next < i + window) {
        const task = submit(next++);
        // awaited in turn below; until then a failure must not surface as an unhandled rejection
        task.catch(() => {});
        inFlight.push(task);
      }
      checkAbort();
      const c = settleChunk(await inFlight.shift()!);
      await sink(c.stored);
      summaries.push({ rawBytes: c.rawBytes, crc: c.crc, escapes: c.escapes, storedBytes: c.stored.length, ...(c.raw ? { raw: true } : {}), ...(c.constant ? { constant: true } : {}), ...(c.repeatedRows ? { repeatedRows: true } : {}), ...(c.exact ? { exact: true } : {}), ...(c.offGrid ? { offGrid: true } : {}), ...(c.coding ? { coding: c.coding } : {}) });
      env.progress(0.2 + (0.8 * (i + 1)) / chunkRows.length, `chunk ${i + 1}/${chunkRows.length}`);
    }
    return { header: assembleHeader(plan, summaries, metadata), bound: plan.bound, details: chosen(plan, summaries) };
  },
  async decode({ header, bytes, rows }, env) {
    const ids = chunksForRows(header, rows[0], rows[1]);
    // each chunk goes into the output as soon as it is decoded (the others still decoding in the workers); one this
    // thread decodes goes straight into it (no copy), allocated once the chunk's data has shown it holds its values.
    // Workers decoding into shared output memory (a SharedArrayBuffer) saved this thread's copies (etopo5, 2 workers:
    // 20 % faster), but V8 does not count those buffers as memory pressure: each decode's stayed until a collection
    // came for other reasons (40 decodes of etopo5: 1.8 GB)
    const output = chunkAssembly(header, ids, rows[0], rows[1]);
    let done = 0;
    const decodeOne = async (j: number, alone: boolean, ahead: boolean) => {
      const i = ids[j]!;
      const target = alone ? output.target(j) : null;
      const r = await env.runTask<DecodedChunk>(CLASSIC_CODEC_ID, 'decodeChunk', { header, index: i, stored: chunkBytes(header, bytes, i), ...(target ? { into: target } : {}) }, { alone, ahead });
      const copied = guarded(header, () => output.put(j, r));
      // a worker's chunk, copied out: its buffer goes back for the next chunks
      if (copied && !alone) env.recycle?.(r.values.buffer as ArrayBuffer);
      env.progress(++done / ids.length, `chunk ${done}/${ids.length}`);
    };
    await runChunks(ids.length, env, decodeOne);
    return guarded(header, () => output.finish());
  },
  summary: (h) => ({
    predictor: h.params.predictor, ...(h.params.auto ? { chosen: 'auto' } : {}), ...gridSummary(h.params.grid), ...mantissaSummary(h.params.mantissaBits),
    ...(h.implicitFill ? { fill: implicitFillText(h.fillValue!) } : {}),
  }),
};

function classicOptions(params: ClassicParams): Omit<ClassicOptions, 'bound'> {
  return { predictor: params.predictor, entropy: params.entropy, chunkValues: params.chunkValues, grid: params.grid !== 'off', effort: params.effort };
}

/** Chunk `c` coded by `plan` as a codec task (in a worker, or in this thread where `alone`): encodeChunk's result. */
function encodeChunkTask(env: CodecEnv, plan: ClassicPlan, c: PlanSample, opts?: { alone?: boolean; ahead?: boolean }): Promise<EncodedChunk> {
  return env.runTask<EncodedChunk>(CLASSIC_CODEC_ID, 'encodeChunk', { plan, values: c.values, mask: c.mask, shape: c.shape }, opts);
}

/**
 * A hedged plan's probe chunk (hedgeProbe) coded both ways at once, as two tasks, and what it decides (probeOutcome).
 */
async function probeHedge(plan: ClassicPlan, chunk: PlanSample, env: CodecEnv): Promise<{ chunk: EncodedChunk; rest: ClassicPlan }> {
  const plans = probePlans(plan);
  const [own, other] = await mapChunks(2, env, (j, alone, ahead) => encodeChunkTask(env, plans[j]!, chunk, { alone, ahead }));
  return probeOutcome(plan, own!, other!);
}

/**
 * A hedged plan's chunks (hedgeProbe), as the probe and encodeChunk would code them, with no wait on the probe: its
 * probe chunk both ways and every other chunk its own way go out as one batch, since whatever the probe decides, each
 * chunk's own coding is kept or compared (probeOutcome). Where the probe chunk could not tell the two apart, the
 * other chunks' alternative codings follow, and each keeps the smaller as encodeChunk keeps it (smallestCoding): the
 * same bytes as coding the probe first. Coding the probe first left every worker but one idle for a chunk's time
 * (etopo5: 8 chunks, each hedged at rel 1e-2 to 1e-4), which more workers only made a larger share of the encoding.
 * Returns the plan the header is written from (probeOutcome's) and every chunk.
 */
async function hedgedChunks(planned: ClassicPlan, inputs: PlanSample[], probe: number, env: CodecEnv): Promise<{ plan: ClassicPlan; chunks: EncodedChunk[] }> {
  const [own, other] = probePlans(planned);
  const rest = inputs.flatMap((_, j) => (j === probe ? [] : [j]));
  // progress in codings: at most the first batch and every other chunk's alternative, the second batch's size once known
  let done = 0;
  let most = 2 * inputs.length;
  const code = (tasks: { j: number; plan: ClassicPlan }[]) =>
    mapChunks(tasks.length, env, async (k, alone, ahead) => {
      const { j, plan } = tasks[k]!;
      const c = inputs[j]!;
      const chunk = await encodeChunkTask(env, plan, c, { alone, ahead });
      env.progress(++done / most, `chunk coding ${done}/${most}`);
      return chunk;
    });
  const [probeOwn, probeOther, ...ownCoded] = await code([{ j: probe, plan: own }, { j: probe, plan: other }, ...rest.map((j) => ({ j, plan: own }))]);
  const outcome = probeOutcome(planned, probeOwn!, probeOther!);
  // the probe could not tell: the others' alternative codings too (none for a constant chunk, which keeps its own)
  const unsure = outcome.rest.alternative ? rest.flatMap((_, k) => (ownCoded[k]!.constant ? [] : [k])) : [];
  most = done + unsure.length;
  const alternatives = new Map((await code(unsure.map((k) => ({ j: rest[k]!, plan: other })))).map((chunk, u) => [unsure[u]!, chunk]));
  const chunks: EncodedChunk[] = [];
  chunks[probe] = settleChunk(outcome.chunk);
  rest.forEach((j, k) => {
    const alternative = alternatives.get(k);
    chunks[j] = settleChunk(alternative ? smallestCoding(ownCoded[k]!, [{ coding: planned.alternative!, chunk: alternative }]) : ownCoded[k]!);
  });
  env.progress(1, `chunk coding ${done}/${done}`);
  return { plan: outcome.rest, chunks };
}

/**
 * A chunk of a plan coded several ways (severalCodings), as encodeChunk codes it, but its own coding in a worker
 * (or `ownStarted`, started there during planning; a worker that fails leaves it to this thread) while this thread
 * codes its alternative, then sizes its contest (contestBeside) and codes the leader: the same choice
 * (smallestCoding), so the same bytes. A field of one chunk has no other chunk to code meanwhile.
 */
async function codedApart(plan: ClassicPlan, chunk: PlanSample, env: CodecEnv, ownStarted: Promise<EncodedChunk> | null): Promise<EncodedChunk> {
  const code = (p: ClassicPlan, alone: boolean) => encodeChunkTask(env, p, chunk, { alone });
  const codedAs = async (coding: PlanAlternative) => ({ coding, chunk: await code(codedOneWay(plan, coding), true) });
  const own = codedOneWay(plan);
  const ownCoded = ownStarted ? ownStarted.catch(() => code(own, true)) : code(own, false).catch(() => code(own, true));
  ownCoded.catch(() => {}); // awaited below, after this thread's coding of the alternative
  const alternative = plan.alternative ? [await codedAs(plan.alternative)] : [];
  const leader = await contestBeside(plan, chunk, env, ownCoded);
  return settleChunk(smallestCoding(await ownCoded, [...alternative, ...(leader ? [await codedAs(leader)] : [])]));
}

/**
 * The contest's leader of a chunk whose own coding a worker is making (contestLeader's answer): its codings are
 * sized here meanwhile, one by one, and the sizing stops once the own coding is back and says the chunk is not at the
 * ratios the contest is for. Waiting for it first cost a third of the encoding where the contest is wanted (one
 * chunk of extreme ratio: 73-78 -> 99-100 ms). Without a core of its own, this thread waits for it first. Once the
 * own coding is back, a warm worker sizes the codings' last half (FR-LAND and POP coordinates at rel 1e-3..1e-4, one
 * chunk each, 1 worker: 5-10 % faster).
 */
async function contestBeside(plan: ClassicPlan, chunk: PlanSample, env: CodecEnv, ownCoded: Promise<EncodedChunk>): Promise<PlanAlternative | null> {
  const contest = plan.contest ?? [];
  if (!contest.length) return null;
  let own: EncodedChunk | null = null;
  const ownBack = ownCoded.then((c) => (own = c));
  ownBack.catch(() => {}); // the caller awaits ownCoded
  if (!env.spareThread) await ownBack;
  const sizeOf = contestSizer(plan, chunk, env.backend);
  const sizes: number[] = [];
  // the codings from `there` on are sized by the worker once its own coding is back (it idled there: a mid-size field
  // at high ratios left it idle 61 % of its compression); sizePlans gives contestSizer's numbers, so the same bytes
  let there = contest.length;
  let remote: Promise<number[] | null> | null = null;
  for (let i = 0; i < there; i++) {
    // a turn of the event loop: the worker's answer is heard
    await env.spareThread?.();
    if (own && !contestWanted(plan, chunk, own)) return null;
    if (own && !remote && contest.length - i >= 2 && env.idleWorker?.() === 'warm') {
      there = i + Math.ceil((contest.length - i) / 2);
      const plans = contest.slice(there).map((coding) => ({ ...plan, ...coding }));
      remote = env.runTask<number[]>(CLASSIC_CODEC_ID, 'sizePlans', { base: plan, plans, values: chunk.values, mask: chunk.mask, shape: chunk.shape }).catch(() => null);
    }
    sizes.push(sizeOf(contest[i]!));
  }
  if (remote) {
    // a worker that fails leaves its share to this thread
    const sized = await remote;
    sizes.push(...(sized?.length === contest.length - there ? sized : contest.slice(there).map(sizeOf)));
  }
  return contestWanted(plan, chunk, await ownCoded) ? contestWinner(plan, sizes) : null;
}

/** The plan as the chunks were coded (codedPlan), in words (choiceOf), and the effort that planned it. */
function chosen(plan: ClassicPlan, chunks: readonly Pick<EncodedChunk, 'coding' | 'constant' | 'exact' | 'repeatedRows' | 'offGrid'>[]): { plan: ClassicPlan; choice: string; effort: 'best' | 'fast' } {
  const effort = plan.effort ?? 'best';
  const coded = codedPlan(plan, chunks);
  // the chunks' other codings, unless every one took the same (then the coded plan's own)
  const others = coded.alternative === plan.alternative && coded.contest === plan.contest ? chunks.flatMap((c) => (c.coding ? [c.coding] : [])) : [];
  const repeated = chunks.filter((c) => c.repeatedRows).length;
  const offGrid = coded.grid ? chunks.filter((c) => c.offGrid).length : 0;
  const choice = choiceOf(coded, chunks.filter((c) => c.constant).length, chunks.length, others) + (repeated ? `; ${repeated} of ${chunks.length} chunks as their distinct rows` : '') +
    (offGrid ? `; ${offGrid} of ${chunks.length} chunks off the grid` : '') + (plan.implicitFill ? `; ${implicitFillText(plan.fillValue!)}` : '');
  const exact = chunks.filter((c) => c.exact).length;
  if (!exact) return { plan: coded, choice, effort };
  const why = 'none: values kept exactly (smaller than their codes at this bound)';
  return { plan: coded, choice: exact === chunks.length ? why : `${choice}; ${exact} of ${chunks.length} chunks ${why}`, effort };
}

/**
 * What the encoder chose, in words: predictor, folded dims, level-dependent bounds (alpha, beta: level l's bound is the
 * bound / min(alpha^(l-1), beta)), grid; chunks coded another way (the plan's alternative, a contest's), and those that
 * hold one value (they skip it), are named.
 */
function choiceOf(plan: ClassicPlan, constant: number, of: number, others: readonly PlanAlternative[] = []): string {
  if (constant === of) return 'constant';
  const named = (p: PlanAlternative) => {
    const folded = p.maxDims < 4 && p.maxDims < plan.shape.filter((x) => x > 1).length ? `/${p.maxDims}d` : '';
    const interp = p.predictor.startsWith('interp');
    const tuning = interp && p.tune ? INTERP_TUNINGS[p.tune] : undefined;
    return p.predictor + folded + (tuning ? ` tuned (${tuning[0]}, ${tuning[1]})` : '') + (p.reversedAxes && interp ? ' (axes reversed)' : '');
  };
  const predictor = named(plan) + (!plan.grid ? '' : plan.grid.mantissaBits !== undefined ? ` on ${plan.grid.mantissaBits}-bit mantissas` : ` on grid ${Number(plan.grid.step.toPrecision(6))}${plan.grid.sliceDims ? ' (an offset per slice)' : ''}`);
  const counts = new Map<string, number>();
  for (const c of others) counts.set(named(c), (counts.get(named(c)) ?? 0) + 1);
  const parts = [predictor, ...[...counts].map(([name, n]) => `${n} of ${of} chunks ${name}`), ...(constant ? [`${constant} of ${of} chunks constant`] : [])];
  return parts.join('; ');
}

/** An implicit fill (ClassicPlan.implicitFill), for people. */
function implicitFillText(fill: number): string {
  return `${Object.is(fill, -0) ? '-0' : fill} (a fill the field does not declare) coded as a mask, its points exact`;
}

/** The grid a stream codes on, for people: step, offset and how far from the values the grid points may be. */
function gridSummary(grid: unknown): Record<string, string> {
  if (!Array.isArray(grid) || grid.length < 3) return {};
  const [offset, step, half, sliceDims] = grid as number[];
  const where = sliceDims ? `an offset per slice of the first ${sliceDims === 1 ? 'dim' : `${sliceDims} dims`}` : `offset ${offset}`;
  return { grid: `step ${step} ${where}, ${half ? `within ${half} step${half > 1 ? 's' : ''} of each value` : 'values exact on the grid'}` };
}

/** A stream coded on a mantissa grid, for people: the float32 bits its values keep, exact. */
function mantissaSummary(bits: unknown): Record<string, string> {
  return typeof bits === 'number' ? { grid: `float32 values with ${bits} mantissa bits (bit-rounded), exact` } : {};
}

/**
 * The classic codec's stream in place of another codec's (a learned codec's fallback, a lossless bound sent to the
 * classic codec), with the reason in its details.
 */
export async function classicInstead(input: EncodeInput<Record<string, unknown>>, env: CodecEnv, why: string): Promise<EncodeResult> {
  const r = await classicCodec.encode({ ...input, params: classicCodec.params.parse({}) }, env);
  return { ...r, details: { ...r.details, choice: `classic (${why})`, fellBack: true } };
}
