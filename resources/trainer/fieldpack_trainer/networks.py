"""Network registry. Every network is a torch.nn.Sequential of the few layer kinds that the
deterministic TypeScript reference (src-main/core/nn/reference.ts) implements:
affine (per-channel x*scale+shift, used for normalisation), conv (2D/3D, odd kernel, zero 'same'
padding, stride 1, dilation 1), relu, leaky_relu, tanh.

Keep it that way: a layer kind added here must be added to the reference and to export.layer_spec().
"""
import torch
from torch import nn


class Affine(nn.Module):
    """y[c] = x[c] * scale[c] + shift[c] (two float32 operations, in this order)."""

    def __init__(self, channels, ndim):
        super().__init__()
        shape = (1, channels) + (1,) * ndim
        self.register_buffer("scale", torch.ones(shape))
        self.register_buffer("shift", torch.zeros(shape))

    def set(self, scale, shift):
        self.scale.copy_(torch.as_tensor(scale, dtype=torch.float32).reshape(self.scale.shape))
        self.shift.copy_(torch.as_tensor(shift, dtype=torch.float32).reshape(self.shift.shape))

    def forward(self, x):
        return x * self.scale + self.shift


def _conv(ndim, cin, cout, k):
    cls = nn.Conv2d if ndim == 2 else nn.Conv3d
    return cls(cin, cout, kernel_size=k, padding=k // 2, bias=True)


def _act(name, slope):
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(slope)
    if name == "tanh":
        return nn.Tanh()
    raise ValueError(f"unknown activation {name!r} (relu, leaky_relu, tanh)")


def _plain_cnn(ndim, cin, cout, p):
    hidden, layers, k = int(p["hidden"]), int(p["layers"]), int(p["kernel"])
    if k % 2 != 1 or k < 1:
        raise ValueError("kernel must be odd")
    if layers < 1:
        raise ValueError("layers must be >= 1")
    mods = [Affine(cin, ndim)]
    c = cin
    for i in range(layers - 1):
        mods += [_conv(ndim, c, hidden, k), _act(p["activation"], float(p.get("negativeSlope", 0.01)))]
        c = hidden
    mods.append(_conv(ndim, c, cout, k))
    mods.append(Affine(cout, ndim))
    return nn.Sequential(*mods)


def _feature_plan_values(inputs, target, ndim):
    ins = [{"var": v, "transform": "values", "axis": None} for v in inputs]
    outs = [{"var": target, "transform": "values", "axis": None}]
    return ins, outs


def _feature_plan_diffs(inputs, target, ndim):
    # Channel order: for each anchor (in the given order), for each axis (slowest first).
    ins = [{"var": v, "transform": "backward-diff", "axis": a} for v in inputs for a in range(ndim)]
    outs = [{"var": target, "transform": "backward-diff", "axis": a} for a in range(ndim)]
    return ins, outs


NETWORKS = {
    # A small conv net for tests and quick experiments: anchor values in, target values out.
    "tiny-cnn": {
        "version": 1,
        "defaults": {"hidden": 8, "layers": 3, "kernel": 3, "activation": "relu"},
        "plan": _feature_plan_values,
        "build": _plain_cnn,
    },
    # CFNN (cross-field CNN, after arXiv 2409.18295): first-order backward differences of the anchor
    # fields along each axis in, the target's backward differences along each axis out. Small, its
    # size independent of the error bound; 2D or 3D by the data.
    "cfnn": {
        "version": 1,
        "defaults": {"hidden": 16, "layers": 4, "kernel": 3, "activation": "leaky_relu", "negativeSlope": 0.01},
        "plan": _feature_plan_diffs,
        "build": _plain_cnn,
    },
}


def build_network(name, params, inputs, target, ndim):
    if name not in NETWORKS:
        raise KeyError(f"unknown network {name!r} (known: {', '.join(sorted(NETWORKS))})")
    entry = NETWORKS[name]
    unknown = sorted(set(params) - set(entry["defaults"]) - {"negativeSlope"})
    if unknown:
        raise ValueError(f"unknown networkParams for {name}: {', '.join(unknown)}")
    p = dict(entry["defaults"])
    p.update(params)
    ins, outs = entry["plan"](inputs, target, ndim)
    model = entry["build"](ndim, len(ins), len(outs), p)
    return model, p, ins, outs, entry["version"]


def receptive_radius(model):
    r = 0
    for m in model:
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            r += (m.kernel_size[0] - 1) // 2
    return r
