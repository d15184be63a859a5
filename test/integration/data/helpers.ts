import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = join(ROOT, 'test/fixtures/data');
export const FERRET = '/usr/share/ferret-vis/data';
export { WRF_KATRINA as WRF } from '../../helpers/data-files.ts';

export interface ExpectedVar {
  dtype: string;
  readable: boolean;
  dims?: string[];
  shape?: number[];
  units?: string | null;
  masked?: number;
  /** Valid (unmasked) NaN / +-Inf points: values, not fill. */
  nonFinite?: number;
  min?: number | null;
  max?: number | null;
  mean?: number | null;
  std?: number | null;
  indices?: number[];
  /** null where masked; "NaN", "Infinity", "-Infinity" for non-finite values. */
  values?: (number | string | null)[];
}
export interface ExpectedFile {
  path: string;
  format: string;
  variables: Record<string, ExpectedVar>;
}

export const EXPECTED: Record<string, ExpectedFile> = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));

export function fixturePath(key: string): string {
  const p = EXPECTED[key]!.path;
  return p.startsWith('/') ? p : join(FIXTURES, p);
}

export function available(key: string): boolean {
  return !!EXPECTED[key] && existsSync(fixturePath(key));
}

/** /usr/bin/python3 with netCDF4 (Debian python3-netcdf4), if installed. */
export const PYTHON = '/usr/bin/python3';
export function hasPythonNetcdf4(): boolean {
  return existsSync('/usr/lib/python3/dist-packages/netCDF4');
}
