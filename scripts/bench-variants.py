#!/usr/bin/env python3
"""Pre-quantized variants of the visible bench files, as real products store them (issue 14, part 3).

  packed: every float variable of 2+ dims as NetCDF-3 int16 with scale_factor / add_offset (and _FillValue),
          the step chosen per quantity as the NCEP/NCAR reanalysis does (0.01 m/s, 0.01 degC, 0.1 mb), or
          range / 65000 where that does not fit in 16 bits;
  rounded: WRF fields rounded to a decimal step, as GRIB products do (T 0.01 K, P 1 Pa, winds 0.01 m/s, ...),
           plus relative humidity (from T, P and QVAPOR) in whole percent;
  noisy:   fields whose small scales dominate, as derived products and instruments give them: relative vorticity
           and divergence of the navy winds and of WRF's winds on each level (centred differences), and WRF T and
           the navy UWND with white noise of 0.5 % of their range added (a sensor's noise; seeded, reproducible).
And forms none of the fields above was tuned on, to check that what works there generalises:
  coarse_rounded: steps near the bounds (WRF T to 0.1 K and 0.5 K, pressure in whole hPa, the navy UWND to 0.1 and
           1 m/s, water vapour to 0.1 g/kg);
  levitus_packed: an ocean field with a land mask that deepens with depth, packed as int16 (TEMP 0.01 degC,
           SALT 0.001 PSU), the mask as the fill value;
  heavy_tail: a precipitation-like field (etopo20's highest 30 % squared, log-normal noise): mostly zeros, a long tail.
And fields whose central block, where auto plans, is unlike the rest (session 42):
  central_traps: Levitus SALT and TEMP with their land written as 0 and no fill declared (the centre is open
           Pacific, the field full of coasts); Levitus TEMP (land as its median, white noise of 0.003 degC) rounded
           to 0.01 only in the central half of each map, and a 12 x 160 x 160 part of it rounded but for a frame of 24
           points (the planning sample on a grid most of the field is not on);
  undeclared_fill: COADS SST, AIRT and UWND with land as -9999 and no fill declared (the fill counts in the range
           a relative bound is taken from: `fieldpack inspect` names it); SST with land as -9999 in float64, 1e35,
           -999.9, NaN, and -9999 with the warm pool as 9999; SLP with land as -999; Levitus TEMP with land as 1e20
           (the classic codec codes each as an implicit fill: docs/codecs.md).
And other layouts of the same data (session 42's variants, kept here in session 44):
  layouts: Levitus TEMP and SALT (land as its median), COADS SST, AIRT and UWND, the navy UWND and WRF T, QVAPOR, W
           and U, each as float64, transposed (all axes reversed: the fastest dimension slowest), with its first
           axis last (time or depth fastest), and with white noise of 1e-3 of its standard deviation (seeded).
And bit-rounded (netCDF-C's quantize, the mantissa's low bits zeroed; session 35):
  bit_rounded: WRF T, QVAPOR, U and P through BitRound at 9, 7, 10 and 12 significant bits, PH through
           GranularBitRound, WRF QVAPOR and T and the navy VWND through BitGroom at 3 digits, the navy UWND through
           BitRound at 9 bits.

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


def centred_diff(a, axis, spacing):
    """Centred difference along axis (one-sided at the edges), divided by the spacing (a scalar or an array that
    broadcasts against a)."""
    return np.gradient(a, axis=axis) / spacing


def noisy(navy_path, wrf_path, dst_path):
    rng = np.random.default_rng(14)
    with netCDF4.Dataset(navy_path) as navy, netCDF4.Dataset(wrf_path) as wrf, \
            netCDF4.Dataset(dst_path, 'w', format='NETCDF4') as dst:
        for name in ('TIME', 'FNOCY', 'FNOCX'):
            dst.createDimension(name, len(navy.dimensions[name]))
        for name in ('Time', 'bottom_top', 'south_north', 'west_east'):
            dst.createDimension(name, len(wrf.dimensions[name]))

        def put(name, dims, data, units, long_name, fill=None):
            out = dst.createVariable(name, 'f4', dims, fill_value=fill)
            out.units = units
            out.long_name = long_name
            out[:] = data

        # navy winds on a 2.5 degree grid: derivatives in metres, missing points kept missing
        u = np.ma.masked_invalid(navy.variables['UWND'][:]).astype(np.float64)
        v = np.ma.masked_invalid(navy.variables['VWND'][:]).astype(np.float64)
        lat = np.deg2rad(navy.variables['FNOCY'][:].astype(np.float64))
        dlon = np.deg2rad(2.5) * 6.371e6 * np.maximum(np.cos(lat), 1e-3)[None, :, None]
        dlat = np.deg2rad(np.abs(lat[1] - lat[0])) * 6.371e6
        ysign = 1.0 if lat[1] > lat[0] else -1.0
        fill = np.float32(-1e34)
        vort = centred_diff(v.filled(np.nan), 2, dlon) - ysign * centred_diff(u.filled(np.nan), 1, dlat)
        div = centred_diff(u.filled(np.nan), 2, dlon) + ysign * centred_diff(v.filled(np.nan), 1, dlat)
        dims = ('TIME', 'FNOCY', 'FNOCX')
        put('VORT', dims, np.ma.masked_invalid(vort), 's-1', 'relative vorticity of the navy winds', fill)
        put('DIV', dims, np.ma.masked_invalid(div), 's-1', 'divergence of the navy winds', fill)
        span = float(u.max() - u.min())
        put('UWND_NOISY', dims, u + rng.normal(0.0, 0.005 * span, u.shape), 'm/s', 'UWND + white noise of 0.5 % of its range', fill)

        # WRF winds on their staggered grid: differences across a cell land on the mass points
        uw = wrf.variables['U'][:].astype(np.float64)
        vw = wrf.variables['V'][:].astype(np.float64)
        dx, dy = float(wrf.DX), float(wrf.DY)
        du_dx = np.diff(uw, axis=3) / dx
        dv_dy = np.diff(vw, axis=2) / dy
        u_mass = 0.5 * (uw[..., 1:] + uw[..., :-1])
        v_mass = 0.5 * (vw[:, :, 1:, :] + vw[:, :, :-1, :])
        dims = ('Time', 'bottom_top', 'south_north', 'west_east')
        put('WRF_VORT', dims, centred_diff(v_mass, 3, dx) - centred_diff(u_mass, 2, dy), 's-1', 'relative vorticity (WRF winds)')
        put('WRF_DIV', dims, du_dx + dv_dy, 's-1', 'divergence (WRF winds)')
        t = wrf.variables['T'][:].astype(np.float64)
        span = float(t.max() - t.min())
        put('T_NOISY', dims, t + rng.normal(0.0, 0.005 * span, t.shape), 'K', 'WRF T + white noise of 0.5 % of its range')


def coarse_rounded(wrf_path, navy_path, dst_path):
    """Decimal steps near the benched bounds (0.1 K is rel ~1e-3 of WRF T's range): where coding the grid's indices
    and predicting on the values are closest."""
    with netCDF4.Dataset(wrf_path) as wrf, netCDF4.Dataset(navy_path) as navy, \
            netCDF4.Dataset(dst_path, 'w', format='NETCDF4') as dst:
        for name in ('Time', 'bottom_top', 'south_north', 'west_east'):
            dst.createDimension(name, len(wrf.dimensions[name]))
        for name in ('TIME', 'FNOCY', 'FNOCX'):
            dst.createDimension(name, len(navy.dimensions[name]))

        def put(name, dims, data, step, units, fill=None):
            out = dst.createVariable(name, 'f4', dims, fill_value=fill)
            out.units = units
            out.least_significant_digit_step = step
            out[:] = (np.round(data / step) * step).astype(np.float32)

        wrf_dims = wrf.variables['T'].dimensions
        t = wrf.variables['T'][:].astype(np.float64)
        put('T_0P1', wrf_dims, t, 0.1, 'K')
        put('T_0P5', wrf_dims, t, 0.5, 'K')
        put('P_HPA', wrf_dims, (wrf.variables['P'][:] + wrf.variables['PB'][:]).astype(np.float64) / 100.0, 1.0, 'hPa')
        put('QVAPOR_GKG', wrf_dims, wrf.variables['QVAPOR'][:].astype(np.float64) * 1000.0, 0.1, 'g kg-1')
        u = np.ma.masked_invalid(navy.variables['UWND'][:]).astype(np.float64)
        fill = np.float32(-1e34)
        put('UWND_0P1', ('TIME', 'FNOCY', 'FNOCX'), u, 0.1, 'm/s', fill)
        put('UWND_1', ('TIME', 'FNOCY', 'FNOCX'), u, 1.0, 'm/s', fill)


def bit_rounded(wrf_path, navy_path, dst_path):
    """Fields through netCDF-C's own quantize (4.9+, as NCO's --ppc and xarray writers use it): BitRound at the
    significant bits Klöwer et al. (2021) keep for such quantities, GranularBitRound and BitGroom at 3 digits."""
    with netCDF4.Dataset(wrf_path) as wrf, netCDF4.Dataset(navy_path) as navy, \
            netCDF4.Dataset(dst_path, 'w', format='NETCDF4') as dst:
        for name in ('Time', 'bottom_top', 'bottom_top_stag', 'south_north', 'west_east', 'west_east_stag'):
            dst.createDimension(name, len(wrf.dimensions[name]))
        for name in ('TIME', 'FNOCY', 'FNOCX'):
            dst.createDimension(name, len(navy.dimensions[name]))

        def put(name, src, mode, digits, data=None, fill=None):
            out = dst.createVariable(name, 'f4', src.dimensions, fill_value=fill, significant_digits=digits, quantize_mode=mode)
            out.setncatts({k: src.getncattr(k) for k in src.ncattrs() if k not in ('_FillValue', 'missing_value')})
            out[:] = src[:] if data is None else data

        for name, bits in (('T', 9), ('QVAPOR', 7), ('U', 10), ('P', 12)):
            put(f'{name}_BITROUND{bits}', wrf.variables[name], 'BitRound', bits)
        put('PH_GRANULAR3', wrf.variables['PH'], 'GranularBitRound', 3)
        for name in ('QVAPOR', 'T'):
            put(f'{name}_BITGROOM3', wrf.variables[name], 'BitGroom', 3)  # netCDF4-python's default mode
        u = np.ma.masked_invalid(navy.variables['UWND'][:])
        put('UWND_BITROUND9', navy.variables['UWND'], 'BitRound', 9, u, np.float32(-1e34))
        put('VWND_BITGROOM3', navy.variables['VWND'], 'BitGroom', 3, np.ma.masked_invalid(navy.variables['VWND'][:]), np.float32(-1e34))


def levitus_packed(src_path, dst_path):
    """Levitus TEMP and SALT as int16 with scale_factor / add_offset, land (and below the sea floor) as the fill."""
    steps = {'TEMP': 0.01, 'SALT': 0.001}
    with netCDF4.Dataset(src_path) as src, netCDF4.Dataset(dst_path, 'w', format='NETCDF3_CLASSIC') as dst:
        copy_dims_and_coords(src, dst, keep=[])
        for name, step in steps.items():
            var = src.variables[name]
            data = np.ma.masked_invalid(var[:])
            data = np.ma.masked_where(np.abs(data) > 1e30, data)
            offset = round(float(data.max() + data.min()) / 2.0 / step) * step
            out = dst.createVariable(name, 'i2', var.dimensions, fill_value=np.int16(-32767))
            out.setncatts({k: var.getncattr(k) for k in var.ncattrs() if k not in ('_FillValue', 'missing_value', 'scale_factor', 'add_offset')})
            out.scale_factor = np.float32(step)
            out.add_offset = np.float32(offset)
            out[:] = data


def heavy_tail(src_path, dst_path):
    """Mostly zeros and a long tail, as accumulated precipitation: etopo20's highest 30 % above their threshold,
    squared, times log-normal noise (seeded)."""
    rng = np.random.default_rng(7)
    with netCDF4.Dataset(src_path) as src, netCDF4.Dataset(dst_path, 'w', format='NETCDF4') as dst:
        copy_dims_and_coords(src, dst, keep=[])
        rose = np.asarray(src.variables['ROSE'][:], dtype=np.float64)
        above = np.maximum(0.0, rose - np.percentile(rose, 70)) / 1000.0
        out = dst.createVariable('PRECIP_LIKE', 'f4', src.variables['ROSE'].dimensions)
        out.units = 'mm'
        out.long_name = 'precipitation-like: mostly zeros, a heavy tail'
        out[:] = (above ** 2 * np.exp(rng.normal(0.0, 0.3, above.shape))).astype(np.float32)


def put(dst, name, data, units, dtype='f4'):
    """A float variable (float32 unless dtype says) on dims named by their lengths (created as needed), no fill declared."""
    dims = []
    for n in data.shape:
        # a length twice in one variable (WRF's 48 x 48) gets a second dimension: writers refuse a repeated one
        dim = 'n%d' % n if 'n%d' % n not in dims else 'n%d_%d' % (n, dims.count('n%d' % n) + 1)
        if dim not in dst.dimensions:
            dst.createDimension(dim, n)
        dims.append(dim)
    out = dst.createVariable(name, dtype, tuple(dims), fill_value=False)
    out.units = units
    out.set_auto_mask(False)
    out[:] = data.astype(np.float32 if dtype == 'f4' else np.float64)


def central_traps(levitus_path, dst_path):
    """Fields whose central block (auto's planning sample) is unlike the rest."""
    rng = np.random.default_rng(3)
    with netCDF4.Dataset(levitus_path) as src, netCDF4.Dataset(dst_path, 'w', format='NETCDF4') as dst:
        for name, units in (('SALT', 'PSU'), ('TEMP', 'degC')):
            put(dst, name + '_LAND0', np.ma.filled(np.ma.masked_invalid(src.variables[name][:]), 0.0), units)
        temp = np.ma.masked_invalid(src.variables['TEMP'][:]).astype(np.float64)
        temp = np.ma.filled(temp, float(np.ma.median(temp))) + rng.normal(0.0, 0.003, temp.shape)
        centre = temp.copy()
        _, h, w = centre.shape
        centre[:, h // 4:3 * h // 4, w // 4:3 * w // 4] = np.round(centre[:, h // 4:3 * h // 4, w // 4:3 * w // 4], 2)
        put(dst, 'TEMP_CENTRE_ROUNDED', centre, 'degC')
        frame = temp[:12, 10:170, 100:260].copy()
        frame[:, 24:136, 24:136] = np.round(frame[:, 24:136, 24:136], 2)
        put(dst, 'TEMP_FRAME_UNROUNDED', frame, 'degC')


def undeclared_fill(coads_path, levitus_path, dst_path):
    """COADS and Levitus fields with land as a value no attribute declares: -9999 (float32 and float64), 1e35, -999,
    -999.9, NaN, 1e20; -9999 and 9999 at once (the warm pool as 9999)."""
    def land_as(var, fill):
        data = np.ma.masked_invalid(var[:])
        return np.ma.filled(np.ma.masked_where(np.abs(data) > 1e30, data), fill)
    with netCDF4.Dataset(coads_path) as src, netCDF4.Dataset(levitus_path) as lev, \
            netCDF4.Dataset(dst_path, 'w', format='NETCDF4') as dst:
        for name in ('SST', 'AIRT', 'UWND'):
            var = src.variables[name]
            put(dst, name + '_9999', land_as(var, -9999.0), getattr(var, 'units', ''))
        sst = src.variables['SST']
        put(dst, 'SST_9999_F64', land_as(sst, -9999.0), sst.units, 'f8')
        put(dst, 'SST_1E35', land_as(sst, 1e35), sst.units)
        put(dst, 'SST_M999_9', land_as(sst, -999.9), sst.units)
        put(dst, 'SST_NAN', land_as(sst, np.nan), sst.units)
        both = land_as(sst, -9999.0)
        both[both > 28] = 9999.0
        put(dst, 'SST_BOTH', both, sst.units)
        slp = src.variables['SLP']
        put(dst, 'SLP_M999', land_as(slp, -999.0), slp.units)
        temp = lev.variables['TEMP']
        put(dst, 'TEMP_1E20', land_as(temp, 1e20), getattr(temp, 'units', ''))


def layouts(sources, dst_path):
    """Each (file, variables) as float64, transposed, its first axis last (3+ dims), and with white noise; masked
    points filled with the field's median."""
    rng = np.random.default_rng(7)
    with netCDF4.Dataset(dst_path, 'w', format='NETCDF4') as dst:
        for path, names in sources:
            with netCDF4.Dataset(path) as src:
                for name in names:
                    data = np.ma.squeeze(np.ma.masked_invalid(src.variables[name][:]))
                    data = np.ma.filled(data.astype(np.float64), float(np.ma.median(data)))
                    units = getattr(src.variables[name], 'units', '')
                    tag = os.path.basename(path).split('_')[0][:4] + '_' + name
                    put(dst, tag + '_F64', data, units, 'f8')
                    put(dst, tag + '_TR', np.ascontiguousarray(data.transpose()), units)
                    if data.ndim >= 3:
                        put(dst, tag + '_TLAST', np.ascontiguousarray(np.moveaxis(data, 0, -1)), units)
                    put(dst, tag + '_NOISE', data + rng.normal(0.0, 1e-3 * np.std(data), data.shape), units)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'bench-variants'
    os.makedirs(out, exist_ok=True)
    packed(os.path.join(FERRET, 'monthly_navy_winds.cdf'), os.path.join(out, 'navy_winds_packed.nc'))
    packed(os.path.join(FERRET, 'coads_climatology.cdf'), os.path.join(out, 'coads_packed.nc'))
    rounded(WRF, os.path.join(out, 'wrf_rounded.nc'))
    noisy(os.path.join(FERRET, 'monthly_navy_winds.cdf'), WRF, os.path.join(out, 'noisy.nc'))
    coarse_rounded(WRF, os.path.join(FERRET, 'monthly_navy_winds.cdf'), os.path.join(out, 'coarse_rounded.nc'))
    levitus_packed(os.path.join(FERRET, 'levitus_climatology.cdf'), os.path.join(out, 'levitus_packed.nc'))
    heavy_tail(os.path.join(FERRET, 'etopo20.cdf'), os.path.join(out, 'heavy_tail.nc'))
    bit_rounded(WRF, os.path.join(FERRET, 'monthly_navy_winds.cdf'), os.path.join(out, 'bit_rounded.nc'))
    central_traps(os.path.join(FERRET, 'levitus_climatology.cdf'), os.path.join(out, 'central_traps.nc'))
    undeclared_fill(os.path.join(FERRET, 'coads_climatology.cdf'), os.path.join(FERRET, 'levitus_climatology.cdf'),
                    os.path.join(out, 'undeclared_fill.nc'))
    layouts([(os.path.join(FERRET, 'levitus_climatology.cdf'), ('TEMP', 'SALT')),
             (os.path.join(FERRET, 'coads_climatology.cdf'), ('SST', 'AIRT', 'UWND')),
             (os.path.join(FERRET, 'monthly_navy_winds.cdf'), ('UWND',)),
             (WRF, ('T', 'QVAPOR', 'W', 'U'))], os.path.join(out, 'layouts.nc'))
    print('wrote', ', '.join(sorted(os.listdir(out))), 'to', out)


if __name__ == '__main__':
    main()
