/**
 * Numbers as the workbench shows them (tables, tooltips, axis ticks, colour bars), by one rule so that a value reads
 * the same in Data, Compress, Cross-field and Compare:
 * - at most `digits` significant digits, trailing zeros dropped (0.5, 1e-7: not 0.5000, 1.000e-7), but every integer
 *   digit of a number below 1e5 (12345, not 12350);
 * - an exponent below 1e-3 and from 1e5 up, where plain digits would be mostly zeros (1.235e+8, 1.5e-5);
 * - MISSING for a value that is not there or not a number (null, undefined, NaN, ''), ∞ and -∞ for the infinities.
 */

/** What a missing or not-a-number value shows as. */
export const MISSING = '–';

/** A value as a number: numeric strings parsed (stored metrics keep 'NaN' and 'Infinity' as text), anything else NaN. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

const wantsExponent = (magnitude: number) => magnitude >= 1e5 || magnitude < 1e-3;

/** `x` (finite, not 0) at `digits` significant digits, in exponent form or not. */
function significant(x: number, digits: number, exponent: boolean): string {
  if (!exponent) return String(Number(x.toPrecision(digits)));
  const [mantissa, power] = x.toExponential(digits - 1).split('e');
  return `${Number(mantissa)}e${power}`;
}

/**
 * A value for people. A string that is not a number (a word a metric holds) is shown as it is. `integersInFull`:
 * whole numbers below 1e12 in all their digits (counts of points and bytes, integer data), as Compare's tables show them.
 */
export function formatNumber(v: unknown, digits = 4, { integersInFull = false } = {}): string {
  if (typeof v === 'string' && v.trim() !== '' && v.trim() !== 'NaN' && Number.isNaN(Number(v))) return v;
  const x = toNumber(v);
  if (Number.isNaN(x)) return MISSING;
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  if (integersInFull && Number.isInteger(x) && Math.abs(x) < 1e12) return String(x);
  // below the exponent's range a number keeps its integer digits (12345 Pa is not 12350); the exponent is decided
  // after rounding: 99999.9 is 1e+5, not 100000
  const integerDigits = Math.abs(x) >= 1 ? Math.floor(Math.log10(Math.abs(x))) + 1 : 0;
  const precision = Math.min(Math.max(digits, integerDigits), Math.max(digits, 5));
  const rounded = Number(x.toPrecision(precision));
  if (rounded === 0) return '0';
  const exponent = wantsExponent(Math.abs(rounded));
  return significant(rounded, exponent ? digits : precision, exponent);
}

/**
 * The two end labels of a colour bar by one rule, decided once for the pair by the larger end (an exponent on both
 * ends or on neither) and both rounded at the larger end's last significant digit, so that neither end shows more
 * than `digits` (-10376 … 7833 reads -10400 … 7800, not -1.04e+4 … 7833; 1.2e-5 … 0.5 reads 0 … 0.5).
 */
export function formatScaleEnds(lo: number, hi: number, digits = 3): [string, string] {
  const scale = Math.max(Math.abs(lo), Math.abs(hi));
  if (!Number.isFinite(scale) || scale === 0) return [formatNumber(lo, digits), formatNumber(hi, digits)];
  const ends = (d: number): [string, string] => {
    const step = 10 ** (Math.floor(Math.log10(scale)) + 1 - d);
    const end = (v: number) => {
      const r = Math.round(v / step) * step;
      return r === 0 ? '0' : significant(r, d, wantsExponent(scale));
    };
    return [end(lo), end(hi)];
  };
  // a narrow range far from 0 (surface pressure 99665 … 99668 Pa read 99700 … 99700): digits added until the ends differ
  let d = digits;
  let pair = ends(d);
  while (pair[0] === pair[1] && lo !== hi && d < 15) pair = ends(++d);
  return pair;
}

/** Text for HTML that echarts renders as markup (tooltips): a data file's units or a run's label may hold any text. */
export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
