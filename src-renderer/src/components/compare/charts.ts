/**
 * What the Compare view's charts share: the extra echarts parts they use (heatmaps, colour scales, zoom), the
 * colour scales, short log-axis labels and a label per run.
 */
import * as echarts from 'echarts/core';
import { HeatmapChart, ScatterChart } from 'echarts/charts';
import { DataZoomComponent, VisualMapComponent } from 'echarts/components';
import type { CompressRunRow } from '@api/methods/compression.ts';
import { formatNumber } from '../../format.ts';

echarts.use([HeatmapChart, ScatterChart, DataZoomComponent, VisualMapComponent]);

/** Diverging blue - white - red for signed errors; a dark-to-yellow ramp for SSIM (the reports use the same stops). */
export const DIVERGING = ['#2166ac', '#67a9cf', '#d1e5f0', '#f7f7f7', '#fddbc7', '#ef8a62', '#b2182b'];
export const SEQUENTIAL = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];

/** One colour per picked run, the same in every chart (the legend above the charts says which). */
export const RUN_COLOURS = ['#2160c4', '#d9480f', '#2b8a3e', '#862e9c', '#e67700', '#0b7285', '#c2255c', '#5c940d'];
export const runColour = (i: number) => RUN_COLOURS[i % RUN_COLOURS.length]!;

/** Axis ticks as the tables write numbers (nice tick values come out short: 1e-5, 0.002, 2.5e+5). */
export const axisLabel = { formatter: (v: number) => formatNumber(v) };

/** A baseline tuned to Fieldpack's PSNR is named so: at its own tolerance, its errors pass the bound it started from. */
export function runLabel(r: Pick<CompressRunRow, 'runId' | 'codec' | 'boundText' | 'tags'>): string {
  const matched = r.tags.baseline_match === 'psnr' ? ` PSNR-matched${r.tags.tolerance ? ` (tolerance ${formatNumber(r.tags.tolerance, 3)})` : ''}` : '';
  return `#${r.runId} ${r.codec} ${r.boundText}${matched}`;
}
