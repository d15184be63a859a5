/**
 * Axes in coordinates (services/data/axes.ts) on real files: COADS' climatological months, Levitus' depths in
 * metres, WRF Katrina's times from XTIME (no coordinate variable named like its Time dimension), ETOPO5's degrees;
 * and `fieldpack inspect` printing decoded coordinate ranges and the fields without units.
 */
import { describe, expect, it } from 'vitest';
import { axesOf } from '../../../src-main/services/data/axes.ts';
import { COADS, WRF_KATRINA, ferretFile } from '../../helpers/data-files.ts';
import { fieldpack } from '../../helpers/cli.ts';

describe('axes in coordinates', () => {
  it('labels times, depths and degrees from the real files', async () => {
    const [time, lat, lon] = await axesOf(COADS, ['TIME', 'COADSY', 'COADSX'], [12, 90, 180]);
    expect(time!.labels[0]).toBe('0000-01-16 06:00');
    expect(time!.climatology).toBe(true);
    expect(lat!.ticks.map((t) => t.label)).toEqual(['60°S', '30°S', '0°', '30°N', '60°N']);
    expect(lon!.labels[0]).toBe('21°E');
    expect(lon!.labels[179]).toBe('19°E'); // 379 degrees east
    const [depth] = await axesOf(ferretFile('levitus_climatology.cdf'), ['ZAXLEVITR'], [20]);
    expect(depth!.kind).toBe('level');
    expect(depth!.labels).toEqual(expect.arrayContaining(['0 m', '400 m', '1000 m', '5000 m']));
    const [wrfTime, level, y] = await axesOf(WRF_KATRINA, ['Time', 'bottom_top', 'south_north'], [4, 14, 48]);
    expect(wrfTime!.coordinate).toBe('XTIME');
    expect(wrfTime!.labels).toEqual(['2005-08-28 12:00', '2005-08-28 15:00', '2005-08-28 18:00', '2005-08-28 21:00']);
    // no coordinate variable: indices, said so by coordinate null
    expect(level!.coordinate).toBeNull();
    expect(y!.labels[3]).toBe('3');
    const [, etopoLon] = await axesOf(ferretFile('etopo5.cdf'), ['ETOPO05_Y', 'ETOPO05_X'], [2161, 4320]);
    expect(etopoLon!.ticks.map((t) => t.label)).toEqual(['0°', '60°E', '120°E', '180°', '120°W', '60°W']);
  });

  it('inspect prints decoded coordinates and names the fields without units', async () => {
    const r = await fieldpack('inspect', ferretFile('ocean_atlas_subset.nc'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/TIME\s+\(TIME\)\s+12\s+hour since 0000-01-01 00:00:00\s+0000-01-16 06:00 \.\. 0000-12-16 01:20:06 \(climatology, year 0\)/);
    expect(r.stdout).toMatch(/ZAXLEVIT19 .* 0 m \.\. 1000 m/);
    expect(r.stdout).toMatch(/XAX_SUBSET .* 20\.5°E \.\. 18\.5°E \(20\.5 \.\. 378\.5\)/);
    expect(r.stdout).toContain('no units attribute: TEMP');
  });
});
