#!/usr/bin/env python3
"""Pre-quantized variants of the visible bench files, as real products store them (issue 14, part 3).

  packed: every float variable of 2+ dims as NetCDF-3 int16 with scale_factor / add_offset (and _FillValue),
          the step chosen per quantity as the NCEP/NCAR reanalysis does (0.01 m/s, 0.01 degC, 0.1 mb), or
          range / 65000 where that does not fit in 16 bits;
  rounded: WRF fields rounded to a decimal step, as GRIB products do (T 0.01 K, P 1 Pa, winds 0.01 m/s, ...),
           plus relative humidity (from T, P and QVAPOR) in whole percent.

Usage: python3 scripts/bench-variants.py OUTDIR   (needs netCDF4-python: Debian python3-netcdf4)
Then: fieldpack bench OUTDIR --codec auto --codec sz3 --bounds rel:1e-2,rel:1e-3,rel:1e-4 --json OUT.json
"""
import os
import sys

import netCDF4
import numpy as np

FERRET = '/usr/share/ferret-vis/data'
HERE = os.path.dirname(os.path.abspath(__file__))
WRF = os.path.join(HERE, '..', 'test', 'fixtures', 'data', 'wrf_katrina.nc')

# packed variable -> its step (NCEP/NCAR reanalysis-like precision)
PACK_STEPS = {'UWND': 0.01, 'VWND': 0.01, 'WSPD': 0.01, 'SST': 0.01, 'AIRT': 0.01, 'SPEH': 0.01, 'SLP': 0.1}

# WRF variable -> decimal step it is rounded to (GRIB-like precision for each quantity)
WRF_STEPS = {'T2': 0.01, 'T': 0.01, 'PSFC': 1.0, 'P': 1.0, 'PH': 0.1, 'U': 0.01, 'V': 0.01, 'W': 0.001,
             'U10': 0.01, 'V10': 0.01, 'QVAPOR': 1e-6, 'Q2': 1e-6, 'HGT': 1.0}


def copy_dims_and_coords(src, dst, keep):
    for name, dim in src.dimensions.items():
        dst.createDimension(name, None if dim.isunlimited() else len(dim))
    dst.setncatts({k: src.getncattr(k) for k in src.ncattrs()})
    for name, var in src.variables.items():
        if name in keep or (name in src.dimensions and var.ndim == 1):
            out = dst.createVariable(name, var.dtype, var.dimensions)
            out.setncatts({k: var.getncattr(k) for k in var.ncattrs()})
            out[:] = var[:]


def packed(src_path, dst_path):
    """Float variables of 2+ dims as int16 with scale_factor/add_offset; the rest copied."""
    with netCDF4.Dataset(src_path) as src, netCDF4.Dataset(dst_path, 'w', format='NETCDF3_CLASSIC') as dst:
        floats = [n for n, v in src.variables.items() if v.ndim >= 2 and v.dtype.kind == 'f']
        copy_dims_and_coords(src, dst, keep=[n for n, v in src.variables.items() if n not in floats and v.dtype.kind != 'S'])
        for name in floats:
            var = src.variables[name]
            data = np.ma.masked_invalid(var[:])
            lo, hi = float(data.min()), float(data.max())
            scale = PACK_STEPS.get(name, 0.0)
            if not scale or (hi - lo) / scale > 65000:
                scale = (hi - lo) / 65000.0 if hi > lo else 1.0
            offset = round((hi + lo) / 2.0 / scale) * scale
            out = dst.createVariable(name, 'i2', var.dimensions, fill_value=np.int16(-32767))
            out.setncatts({k: var.getncattr(k) for k in var.ncattrs() if k not in ('_FillValue', 'missing_value', 'scale_factor', 'add_offset')})
            out.scale_factor = np.float32(scale)
            out.add_offset = np.float32(offset)
            out[:] = data  # netCDF4 packs: round((x - add_offset) / scale_factor)


def rounded(src_path, dst_path):
    with netCDF4.Dataset(src_path) as src, netCDF4.Dataset(dst_path, 'w', format='NETCDF4') as dst:
        copy_dims_and_coords(src, dst, keep=['XLAT', 'XLONG'])
        for name, step in WRF_STEPS.items():
            var = src.variables[name]
            out = dst.createVariable(name, 'f4', var.dimensions)
            out.setncatts({k: var.getncattr(k) for k in var.ncattrs()})
            out.least_significant_digit_step = step
            out[:] = (np.round(var[:].astype(np.float64) / step) * step).astype(np.float32)
        # relative humidity in whole percent (Tetens over water; T is WRF's perturbation potential temperature)
        p = src.variables['P'][:] + src.variables['PB'][:]
        theta = src.variables['T'][:] + 300.0
        temp = theta * (p / 1e5) ** 0.2854
        es = 610.78 * np.exp(17.27 * (temp - 273.16) / (temp - 35.86))
        qs = 0.622 * es / (p - es)
        rh = dst.createVariable('RH', 'f4', src.variables['T'].dimensions)
        rh.units = '%'
        rh.long_name = 'relative humidity (whole percent)'
        rh[:] = np.clip(np.round(100.0 * src.variables['QVAPOR'][:] / qs), 0, 100).astype(np.float32)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'bench-variants'
    os.makedirs(out, exist_ok=True)
    packed(os.path.join(FERRET, 'monthly_navy_winds.cdf'), os.path.join(out, 'navy_winds_packed.nc'))
    packed(os.path.join(FERRET, 'coads_climatology.cdf'), os.path.join(out, 'coads_packed.nc'))
    rounded(WRF, os.path.join(out, 'wrf_rounded.nc'))
    print('wrote', ', '.join(sorted(os.listdir(out))), 'to', out)


if __name__ == '__main__':
    main()
