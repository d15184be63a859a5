"""The hierarchical VQ-VAE of the `vqvae` codec (docs/vqvae.md): the PyTorch module, its EMA vector quantisers, and
the `.fpvq` model file ("fieldpack-vqvae" v1) that the TypeScript decoder (src-main/core/nn/vqvae) loads by tensor
name.

Tensor names in the file are the module's own state names (`enc.down1.weight`, `upz.bias`, `dec.in.weight`, ...),
plus `codebook.z` / `codebook.y` (the quantisers' codebooks, [K, D]). Layouts are PyTorch's: Conv2d [out, in, kH, kW],
ConvTranspose2d [in, out, kH, kW]. The file lists them in the doc's table order (FPVQ_ORDER).
"""
import hashlib
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FPVQ_MAGIC = b"FPVQVAE1"
FPVQ_FORMAT = "fieldpack-vqvae"
FPVQ_VERSION = 1

DEFAULT_CONFIG = {"channels": [8, 16, 32], "latentDim": 32, "codesY": 256, "codesZ": 128, "negativeSlope": 0.01}


def _layers(c):
    """(name, kind, in, out, k) in the doc's table order; kind conv (Conv2d) or convT (ConvTranspose2d k4 s2 p1)."""
    c1, c2, c3 = c["channels"]
    d = c["latentDim"]
    return [
        ("enc.down1", "conv", 1, c1, 4), ("enc.res1", "conv", c1, c1, 3),
        ("enc.down2", "conv", c1, c2, 4), ("enc.res2", "conv", c2, c2, 3),
        ("enc.down3", "conv", c2, c3, 4), ("enc.res3", "conv", c3, c3, 3),
        ("enc.yproj", "conv", c3, d, 1), ("enc.down4", "conv", c3, c3, 4), ("enc.zproj", "conv", c3, d, 1),
        ("upz", "convT", d, d, 4),
        ("codebook.z", "codebook", None, None, None), ("codebook.y", "codebook", None, None, None),
        ("dec.in", "conv", d, c3, 1), ("dec.res3", "conv", c3, c3, 3),
        ("dec.up3", "convT", c3, c2, 4), ("dec.res2", "conv", c2, c2, 3),
        ("dec.up2", "convT", c2, c1, 4), ("dec.res1", "conv", c1, c1, 3),
        ("dec.out", "convT", c1, 1, 4),
    ]


def tensor_shapes(config):
    """[(name, shape)] in file order (the same list as vqvaeTensorShapes in src-main/core/nn/vqvae/model.ts)."""
    out = []
    for name, kind, i, o, k in _layers(config):
        if kind == "conv":
            out += [(name + ".weight", [o, i, k, k]), (name + ".bias", [o])]
        elif kind == "convT":
            out += [(name + ".weight", [i, o, k, k]), (name + ".bias", [o])]
        else:
            kk = config["codesZ"] if name.endswith(".z") else config["codesY"]
            out.append((name, [kk, config["latentDim"]]))
    return out


def check_config(c):
    c = dict(DEFAULT_CONFIG, **(c or {}))
    unknown = sorted(set(c) - set(DEFAULT_CONFIG))
    if unknown:
        raise ValueError(f"unknown VQ-VAE config keys: {', '.join(unknown)}")
    ch = c["channels"]
    if not (isinstance(ch, (list, tuple)) and len(ch) == 3 and all(isinstance(v, int) and 1 <= v <= 512 for v in ch)):
        raise ValueError("channels must be 3 integers in 1..512")
    for k, lo, hi in (("latentDim", 1, 512), ("codesY", 2, 4096), ("codesZ", 2, 4096)):
        if not (isinstance(c[k], int) and not isinstance(c[k], bool) and lo <= c[k] <= hi):
            raise ValueError(f"{k} must be an integer in {lo}..{hi}")
    s = c["negativeSlope"]
    if not (isinstance(s, (int, float)) and 0 <= s < 1):
        raise ValueError("negativeSlope must be in [0, 1)")
    return {"channels": [int(v) for v in ch], "latentDim": int(c["latentDim"]), "codesY": int(c["codesY"]),
            "codesZ": int(c["codesZ"]), "negativeSlope": float(s)}


class EMAQuantizer(nn.Module):
    """Vector quantiser with an EMA codebook (van den Oord et al. 2017, appendix; Razavi et al. 2019).

    Nearest code by squared Euclidean distance (ties: lowest index, torch.argmin's first minimum); the codebook is
    not trained by gradients but moved towards the mean of the vectors assigned to each code (decay 0.99, Laplace
    smoothing). Codes whose EMA usage (expected assignments per batch) falls below `dead_threshold` are re-seeded
    from random input vectors of the current batch. `forward` returns the straight-through quantised vectors, the
    commitment loss (beta x ||x - sg(q)||^2) and the indices.
    """

    def __init__(self, codes, dim, decay=0.99, commitment=0.25, eps=1e-5, dead_threshold=0.03):
        super().__init__()
        self.codes, self.dim = codes, dim
        self.decay, self.commitment, self.eps, self.dead_threshold = decay, commitment, eps, dead_threshold
        self.register_buffer("embed", torch.randn(codes, dim) * 0.1)
        self.register_buffer("ema_count", torch.ones(codes))
        self.register_buffer("ema_sum", self.embed.clone())
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))
        self.reseeded = 0  # codes re-seeded since the counter was last reset

    def nearest(self, flat):
        """Indices [N] of the nearest codes for vectors [N, D] (float32 expansion; fine for training)."""
        e = self.embed
        d = (flat * flat).sum(1, keepdim=True) - 2.0 * flat @ e.t() + (e * e).sum(1)[None, :]
        return d.argmin(1)

    def nearest_exact(self, flat):
        """Like nearest(), with the distances as sum((x - c)^2) in float64: the TypeScript encoder's arithmetic."""
        x = flat.double()
        e = self.embed.double()
        out = torch.empty(x.shape[0], dtype=torch.long)
        for i in range(0, x.shape[0], 256):
            d = ((x[i:i + 256, None, :] - e[None, :, :]) ** 2).sum(2)
            out[i:i + 256] = d.argmin(1)
        return out

    @torch.no_grad()
    def _update(self, flat, idx):
        n = flat.shape[0]
        if not bool(self.initialised):
            # first batch: seed the codebook with random inputs (k-means++-lite), so no code starts dead
            pick = torch.randint(0, n, (self.codes,), device=flat.device)
            self.embed.copy_(flat[pick] + 1e-3 * torch.randn_like(self.embed))
            self.ema_sum.copy_(self.embed)
            self.ema_count.fill_(1.0)
            self.initialised.fill_(True)
            idx = self.nearest(flat)
        onehot = F.one_hot(idx, self.codes).type(flat.dtype)
        count = onehot.sum(0)
        self.ema_count.mul_(self.decay).add_(count, alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(onehot.t() @ flat, alpha=1 - self.decay)
        total = self.ema_count.sum()
        smoothed = (self.ema_count + self.eps) / (total + self.codes * self.eps) * total
        self.embed.copy_(self.ema_sum / smoothed[:, None])
        dead = self.ema_count < self.dead_threshold
        nd = int(dead.sum())
        if nd:
            pick = torch.randint(0, n, (nd,), device=flat.device)
            fresh = flat[pick] + 1e-3 * torch.randn(nd, self.dim, device=flat.device, dtype=flat.dtype)
            self.embed[dead] = fresh
            self.ema_sum[dead] = fresh
            self.ema_count[dead] = 1.0
            self.reseeded += nd

    def forward(self, x):
        """x: [B, D, h, w] -> (straight-through quantised [B, D, h, w], commitment loss, indices [B, h, w])."""
        b, d, h, w = x.shape
        flat = x.permute(0, 2, 3, 1).reshape(-1, d)
        idx = self.nearest(flat.detach())
        if self.training:
            self._update(flat.detach(), idx)
            idx = self.nearest(flat.detach())
        q = self.embed[idx].view(b, h, w, d).permute(0, 3, 1, 2)
        loss = self.commitment * F.mse_loss(x, q.detach())
        if self.training:
            q = x + (q - x).detach()  # straight-through estimator (x + (q - x) is not bit-exactly q: training only)
        return q, loss, idx.view(b, h, w)


class VQVAE(nn.Module):
    """Hierarchical VQ-VAE (docs/vqvae.md). Input [B, 1, H, W], H and W multiples of 16."""

    def __init__(self, channels=(8, 16, 32), latentDim=32, codesY=256, codesZ=128, negativeSlope=0.01):
        super().__init__()
        self.config = check_config({"channels": list(channels), "latentDim": latentDim, "codesY": codesY,
                                    "codesZ": codesZ, "negativeSlope": negativeSlope})
        self.slope = self.config["negativeSlope"]

        def make(kind, i, o, k):
            if kind == "convT":
                return nn.ConvTranspose2d(i, o, 4, stride=2, padding=1)
            return nn.Conv2d(i, o, k, stride=2 if k == 4 else 1, padding={4: 1, 3: 1, 1: 0}[k])

        self.enc = nn.ModuleDict()
        self.dec = nn.ModuleDict()
        for name, kind, i, o, k in _layers(self.config):
            if kind == "codebook":
                continue
            if name == "upz":
                self.upz = make(kind, i, o, k)
            else:
                part, sub = name.split(".")
                (self.enc if part == "enc" else self.dec)[sub] = make(kind, i, o, k)
        d = self.config["latentDim"]
        self.vq_z = EMAQuantizer(self.config["codesZ"], d)
        self.vq_y = EMAQuantizer(self.config["codesY"], d)

    def act(self, x):
        return F.leaky_relu(x, self.slope)

    def encode(self, x):
        e = self.enc
        h = self.act(e["down1"](x))
        h = h + e["res1"](self.act(h))
        h = self.act(e["down2"](h))
        h = h + e["res2"](self.act(h))
        h = self.act(e["down3"](h))
        h = h + e["res3"](self.act(h))
        y_e = e["yproj"](h)
        z_e = e["zproj"](self.act(e["down4"](h)))
        return y_e, z_e

    def decode_latent(self, yq, zq):
        d = self.dec
        h = d["in"](yq + self.upz(zq))
        h = h + d["res3"](self.act(h))
        h = self.act(d["up3"](h))
        h = h + d["res2"](self.act(h))
        h = self.act(d["up2"](h))
        h = h + d["res1"](self.act(h))
        return d["out"](h)

    def forward(self, x):
        """-> (x̂, vq loss, iy [B, H/8, W/8], iz [B, H/16, W/16])."""
        y_e, z_e = self.encode(x)
        zq, lz, iz = self.vq_z(z_e)
        r = y_e + self.upz(zq)
        yq, ly, iy = self.vq_y(r)
        return self.decode_latent(yq, zq), lz + ly, iy, iz

    @torch.no_grad()
    def encode_indices(self, x, exact=True):
        """Indices as the codec's encoder chooses them: (iy [B, H/8, W/8], iz [B, H/16, W/16])."""
        y_e, z_e = self.encode(x)
        b, d, hz, wz = z_e.shape
        near_z = self.vq_z.nearest_exact if exact else self.vq_z.nearest
        near_y = self.vq_y.nearest_exact if exact else self.vq_y.nearest
        iz = near_z(z_e.permute(0, 2, 3, 1).reshape(-1, d)).to(x.device).view(b, hz, wz)
        zq = self.vq_z.embed[iz].permute(0, 3, 1, 2)
        r = y_e + self.upz(zq)
        hy, wy = r.shape[2:]
        iy = near_y(r.permute(0, 2, 3, 1).reshape(-1, d)).to(x.device).view(b, hy, wy)
        return iy, iz

    @torch.no_grad()
    def decode_indices(self, iy, iz):
        zq = self.vq_z.embed[iz].permute(0, 3, 1, 2)
        yq = self.vq_y.embed[iy].permute(0, 3, 1, 2)
        return self.decode_latent(yq, zq)

    def named_file_tensors(self):
        """[(file name, tensor)] in file order."""
        sd = self.state_dict()
        out = []
        for name, shape in tensor_shapes(self.config):
            if name == "codebook.z":
                t = self.vq_z.embed
            elif name == "codebook.y":
                t = self.vq_y.embed
            else:
                t = sd[name]
            if list(t.shape) != shape:
                raise AssertionError(f"{name}: shape {list(t.shape)}, the format needs {shape}")
            out.append((name, t))
        return out

    def weight_count(self):
        return sum(int(np.prod(s)) for _, s in tensor_shapes(self.config))


def save_fpvq(model, path, training_info=None):
    """Writes the model file; returns (sha256 hex of the file, its size in bytes). Written to a temporary name first."""
    tensors = []
    chunks = []
    off = 0
    for name, t in model.named_file_tensors():
        a = t.detach().cpu().to(torch.float32).contiguous().numpy().astype("<f4", copy=False)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"tensor {name} has non-finite values")
        tensors.append({"name": name, "shape": list(a.shape), "offset": off})
        chunks.append(a.tobytes(order="C"))
        off += a.size
    desc = {"format": FPVQ_FORMAT, "version": FPVQ_VERSION, "config": dict(model.config), "tensors": tensors,
            "weightCount": off, "training": training_info or {}}
    js = json.dumps(desc, separators=(",", ":"), allow_nan=False).encode("utf-8")
    blob = FPVQ_MAGIC + struct.pack("<I", len(js)) + js + b"".join(chunks)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return hashlib.sha256(blob).hexdigest(), len(blob)


def read_fpvq(path):
    """-> (description dict, {name: float32 numpy array}) with the same checks as the TypeScript reader."""
    with open(path, "rb") as f:
        b = f.read()
    if len(b) < 12 or b[:8] != FPVQ_MAGIC:
        raise ValueError(f"{path}: not a Fieldpack VQ-VAE model (no FPVQVAE1 magic)")
    (n,) = struct.unpack("<I", b[8:12])
    if 12 + n > len(b):
        raise ValueError(f"{path}: description of {n} bytes in a file of {len(b)}")
    desc = json.loads(b[12:12 + n].decode("utf-8"))
    if desc.get("format") != FPVQ_FORMAT or desc.get("version") != FPVQ_VERSION:
        raise ValueError(f"{path}: format {desc.get('format')} version {desc.get('version')}")
    wc = desc["weightCount"]
    if len(b) != 12 + n + 4 * wc:
        raise ValueError(f"{path}: {len(b) - 12 - n} weight bytes, weightCount {wc} needs {4 * wc}")
    w = np.frombuffer(b, dtype="<f4", count=wc, offset=12 + n)
    listed = {t["name"]: t for t in desc["tensors"]}
    out = {}
    for name, shape in tensor_shapes(check_config(desc["config"])):
        e = listed.get(name)
        if e is None:
            raise ValueError(f"{path}: tensor {name} missing")
        if list(e["shape"]) != shape:
            raise ValueError(f"{path}: tensor {name} has shape {e['shape']}, the configuration needs {shape}")
        k = int(np.prod(shape))
        if not (0 <= e["offset"] <= wc - k):
            raise ValueError(f"{path}: tensor {name} offset out of range")
        out[name] = w[e["offset"]:e["offset"] + k].reshape(shape).astype(np.float32)
    return desc, out


def load_fpvq(path):
    """-> (VQVAE in eval mode on the CPU, description dict)."""
    desc, tensors = read_fpvq(path)
    model = VQVAE(**desc["config"])
    sd = model.state_dict()
    for name, a in tensors.items():
        t = torch.from_numpy(a.copy())
        if name == "codebook.z":
            model.vq_z.embed.copy_(t)
            model.vq_z.ema_sum.copy_(t)
        elif name == "codebook.y":
            model.vq_y.embed.copy_(t)
            model.vq_y.ema_sum.copy_(t)
        else:
            sd[name].copy_(t)
    model.vq_z.initialised.fill_(True)
    model.vq_y.initialised.fill_(True)
    model.eval()
    return model, desc


def probe_input(h=32, w=48):
    """The fixed probe map: a sin/cos pattern with a bump, standardised (float32, mean 0, std 1)."""
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    v = (np.sin(2 * np.pi * xx / 17.0) * np.cos(2 * np.pi * yy / 11.0) + 0.5 * np.sin(2 * np.pi * (xx + 2 * yy) / 29.0)
         + 0.8 * np.exp(-((xx - 30.0) ** 2 + (yy - 12.0) ** 2) / 40.0))
    v = (v - v.mean()) / v.std()
    return v.astype(np.float32)


def write_probe(model, path, h=32, w=48):
    """probe.json: {"shape": [H, W], "input": H*W floats, "iz": (H/16)*(W/16) ints, "iy": (H/8)*(W/8) ints,
    "xhat": H*W floats}, all flattened in C order; computed on the CPU in float32 (nearest codes with float64
    distances, ties to the lowest index, as the TypeScript encoder does)."""
    was_training = model.training
    dev = next(model.parameters()).device
    model.cpu().eval()
    x = probe_input(h, w)
    with torch.no_grad():
        xt = torch.from_numpy(x)[None, None]
        iy, iz = model.encode_indices(xt, exact=True)
        xhat = model.decode_indices(iy, iz)[0, 0].numpy().astype(np.float32)
    model.to(dev)
    model.train(was_training)
    obj = {"shape": [h, w], "input": [float(v) for v in x.ravel()], "iz": [int(v) for v in iz[0].numpy().ravel()],
           "iy": [int(v) for v in iy[0].numpy().ravel()], "xhat": [float(v) for v in xhat.ravel()]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, separators=(",", ":"))
    return path


def parameter_count(model):
    return model.weight_count()


def psnr(x, xhat, mask):
    """PSNR over the valid points, range = max - min of the valid values of x (dB; inf when the error is 0)."""
    v = mask.astype(bool)
    if not v.any():
        return float("nan")
    a = x[v].astype(np.float64)
    e = float(np.mean((a - xhat[v].astype(np.float64)) ** 2))
    r = float(a.max() - a.min())
    if e == 0:
        return float("inf")
    if r == 0:
        return float("nan")
    return 10.0 * math.log10(r * r / e)
