/**
 * fieldpack inspect FILE [--var NAME] [--json] [--raw-shape 100,500,500 --raw-dtype float32 [--raw-endian big]]
 * Variables, shapes, units, fill, statistics and the detected quantization step (flagged with "!").
 * Needs no store.
 */
import { type CliCommand, CliUsageError, checkInputsExist, flag, parseFlags, rawLayoutFromFlags } from '../command.ts';
import { callApi, terminalCall } from '../api.ts';
import { FieldpackError } from '../../../core/errors.ts';
import type { CoordinateDescription, DatasetDescription, DescribedFieldStats } from '../../../api/contract.ts';
import { coordinateLabels } from '../../../core/axis-labels.ts';
import { fieldSize } from '../../../core/field.ts';
import { axesOf } from '../../../services/data/axes.ts';

function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined) return '-';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e6 || a < 1e-3 ? x.toExponential(3) : Number(x.toPrecision(5)).toString();
}

function bytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

function table(rows: string[][]): string[] {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ').trimEnd());
}

/** A coordinate's first and last values as a person reads them: dates for CF time, degrees, numbers with units. */
function coordinateRange(c: CoordinateDescription): string {
  if (c.first === null || c.last === null) return '-';
  const kind = c.kind ?? 'other';
  const l = coordinateLabels([c.first, c.last], kind, { ...c.attributes, ...(c.units !== undefined ? { units: c.units } : {}) });
  // longitudes past 180 read as west: the stored numbers beside say which way the axis runs
  const raw = kind === 'longitude' ? ` (${fmt(c.first)} .. ${fmt(c.last)})` : '';
  return `${l.labels[0]} .. ${l.labels[1]}${raw}${l.climatology ? ' (climatology, year 0)' : ''}`;
}

/**
 * Time dimensions without a coordinate variable along which a 1-D CF time variable runs (WRF's XTIME over Time),
 * dated as the views date them (services/data/axes.ts): rows for the coordinates table, the variable's name first.
 */
async function timeVariableRows(d: DatasetDescription): Promise<string[][]> {
  const rows: string[][] = [];
  const seen = new Set<string>();
  for (const g of d.grids) {
    const fileIndex = d.fields.find((f) => f.id === g.fields[0])?.file;
    const file = fileIndex === undefined ? undefined : d.files[fileIndex];
    if (!file || file.format === 'fpk' || file.format === 'raw') continue;
    for (const [i, axis] of g.axes.entries()) {
      const key = `${fileIndex}\u0000${axis.dim}`;
      if (axis.kind !== 'time' || axis.coordinate || seen.has(key)) continue;
      seen.add(key);
      if (d.coordinates.some((c) => c.file === fileIndex && c.dims.length === 1 && c.dims[0] === axis.dim)) continue;
      const [a] = await axesOf(file.path, [axis.dim], [g.shape[i]!]);
      if (!a?.coordinate || !a.values || a.labels.length === 0) continue;
      const units = d.fields.find((f) => f.file === fileIndex && f.name === a.coordinate)?.units ?? '';
      rows.push([`  ${a.coordinate}`, `(${axis.dim})`, String(a.labels.length), units, `${a.labels[0]} .. ${a.labels.at(-1)}${a.climatology ? ' (climatology, year 0)' : ''}`]);
    }
  }
  return rows;
}

export function formatDescription(d: DatasetDescription, timeVariables: string[][] = []): string[] {
  const lines: string[] = [];
  for (const f of d.files) {
    lines.push(`${f.path}: ${f.format}, ${bytes(f.sizeBytes)}`);
    lines.push(`  dimensions: ${Object.entries(f.dimensions).map(([k, v]) => `${k}=${v}`).join(' ') || '-'}`);
  }
  if (d.coordinates.length > 0 || timeVariables.length > 0) {
    lines.push('', 'coordinates:');
    lines.push(...table([...d.coordinates.map((c) => ['  ' + c.name, `(${c.dims.join(', ')})`, String(c.size), c.units ?? '', coordinateRange(c)]), ...timeVariables]));
  }
  const flagged: string[] = [];
  const fills: string[] = [];
  for (const g of d.grids) {
    lines.push('', `grid ${g.id}: ${g.dims.map((dim, i) => `${dim}=${g.shape[i]}${g.axes[i]!.kind !== 'other' ? ` (${g.axes[i]!.kind})` : ''}`).join(' x ')}${g.destaggersTo ? `  [staggered: averages onto ${g.destaggersTo}]` : ''}`);
    const rows = [['  field', 'dtype', 'units', 'fill', 'valid', 'min', 'max', 'mean', 'std', 'distinct', 'step']];
    for (const id of g.fields) {
      const f = d.fields.find((x) => x.id === id)!;
      const s = f.stats;
      const fill = f.fill.fillValue !== undefined ? `_FillValue ${fmt(f.fill.fillValue)}` : f.fill.missingValues ? `missing ${f.fill.missingValues.map(fmt).join(',')}` : f.fill.defaultFill !== undefined && s.fillFraction > 0 ? 'default fill' : '-';
      const q = s.quantization;
      if (q.detected) flagged.push(`  ${f.id}: ${q.note}`);
      if (s.undeclaredFill) {
        const file = d.files[f.file]!;
        fills.push(`  ${f.id}: ${undeclaredFillNote(s.undeclaredFill, f.units, undefined, { variable: f.name, file: file.path, dtype: f.dtype, raw: file.format === 'raw', stream: file.format === 'fpk' })}`);
      }
      rows.push([
        `  ${f.id}${f.role === 'auxiliary-coordinate' ? ' (coord)' : ''}`,
        f.dtype + (f.fill.packing ? ` x${fmt(f.fill.packing.scaleFactor)}+${fmt(f.fill.packing.addOffset)}` : ''),
        f.units ?? '',
        fill,
        validShare(s),
        fmt(s.min),
        fmt(s.max),
        fmt(s.mean),
        fmt(s.std),
        s.distinct.label,
        q.detected ? `${fmt(q.step)} !` : '-',
      ]);
    }
    lines.push(...table(rows));
    const unitless = g.fields.map((id) => d.fields.find((x) => x.id === id)!).filter((f) => f.role === 'data' && !f.units);
    if (unitless.length) lines.push(`  no units attribute: ${unitless.map((f) => f.id).join(', ')} (absolute bounds are then in the stored values' own units)`);
  }
  const sampled = d.fields.filter((f) => f.stats.sample);
  if (sampled.length > 0) lines.push('', `stats of a central block (the variable is larger than inspect reads whole): ${sampled.map((f) => `${f.id} ${f.stats.sample!.values} of ${fieldSize(f.shape)} values [${f.stats.sample!.slice.map(([a, b]) => `${a}:${b}`).join(', ')}]`).join('; ')}`);
  if (flagged.length > 0) lines.push('', 'quantization (already rounded data; bounds below half the step mean nothing):', ...flagged);
  if (fills.length > 0) lines.push('', 'fill values the file does not declare? (they count in the range a relative bound is taken from):', ...fills);
  if (d.skipped.length > 0) lines.push('', `not read as fields: ${d.skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`);
  return lines;
}

/**
 * What an undeclared fill value does to a bound taken from the range, in words: `bound`'s absolute value (rel 1e-4's
 * where none is given) against the other values' range, and how to declare it for the file's kind (`names`).
 */
export function undeclaredFillNote(
  u: { value: number; count: number; valid: number; rest: [number, number] }, units?: string,
  bound?: { label: string; abs: number }, names: { variable: string; file: string; dtype?: string; raw?: boolean; stream?: boolean } = { variable: 'VAR', file: 'FILE' },
): string {
  const abs = bound?.abs ?? 1e-4 * (Math.max(u.rest[1], u.value) - Math.min(u.rest[0], u.value));
  const share = (100 * abs) / (u.rest[1] - u.rest[0]);
  // the value as the data hold it (a rounded one would declare a fill nothing equals)
  const exact = String(u.value);
  // a stream's values are decoded ones: the fill is declared in the file it was compressed from
  const declare = names.stream
    ? `declare it in the file ${names.variable} was compressed from`
    : names.raw
      ? `declare it as "fillValue": ${exact} in ${names.file}.json`
      : names.dtype && /int/.test(names.dtype)
        ? `declare its packed value as the variable's _FillValue`
        : `declare it as the variable's _FillValue (ncatted -a _FillValue,${names.variable},o,${names.dtype === 'float64' ? 'd' : 'f'},${exact} ${names.file})`;
  return `${fmt(u.value)} on ${((100 * u.count) / u.valid).toPrecision(3)} % of the points, the others within ${fmt(u.rest[0])} .. ${fmt(u.rest[1])}: ` +
    `${bound ? bound.label.replace(/ -> .*/, '') : 'rel 1e-4'} then allows errors of ${fmt(abs)}${units ? ` ${units}` : ''}, ${share.toPrecision(2)} % of the others' range; ` +
    `${declare} or give an abs bound`;
}

/**
 * JSON has no NaN: a NaN (or infinite) fill or missing value is written "NaN" ("Infinity", "-Infinity"), as raw
 * sidecars give them, where null would read as no fill at all.
 */
function fillsAsText(this: unknown, key: string, value: unknown): unknown {
  const text = (x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x);
  if (key === 'fillValue') return text(value);
  if (key === 'missingValues' && Array.isArray(value)) return value.map(text);
  return value;
}

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'Show the variables of a NetCDF-3/4, HDF5, raw or .fpk file (shapes, units, fill, stats, quantization step; a stream\'s codec and needs)',
  usage: [
    'fieldpack inspect FILE [FILE...] [--var NAME]... [--json]',
    '  raw binary without a FILE.json sidecar: --raw-shape 100,500,500 --raw-dtype float32 [--raw-endian big]',
    '  a detected quantization step is marked "!": error bounds below half of it mean nothing',
  ].join('\n'),
  needsStore: false,
  async run(argv, ctx) {
    const { io } = ctx;
    const p = parseFlags(argv, { values: ['var', 'raw-shape', 'raw-dtype', 'raw-endian'], booleans: ['json'] });
    if (p.positionals.length === 0) throw new CliUsageError('inspect needs a FILE');
    checkInputsExist(p.positionals);
    const raw = rawLayoutFromFlags(p);
    const vars = p.flags.get('var');
    const onlyStreams = p.positionals.every((f) => /\.fpk$/i.test(f));
    let d: DatasetDescription | null = null;
    let unread: string | null = null;
    const call = terminalCall(io);
    try {
      d = await callApi(ctx, 'data.describe', { paths: p.positionals, ...(vars ? { variables: vars } : {}), ...(raw ? { raw } : {}) }, call);
    } catch (e) {
      // a stream whose model or anchors are not at hand still shows what it is and what it needs
      if (!(onlyStreams && e instanceof FieldpackError && e.code === 'NOT_FOUND')) throw e;
      unread = e.message;
    } finally {
      call.done();
    }
    // streams (by their bytes, as data.describe found them; by name where it could not read them): the codec, its
    // bound and what a decoder needs, from the stream service
    const streams = [];
    const isStream = (f: string, i: number) => (d ? d.files[i]?.format === 'fpk' : /\.fpk$/i.test(f));
    for (const [i, f] of p.positionals.entries()) if (isStream(f, i)) streams.push(await callApi(ctx, 'streams.inspect', { file: f }));
    if (flag(p, 'json') === 'true') io.out(JSON.stringify(streams.length ? { ...d, streams, ...(unread ? { unread } : {}) } : d, fillsAsText, 2));
    else {
      if (d) for (const l of formatDescription(d, await timeVariableRows(d))) io.out(l);
      if (unread) io.out(`values not read: ${unread}`);
      for (const s of streams) {
        io.out('');
        io.out(`stream ${s.file}: codec ${s.codec} (${s.codecLabel}), format v${s.formatVersion}, written by Fieldpack ${s.fieldpackVersion}`);
        io.out(`  bound ${s.bound.mode}:${s.bound.value} -> abs ${s.bound.abs}${s.bound.lossless ? ' (lossless)' : ''}; ${s.chunks} chunk${s.chunks > 1 ? 's' : ''}; ratio ${s.compressionRatio.toFixed(2)}`);
        if (Object.keys(s.summary).length) io.out(`  ${Object.entries(s.summary).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(',') : String(v)}`).join('; ')}`);
        io.out(`  needs: ${s.needs.length ? s.needs.join(', ') : 'nothing else'}`);
      }
    }
    return 0;
  },
};

export default inspectCommand;

/** The share of finite unmasked values, and how many NaN and +-Inf there are besides (they are values, kept exactly). */
function validShare(s: DescribedFieldStats): string {
  const { nan, posInf, negInf } = s.nonFinite;
  const odd = [nan ? `${nan} NaN` : '', posInf ? `${posInf} +Inf` : '', negInf ? `${negInf} -Inf` : ''].filter(Boolean);
  return `${s.count ? ((100 * s.validCount) / s.count).toFixed(1) : '0.0'}%${odd.length ? ` (${odd.join(', ')})` : ''}`;
}
