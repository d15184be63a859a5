"""Training data the app prepares in the run folder.

data/meta.json:
  {"version": 1, "samples": S, "spatialShape": [..2 or 3 sizes..], "dims": [...],
   "fields": {"NAME": {"file": "NAME.f32"}, ...}, "mask": "mask.u8" | null}
Each field file is raw little-endian float32 of shape [S, *spatialShape] (C order); the mask (if any)
is uint8 of the same shape, 1 = valid. Values at invalid points are ignored.
"""
import json
import os

import numpy as np

from .config import ConfigError


class Dataset:
    def __init__(self, samples, spatial_shape, fields, mask, meta):
        self.samples = samples
        self.spatial_shape = spatial_shape
        self.fields = fields  # name -> float32 array [S, *spatial]
        self.mask = mask  # bool array [S, *spatial]
        self.meta = meta


def load_dataset(data_dir, names):
    meta_path = os.path.join(data_dir, "meta.json")
    if not os.path.exists(meta_path):
        raise ConfigError(f"training data not found: {meta_path} is missing")
    with open(meta_path, "r", encoding="utf-8") as f:
        meta = json.load(f)
    s = int(meta["samples"])
    spatial = [int(n) for n in meta["spatialShape"]]
    if len(spatial) not in (2, 3):
        raise ConfigError(f"spatialShape must have 2 or 3 dimensions, got {spatial}")
    shape = [s] + spatial
    count = int(np.prod(shape))
    fields = {}
    for name in names:
        if name not in meta["fields"]:
            raise ConfigError(f"variable {name!r} is not in the training data (have: {', '.join(sorted(meta['fields']))})")
        p = os.path.join(data_dir, meta["fields"][name]["file"])
        arr = np.fromfile(p, dtype="<f4")
        if arr.size != count:
            raise ConfigError(f"{p}: {arr.size} values, expected {count} for shape {shape}")
        fields[name] = arr.reshape(shape).astype(np.float32, copy=False)
    mask = np.ones(shape, dtype=bool)
    if meta.get("mask"):
        p = os.path.join(data_dir, meta["mask"])
        m = np.fromfile(p, dtype=np.uint8)
        if m.size != count:
            raise ConfigError(f"{p}: {m.size} mask values, expected {count}")
        mask = m.reshape(shape) != 0
    for name, a in fields.items():
        mask &= np.isfinite(a)
    return Dataset(s, spatial, fields, mask, meta)


def backward_diff(a, axis):
    """First-order backward difference along `axis` (float32, exact IEEE subtraction); 0 at index 0.

    Same definition as backwardDifferences() in src-main/core/nn/features.ts.
    """
    out = np.zeros_like(a, dtype=np.float32)
    n = a.shape[axis]
    hi = [slice(None)] * a.ndim
    lo = [slice(None)] * a.ndim
    hi[axis] = slice(1, n)
    lo[axis] = slice(0, n - 1)
    out[tuple(hi)] = (a[tuple(hi)].astype(np.float32) - a[tuple(lo)].astype(np.float32)).astype(np.float32)
    return out


def diff_mask(m, axis):
    out = np.zeros_like(m, dtype=bool)
    n = m.shape[axis]
    hi = [slice(None)] * m.ndim
    lo = [slice(None)] * m.ndim
    hi[axis] = slice(1, n)
    lo[axis] = slice(0, n - 1)
    out[tuple(hi)] = m[tuple(hi)] & m[tuple(lo)]
    return out
