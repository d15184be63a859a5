/**
 * CF time coordinates: "UNIT since REFERENCE" values decoded to calendar dates in the CF calendars
 * (standard/gregorian, proleptic_gregorian, julian, noleap/365_day, all_leap/366_day, 360_day), as
 * netCDF4-python's num2date (cftime) decodes them; test/unit/cf-time.test.ts checks that against cftime on
 * real files and on values spread over millennia.
 *
 * Year numbering follows cftime's defaults: standard and julian have no year 0 (year -1 precedes year 1), the
 * others (proleptic_gregorian as ISO 8601, noleap, all_leap, 360_day) have one. A reference date in year 0 of
 * the standard or julian calendar ("hour since 0000-01-01", the COADS and Levitus climatologies) is
 * refused by cftime's defaults; we decode it as cftime does with has_year_zero=True (astronomical years, year 0
 * a leap year), which gives the climatological dates the files mean (0000-01-16 06:00 for 366 h), and say the
 * axis is a climatology.
 * Pure: no Node or DOM.
 */

export type CfCalendar = 'standard' | 'proleptic_gregorian' | 'julian' | 'noleap' | 'all_leap' | '360_day';

export interface CfDate {
  /** Year as cftime prints it (astronomical when the axis counts a year 0). */
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Milliseconds within the second. */
  millisecond: number;
}

export interface CfTimeUnits {
  /** Seconds per unit. */
  unitSeconds: number;
  unit: 'seconds' | 'minutes' | 'hours' | 'days' | 'weeks';
  reference: CfDate;
  /** Offset of the reference's time zone, in minutes (subtracted: dates come out in UTC). */
  tzMinutes: number;
  calendar: CfCalendar;
  /** Whether years are counted astronomically (a year 0 exists). */
  yearZero: boolean;
}

const UNIT_SECONDS: Record<CfTimeUnits['unit'], number> = { seconds: 1, minutes: 60, hours: 3600, days: 86400, weeks: 604800 };
const UNIT_NAMES: Array<[RegExp, CfTimeUnits['unit']]> = [
  [/^(seconds?|secs?|s)$/, 'seconds'],
  [/^(minutes?|mins?)$/, 'minutes'],
  [/^(hours?|hrs?|h)$/, 'hours'],
  [/^(days?|d)$/, 'days'],
  [/^(weeks?)$/, 'weeks'],
];

/** The calendar attribute's canonical name; undefined for "none" or a name CF does not define. */
export function normaliseCalendar(calendar: unknown): CfCalendar | undefined {
  const c = typeof calendar === 'string' ? calendar.trim().toLowerCase() : '';
  if (c === '' || c === 'standard' || c === 'gregorian') return 'standard';
  if (c === 'proleptic_gregorian') return 'proleptic_gregorian';
  if (c === 'julian') return 'julian';
  if (c === 'noleap' || c === '365_day') return 'noleap';
  if (c === 'all_leap' || c === '366_day') return 'all_leap';
  if (c === '360_day') return '360_day';
  return undefined;
}

/** Calendars whose years are counted historically by default (no year 0), as cftime counts them. */
const HISTORICAL_YEARS = new Set<CfCalendar>(['standard', 'julian']);

/**
 * "hours since 1980-01-14 14:00:00" (+ the calendar attribute) -> the parsed units; undefined when the units are not
 * a CF time ("months since" and "years since" are left out on purpose: CF advises against them and cftime
 * refuses them for real-world calendars).
 */
export function parseTimeUnits(units: unknown, calendar?: unknown): CfTimeUnits | undefined {
  if (typeof units !== 'string') return undefined;
  const m = /^\s*([A-Za-z]+)\s+since\s+(.+?)\s*$/i.exec(units);
  if (!m) return undefined;
  const word = m[1]!.toLowerCase();
  const unit = UNIT_NAMES.find(([re]) => re.test(word))?.[1];
  if (!unit) return undefined;
  const cal = normaliseCalendar(calendar);
  if (!cal) return undefined;
  // YYYY-M-D[( |T)h[:m[:s[.fff]]]][Z| UTC|(+|-)hh[:mm]]
  const r = /^(-?\d{1,6})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?)?\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?$/i.exec(m[2]!);
  if (!r) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = r;
  const reference: CfDate = {
    year: Number(y), month: Number(mo), day: Number(d), hour: Number(h ?? 0), minute: Number(mi ?? 0), second: Number(s ?? 0),
    millisecond: frac ? Math.round(Number(`0.${frac}`) * 1000) : 0,
  };
  if (reference.month < 1 || reference.month > 12 || reference.day < 1 || reference.day > 31 || reference.hour > 24 || reference.minute > 59 || reference.second > 60) return undefined;
  let tzMinutes = 0;
  if (tz && /^[+-]/.test(tz)) {
    const t = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(tz)!;
    tzMinutes = (t[1] === '-' ? -1 : 1) * (Number(t[2]) * 60 + Number(t[3] ?? 0));
  }
  const yearZero = !HISTORICAL_YEARS.has(cal) || reference.year === 0;
  return { unitSeconds: UNIT_SECONDS[unit], unit, reference, tzMinutes, calendar: cal, yearZero };
}

// ------------------------------------------------------------ day numbers (astronomical years)

const floorDiv = (a: number, b: number) => Math.floor(a / b);

/** Days since 0000-03-01 proleptic Gregorian (H. Hinnant's days_from_civil), any year. */
function gregorianDays(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const doy = floorDiv(153 * (m + (m > 2 ? -3 : 9)) + 2, 5) + d - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe;
}

function gregorianDate(z: number): [number, number, number] {
  const era = floorDiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
  const mp = floorDiv(5 * doy + 2, 153);
  const d = doy - floorDiv(153 * mp + 2, 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** The same day count for the Julian calendar (every 4th year a leap year), on the same origin. */
function julianDays(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = floorDiv(y, 4);
  const yoe = y - era * 4;
  const doy = floorDiv(153 * (m + (m > 2 ? -3 : 9)) + 2, 5) + d - 1;
  // 0000-03-01 Julian is two days before 0000-03-01 Gregorian
  return era * 1461 + yoe * 365 + doy - 2;
}

function julianDate(z: number): [number, number, number] {
  z += 2;
  const era = floorDiv(z, 1461);
  const doe = z - era * 1461;
  const yoe = Math.min(3, floorDiv(doe, 365));
  const doy = doe - yoe * 365;
  const mp = floorDiv(5 * doy + 2, 153);
  const d = doy - floorDiv(153 * mp + 2, 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 4 + (m <= 2 ? 1 : 0), m, d];
}

/** First day of the Gregorian reform (1582-10-15) on the shared day count. */
const REFORM = gregorianDays(1582, 10, 15);

const NOLEAP_START = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
const ALLLEAP_START = [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366];

function fixedYearDays(starts: number[], y: number, m: number, d: number): number {
  return y * starts[12]! + starts[m - 1]! + d - 1;
}

function fixedYearDate(starts: number[], z: number): [number, number, number] {
  const len = starts[12]!;
  const y = floorDiv(z, len);
  const doy = z - y * len;
  let m = 1;
  while (m < 12 && doy >= starts[m]!) m++;
  return [y, m, doy - starts[m - 1]! + 1];
}

function dayNumber(cal: CfCalendar, y: number, m: number, d: number): number {
  switch (cal) {
    case 'proleptic_gregorian':
      return gregorianDays(y, m, d);
    case 'julian':
      return julianDays(y, m, d);
    case 'standard': {
      const g = gregorianDays(y, m, d);
      return g >= REFORM ? g : julianDays(y, m, d);
    }
    case 'noleap':
      return fixedYearDays(NOLEAP_START, y, m, d);
    case 'all_leap':
      return fixedYearDays(ALLLEAP_START, y, m, d);
    case '360_day':
      return y * 360 + (m - 1) * 30 + d - 1;
  }
}

function dateOfDay(cal: CfCalendar, z: number): [number, number, number] {
  switch (cal) {
    case 'proleptic_gregorian':
      return gregorianDate(z);
    case 'julian':
      return julianDate(z);
    case 'standard':
      return z >= REFORM ? gregorianDate(z) : julianDate(z);
    case 'noleap':
      return fixedYearDate(NOLEAP_START, z);
    case 'all_leap':
      return fixedYearDate(ALLLEAP_START, z);
    case '360_day': {
      const y = floorDiv(z, 360);
      const doy = z - y * 360;
      return [y, Math.floor(doy / 30) + 1, (doy % 30) + 1];
    }
  }
}

/** Historical year (no year 0) <-> astronomical year. */
const toAstronomical = (y: number, yearZero: boolean) => (yearZero || y > 0 ? y : y + 1);
const fromAstronomical = (y: number, yearZero: boolean) => (yearZero || y > 0 ? y : y - 1);

/** One value of a CF time axis -> its date (UTC); undefined for NaN or infinite values. */
export function decodeTime(value: number, u: CfTimeUnits): CfDate | undefined {
  if (!Number.isFinite(value)) return undefined;
  const r = u.reference;
  const refDay = dayNumber(u.calendar, toAstronomical(r.year, u.yearZero), r.month, r.day);
  // milliseconds since the reference day's midnight; rounded to the millisecond as cftime rounds to microseconds
  const ms = Math.round(((r.hour * 60 + r.minute - u.tzMinutes) * 60 + r.second) * 1000 + r.millisecond + value * u.unitSeconds * 1000);
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const [y, m, d] = dateOfDay(u.calendar, refDay + days);
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  return { year: fromAstronomical(y, u.yearZero), month: m, day: d, hour, minute, second, millisecond: rest - second * 1000 };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** "2005-08-28 06:00" (seconds only when not zero; year padded to 4 digits, a minus sign before years < 0). */
export function formatDate(d: CfDate, opts: { seconds?: boolean } = {}): string {
  const year = d.year < 0 ? `-${pad(-d.year, 4)}` : pad(d.year, 4);
  let s = `${year}-${pad(d.month)}-${pad(d.day)} ${pad(d.hour)}:${pad(d.minute)}`;
  if (opts.seconds || d.second !== 0 || d.millisecond !== 0) s += `:${pad(d.second)}${d.millisecond ? '.' + pad(d.millisecond, 3) : ''}`;
  return s;
}

/** A climatology axis: its reference lies in year 0 (COADS, Levitus: "hour since 0000-01-01"). */
export function isClimatology(u: CfTimeUnits): boolean {
  return u.reference.year === 0;
}

/** Every value of a time axis as a label ("2005-08-28 06:00"); undefined when its units are not a CF time. */
export function timeLabels(values: ArrayLike<number>, units: unknown, calendar?: unknown): string[] | undefined {
  const u = parseTimeUnits(units, calendar);
  if (!u) return undefined;
  return Array.from({ length: values.length }, (_, i) => {
    const d = decodeTime(values[i]!, u);
    return d ? formatDate(d) : String(values[i]);
  });
}
