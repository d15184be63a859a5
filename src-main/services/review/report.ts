/**
 * Reports: one self-contained HTML file (tables, charts as inline SVG rendered by echarts on the server, maps as
 * inline PNG; no network, no script) saying the software version, the data's provenance and every parameter, so a
 * colleague can rerun the runs; and a PDF of it (Chromium headless, or Electron's printToPDF in the desktop app).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { hostname, platform, release } from 'node:os';
import * as echarts from 'echarts';
import { FieldpackError } from '../../core/errors.ts';
import { ERROR_STAT_NAMES, SIZE_STAT_NAMES } from '../../core/metrics/index.ts';
import type { CompressParams } from '../../api/methods/compression.ts';
import type { RunAnalysis } from '../../api/methods/review.ts';
import type { RunDetail } from '../../api/schemas.ts';
import type { Store } from '../store/store.ts';
import { checkReplaceable, writeFileAtomic } from '../files/atomic.ts';
import { storeFilesDir } from '../store/files.ts';
import { fieldpackVersion } from '../system/version.ts';
import { COMPRESS_KIND, CROSSFIELD_KIND, FIELD_RUN_KINDS, fieldRunParams, type CompressRunResult } from '../compression/runs.ts';
import { analyseRun, cachedAnalysis } from './analysis.ts';
import { EXTERNAL } from '../compression/baselines/external.ts';
import { DIVERGING, SEQUENTIAL, mapPng, toHex } from './png.ts';
import { chromiumPrintToPdf, pdfPageCount, type PrintToPdf } from './pdf.ts';
import { makeFolder } from '../files/folders.ts';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A value for the HTML: a number shortened, anything else escaped (an imported run's fields may hold any text). */
function num(v: unknown, p = 5): string {
  if (v === null || v === undefined) return '–';
  // a metric the store keeps as text (NaN and the infinities)
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return num(Number(v), p);
  if (typeof v === 'string') return esc(v);
  if (typeof v !== 'number') return esc(JSON.stringify(v));
  // as the workbench shows them (the report printed NaN, Infinity, -Infinity)
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '–' : v > 0 ? '∞' : '-∞';
  if (Number.isInteger(v) && Math.abs(v) < 1e12) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? Number(v.toPrecision(p)).toString() : v.toExponential(p - 1);
}

/** Everything in a run's params as dotted keys (base.x, params.model, bound.mode, ...). */
function flatten(o: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]],
  );
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  await new Promise<void>((res, rej) => createReadStream(path).on('data', (d) => h.update(d)).on('end', res).on('error', rej));
  return h.digest('hex');
}

function runLabel(r: RunDetail): string {
  const p = FIELD_RUN_KINDS.includes(r.kind) ? fieldRunParams(r) : (r.params as Partial<CompressParams>);
  return `#${r.id} ${p.codec ?? r.kind} ${p.bound ? `${p.bound.mode}:${p.bound.value}` : ''}`.trim();
}

/** The command line that makes the same run again. */
export function rerunCommand(r: RunDetail): string {
  // every piece quoted for a POSIX shell (an imported run's params or a tag may hold any text): the report presents
  // these lines to be pasted into a terminal
  const q = (v: unknown) => {
    const s = typeof v === 'string' ? v : JSON.stringify(v) ?? '';
    return /^[\w./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
  };
  const bound = (b: { mode?: unknown; value?: unknown } | undefined) => q(`${b?.mode}:${b?.value}`);
  if (r.kind === CROSSFIELD_KIND) {
    // the cross-field bench runs what the job runs (the anchors compressed first, the network fitted or trained and
    // chosen); `compress --codec crossfield` embeds no network
    const c = fieldRunParams(r);
    const anchors = c.anchors?.length ? c.anchors : String(r.tags['anchors'] ?? '').split(',').filter(Boolean);
    const network = String((r.params as { network?: string }).network ?? 'best');
    return ['fieldpack', 'bench', q(c.file), '--codec', 'crossfield', '--vars', q(c.variable), '--anchors', q(anchors.join(',')), '--network', q(network), '--bounds', bound(c.bound), '--json', q(`run${r.id}.json`)].join(' ');
  }
  const p = r.params as Partial<CompressParams>;
  if (r.kind !== COMPRESS_KIND || !p.file) return `(a ${r.kind} run: see its parameters)`;
  if (p.codec && p.codec in EXTERNAL) {
    // external baselines are not stream codecs: the bench runs them under the same protocol; a row tuned to
    // Fieldpack's PSNR ran at the tolerance the tuning found, not at the bound it started from
    const tuned = r.tags['baseline_match'] === 'psnr' && r.tags['tolerance'] ? q(`abs:${r.tags['tolerance']}`) : null;
    return ['fieldpack', 'bench', q(p.file), '--vars', q(p.variable ?? ''), '--codec', q(p.codec), '--bounds', tuned ?? bound(p.bound), '--json', q(`run${r.id}.json`)].join(' ');
  }
  const parts = ['fieldpack', 'compress', q(p.file), '--var', q(p.variable ?? ''), '--bound', bound(p.bound), '--codec', q(p.codec ?? 'auto')];
  for (const [k, v] of Object.entries(p.params ?? {})) parts.push('--param', q(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`));
  if (p.base) parts.push('--base', q(p.base));
  if (p.workers !== undefined) parts.push('--workers', q(p.workers));
  // recorded, as the run was: the rerun is a run of its own beside it, its stream also copied out
  parts.push('--record', '-o', q(`run${r.id}.fpk`));
  return parts.join(' ');
}

/** Axis labels that stay short on log axes (1e-5, not 0.0000099999). */
const axisLabel = { formatter: (v: number) => (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(0) : String(Number(v.toPrecision(4)))) };
const yName = (name: string) => ({ name, nameLocation: 'middle' as const, nameGap: 56, axisLabel });

function svgChart(option: echarts.EChartsOption, width = 640, height = 280): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  chart.setOption({ animation: false, textStyle: { fontFamily: 'sans-serif' }, ...option });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

const metricOf = (r: RunDetail, key: string): number | null => {
  const m = r.metrics.find((x) => x.key === key && x.step === 0);
  return m && typeof m.value === 'number' ? m.value : null;
};

function groupByCodec(runs: RunDetail[]): Map<string, RunDetail[]> {
  const g = new Map<string, RunDetail[]>();
  for (const r of runs) {
    const c = FIELD_RUN_KINDS.includes(r.kind) ? fieldRunParams(r).codec : r.kind;
    g.set(c, [...(g.get(c) ?? []), r]);
  }
  return g;
}

function rdChart(runs: RunDetail[], x: (r: RunDetail) => number | null, y: (r: RunDetail) => number | null, xName: string, yLabel: string, logX = false): string {
  const series = [...groupByCodec(runs)].map(([codec, rs]) => ({
    name: codec,
    type: 'line' as const,
    symbolSize: 8,
    data: rs.map((r) => [x(r), y(r)]).filter(([a, b]) => a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b) && (!logX || a! > 0)).sort((a, b) => a[0]! - b[0]!),
  }));
  return svgChart({
    legend: { top: 0 },
    grid: { left: 72, right: 24, top: 36, bottom: 48 },
    xAxis: { type: logX ? 'log' : 'value', name: xName, nameLocation: 'middle', nameGap: 28, scale: true, axisLabel },
    yAxis: { type: 'value', scale: true, ...yName(yLabel) },
    series,
  });
}

/** One colour per run in every chart (the Compare view uses the same ones). */
const RUN_COLOURS = ['#2160c4', '#d9480f', '#2b8a3e', '#862e9c', '#e67700', '#0b7285', '#c2255c', '#5c940d'];

function lineChart(series: { name: string; data: [number, number][]; dashed?: boolean; color?: string; thin?: boolean }[], xName: string, yLabel: string, opts: { logX?: boolean; logY?: boolean } = {}): string {
  const legendRows = Math.ceil(series.length / 3);
  return svgChart(
    {
      legend: { top: 0, type: 'plain', itemGap: 12, textStyle: { fontSize: 10 } },
      grid: { left: 80, right: 24, top: 14 + 22 * legendRows, bottom: 48 },
      xAxis: { type: opts.logX ? 'log' : 'value', name: xName, nameLocation: 'middle', nameGap: 28, scale: true, axisLabel },
      yAxis: { type: opts.logY ? 'log' : 'value', scale: true, ...yName(yLabel) },
      series: series.map((s) => ({
        name: s.name,
        type: 'line',
        showSymbol: false,
        data: s.data,
        ...(s.color ? { itemStyle: { color: s.color } } : {}),
        lineStyle: { type: s.dashed ? 'dashed' : 'solid', width: s.thin ? 1 : 2, ...(s.color ? { color: s.color } : {}) },
      })),
    },
    640,
    260 + 22 * legendRows,
  );
}

function colourBar(lo: number, hi: number, stops: typeof DIVERGING, label: string): string {
  const grad = stops.map((c, i) => `${toHex(c)} ${((100 * i) / (stops.length - 1)).toFixed(0)}%`).join(', ');
  return `<div class="cbar"><span>${num(lo, 3)}</span><div style="background: linear-gradient(to right, ${grad})"></div><span>${num(hi, 3)}</span><em>${esc(label)}</em></div>`;
}

export interface ReportInput {
  runIds: number[];
  path?: string;
  pdf: string | boolean;
  title?: string;
}

/** The mark of a Fieldpack report in its head: a later report may replace one, nothing else */
const REPORT_GENERATOR = '<meta name="generator" content="Fieldpack">';
/**
 * What a report may load: its own inline styles and data: images, nothing else (no script, no frame, no file:// or
 * network fetch). A value that got past the escaping could then neither run nor pull a local file into the PDF.
 */
const REPORT_CSP = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`;

export async function createReport(store: Store, input: ReportInput, printToPdf: PrintToPdf = chromiumPrintToPdf): Promise<{ htmlPath?: string; pdfPath?: string; html?: string; pdfBase64?: string; pdfPages?: number; bytes: number }> {
  // a report replaces an earlier report, never another file of that name (checked before any work)
  if (input.path) await checkReplaceable(resolve(input.path), 'a Fieldpack report', (head) => head.includes(REPORT_GENERATOR) || head.includes('<title>Fieldpack report'));
  // the PDF named, or the one named after the HTML report (it replaced whatever file had that name)
  const namedPdf = typeof input.pdf === 'string' ? resolve(input.pdf) : input.pdf && input.path ? pdfBeside(resolve(input.path)) : null;
  if (namedPdf) await checkReplaceable(namedPdf, 'a PDF', (head) => head.startsWith('%PDF-'));
  if (input.path && typeof input.pdf === 'string' && resolve(input.path) === resolve(input.pdf)) {
    throw new FieldpackError('INVALID_ARGUMENT', `${input.pdf} is named for both the HTML report and its PDF: the PDF would replace the HTML; give the PDF another name`);
  }
  // Chromium opens a .pdf file as a PDF, not as the HTML inside it: it printed an empty page
  if (input.path && /\.pdf$/i.test(input.path)) throw new FieldpackError('INVALID_ARGUMENT', `${input.path}: the HTML report is HTML; name it .html (the PDF is --pdf [FILE])`);
  const runs = input.runIds.map((id) => store.getRunDetail(id));
  const analyses = new Map<number, RunAnalysis | null>();
  const notes: string[] = [];
  for (const r of runs) {
    if (!FIELD_RUN_KINDS.includes(r.kind) || r.status !== 'finished') {
      analyses.set(r.id, null);
      continue;
    }
    try {
      analyses.set(r.id, await analyseRun(store, r.id));
    } catch (err) {
      const cached = cachedAnalysis(store, r.id);
      analyses.set(r.id, cached);
      if (!cached) notes.push(`run ${r.id}: no error analysis (${(err as Error).message})`);
    }
  }
  const html = await reportHtml(store, runs, analyses, notes, input.title);
  if (!input.path && !input.pdf) return { html, bytes: Buffer.byteLength(html) };
  // a PDF asked for without a path (Compare's button): both kept in the store's reports folder, and sent back; one
  // pair per set of runs, replaced by the next report of the same runs (a pair a click piled up without end)
  const inline = !input.path;
  const htmlPath = input.path ? resolve(input.path) : join(storeFilesDir(store), 'reports', `${storedReportName(input.runIds)}.html`);
  if (inline) makeFolder(dirname(htmlPath));
  await writeFileAtomic(htmlPath, html);
  if (!input.pdf) return { htmlPath, bytes: Buffer.byteLength(html) };
  const pdfPath = typeof input.pdf === 'string' ? resolve(input.pdf) : pdfBeside(htmlPath);
  if (!existsSync(dirname(pdfPath))) throw new FieldpackError('INVALID_ARGUMENT', `${pdfPath}: the folder ${dirname(pdfPath)} does not exist`);
  await printToPdf(htmlPath, pdfPath);
  return {
    htmlPath,
    pdfPath,
    pdfPages: pdfPageCount(pdfPath),
    bytes: Buffer.byteLength(html),
    ...(inline ? { html, pdfBase64: readFileSync(pdfPath).toString('base64') } : {}),
  };
}

/** The PDF of an HTML report given no name of its own: the report's name with .pdf. */
function pdfBeside(htmlPath: string): string {
  return htmlPath.replace(/\.html?$/i, '') + '.pdf';
}

/** The stored report's name for these runs: their ids, shortened with a hash of them all where there are many. */
function storedReportName(runIds: readonly number[]): string {
  const ids = runIds.join('-');
  return ids.length <= 80 ? `report-${ids}` : `report-${ids.slice(0, 60)}-${createHash('sha256').update(ids).digest('hex').slice(0, 12)}`;
}

async function provenance(store: Store, runs: RunDetail[]): Promise<string> {
  const files = new Map<string, RunDetail[]>();
  for (const r of runs) {
    const f = FIELD_RUN_KINDS.includes(r.kind) ? fieldRunParams(r).file : (r.params as Partial<CompressParams>).file;
    if (f) files.set(resolve(f), [...(files.get(resolve(f)) ?? []), r]);
  }
  const rows: string[] = [];
  for (const [file, rs] of files) {
    let facts = 'not on this machine';
    if (existsSync(file)) {
      const st = statSync(file);
      // a regular file's only: a device or pipe named as the data file (an imported run's) would be read forever
      facts = !st.isFile() ? `not a regular file (${st.isDirectory() ? 'a folder' : 'a device or pipe'}): not read` : `${st.size} bytes, modified ${st.mtime.toISOString().slice(0, 19)}Z, sha256 ${st.size <= 2 ** 31 ? await fileSha256(file) : '(not computed: over 2 GiB)'}`;
    }
    const vars = [...new Set(rs.map((r) => {
      const res = r.result as Partial<CompressRunResult> | null;
      // an imported run's result may hold anything: only its arrays are joined
      const list = (x: unknown) => (Array.isArray(x) ? x.join(x === res?.shape ? ' x ' : ', ') : '?');
      return `${FIELD_RUN_KINDS.includes(r.kind) ? fieldRunParams(r).variable : r.kind}${res?.shape ? ` [${list(res.shape)}] (${list(res.dims)})` : ''}${res?.units ? ` in ${res.units}` : ''}`;
    }))];
    const datasets = [...new Set(rs.map((r) => (r.params as Partial<CompressParams>).datasetId).filter((x): x is number => !!x))].map((id) => {
      try {
        return store.getDataset(id).name;
      } catch {
        return `dataset ${id} (not in this database)`;
      }
    });
    const origins = [...new Set(rs.filter((r) => r.origin).map((r) => `run ${r.id} imported from ${r.origin!.database} (run ${r.origin!.runId}, Fieldpack ${r.origin!.fieldpackVersion})`))];
    rows.push(`<tr><td><code>${esc(file)}</code></td><td>${esc(facts)}</td><td>${esc(vars.join('; '))}</td><td>${esc(datasets.join(', ') || '–')}${origins.length ? `<br>${esc(origins.join('; '))}` : ''}</td></tr>`);
  }
  return `<table><thead><tr><th>file</th><th>file facts</th><th>variables</th><th>dataset / origin</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function columnsTable(runs: RunDetail[], rows: [string, (r: RunDetail) => string][], cls = ''): string {
  return `<table class="${cls}"><thead><tr><th></th>${runs.map((r) => `<th>${esc(runLabel(r))}</th>`).join('')}</tr></thead><tbody>${rows
    .map(([label, f]) => `<tr><th>${esc(label)}</th>${runs.map((r) => `<td>${f(r)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** A chart in the report: its title, the chart, and a caption under it where there is one. */
function chartFigure(title: string, body: string, caption: string): string {
  return `<figure class="chart"><figcaption>${esc(title)}</figcaption>${body}${caption ? `<p class="cap">${esc(caption)}</p>` : ''}</figure>`;
}

/**
 * The figures of one field's runs: error histograms, spectra, autocorrelation and derived quantities as charts, and
 * its error, SSIM and derived-quantity maps under one colour bar each (`suffix` names the field in the headings when
 * the report has several).
 */
function fieldFigures(withA: readonly (readonly [RunDetail, RunAnalysis])[], colour: Map<number, string>, units: string | null, suffix: string): { charts: string[]; maps: string } {
  const charts: string[] = [];
  const fig = (t: string, body: string, caption = '') => charts.push(chartFigure(t + suffix, body, caption));
  fig('Error histograms (reconstruction - original, whole field)', lineChart(withA.map(([r, a]) => ({ name: runLabel(r), color: colour.get(r.id), data: a.histogram.counts.map((c, i) => [(a.histogram.edges[i]! + a.histogram.edges[i + 1]!) / 2, c] as [number, number]) })), `error${units ? ` (${units})` : ''}`, 'points'));
  fig(
    'Radially averaged power spectra of the slice',
    lineChart(
      [
        { name: 'original', color: '#1d2330', data: withA[0]![1].spectrum.frequency.map((f, i) => [f, withA[0]![1].spectrum.original[i]!] as [number, number]), dashed: true },
        ...withA.flatMap(([r, a]) => [
          { name: `${runLabel(r)} reconstruction`, color: colour.get(r.id), data: a.spectrum.frequency.map((f, i) => [f, a.spectrum.reconstruction[i]!] as [number, number]) },
          { name: `${runLabel(r)} error`, color: colour.get(r.id), thin: true, data: a.spectrum.frequency.map((f, i) => [f, a.spectrum.error[i]!] as [number, number]).filter(([, p]) => p > 0) },
        ]),
      ],
      'frequency (cycles per grid point)',
      'power',
      { logX: true, logY: true },
    ),
    'power |X|² / (h w) averaged over rings of wavenumber; the original dashed; per run: reconstruction (thick) and error (thin)',
  );
  fig('Error autocorrelation by lag (along x, the fastest dim)', lineChart(withA.map(([r, a]) => ({ name: runLabel(r), color: colour.get(r.id), data: a.autocorrelation.lags.map((l, i) => [l, a.autocorrelation.x[i] ?? NaN] as [number, number]).filter(([, v]) => Number.isFinite(v)) })), 'lag (grid points)', 'autocorrelation'));
  const dnames = [...new Set(withA.flatMap(([, a]) => a.derived.map((d) => d.name)))];
  if (dnames.length) {
    fig(
      'Derived quantities after compression: NRMSE against before',
      svgChart({
        legend: { top: 0 },
        grid: { left: 72, right: 24, top: 40, bottom: 40 },
        xAxis: { type: 'category', data: dnames },
        yAxis: { type: 'value', ...yName('NRMSE') },
        series: withA.map(([r, a]) => ({ name: runLabel(r), type: 'bar', itemStyle: { color: colour.get(r.id) }, data: dnames.map((n) => a.derived.find((d) => d.name === n)?.nrmse ?? null) })),
      }),
    );
  }
  
  // maps: one colour bar for every error map
  let maps = '';
  const lim = Math.max(...withA.map(([, a]) => Math.max(Math.abs(a.errorMap.min), Math.abs(a.errorMap.max))), 1e-300);
  const s = withA[0]![1].slice;
  maps += `<h2>Error maps${esc(suffix)}</h2><p class="cap">Slice ${esc(s.dims.map((d, i) => `${d} = ${s.index[i]}`).join(', ') || 'of the 2D field')} (${num(s.height)} x ${num(s.width)}), reconstruction - original.</p>${colourBar(-lim, lim, DIVERGING, `error${units ? ` (${units})` : ''}`)}<div class="maps">${withA
    .map(([r, a]) => `<figure><img alt="error map of run ${r.id}" src="${mapPng(a.errorMap.values, a.errorMap.width, a.errorMap.height, -lim, lim, DIVERGING, a.flipY, Math.max(1, Math.round(300 / a.errorMap.width)))}"><figcaption>${esc(runLabel(r))}</figcaption></figure>`)
    .join('')}</div>`;
  maps += `<h2>SSIM maps${esc(suffix)}</h2><p class="cap">Local SSIM of ${num(withA[0]![1].ssim.win)} x ${num(withA[0]![1].ssim.win)} windows every ${num(withA[0]![1].ssim.stride)} points on the same slice.</p>${colourBar(0, 1, SEQUENTIAL, 'SSIM')}<div class="maps">${withA
    .map(([r, a]) => `<figure><img alt="SSIM map of run ${r.id}" src="${mapPng(a.ssim.map.values, a.ssim.map.width, a.ssim.map.height, 0, 1, SEQUENTIAL, a.flipY, Math.max(1, Math.round(300 / Math.max(1, a.ssim.map.width))))}"><figcaption>${esc(runLabel(r))}: mean ${num(a.ssim.mean, 4)}</figcaption></figure>`)
    .join('')}</div>`;
  const derivedRows = withA.flatMap(([r, a]) => a.derived.map((d) => `<tr><td>${esc(runLabel(r))}</td><td>${esc(d.name)}</td><td>${esc(d.from)}</td><td>${num(d.rmse)}</td><td>${num(d.maxError)}</td><td>${num(d.valueRange)}</td><td>${num(d.nrmse)}</td><td>${num(d.psnr)}</td></tr>`));
  const dnotes = [...new Set(withA.flatMap(([, a]) => a.derivedNotes))];
  for (const name of [...new Set(withA.flatMap(([, a]) => a.derived.map((d) => d.name)))]) {
    const runsWith = withA.filter(([, a]) => a.derived.some((d) => d.name === name));
    const first = runsWith[0]![1].derived.find((d) => d.name === name)!;
    const signed = first.before.min < 0;
    const dl = Math.max(Math.abs(first.before.min), Math.abs(first.before.max));
    const [lo, hi, stops] = signed ? [-dl, dl, DIVERGING] : [first.before.min, first.before.max, SEQUENTIAL];
    const png = (m: typeof first.before, flip: boolean) => mapPng(m.values, m.width, m.height, lo, hi, stops, flip, Math.max(1, Math.round(240 / m.width)));
    maps += `<h2>${esc(name[0]!.toUpperCase() + name.slice(1))} before and after${esc(suffix)}</h2>${colourBar(lo, hi, stops, `${name} of ${first.from} per grid point`)}<div class="maps"><figure><img alt="${esc(name)} before" src="${png(first.before, runsWith[0]![1].flipY)}"><figcaption>before compression</figcaption></figure>${runsWith
      .map(([r, a]) => `<figure><img alt="${esc(name)} after run ${r.id}" src="${png(a.derived.find((d) => d.name === name)!.after, a.flipY)}"><figcaption>after ${esc(runLabel(r))}</figcaption></figure>`)
      .join('')}</div>`;
  }
  maps += `<h2>Derived quantities, before and after${esc(suffix)}</h2><p class="cap">Central differences per grid point on the slice; the error_stat of the quantity after compression against before.</p><table><thead><tr><th>run</th><th>quantity</th><th>from</th><th>rmse</th><th>max_error</th><th>value_range</th><th>NRMSE</th><th>PSNR (dB)</th></tr></thead><tbody>${derivedRows.join('')}</tbody></table>${dnotes.map((n) => `<p class="cap">${esc(n)}</p>`).join('')}`;
    return { charts, maps };
}

async function reportHtml(store: Store, runs: RunDetail[], analyses: Map<number, RunAnalysis | null>, notes: string[], title?: string): Promise<string> {
  const version = fieldpackVersion();
  const generated = new Date().toISOString();
  const compress = runs.filter((r) => FIELD_RUN_KINDS.includes(r.kind) && r.status === 'finished');
  const withA = compress.map((r) => [r, analyses.get(r.id)] as const).filter((x): x is readonly [RunDetail, RunAnalysis] => !!x[1]);
  const colour = new Map(withA.map(([r], i) => [r.id, RUN_COLOURS[i % RUN_COLOURS.length]!]));
  // the runs' fields (file and variable): a figure of one field's values (maps, histograms, spectra) draws only its runs
  const byField = new Map<string, (readonly [RunDetail, RunAnalysis])[]>();
  for (const x of withA) {
    const f = fieldRunParams(x[0]);
    const key = JSON.stringify([f.variable, resolve(f.file)]);
    byField.set(key, [...(byField.get(key) ?? []), x]);
  }
  // labelled by variable and file name, or the file's path where two files of one name are in the report
  const label = (key: string) => {
    const [v, file] = JSON.parse(key) as [string, string];
    const twoOfName = [...byField.keys()].map((k) => (JSON.parse(k) as [string, string])[1]).some((f) => f !== file && basename(f) === basename(file));
    return `${v} (${twoOfName ? file : basename(file)})`;
  };
  const fields = new Map([...byField].map(([k, items]) => [label(k), items] as const));
  const unitsOf = (items: readonly (readonly [RunDetail, RunAnalysis])[]) => (new Set(items.map(([, a]) => a.units ?? null)).size === 1 ? (items[0]?.[1].units ?? null) : null);
  const units = unitsOf(withA);

  // parameters: every param key of any run, then what the run resolved
  const paramKeys = [...new Set(runs.flatMap((r) => flatten(r.params).map(([k]) => k)))];
  const paramRows: [string, (r: RunDetail) => string][] = [
    ['kind', (r) => esc(r.kind)],
    ['status', (r) => esc(r.status)],
    // why a run did not finish: the report showed "failed" and no reason
    ...(runs.some((r) => r.status !== 'finished') ? [['why it ended so', (r: RunDetail) => esc(r.status === 'finished' ? '–' : r.error ? `${r.error.code}: ${r.error.message}` : r.message || '–')] as [string, (r: RunDetail) => string]] : []),
    ['created', (r) => esc(r.createdAt.slice(0, 19).replace('T', ' '))],
    ...paramKeys.map((k) => [k, (r: RunDetail) => num(Object.fromEntries(flatten(r.params))[k] as unknown)] as [string, (r: RunDetail) => string]),
    ['absolute bound', (r) => num((r.result as Partial<CompressRunResult> | null)?.absBound)],
    ['predictor chosen', (r) => esc((r.result as Partial<CompressRunResult> | null)?.predictor ?? '–')],
    ['workers used', (r) => num((r.result as Partial<CompressRunResult> | null)?.workers)],
    ['fill points', (r) => esc((r.result as Partial<CompressRunResult> | null)?.fillsHandling ?? '–')],
    ['tags', (r) => esc(Object.entries(r.tags).map(([k, v]) => (v ? `${k}=${v}` : k)).join(', '))],
    ['note', (r) => esc(r.note || '–')],
  ];
  const metricKeys = [...ERROR_STAT_NAMES, ...SIZE_STAT_NAMES, 'ssim', 'error_autocorr_lag1', 'compress_mb_s', 'decompress_mb_s'];
  const otherKeys = [...new Set(runs.flatMap((r) => r.metrics.filter((m) => m.step === 0).map((m) => m.key)))].filter(
    (k) => !metricKeys.includes(k) && !['psnr_db', 'max_abs_error', 'nrmse', 'max_error_over_bound', 'points_over_bound'].includes(k),
  );
  const metricRows: [string, (r: RunDetail) => string][] = [...metricKeys, 'nrmse', 'max_error_over_bound', 'points_over_bound', ...otherKeys].map((k) => [
    k,
    (r) => num(r.metrics.find((m) => m.key === k && m.step === 0)?.value ?? null),
  ]);

  const charts: string[] = [];
  const fig = (t: string, body: string, caption = '') => charts.push(chartFigure(t, body, caption));
  if (compress.length) {
    fig('Rate-distortion: bit rate against PSNR', rdChart(compress, (r) => metricOf(r, 'bit_rate'), (r) => metricOf(r, 'psnr'), 'bit rate (bits/value)', 'PSNR (dB)'));
    fig('Compression ratio against the absolute bound', rdChart(compress, (r) => (r.result as CompressRunResult).absBound, (r) => metricOf(r, 'compression_ratio'), `absolute bound${units ? ` (${units})` : ''}`, 'compression ratio', true));
    fig('Compression ratio against NRMSE', rdChart(compress, (r) => metricOf(r, 'nrmse'), (r) => metricOf(r, 'compression_ratio'), 'NRMSE (RMSE / range)', 'compression ratio', true));
  }
  // per field (several when the runs are of several variables or files): its own charts, scales, units and slice
  let fieldSections = '';
  for (const [label, items] of fields) {
    const own = fieldFigures(items, colour, unitsOf(items), fields.size > 1 ? `: ${label}` : '');
    if (fields.size === 1) {
      charts.push(...own.charts);
      fieldSections += own.maps;
    } else fieldSections += `<h2>Field ${esc(label)}</h2><div class="charts">${own.charts.join('')}</div>${own.maps}`;
  }

  const sw = `Fieldpack ${esc(version)} · Node ${esc(process.versions.node)} · ${esc(platform())} ${esc(release())} · host ${esc(hostname())}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${REPORT_GENERATOR}${REPORT_CSP}<title>${esc(title ?? `Fieldpack report: runs ${runs.map((r) => r.id).join(', ')}`)}</title>
<style>
body { font: 13px/1.45 sans-serif; color: #1d2330; margin: 24px; max-width: 1280px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 1px solid #d8dde6; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 12px; } th, td { border: 1px solid #d8dde6; padding: 3px 6px; text-align: left; vertical-align: top; }
thead th { background: #f1f4f8; } tbody th { font-weight: 500; white-space: nowrap; } td { font-family: ui-monospace, monospace; word-break: break-word; }
code { font-size: 12px; } .meta { color: #5a6375; } .cap { color: #5a6375; font-size: 12px; margin: 2px 0 8px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figure.chart { border: 1px solid #e3e7ee; padding: 6px; } figcaption { font-weight: 600; margin-bottom: 4px; }
.maps { display: flex; flex-wrap: wrap; gap: 12px; } .maps img { display: block; max-width: 380px; image-rendering: pixelated; border: 1px solid #ccd; }
.cbar { display: flex; align-items: center; gap: 6px; margin: 4px 0 10px; font-size: 12px; } .cbar div { width: 260px; height: 12px; border: 1px solid #99a; } .cbar em { color: #5a6375; }
pre { white-space: pre-wrap; word-break: break-all; background: #f6f8fa; padding: 6px; font-size: 11px; }
@media print { body { margin: 0; } h2 { break-after: avoid; } }
</style></head><body>
<h1>${esc(title ?? 'Compression review')}</h1>
<p class="meta">${sw}<br>Generated ${esc(generated)} from the database <code>${esc(store.path)}</code> (schema ${store.schemaVersion}); ${runs.length} run(s).</p>
${notes.map((n) => `<p class="cap">${esc(n)}</p>`).join('')}
<h2>Data provenance</h2>${await provenance(store, runs)}
<h2>Parameters</h2>${columnsTable(runs, paramRows)}
<h2>Rerun</h2><p class="cap">Each run again from the command line (same data file, codec, bound and parameters):</p>${runs.map((r) => `<pre>${esc(rerunCommand(r))}</pre>`).join('')}
<h2>Metrics</h2><p class="cap">libpressio error_stat and size names over the valid points (docs/review.md); difference = original - reconstruction.</p>${columnsTable(runs, metricRows)}
<h2>Charts</h2><div class="charts">${charts.join('')}</div>
${fieldSections}
</body></html>
`;
}

