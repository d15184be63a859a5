/**
 * What a coordinate value reads as on a slider, an axis tick or in `inspect`: a date for a CF time axis
 * ("2005-08-28 06:00", decoded in its calendar by cf-time.ts), degrees for longitude and latitude ("30°W",
 * "15.5°N"), a number with short units otherwise ("500 m", "850 hPa").
 * Pure: no Node or DOM.
 */
import { isClimatology, parseTimeUnits, timeLabels } from './cf-time.ts';

/** Axis kinds as the data service recognises them (services/data/describe.ts recogniseAxis). */
export type CoordinateKind = 'time' | 'level' | 'latitude' | 'longitude' | 'y' | 'x' | 'other';

const SHORT_UNITS: Record<string, string> = {
  meters: 'm', meter: 'm', metres: 'm', metre: 'm', m: 'm',
  kilometers: 'km', kilometer: 'km', km: 'km',
  millibar: 'hPa', millibars: 'hPa', mb: 'hPa', mbar: 'hPa', hpa: 'hPa', pa: 'Pa',
  degrees_east: '°E', degree_east: '°E', degrees_e: '°E', degreee: '°E',
  degrees_north: '°N', degree_north: '°N', degrees_n: '°N',
};

/** Units as a person writes them after a number ("METERS" -> "m", "millibar" -> "hPa"); others unchanged. */
export function shortUnits(units: string | undefined | null): string {
  if (!units) return '';
  return SHORT_UNITS[units.trim().toLowerCase()] ?? units.trim();
}

/** A number with at most `digits` significant digits and no trailing zeros (500, 0.25, 1.5e-7). */
export function plainNumber(v: number, digits = 5): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e7 || a < 1e-4) return v.toExponential(Math.max(0, digits - 3)).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(digits)));
}

/** Longitude in (-180, 180] with E/W, latitude with N/S; 0 and 180 without a letter. */
export function degreeLabel(v: number, kind: 'longitude' | 'latitude'): string {
  if (!Number.isFinite(v)) return String(v);
  if (kind === 'latitude') return v === 0 ? '0°' : `${plainNumber(Math.abs(v), 4)}°${v > 0 ? 'N' : 'S'}`;
  let x = ((v % 360) + 360) % 360; // [0, 360)
  if (x > 180) x -= 360;
  if (x === 0 || x === 180) return `${plainNumber(x, 4)}°`;
  return `${plainNumber(Math.abs(x), 4)}°${x > 0 ? 'E' : 'W'}`;
}

export interface CoordinateLabels {
  labels: string[];
  /** Units to show beside the axis name (none for dates and degrees: the labels carry them). */
  units: string | null;
  /** A CF time axis whose reference lies in year 0 (COADS' monthly climatology). */
  climatology: boolean;
}

/** Labels for every value of a coordinate variable (its attributes give units and calendar). */
export function coordinateLabels(values: ArrayLike<number>, kind: CoordinateKind, attributes: Record<string, unknown>): CoordinateLabels {
  const units = typeof attributes['units'] === 'string' ? attributes['units'] : undefined;
  const dates = timeLabels(values, units, attributes['calendar']);
  if (dates) return { labels: dates, units: null, climatology: isClimatology(parseTimeUnits(units, attributes['calendar'])!) };
  const all = Array.from(values);
  const degrees = /^degrees?_?(east|north|e|n)?$/i.test(units ?? '') || kind === 'longitude' || kind === 'latitude';
  if ((kind === 'longitude' || kind === 'latitude') && degrees) return { labels: all.map((v) => degreeLabel(v, kind)), units: null, climatology: false };
  const short = shortUnits(units);
  return { labels: all.map((v) => (short ? `${plainNumber(v)} ${short}` : plainNumber(v))), units: short || null, climatology: false };
}

export interface AxisTick {
  /** Position along the axis in index units (fractional between two coordinate values). */
  index: number;
  label: string;
}

const DEGREE_STEPS = [0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 15, 20, 30, 45, 60, 90, 120];

/** A "nice" step (1, 2, 2.5 or 5 x 10^k; degrees also 15, 30, 45, 60, 90) giving about `target` ticks over span. */
function niceStep(span: number, target: number, degrees: boolean): number {
  const raw = span / Math.max(1, target);
  if (degrees) return DEGREE_STEPS.find((s) => s >= raw) ?? 180;
  const p = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].find((m) => m * p >= raw) ?? 10) * p;
}

/**
 * About `target` ticks for an axis: at round coordinate values (interpolated between points) when the
 * coordinate is numeric and monotonic, else at evenly spaced indices with those points' labels.
 */
export function axisTicks(values: ReadonlyArray<number | null> | null, labels: readonly string[], kind: CoordinateKind, units: string | null, target = 6): AxisTick[] {
  const n = labels.length;
  if (n === 0) return [];
  const v = values && values.every((x): x is number => x !== null && Number.isFinite(x)) ? values : null;
  const inc = v !== null && v.every((x, i) => i === 0 || x > v[i - 1]!);
  const dec = v !== null && v.every((x, i) => i === 0 || x < v[i - 1]!);
  const dated = labels.some((l) => /^-?\d{4}-\d\d-\d\d /.test(l));
  if (v && n > 1 && (inc || dec) && !dated) {
    const lo = Math.min(v[0]!, v[n - 1]!);
    const hi = Math.max(v[0]!, v[n - 1]!);
    const deg = kind === 'longitude' || kind === 'latitude';
    const step = niceStep(hi - lo, target, deg);
    const ticks: AxisTick[] = [];
    for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9 && ticks.length < 50; t += step) {
      // fractional index of t by linear interpolation between neighbouring coordinate values
      let k = 0;
      while (k < n - 2 && (inc ? v[k + 1]! < t : v[k + 1]! > t)) k++;
      const a = v[k]!;
      const b = v[k + 1]!;
      const index = k + (t - a) / (b - a);
      const value = Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12));
      const label = deg ? degreeLabel(value, kind) : `${plainNumber(value)}${units ? ` ${units}` : ''}`;
      ticks.push({ index: Math.min(n - 1, Math.max(0, index)), label });
    }
    if (ticks.length >= 2) return ticks;
  }
  const count = Math.min(n, target);
  if (count <= 1) return [{ index: 0, label: labels[0]! }];
  return Array.from({ length: count }, (_, i) => {
    const index = Math.round((i * (n - 1)) / (count - 1));
    return { index, label: labels[index]! };
  });
}
