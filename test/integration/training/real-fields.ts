/**
 * Real fields for the training tests, read directly (the data service is tested on its own):
 * COADS climatology (NetCDF-3, Debian's ferret-datasets) with netcdfjs, else the WRF Katrina extract
 * (NetCDF-4) with h5wasm. Returns null when neither file is on this machine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { NetCDFReader } from 'netcdfjs';
import type { Field } from '../../../src-main/core/field.ts';
import { WRF_KATRINA } from '../../helpers/data-files.ts';

export const COADS = '/usr/share/ferret-vis/data/coads_climatology.cdf';
export const WRF: string | undefined = [process.env.FIELDPACK_WRF, WRF_KATRINA].find((p): p is string => !!p && existsSync(p));

function coadsField(r: NetCDFReader, name: string, months: number): Field {
  const v = r.variables.find((x) => x.name === name)!;
  const fill = Number((v.attributes as unknown as { name: string; value: unknown }[]).find((a) => a.name === '_FillValue')?.value);
  const data = r.getDataVariable(name) as unknown as number[][] | number[];
  const flat: number[] = Array.isArray(data[0]) ? (data as number[][]).slice(0, months).flat() : (data as number[]).slice(0, months * 90 * 180);
  const values = new Float32Array(flat);
  const mask = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) mask[i] = values[i] === Math.fround(fill) || Math.abs(values[i]!) > 1e30 ? 0 : 1;
  return { name, shape: [months, 90, 180], dims: ['TIME', 'COADSY', 'COADSX'], values, mask, sourceDtype: 'float32', attributes: {} };
}

/** Two physically linked 2D fields with several samples (time steps): [anchor, target]. */
export async function linkedFields(months = 6): Promise<{ source: string; anchor: Field; target: Field } | null> {
  if (existsSync(COADS)) {
    const r = new NetCDFReader(readFileSync(COADS));
    return { source: COADS, anchor: coadsField(r, 'AIRT', months), target: coadsField(r, 'SST', months) };
  }
  if (WRF) {
    const h5 = (await import('h5wasm/node')).default;
    await h5.ready;
    const f = new h5.File(WRF, 'r');
    const get = (name: string): Field => {
      const d = f.get(name) as unknown as { shape: number[]; value: Float32Array };
      // [time, level, y, x] -> samples = time * level, 2D slices of 48 x 48
      return { name, shape: d.shape, dims: ['Time', 'bottom_top', 'south_north', 'west_east'], values: Float32Array.from(d.value), sourceDtype: 'float32', attributes: {} };
    };
    const out = { source: WRF, anchor: get('QVAPOR'), target: get('T') };
    f.close();
    return out;
  }
  return null;
}

/** /usr/bin/python3 with torch, or a reason to skip. */
export function systemTorch(): { python: string } | { skip: string } {
  const python = process.env.FIELDPACK_TEST_PYTHON ?? '/usr/bin/python3';
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    return { python };
  } catch {
    return { skip: `${python} cannot import torch (apt-get install python3-torch python3-onnx); torch-dependent tests skipped` };
  }
}
