/** The CLI side of `fieldpack bench --codec crossfield` (called from doors/cli/commands/bench.ts). */
import { writeFileAtomic } from '../files/atomic.ts';
import type { BoundSpec } from '../../core/codec/bound.ts';
import { FieldpackError } from '../../core/errors.ts';
import { crossfieldBenchTable, runCrossfieldBench } from './bench.ts';

interface Io {
  out(line: string): void;
  progress(fraction: number, message: string): void;
  progressDone(): void;
}

export async function crossfieldBenchCli(
  files: string[], vars: string[] | undefined, anchors: string | undefined, network: string | undefined, bounds: BoundSpec[], json: string, reference: string | undefined, io: Io,
  run: { workers: number; reusedModel: boolean; minSeconds?: number },
): Promise<number> {
  if (run.reusedModel && network && network !== 'linear') throw new FieldpackError('INVALID_ARGUMENT', '--reused-model fits the linear network once: leave --network out or give --network linear');
  if (!vars?.length) throw new FieldpackError('INVALID_ARGUMENT', 'bench --codec crossfield needs --vars TARGET[,TARGET...]');
  if (network && !['cfnn', 'linear', 'none', 'best'].includes(network)) throw new FieldpackError('INVALID_ARGUMENT', `--network must be cfnn, linear, none or best`);
  const rows = await runCrossfieldBench({
    files, vars, anchors: anchors?.split(',').filter(Boolean), bounds, network: network as never, reference, workers: run.workers, reusedModel: run.reusedModel, minSeconds: run.minSeconds,
    onProgress: (f, m) => io.progress(f, m ?? ''),
  });
  io.progressDone();
  const protocol = [
    'Target field whole as float32; anchors compressed first by the core codec at the same bound; only their reconstructions feed the network.',
    "compression_ratio = 4 x values / target stream bytes (network embedded, counted); anchors' own streams are not counted (stored anyway; anchor_ratios).",
    'core_ratio: the core codec (auto predictor) on the same field and bound, measured here; sz3_ratio: best SZ3 row of baselines.json; ratio_over_best = ratio / max(core, SZ3).',
    'train_seconds: online training (CFNN on CPU and/or least-squares linear CFNN) on the field; MB/s excludes training and anchors.',
    ...(run.reusedModel ? [`compress_mb_s / decompress_mb_s with a reused model: the fastest of runs repeated over ${run.minSeconds ?? 0.3} s (2 to 5, as the core codec's rows; the same bytes each run); first_compress_mb_s: the first run, on cold code.`] : ['compress_mb_s: one run (first_compress_mb_s the same).']),
    `workers: ${run.workers} (the candidate networks near the smallest estimate encoded side by side; the network's inference and the core codec in the calling thread).`,
    ...(run.reusedModel ? ['reused_model: the linear network fitted once on the first step along the leading dim (the whole field when 2D) and given, as an archive series reuses it; its fit is train_seconds.'] : []),
  ];
  await writeFileAtomic(json, JSON.stringify({ protocol, rows }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1));
  io.out(crossfieldBenchTable(rows));
  return rows.some((r) => r.error || r.points_over_bound > 0) ? 1 : 0;
}
