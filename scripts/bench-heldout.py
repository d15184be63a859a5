#!/usr/bin/env python3
"""Synthetic fields no codec was tuned on, to check that what works on the bench files generalises (issue 14).

  held.nc:   a k^-3.5 2-D field (GRF2D), 3-D turbulence (TURB3D), a smooth float64 field with noise (F64), a land-use
             map of 24 categories (LANDUSE), sparse precipitation (PRECIP), a sharp front (FRONT), cloud water that is
             mostly 0 (QCLOUD), near-white noise (NOISE);
  shapes.nc: a 1-D station series in float32 and float64 (SERIES, SERIES64), a 10-member ensemble (ENS), a long
             track (TRACK);
  const.nc:  100 x 100 x 100 of zeros (ZERO) and of 273.15 (C273), and a 1 %-sparse field (SPARSE);
  held2.nc:  a second set, made after the first had been looked at: an SST with its land as NaN (xarray's fill), ocean
             temperature stratified with depth over a bathymetry mask (NaN), a k^-5/3 field (rougher than GRF2D), a
             float64 mixing ratio over ten decades, a field of small variations on a large offset (1e5), a long thin
             3-D grid, a diurnal cycle over 48 time steps, a noisy field packed as int16 (scale 0.05), a map of
             piecewise-constant parameters, and a 4-D field;
  held3.nc:  a third set, made after the second had been looked at: GRIB-style binary-scaled packing (steps of
             2^-4 / 10), a float32 field through bfloat16 (an ML model's output: a step that doubles with each
             octave), counts stored as floats (0 to 1e6), a cloud fraction clipped at 0 and 1 at both ends, a regular
             grid whose pole rows are one value each, a field whose missing points are 1e20 (CMIP's missing_value,
             no _FillValue), radar reflectivity floored at -32 dBZ, 24 slowly varying time steps of one map, specific
             humidity over 37 pressure levels (four decades), and a field with a 2-point checkerboard (staggered
             output averaged badly);
  held4.nc:  a fourth, made after the mantissa grid (session 35): a field through float16, sea-ice concentration
             with plateaus at 0 and 100, one map repeated over 12 steps, density decaying over 80 levels, sparse spikes
             on a smooth field, soil moisture with saturated patches at 1.0, Gibbs ringing near steps, an int8 packed
             field, a log-normal aerosol over decades, and a tide over 48 steps.
Seeded: the same files on every run.

Usage: python3 scripts/bench-heldout.py OUTDIR   (needs netCDF4-python: Debian python3-netcdf4)
Then: fieldpack bench OUTDIR --codec auto --codec sz3 --bounds rel:1e-2,rel:1e-3,rel:1e-4 --json OUT.json
(1-D variables are benched when named: --vars SERIES,SERIES64)
"""
import os
import sys

import netCDF4
import numpy as np


def grf(rng, shape, slope):
    """A Gaussian random field whose power falls as k^-slope, unit variance."""
    k = np.meshgrid(*[np.fft.fftfreq(n) for n in shape], indexing='ij')
    kk = np.sqrt(sum(x ** 2 for x in k))
    kk[(0,) * len(shape)] = 1
    amp = kk ** (-slope / 2)
    amp[(0,) * len(shape)] = 0
    f = np.fft.ifftn(amp * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))).real
    return f / f.std()


def writer(path):
    d = netCDF4.Dataset(path, 'w')

    def var(name, a, dims, dtype='f4'):
        for n, s in zip(dims, a.shape):
            if n not in d.dimensions:
                d.createDimension(n, s)
        v = d.createVariable(name, dtype, dims)
        v[:] = a
        v.units = '1'
    return d, var


def nan_filled(d, name, a, dims):
    """A float32 variable whose missing points are NaN, declared as its _FillValue (xarray's default)."""
    for n, s in zip(dims, a.shape):
        if n not in d.dimensions:
            d.createDimension(n, s)
    v = d.createVariable(name, 'f4', dims, fill_value=np.float32(np.nan))
    v[:] = a
    v.units = '1'


def held2(out):
    rng = np.random.default_rng(4242)
    d, var = writer(os.path.join(out, 'held2.nc'))
    lat = np.linspace(-89.875, 89.875, 720)[:, None]
    land = grf(rng, (720, 1440), 4) > 0.6
    sst = 28 * np.cos(np.radians(lat)) ** 2 - 1.5 + 0.8 * grf(rng, (720, 1440), 3.5)
    nan_filled(d, 'SSTNAN', np.where(land, np.nan, sst), ('lat', 'lon'))
    depth = np.array([5, 15, 25, 40, 60, 85, 120, 160, 210, 270, 340, 420, 520, 640, 780, 950, 1150, 1400, 1700, 2000,
                      2400, 2800, 3200, 3600, 4000, 4400, 4800, 5200, 5600, 6000])[:, None, None]
    bathy = 5800 * (0.5 + 0.5 * np.tanh(grf(rng, (180, 360), 4)))[None]
    temp = 2 + 24 * np.exp(-depth / 400) * np.cos(np.radians(np.linspace(-89.5, 89.5, 180)))[None, :, None] ** 2 + 0.3 * grf(rng, (30, 180, 360), 3.5)
    nan_filled(d, 'OCEANT', np.where(depth > bathy, np.nan, temp), ('depth', 'lat2', 'lon2'))
    var('KOLMO', grf(rng, (1024, 1024), 5 / 3 + 1), ('y3', 'x3'))
    var('MIXR', 10 ** (-7 + 2.5 * grf(rng, (20, 128, 128), 3)), ('z4', 'y4', 'x4'), 'f8')
    var('OFFSET', 1e5 + 0.01 * grf(rng, (512, 512), 3), ('y5', 'x5'))
    var('ANISO', 10 * grf(rng, (4, 2000, 50), 3), ('z6', 'y6', 'x6'))
    t = np.arange(48)[:, None, None]
    var('DIURNAL', 290 + 8 * np.sin(2 * np.pi * t / 24) * (0.5 + 0.5 * np.tanh(grf(rng, (1, 100, 100), 3))) + 0.5 * grf(rng, (48, 100, 100), 3.5), ('t7', 'y7', 'x7'))
    w = 0.5 * grf(rng, (10, 200, 200), 1.5)
    for n, s in (('z8', 10), ('y8', 200), ('x8', 200)):
        d.createDimension(n, s)
    v = d.createVariable('WPACK', 'i2', ('z8', 'y8', 'x8'), fill_value=np.int16(-32767))
    v.scale_factor = np.float32(0.05)
    v.add_offset = np.float32(0.0)
    v.units = 'cm s-1'
    v[:] = w * 20
    g = grf(rng, (600, 800), 4)
    params = rng.uniform(0.05, 0.6, 12)
    var('SOILPAR', params[np.clip(np.floor((g - g.min()) / (g.max() - g.min()) * 12), 0, 11).astype(int)], ('y9', 'x9'))
    var('FIELD4D', 250 + 20 * grf(rng, (6, 10, 64, 64), 3.5), ('ta', 'za', 'ya', 'xa'))
    d.close()


def held3(out):
    rng = np.random.default_rng(90210)
    d, var = writer(os.path.join(out, 'held3.nc'))
    lat = np.linspace(-90, 90, 361)[:, None]
    t = 250 + 40 * np.cos(np.radians(lat)) + 3 * grf(rng, (361, 720), 3.5)
    step = 2.0 ** -4 / 10
    var('GRIBT', np.round(t / step) * step, ('lat', 'lon'))
    u = (8 * grf(rng, (12, 200, 200), 3.5)).astype('f4')
    var('BF16', (u.view(np.uint32) + 0x8000 & 0xFFFF0000).view(np.float32), ('z1', 'y1', 'x1'))
    g = grf(rng, (500, 600), 3)
    var('COUNTS', np.floor(np.exp(np.clip(3 + 3 * g, 0, 13.8))) - 1, ('y2', 'x2'))
    var('CLDFRA', np.clip(0.5 + 0.6 * grf(rng, (20, 150, 150), 3), 0, 1), ('z3', 'y3', 'x3'))
    polar = 230 + 60 * np.cos(np.radians(lat)) ** 2 + 4 * grf(rng, (361, 720), 3.5) * np.cos(np.radians(lat))
    polar[0, :] = polar[0].mean()
    polar[-1, :] = polar[-1].mean()
    var('POLAR', polar, ('lat', 'lon'))
    ocean = grf(rng, (300, 400), 4) > -0.3
    for n, s in (('y4', 300), ('x4', 400)):
        d.createDimension(n, s)
    v = d.createVariable('CMIPTOS', 'f4', ('y4', 'x4'))
    v.missing_value = np.float32(1e20)
    v.units = 'degC'
    v.set_auto_mask(False)
    v[:] = np.where(ocean, 15 + 10 * grf(rng, (300, 400), 3.5), np.float32(1e20))
    g = grf(rng, (8, 250, 250), 3.5)
    var('DBZ', np.where(g > 0.8, np.minimum(-32 + 40 * (g - 0.8) + 2 * rng.standard_normal(g.shape), 70), -32), ('t5', 'y5', 'x5'))
    base = 280 + 15 * grf(rng, (1, 180, 240), 3.5)
    drift = np.cumsum(0.05 * grf(rng, (24, 180, 240), 4), axis=0)
    var('SLOW', base + drift, ('t6', 'y6', 'x6'))
    p = np.geomspace(1, 1000, 37)[:, None, None]
    var('SPECHUM', 0.02 * (p / 1000) ** 3 * np.exp(0.3 * grf(rng, (37, 91, 180), 3.5)), ('p7', 'y7', 'x7'))
    yy, xx = np.mgrid[0:400, 0:400]
    var('CHECKER', 10 * grf(rng, (400, 400), 4) + 0.2 * ((yy + xx) % 2), ('y8', 'x8'))
    d.close()


def held4(out):
    rng = np.random.default_rng(777)
    d, var = writer(os.path.join(out, 'held4.nc'))
    var('FLOAT16', (280 + 15 * grf(rng, (10, 180, 240), 3.5)).astype(np.float16).astype(np.float32), ('t1', 'y1', 'x1'))
    g = grf(rng, (300, 300), 4)
    var('ICECONC', np.clip((g - 0.2) * 300, 0, 100), ('y2', 'x2'))
    base = 5 * grf(rng, (1, 150, 200), 3.5)
    var('REPEATED', np.repeat(base, 12, axis=0), ('t3', 'y3', 'x3'))
    z = np.arange(80)[:, None, None]
    var('DENSITY', 1.2 * np.exp(-z / 8.0) * (1 + 0.02 * grf(rng, (80, 60, 60), 3.5)), ('z4', 'y4', 'x4'))
    sp = 10 + grf(rng, (400, 400), 4)
    m = rng.random((400, 400)) < 0.002
    sp[m] += rng.exponential(50, m.sum())
    var('SPIKES', sp, ('y5', 'x5'))
    g = grf(rng, (8, 200, 200), 3.5)
    var('SOILM', np.where(g > 1.2, 1.0, np.clip(0.25 + 0.08 * g, 0.02, 0.5)), ('t6', 'y6', 'x6'))
    x = np.linspace(-np.pi, np.pi, 512)
    # a square wave's first 15 odd harmonics: the ringing a spectral model leaves near a step
    ring = sum(np.sin((2 * k + 1) * 3 * x) / (2 * k + 1) for k in range(15)) * 4 / np.pi
    var('GIBBS', ring[None, :] * np.linspace(0.5, 1.5, 256)[:, None] + 0.01 * grf(rng, (256, 512), 3), ('y7', 'x7'))
    for n, s in (('y8', 250), ('x8', 250)):
        d.createDimension(n, s)
    v = d.createVariable('INT8PACK', 'i1', ('y8', 'x8'), fill_value=np.int8(-128))
    v.scale_factor = np.float32(0.5)
    v.add_offset = np.float32(20.0)
    v.units = 'K'
    v[:] = np.clip(20 + 15 * grf(rng, (250, 250), 4), -43, 83)
    var('AEROSOL', np.exp(-20 + 2.5 * grf(rng, (20, 120, 160), 3.5)), ('z9', 'y9', 'x9'))
    t = np.arange(48)[:, None, None]
    var('TIDE', 1.5 * np.sin(2 * np.pi * t / 12.42 + grf(rng, (1, 120, 120), 4)) + 0.05 * grf(rng, (48, 120, 120), 3), ('t10', 'y10', 'x10'))
    d.close()


def held(out):
    rng = np.random.default_rng(2026)
    d, var = writer(os.path.join(out, 'held.nc'))
    var('GRF2D', 5500 + 80 * grf(rng, (600, 1200), 3.5), ('y', 'x'))
    var('TURB3D', grf(rng, (96, 96, 96), 5 / 3 + 2), ('z3', 'y3', 'x3'))
    a = grf(rng, (48, 128, 128), 4) + 0.01 * rng.standard_normal((48, 128, 128))
    var('F64', 300 + 10 * a, ('z4', 'y4', 'x4'), 'f8')
    g = grf(rng, (400, 400), 4)
    var('LANDUSE', np.floor((g - g.min()) / (g.max() - g.min()) * 23.999) + 1, ('y5', 'x5'))
    g = grf(rng, (24, 200, 200), 3.5)
    var('PRECIP', np.where(g > 0.67, np.exp(1.5 * (g - 0.67)) - 1, 0.0) * 3, ('t6', 'y6', 'x6'))
    yy, xx = np.mgrid[0:300, 0:500]
    front = 15 * np.tanh((xx - 250 - 40 * np.sin(yy / 30)) / 3) + 0.05 * rng.standard_normal((300, 500)) + 0.5 * grf(rng, (300, 500), 4)
    var('FRONT', front, ('y7', 'x7'))
    g = grf(rng, (20, 160, 160), 3.5)
    var('QCLOUD', np.minimum(np.where(g > 1.0, 10 ** (-6 + 1.5 * (g - 1.0)), 0.0), 1e-3), ('t8', 'y8', 'x8'))
    var('NOISE', grf(rng, (64, 256, 256), 0.5), ('t9', 'y9', 'x9'))
    d.close()


def shapes(out):
    rng = np.random.default_rng(7)
    d, var = writer(os.path.join(out, 'shapes.nc'))
    t = np.arange(200000)
    e = rng.standard_normal(len(t)) * 0.3
    ar = np.zeros(len(t))
    for i in range(1, len(t)):
        ar[i] = 0.95 * ar[i - 1] + e[i]
    var('SERIES', 15 + 8 * np.sin(2 * np.pi * t / 8760) + 5 * np.sin(2 * np.pi * t / 24) + ar, ('t1',))
    var('SERIES64', 1013 + 10 * np.sin(2 * np.pi * t / 8760) + 0.1 * ar, ('t1',), 'f8')
    yy, xx = np.mgrid[0:90, 0:180]
    base = 280 + 20 * np.cos(np.radians(yy * 2 - 90)) + 3 * np.sin(xx / 15.0)
    ens = np.stack([np.stack([base - 6.5 * lev + 0.1 * rng.standard_normal((90, 180)) + 0.3 * m for lev in range(5)]) for m in range(10)])
    var('ENS', ens, ('m', 'l', 'y', 'x'))
    var('TRACK', np.cumsum(rng.standard_normal((20, 20000)), axis=1) * 0.1 + np.arange(20)[:, None], ('r', 'c'))
    d.close()


def const(out):
    rng = np.random.default_rng(1)
    d, var = writer(os.path.join(out, 'const.nc'))
    dims = ('z', 'y', 'x')
    var('ZERO', np.zeros((100, 100, 100)), dims)
    var('C273', np.full((100, 100, 100), 273.15), dims)
    a = np.zeros((100, 100, 100), 'f4')
    m = rng.random(a.shape) < 0.01
    a[m] = rng.gamma(0.5, 1e-3, m.sum())
    var('SPARSE', a, dims)
    d.close()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    held(out)
    shapes(out)
    const(out)
    held2(out)
    held3(out)
    held4(out)
    for f in ('held.nc', 'shapes.nc', 'const.nc', 'held2.nc', 'held3.nc', 'held4.nc'):
        print(os.path.join(out, f))


if __name__ == '__main__':
    main()
