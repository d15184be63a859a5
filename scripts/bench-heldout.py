#!/usr/bin/env python3
"""Synthetic fields no codec was tuned on, to check that what works on the bench files generalises (issue 14).

  held.nc:   a k^-3.5 2-D field (GRF2D), 3-D turbulence (TURB3D), a smooth float64 field with noise (F64), a land-use
             map of 24 categories (LANDUSE), sparse precipitation (PRECIP), a sharp front (FRONT), cloud water that is
             mostly 0 (QCLOUD), near-white noise (NOISE);
  shapes.nc: a 1-D station series in float32 and float64 (SERIES, SERIES64), a 10-member ensemble (ENS), a long
             track (TRACK);
  const.nc:  100 x 100 x 100 of zeros (ZERO) and of 273.15 (C273), and a 1 %-sparse field (SPARSE).
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
    for f in ('held.nc', 'shapes.nc', 'const.nc'):
        print(os.path.join(out, f))


if __name__ == '__main__':
    main()
