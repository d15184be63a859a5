"""The training loop: data -> features -> patches -> Adam on masked MSE -> validation -> artifacts."""
import math
import os
import platform
import random
import signal
import time

import numpy as np
import torch

from . import PROTOCOL_VERSION, TRAINER_VERSION
from .config import ConfigError
from .data import backward_diff, diff_mask, load_dataset
from .events import _clean, elapsed, emit
from .export import export_all
from .networks import build_network


class StopFlag:
    def __init__(self, stop_path):
        self.reason = None
        self.stop_path = stop_path

    def install(self):
        def handler(signum, frame):
            self.reason = self.reason or ("sigterm" if signum == signal.SIGTERM else "sigint")
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def check(self):
        if self.reason is None and os.path.exists(self.stop_path):
            self.reason = "stop-file"
        return self.reason is not None


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    # TF32 would make CUDA results differ from CPU ones well beyond float32 rounding.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        torch.use_deterministic_algorithms(True, warn_only=True)
    except TypeError:  # torch < 1.11
        torch.use_deterministic_algorithms(True)


def pick_device(want):
    cuda = torch.cuda.is_available()
    if want == "cuda" and not cuda:
        raise ConfigError("device 'cuda' was asked for but PyTorch sees no CUDA GPU")
    if want in ("auto", "cuda") and cuda:
        return torch.device("cuda"), torch.cuda.get_device_name(0)
    return torch.device("cpu"), platform.processor() or platform.machine()


def features(ds, plan):
    """Stack the planned channels: [S, C, *spatial] float32 plus a validity mask [S, C, *spatial]."""
    chans, masks = [], []
    for f in plan:
        a = ds.fields[f["var"]]
        if f["transform"] == "values":
            chans.append(a.astype(np.float32))
            masks.append(ds.mask.copy())
        else:
            ax = f["axis"] + 1  # +1: sample axis first
            chans.append(backward_diff(np.where(ds.mask, a, np.float32(0)).astype(np.float32), ax))
            masks.append(diff_mask(ds.mask, ax))
    return np.stack(chans, axis=1), np.stack(masks, axis=1)


def norm_stats(x, m, idx):
    """Per-channel mean/std over valid points of the training samples (float64, then float32)."""
    means, stds = [], []
    for c in range(x.shape[1]):
        v = x[idx, c][m[idx, c]].astype(np.float64)
        mu = float(v.mean()) if v.size else 0.0
        sd = float(v.std()) if v.size else 1.0
        if not math.isfinite(sd) or sd < 1e-12:
            sd = 1.0
        means.append(mu)
        stds.append(sd)
    return np.array(means), np.array(stds)


def fill_invalid(x, m, means):
    x = x.copy()
    for c in range(x.shape[1]):
        x[:, c][~m[:, c]] = np.float32(means[c])
    return x


def begin_run(cfg, network):
    """What every trainer entry does first: seed, threads, the `started` and `device` events. Returns (start time,
    device, device name)."""
    t_start = time.monotonic()
    seed_everything(cfg["seed"])
    if cfg["threads"]:
        torch.set_num_threads(cfg["threads"])
    emit("started", protocol=PROTOCOL_VERSION, trainerVersion=TRAINER_VERSION, pid=os.getpid(),
         network=network, epochs=cfg["epochs"], python=platform.python_version(), torch=torch.__version__)
    device, dev_name = pick_device(cfg["device"])
    emit("device", device=device.type, name=dev_name, cudaAvailable=torch.cuda.is_available(), threads=torch.get_num_threads())
    return t_start, device, dev_name


def end_epoch(epoch, epochs, steps, losses, val, t0, state, epoch_seconds):
    """What the model-file trainers (VQ-VAE, NGLR) do after an epoch's steps: the `validation` and `epoch` events, the
    run's epoch count and the epoch's seconds. Returns the metrics (the validation's, plus trainLoss and valLoss)."""
    metrics = dict(val, trainLoss=float(np.mean(losses)), valLoss=val["loss"])
    emit("validation", epoch=epoch, metrics=val)
    state["epochs"] = epoch
    secs = time.monotonic() - t0
    epoch_seconds.append(secs)
    emit("epoch", epoch=epoch, epochs=epochs, loss=metrics["trainLoss"], valLoss=val["loss"], seconds=secs, steps=steps,
         elapsed=elapsed())
    return metrics


def run(cfg, stop):
    t_start, device, dev_name = begin_run(cfg, cfg["network"])

    ds = load_dataset(cfg["dataDir"], list(dict.fromkeys(cfg["inputs"] + [cfg["target"]])))
    ndim = len(ds.spatial_shape)
    try:
        model, net_params, in_plan, out_plan, net_version = build_network(
            cfg["network"], cfg["networkParams"], cfg["inputs"], cfg["target"], ndim)
    except (KeyError, ValueError) as e:
        raise ConfigError(str(e.args[0] if e.args else e))

    x_all, mx_all = features(ds, in_plan)
    y_all, my_all = features(ds, out_plan)
    loss_mask = my_all.all(axis=1) & mx_all.all(axis=1)  # [S, *spatial]

    s = ds.samples
    n_val = int(round(s * cfg["validationFraction"])) if s >= 2 else 0
    n_val = min(max(n_val, 1 if (s >= 2 and cfg["validationFraction"] > 0) else 0), s - 1) if s >= 2 else 0
    train_idx = list(range(0, s - n_val))
    val_idx = list(range(s - n_val, s)) if n_val else list(train_idx)

    in_mean, in_std = norm_stats(x_all, mx_all, train_idx)
    out_mean, out_std = norm_stats(y_all, my_all, train_idx)
    model[0].set((1.0 / in_std).astype(np.float32), (-in_mean / in_std).astype(np.float32))
    model[-1].set(out_std.astype(np.float32), out_mean.astype(np.float32))
    x_all = fill_invalid(x_all, mx_all, in_mean)
    y_norm = ((y_all.astype(np.float64) - out_mean.reshape((1, -1) + (1,) * ndim)) /
              out_std.reshape((1, -1) + (1,) * ndim)).astype(np.float32)
    y_norm[~np.broadcast_to(loss_mask[:, None], y_norm.shape)] = 0

    # The body of the network is trained on normalised targets; the output affine maps back to units.
    body = torch.nn.Sequential(*list(model)[:-1]).to(device)
    n_params = int(sum(p.numel() for p in model.parameters()))
    emit("data", samples=s, trainSamples=len(train_idx), validationSamples=len(val_idx),
         validationIsTraining=(n_val == 0), spatialShape=ds.spatial_shape, inChannels=len(in_plan),
         outChannels=len(out_plan), parameters=n_params, validFraction=float(loss_mask.mean()))

    rng = np.random.default_rng(cfg["seed"])
    ps = [min(cfg["patchSize"], n) for n in ds.spatial_shape]
    n_patches = len(train_idx) * cfg["patchesPerSample"]
    steps_per_epoch = max(1, math.ceil(n_patches / cfg["batchSize"]))
    if cfg["maxStepsPerEpoch"]:
        steps_per_epoch = min(steps_per_epoch, cfg["maxStepsPerEpoch"])

    opt = torch.optim.Adam(body.parameters(), lr=cfg["learningRate"], weight_decay=cfg["weightDecay"])
    x_t = torch.from_numpy(x_all)
    y_t = torch.from_numpy(y_norm)
    m_t = torch.from_numpy(loss_mask.astype(np.float32))

    def batch():
        xs, ys, ms = [], [], []
        for _ in range(cfg["batchSize"]):
            si = train_idx[int(rng.integers(len(train_idx)))]
            start = [int(rng.integers(0, n - p + 1)) for n, p in zip(ds.spatial_shape, ps)]
            sl = tuple(slice(a, a + p) for a, p in zip(start, ps))
            xs.append(x_t[(si, slice(None)) + sl])
            ys.append(y_t[(si, slice(None)) + sl])
            ms.append(m_t[(si,) + sl])
        return torch.stack(xs).to(device), torch.stack(ys).to(device), torch.stack(ms).unsqueeze(1).to(device)

    def masked_mse(pred, target, mask):
        d = (pred - target) ** 2 * mask
        return d.sum() / (mask.sum() * pred.shape[1]).clamp(min=1.0)

    def validate():
        body.eval()
        se = np.zeros(len(out_plan))
        cnt = 0
        max_abs = 0.0
        loss_sum = 0.0
        with torch.no_grad():
            for si in val_idx:
                xb = x_t[si:si + 1].to(device)
                pn = body(xb)
                mk = m_t[si:si + 1].unsqueeze(1).to(device)
                loss_sum += float(masked_mse(pn, y_t[si:si + 1].to(device), mk))
                pred = model[-1](pn.cpu()).numpy()[0]  # physical units
                valid = loss_mask[si]
                err = pred[:, valid] - y_all[si][:, valid]
                if err.size:
                    se += (err.astype(np.float64) ** 2).sum(axis=1)
                    max_abs = max(max_abs, float(np.abs(err).max()))
                cnt += int(valid.sum())
        body.train()
        if cnt == 0:
            # nothing held out has a valid point (fills, a single map): not measured, rather than a perfect 0
            return {"loss": None, "rmse": None, "rmsePerOutput": [None] * len(out_plan), "maxAbsError": None,
                    "nrmse": None, "points": 0}
        rmse = np.sqrt(se / cnt)
        # the range in float64: a float32 field near +-3e38 overflows max - min to inf, which read as no range
        rng_t = [float(y_all[val_idx, c][loss_mask[val_idx]].astype(np.float64).max() - y_all[val_idx, c][loss_mask[val_idx]].astype(np.float64).min())
                 for c in range(len(out_plan))]
        return {"loss": loss_sum / max(len(val_idx), 1), "rmse": float(rmse.mean()),
                "rmsePerOutput": [float(v) for v in rmse], "maxAbsError": max_abs,
                # (none where an output has no range: a constant target has no NRMSE, not a perfect 0)
                "nrmse": float(np.mean([r / t for r, t in zip(rmse, rng_t)])) if all(t > 0 and np.isfinite(t) for t in rng_t) else None,
                "points": cnt}

    os.makedirs(cfg["outDir"], exist_ok=True)
    ckpt_path = os.path.join(cfg["outDir"], "checkpoint.pt")
    state = {"device": {"type": device.type, "name": dev_name}, "epochsCompleted": 0, "steps": 0}
    metrics = {}

    def checkpoint(epoch):
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                    "step": state["steps"], "network": cfg["network"], "netParams": net_params}, ckpt_path)
        emit("checkpoint", path=ckpt_path, epoch=epoch, step=state["steps"])

    def finish(kind, reason=None):
        model.cpu()
        state["seconds"] = time.monotonic() - t_start
        probe = None
        if cfg["probe"]:
            g = np.random.default_rng(1234)
            shape = (1, len(in_plan)) + tuple(min(n, 24) for n in ds.spatial_shape)
            sl = (slice(val_idx[0], val_idx[0] + 1), slice(None)) + tuple(slice(0, n) for n in shape[2:])
            probe = (x_all[sl] + g.normal(0, 1e-3, shape).astype(np.float32) * in_std.reshape((1, -1) + (1,) * ndim).astype(np.float32)).astype(np.float32)
        info = {"samples": s, "spatialShape": ds.spatial_shape, "dims": ds.meta.get("dims"), "trainSamples": train_idx,
                "validationSamples": val_idx, "source": ds.meta.get("source"),
                "normalization": {"inputMean": in_mean.tolist(), "inputStd": in_std.tolist(),
                                  "outputMean": out_mean.tolist(), "outputStd": out_std.tolist()}}
        state["stopped"] = kind == "stopped"
        state["stopReason"] = reason
        paths, manifest = export_all(model, cfg["outDir"], ndim, in_plan, out_plan, cfg["network"], net_version, net_params,
                                     cfg, _clean(info), _clean(metrics), state, probe, list(in_mean))
        paths["checkpoint"] = ckpt_path
        if kind == "finished":
            emit("finished", epochs=state["epochsCompleted"], steps=state["steps"], seconds=state["seconds"],
                 metrics=metrics, artifacts=paths, contentHash=manifest["contentHash"])
        else:
            emit("stopped", reason=reason, epochs=state["epochsCompleted"], steps=state["steps"], seconds=state["seconds"],
                 checkpoint=ckpt_path, metrics=metrics, artifacts=paths, contentHash=manifest["contentHash"])

    body.train()
    for epoch in range(1, cfg["epochs"] + 1):
        t0 = time.monotonic()
        losses = []
        for step in range(1, steps_per_epoch + 1):
            xb, yb, mb = batch()
            opt.zero_grad(set_to_none=True)
            loss = masked_mse(body(xb), yb, mb)
            loss.backward()
            opt.step()
            lv = float(loss.detach())
            losses.append(lv)
            state["steps"] += 1
            if state["steps"] % cfg["logEvery"] == 0 or step == steps_per_epoch:
                emit("step", epoch=epoch, step=step, stepsPerEpoch=steps_per_epoch, globalStep=state["steps"], loss=lv,
                     lr=opt.param_groups[0]["lr"])
            if stop.check():
                checkpoint(epoch)
                finish("stopped", stop.reason)
                return 0
        val = validate()
        metrics = {"trainLoss": float(np.mean(losses)), "valLoss": val["loss"], "valRmse": val["rmse"],
                   "valNrmse": val["nrmse"], "valMaxAbsError": val["maxAbsError"], "valRmsePerOutput": val["rmsePerOutput"]}
        emit("validation", epoch=epoch, metrics={k: v for k, v in val.items()})
        state["epochsCompleted"] = epoch
        secs = time.monotonic() - t0
        emit("epoch", epoch=epoch, epochs=cfg["epochs"], loss=metrics["trainLoss"], valLoss=val["loss"], seconds=secs,
             steps=steps_per_epoch, elapsed=elapsed())
        checkpoint(epoch)
        if stop.check():
            finish("stopped", stop.reason)
            return 0
    finish("finished")
    return 0
