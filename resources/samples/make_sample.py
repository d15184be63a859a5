#!/usr/bin/python3
"""Build resources/samples/coads_climatology.nc, Fieldpack's first-start demo dataset.

Source: Debian's ferret-datasets package, /usr/share/ferret-vis/data/coads_climatology.cdf
(NOAA/PMEL COADS monthly surface climatology, public-domain terms, see README.md).

Kept: all 7 fields (SST, AIRT, SPEH, WSPD, UWND, VWND, SLP), 12 months x 90 x 180, values bit for bit,
with their attributes and the TIME/COADSY/COADSX coordinates, plus a land mask (1 = land: SST missing
in every month). Written as NetCDF-4 with deflate level 9 + shuffle (one chunk per month), which brings
5.4 MB down to under 3 MB without changing any value.

    apt-get install -y ferret-datasets python3-netcdf4
    /usr/bin/python3 resources/samples/make_sample.py
"""
import os
import sys

import netCDF4
import numpy as np

SRC = '/usr/share/ferret-vis/data/coads_climatology.cdf'
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'coads_climatology.nc')
FIELDS = ['SST', 'AIRT', 'SPEH', 'WSPD', 'UWND', 'VWND', 'SLP']


def main():
    src = netCDF4.Dataset(SRC)
    src.set_auto_maskandscale(False)
    tmp = OUT + '.tmp'
    dst = netCDF4.Dataset(tmp, 'w', format='NETCDF4')
    for k in src.ncattrs():
        dst.setncattr(k, src.getncattr(k))
    dst.title = 'COADS monthly surface climatology (Fieldpack demo dataset)'
    dst.source = 'ferret-datasets (Debian) coads_climatology.cdf; NOAA/PMEL; public-domain terms'
    dst.fieldpack_sample = 'made by resources/samples/make_sample.py; values identical to the source'
    for name, dim in src.dimensions.items():
        dst.createDimension(name, None if dim.isunlimited() else len(dim))
    for name in ['TIME', 'COADSY', 'COADSX']:
        v = src.variables[name]
        o = dst.createVariable(name, v.dtype, v.dimensions)
        o.setncatts({k: v.getncattr(k) for k in v.ncattrs()})
        o[:] = v[:]
    dst['TIME'].axis = 'T'
    dst['COADSY'].axis = 'Y'
    dst['COADSX'].axis = 'X'
    for name in FIELDS:
        v = src.variables[name]
        fill = v.getncattr('_FillValue')
        o = dst.createVariable(name, v.dtype, v.dimensions, zlib=True, complevel=9, shuffle=True,
                               chunksizes=(1, 90, 180), fill_value=fill)
        o.setncatts({k: v.getncattr(k) for k in v.ncattrs() if k != '_FillValue'})
        o[:] = v[:]
    sst = src.variables['SST'][:]
    land = np.all(sst == src.variables['SST'].getncattr('_FillValue'), axis=0).astype('i1')
    m = dst.createVariable('land_mask', 'i1', ('COADSY', 'COADSX'), zlib=True, complevel=9)
    m.long_name = 'land mask (SST missing in every month)'
    m.flag_values = np.array([0, 1], dtype='i1')
    m.flag_meanings = 'ocean land'
    m[:] = land
    dst.close()
    src.close()
    os.replace(tmp, OUT)
    # check: every value identical to the source
    a = netCDF4.Dataset(SRC)
    b = netCDF4.Dataset(OUT)
    for name in FIELDS + ['TIME', 'COADSY', 'COADSX']:
        x = a.variables[name][:]
        y = b.variables[name][:]
        assert np.array_equal(np.ma.getmaskarray(x), np.ma.getmaskarray(y)), name
        assert np.array_equal(x.compressed(), y.compressed()), name
    print(OUT, os.path.getsize(OUT), 'bytes; land fraction %.3f' % b['land_mask'][:].mean(), file=sys.stderr)


if __name__ == '__main__':
    main()
