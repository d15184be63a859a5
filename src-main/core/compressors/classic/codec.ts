/**
 * The classic error-bounded compressor (codec id "classic"): per chunk, prediction (Lorenzo, dual-quantization
 * Lorenzo, or multilevel interpolation) -> linear quantizer with escapes -> canonical Huffman -> lossless backend.
 * Masked points, NaN and +-Inf are never predicted nor counted in the range; they come back exactly.
 * A bound of 0 is lossless: values are stored bit for bit (byte planes, delta, backend).
 *
 * Work is split into pure, serialisable steps so the service can run chunks in worker threads:
 *   planCompression (whole field: range, bound, predictor choice, chunk rows) -> encodeChunk (per chunk) -> assemble.
 * Chunking depends on the shape only, never on the number of workers, so the bytes are identical for any count.
 */
import { FieldpackError } from '../../errors.ts';
import { type Field, type FieldValues, fieldSize } from '../../field.ts';
import { FIELDPACK_VERSION } from '../../version.ts';
import { ByteReader, ByteWriter, varintBytes } from '../../codec/bytes.ts';
import { crc32 } from '../../codec/crc32.ts';
import { type BoundSpec, type ResolvedBound, resolveBound, validRange } from '../../codec/bound.ts';
import {
  checkRadius, chunkHeadFlags, eachMaskedRun, finishChunk, readCodes, readEscapes, maskModelFor, maskRowsRepeat, readMask, readRaw, readValueList, repeatMaskRows, scanExceptions, writeCodes, writeEscapes, writeMask, writeRaw,
  writeValueLists,
} from '../../codec/envelope.ts';
import { LOSSLESS_NONE, type LosslessBackend } from '../../codec/lossless.ts';
import { DEFAULT_RADIUS, LinearQuantizer } from '../../codec/quantizer.ts';
import { msCostBytes } from '../../codec/mscoder.ts';
import {
  type Grid, type GridPlan, GridQuantizer, MAX_GRID_HALF, MAX_MANTISSA_BITS, MIN_ON_GRID_SHARE, findGridPlan, findMantissaGridPlan, findSlicedGridPlan, fromGridIndices,
  fromSlicedGridIndices, gridIndicesOf, sliceValues, ulpAt,
} from '../../codec/grid.ts';
import { INTERP_TUNINGS, type PredictorName, PREDICTORS, predictorById, predictorByName } from '../../codec/predictors/index.ts';
import { scratchTyped } from '../../codec/scratch.ts';
import { KERNEL_MAX_CODES } from '../../codec/wasm-kernels.ts';
import { distinctRows, everyRowEquals, rowsRepeatFarApart } from '../../codec/repeats.ts';
import { axesReversible, reverseAxes } from '../../codec/predictors/axes.ts';
import {
  MAX_PAYLOAD_BYTES_PER_VALUE, MAX_PAYLOAD_SLACK, type HeaderInput, type StreamHeader, type StreamMetadata, chunkBytes, chunkPayload, readHeader, writeStream,
} from '../../codec/stream/format.ts';
import type { DecodedChunk, DecodedField } from '../contract.ts';
import { assembleDecoded, chunksForRows, guarded } from '../decoded.ts';

export type { DecodedChunk, DecodedField };
export { assembleDecoded, chunksForRows };

export const CLASSIC_CODEC_ID = 'classic';
export type PredictorChoice = PredictorName | 'auto';
const LOSSLESS_PREDICTOR_ID = 255;
/**
 * A chunk whose coded points all hold one value (bit for bit): after its flags, its value count, the envelope's mask
 * and value lists, then the value. The count is the payload's proof of the chunk's size (a header edited to declare
 * more values is refused before they are allocated, as the other payloads' lengths prove theirs). All-zero and
 * all-fill fields are common in model output (WRF's precipitation and ice species at most times), and coding them as
 * codes or byte planes cost a zstd frame and a size per chunk. Readers before it refuse it as a bad predictor byte.
 */
const CONSTANT_PREDICTOR_ID = 254;
/**
 * Predictor byte of a chunk whose rows repeat (core/codec/repeats.ts): varint D distinct rows, per row a varint (0:
 * the next distinct row; k: a copy of distinct row k - 1, already given), then the payload of the D distinct rows as a
 * chunk of its own (any predictor byte but this one). Readers before it refuse it as a bad predictor byte.
 */
const REPEATED_ROWS_ID = 253;
/** Target values per chunk: large enough not to cost ratio, small enough to spread over workers. */
export const DEFAULT_CHUNK_VALUES = 1 << 21;
const SAMPLE_VALUES = 1 << 17;
/** fields above this many values are sampled with half the budget (planning is serial, before the workers) */
const LARGE_FIELD_VALUES = 1 << 22;
/** Order of preference on ties. */
const AUTO_CANDIDATES: PredictorName[] = ['interp-cubic', 'interp-linear', 'lorenzo', 'dq-lorenzo'];
/**
 * effort 'fast' (fastPlanSteps): these predictors (4-D fields folded to FAST_MAX_DIMS), on a central block of an
 * eighth of the field, FAST_SAMPLE_VALUES at most (SZ3 chooses between its interpolation and Lorenzo on samples
 * too; a field no larger than that is planned on all its values), and an interpolation winner below
 * FAST_TUNING_BITS per value its first tuning: at rel 1e-2 Levitus salinity codes 4 % smaller with it (linear,
 * untuned, fell below SZ3's ratio there)
 */
const FAST_CANDIDATES: PredictorName[] = ['interp-cubic', 'interp-linear', 'lorenzo'];
const FAST_SAMPLE_VALUES = 1 << 15;
const FAST_TUNING_BITS = 2;
const FAST_MAX_DIMS = 3;
/** effort fast folds a 3-D prediction's first two axes into one where its block codes at least this much smaller so */
const FOLD_MIN_GAIN = 0.97;
/**
 * ... and where the spread blocks disagree, the best effort's sample can still take it by this much: on the 22
 * held-out and variant codings where the sample and the spread blocks disagreed, folding was 2-18 % smaller whole
 * where the sample sized it at 0.64-0.85 x, and 2-7 % larger where it sized it at 0.96-0.99 x; 0.90-0.93 x was 8-10 %
 * smaller whole (COADS SST and AIRT with time last, NCL's nc4uvt T, all at rel 1e-4: 0.9 missed them; session 52)
 */
const FOLD_SAMPLE_GAIN = 0.93;
/**
 * effort fast sizes a 4-D winner unfolded as well where both dims it folds have this many points or more: NCL's
 * contour.cdf, 7 forecast times of 10 levels, codes 6-24 % smaller 4-D (8 until session 53: the 4 codings it changed
 * of 2517 in the sizes set, all smaller); WRF's 4 time steps stay folded without a sizing
 */
const FOLDED_LONG_DIM = 5;
/** effort fast sizes the other predictor family folded where it was within this factor of the winner unfolded */
const FOLD_RIVAL_MARGIN = 1.2;
/**
 * Effort fast: a runner-up within this factor of the block's leader is sized on the spread blocks too
 * (spreadBlocksDecide; Levitus temperature's land as 0: cubic led linear by 18-21 % on the block, linear 13 % smaller
 * whole). 1.15 missed those; 1.3 and 1.6 changed the same codings.
 */
const FAST_SPREAD_RIVAL = 1.3;
/**
 * A grid's step from this many of the block's values at most (findGridPlan; the best effort sorts GRID_STEP_VALUES):
 * on the visible files, the variants and the NCL and R sample data (1155 codings) the same plans, and a WRF field's
 * fast encode 5-11 % faster (the sort was a tenth of it)
 */
const FAST_GRID_STEP_VALUES = 2048;
/**
 * below this many bits per valid value on its block (the best effort's HIGH_RATIO_BITS), effort fast plans as the
 * best effort does (fastPlanSteps): there a central block misleads most, and the chunks' own codings (contests,
 * alternatives) pay. Per value, masked points counted, 122 of 321 held-out and variant rows of 0.1-1 M values went
 * that way, the masked fields among them; at 0.1 bits a valid value whole-hPa pressure stayed 3 x larger
 */
const FAST_HIGH_RATIO_BITS = 0.25;
/**
 * effort fast's chunks try their codes Huffman-coded through the lossless stage where the block's come out at most
 * this share of its sized bytes (huffmanPaysOn); each chunk keeps that coding where HUFFMAN_LZ_GAIN smaller
 */
const FAST_HUFFMAN_TRY_SHARE = 1;
/**
 * ... a test made only where the block codes to this many bits a valid value or more: of 943 held-out and variant
 * codings, 45 of the 46 it made smaller (4-10 %: NCL's surface observations at rel 1e-4; 20-33 %: its storm fields) are
 * above it and 507 of the rest below (there the test cost up to a tenth of the compression: 0.7 ms of WRF W's 6 at rel
 * 1e-2, 1.3 bits a value)
 */
const FAST_HUFFMAN_MIN_BITS = 3;
/**
 * effort fast codes a chunk of at most this many codes with every coder the best effort tries, not the one its
 * statistics pick: there the tries cost little in all, and one coder can be far off (a 1000 x 3 x 3 series at rel
 * 1e-4: 1016 bytes against the best effort's 517, the same plan)
 */
const FAST_ALL_CODERS_MAX_CODES = 1 << 14;
/**
 * level-dependent bounds tried for an interpolation winner (indices into INTERP_TUNINGS). Not 3 (1.5, 3), the
 * strongest: over the 108 field x bound rows that try tunings (bench fields, variants, held-out files, rel
 * 1e-2..1e-4) it was never the smallest, and four candidates split evenly between this thread and a worker.
 */
const AUTO_TUNINGS = [1, 2, 7, 16];
const AUTO_TUNINGS_LARGE = [1, 7];
/**
 * Below this many bits per value on the sample (ratios above ~128 for float32) planning ends by coding the
 * interpolations with HIGH_RATIO_TUNINGS on the screening block against its winner (planSteps); a contender at least
 * ALTERNATIVE_MIN_GAIN smaller there becomes the plan's alternative (each chunk coded both ways). Tried first at 0.5
 * bits on the whole sample over 549 bench rows: 149 entered and 35 changed; the large gains (2-4 x smaller streams)
 * were all below 0.12 bits, the rest within 7 % for twice the encoding; of the tunings, 2 won least.
 */
const HIGH_RATIO_BITS = 0.25;
const HIGH_RATIO_TUNINGS = [0, 1, 5, 7, 16];
const ALTERNATIVE_MIN_GAIN = 0.97;
/**
 * Below this many bits per value on the screening block, coded (streams under ~200 bytes for its ~32 k values), the
 * block cannot tell the contenders apart, and the whole field's choice is sharp: where the coarse levels' quantization
 * error carried into the fine predictions crosses the bound, most fine codes stop being zero (a 60-level pressure
 * field at rel 1e-2: 2361 bytes with one bound everywhere, 84 with (1.05, 1.5)). There each chunk sizes
 * the cubic interpolation with CONTEST_TUNINGS on itself (ClassicPlan.contest). Over the 39 bench rows under it,
 * these three (alpha 1.05, 1.35, 1.75) gave 1.35 x smaller streams (geometric mean; all 17 tunings of both
 * interpolations 1.40 x, the linear one adding nothing to the three); the cost, a predictor pass and a model sizing
 * each (~12 ms a million values), is paid only there, where encoding runs at ~200 MB/s.
 */
const CONTEST_BITS = 0.05;
/**
 * A Lorenzo winner whose sample has an interpolation within this margin gets it as its alternative (each chunk coded
 * both ways): a sample misjudges the interpolation against Lorenzo (fewer levels, its coarse points a larger share),
 * both ways. Of 103 bench rows of 100 k values or more that Lorenzo won, 25 were this close; the interpolation was
 * smaller on the whole field for 9 of them (up to 25 %: QMCPACK-like orbitals, Miranda-like velocity, a field with
 * its levels stored last), and the 25 rows' streams 3.3 % smaller (geometric mean) for an encoding more each.
 * An interpolation winner gets its other axis order the same way (the reversed one within this margin, or, where the
 * reversed one won by REVERSED_MIN_GAIN, the plain one): of 624 bench rows 94 were this close; 28 coded smaller whole
 * (up to 17.6 %: float64 potentials at rel 1e-4; 9.4 % a CESM-like surface pressure), none larger, for an encoding
 * more on the 94 (their compress ~0.6 x). Sizing both orders on each chunk and coding the leader (a contest) kept 23
 * of the 28, and cost about as much here.
 */
const INTERP_HEDGE_MARGIN = 1.03;
/**
 * A hedged plan's other chunks are coded its own way alone where its probe chunk (hedgeProbe) came out this much
 * larger the alternative's way, else both ways. The hedge doubled etopo5's encoding at every bound and its alternative
 * won none of the 8 chunks at rel 1e-2..1e-4 (the probe chunk 0.4-1.1 % larger). Measured with chunks of 64 k values
 * on the bench fields, the variants and held-out set 1 (45 hedged rows of several chunks): 11 kept the hedge, and the
 * rest coded 0.0016 % larger in all (the largest row 0.23 %); with chunks of 16 k values (40 rows): 16 kept it,
 * 0.0036 % larger. A margin of 0 kept 8 and 10, and lost 0.004 % and 0.011 %.
 */
const HEDGE_PROBE_MARGIN = 1.002;
/** a field that is its own sample, at high ratios: this many of the smallest plans on it are coded (planSteps) */
const SMALL_FIELD_CODED = 3;
const CONTEST_TUNINGS = [15, 11, 5];
/**
 * A chunk whose own coding took more than this many bits a value sizes no contest: the screening block's extreme
 * ratio was not the chunk's (a cloud-ice field's central block of zeros), and there sizing the three tunings on the
 * whole chunk, and coding their leader, took 40-65 % of the chunk's encoding. Over the 35 contest chunks of the bench
 * fields, the variants and held-out sets 1-5 at rel 1e-2..1e-4, the leader was the smallest coding of 6, with the
 * chunk's own coding at 0.006-0.042 bits a value and one at 0.27 (held-out 3's specific humidity at 1e-2, 5 %
 * smaller); of the 9 chunks above 0.4 bits (0.43-0.90), on none.
 */
const CONTEST_CHUNK_MAX_BITS = 0.4;
const INTERP_NAMES: PredictorName[] = ['interp-cubic', 'interp-linear'];
/** dq-lorenzo (rarely better than lorenzo, by a few bytes) is tried on fields up to this size only */
const DQ_TRY_MAX_VALUES = 1 << 18;
/**
 * Samples of at least SCREEN_MIN_VALUES are screened first: every candidate is sized on a block of about
 * SCREEN_VALUES of them (screenBlockRange), and only those within SCREEN_MARGIN of the smallest there, the
 * other family's best (interpolation or Lorenzo) and an interpolation leader's other kind at its dims (survivors), are
 * sized on the whole sample. On the test fields and their
 * packed and rounded variants (123 field x bound rows of 100 k values or more, rel 1e-2..1e-4) two rows change
 * (-0.38 %, +0.25 %), the same bytes in total, and choosing takes 1.3-2.7 times less time.
 */
const SCREEN_VALUES = 1 << 15;
const SCREEN_MIN_VALUES = 3 * SCREEN_VALUES;
const SCREEN_MARGIN = 1.05;
/**
 * The screening leader's other folding (its dims merged or not) goes on to the sample within this margin of it on
 * the block: a block's merged axes are shorter than the field's, so it misjudges foldings more. A held-out ocean
 * temperature (30 x 180 x 360 with NaN land) at rel 1e-2: 2-D folding 5.2 % larger on the block, 16.7 % smaller on
 * the field. Where the block finds it over 10 % larger (COADS SST at rel 1e-2 12 %, Levitus TEMP at 1e-3 19 %) it
 * costs nothing; where within, a sizing on the sample.
 */
const SCREEN_FOLDING_MARGIN = 1.1;
/** dims up to this long stay whole in the screening block (a time or level axis of 4 or 14 says how they relate) */
const SCREEN_WHOLE_DIM = 16;
/** screening blocks below this many bits per value have their leader's tunings sized early (PlanStep 'provisional') */
const LIKELY_TUNED_BITS = 3;

export interface ClassicOptions {
  bound: BoundSpec;
  predictor?: PredictorChoice;
  chunkValues?: number;
  metadata?: StreamMetadata;
  /**
   * 'range' (default, best ratio: per chunk the multi-symbol range coder, or for chunks up to 2^18 codes whichever
   * of it and the binary range coder is smaller), 'ms' (the multi-symbol range coder only), 'huffman',
   * 'auto' (range when zero residuals dominate, else Huffman), 'rans' (static-table rANS wherever it can code a
   * chunk; 'range' picks it only where it is as small, see envelope.ts writeCodes)
   */
  entropy?: 'auto' | 'huffman' | 'range' | 'ms' | 'rans';
  /** the grid the source declares (packing): tried before the one the values show */
  declaredGrid?: Grid;
  /** false: never code on a grid (default: when the sample is smaller for it) */
  grid?: boolean;
  /** 'fast': planned on a small block among a few candidates, each chunk coded one way (fastPlanSteps); default 'best' */
  effort?: Effort;
}

/**
 * How hard a compression looks for its smallest stream: 'best' (where none is given) sizes every predictor, folding, axis
 * order and tuning planning knows, and codes small chunks with each entropy coder; 'fast' chooses among
 * FAST_CANDIDATES on a block of at most FAST_SAMPLE_VALUES and codes each chunk once (about 2.6 x faster on
 * 0.1-1 M-value fields, streams 0.2 % larger in geometric mean; docs/codecs.md); 'auto' (the auto preset's) is
 * 'best' on fields of at most AUTO_BEST_MAX_VALUES values and 'fast' above (effortFor). The decoder reads all the
 * same way.
 */
export type Effort = 'best' | 'fast' | 'auto';

/**
 * Effort 'auto' plans a field of at most this many values (256 KB of float32) with the best effort, where that costs
 * milliseconds, and a larger one with effort fast. On the 2517 codings of the sizes set (session 52), fast's streams
 * were 0.2 % smaller than the best effort's below 10^4 values, 0.2 % larger at 10^4-3.3 x 10^4, 1.1-1.5 % larger
 * at 3.3 x 10^4-1.3 x 10^5 and 0.4-0.9 % above, while the best effort's planning took 12 ms a field at 3.3 x
 * 10^4-6.6 x 10^4 values (fast 5), 31 at 6.6 x 10^4-1.3 x 10^5 (14) and 42-92 above (21-67): compression at a third
 * of SZ3's speed on the visible set's fields of 0.2-1.3 M values, fast's level with it.
 */
export const AUTO_BEST_MAX_VALUES = 1 << 16;

/** The effort a field of `values` values is planned with ('auto' resolved by its size). */
export function effortFor(effort: Effort | undefined, values: number): 'best' | 'fast' {
  if (effort === 'auto') return values > AUTO_BEST_MAX_VALUES ? 'fast' : 'best';
  return effort ?? 'best';
}

/** Everything a chunk encoder needs; plain data (crosses worker boundaries). */
export interface ClassicPlan {
  dtype: 'float32' | 'float64';
  shape: number[];
  bound: ResolvedBound;
  validMin: number;
  validMax: number;
  validCount: number;
  predictor: PredictorName;
  predictorChoice: PredictorChoice;
  /** sizes (estimated stored bytes) per candidate when auto chose */
  autoScores?: Record<string, number>;
  /** sizes on the blocks spread over a large field (spreadBlockRanges; a smaller scale than autoScores'): the plan's codings and the others */
  spreadScores?: Record<string, number>;
  chunkRows: number[];
  hasMask: boolean;
  fillValue: number | null;
  /** the mask marks the points holding fillValue, a value the field does not declare a fill (implicitFillOf) */
  implicitFill?: true;
  backendId: number;
  radius: number;
  /** predictors see the chunk folded to at most this many dims (leading dims merged) */
  maxDims: number;
  /** when auto sized interpolation off the grid: the maxDims of its smallest such candidate (the cross-field codec's) */
  interpMaxDims?: number;
  /** interpolation predictors: index into INTERP_TUNINGS (level-dependent bounds), 0 = none; format v2 */
  tune?: number;
  /**
   * interpolation predictors: the passes' dimension order reversed (fastest dimension first; predictors/axes.ts),
   * where the chunk has two dimensions longer than one; bit REVERSED_AXES of the chunk's interpolation byte
   */
  reversedAxes?: boolean;
  /**
   * at high ratios, where the sample coded says another predictor, tuning or axis order than its model's sizes did:
   * each chunk is coded both ways and keeps the smaller (a chunk names its own predictor and tuning). A sample
   * misjudges there (most bytes go to the coarse levels and the per-pass models, which do not scale with its size)
   */
  alternative?: PlanAlternative;
  /**
   * the alternative is a hedge (INTERP_HEDGE_MARGIN: the sample could hardly tell it from the plan's own coding), so a
   * probe chunk decides whether the others are coded both ways (hedgeProbe)
   */
  hedged?: true;
  /**
   * at extreme ratios (CONTEST_BITS), codings each chunk sizes on itself (the coders' model, as planning sizes): the
   * smallest there is coded too, and the chunk keeps the smallest of it, the plan's and the alternative's
   */
  contest?: PlanAlternative[];
  /** entropy coder of the quantization codes: auto = range coder when zero residuals dominate */
  entropy?: 'auto' | 'huffman' | 'range' | 'ms' | 'rans';
  /** values already on a grid (packed, rounded): grid indices are predicted and quantized instead (grid.ts) */
  grid?: GridPlan;
  /** 'fast': each chunk's codes take the coder their statistics pick, no other tried (writeCodes' oneCoder) */
  effort?: 'fast';
  /**
   * effort fast: the chunks also try their codes Huffman-coded through the lossless stage, as the best effort's do,
   * where the plan's block said that pays (huffmanPaysOn)
   */
  huffmanTry?: true;
}

/** What a plan's alternative changes. */
export type PlanAlternative = Pick<ClassicPlan, 'predictor' | 'maxDims' | 'tune' | 'reversedAxes'>;

export interface EncodedChunk {
  stored: Uint8Array;
  /** stored without the lossless backend (it did not shrink the payload) */
  raw?: boolean;
  rawBytes: number;
  crc: number;
  escapes: number;
  /** every coded point of the chunk holds one value (CONSTANT_PREDICTOR_ID) */
  constant?: true;
  /** coded as its distinct rows and where each row comes from (REPEATED_ROWS_ID) */
  repeatedRows?: true;
  /** coded off the plan's grid, too many of its points being off it (offGridChecked) */
  offGrid?: true;
  /** the coding the chunk took where not the plan's own (its alternative or a contest's) */
  coding?: PlanAlternative;
  /** coded exactly under a lossy bound, where that was smaller than its codes (settleChunk) */
  exact?: true;
  /** this coding took EXACT_TRY_SHARE of its values' bytes or more: the chunk coded exactly, for settleChunk to weigh */
  exactCoded?: EncodedChunk;
}

// ---------------------------------------------------------------- planning

export function chunkRowsFor(shape: number[], chunkValues = DEFAULT_CHUNK_VALUES): number[] {
  const n0 = shape[0]!;
  const rowSize = fieldSize(shape) / n0;
  const per = Math.max(1, Math.floor(chunkValues / Math.max(1, rowSize)));
  let nChunks = Math.max(1, Math.ceil(n0 / per));
  // several chunks: a multiple of 4, so 2 or 4 workers get equal shares (still from the shape only)
  if (nChunks > 2) nChunks = Math.min(n0, Math.ceil(nChunks / 4) * 4);
  const base = Math.floor(n0 / nChunks);
  const extra = n0 - base * nChunks;
  const rows: number[] = [];
  for (let i = 0; i < nChunks; i++) rows.push(base + (i < extra ? 1 : 0));
  return rows;
}

/**
 * Most values of a chunk joined from chunks that repeat the row before them (joinRepeatingChunks): twice the chunk size
 * asked for, and no more than the WebAssembly kernels code (KERNEL_MAX_CODES; past it the TypeScript path ran, a static
 * float64 field of 64 x 1024 x 1024 coded in 4.9 s instead of 2.0).
 */
const joinedChunkValues = (chunkValues = DEFAULT_CHUNK_VALUES) => Math.min(KERNEL_MAX_CODES, 2 * chunkValues);

/**
 * The chunks' rows (chunkRowsFor) with each chunk whose rows all repeat the row before it (a static map over time
 * steps: WRF's HGT or XLAT in a file of many times) joined to the chunk before, up to joinedChunkValues:
 * interpolation along dim 0 then codes the repeats for almost nothing, where a chunk of its own coded the map again.
 * `repeatsPrevious[j]`: every row of chunk j equals the last row of chunk j - 1 (everyRowEquals), from the values in
 * memory or, streamed, from the slabs as they are read; chunks otherwise stay as the shape gives them.
 */
export function joinRepeatingChunks(chunkRows: readonly number[], repeatsPrevious: readonly boolean[], rowSize: number, chunkValues?: number): number[] {
  const most = joinedChunkValues(chunkValues);
  const out: number[] = [];
  chunkRows.forEach((rows, j) => {
    const last = out.length - 1;
    if (j > 0 && repeatsPrevious[j] && (out[last]! + rows) * rowSize <= most) out[last] = out[last]! + rows;
    else out.push(rows);
  });
  return out;
}

/** Which chunks of a field in memory repeat the row before them (joinRepeatingChunks). */
function chunksRepeatingPrevious(chunkRows: readonly number[], field: Pick<Field, 'values' | 'shape' | 'mask'>): boolean[] {
  const rowSize = fieldSize(field.shape) / field.shape[0]!;
  const mask = field.mask ?? null;
  let r0 = 0;
  return chunkRows.map((rows, j) => {
    const a = r0 * rowSize;
    r0 += rows;
    if (j === 0) return false;
    const b = a + rows * rowSize;
    return everyRowEquals(field.values.subarray(a, b), mask?.subarray(a, b) ?? null, rowSize, field.values.subarray(a - rowSize, a), mask?.subarray(a - rowSize, a) ?? null);
  });
}

/** Drops size-1 dims and folds leading dims so predictors see 1..4 dims. */
export function predictorShape(shape: number[], maxDims = 4): number[] {
  const s = shape.filter((d) => d !== 1);
  if (s.length === 0) return [1];
  while (s.length > Math.max(1, Math.min(4, maxDims))) s.splice(0, 2, s[0]! * s[1]!);
  return s;
}

function checkField(field: Pick<Field, 'values' | 'shape' | 'mask'>): void {
  const n = fieldSize(field.shape);
  if (!field.shape.length || field.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new FieldpackError('INVALID_ARGUMENT', `bad shape [${field.shape.join(', ')}]`);
  }
  if (!(field.values instanceof Float32Array || field.values instanceof Float64Array)) {
    throw new FieldpackError('INVALID_ARGUMENT', 'values must be a Float32Array or Float64Array');
  }
  if (field.values.length !== n) throw new FieldpackError('INVALID_ARGUMENT', `values has ${field.values.length} elements, shape needs ${n}`);
  if (field.mask && field.mask.length !== n) throw new FieldpackError('INVALID_ARGUMENT', `mask has ${field.mask.length} elements, shape needs ${n}`);
}

/** What planning needs of the whole field; slabs of rows merge (mergeStats) for bounded-memory encoding. */
export interface FieldStats {
  /** valid range of the finite valid values (0, 0 when there are none) and their count */
  min: number;
  max: number;
  count: number;
  /** some point is masked; the fill value is the value at the first masked point */
  hasMask: boolean;
  fillValue: number | null;
}

export function fieldStats(values: FieldValues, mask: Uint8Array | null | undefined): FieldStats {
  let first = -1;
  if (mask) for (let i = 0; i < mask.length; i++) if (mask[i] === 0) { first = i; break; }
  const vr = validRange(values, first >= 0 ? mask : null);
  return { ...vr, hasMask: first >= 0, fillValue: first >= 0 ? values[first]! : null };
}

/** Stats of rows a then rows b (in that order: the first masked point decides the fill value). */
export function mergeStats(a: FieldStats, b: FieldStats): FieldStats {
  const range = !a.count ? b : !b.count ? a : { min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
  return { min: range.min, max: range.max, count: a.count + b.count, hasMask: a.hasMask || b.hasMask, fillValue: a.hasMask ? a.fillValue : b.fillValue };
}

/**
 * An undeclared fill is coded as a mask where that is this much smaller on the planning blocks: its points then cost
 * the mask's bits, where each coast or edge they make otherwise costs large codes and disturbs the predictions around
 * it (COADS SST with land as -9999: 2.9-4.8 x smaller at rel 1e-2 to 1e-4; the zeros of cloud water 1.1-1.3 x). A
 * masked chunk loses the line-context coders, so both ways are coded, not modelled: the model favoured the mask by up
 * to 20 % on sparse fields (sea ice at 0 and 100 %, 1.5 % larger whole)
 */
const IMPLICIT_FILL_MIN_GAIN = 0.97;
/** ... and where the field's smallest or largest value is held by at least this share of the blocks' points (and 2) */
const IMPLICIT_FILL_MIN_SHARE = 0.001;
/**
 * ... and, on fewer than this share, lies apart from the other values by IMPLICIT_FILL_MIN_GAP of the range. An edge
 * of the grid holds a coordinate's or a smooth field's extreme on one row (POP's latitudes: 0.26 % of the points,
 * next to the row beside them): sizing it as a fill took 40 % of that field's compression, and never won. A fill
 * apart from the data (land as -9999, 0 beside salinities, open water beside sea ice from 15 %) is sized at any share.
 */
const IMPLICIT_FILL_SURE_SHARE = 0.01;
const IMPLICIT_FILL_MIN_GAP = 0.05;

/**
 * 0 where the value is `fill` (the same float: -0 is not 0; for NaN, the NaN decoding writes, bit for bit: other NaNs
 * stay in the exact-value list), 1 elsewhere: an implicit fill's mask.
 */
export function fillMask(values: FieldValues, fill: number): Uint8Array {
  const m = new Uint8Array(values.length);
  if (fill !== fill) {
    const nan = canonicalNaN(values);
    const words = nan.length;
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length * words);
    for (let i = 0; i < values.length; i++) m[i] = bits[i * words] === nan[0] && (words === 1 || bits[i * words + 1] === nan[1]) ? 0 : 1;
    return m;
  }
  const negZero = fill === 0 && 1 / fill < 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    m[i] = v === fill && (fill !== 0 || (1 / v < 0) === negZero) ? 0 : 1;
  }
  return m;
}

/** The 32-bit words of the NaN a float array of `values`' kind holds once JavaScript writes NaN into it (finishChunk). */
function canonicalNaN(values: FieldValues): Uint32Array {
  const one = values instanceof Float32Array ? new Float32Array([NaN]) : new Float64Array([NaN]);
  return new Uint32Array(one.buffer);
}

/** A chunk's mask to code: the field's, or where the plan codes an implicit fill, its points' (fillMask); else none. */
export function chunkMask(plan: Pick<ClassicPlan, 'hasMask' | 'implicitFill' | 'fillValue'>, values: FieldValues, mask: Uint8Array | null | undefined): Uint8Array | null {
  if (plan.implicitFill) return fillMask(values, plan.fillValue!);
  return plan.hasMask && mask ? mask : null;
}

/**
 * The field's smallest and largest values, and NaN, where enough of the blocks' points hold them
 * (IMPLICIT_FILL_MIN_SHARE): candidates for an implicit fill, with the share of the points each holds. A field with a
 * mask has its fill already. `stride`: every stride-th value of each block counted (NaN's points scaled to them).
 */
export function implicitFillCandidates(stats: FieldStats, size: number, blocks: readonly PlanSample[], stride = 1): { fill: number; share: number }[] {
  if (stats.hasMask) return [];
  const n = blocks.reduce((a, b) => a + Math.ceil(b.values.length / stride), 0);
  const least = Math.max(2, IMPLICIT_FILL_MIN_SHARE * n);
  // the points at each extreme, of those the negative zeros, and the values next to the extremes, in one pass
  const { min, max } = stats;
  let atMin = 0;
  let atMax = 0;
  let negativeZeros = 0;
  let aboveMin = max;
  let belowMax = min;
  for (const b of blocks) {
    for (let i = 0; i < b.values.length; i += stride) {
      const v = b.values[i]!;
      if (v === min) atMin++;
      else if (v === max) atMax++;
      else {
        if (v < aboveMin) aboveMin = v;
        if (v > belowMax) belowMax = v;
        continue;
      }
      if (v === 0 && 1 / v < 0) negativeZeros++;
    }
  }
  // a zero's sign as most of its points hold it (the mask marks that float alone; the other zeros are coded)
  const signed = (x: number, count: number) => (x === 0 ? (2 * negativeZeros > count ? -0 : 0) : x);
  const likely = (count: number, gap: number) => count >= least && (count >= IMPLICIT_FILL_SURE_SHARE * n || gap >= IMPLICIT_FILL_MIN_GAP * (max - min));
  // (one value is not a fill of others)
  const extremes = max > min ? [{ fill: signed(min, atMin), count: atMin, gap: aboveMin - min }, { fill: signed(max, atMax), count: atMax, gap: max - belowMax }] : [];
  // (a field without NaN or infinities has all its values in the range's count)
  const nan = stats.count < size ? nanCount(blocks) / stride : 0;
  return [...extremes.filter((c) => likely(c.count, c.gap)), ...(nan >= least ? [{ fill: NaN, count: nan }] : [])].map((c) => ({ fill: c.fill, share: c.count / n }));
}

/** The blocks' points holding the NaN decoding writes (fillMask's): land as NaN in a file that declares no fill. */
function nanCount(blocks: readonly PlanSample[]): number {
  let count = 0;
  for (const b of blocks) {
    // most fields have none: the mask is made only where a NaN is there at all
    const v = b.values;
    let any = false;
    for (let i = 0; i < v.length && !any; i++) any = v[i] !== v[i];
    if (!any) continue;
    const m = fillMask(v, NaN);
    for (let i = 0; i < m.length; i++) count += 1 - m[i]!;
  }
  return count;
}

/**
 * NaN on this share of the blocks' points is coded as a mask without sizing it the other way: in the exact-value list
 * each costs 5 bytes or more (2 bits a value here), the mask a fraction of a bit. Sizing that way, its lists made point
 * by point, took 40 % of a compression (COADS SST with NaN land, 46 % of the points: 97 -> 57 ms)
 */
const NAN_MASK_SURE_SHARE = 0.05;

/** The sample with the points that hold `fill` masked (fillMask). */
function withFillMask(sample: PlanSample, fill: number): PlanSample {
  return { ...sample, mask: fillMask(sample.values, fill) };
}

/** The planning sample's budget for a field of n values. */
export function sampleBudget(n: number): number {
  return n > LARGE_FIELD_VALUES ? SAMPLE_VALUES >> 1 : SAMPLE_VALUES;
}

/** The plan of a field, planned in this thread (planCompressionSteps for a caller that takes part). */
export function planCompression(field: Pick<Field, 'values' | 'shape' | 'mask'>, opts: ClassicOptions, backend: LosslessBackend): ClassicPlan {
  return runPlanSteps(planCompressionSteps(field, opts, backend));
}

/** planCompression's steps (planSteps), for a caller that acts at them (an encoder with a free worker). */
export function planCompressionSteps(field: Pick<Field, 'values' | 'shape' | 'mask'>, opts: ClassicOptions, backend: LosslessBackend): PlanSteps {
  checkField(field);
  const { values, shape } = field;
  const stats = fieldStats(values, field.mask);
  const mask = stats.hasMask ? field.mask! : null;
  const dtype = values instanceof Float32Array ? 'float32' : 'float64';
  const sampleOf = () => sampleBlock(values, mask, shape, sampleBudget(values.length));
  const spreadOf = () => spreadBlockRanges(shape).map((b) => cropBlock(values, mask, shape, b.start, b.size));
  return withRepeatingChunksJoined(planSteps(stats, shape, dtype, sampleOf, opts, backend, spreadOf), field, opts.chunkValues);
}

/** A plan's steps, its chunks joined where they repeat the row before them (joinRepeatingChunks). */
function* withRepeatingChunksJoined(steps: PlanSteps, field: Pick<Field, 'values' | 'shape' | 'mask'>, chunkValues: number | undefined): PlanSteps {
  const plan = yield* steps;
  if (plan.chunkRows.length < 2) return plan;
  const rowSize = fieldSize(field.shape) / field.shape[0]!;
  return { ...plan, chunkRows: joinRepeatingChunks(plan.chunkRows, chunksRepeatingPrevious(plan.chunkRows, field), rowSize, chunkValues) };
}

/**
 * The reversed axis order is kept where the sample is this much smaller with it than with the best plan: on the bench
 * and held-out fields, gains under 2 % on the sample were whole-field losses as often as gains (up to +2.5 %).
 */
const REVERSED_MIN_GAIN = 0.98;
/**
 * Where the screening block finds the reversed order this much larger at every folding's best interpolation, the
 * sample does not size it (about 10 % of planning an ordinary field at rel 1e-2). Both ways lose somewhere: of the
 * 1296 hashed streams of session 44, sizing it anyway changes 6, WRF QRAIN at rel 1e-2 13 % smaller (its storm
 * centre misjudges the order), a held-out trend at 1e-3 with 64 k-value chunks 3 times larger.
 */
const REVERSED_SKIP_LOSS = 1.1;

/** Whether two plans of one field code it the same way (the same predictor, dims, grid, tuning and axis order). */
export function samePlan(a: ClassicPlan, b: ClassicPlan): boolean {
  const sameList = (x: PlanAlternative[] = [], y: PlanAlternative[] = []) => x.length === y.length && x.every((c, i) => sameCoding(c, y[i]!));
  return sameCoding(a, b) && a.grid === b.grid && sameList(a.alternative && [a.alternative], b.alternative && [b.alternative]) && sameList(a.contest, b.contest);
}

function sameCoding(a: PlanAlternative, b: PlanAlternative): boolean {
  return a.predictor === b.predictor && a.maxDims === b.maxDims && (a.tune ?? 0) === (b.tune ?? 0) && !a.reversedAxes === !b.reversedAxes;
}

/**
 * The plan from the whole field's stats and a sample of it (planSteps' arguments; the central block: `sampleOf` is
 * called only when the predictor or the grid is to be chosen), planned in this thread. planCompression and the
 * bounded-memory encoder both come to planSteps, so their streams are the same bytes.
 */
export function planFromStats(...args: Parameters<typeof planSteps>): ClassicPlan {
  return runPlanSteps(planSteps(...args));
}

/** A planning sample: a block of the field (its values, mask and shape). */
export type PlanSample = { values: FieldValues; mask: Uint8Array | null; shape: number[] };

/**
 * Where planning lets its caller act. 'provisional': screening has a leader (`plan`), before the survivors are sized
 * on the whole sample, and `tuningsLikely` where the block's sizes say its level-dependent bounds will be tried (an
 * interpolation at few bits per value). 'size': `plans` are to be sized on `sample` (PlanBatch: the candidates on the
 * screening block, the survivors, the winner's tunings); the caller answers with their sizes, in order, each what
 * `sizeHere` gives (sizePlans of `base` and that sample gives the same numbers elsewhere: a worker's share), or with
 * nothing to have planning size them here.
 */
export type PlanStep =
  | { kind: 'provisional'; plan: ClassicPlan; tuningsLikely: boolean }
  | { kind: 'size'; of: PlanBatch; base: ClassicPlan; plans: ClassicPlan[]; sample: PlanSample; sizeHere: (plan: ClassicPlan) => number };
/**
 * the batches planning sizes: every candidate on the screening block, the survivors, the best interpolation's other
 * axis order and the winner's tunings on the sample; at high ratios the interpolations' tunings and the winner, coded
 * (and coded too, first, the undeclared-fill test's two ways on each block, with and without each candidate's mask);
 * the plan and the other predictors and foldings on each block spread over a large field (spreadBlockRanges), and
 * where those leave the plan's grid and screening kept no candidate off it, those candidates on the sample; effort
 * 'fast': its candidates and the winner's tuning on its block (fastPlanSteps)
 */
export type PlanBatch = 'screening' | 'survivors' | 'reversed' | 'tunings' | 'coded' | 'spread' | 'off-grid' | 'fast';
export type PlanSteps = Generator<PlanStep, ClassicPlan, readonly number[] | undefined>;

/**
 * A 'size' step of planning: the plans' sizes on `sample`, the caller's answer where it gave one (a worker's share:
 * sizePlans of `base` gives the same numbers), else sized here.
 */
function* sizedStep(of: PlanBatch, base: ClassicPlan, plans: ClassicPlan[], sample: PlanSample, sizeHere: (p: ClassicPlan) => number): Generator<PlanStep, number[], readonly number[] | undefined> {
  const given = yield { kind: 'size', of, base: { ...base }, plans, sample, sizeHere };
  return given?.length === plans.length ? [...given] : plans.map(sizeHere);
}

/** The plans' sizes summed over blocks, each block a size step of its own (sizedStep: a worker's share where one is free). */
function* sizedOnBlocks(
  of: PlanBatch, base: ClassicPlan, plans: ClassicPlan[], blocks: readonly PlanSample[], sizerOf: (b: PlanSample) => (p: ClassicPlan) => number,
): Generator<PlanStep, number[], readonly number[] | undefined> {
  const totals = plans.map(() => 0);
  for (const b of blocks) (yield* sizedStep(of, base, plans, b, sizerOf(b))).forEach((size, i) => (totals[i]! += size));
  return totals;
}

/** Runs planning's steps in this thread, sizing every batch here: the plan. */
function runPlanSteps(steps: PlanSteps): ClassicPlan {
  for (let r = steps.next(); ; ) {
    if (r.done) return r.value;
    const s = r.value;
    r = steps.next(s.kind === 'size' ? s.plans.map(s.sizeHere) : undefined);
  }
}

/** Candidate plans sized on a sample as planning sizes them (`base`: the plan planning sizes from; a worker's share). */
export function sizePlans(base: ClassicPlan, sample: PlanSample, plans: readonly ClassicPlan[], backend: LosslessBackend, batch?: PlanBatch): number[] {
  return plans.map(batch === 'coded' ? codedSizer(base, sample, backend) : candidateSizer(base, sample, backend, sizedWithLines(batch)));
}

/**
 * Whether a batch's candidates are costed with the line context (candidateSizer): all but the screening block's,
 * which ranks with coder 2's model (with the line context it let a storm's centre, WRF QRAIN at rel 1e-2, drop the
 * 3-D Lorenzo that codes the whole field 14 % smaller). One rule for planSteps and a worker's sizePlans, so both give
 * the same sizes.
 */
function sizedWithLines(batch: PlanBatch | undefined): boolean {
  return batch !== 'screening';
}

/** planFromStats's work, as steps (PlanStep). */
export function* planSteps(
  stats: FieldStats,
  shape: number[],
  dtype: 'float32' | 'float64',
  sampleOf: () => PlanSample,
  opts: ClassicOptions,
  backend: LosslessBackend,
  spreadOf?: () => PlanSample[],
): PlanSteps {
  const bound = resolveBound(opts.bound, stats.max - stats.min, stats.count);
  const plan: ClassicPlan = {
    dtype,
    shape: [...shape],
    bound,
    validMin: stats.min,
    validMax: stats.max,
    validCount: stats.count,
    predictor: 'lorenzo',
    predictorChoice: opts.predictor ?? 'auto',
    chunkRows: chunkRowsFor(shape, opts.chunkValues),
    hasMask: stats.hasMask,
    fillValue: stats.fillValue,
    backendId: backend.id,
    radius: DEFAULT_RADIUS,
    maxDims: 4,
    entropy: opts.entropy ?? 'range',
  };
  if (plan.predictorChoice !== 'auto') plan.predictor = predictorByName(plan.predictorChoice).name;
  const large = fieldSize(shape) > LARGE_FIELD_VALUES;
  const needSample = plan.predictorChoice === 'auto' || opts.grid !== false;
  let sample = needSample ? sampleOf() : null;
  // the blocks spread over a large field (spreadOf), cropped once
  let spreadRead: PlanSample[] | null = null;
  const spreadBlocks = () => (spreadRead ??= spreadOf ? spreadOf() : []);
  // effort fast's fill test where it was this one's (the whole sample, no spread blocks): not run twice where fast
  // hands a high-ratio field over (WRF's base-state geopotential, zeros on its lowest level: 14 ms of 64)
  const fillTested: FillTested = {};
  if (effortFor(opts.effort, fieldSize(shape)) === 'fast' && !bound.lossless) {
    const fast = yield* fastPlanSteps({ ...plan }, stats, sample, opts, backend, spreadBlocks, fillTested);
    if (fast) return fast;
  }
  // an undeclared fill (the field's smallest or largest value, on many points) coded as a mask where the blocks code
  // smaller so: the range, and with it a relative bound, stays the field's as given
  const fill = !sample || bound.lossless ? null : 'fill' in fillTested ? fillTested.fill! : yield* implicitFillOf(plan, stats, sample, plan.predictorChoice === 'auto' ? spreadBlocks() : [], backend);
  if (fill !== null) {
    Object.assign(plan, { hasMask: true, fillValue: fill, implicitFill: true });
    sample = withFillMask(sample!, fill);
  }
  // already on a grid (packed, rounded; bit-rounded float32)? then the sample decides between coding the indices on
  // each grid and the values
  const gridPlans = sample && opts.grid !== false ? gridsOf(sample, stats, bound.abs, plan.dtype, opts.declaredGrid) : [];
  if ((bound.lossless || plan.predictorChoice !== 'auto') && !gridPlans.length) return plan;
  const sizeOf = candidateSizer(plan, sample!, backend);
  const screenBlock = sample!.values.length >= SCREEN_MIN_VALUES ? screenBlockRange(sample!.shape, SCREEN_VALUES) : null;
  const block = screenBlock ? cropBlock(sample!.values, sample!.mask, sample!.shape, screenBlock.start, screenBlock.size) : null;
  const screenValues = screenBlock ? fieldSize(screenBlock.size) : 0;
  const scores: Record<string, number> = {};
  let best = Infinity;
  const k = predictorShape(shape).length;
  const grids = bound.lossless && gridPlans.length ? gridPlans : [undefined, ...gridPlans];
  const names = plan.predictorChoice === 'auto' ? AUTO_CANDIDATES : [plan.predictor];
  const candidates: { key: string; plan: ClassicPlan }[] = [];
  for (const grid of grids) {
    for (const name of names) {
      if (name === 'dq-lorenzo' && (fieldSize(shape) > DQ_TRY_MAX_VALUES || grid)) continue;
      for (const maxDims of plan.predictorChoice !== 'auto' ? [plan.maxDims] : name === 'dq-lorenzo' || k < 3 ? [k] : [k, k - 1]) {
        const key = `${maxDims === k || plan.predictorChoice !== 'auto' ? name : `${name}/${maxDims}d`}${gridKey(grid)}`;
        candidates.push({ key, plan: { ...plan, predictor: name, maxDims, grid } });
      }
    }
  }
  let bestInterp = Infinity;
  /** the sizes of plans on a sample: the caller's (made here or elsewhere, the same numbers), else made here */
  const sized = (of: PlanBatch, plans: ClassicPlan[], on: PlanSample, sizeHere: (p: ClassicPlan) => number) => sizedStep(of, plan, plans, on, sizeHere);
  // the block sizes the reversed axis order (fastest dimension first) of its best interpolation at each folding, and
  // where one is smaller so, of every interpolation, so the sample sizes each kind and folding the block finds close
  // that way: levels or time stored last (WRF temperature with its 4 steps fastest at rel 1e-2: reversed with 3-D
  // folding 8.0 KB, the 4-D leader reversed 15.2 KB); elsewhere it costs a sizing on the block a folding, and saves
  // the sample's sizing of the reversed order where the block finds it clearly larger (REVERSED_SKIP_LOSS)
  const reversedTwins = function* (plain: { key: string; plan: ClassicPlan }[], plainSizes: readonly number[]): Generator<PlanStep, { plans: { key: string; plan: ClassicPlan }[]; sizes: number[]; reversedClearlyWorse: boolean } | null, readonly number[] | undefined> {
    const reversible = plain.flatMap((c, i) => (c.plan.predictor.startsWith('interp') && axesReversible(predictorShape(shape, c.plan.maxDims)) ? [i] : []));
    if (!reversible.length) return null;
    const twinOf = (i: number) => ({ key: `${plain[i]!.key}/reversed`, plan: { ...plain[i]!.plan, reversedAxes: true } });
    const leads = [...new Set(reversible.map((i) => plain[i]!.plan.maxDims))].map((dims) => reversible.filter((i) => plain[i]!.plan.maxDims === dims).reduce((a, i) => (plainSizes[i]! < plainSizes[a]! ? i : a)));
    const plans = leads.map(twinOf);
    const sizes = yield* sized('screening', plans.map((c) => c.plan), block!, blockSizer!);
    if (leads.some((i, j) => sizes[j]! < REVERSED_MIN_GAIN * plainSizes[i]!)) {
      const rest = reversible.filter((i) => !leads.includes(i)).map(twinOf);
      plans.push(...rest);
      sizes.push(...(yield* sized('screening', rest.map((c) => c.plan), block!, blockSizer!)));
    }
    return { plans, sizes, reversedClearlyWorse: leads.every((i, j) => sizes[j]! > REVERSED_SKIP_LOSS * plainSizes[i]!) };
  };
  const blockSizer = block ? candidateSizer(plan, block, backend, sizedWithLines('screening')) : null;
  const screenSizes = block && candidates.length >= 2 ? yield* sized('screening', candidates.map((c) => c.plan), block, blockSizer!) : null;
  const twins = screenSizes && !bound.lossless && plan.predictorChoice === 'auto' ? yield* reversedTwins(candidates, screenSizes) : null;
  const screened = twins ? [...candidates, ...twins.plans] : candidates;
  const screenedSizes = twins ? [...screenSizes!, ...twins.sizes] : screenSizes;
  const { kept, leader, leastOnBlock } = survivors(screened, screenedSizes);
  const tunings = plan.predictorChoice === 'auto' ? (large ? AUTO_TUNINGS_LARGE : AUTO_TUNINGS) : [];
  if (leader) {
    const provisional = { ...plan, predictor: leader.plan.predictor, maxDims: leader.plan.maxDims, grid: leader.plan.grid, reversedAxes: leader.plan.reversedAxes };
    // the tunings' gate below (2 bits per value) on the screening block's size, with room: the block's bits per
    // value run above the whole sample's (its coarse levels' share is larger)
    const tuningsLikely = provisional.predictor.startsWith('interp') && provisional.grid?.half !== 0 && tunings.length > 0 && leastOnBlock * 8 < LIKELY_TUNED_BITS * screenValues;
    yield { kind: 'provisional', plan: provisional, tuningsLikely };
  }
  const keptSizes = yield* sized('survivors', kept.map((c) => c.plan), sample!, sizeOf);
  let interpLeader: { key: string; plan: ClassicPlan; size: number } | null = null;
  // every plan sized on the sample (a Lorenzo winner's alternative, INTERP_HEDGE_MARGIN; a small field's coded choice)
  const onSample: { plan: ClassicPlan; size: number }[] = [];
  const keep = (c: { key: string; plan: ClassicPlan }, size: number) => {
    scores[c.key] = size;
    onSample.push({ plan: c.plan, size });
    if (c.plan.predictor.startsWith('interp') && !c.plan.reversedAxes && size < (interpLeader?.size ?? Infinity)) interpLeader = { ...c, size };
    if (c.plan.predictor.startsWith('interp') && !c.plan.grid && !c.plan.reversedAxes && size < bestInterp) {
      bestInterp = size;
      plan.interpMaxDims = c.plan.maxDims;
    }
    if (size < best) {
      best = size;
      plan.predictor = c.plan.predictor;
      plan.maxDims = c.plan.maxDims;
      plan.grid = c.plan.grid;
      plan.reversedAxes = c.plan.reversedAxes;
    }
  };
  kept.forEach((c, i) => c.plan.reversedAxes || keep(c, keptSizes[i]!));
  // a reversed axis order is taken by a margin over the plain plans (as SZ3 takes its second direction): a sample a
  // little smaller reversed was as often larger whole
  const plainBest = best;
  const keepReversed = (c: { key: string; plan: ClassicPlan }, size: number) => {
    if (size < REVERSED_MIN_GAIN * plainBest) keep(c, size);
    else {
      scores[c.key] = size;
      onSample.push({ plan: c.plan, size });
    }
  };
  kept.forEach((c, i) => c.plan.reversedAxes && keepReversed(c, keptSizes[i]!));
  const sizedOnSample = (p: ClassicPlan) => onSample.some((c) => samePlan(c.plan, p));
  // the best interpolation the other way round (fastest dimension first), as SZ3 tries its second direction: it wins
  // where the fastest dimension varies least smoothly (levels stored last), by up to 4 x, whichever family led
  const bestInterpPlan = interpLeader as { key: string; plan: ClassicPlan; size: number } | null;
  if (bestInterpPlan && !bound.lossless && axesReversible(predictorShape(shape, bestInterpPlan.plan.maxDims))) {
    const other = { key: `${bestInterpPlan.key}/reversed`, plan: { ...bestInterpPlan.plan, reversedAxes: true } };
    if (!sizedOnSample(other.plan) && !twins?.reversedClearlyWorse) keepReversed(other, (yield* sized('reversed', [other.plan], sample!, sizeOf))[0]!);
    // reversed, the passes meet the axes in another order, and the kinds' ranking can flip (Levitus temperature
    // with depth fastest, rel 1e-2: cubic led forward, the linear one reversed coded 20 % smaller than it)
    const kind = INTERP_NAMES.find((name) => name !== other.plan.predictor)!;
    const otherKind = { key: other.key.replace(other.plan.predictor, kind), plan: { ...other.plan, predictor: kind } };
    if (plan.reversedAxes && !sizedOnSample(otherKind.plan)) keepReversed(otherKind, (yield* sized('reversed', [otherKind.plan], sample!, sizeOf))[0]!);
  }
  if (bound.lossless) {
    // indices on the grid against the values' byte planes
    if (sizeOf({ ...plan, grid: undefined }) <= best) plan.grid = undefined;
    if (!plan.grid) {
      // byte planes: no predictor, so none of its settings in the header (a grid candidate's folded dims were 3 bytes)
      plan.predictor = 'lorenzo';
      plan.maxDims = 4;
      plan.reversedAxes = undefined;
    }
  }
  // level-dependent bounds pay at large bounds (mostly zero codes); below ~2 bits per value they do not. On a grid
  // coded exactly (half-width 0) every level's width stays one index (GridQuantizer.setFactor): a tuning would give
  // the same codes and a byte more, so none is sized (packed and rounded fields at small bounds, categorical fields)
  const tuningsChangeCodes = plan.grid?.half !== 0;
  if (tunings.length && tuningsChangeCodes && plan.predictor.startsWith('interp') && best * 8 < 2 * sample!.values.length) {
    // not screened: a smaller block has fewer levels, so it misjudges level-dependent bounds
    const tuningSizes = yield* sized('tunings', tunings.map((tune) => ({ ...plan, tune })), sample!, sizeOf);
    tunings.forEach((tune, i) => {
      const size = tuningSizes[i]!;
      scores[tunedKey({ ...plan, tune }, k)] = size;
      onSample.push({ plan: { ...plan, tune }, size });
      if (size < best) {
        best = size;
        plan.tune = tune;
      }
    });
  }
  // high ratios: coder 2's model, which sizes every candidate above, misjudges sparse codes (most of them zero, the
  // rest along the lines the line-context coders follow) by up to 2 x, and the level-dependent bounds that pay most
  // there were sized for an interpolation winner alone: the interpolations with their tunings, coded, against it.
  // A block misjudges them too (most bytes go to the coarse levels and per-pass models, which do not scale with
  // it): the one it finds smallest becomes the plan's alternative, and each chunk is coded both ways
  if (plan.predictorChoice === 'auto' && !bound.lossless && block && best * 8 < HIGH_RATIO_BITS * sample!.values.length) {
    // an interpolation winner's dims and axis order, else the best interpolation's dims
    const interpWon = plan.predictor.startsWith('interp');
    const dims = interpWon ? plan.maxDims : (plan.interpMaxDims ?? plan.maxDims);
    const reversedAxes = interpWon ? plan.reversedAxes : undefined;
    const tuned = tunings.length && tuningsChangeCodes ? HIGH_RATIO_TUNINGS : [0];
    const contenders = [{ ...plan }, ...INTERP_NAMES.flatMap((predictor) => tuned.map((tune) => ({ ...plan, predictor, maxDims: dims, reversedAxes, tune: tune || undefined })))]
      .filter((c, i, all) => all.findIndex((d) => samePlan(c, d)) === i);
    // on the screening block (a quarter of the sample's work): it need only propose, the chunks choose. Fields too
    // small to have one (under ~100 k values) are left out: there the coding would cost 2-3 x their encoding, for a
    // few % on a few of them (WRF XLAT_V at rel 1e-2: 201 -> 193 bytes)
    const sizes = yield* sized('coded', contenders, block, codedSizer(plan, block, backend));
    let least = 0;
    contenders.forEach((c, i) => {
      scores[`${tunedKey(c, k)} coded`] = sizes[i]!;
      if (sizes[i]! < sizes[least]!) least = i;
    });
    // contenders[0] is the plan
    const w = contenders[least]!;
    if (sizes[least]! <= ALTERNATIVE_MIN_GAIN * sizes[0]!) plan.alternative = codingOf(w);
    if (sizes[least]! * 8 < CONTEST_BITS * screenValues && tuned.length > 1) {
      plan.contest = CONTEST_TUNINGS.map((tune) => codingOf({ predictor: 'interp-cubic', maxDims: dims, tune, reversedAxes }));
    }
  }
  // a field small enough to be its own sample (no screening block) at high ratios: the model misjudges streams of a
  // few hundred bytes (WRF 2-D fields of 4 equal steps: 3-D Lorenzo sized 36 % smaller than 2-D, coded 25 % larger)
  // and coding them is cheap, so the SMALL_FIELD_CODED smallest are coded on it, and the smallest taken (exact: the
  // sample is the field)
  if (plan.predictorChoice === 'auto' && !bound.lossless && !block && sample!.values.length === fieldSize(shape) && best * 8 < HIGH_RATIO_BITS * sample!.values.length) {
    const top: ClassicPlan[] = [];
    for (const c of [...onSample].sort((a, b) => a.size - b.size)) {
      const p = { ...plan, ...codingOf(c.plan), grid: c.plan.grid };
      if (!top.some((t) => samePlan(t, p))) top.push(p);
      if (top.length === SMALL_FIELD_CODED) break;
    }
    const sizes = yield* sized('coded', top, sample!, codedSizer(plan, sample!, backend));
    const w = top[sizes.indexOf(Math.min(...sizes))]!;
    Object.assign(plan, codingOf(w), { grid: w.grid });
    top.forEach((p, i) => (scores[`${tunedKey(p, k)} coded`] = sizes[i]!));
  }
  const spread = plan.predictorChoice === 'auto' && !bound.lossless ? spreadBlocks().map((b) => (plan.implicitFill ? withFillMask(b, plan.fillValue!) : b)) : [];
  // a grid the central sample lies on and the spread blocks do not (a rounded patch in a field that is not): every
  // point off it would be stored exactly, so the plan leaves it for the best coding off the grid the sample sized
  if (spread.length && plan.grid && !onGridOver(spread, plan.grid, plan)) {
    // (where screening left no candidate off the grid, they are sized on the sample now)
    let offSample = onSample.filter((c) => !c.plan.grid);
    if (!offSample.length) {
      const plain = candidates.filter((c) => !c.plan.grid);
      const sizes = yield* sized('off-grid', plain.map((c) => c.plan), sample!, sizeOf);
      plain.forEach((c, i) => (scores[c.key] = sizes[i]!));
      offSample = plain.map((c, i) => ({ plan: c.plan, size: sizes[i]! }));
    }
    const off = offSample.reduce((a, c) => (c.size < a.size ? c : a));
    Object.assign(plan, codingOf(off.plan), { grid: undefined, alternative: undefined, hedged: undefined, contest: undefined });
    best = off.size;
  }
  // a winner the sample can hardly tell from another coding (INTERP_HEDGE_MARGIN): each chunk is coded both ways
  const hedge = plan.predictorChoice === 'auto' && !bound.lossless && !plan.alternative ? hedgeOf(plan, onSample, best) : undefined;
  if (hedge) Object.assign(plan, { alternative: hedge, hedged: true });
  // a plan the blocks spread over the field find clearly larger, both its codings, than another predictor or folding:
  // that one becomes its alternative, each chunk coded both ways (a central sample of ocean can hide the coasts that
  // make the field)
  if (spread.length) {
    const coded = plan.alternative ? [plan, { ...plan, ...plan.alternative }] : [plan];
    const others = candidates.filter((c) => c.plan.grid === plan.grid && !coded.some((p) => p.predictor === c.plan.predictor && p.maxDims === c.plan.maxDims));
    const plans = [...coded, ...others.map((c) => c.plan)];
    const totals = yield* sizedOnBlocks('spread', plan, plans, spread, (b) => candidateSizer(plan, b, backend));
    plan.spreadScores = Object.fromEntries([...coded.map((p, i) => [tunedKey(p, k), totals[i]!]), ...others.map((c, i) => [c.key, totals[coded.length + i]!])]);
    const own = Math.min(...totals.slice(0, coded.length));
    const rest = totals.slice(coded.length);
    const least = rest.indexOf(Math.min(...rest));
    if (least >= 0 && rest[least]! < SPREAD_MIN_GAIN * own) {
      // an interpolation for an interpolation takes the plan's tuning (the level-dependent bounds the sample chose):
      // a sharp jet the central sample missed, rel 1e-3: cubic 16.0 KB untuned, 11.2 with the linear plan's tuning
      const other = others[least]!.plan;
      const tune = other.predictor.startsWith('interp') && plan.predictor.startsWith('interp') ? plan.tune : undefined;
      Object.assign(plan, { alternative: { ...codingOf(other), tune }, hedged: true });
    }
  }
  if (plan.predictorChoice === 'auto' || gridPlans.length) plan.autoScores = scores;
  return plan;
}

/**
 * planSteps for effort 'fast' (a lossy bound), on a central block of the sample (an eighth of the field, at most
 * FAST_SAMPLE_VALUES; a field no larger than that whole): an undeclared fill (fastFillOf); the candidates
 * (FAST_CANDIDATES where the predictor is auto, else the one given; on the values and on every grid they lie on)
 * sized, and the smallest taken; the best interpolation's reversed axis order (a field with its time or depth stored
 * last: Levitus salinity transposed codes 32 % smaller so at rel 1e-3); a 4-D field folded to 3-D, and where the
 * dims folded are not all shorter than the rest, its winner 4-D as well; a 3-D field's first two axes folded into
 * one (the winner's predictor or the other family's) where the block and the spread blocks, or the best effort's
 * sample, say so; the winner's first
 * tuning where below FAST_TUNING_BITS. None of the best effort's alternatives or contests (its spread blocks only for
 * a fill and a folding), and each chunk coded
 * one way (plan.effort). Null at high ratios (FAST_HIGH_RATIO_BITS a valid value on the
 * block), where the best effort plans: a block misjudges most there (a precipitation field's dry centre; whole-hPa
 * pressure, whose tuned linear interpolation codes 3 x smaller than the Lorenzo the block chose).
 */
function* fastPlanSteps(
  plan: ClassicPlan, stats: FieldStats, whole: PlanSample | null, opts: ClassicOptions, backend: LosslessBackend, spreadBlocks: () => PlanSample[], fillTested: FillTested,
): Generator<PlanStep, ClassicPlan | null, readonly number[] | undefined> {
  plan.effort = 'fast';
  if (!whole) return plan;
  // (a field of at most a block's values planned on all of them: small fields' central eighth chose worse predictors,
  // sea ice 9-12 % larger, a reduced grid's ice 1.4-1.9 x, at a cost of a few ms)
  const n = fieldSize(plan.shape);
  const budget = n <= FAST_SAMPLE_VALUES ? n : Math.min(FAST_SAMPLE_VALUES, n >>> 3);
  const block = whole.values.length > budget ? sampleBlock(whole.values, whole.mask, whole.shape, budget) : whole;
  const auto = plan.predictorChoice === 'auto';
  const fill = auto ? yield* fastFillOf(plan, stats, block, whole, spreadBlocks, backend, fillTested) : null;
  if (fill !== null) Object.assign(plan, { hasMask: true, fillValue: fill, implicitFill: true });
  const sample = fill !== null ? withFillMask(block, fill) : block;
  const grids = [undefined, ...(opts.grid !== false ? gridsOf(sample, stats, plan.bound.abs, plan.dtype, opts.declaredGrid, FAST_GRID_STEP_VALUES) : [])];
  const names = auto ? FAST_CANDIDATES : [plan.predictor];
  // 4-D fields folded to 3-D (WRF's four time steps: the best effort folds them there, as 4-D Lorenzo codes
  // temperature at rel 1e-4 9 % larger and decodes 1.6 x slower), but not where the two dims folded together are the
  // field's longest (stored transposed, time and level last: one spatial axis would be lost, 1.7-1.9 x larger at rel
  // 1e-2; the best effort keeps those 4-D)
  const dims = predictorShape(plan.shape);
  const folded4d = auto && dims.length > FAST_MAX_DIMS && !leadingDimsLongest(dims);
  if (folded4d) plan.maxDims = FAST_MAX_DIMS;
  const candidates = grids.flatMap((grid) => names.map((predictor) => ({ ...plan, predictor, grid })));
  if (candidates.length < 2) return plan;
  const sizeOf = candidateSizer(plan, sample, backend);
  const sized = (plans: ClassicPlan[]) => sizedStep('fast', plan, plans, sample, sizeOf);
  const k = dims.length;
  const scores: Record<string, number> = {};
  const onSample: { plan: ClassicPlan; size: number }[] = [];
  const keep = (plans: ClassicPlan[], sizes: readonly number[]) =>
    plans.forEach((p, i) => {
      scores[tunedKey(p, k)] = sizes[i]!;
      onSample.push({ plan: p, size: sizes[i]! });
    });
  keep(candidates, yield* sized(candidates));
  const least = () => onSample.reduce((a, c) => (c.size < a.size ? c : a));
  const valid = sample.mask ? sample.mask.reduce((a, m) => a + m, 0) : sample.values.length;
  if (auto && least().size * 8 < FAST_HIGH_RATIO_BITS * valid) return null;
  const interp = onSample.filter((c) => c.plan.predictor.startsWith('interp')).reduce<{ plan: ClassicPlan; size: number } | null>((a, c) => (a && a.size <= c.size ? a : c), null);
  const pshape = predictorShape(plan.shape, plan.maxDims);
  // where the fastest dim is not the longest (time or depth stored last: the best effort's reversed winners), both
  // interpolations on the best one's grid the other way round (the order of the two changes with the axes': Levitus
  // temperature transposed, cubic first as stored and linear 10 % smaller reversed); elsewhere reversing was hardly
  // ever smaller, for a sizing in 4 or 5
  if (auto && interp && axesReversible(pshape) && pshape.at(-1)! < Math.max(...pshape)) {
    const reversed = onSample.filter((c) => c.plan.predictor.startsWith('interp') && c.plan.grid === interp.plan.grid).map((c) => ({ ...c.plan, reversedAxes: true }));
    const sizes = yield* sized(reversed);
    // (taken by the best effort's margin: a sample a little smaller reversed was as often larger whole)
    const clear = reversed.filter((_, i) => sizes[i]! < REVERSED_MIN_GAIN * least().size);
    reversed.forEach((p, i) => (scores[tunedKey(p, k)] = sizes[i]!));
    keep(clear, clear.map((p) => sizes[reversed.indexOf(p)]!));
  }
  yield* spreadBlocksDecide(onSample, auto ? spreadBlocks() : [], fill, plan, backend);
  // a 4-D field folded where one of the two dims folded is longer than a later one (levels first and time last,
  // [15, 48, 48, 4]: levels folded into latitude), or where both are long enough to give an interpolation levels of
  // their own (FOLDED_LONG_DIM: 12 months of 19 depths): the winner 4-D as well, as the best effort sizes every
  // candidate both ways (WRF vertical velocity so stored 1.3-1.7 x larger folded; its temperature at rel 1e-2 27 %
  // smaller; the ocean atlas at rel 1e-2 24 % larger folded). WRF's 4 steps of 14 levels are not sized so.
  if (folded4d && (!leadingDimsShortest(dims) || Math.min(dims[0]!, dims[1]!) >= FOLDED_LONG_DIM)) {
    const unfolded = { ...least().plan, maxDims: dims.length };
    keep([unfolded], yield* sized([unfolded]));
  }
  // a 3-D field's winner with its first two axes folded into one as well, where the first axis holds levels or
  // members that predict each other poorly: pressure levels, trajectories, storm levels 14-35 % smaller so. Where the
  // block says so by FOLD_MIN_GAIN, taken where the spread blocks agree (the central block, open ocean, took it for
  // Levitus temperature with its land as a value, 5-10 % larger whole), or else the best effort's sample, where it is
  // more than the block, by FOLD_SAMPLE_GAIN (the spread blocks' 16 latitudes a level kept Levitus temperature
  // unfolded, 14-18 % larger); a field without spread blocks by the sample, or where it is the block, by the block.
  // (4-D fields already folded to 3-D gained 1-4 % on 4 of 1155 codings: not worth a sizing on WRF's every field.)
  if (auto && pshape.length === 3 && dims.length === 3) {
    const winner = least();
    // the other family folded as well (the best effort sizes every candidate both ways): where time or depth is
    // stored last, 2-D Lorenzo along it and the folded space codes COADS and Levitus 20-26 % smaller than the
    // 3-D interpolation the block led with; where the other family ran FOLD_RIVAL_MARGIN over the winner unfolded, not
    // sized (a sizing on the block, 7 % of COADS temperature's compression)
    const rival = onSample
      .filter((c) => c.plan.predictor.startsWith('interp') !== winner.plan.predictor.startsWith('interp') && c.plan.grid === winner.plan.grid)
      .reduce<{ plan: ClassicPlan; size: number } | null>((a, c) => (a && a.size <= c.size ? a : c), null);
    const folds = [{ ...winner.plan, maxDims: 2 }, ...(rival && rival.size < FOLD_RIVAL_MARGIN * winner.size ? [{ ...rival.plan, maxDims: 2 }] : [])];
    const foldSizes = yield* sized(folds);
    folds.forEach((p, i) => (scores[tunedKey(p, k)] = foldSizes[i]!));
    const leastFold = Math.min(...foldSizes);
    let folded = folds[foldSizes.indexOf(leastFold)]!;
    let fold = leastFold < FOLD_MIN_GAIN * winner.size;
    // [the winner, ...folds] sized on other blocks: whether the least folded is smaller than the winner by `gain`
    const confirm = (sizes: readonly number[], gain: number) => {
      const least = Math.min(...sizes.slice(1));
      folded = folds[sizes.indexOf(least, 1) - 1]!;
      return least < gain * sizes[0]!;
    };
    const spread = fold ? spreadBlocks() : [];
    if (spread.length) fold = confirm(yield* sizedOnBlocks('fast', plan, [winner.plan, ...folds], spread, (b) => candidateSizer(plan, b, backend)), 1);
    // the best effort's sample, where it is more than the block: where the block alone proposed the fold (a
    // precipitation field's central block, 5 x 211 x 470, took folded cubic interpolation, 2 x folded Lorenzo's
    // size whole), or leaned to it by less than its margin, or the spread blocks turned it down (FOLD_SAMPLE_GAIN)
    if (whole !== block && leastFold < winner.size && !(fold && spread.length)) {
      const onWhole = fill !== null ? withFillMask(whole, fill) : whole;
      const sizes = yield* sizedStep('fast', plan, [winner.plan, ...folds], onWhole, candidateSizer(plan, onWhole, backend));
      fold = confirm(sizes, fold && !spread.length ? 1 : FOLD_SAMPLE_GAIN);
    }
    // (from here the folded coding competes alone: its tuning against it)
    if (fold) onSample.splice(0, onSample.length, { plan: folded, size: foldSizes[folds.indexOf(folded)]! });
    // folded into high ratios, where the best effort plans (precipitation at rel 1e-4: folded cubic sized
    // 0.15 bits a value on the block, coded 1.6 x the best effort's tuned linear)
    if (fold && least().size * 8 < FAST_HIGH_RATIO_BITS * valid) return null;
  }
  Object.assign(plan, codingOf(least().plan), { grid: least().plan.grid });
  // (a grid coded exactly, half-width 0, gives every tuning the same codes: none is sized)
  const tunable = plan.grid?.half !== 0;
  if (plan.predictor.startsWith('interp') && tunable && least().size * 8 < FAST_TUNING_BITS * sample.values.length) {
    const tuned = { ...plan, tune: AUTO_TUNINGS[0] };
    keep([tuned], yield* sized([tuned]));
    Object.assign(plan, codingOf(least().plan));
  }
  // one dimension (a series, an unstructured grid's coordinates): hedged as the best effort hedges it (hedgeOf), each
  // chunk coded both ways, since the sizing cannot see the repeated strings of Lorenzo's codes that Huffman through
  // zstd codes (CAM-SE longitudes at rel 1e-4: interpolation 30.5 KB, Lorenzo 17.7; SZ3 39.1)
  if (auto && pshape.length === 1) {
    const hedge = hedgeOf(plan, onSample, least().size);
    if (hedge) Object.assign(plan, { alternative: hedge, hedged: true });
  }
  if (huffmanPaysOn(plan, least().size, valid, sample, backend)) plan.huffmanTry = true;
  if (auto || grids.length > 1) plan.autoScores = scores;
  return plan;
}

/**
 * Effort fast's two best candidates on its block (with the axes reversed where those were sized), where the runner-up
 * is within FAST_SPREAD_RIVAL of the leader, sized on the field's spread blocks too (fields of ~0.5 M values or more
 * have them): where those find the runner-up smaller, the leader's block size is scaled by their ratio over the
 * runner-up's, so that the runner-up leads and the later steps (the fold's rival) still see the leader. A central
 * block of open ocean took cubic interpolation for Levitus temperature with its land written as 0 (coasts the cubic
 * stencil spans: linear 11-13 % smaller whole), or as its median and transposed (linear or Lorenzo 11-21 % smaller),
 * Lorenzo for NCL's sea ice (cubic 5-11 % smaller).
 */
function* spreadBlocksDecide(
  onSample: { plan: ClassicPlan; size: number }[], spread: readonly PlanSample[], fill: number | null, plan: ClassicPlan, backend: LosslessBackend,
): Generator<PlanStep, void, readonly number[] | undefined> {
  if (!spread.length) return;
  const [first, second] = [...onSample].sort((a, b) => a.size - b.size);
  if (!first || !second || second.size >= FAST_SPREAD_RIVAL * first.size) return;
  const blocks = fill !== null ? spread.map((b) => withFillMask(b, fill)) : spread;
  const [leader, runnerUp] = yield* sizedOnBlocks('fast', plan, [first.plan, second.plan], blocks, (b) => candidateSizer(plan, b, backend));
  if (runnerUp! < leader!) first.size = Math.ceil((second.size * leader!) / runnerUp!);
}

/**
 * Whether the block's codes under `plan`, Huffman-coded through the lossless stage, come out within
 * FAST_HUFFMAN_TRY_SHARE of `sized`, the bytes the plan was sized at (`valid` values; none tried below
 * FAST_HUFFMAN_MIN_BITS a value): codes that repeat as strings, which the context
 * coders see only a symbol or a line back (fields stored to few digits: storm winds and temperatures at rel 1e-4,
 * 0.7-0.8 x). Effort fast's chunks then try that coding as the best effort's do (each try a Huffman coding and a
 * zstd run of the chunk); a 1-D field's chunks always try it (encodeChunkPayload).
 */
function huffmanPaysOn(plan: ClassicPlan, sized: number, valid: number, block: PlanSample, backend: LosslessBackend): boolean {
  if (backend.id === LOSSLESS_NONE || plan.entropy !== 'range' || predictorShape(block.shape, plan.maxDims).length === 1) return false;
  if (sized * 8 < FAST_HUFFMAN_MIN_BITS * valid) return false;
  const payload = encodeChunkPayload({ ...plan, entropy: 'huffman' }, block.values, block.mask, block.shape, undefined, true);
  return backend.compress(payload).length < FAST_HUFFMAN_TRY_SHARE * sized;
}

/**
 * Effort fast's undeclared fill: tested on its block as the best effort tests one (implicitFillOf); where the block
 * shows none but the field's spread blocks or its whole sample hold a candidate (land outside a central block of
 * ocean: 2 x larger without its mask), tested again on the block with the spread blocks, or on the whole sample
 * where the field has none. Most fields hold no candidate: one pass over their values to find that.
 */
function* fastFillOf(
  plan: ClassicPlan, stats: FieldStats, block: PlanSample, whole: PlanSample, spreadBlocks: () => PlanSample[], backend: LosslessBackend, tested: FillTested,
): Generator<PlanStep, number | null, readonly number[] | undefined> {
  const onBlock = yield* implicitFillOf(plan, stats, block, [], backend);
  if (block === whole && !spreadBlocks().length) tested.fill = onBlock;
  if (onBlock !== null || stats.hasMask) return onBlock;
  const size = fieldSize(plan.shape);
  const spread = spreadBlocks();
  if (spread.length) return implicitFillCandidates(stats, size, spread).length ? yield* implicitFillOf(plan, stats, block, spread, backend) : null;
  // (the whole sample's candidates from every FILL_SCAN_STRIDE-th value: a share that counts found as well, in an
  // eighth of the pass, which took 5 % of a WRF field's fast compression)
  if (whole === block || !implicitFillCandidates(stats, size, [whole], FILL_SCAN_STRIDE).length) return null;
  return (tested.fill = yield* implicitFillOf(plan, stats, whole, [], backend));
}

/**
 * The best effort's fill test (implicitFillOf on the whole sample without spread blocks) where effort fast ran it (its
 * codings with fast's one coder on chunks over 16 k codes: the same choice on all 2517 codings of the sizes set).
 */
interface FillTested {
  fill?: number | null;
}

/** fastFillOf looks for a fill's candidates in every this-many-th value of a field without spread blocks */
const FILL_SCAN_STRIDE = 8;

/** Whether a shape's first two dims are its two longest (ties included): folding them together merges two spatial axes. */
function leadingDimsLongest(dims: readonly number[]): boolean {
  const second = [...dims].sort((x, y) => y - x)[1]!;
  return Math.min(dims[0]!, dims[1]!) >= second;
}

/** Whether neither of a shape's first two dims is longer than any later one: folding them merges time and levels. */
function leadingDimsShortest(dims: readonly number[]): boolean {
  return Math.max(dims[0]!, dims[1]!) <= Math.min(...dims.slice(2));
}

/**
 * The implicit fill a plan codes (implicitFillCandidates), or null: the candidate whose mask makes the blocks smallest
 * (IMPLICIT_FILL_MIN_GAIN), each way coded with the better of cubic interpolation and Lorenzo (one of them alone
 * misjudged fields the other suits: a land-use map 4.7 % larger, accumulations 5.9 %). Runs only where a candidate
 * is held by enough points, first on the screening block and the spread blocks, where a clear gain (FILL_CLEAR_GAIN)
 * is taken, else on the sample and the spread blocks. The central sample can still favour the mask more than the
 * field does (a cloud field at rel 1e-3: 11 % smaller there, 5 % larger whole).
 */
function* implicitFillOf(plan: ClassicPlan, stats: FieldStats, sample: PlanSample, spread: readonly PlanSample[], backend: LosslessBackend): Generator<PlanStep, number | null, readonly number[] | undefined> {
  const candidates = implicitFillCandidates(stats, fieldSize(plan.shape), [sample, ...spread]);
  if (!candidates.length) return null;
  if (candidates.some((c) => c.fill !== c.fill && c.share >= NAN_MASK_SURE_SHARE)) return NaN;
  const screen = sample.values.length >= SCREEN_MIN_VALUES ? screenBlockRange(sample.shape, SCREEN_VALUES) : null;
  if (screen) {
    const quick = yield* leastFillCoding(plan, candidates, [cropBlock(sample.values, sample.mask, sample.shape, screen.start, screen.size), ...spread], backend);
    if (quick.ratio < FILL_CLEAR_GAIN) return quick.fill;
  }
  const chosen = yield* leastFillCoding(plan, candidates, [sample, ...spread], backend);
  return chosen.ratio < IMPLICIT_FILL_MIN_GAIN ? chosen.fill : null;
}

/**
 * A mask this much smaller on the screening and spread blocks is taken at once (rather than sized on the whole sample,
 * 4 x the coding): land as -9999, 1e35 or -999 codes 0.25-0.55 x there (0.15-0.62 x on the sample). A larger mask is
 * not refused there: the central block of a cloud field can be all clear sky (2.2 x there, 0.71 x on the sample)
 */
const FILL_CLEAR_GAIN = 0.6;

/** The candidate whose mask codes the blocks smallest, and its bytes over theirs without a mask (sized as implicitFillOf says). */
function* leastFillCoding(plan: ClassicPlan, candidates: readonly { fill: number }[], blocks: readonly PlanSample[], backend: LosslessBackend): Generator<PlanStep, { fill: number; ratio: number }, readonly number[] | undefined> {
  // each block's codings a step of their own (a worker's share where one is free: the same sizes)
  const sizeOf = function* (base: ClassicPlan, on: readonly PlanSample[]): Generator<PlanStep, number, readonly number[] | undefined> {
    const plans = (['interp-cubic', 'lorenzo'] as const).map((predictor) => ({ ...base, predictor }));
    return Math.min(...(yield* sizedOnBlocks('coded', base, plans, on, (b) => codedSizer(base, b, backend))));
  };
  const plain = yield* sizeOf(plan, blocks);
  let least = { fill: candidates[0]!.fill, ratio: Infinity };
  for (const { fill } of candidates) {
    const ratio = (yield* sizeOf({ ...plan, hasMask: true, fillValue: fill, implicitFill: true }, blocks.map((b) => withFillMask(b, fill)))) / plain;
    if (ratio < least.ratio) least = { fill, ratio };
  }
  return least;
}

/**
 * The coding a plan is hedged with (INTERP_HEDGE_MARGIN), from every plan sized on the sample: a Lorenzo winner's
 * nearest interpolation on its grid; an interpolation winner's other axis order (both untuned, as they were sized),
 * or where its shape has none (one dimension), its best Lorenzo.
 */
function hedgeOf(plan: ClassicPlan, onSample: readonly { plan: ClassicPlan; size: number }[], best: number): PlanAlternative | undefined {
  if (!plan.predictor.startsWith('interp')) {
    const near = onSample.filter((c) => c.plan.predictor.startsWith('interp') && c.plan.grid === plan.grid && c.size <= INTERP_HEDGE_MARGIN * best).sort((a, b) => a.size - b.size)[0];
    return near && codingOf(near.plan);
  }
  const untuned = (c: { plan: ClassicPlan }, reversed: boolean) => c.plan.predictor === plan.predictor && c.plan.maxDims === plan.maxDims && c.plan.grid === plan.grid && !c.plan.tune && !c.plan.reversedAxes === !reversed;
  const own = onSample.find((c) => untuned(c, !!plan.reversedAxes));
  const other = onSample.find((c) => untuned(c, !plan.reversedAxes));
  if (axesReversible(predictorShape(plan.shape, plan.maxDims))) return own && other && other.size <= INTERP_HEDGE_MARGIN * own.size ? { ...codingOf(plan), reversedAxes: plan.reversedAxes ? undefined : true } : undefined;
  // no other order (a series, an unstructured grid's columns): the best Lorenzo, however far. Its codes can repeat as
  // strings where an interpolation's do not, which the model does not see and Huffman codes through zstd do (CAM-SE
  // longitudes at rel 1e-2: sized 0.6 % apart, coded 2953 bytes against 5533)
  const lorenzo = onSample.filter((c) => !c.plan.predictor.startsWith('interp') && c.plan.grid === plan.grid).sort((a, b) => a.size - b.size)[0];
  return lorenzo && codingOf(lorenzo.plan);
}

/** The grids a sample lies on, to be sized: linear (offset + k x step) and mantissa (bit-rounded float32). */
function gridsOf(sample: PlanSample, stats: FieldStats, e: number, dtype: 'float32' | 'float64', declared?: Grid, stepValues?: number): GridPlan[] {
  const skip = sample.mask ? invert(sample.mask) : null;
  const maxAbs = Math.max(Math.abs(stats.min), Math.abs(stats.max));
  const linear = findGridPlan(sample.values, skip, e, maxAbs, dtype === 'float32', declared, stepValues);
  // where no one grid holds the field, its slices may each lie on one of their own (GRIB levels and times)
  const sliced = linear ? null : findSlicedGridPlan(sample.values, skip, sample.shape, e, maxAbs, dtype === 'float32');
  // a bound of one ulp at the largest magnitude or more: values one below a mantissa grid point may count as on it
  const mantissa = dtype === 'float32' ? findMantissaGridPlan(sample.values, skip, linear ?? sliced, e >= ulpAt(maxAbs, true)) : null;
  return [linear, sliced, mantissa].filter((g): g is GridPlan => g !== null);
}

/** A grid's part of a plan's name in autoScores: +grid (offset + k x step), +slices (an offset per slice), +mantissa (bit-rounded floats), or none. */
function gridKey(grid: GridPlan | undefined): string {
  return grid ? (grid.mantissaBits !== undefined ? '+mantissa' : grid.sliceDims ? '+slices' : '+grid') : '';
}

/** A plan's name in autoScores with its tuning: predictor, folded dims (of k), grid, axis order, @tuning. */
function tunedKey(p: ClassicPlan, k: number): string {
  return `${p.predictor}${p.maxDims < k ? `/${p.maxDims}d` : ''}${gridKey(p.grid)}${p.reversedAxes ? '/reversed' : ''}@${p.tune ?? 0}`;
}

/** What of a plan says how a chunk is coded (PlanAlternative). */
function codingOf(p: PlanAlternative): PlanAlternative {
  return { predictor: p.predictor, maxDims: p.maxDims, tune: p.tune, reversedAxes: p.reversedAxes };
}

/**
 * Sizes candidate plans on the sample by coding it: stored bytes of its payload (with the range coders, the
 * multi-symbol one alone: half the work).
 */
function codedSizer(base: ClassicPlan, sample: PlanSample, backend: LosslessBackend) {
  const dense = base.entropy === 'range' || base.entropy === 'ms';
  return (p: ClassicPlan) => {
    const payload = encodeChunkPayload({ ...p, entropy: base.entropy === 'range' ? 'ms' : p.entropy }, sample.values, sample.mask, sample.shape, undefined, true);
    return dense && !(p.bound.lossless && !p.grid) ? payload.length : backend.compress(payload).length;
  };
}

/**
 * Sizes candidate plans on the sample: stored bytes of its payload. With the range coders (the default) only the
 * predictor and quantizer run per candidate; the codes are sized by the multi-symbol coder's model cost
 * (msCostBytes, within a few bytes of coding them), and the parts every candidate shares (the exceptions, mask and
 * value lists, grid indices) are computed once. Other coders, and lossless byte planes, are coded and zstd'd.
 * `lineContext`: the codes are sized with the line context where the chunks code them so (nothing skipped: coder 6),
 * else with coder 2's model. Coder 2's misjudged plans whose codes repeat line to line by up to half: a field smooth
 * along its 24 steps and rough in space, reversed (fastest axis first), sized 32.4 KB on its sample against 29.2 for
 * Lorenzo, coded 20.9 and 27.7 (whole: 104 and 190 KB).
 */
function candidateSizer(base: ClassicPlan, sample: PlanSample, backend: LosslessBackend, lineContext = true) {
  const { values, mask, shape } = sample;
  const f32 = base.dtype === 'float32';
  const dense = base.entropy === 'range' || base.entropy === 'ms';
  const coded = codedSizer(base, sample, backend);
  if (!dense) return coded;
  const scan = scanExceptions(values, mask, base.fillValue);
  let maskBytes = 0;
  if (mask) {
    const w = new ByteWriter(1024);
    writeChunkMask(w, mask, shape);
    maskBytes = w.pos;
  }
  // per grid (undefined: the values): what the predictor sees, and the bytes before the codes
  const inputs = new Map<GridPlan | undefined, { x: FieldValues | Float64Array; skip: Uint8Array | null; head: number }>();
  const inputOf = (grid: GridPlan | undefined) => {
    let r = inputs.get(grid);
    if (!r) {
      let { skip, nonfinite } = scan;
      let x: FieldValues | Float64Array = values;
      let offsetBytes = 0;
      if (grid) {
        const g = gridIndicesOf(values, skip ? skip.slice() : null, shape, grid, f32);
        x = g.k;
        skip = g.skip;
        if (g.offGrid.length) nonfinite = mergeSorted(nonfinite, g.offGrid);
        offsetBytes = g.offsets ? g.offsets.length * (f32 ? 4 : 8) : 0;
      }
      const w = new ByteWriter(1024);
      writeValueLists(w, [nonfinite, scan.fillExc], values, f32);
      // predictor byte, flags, coder byte; the mask; the exact-value lists; a grid of slices' offsets
      r = { x, skip, head: 3 + maskBytes + w.pos + offsetBytes };
      inputs.set(grid, r);
    }
    return r;
  };
  // the same input with its axes reversed, per grid and predictor shape (copies: the scratch slots are encodeChunkPayload's)
  const reversedInputs = new Map<string, ReturnType<typeof reversedInput>>();
  const reversedOf = (grid: GridPlan | undefined, pshape: number[]) => {
    // a sample has at most one grid of each kind (gridsOf)
    const key = `${gridKey(grid)} ${pshape.join('x')}`;
    let r = reversedInputs.get(key);
    if (!r) {
      const { x, skip } = inputOf(grid);
      const rev = reversedInput(x, skip, pshape);
      r = { x: rev.x.slice(), skip: rev.skip && rev.skip.slice(), pshape: rev.pshape };
      reversedInputs.set(key, r);
    }
    return r;
  };
  return (p: ClassicPlan) => {
    if (p.bound.lossless && !p.grid) return coded(p);
    const { x, skip, head } = inputOf(p.grid);
    const tune = p.predictor.startsWith('interp') ? (p.tune ?? 0) : 0;
    const pshape = predictorShape(shape, p.maxDims);
    const reversed = p.reversedAxes === true && p.predictor.startsWith('interp') && axesReversible(pshape);
    const input = reversed ? reversedOf(p.grid, pshape) : { x, skip, pshape };
    const q = p.grid ? new GridQuantizer(p.grid.half, 0, p.radius) : new LinearQuantizer(p.bound.abs, f32, 0, p.radius);
    // the thread's codes memory (each candidate's are read before anything else runs)
    q.codes = scratchTyped('codes', Uint32Array, Math.max(1, values.length));
    const predictor = predictorByName(p.predictor);
    predictor.encode(input.x as FieldValues, input.skip, input.pshape, q, tune);
    // the line context where the chunk's coding has it (encodeChunkPayload)
    const codeBytes = msCostBytes(q.codes, q.nCodes, q.radius, 'fast', lineContext && input.skip === null ? predictor.codeLines(input.pshape) : null);
    // a tuning or the reversed axes take a byte of their own, as in encodeChunkPayload
    return head + (tune || reversed ? 1 : 0) + codeBytes + varintBytes(codeBytes) + varintBytes(q.nEscapes) + q.nEscapes * (f32 && !p.grid ? 4 : 8);
  };
}

/**
 * The candidates to size on the whole sample, given their `sizes` on the screening block (null: not screened): all of
 * them, or those within SCREEN_MARGIN of the best on the block; and the leader, the best there, and its size.
 */
function survivors<T extends { plan: ClassicPlan }>(candidates: T[], sizes: readonly number[] | null): { kept: T[]; leader: T | null; leastOnBlock: number } {
  if (!sizes) return { kept: candidates, leader: null, leastOnBlock: Infinity };
  const least = Math.min(...sizes);
  const interp = (c: T) => c.plan.predictor.startsWith('interp');
  const first = candidates[sizes.indexOf(least)]!;
  // and the other family's best (interpolation or Lorenzo): one block can misjudge which suits the whole field
  // (a storm's centre against the quiet rest); an interpolation leader's other kind at its dims too (a block of
  // 40 x 26 x 31 from 120 x 80 x 96 found the linear one 19 % smaller than the cubic, 27 % smaller on the field);
  // and the leader's other folding within SCREEN_FOLDING_MARGIN
  let other = -1;
  let otherKind = -1;
  let otherFolding = -1;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (interp(c) !== interp(first) && (other < 0 || sizes[i]! < sizes[other]!)) other = i;
    if (c.plan.predictor === first.plan.predictor && c.plan.maxDims !== first.plan.maxDims && c.plan.grid === first.plan.grid && !c.plan.reversedAxes === !first.plan.reversedAxes && sizes[i]! <= least * SCREEN_FOLDING_MARGIN) otherFolding = i;
    if (interp(first) && interp(c) && c.plan.predictor !== first.plan.predictor && c.plan.maxDims === first.plan.maxDims && c.plan.grid === first.plan.grid && !c.plan.reversedAxes === !first.plan.reversedAxes) otherKind = i;
  }
  return { kept: candidates.filter((_, i) => sizes[i]! <= least * SCREEN_MARGIN || i === other || i === otherKind || i === otherFolding), leader: first, leastOnBlock: least };
}

/**
 * The screening block of a sample: centred, about `budget` values, dims of up to SCREEN_WHOLE_DIM kept whole and
 * the others shrunk alike (to no fewer than SCREEN_WHOLE_DIM); null when that is not much smaller than the sample.
 */
function screenBlockRange(shape: number[], budget: number): { start: number[]; size: number[] } | null {
  const n = fieldSize(shape);
  const long = shape.map((d) => d > SCREEN_WHOLE_DIM);
  const whole = shape.reduce((a, d, i) => (long[i] ? a : a * d), 1);
  const nLong = long.filter(Boolean).length;
  if (!nLong) return null;
  const f = Math.pow(Math.max(1, budget / whole) / (n / whole), 1 / nLong);
  const size = shape.map((d, i) => (long[i] ? Math.min(d, Math.max(SCREEN_WHOLE_DIM, Math.round(d * f))) : d));
  return fieldSize(size) > 0.5 * n ? null : centred(shape, size);
}

function invert(mask: Uint8Array): Uint8Array {
  const skip = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) skip[i] = mask[i] === 0 ? 1 : 0;
  return skip;
}

/** The fewest points a long axis keeps in the block auto plans on (more changed the plans of 20-level fields, both ways). */
const SAMPLE_MIN_POINTS = 8;

/**
 * The block auto plans on: centred, about `budget` values, dims of up to SCREEN_WHOLE_DIM kept whole (as in the
 * screening block) where the budget leaves the others SCREEN_WHOLE_DIM each on average, else every dim shrunk alike;
 * null: the whole field.
 * A block that cut a 2 x 3 x 100000 field to 1 x 2 x 60226 hid how its six series relate, and auto took interpolation
 * at 9 times Lorenzo's size.
 */
export function sampleBlockRange(shape: number[], budget: number): { start: number[]; size: number[] } | null {
  const n = fieldSize(shape);
  if (n <= budget * 1.5) return null;
  const long = shape.map((d) => d > SCREEN_WHOLE_DIM);
  const whole = shape.reduce((a, d, i) => (long[i] ? a : a * d), 1);
  const nLong = long.filter(Boolean).length;
  if (nLong === 0 || budget / whole < Math.pow(SCREEN_WHOLE_DIM, nLong)) return centralBlockRange(shape, budget);
  const f = Math.pow(budget / n, 1 / nLong);
  const alike = shape.map((d, i) => (long[i] ? Math.max(1, Math.min(d, Math.round(d * f))) : d));
  if (alike.every((s, i) => !long[i] || s >= SAMPLE_MIN_POINTS)) return centred(shape, alike);
  // else the long dims, shortest first, each shrunk by the factor that spreads what is left of the budget over it and
  // the longer ones alike, to no fewer than SAMPLE_MIN_POINTS (2 x 17 x 10^6 kept 1 of the 17)
  const size = shape.slice();
  let left = budget / whole;
  let rest = n / whole;
  const order = shape.map((d, i) => [d, i] as const).filter(([, i]) => long[i]).sort((a, b) => a[0] - b[0]);
  order.forEach(([d, i], k) => {
    const f = Math.pow(left / rest, 1 / (order.length - k));
    size[i] = Math.min(d, Math.max(SAMPLE_MIN_POINTS, Math.round(d * f)));
    left /= size[i]!;
    rest /= d;
  });
  return centred(shape, size);
}

/**
 * The second opinion on the central sample's choice (planSteps): SPREAD_BLOCKS blocks of the sample's proportions
 * (sampleBlockRange), SPREAD_VALUES in all, at Halton points over the field; none where the field is under
 * SPREAD_MIN_FIELD times the sample. A predictor or folding the blocks size SPREAD_MIN_GAIN smaller than the plan's
 * own becomes its hedged alternative: the chunks' coding decides. Levitus salinity with its land set to 0 (no fill
 * declared): the central block, mostly Pacific, chose a tuned linear interpolation; the field codes 34 % smaller
 * with Lorenzo (rel 1e-2: 94,933 -> 62,343 bytes, SZ3 77,849).
 */
const SPREAD_BLOCKS = 8;
const SPREAD_VALUES = 1 << 15;
const SPREAD_MIN_FIELD = 4;
const SPREAD_MIN_GAIN = 0.95;

/** Where a field's spread blocks lie (SPREAD_BLOCKS of them, start and size per dim); none where its sample is a good part of it. */
export function spreadBlockRanges(shape: number[]): { start: number[]; size: number[] }[] {
  const n = fieldSize(shape);
  if (n < SPREAD_MIN_FIELD * sampleBudget(n)) return [];
  const block = sampleBlockRange(shape, SPREAD_VALUES / SPREAD_BLOCKS);
  // blocks that would cover much of the field (a shape of many short dims) tell nothing the sample does not
  if (!block || SPREAD_BLOCKS * fieldSize(block.size) > n / 2) return [];
  const out: { start: number[]; size: number[] }[] = [];
  for (let i = 1; i <= SPREAD_BLOCKS; i++) {
    const start = shape.map((d, k) => Math.round(halton(i, HALTON_BASES[k % HALTON_BASES.length]!) * (d - block.size[k]!)));
    if (!out.some((b) => b.start.every((x, k) => x === start[k]))) out.push({ start, size: block.size });
  }
  return out;
}

/** Whether MIN_ON_GRID_SHARE of the blocks' valid points lie on `grid` (as the chunks would code them). */
function onGridOver(blocks: readonly PlanSample[], grid: GridPlan, plan: Pick<ClassicPlan, 'dtype' | 'fillValue'>): boolean {
  let off = 0;
  let total = 0;
  for (const b of blocks) {
    const { skip, nSkip } = scanExceptions(b.values, b.mask, plan.fillValue);
    off += gridIndicesOf(b.values, skip ? skip.slice() : null, b.shape, grid, plan.dtype === 'float32').offGrid.length;
    total += b.values.length - nSkip;
  }
  return off <= (1 - MIN_ON_GRID_SHARE) * total;
}

/** A Halton point's base per dim (fields of more than 6 dims, which planning folds anyway, reuse them) */
const HALTON_BASES = [2, 3, 5, 7, 11, 13];

/** The i-th term of the van der Corput sequence in `base` (in (0, 1)). */
function halton(i: number, base: number): number {
  let f = 1;
  let r = 0;
  for (let j = i; j > 0; j = Math.floor(j / base)) {
    f /= base;
    r += f * (j % base);
  }
  return r;
}

/** The centred hyper-block of about `budget` values of a shape (start and size per dim); null: the whole field. */
export function centralBlockRange(shape: number[], budget: number): { start: number[]; size: number[] } | null {
  const n = fieldSize(shape);
  if (n <= budget * 1.5) return null;
  const f = Math.pow(budget / n, 1 / shape.length);
  return centred(shape, shape.map((d) => Math.max(1, Math.min(d, Math.round(d * f)))));
}

/** The block of `size` centred in `shape`. */
function centred(shape: number[], size: number[]): { start: number[]; size: number[] } {
  return { start: shape.map((d, i) => Math.floor((d - size[i]!) / 2)), size };
}

/** The block [start, start + size) of a field (copied). */
export function cropBlock(values: FieldValues, mask: Uint8Array | null, shape: number[], start: number[], bs: number[]) {
  const k = shape.length;
  const m = fieldSize(bs);
  const out = values instanceof Float32Array ? new Float32Array(m) : new Float64Array(m);
  const om = mask ? new Uint8Array(m) : null;
  const str = new Array<number>(k);
  let s = 1;
  for (let d = k - 1; d >= 0; d--) { str[d] = s; s *= shape[d]!; }
  const c = new Array<number>(k).fill(0);
  const inner = bs[k - 1]!;
  for (let o = 0; o < m; o += inner) {
    let src = 0;
    for (let d = 0; d < k; d++) src += (start[d]! + c[d]!) * str[d]!;
    out.set(values.subarray(src, src + inner), o);
    if (om) om.set(mask!.subarray(src, src + inner), o);
    for (let d = k - 2; d >= 0; d--) {
      if (++c[d]! < bs[d]!) break;
      c[d] = 0;
    }
  }
  return { values: out, mask: om, shape: bs };
}

/** A centred hyper-block of about `budget` values (the whole field when small). */
function sampleBlock(values: FieldValues, mask: Uint8Array | null, shape: number[], budget: number) {
  const block = sampleBlockRange(shape, budget);
  return block ? cropBlock(values, mask, shape, block.start, block.size) : { values, mask, shape };
}

// ---------------------------------------------------------------- chunks

/**
 * A chunk's mask (maskModelFor: model 3, or 2 for short rows): its first row's alone where every row has the same
 * (chunk flag 64, maskRowsRepeat).
 */
function writeChunkMask(w: ByteWriter, mask: Uint8Array, shape: number[], repeats = maskRowsRepeat(mask, shape)): void {
  const model = maskModelFor(shape);
  if (repeats) writeMask(w, mask.subarray(0, mask.length / shape[0]!), shape.slice(1), model);
  else writeMask(w, mask, shape, model);
}

/** The flags of a chunk's mask as writeChunkMask codes it: 16, with 128 for model 3; 64 where its rows repeat */
function chunkMaskFlags(shape: readonly number[], repeats: boolean): number {
  return 16 | (maskModelFor(shape) === 3 ? 128 : 0) | (repeats ? 64 : 0);
}

/** A chunk's mask as writeChunkMask (flags 16, 128 and 64), or model 2 (streams before flag 128), or model 1 (before flag 16). */
function readChunkMask(r: ByteReader, shape: number[], flags: number): Uint8Array {
  const n = fieldSize(shape);
  const model = flags & 128 ? 3 : flags & 16 ? 2 : 1;
  return flags & 64 ? repeatMaskRows(readMask(r, shape.slice(1), n / shape[0]!, model), shape[0]!) : readMask(r, shape, n, model);
}

/**
 * The uncompressed payload of one chunk: flags, the envelope's mask and value lists, prediction, codes, escapes.
 * `sizing`: planning compares codings on a block, so a block within the bound is coded, not made one value (all the
 * codings of a block at 9 bytes chose a worse tuning for the field: +1.7 %). `backend`: the lossless stage the payload
 * goes through, where the codes' Huffman try is sized (writeCodes' packedSize; none given: no try)
 */
export function encodeChunkPayload(plan: ClassicPlan, values: FieldValues, mask: Uint8Array | null, shape: number[], facts?: { offGrid: number; valid: number }, sizing = false, backend?: LosslessBackend): Uint8Array {
  const n = values.length;
  const f32 = plan.dtype === 'float32';
  const scan = scanExceptions(values, mask, plan.fillValue);
  const { fillExc } = scan;
  let { skip, nSkip, nonfinite } = scan;
  const hasMask = mask !== null;
  const w = new ByteWriter(Math.max(1024, n >>> 1));
  const grid = plan.grid;
  const lossless = plan.bound.lossless;
  const predicted = !lossless || grid !== undefined;
  const constant = constantValue(values, skip, plan.bound, f32, !sizing);
  if (constant !== undefined) return constantChunkPayload(w, constant.value, values, mask, shape, mergeSorted(nonfinite, constant.exact), fillExc, f32);
  let indices: Float64Array | null = null;
  let offsets: Float64Array | null = null;
  if (grid) {
    // grid indices; the points off the grid join the exact-value list (skipped like non-finite ones)
    const g = gridIndicesOf(values, skip, shape, grid, f32, scratchTyped('gridIndices', Float64Array, n));
    indices = g.k;
    offsets = g.offsets;
    skip = g.skip;
    nSkip += g.offGrid.length;
    if (g.offGrid.length) nonfinite = mergeSorted(nonfinite, g.offGrid);
    if (facts) {
      facts.offGrid = g.offGrid.length;
      facts.valid = n - nSkip + g.offGrid.length;
    }
  }
  const tune = !lossless && plan.predictor.startsWith('interp') ? (plan.tune ?? 0) : 0;
  const pshape = predictorShape(shape, plan.maxDims);
  const reversed = predicted && plan.reversedAxes === true && plan.predictor.startsWith('interp') && axesReversible(pshape);
  const interpByte = tune | (reversed ? REVERSED_AXES : 0);
  w.u8(predicted ? predictorByName(plan.predictor).id | (Math.min(4, plan.maxDims) << 4) : LOSSLESS_PREDICTOR_ID);
  // flag 16: the mask is coded with model 2 (maskcoder.ts), with 128 model 3; format v2. Flag 32: grid indices
  // (header param grid). Flag 64: the mask of the chunk's first row only, the same in every row (maskRowsRepeat)
  const maskRepeats = hasMask && maskRowsRepeat(mask!, shape);
  w.u8(chunkHeadFlags(mask, nonfinite, fillExc) | (hasMask ? chunkMaskFlags(shape, maskRepeats) : 0) | (interpByte ? 8 : 0) | (grid ? 32 : 0));
  if (interpByte) w.u8(interpByte);
  // format v2: no value count (the chunk's rows give it)
  if (hasMask) writeChunkMask(w, mask!, shape, maskRepeats);
  writeValueLists(w, [nonfinite, fillExc], values, f32);
  // a grid of slices: each slice's offset (float32 in a float32 stream: they are values of the field)
  if (offsets) for (const o of offsets) writeRaw(w, f32, o);
  if (!predicted) {
    writePlanes(w, values, skip, n - nSkip, f32);
    return w.finish();
  }
  const q = grid ? new GridQuantizer(grid.half, 0, plan.radius) : new LinearQuantizer(plan.bound.abs, f32, 0, plan.radius);
  q.codes = scratchTyped('codes', Uint32Array, Math.max(1, n - nSkip));
  const predictor = predictorByName(plan.predictor);
  const input = reversed ? reversedInput(indices ?? values, skip, pshape) : { x: indices ?? values, skip, pshape };
  predictor.encode(input.x as FieldValues, input.skip, input.pshape, q, tune);
  // with nothing skipped every point has a code in the predictor's order: the coder's line context knows the lines
  const lines = input.skip === null ? predictor.codeLines(input.pshape) : null;
  // a chunk's own coding (given the lossless stage its payload goes through) tries Huffman codes through it too;
  // planning's sizings leave it out (the same plans win, and each try costs a Huffman coding and a zstd run)
  // (effort fast tries Huffman through the lossless stage on 1-D fields, the coordinates of unstructured grids, whose
  // codes repeat element by element, 0.6 x SZ3's ratio without it, and where its plan's block said so, huffmanTry)
  // (and a chunk of few codes with every coder, as the best effort codes it: FAST_ALL_CODERS_MAX_CODES)
  const oneCoder = plan.effort === 'fast' && q.nCodes > FAST_ALL_CODERS_MAX_CODES;
  const huffmanTry = !oneCoder || input.pshape.length === 1 || plan.huffmanTry === true;
  const packedSize = huffmanTry && backend && backend.id !== LOSSLESS_NONE ? (block: Uint8Array) => backend.compress(block).length : undefined;
  writeCodes(w, q, { entropy: plan.entropy ?? 'auto', bareCount: true, largeBinaryTry: true, lines, packedSize, oneCoder }, (cap) => new ByteWriter(cap));
  // grid escapes are indices, which can pass float32's integers
  writeEscapes(w, q, f32 && !grid);
  return w.finish();
}

/** Bit of a chunk's interpolation byte (flag 8; the tuning in the low bits): the passes run on the reversed axes. */
const REVERSED_AXES = 128;

/** What the predictor reads with its axes reversed (REVERSED_AXES): values or grid indices, skip, shape; into scratch. */
function reversedInput(x: FieldValues | Float64Array, skip: Uint8Array | null, pshape: number[]): { x: FieldValues | Float64Array; skip: Uint8Array | null; pshape: number[] } {
  const n = x.length;
  return {
    x: reverseAxes(x, pshape, x instanceof Float32Array ? scratchTyped('reversedValues', Float32Array, n) : scratchTyped('reversedValues', Float64Array, n)),
    skip: skip && reverseAxes(skip, pshape, scratchTyped('reversedSkip', Uint8Array, n)),
    pshape: [...pshape].reverse(),
  };
}

/**
 * The one value every point not skipped holds, or undefined (also when none is kept). Under a lossy bound -0 and 0
 * are one value; at a lossless bound the zeros of the other sign are listed (`exact`, stored bit for bit), unless
 * they are more than a sixteenth of the points (rounding leaves a few -0 where tiny negatives were). Under a lossy
 * bound, points spanning less than twice the bound are one value too: the float midway, within the bound of each
 * (checked strictly, so float rounding cannot take it past). A fill far from the data (1e20 over the sea, undeclared)
 * makes every chunk so at a relative bound; their codes, all zero, cost a predictor pass and several codings each.
 * `withinBound` false: only one value held exactly (planning's sizes, encodeChunkPayload).
 */
function constantValue(values: FieldValues, skip: Uint8Array | null, bound: ResolvedBound, f32: boolean, withinBound: boolean): { value: number; exact: number[] } | undefined {
  const n = values.length;
  let i = 0;
  if (skip !== null) while (i < n && skip[i] !== 0) i++;
  if (i === n) return undefined;
  const first = values[i]!;
  // the kept points' range, given up once it reaches twice the bound (at once, for most chunks)
  const span = bound.lossless || !withinBound ? 0 : 2 * bound.abs;
  let lo = first;
  let hi = first;
  for (; i < n; i++) {
    if (skip !== null && skip[i] !== 0) continue;
    const v = values[i]!;
    if (v < lo) lo = v;
    else if (v > hi) hi = v;
    else continue;
    if (!(hi - lo <= span)) return undefined;
  }
  if (lo !== hi) {
    const mid = f32 ? Math.fround(lo + (hi - lo) / 2) : lo + (hi - lo) / 2;
    return hi - mid < bound.abs && mid - lo < bound.abs ? { value: mid, exact: [] } : undefined;
  }
  const exact: number[] = [];
  if (first === 0 && bound.lossless) {
    for (let k = 0; k < n; k++) if ((skip === null || skip[k] === 0) && !Object.is(values[k], first)) exact.push(k);
    if (exact.length > n / 16) return undefined;
  }
  return { value: first, exact };
}

/** A constant chunk (CONSTANT_PREDICTOR_ID); `exact`: the non-finite and other points stored bit for bit. */
function constantChunkPayload(
  w: ByteWriter, value: number, values: FieldValues, mask: Uint8Array | null, shape: number[], exact: number[], fillExc: number[], f32: boolean,
): Uint8Array {
  w.u8(CONSTANT_PREDICTOR_ID);
  const maskRepeats = mask !== null && maskRowsRepeat(mask, shape);
  w.u8(chunkHeadFlags(mask, exact, fillExc) | (mask ? chunkMaskFlags(shape, maskRepeats) : 0));
  w.varint(values.length);
  if (mask) writeChunkMask(w, mask, shape, maskRepeats);
  writeValueLists(w, [exact, fillExc], values, f32);
  if (f32) w.f32(value);
  else w.f64(value);
  return w.finish();
}

/** Two ascending index lists as one. */
function mergeSorted(a: number[], b: number[]): number[] {
  if (!a.length) return b;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i]! < b[j]!) ? a[i++]! : b[j++]!);
  return out;
}

/** Lossless: byte planes of the kept values, each delta-coded. */
function writePlanes(w: ByteWriter, values: FieldValues, skip: Uint8Array | null, m: number, f32: boolean): void {
  const kept = f32 ? new Float32Array(m) : new Float64Array(m);
  let j = 0;
  for (let i = 0; i < values.length; i++) if (skip === null || skip[i] === 0) kept[j++] = values[i]!;
  const bytes = new Uint8Array(kept.buffer);
  const width = f32 ? 4 : 8;
  w.ensure(bytes.length);
  const out = w.buf;
  let p = w.pos;
  for (let b = 0; b < width; b++) {
    let prev = 0;
    for (let i = 0; i < m; i++) {
      const v = bytes[i * width + b]!;
      out[p++] = (v - prev) & 0xff;
      prev = v;
    }
  }
  w.pos = p;
}

function readPlanes(r: ByteReader, out: FieldValues, skip: Uint8Array | null, m: number, f32: boolean): void {
  const width = f32 ? 4 : 8;
  const src = r.bytes(m * width, 'lossless values');
  const kept = f32 ? new Float32Array(m) : new Float64Array(m);
  const bytes = new Uint8Array(kept.buffer);
  let p = 0;
  for (let b = 0; b < width; b++) {
    let prev = 0;
    for (let i = 0; i < m; i++) {
      prev = (prev + src[p++]!) & 0xff;
      bytes[i * width + b] = prev;
    }
  }
  let j = 0;
  for (let i = 0; i < out.length; i++) if (skip === null || skip[i] === 0) out[i] = kept[j++]!;
}

/**
 * A chunk coded by the plan, and by its other codings where one is smaller: the plan's alternative, then its contest's
 * leader (contestLeader, once the chunk's own coding is known).
 */
export function encodeChunk(plan: ClassicPlan, values: FieldValues, mask: Uint8Array | null, shape: number[], backend: LosslessBackend): EncodedChunk {
  const own = encodeChunkAs(plan, values, mask, shape, backend);
  if (own.constant) return own;
  const codedAs = (coding: PlanAlternative) => ({ coding, chunk: encodeChunkAs({ ...plan, ...coding }, values, mask, shape, backend) });
  const alternative = plan.alternative ? [codedAs(plan.alternative)] : [];
  const leader = contestLeader(plan, { values, mask, shape }, own, backend);
  const kept = smallestCoding(own, [...alternative, ...(leader ? [codedAs(leader)] : [])]);
  return withExactCoding(plan, kept, values, mask, shape, backend);
}

/**
 * A chunk coded to this share of its values' own bytes or more is coded exactly too (byte planes), and the smaller
 * stored (settleChunk): at a bound below the values' float resolution (abs 1e-9 on float32 near 1, whose ulp is
 * 1.2e-7) every value must come back bit for bit anyway, and quantization codes of ~10^7 bins cost up to twice what
 * the exact coding does.
 */
const EXACT_TRY_SHARE = 1 / 3;

/**
 * `kept`, with the chunk coded exactly beside it where kept reached EXACT_TRY_SHARE. Where a chunk's codings are
 * coded apart (in workers, a hedge's probe), each carries it, so that whichever the caller keeps (smallestCoding,
 * probeOutcome) settleChunk weighs the same exact coding: the same bytes however the codings were shared out.
 */
function withExactCoding(plan: ClassicPlan, kept: EncodedChunk, values: FieldValues, mask: Uint8Array | null, shape: number[], backend: LosslessBackend): EncodedChunk {
  if (plan.bound.lossless || kept.stored.length < EXACT_TRY_SHARE * values.length * values.BYTES_PER_ELEMENT) return kept;
  return { ...kept, exactCoded: encodeChunkAs({ ...plan, bound: { ...plan.bound, abs: 0, lossless: true }, grid: undefined }, values, mask, shape, backend) };
}

/**
 * The chunk as stored, once its coding is kept: coded exactly (LOSSLESS_PREDICTOR_ID, within any bound) where that
 * was computed (withExactCoding) and is strictly smaller.
 */
export function settleChunk(chunk: EncodedChunk): EncodedChunk {
  const { exactCoded, ...kept } = chunk;
  return exactCoded && exactCoded.stored.length < kept.stored.length ? { ...exactCoded, exact: true } : kept;
}

/** What a chunk keeps of its coding so far and another (coded as `coding`): the other only where strictly smaller. */
function smallerCoding(kept: EncodedChunk, other: EncodedChunk, coding: PlanAlternative): EncodedChunk {
  return kept.constant || other.stored.length >= kept.stored.length ? kept : { ...other, coding };
}

/**
 * The chunk a hedged plan (ClassicPlan.hedged) codes both ways before the others (probePlans), its middle one; null
 * where every chunk is coded as the plan says (no hedge, a contest beside it, or a single chunk). Where the plan's own
 * coding is the smaller on it by more than HEDGE_PROBE_MARGIN, the other chunks are coded that way alone, else both
 * ways as before (probeOutcome). From the data alone: the same bytes with any number of workers.
 */
export function hedgeProbe(plan: ClassicPlan): number | null {
  return plan.hedged && plan.alternative && !plan.contest?.length && plan.chunkRows.length > 1 ? plan.chunkRows.length >> 1 : null;
}

/** A hedged plan's two codings, each alone: its own and its alternative's (its probe chunk's, hedgeProbe). */
export function probePlans(plan: ClassicPlan): [own: ClassicPlan, alternative: ClassicPlan] {
  return [codedOneWay(plan), codedOneWay(plan, plan.alternative)];
}

/**
 * What a chunk coded both ways (probePlans) keeps, the smaller coding as encodeChunk would have kept it, and, for a
 * hedged plan's probe, the plan the other chunks take: its own coding alone where that was clearly the smaller there,
 * else the hedged plan.
 */
export function probeOutcome(plan: ClassicPlan, own: EncodedChunk, other: EncodedChunk): { chunk: EncodedChunk; rest: ClassicPlan } {
  const clear = !own.constant && other.stored.length > HEDGE_PROBE_MARGIN * own.stored.length;
  return { chunk: smallerCoding(own, other, plan.alternative!), rest: clear ? codedOneWay(plan) : plan };
}

/** The plan coded one way: its own coding, or `coding` (its alternative, a contest's), with no other tried. */
export function codedOneWay(plan: ClassicPlan, coding?: PlanAlternative): ClassicPlan {
  return { ...plan, ...coding, alternative: undefined, contest: undefined, hedged: undefined };
}

/**
 * The plan's contest's smallest coding on the chunk (sized, not coded), where it is neither the plan's own coding nor
 * its alternative; null where there is none, or where the chunk's own coding (`own`) is not at the ratios the contest
 * is for (contestWanted).
 */
export function contestLeader(plan: ClassicPlan, chunk: PlanSample, own: EncodedChunk, backend: LosslessBackend): PlanAlternative | null {
  if (!contestWanted(plan, chunk, own)) return null;
  const sizeOf = contestSizer(plan, chunk, backend);
  return contestWinner(plan, plan.contest!.map(sizeOf));
}

/** Whether a chunk whose own coding is `own` sizes its plan's contest: it has one, and `own` is at CONTEST_CHUNK_MAX_BITS or less. */
export function contestWanted(plan: ClassicPlan, chunk: PlanSample, own: EncodedChunk): boolean {
  return !!plan.contest?.length && !own.constant && own.stored.length * 8 <= CONTEST_CHUNK_MAX_BITS * chunk.values.length;
}

/** Sizes one of the plan's contest codings on the chunk (its model's estimate of the stored bytes). */
export function contestSizer(plan: ClassicPlan, chunk: PlanSample, backend: LosslessBackend): (coding: PlanAlternative) => number {
  const sizeOf = candidateSizer(plan, chunk, backend);
  return (coding) => sizeOf({ ...plan, ...coding });
}

/** The contest's coding of the smallest of `sizes` (one per contest coding), where it is not the plan's own nor its alternative. */
export function contestWinner(plan: ClassicPlan, sizes: readonly number[]): PlanAlternative | null {
  const leader = plan.contest![sizes.indexOf(Math.min(...sizes))]!;
  return sameCoding(leader, plan) || (plan.alternative && sameCoding(plan.alternative, leader)) ? null : leader;
}

/**
 * What a chunk keeps of its own coding (`own`) and its other codings (its alternative, its contest's leader: in that order): encodeChunk's
 * choice, and that of a chunk whose codings ran apart (in other threads), so the same bytes either way.
 */
export function smallestCoding(own: EncodedChunk, others: readonly { coding: PlanAlternative; chunk: EncodedChunk }[]): EncodedChunk {
  return others.reduce((best, o) => smallerCoding(best, o.chunk, o.coding), own);
}

function encodeChunkAs(plan: ClassicPlan, values: FieldValues, mask: Uint8Array | null, shape: number[], backend: LosslessBackend): EncodedChunk {
  const own = offGridChecked(plan, values, mask, shape, backend);
  if (own.constant || !rowsRepeatFarApart(values, mask, shape)) return own;
  // rows repeating far apart (a daily cycle over days, a climatology over years): prediction sees only neighbours and
  // would code each again, so the distinct rows are coded once and the others copied (REPEATED_ROWS_ID), where smaller
  const repeats = storedChunk(repeatedRowsPayload(plan, values, mask, shape, backend), values.length, backend);
  return repeats.stored.length < own.stored.length ? { ...repeats, repeatedRows: true } : own;
}

/** A chunk as its distinct rows' payload and where each row comes from (REPEATED_ROWS_ID). */
function repeatedRowsPayload(plan: ClassicPlan, values: FieldValues, mask: Uint8Array | null, shape: number[], backend: LosslessBackend): Uint8Array {
  const { source, distinct } = distinctRows(values, mask, shape);
  const rowSize = values.length / shape[0]!;
  const kept = new (values instanceof Float32Array ? Float32Array : Float64Array)(distinct.length * rowSize);
  const keptMask = mask ? new Uint8Array(kept.length) : null;
  distinct.forEach((row, d) => {
    kept.set(values.subarray(row * rowSize, (row + 1) * rowSize), d * rowSize);
    keptMask?.set(mask!.subarray(row * rowSize, (row + 1) * rowSize), d * rowSize);
  });
  const w = new ByteWriter(64 + shape[0]! * 2);
  w.u8(REPEATED_ROWS_ID);
  w.varint(distinct.length);
  for (const k of source) w.varint(k);
  w.bytes(encodeChunkPayload(plan, kept, keptMask, [distinct.length, ...shape.slice(1)], undefined, false, backend));
  return w.finish();
}

/** A repeated-rows chunk (REPEATED_ROWS_ID, its byte read): the distinct rows decoded, the copies made. */
function decodeRepeatedRows(h: StreamHeader, r: ByteReader, shape: number[], what: string, allocate: () => FieldValues): DecodedChunk {
  const rows = shape[0]!;
  const rowSize = fieldSize(shape) / rows;
  const count = r.varint('distinct rows');
  if (shape.length < 2 || !(count >= 1 && count < rows)) throw bad(`corrupted stream: ${what} says ${count} of its ${rows} rows are distinct`);
  // a byte at least per row's source, before anything is allocated for them
  r.need(rows, 'row sources');
  const from = new Uint32Array(rows);
  let given = 0;
  for (let row = 0; row < rows; row++) {
    const k = r.varint('row source');
    if (k === 0 ? given >= count : k > given) throw bad(`corrupted stream: row ${row} of ${what} comes from a distinct row that is not there`);
    from[row] = k === 0 ? given++ : k - 1;
  }
  if (given !== count) throw bad(`corrupted stream: ${what} gives ${given} of its ${count} distinct rows`);
  const f32 = h.dtype === 'float32';
  const inner = decodePayload(h, r.bytes(r.remaining(), 'distinct rows'), [count, ...shape.slice(1)], `${what}'s distinct rows`, () => (f32 ? new Float32Array(count * rowSize) : new Float64Array(count * rowSize)), false);
  const out = allocate();
  const mask = inner.mask ? new Uint8Array(out.length) : null;
  for (let row = 0; row < rows; row++) {
    const a = from[row]! * rowSize;
    out.set(inner.values.subarray(a, a + rowSize), row * rowSize);
    mask?.set(inner.mask!.subarray(a, a + rowSize), row * rowSize);
  }
  return { values: out, mask };
}

/**
 * The chunk coded as the plan says, and where the plan's grid leaves more than its share of the chunk's points off it
 * (MIN_ON_GRID_SHARE: a region not rounded as the planning sample was), coded off the grid too, the smaller kept:
 * each point off the grid is stored exactly (a rounded field in an unrounded frame, 12 x 160 x 160 at rel 1e-3: 2.14
 * x, against 14.8 x for SZ3). Decoders read a chunk's grid from its flags.
 */
function offGridChecked(plan: ClassicPlan, values: FieldValues, mask: Uint8Array | null, shape: number[], backend: LosslessBackend): EncodedChunk {
  // the points off the grid against the chunk's valid points (a chunk mostly of land is judged by its sea)
  const facts = { offGrid: 0, valid: 0 };
  const own = storedChunk(encodeChunkPayload(plan, values, mask, shape, facts, false, backend), values.length, backend);
  if (!plan.grid || facts.offGrid <= (1 - MIN_ON_GRID_SHARE) * facts.valid) return own;
  const plain = storedChunk(encodeChunkPayload({ ...plan, grid: undefined }, values, mask, shape, undefined, false, backend), values.length, backend);
  return plain.stored.length < own.stored.length ? { ...plain, offGrid: true } : own;
}

/** A chunk's payload through the lossless backend (stored as is where that does not shrink it). */
function storedChunk(payload: Uint8Array, values: number, backend: LosslessBackend): EncodedChunk {
  if (payload.length > maxClassicPayload(values)) {
    throw new FieldpackError('INTERNAL', `classic chunk of ${values} values coded to ${payload.length} bytes, more than decoders accept`);
  }
  const constant = payload[0] === CONSTANT_PREDICTOR_ID ? { constant: true as const } : {};
  const packed = backend.compress(payload);
  if (packed.length >= payload.length) return { stored: payload, raw: true, rawBytes: payload.length, crc: crc32(payload), escapes: 0, ...constant };
  return { stored: packed, rawBytes: payload.length, crc: crc32(packed), escapes: 0, ...constant };
}

/** Splits a field into the chunk inputs of a plan (views, no copies). */
export function chunkInputs(plan: ClassicPlan, field: Pick<Field, 'values' | 'mask'>) {
  const rowSize = fieldSize(plan.shape) / plan.shape[0]!;
  const out: { values: FieldValues; mask: Uint8Array | null; shape: number[] }[] = [];
  let r0 = 0;
  for (const rows of plan.chunkRows) {
    const a = r0 * rowSize;
    const b = (r0 + rows) * rowSize;
    out.push({
      values: field.values.subarray(a, b),
      mask: chunkMask(plan, field.values.subarray(a, b), field.mask?.subarray(a, b)),
      shape: [rows, ...plan.shape.slice(1)],
    });
    r0 += rows;
  }
  return out;
}

export function planParams(plan: ClassicPlan): Record<string, unknown> {
  // compact: defaults are left out (radius 32768); per-chunk choices live in each chunk's first byte
  const p: Record<string, unknown> = { predictor: plan.bound.lossless ? 'lossless' : plan.predictor };
  if (plan.predictorChoice === 'auto') p.auto = 1;
  if (plan.radius !== DEFAULT_RADIUS) p.radius = plan.radius;
  if (plan.maxDims !== 4) p.maxDims = plan.maxDims;
  if (plan.tune && plan.predictor.startsWith('interp') && !plan.bound.lossless) p.tune = plan.tune;
  if (plan.grid) {
    if (plan.grid.mantissaBits !== undefined) p.mantissaBits = plan.grid.mantissaBits;
    else p.grid = [plan.grid.offset, plan.grid.step, plan.grid.half, ...(plan.grid.sliceDims ? [plan.grid.sliceDims] : [])];
    p.predictor = plan.predictor;
  }
  return p;
}

export function assembleStream(plan: ClassicPlan, chunks: EncodedChunk[], metadata: StreamMetadata = {}): Uint8Array {
  return writeStream(streamHeaderOf(plan, chunks.map((c) => ({ ...c, storedBytes: c.stored.length })), metadata), chunks.map((c) => c.stored));
}

/** A chunk as the header lists it (its stored bytes kept elsewhere). */
export type ChunkSummary = Omit<EncodedChunk, 'stored'> & { storedBytes: number };

/**
 * The plan as its chunks were coded: the other coding every chunk that is not constant took, where they took one; no
 * grid where each of them was coded off it.
 */
export function codedPlan(plan: ClassicPlan, chunks: readonly Pick<EncodedChunk, 'coding' | 'constant' | 'offGrid'>[]): ClassicPlan {
  const coding = chunks.find((c) => !c.constant)?.coding;
  const all = coding && chunks.every((c) => c.constant || (c.coding && sameCoding(c.coding, coding)));
  const coded = all ? { ...plan, ...coding, alternative: undefined, contest: undefined } : plan;
  const offGrid = plan.grid && chunks.some((c) => !c.constant) && chunks.every((c) => c.constant || c.offGrid);
  return offGrid ? { ...coded, grid: undefined } : coded;
}

/** The stream's header alone: the chunks' stored bytes follow it in order (bounded-memory encoding). */
export function assembleHeader(plan: ClassicPlan, chunks: ChunkSummary[], metadata: StreamMetadata = {}): Uint8Array {
  return writeStream(streamHeaderOf(plan, chunks, metadata), []);
}

function streamHeaderOf(plan: ClassicPlan, chunks: ChunkSummary[], metadata: StreamMetadata): HeaderInput {
  return (
    {
      codec: CLASSIC_CODEC_ID,
      fieldpackVersion: FIELDPACK_VERSION,
      dtype: plan.dtype,
      shape: plan.shape,
      bound: { mode: plan.bound.mode, value: plan.bound.value, abs: plan.bound.abs, lossless: plan.bound.lossless },
      validMin: plan.validMin,
      validMax: plan.validMax,
      backendId: plan.backendId,
      hasMask: plan.hasMask,
      fillValue: plan.fillValue,
      ...(plan.implicitFill ? { implicitFill: true } : {}),
      params: planParams(codedPlan(plan, chunks)),
      metadata,
      chunks: chunks.map((c, i) => ({ rows: plan.chunkRows[i]!, storedBytes: c.storedBytes, rawBytes: c.rawBytes, crc: c.crc, ...(c.raw ? { raw: true } : {}) })),
    }
  );
}

/** Single-threaded compression of a whole field (the services run the same steps in workers). */
export function compressClassic(field: Pick<Field, 'values' | 'shape' | 'mask'>, opts: ClassicOptions, backend: LosslessBackend) {
  const planned = planCompression(field, opts, backend);
  const inputs = chunkInputs(planned, field);
  const probe = hedgeProbe(planned);
  const encode = (p: ClassicPlan, j: number) => encodeChunk(p, inputs[j]!.values, inputs[j]!.mask, inputs[j]!.shape, backend);
  const probed = probe === null ? null : probeOutcome(planned, ...(probePlans(planned).map((p) => encode(p, probe)) as [EncodedChunk, EncodedChunk]));
  const plan = probed?.rest ?? planned;
  const chunks = inputs.map((_, j) => settleChunk(j === probe ? probed!.chunk : encode(plan, j)));
  return { bytes: assembleStream(plan, chunks, opts.metadata), plan };
}

// ---------------------------------------------------------------- decoding

const bad = (msg: string) => new FieldpackError('BAD_STREAM', msg);

/** Decodes chunk i from the whole stream bytes (checks CRC, decompresses, decodes). */
export function decodeChunk(h: StreamHeader, bytes: Uint8Array, i: number): DecodedChunk {
  const stored = chunkBytes(h, bytes, i);
  return decodeChunkStored(h, i, stored);
}

/** The classic params a decoder uses, range-checked (the others are checked for type only: they are informative). */
export function classicDecodeParams(h: StreamHeader): { radius: number; grid: GridPlan | null } {
  const p = h.params;
  const radius = p.radius === undefined ? DEFAULT_RADIUS : checkRadius(p.radius, 'classic');
  if (p.predictor !== undefined && !(p.predictor === 'lossless' || PREDICTORS.some((x) => x.name === p.predictor))) {
    throw bad(`corrupted header: unknown classic predictor ${JSON.stringify(p.predictor)}`);
  }
  if (p.tune !== undefined && !(Number.isInteger(p.tune) && (p.tune as number) >= 0 && (p.tune as number) < INTERP_TUNINGS.length)) {
    throw bad(`corrupted header: classic tune ${JSON.stringify(p.tune)} (an integer 0..${INTERP_TUNINGS.length - 1})`);
  }
  if (p.maxDims !== undefined && !(Number.isInteger(p.maxDims) && (p.maxDims as number) >= 1 && (p.maxDims as number) <= 4)) {
    throw bad(`corrupted header: classic maxDims ${JSON.stringify(p.maxDims)} (an integer 1..4)`);
  }
  if (p.grid !== undefined && p.mantissaBits !== undefined) throw bad('corrupted header: a classic stream on both a grid and a mantissa grid');
  if (p.mantissaBits !== undefined) return { radius, grid: mantissaParam(p.mantissaBits, h.dtype) };
  return { radius, grid: p.grid === undefined ? null : gridParam(p.grid, h.shape.length) };
}

/** The header's mantissaBits: the bits a float32 stream's mantissa grid keeps, 0..MAX_MANTISSA_BITS (the format's limit). */
function mantissaParam(v: unknown, dtype: string): GridPlan {
  if (dtype !== 'float32' || !(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_MANTISSA_BITS)) {
    throw bad(`corrupted header: classic mantissaBits ${JSON.stringify(v)} (an integer 0..${MAX_MANTISSA_BITS}, float32 streams only)`);
  }
  return { offset: 0, step: 1, half: 0, tolerance: 0, mantissaBits: v as number };
}

/**
 * The header's grid [offset, step, half] or [offset, step, half, sliceDims]: finite, a positive step, half
 * 0..MAX_GRID_HALF, and for a grid of slices (an offset per slice, in each chunk) 1..ndims - 1 leading dims. Readers
 * before grids of slices refuse the four entries.
 */
function gridParam(v: unknown, ndims: number): GridPlan {
  const ok = Array.isArray(v) && (v.length === 3 || v.length === 4) && v.every((x) => typeof x === 'number' && Number.isFinite(x))
    && v[1] > 0 && Number.isInteger(v[2]) && v[2] >= 0 && v[2] < MAX_GRID_HALF && (v.length === 3 || (Number.isInteger(v[3]) && v[3] >= 1 && v[3] < ndims));
  if (!ok) throw bad(`corrupted header: classic grid ${JSON.stringify(v)} (offset, a positive step, half steps 0..${MAX_GRID_HALF - 1}[, sliced dims 1..${ndims - 1}])`);
  const [offset, step, half, sliceDims] = v as number[];
  return { offset: offset!, step: step!, half: half!, tolerance: 0, ...(sliceDims !== undefined ? { sliceDims } : {}) };
}

/** The largest classic chunk payload of n values (the encoder never writes more; the decoder refuses more). */
function maxClassicPayload(n: number): number {
  return MAX_PAYLOAD_BYTES_PER_VALUE * n + MAX_PAYLOAD_SLACK;
}

/**
 * Decodes chunk i from its stored bytes alone (what a worker receives). `into`: zero-filled values of the chunk's
 * length and the header's dtype to decode into (the output's own view of the chunk, decoded.ts chunkAssembly), asked
 * for once the chunk's data has shown it holds them.
 */
export function decodeChunkStored(h: StreamHeader, i: number, stored: Uint8Array, into?: () => FieldValues): DecodedChunk {
  return guarded(h, () => decodeChunkPayload(h, i, stored, into));
}

function decodeChunkPayload(h: StreamHeader, i: number, stored: Uint8Array, into?: () => FieldValues): DecodedChunk {
  if (h.codec !== CLASSIC_CODEC_ID) throw new FieldpackError('UNSUPPORTED', `codec "${h.codec}" is not the classic codec`);
  const c = h.chunks[i]!;
  const shape = [c.rows, ...h.shape.slice(1)];
  const n = fieldSize(shape);
  if (c.rawBytes > maxClassicPayload(n)) throw bad(`corrupted header: chunk ${i} raw size ${c.rawBytes} bytes exceeds ${maxClassicPayload(n)} for its ${n} values`);
  const f32 = h.dtype === 'float32';
  const allocate = (): FieldValues => {
    if (!into) return f32 ? new Float32Array(n) : new Float64Array(n);
    const out = into();
    if (out.length !== n || f32 !== out instanceof Float32Array) throw new FieldpackError('INTERNAL', `chunk ${i}: an output of ${out.length} values for its ${n} ${h.dtype} values`);
    return out;
  };
  return decodePayload(h, chunkPayload(h, i, stored), shape, `chunk ${i}`, allocate, true);
}

/**
 * A chunk payload of `shape` decoded into allocate()'s array; `what` names it in errors. `outer`: a chunk's own payload,
 * which may hold its distinct rows' payload (REPEATED_ROWS_ID); that one may not again.
 */
function decodePayload(h: StreamHeader, payload: Uint8Array, shape: number[], what: string, allocate: () => FieldValues, outer: boolean): DecodedChunk {
  const { radius, grid } = classicDecodeParams(h);
  const n = fieldSize(shape);
  const r = new ByteReader(payload, what);
  const f32 = h.dtype === 'float32';
  if (outer && payload[0] === REPEATED_ROWS_ID && h.formatVersion >= 2) {
    r.u8('predictor id');
    return decodeRepeatedRows(h, r, shape, what, allocate);
  }
  const pbyte = r.u8('predictor id');
  const constant = pbyte === CONSTANT_PREDICTOR_ID && h.formatVersion >= 2;
  const unpredicted = pbyte === LOSSLESS_PREDICTOR_ID || constant;
  const pid = unpredicted ? pbyte : pbyte & 15;
  const maxDims = unpredicted ? 4 : pbyte >> 4;
  if (maxDims < 1 || maxDims > 4) throw bad(`corrupted stream: bad predictor byte ${pbyte} in ${what}`);
  const flags = r.u8('chunk flags');
  if (
    (flags & 248 && h.formatVersion < 2) || (flags & 16 && !(flags & 1)) || (flags & 128 && !(flags & 16)) || (flags & 64 && (!(flags & 16) || shape.length < 3 || shape[0]! < 2)) ||
    (constant && (flags & (8 | 32)) !== 0)
  ) {
    throw bad(`corrupted stream: bad flags ${flags} in ${what}`);
  }
  if (constant) return decodeConstantChunk(h, r, shape, flags, what, allocate);
  const onGrid = (flags & 32) !== 0;
  if (onGrid && (!grid || pid === LOSSLESS_PREDICTOR_ID || predictorById(pid).name === 'dq-lorenzo')) throw bad(`corrupted stream: ${what} is coded on a grid the header does not give`);
  // a lossless bound is coded as byte planes, or as grid indices (exact on the grid); a lossy one may have chunks coded
  // exactly where that was smaller (settleChunk)
  if (pid !== LOSSLESS_PREDICTOR_ID && h.bound.lossless && !onGrid) {
    throw bad(`corrupted stream: ${what} is predicted but the header's absolute bound is ${h.bound.abs}`);
  }
  const interpByte = flags & 8 ? r.u8('interpolation tuning') : 0;
  const tune = interpByte & ~REVERSED_AXES;
  const reversed = (interpByte & REVERSED_AXES) !== 0;
  const pshape = predictorShape(shape, maxDims);
  if (tune >= INTERP_TUNINGS.length || (interpByte && pid !== 2 && pid !== 3) || (reversed && !axesReversible(pshape))) {
    throw bad(`corrupted stream: bad interpolation tuning ${interpByte} in ${what}`);
  }
  if (h.formatVersion === 1) {
    const nn = r.varint('value count');
    if (nn !== n) throw bad(`corrupted stream: ${what} holds ${nn} values, its rows need ${n}`);
  }
  let mask: Uint8Array | null = null;
  let skip: Uint8Array | null = null;
  let nSkip = 0;
  // skip stays null while no point is skipped, as the encoder's (scanExceptions): with it the codes have lines (a
  // masked field's chunk whose mask is all ones was refused as "uses the line context where its codes have no lines")
  if (flags & 1) {
    mask = readChunkMask(r, shape, flags);
    eachMaskedRun(mask, (start, end) => {
      skip ??= new Uint8Array(n);
      skip.fill(1, start, end);
      nSkip += end - start;
    });
  }
  const nonfinite = flags & 2 ? readValueList(r, n, f32, 'non-finite values', what) : null;
  const fillExc = flags & 4 ? readValueList(r, n, f32, 'fill exceptions', what) : null;
  const offsets = onGrid && grid!.sliceDims ? readSliceOffsets(r, n / sliceValues(shape, grid!.sliceDims), f32, what) : null;
  if (nonfinite?.idx.length) {
    skip ??= new Uint8Array(n);
    for (const k of nonfinite.idx) {
      if (skip[k] !== 1) nSkip++;
      skip[k] = 1;
    }
  }
  // the values are allocated once the data has shown it holds them (the entropy-coded parts decoded)
  let out: FieldValues;
  if (pid === LOSSLESS_PREDICTOR_ID) {
    r.need((n - nSkip) * (f32 ? 4 : 8), 'lossless values');
    out = allocate();
    readPlanes(r, out, skip, n - nSkip, f32);
  } else {
    const pred = predictorById(pid);
    // reversed axes: the predictor decodes the reversed array (fresh, as `out`: skipped points stay 0), turned back below
    const rshape = reversed ? [...pshape].reverse() : pshape;
    const rskip = reversed && skip ? reverseAxes(skip, pshape, new Uint8Array(n)) : skip;
    const lines = () => (rskip === null ? pred.codeLines(rshape) : null);
    // into this thread's scratch: the codes live only until the predictor has read them, below
    const codes = readCodes(r, radius, n - nSkip, what, { huffman: true, ms: h.formatVersion >= 2, bareCount: true, lines }, scratchTyped('codes', Uint32Array, n - nSkip));
    const esc = readEscapes(r, codes, f32 && !onGrid, what);
    const q = onGrid ? new GridQuantizer(grid!.half, 0, radius) : new LinearQuantizer(h.bound.abs, f32, 0, radius);
    q.load(codes, codes.length, esc, esc.length);
    out = allocate();
    if (onGrid) {
      const gq = q as GridQuantizer;
      // working memory: fromGridIndices reads back only the points the predictor wrote
      const indices = scratchTyped('gridIndices', Float64Array, n);
      if (reversed) reverseAxes(decodedReversed(pred, new Float64Array(n), rskip, rshape, q, tune), rshape, indices);
      else {
        // (the kernels map one offset: a grid of slices' indices are mapped below)
        if (!offsets) gq.decodeValuesInto(grid!, out);
        pred.decode(indices, skip, pshape, q, tune);
      }
      if (offsets) fromSlicedGridIndices(indices.subarray(0, n), out, skip, shape, grid!, offsets, f32);
      else if (!gq.valuesWritten) fromGridIndices(indices, out, skip, grid!, f32);
    } else if (reversed) reverseAxes(decodedReversed(pred, f32 ? new Float32Array(n) : new Float64Array(n), rskip, rshape, q, tune), rshape, out);
    else pred.decode(out, skip, pshape, q, tune);
  }
  if (r.remaining() !== 0) throw bad(`corrupted stream: ${r.remaining()} unexpected bytes at the end of ${what}`);
  return finishChunk(out, mask, h.fillValue, fillExc, nonfinite);
}

/** A chunk's slice offsets on a grid of slices (encodeChunkPayload): finite, in the stream's width. */
function readSliceOffsets(r: ByteReader, slices: number, f32: boolean, what: string): Float64Array {
  r.need(slices * (f32 ? 4 : 8), 'grid slice offsets');
  const offsets = new Float64Array(slices);
  for (let s = 0; s < slices; s++) {
    offsets[s] = readRaw(r, f32, 'grid slice offset');
    if (!Number.isFinite(offsets[s])) throw bad(`corrupted stream: grid slice offset ${offsets[s]} in ${what}`);
  }
  return offsets;
}

/** The predictor's decoding into `into` (the chunk with its axes reversed), returned. */
function decodedReversed<T extends FieldValues | Float64Array>(pred: ReturnType<typeof predictorById>, into: T, skip: Uint8Array | null, rshape: number[], q: LinearQuantizer | GridQuantizer, tune: number): T {
  pred.decode(into as FieldValues, skip, rshape, q, tune);
  return into;
}

/** The rest of a constant chunk (CONSTANT_PREDICTOR_ID), after its flags. */
function decodeConstantChunk(h: StreamHeader, r: ByteReader, shape: number[], flags: number, what: string, allocate: () => FieldValues): DecodedChunk {
  const n = fieldSize(shape);
  const f32 = h.dtype === 'float32';
  const count = r.varint('value count');
  if (count !== n) throw bad(`corrupted stream: ${what} holds ${count} values, its rows need ${n}`);
  const mask = flags & 1 ? readChunkMask(r, shape, flags) : null;
  const nonfinite = flags & 2 ? readValueList(r, n, f32, 'non-finite values', what) : null;
  const fillExc = flags & 4 ? readValueList(r, n, f32, 'fill exceptions', what) : null;
  const value = readRaw(r, f32, 'constant value');
  if (r.remaining() !== 0) throw bad(`corrupted stream: ${r.remaining()} unexpected bytes at the end of ${what}`);
  const out = allocate();
  out.fill(value);
  return finishChunk(out, mask, h.fillValue, fillExc, nonfinite);
}

/** Single-threaded decompression of a whole stream, or of rows [start, end) only. */
export function decompressClassic(bytes: Uint8Array, opts: { rows?: [number, number] } = {}): DecodedField {
  const h = readHeader(bytes);
  const [start, end] = opts.rows ?? [0, h.shape[0]!];
  const ids = chunksForRows(h, start, end);
  const decoded = ids.map((i) => decodeChunk(h, bytes, i));
  if (!opts.rows && bytes.length > h.totalBytes) throw bad(`corrupted stream: ${bytes.length - h.totalBytes} unexpected bytes after the last chunk`);
  return guarded(h, () => assembleDecoded(h, ids, decoded, start, end));
}

export { PREDICTORS };
