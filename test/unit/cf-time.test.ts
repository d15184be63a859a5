/**
 * CF time decoding (core/cf-time.ts) against netCDF4-python's cftime.num2date: the time axes of the real files
 * (COADS' climatology "hour since 0000-01-01", the Navy winds' monthly axis, WRF Katrina's XTIME) and values
 * spread over millennia in every CF calendar, across the Gregorian reform and year boundaries.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeTime, formatDate, isClimatology, parseTimeUnits, timeLabels, type CfDate } from '../../src-main/core/cf-time.ts';
import { COADS, WRF_KATRINA, ferretFile } from '../helpers/data-files.ts';

interface Case { units: string; calendar: string; values: number[]; yearZero?: boolean }

/** cftime's dates as [y, m, d, h, mi, s] for each case (has_year_zero only where a case asks for it). */
function cftimeDates(cases: Case[]): number[][][] {
  const py = `
import sys, json, cftime
out = []
for c in json.load(sys.stdin):
    kw = {'has_year_zero': True} if c.get('yearZero') else {}
    ds = cftime.num2date(c['values'], c['units'], c['calendar'], **kw)
    out.append([[d.year, d.month, d.day, d.hour, d.minute, d.second] for d in ds])
print(json.dumps(out))
`;
  const r = spawnSync('/usr/bin/python3', ['-W', 'ignore', '-c', py], { input: JSON.stringify(cases), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cftime failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as number[][][];
}

/** A real file's time axis: its values, units and calendar, read by netCDF4-python. */
function fileAxis(path: string, name: string): Case {
  const py = `
import sys, json, netCDF4
v = netCDF4.Dataset(sys.argv[1]).variables[sys.argv[2]]
print(json.dumps({'units': v.units, 'calendar': getattr(v, 'calendar', 'standard'), 'values': [float(x) for x in v[:]]}))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, path, name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`netCDF4 failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Case;
}

const ours = (c: Case) => {
  const u = parseTimeUnits(c.units, c.calendar)!;
  expect(u, `${c.units} (${c.calendar}) parses`).toBeDefined();
  return c.values.map((v) => {
    const d = decodeTime(v, u)!;
    return [d.year, d.month, d.day, d.hour, d.minute, d.second];
  });
};

describe('CF time decoding', () => {
  it('decodes the real files\' time axes as cftime does, the climatologies in year 0', () => {
    const cases: Case[] = [
      { ...fileAxis(COADS, 'TIME'), yearZero: true },
      { ...fileAxis(ferretFile('ocean_atlas_subset.nc'), 'TIME'), yearZero: true },
      fileAxis(ferretFile('monthly_navy_winds.cdf'), 'TIME'),
      fileAxis(WRF_KATRINA, 'XTIME'),
    ];
    const want = cftimeDates(cases);
    cases.forEach((c, i) => expect(ours(c), c.units).toEqual(want[i]));
    // what a user reads on the slider
    const coads = cases[0]!;
    expect(timeLabels(coads.values, coads.units)!.slice(0, 2)).toEqual(['0000-01-16 06:00', '0000-02-15 16:29:06']);
    expect(isClimatology(parseTimeUnits(coads.units)!)).toBe(true);
    const wrf = cases[3]!;
    expect(timeLabels(wrf.values, wrf.units)).toEqual(['2005-08-28 12:00', '2005-08-28 15:00', '2005-08-28 18:00', '2005-08-28 21:00']);
  });

  it('agrees with cftime in every calendar over millennia, across the Gregorian reform and year ends', () => {
    const spread = [-1e6, -654321.75, -1, -0.5, 0, 0.25, 1, 59, 60, 365, 366, 1461, 36524.5, 146097, 987654.125, 3e6];
    const cases: Case[] = [];
    for (const calendar of ['standard', 'gregorian', 'proleptic_gregorian', 'julian', 'noleap', '365_day', 'all_leap', '366_day', '360_day']) {
      for (const units of ['days since 1582-10-15 00:00:00', 'days since 1850-01-01', 'hours since 2000-02-29 12:30:00', 'seconds since 1970-01-01T00:00:00Z', 'minutes since 0001-01-01 00:00']) {
        // 2000-02-29 does not exist in noleap / 360_day has it; cftime refuses invalid reference dates
        if (units.includes('02-29') && (calendar === 'noleap' || calendar === '365_day')) continue;
        cases.push({ units, calendar, values: units.startsWith('seconds') ? spread.map((v) => Math.round(v * 86400)) : spread });
      }
    }
    const want = cftimeDates(cases);
    cases.forEach((c, i) => expect(ours(c), `${c.units} (${c.calendar})`).toEqual(want[i]));
  });

  it('formats dates for sliders and refuses what is not a CF time', () => {
    const d: CfDate = { year: 2005, month: 8, day: 28, hour: 6, minute: 0, second: 0, millisecond: 0 };
    expect(formatDate(d)).toBe('2005-08-28 06:00');
    expect(formatDate({ ...d, year: -44, second: 5 })).toBe('-0044-08-28 06:00:05');
    expect(parseTimeUnits('m')).toBeUndefined();
    expect(parseTimeUnits('months since 2000-01-01')).toBeUndefined();
    expect(parseTimeUnits('days since 2000-01-01', 'none')).toBeUndefined();
    expect(parseTimeUnits('days since 2000-01-01 00:00:00 +05:30')?.tzMinutes).toBe(330);
    expect(timeLabels([0], 'hours since 2000-01-01 05:30 +05:30')).toEqual(['2000-01-01 00:00']);
  });
});
