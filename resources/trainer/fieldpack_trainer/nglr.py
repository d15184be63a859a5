"""The NGLR causal bias network (docs/residual.md) for training: the same features and layers as the reference path
in src-main/core/nn/nglr/network.ts, which alone decides the bits at encode and decode time (this module only fits
the weights), and the .fpnl writer (the container of src-main/core/nn/model-file.ts).

Per quantized residual q at (t, h, w) of a chunk volume [D, H, W]:
  P   = 3D Lorenzo prediction from the 7 causal neighbours (0 outside the volume)
  e   = q - P at coded points (0 elsewhere), dScale = max(1, mean |e| over coded points)
  f   = 13 causal features in dScale units, clipped to +-64: q at w-1, h-1, t-1, (h-1,w-1), (t-1,w-1), (t-1,h-1),
        (t-1,h-1,w-1), w-2, h-2, t-2 minus P, and e at w-1, h-1, t-1 (0 where the neighbour is outside)
  bias = fusion(cat(causal(f), recon(base))) ; ref = round(P + bias * dScale) ; the coder codes q - ref
"""
import hashlib
import json
import os
import struct

import numpy as np

MAGIC = b"FPNGLR01"
CAUSAL_INPUTS = 13
RECON_INPUTS = 7
FEATURE_CLIP = 64.0
NEGATIVE_SLOPE = 0.0625


def lorenzo(q):
    """3D Lorenzo prediction of every point of q [D, H, W] from its causal neighbours (0 outside)."""
    p = np.zeros_like(q)
    p[:, :, 1:] += q[:, :, :-1]
    p[:, 1:, :] += q[:, :-1, :]
    p[1:, :, :] += q[:-1, :, :]
    p[:, 1:, 1:] -= q[:, :-1, :-1]
    p[1:, :, 1:] -= q[:-1, :, :-1]
    p[1:, 1:, :] -= q[:-1, :-1, :]
    p[1:, 1:, 1:] += q[:-1, :-1, :-1]
    return p


def _shifted(a, dt, dh, dw):
    """a moved by (dt, dh, dw) towards higher indices: out[t, h, w] = a[t - dt, h - dh, w - dw], 0 outside."""
    out = np.zeros_like(a)
    D, H, W = a.shape
    if dt >= D or dh >= H or dw >= W:
        return out
    out[dt:, dh:, dw:] = a[:D - dt, :H - dh, :W - dw]
    return out


def _valid(shape, dt, dh, dw):
    D, H, W = shape
    m = np.zeros(shape, dtype=bool)
    if dt < D and dh < H and dw < W:
        m[dt:, dh:, dw:] = True
    return m


NEIGHBOURS = [(0, 0, 1), (0, 1, 0), (1, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0), (1, 1, 1), (0, 0, 2), (0, 2, 0), (2, 0, 0)]
E_NEIGHBOURS = [(0, 0, 1), (0, 1, 0), (1, 0, 0)]


def chunk_features(q, code, linear=None):
    """Features [13, D, H, W] (float32), target (e - linear) / dScale, dScale, P, e for a chunk's q (float64) and coded
    mask; linear: the chunk's fitted linear term per point (the codec's prediction is P + linear), or None."""
    q = q.astype(np.float64)
    P = lorenzo(q)
    e = np.where(code, q - P, 0.0)
    n = int(code.sum())
    d_scale = float(np.abs(e).sum() / n) if n else 1.0
    if not d_scale > 1.0:
        d_scale = 1.0
    inv = 1.0 / d_scale
    feats = np.empty((CAUSAL_INPUTS,) + q.shape, dtype=np.float32)
    for k, (dt, dh, dw) in enumerate(NEIGHBOURS):
        v = np.clip((_shifted(q, dt, dh, dw) - P) * inv, -FEATURE_CLIP, FEATURE_CLIP)
        feats[k] = np.where(_valid(q.shape, dt, dh, dw), v, 0.0)
    for k, (dt, dh, dw) in enumerate(E_NEIGHBOURS):
        feats[10 + k] = np.clip(_shifted(e, dt, dh, dw) * inv, -FEATURE_CLIP, FEATURE_CLIP)
    target = (e - linear) * inv if linear is not None else e * inv
    return feats, np.where(code, target, 0.0).astype(np.float32), d_scale, P, e


def recon_inputs(base):
    """The reconstruction branch's 7 input channels for a base [D, H, W] (as reconInputs in network.ts)."""
    v = np.where(np.isfinite(base), base, 0.0).astype(np.float64)
    mean = v.mean()
    lo, hi = v.min(), v.max()
    rng = hi - lo if hi > lo else 1.0
    gw = np.abs(np.diff(v, axis=2))
    gh = np.abs(np.diff(v, axis=1))
    cnt = gw.size + gh.size
    g = (gw.sum() + gh.sum()) / cnt if cnt and (gw.sum() + gh.sum()) > 0 else 1.0
    dt = np.zeros_like(v); dt[1:] = (v[1:] - v[:-1]) / g
    dh = np.zeros_like(v); dh[:, 1:] = (v[:, 1:] - v[:, :-1]) / g
    dw = np.zeros_like(v); dw[:, :, 1:] = (v[:, :, 1:] - v[:, :, :-1]) / g
    return np.stack([(v - mean) / rng, dt, dh, dw, np.abs(dt), np.abs(dh), np.abs(dw)]).astype(np.float32)


def make_network(causal, recon, hidden):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class NGLRNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.causal0 = nn.Linear(CAUSAL_INPUTS, causal)
            self.causal1 = nn.Linear(causal, causal)
            self.recon = nn.Conv3d(RECON_INPUTS, recon, 3, padding=1) if recon > 0 else None
            self.fusion0 = nn.Linear(causal + recon, hidden)
            self.fusion1 = nn.Linear(hidden, 1)
            nn.init.zeros_(self.fusion1.weight)
            nn.init.zeros_(self.fusion1.bias)
            self.sizes = (causal, recon, hidden)

        def forward(self, f, rf=None):
            """f: [N, 13] causal features; rf: [N, recon] activated reconstruction features (or None)."""
            a = F.leaky_relu(self.causal0(f), NEGATIVE_SLOPE)
            a = F.leaky_relu(self.causal1(a), NEGATIVE_SLOPE)
            if self.recon is not None:
                a = torch.cat([a, rf], dim=1)
            a = F.leaky_relu(self.fusion0(a), NEGATIVE_SLOPE)
            return self.fusion1(a)[:, 0]

        def recon_features(self, x):
            """x: [1, 7, d, h, w] -> [d*h*w, recon] after the activation."""
            r = F.leaky_relu(self.recon(x), NEGATIVE_SLOPE)
            return r[0].reshape(r.shape[1], -1).t()

        def weight_count(self):
            return sum(p.numel() for p in self.parameters())

    return NGLRNet()


def tensors_of(model):
    """(name, float32 array) in file order (nglrTensorShapes in model.ts)."""
    c, r, h = model.sizes
    out = [("causal.0.weight", model.causal0.weight), ("causal.0.bias", model.causal0.bias),
           ("causal.1.weight", model.causal1.weight), ("causal.1.bias", model.causal1.bias)]
    if r > 0:
        out += [("recon.weight", model.recon.weight), ("recon.bias", model.recon.bias)]
    out += [("fusion.0.weight", model.fusion0.weight), ("fusion.0.bias", model.fusion0.bias),
            ("fusion.1.weight", model.fusion1.weight), ("fusion.1.bias", model.fusion1.bias)]
    return [(n, t.detach().cpu().numpy().astype(np.float32)) for n, t in out]


def save_fpnl(model, path, training):
    """Writes the model file atomically; returns (sha256, bytes)."""
    c, r, h = model.sizes
    tensors = tensors_of(model)
    listing, off = [], 0
    for name, a in tensors:
        listing.append({"name": name, "shape": list(a.shape), "offset": off})
        off += a.size
    desc = {"format": "fieldpack-nglr", "version": 1,
            "config": {"causal": c, "recon": r, "hidden": h, "negativeSlope": NEGATIVE_SLOPE},
            "tensors": listing, "weightCount": off, "training": training}
    js = json.dumps(desc, separators=(",", ":")).encode("utf-8")
    body = b"".join(np.ascontiguousarray(a, dtype="<f4").tobytes() for _, a in tensors)
    data = MAGIC + struct.pack("<I", len(js)) + js + body
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest(), len(data)


def entropy_bits(d):
    """Order-0 empirical entropy (bits per value) of integer differences."""
    if d.size == 0:
        return 0.0
    _, counts = np.unique(d, return_counts=True)
    p = counts / d.size
    return float(-(p * np.log2(p)).sum())
