"""Training entry point of the NGLR causal bias network (docs/residual.md):

    PYTHONPATH=resources/trainer python3 -m fieldpack_trainer.nglr_train --config RUN/run.json

JSON lines on stdout with the trainer's event protocol (events.py): started, device, data, step, validation, epoch,
finished / stopped, error. A STOP file (stopFile) or SIGTERM/SIGINT stops after the current step; the model is
written either way. Exit code 0 finished or stopped, 2 bad configuration, 1 other errors.

Data folder (`data`, written by src-main/services/training/prepare-nglr.ts): meta.json = {"version": 1,
"kind": "nglr", "chunks": [{"name", "shape": [D, H, W], "q": file (int32), "code": file (uint8, 1 = coded point),
"base": file (float32) or null}]}: the quantized residuals exactly as the nglr codec's chunks hold them.

Loss: Charbonnier (eps 1e-6) between the bias and the Lorenzo residual in dScale units, with teacher forcing (every
neighbour is the true q, as the encoder has it and the decoder will). AdamW, gradient clipping at 1.
"""
import json
import math
import os
import sys
import time

import numpy as np

from . import TRAINER_VERSION
from .config import ConfigError, check_run_config, read_config
from .cli import run_trainer
from .events import emit

DEFAULTS = {
    "version": 1,
    "data": "data",
    "outputDir": "out",
    "stopFile": "STOP",
    "causal": 16,
    "recon": 0,
    "hidden": 16,
    "epochs": 8,
    "stepsPerEpoch": 150,
    "batchSize": 4096,
    "learningRate": 5e-4,
    "weightDecay": 1e-6,
    "validationFraction": 0.1,
    "maxPoints": 4000000,
    "seed": 0,
    "device": "auto",
    "threads": 0,
    "logEvery": 10,
}


def _req(cond, msg):
    if not cond:
        raise ConfigError(msg)


def _is_int(v, lo):
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo


def load_config(path):
    cfg = read_config(path, DEFAULTS)
    _req(cfg["version"] == 1, f"config version {cfg['version']} is not supported (this trainer reads version 1)")
    for k in ("causal", "hidden", "epochs", "stepsPerEpoch", "batchSize", "maxPoints", "logEvery"):
        _req(_is_int(cfg[k], 1), f"{k} must be an integer >= 1 (got {cfg[k]!r})")
    for k in ("recon", "threads", "seed"):
        _req(_is_int(cfg[k], 0), f"{k} must be an integer >= 0 (got {cfg[k]!r})")
    for k in ("causal", "hidden", "recon"):
        _req(cfg[k] <= 256, f"{k} must be <= 256")
    return check_run_config(cfg, path)


def load_chunks(data_dir, recon):
    """Per chunk: causal features, targets, coded mask, dScale, P, q and (recon > 0) the base's input channels."""
    from .nglr import chunk_features, recon_inputs
    path = os.path.join(data_dir, "meta.json")
    if not os.path.exists(path):
        raise ConfigError(f"no training data: {path} is missing")
    with open(path) as f:
        meta = json.load(f)
    if meta.get("kind") != "nglr" or meta.get("version") != 1:
        raise ConfigError(f"{path} is not NGLR training data (kind {meta.get('kind')!r}, version {meta.get('version')!r})")
    chunks = []
    total = 0
    for c in meta["chunks"]:
        shape = tuple(int(v) for v in c["shape"])
        n = int(np.prod(shape))
        q = np.fromfile(os.path.join(data_dir, c["q"]), dtype="<i4")
        code = np.fromfile(os.path.join(data_dir, c["code"]), dtype=np.uint8)
        if q.size != n or code.size != n:
            raise ConfigError(f"chunk {c.get('name')}: {q.size} values for shape {list(shape)}")
        q = q.reshape(shape)
        code = code.reshape(shape).astype(bool)
        # the chunk's fitted linear term (the codec predicts P + linear, and the bias corrects that)
        linear = None
        if c.get("linear"):
            linear = np.fromfile(os.path.join(data_dir, c["linear"]), dtype="<f8")
            if linear.size != n:
                raise ConfigError(f"chunk {c.get('name')}: {linear.size} linear terms for shape {list(shape)}")
            linear = linear.reshape(shape)
        feats, target, d_scale, P, e = chunk_features(q, code, linear)
        ch = {"name": c.get("name"), "shape": shape, "feats": feats, "target": target, "code": code, "dScale": d_scale,
              "P": P, "L": linear if linear is not None else np.zeros(shape), "q": q.astype(np.float64), "e": e}
        if recon > 0:
            if c.get("base"):
                base = np.fromfile(os.path.join(data_dir, c["base"]), dtype="<f4").reshape(shape)
                ch["reconIn"] = recon_inputs(base)
            else:
                ch["reconIn"] = np.zeros((7,) + shape, dtype=np.float32)
        chunks.append(ch)
        total += int(code.sum())
    if not chunks or total == 0:
        raise ConfigError("the training data has no coded point")
    return meta, chunks, total


def run(cfg, stop):
    import torch
    from .train import begin_run, end_epoch
    from .nglr import make_network, save_fpnl, entropy_bits

    t_start, device, dev_name = begin_run(cfg, "nglr")

    rng = np.random.default_rng(cfg["seed"])
    R = cfg["recon"]
    meta, chunks, total = load_chunks(cfg["dataDir"], R)
    model = make_network(cfg["causal"], R, cfg["hidden"]).to(device)
    n_weights = model.weight_count()

    # points: (chunk, flat index) of coded points, split into training and validation at random
    idx = []
    for ci, ch in enumerate(chunks):
        flat = np.flatnonzero(ch["code"].ravel())
        idx.append(np.stack([np.full(flat.size, ci), flat], axis=1))
    pts = np.concatenate(idx)
    rng.shuffle(pts)
    # at most maxPoints, drawn evenly from every chunk (each chunk's features come from the whole chunk)
    pts = pts[: cfg["maxPoints"]]
    n_val = int(len(pts) * cfg["validationFraction"])
    val_pts, train_pts = pts[:n_val], pts[n_val:]
    all_points = sum(int(np.prod(ch["shape"])) for ch in chunks)
    emit("data", chunks=len(chunks), points=int(len(pts)), codedPoints=int(total), validFraction=total / max(1, all_points), trainPoints=int(len(train_pts)), validationPoints=int(n_val),
         parameters=n_weights, sets=meta.get("source", {}).get("fields"))

    # flat views per chunk
    feats = [torch.from_numpy(ch["feats"].reshape(13, -1).T.copy()) for ch in chunks]
    targets = [torch.from_numpy(ch["target"].ravel().copy()) for ch in chunks]

    def recon_of(ci):
        """Activated reconstruction features of a whole chunk [n, R] (recomputed each step: the branch trains)."""
        x = torch.from_numpy(chunks[ci]["reconIn"][None]).to(device)
        return model.recon_features(x)

    def gather(sel):
        """Features, targets and reconstruction features of points sel [(ci, i)]."""
        fs, ts, rs = [], [], []
        for ci in np.unique(sel[:, 0]):
            ii = torch.from_numpy(sel[sel[:, 0] == ci, 1])
            fs.append(feats[ci][ii])
            ts.append(targets[ci][ii])
            if R > 0:
                rs.append(recon_of(int(ci))[ii.to(device)])
        f = torch.cat(fs).to(device)
        t = torch.cat(ts).to(device)
        return f, t, (torch.cat(rs) if R > 0 else None)

    opt = torch.optim.AdamW(model.parameters(), lr=cfg["learningRate"], weight_decay=cfg["weightDecay"])
    total_steps = cfg["epochs"] * cfg["stepsPerEpoch"]
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total_steps))

    def charbonnier(x, eps=1e-6):
        return torch.mean(torch.sqrt(x * x + eps * eps))

    def validate():
        """Bits of the integer differences with the bias (on the codec's prediction, Lorenzo plus the chunk's linear term)
        and with plain Lorenzo on validation points: order-0 entropy
        per chunk (each chunk is coded on its own), weighted by its points."""
        model.eval()
        sel = val_pts if len(val_pts) else train_pts[: min(len(train_pts), 100000)]
        bits_net = bits_lor = abs_net = abs_lor = loss = 0.0
        with torch.no_grad():
            for ci in np.unique(sel[:, 0]):
                ii = sel[sel[:, 0] == ci, 1]
                ch = chunks[ci]
                f = feats[ci][torch.from_numpy(ii)].to(device)
                rf = recon_of(int(ci))[torch.from_numpy(ii).to(device)] if R > 0 else None
                b = model(f, rf).cpu().numpy().astype(np.float64)
                loss += float(charbonnier(torch.from_numpy(b).float() - targets[ci][torch.from_numpy(ii)])) * len(ii)
                P = ch["P"].ravel()[ii]
                L = ch["L"].ravel()[ii]
                q = ch["q"].ravel()[ii]
                # as the codec predicts: round(P + linear + bias x dScale) (Math.round: floor(x + 0.5))
                dn = (q - np.floor(P + L + b * ch["dScale"] + 0.5)).astype(np.int64)
                dl = (q - P).astype(np.int64)
                bits_net += entropy_bits(dn) * len(ii)
                bits_lor += entropy_bits(dl) * len(ii)
                abs_net += float(np.abs(dn).sum())
                abs_lor += float(np.abs(dl).sum())
        model.train()
        n = max(1, len(sel))
        return {"loss": loss / n, "bitsNglr": bits_net / n, "bitsLorenzo": bits_lor / n,
                "gain": (1 - bits_net / bits_lor) if bits_lor > 0 else 0.0,
                "meanAbsNglr": abs_net / n, "meanAbsLorenzo": abs_lor / n, "points": int(len(sel))}

    def write_probe(path):
        """Features and PyTorch's bias at up to 64 coded points of the first chunk (no reconstruction branch): the
        reference path must compute the same features from q and the same bias (float rounding apart)."""
        ch = chunks[0]
        ii = np.flatnonzero(ch["code"].ravel())[:: max(1, int(ch["code"].sum()) // 64)][:64]
        with torch.no_grad():
            f = feats[0][torch.from_numpy(ii)]
            rf = model.recon_features(torch.from_numpy(ch["reconIn"][None])) [torch.from_numpy(ii)] if R > 0 else None
            b = model.cpu()(f, rf).numpy()
        probe = {"chunk": ch["name"], "indices": ii.tolist(), "dScale": ch["dScale"], "features": f.numpy().tolist(),
                 "bias": b.tolist()}
        with open(path + ".tmp", "w") as fh:
            json.dump(probe, fh)
        os.replace(path + ".tmp", path)

    os.makedirs(cfg["outDir"], exist_ok=True)
    model_path = os.path.join(cfg["outDir"], "model.fpnl")
    state = {"epochs": 0, "steps": 0}
    metrics = {}
    epoch_seconds = []

    def finish(kind, reason=None):
        seconds = time.monotonic() - t_start
        info = {"source": meta.get("source"), "chunks": len(chunks), "points": int(total), "epochs": state["epochs"],
                "steps": state["steps"], "seconds": round(seconds, 1),
                "secondsPerEpoch": round(float(np.mean(epoch_seconds)), 2) if epoch_seconds else None,
                "device": device.type, "deviceName": dev_name, "threads": torch.get_num_threads(),
                "valBitsNglr": metrics.get("bitsNglr"), "valBitsLorenzo": metrics.get("bitsLorenzo"), "valGain": metrics.get("gain"),
                "trainer": f"fieldpack_trainer {TRAINER_VERSION}", "torch": torch.__version__,
                "hyper": {k: cfg[k] for k in ("batchSize", "learningRate", "weightDecay", "stepsPerEpoch", "validationFraction", "seed")},
                "stopped": kind == "stopped"}
        info = {k: (v if not (isinstance(v, float) and not math.isfinite(v)) else None) for k, v in info.items()}
        model.cpu().eval()
        digest, size = save_fpnl(model, model_path, info)
        probe_path = os.path.join(cfg["outDir"], "probe.json")
        write_probe(probe_path)
        common = dict(epochs=state["epochs"], steps=state["steps"], seconds=seconds, metrics=metrics,
                      artifacts={"model": model_path, "probe": probe_path}, contentHash=digest, bytes=size, parameters=n_weights)
        if kind == "finished":
            emit("finished", **common)
        else:
            emit("stopped", reason=reason, **common)

    model.train()
    gstep = 0
    bs = cfg["batchSize"]
    for epoch in range(1, cfg["epochs"] + 1):
        t0 = time.monotonic()
        losses = []
        for step in range(1, cfg["stepsPerEpoch"] + 1):
            sel = train_pts[rng.integers(0, len(train_pts), size=min(bs, len(train_pts)))]
            f, t, rf = gather(sel)
            loss = charbonnier(model(f, rf) - t)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            lv = float(loss.detach())
            losses.append(lv)
            gstep += 1
            state["steps"] = gstep
            if gstep % cfg["logEvery"] == 0 or step == cfg["stepsPerEpoch"]:
                emit("step", epoch=epoch, step=step, stepsPerEpoch=cfg["stepsPerEpoch"], globalStep=gstep, loss=lv,
                     lr=float(sched.get_last_lr()[0]))
            if stop.check():
                finish("stopped", stop.reason)
                return 0
        metrics = end_epoch(epoch, cfg["epochs"], cfg["stepsPerEpoch"], losses, validate(), t0, state, epoch_seconds)
        if stop.check():
            finish("stopped", stop.reason)
            return 0
    finish("finished")
    return 0


def main(argv):
    return run_trainer(argv, "fieldpack_trainer.nglr_train", "NGLR trainer (JSON lines on stdout)", load_config, lambda cfg, stop: run(cfg, stop))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
