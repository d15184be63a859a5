"""How much can anchors tell about a target's fine detail? (docs/crossfield.md, "Where the limit is")

For the finest interpolation pass along the last axis (odd points predicted from even ones, as in the core codec),
the target's residual after cubic interpolation is predicted from the decoded context (the 4 line neighbours and the
neighbours on the adjacent rows, all minus the cubic prediction) and from each anchor's context and detail, with
(a) least squares and (b) a small MLP (one hidden layer), fitted on half of the points and scored on the other half.
Target context and anchors carry uniform noise of the bound (what a decoder has at rel bound REL). Reported: the
empirical entropy of the quantized residual codes (bits per point), which is what the coder pays.

    /usr/bin/python3 docs/analysis/crossfield_limit.py FILE TARGET ANCHOR[,ANCHOR..] [--rel 1e-3] [--hidden 32]
"""
import argparse

import netCDF4
import numpy as np
import torch

ap = argparse.ArgumentParser()
ap.add_argument('file')
ap.add_argument('target')
ap.add_argument('anchors')
ap.add_argument('--rel', type=float, default=1e-3)
ap.add_argument('--hidden', type=int, default=32)
ap.add_argument('--epochs', type=int, default=150)
a = ap.parse_args()
torch.manual_seed(0)
rng = np.random.default_rng(0)
ds = netCDF4.Dataset(a.file)


def load(v):
    return np.ma.filled(ds.variables[v][:].astype(np.float64), np.nan).squeeze()


def noisy(x):
    r = np.nanmax(x) - np.nanmin(x)
    return x + rng.uniform(-a.rel * r, a.rel * r, x.shape)


T = load(a.target)
step = 2 * a.rel * (np.nanmax(T) - np.nanmin(T))
idx = np.arange(3, T.shape[-1] - 3, 2)


def context(x):
    """values at i-3, i-1, i+1, i+3 on the row and the rows above and below, and the cubic prediction on the row"""
    c = [np.roll(x, dr, axis=-2)[..., idx + o] for dr in (-1, 0, 1) for o in (-3, -1, 1, 3)]
    return c, (-c[4] + 9 * c[5] + 9 * c[6] - c[7]) / 16


ct, base = context(noisy(T))
y = (T[..., idx] - base).ravel()
self_f = [z - base for z in ct]
anchor_f = []
for name in [v for v in a.anchors.split(',') if v]:
    A = noisy(load(name))
    ca, ba = context(A)
    anchor_f += [z - ba for z in ca] + [A[..., idx] - ba]


def matrix(fs):
    return np.stack([f.ravel() for f in fs], 1)


X_self, X_all = matrix(self_f), matrix(self_f + anchor_f)
ok = np.isfinite(y) & np.all(np.isfinite(X_all), 1)
y, X_self, X_all = y[ok], X_self[ok], X_all[ok]
perm = rng.permutation(len(y))
tr, te = perm[: len(y) // 2], perm[len(y) // 2:]


def bits(r):
    _, k = np.unique(np.round(r / step).astype(np.int64), return_counts=True)
    p = k / k.sum()
    return float(-(p * np.log2(p)).sum())


def lsq(X):
    X1 = np.c_[X, np.ones(len(X))]
    w, *_ = np.linalg.lstsq(X1[tr], y[tr], rcond=None)
    return y[te] - X1[te] @ w


def mlp(X):
    s = X[tr].std(0).clip(1e-30)
    ys = y[tr].std()
    Xt = torch.tensor(X / s, dtype=torch.float32)
    Yt = torch.tensor(y / ys, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], a.hidden), torch.nn.GELU(), torch.nn.Linear(a.hidden, 1))
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    for _ in range(a.epochs):
        for b in torch.split(torch.tensor(tr), 4096):
            opt.zero_grad()
            ((net(Xt[b]).squeeze(1) - Yt[b]) ** 2).mean().backward()
            opt.step()
    with torch.no_grad():
        return y[te] - net(Xt[te]).squeeze(1).numpy() * ys, sum(p.numel() for p in net.parameters())


m_self, _ = mlp(X_self)
m_all, params = mlp(X_all)
print(f'{a.target} <- {a.anchors} rel {a.rel}: {len(te)} test points, bits/point: cubic {bits(y[te]):.3f} | '
      f'least squares: context {bits(lsq(X_self)):.3f}, +anchors {bits(lsq(X_all)):.3f} | '
      f'MLP ({params} weights): context {bits(m_self):.3f}, +anchors {bits(m_all):.3f}')
