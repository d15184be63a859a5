/**
 * One echarts instance bound to an element for a component's lifetime: created on mount, resized with
 * its element, redrawn when `sources` change, disposed on unmount. `option` returns null for "nothing
 * to draw yet" (the chart is then cleared).
 */
import { onBeforeUnmount, onMounted, watch, type Ref, type WatchSource } from 'vue';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

/**
 * `group`: charts of one group zoom and pan together (echarts.connect), e.g. error maps side by side.
 */
export function useEchart(
  el: Ref<HTMLElement | undefined>,
  option: () => echarts.EChartsCoreOption | null,
  sources: WatchSource[],
  opts: { group?: string } = {},
): { render: () => void } {
  let chart: echarts.ECharts | null = null;
  let resize: ResizeObserver | null = null;
  const render = () => {
    if (!chart) return;
    const o = option();
    if (o) chart.setOption(o, true);
    else chart.clear();
  };
  onMounted(() => {
    chart = echarts.init(el.value!);
    if (opts.group) {
      chart.group = opts.group;
      echarts.connect(opts.group);
    }
    render();
    resize = new ResizeObserver(() => chart?.resize());
    resize.observe(el.value!);
  });
  onBeforeUnmount(() => {
    resize?.disconnect();
    chart?.dispose();
    chart = null;
  });
  watch(sources, render, { deep: true });
  return { render };
}
