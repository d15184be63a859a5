/** The real data files the tests read, in one place. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** Debian's ferret-datasets (installed by .ci/run). */
export const FERRET_DIR = '/usr/share/ferret-vis/data';
export const ferretFile = (name: string) => join(FERRET_DIR, name);
export const COADS = ferretFile('coads_climatology.cdf');

/** Real WRF output, kept in the repository (test/fixtures/data/WRF_KATRINA_LICENSE.md). */
export const WRF_KATRINA = join(ROOT, 'test', 'fixtures', 'data', 'wrf_katrina.nc');

export const haveFile = (path: string) => existsSync(path);
