"""Training entry point of the hierarchical VQ-VAE (docs/vqvae.md):

    PYTHONPATH=resources/trainer python3 -m fieldpack_trainer.vqvae_train --config RUN/run.json

JSON lines on stdout with the trainer's event protocol (events.py): started, device, data, step, validation, epoch,
finished / stopped, error. A STOP file (stopFile) or SIGTERM/SIGINT stops after the current step; the model is
written either way. Exit code 0 finished or stopped, 2 bad configuration, 1 other errors.

Data folder (`data`): meta.json = {"version": 2, "kind": "maps", "sets": [{"name", "file", "shape": [S, H, W],
"mask": file or null}]}; float32 little-endian C order (raw physical values), mask uint8 (1 = valid).

Scaling (config "scaling": auto | linear | log, default auto): per set, the maps are standardised as they are or as
log10(x + offset) (log_offset: the codec's auto rule, non-negative and skewness >= 2); the model's description
records how many sets were log-scaled (training.logScaledSets), which the codec's scaling=auto reads.
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
    "channels": [8, 16, 32],
    "latentDim": 32,
    "codesY": 256,
    "codesZ": 128,
    "negativeSlope": 0.01,
    "epochs": 10,
    "batchSize": 32,
    "learningRate": 3e-4,
    "weightDecay": 1e-4,
    "warmupFraction": 0.15,
    "patchSize": 64,
    "patchesPerEpoch": 2000,
    "validationFraction": 0.1,
    "seed": 0,
    "device": "auto",
    "threads": 0,
    "logEvery": 10,
    "scaling": "auto",
}

# log scaling (the codec's rule, core/compressors/vqvae/codec.ts chooseScaling): auto takes it for a set whose valid
# values are >= -LOG_MIN_FRACTION x range and whose skewness is >= LOG_SKEWNESS; the offset makes every valid
# x + offset >= LOG_FLOOR x range (the codec uses its absolute bound there; the trainer has none)
LOG_MIN_FRACTION = 1e-6
LOG_SKEWNESS = 2.0
LOG_FLOOR = 1e-3

STRIDE = 16


def _req(cond, msg):
    if not cond:
        raise ConfigError(msg)


def _is_int(v, lo):
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo


def load_config(path):
    cfg = read_config(path, DEFAULTS)
    _req(cfg["version"] == 1, f"config version {cfg['version']} is not supported (this trainer reads version 1)")
    ch = cfg["channels"]
    _req(isinstance(ch, list) and len(ch) == 3 and all(_is_int(v, 1) and v <= 512 for v in ch),
         "channels must be a list of 3 integers in 1..512")
    for k in ("latentDim", "epochs", "batchSize", "patchSize", "patchesPerEpoch", "logEvery"):
        _req(_is_int(cfg[k], 1), f"{k} must be an integer >= 1 (got {cfg[k]!r})")
    for k in ("codesY", "codesZ"):
        _req(_is_int(cfg[k], 2) and cfg[k] <= 4096, f"{k} must be an integer in 2..4096 (got {cfg[k]!r})")
    _req(cfg["latentDim"] <= 512, "latentDim must be <= 512")
    _req(cfg["patchSize"] % STRIDE == 0, f"patchSize must be a multiple of {STRIDE}")
    for k in ("threads", "seed"):
        _req(_is_int(cfg[k], 0), f"{k} must be an integer >= 0 (got {cfg[k]!r})")
    _req(isinstance(cfg["negativeSlope"], (int, float)) and 0 <= cfg["negativeSlope"] < 1, "negativeSlope must be in [0, 1)")
    _req(isinstance(cfg["warmupFraction"], (int, float)) and 0 <= cfg["warmupFraction"] < 1, "warmupFraction must be in [0, 1)")
    _req(cfg["scaling"] in ("auto", "linear", "log"), f"scaling must be auto, linear or log (got {cfg['scaling']!r})")
    return check_run_config(cfg, path)


# ---------------------------------------------------------------------------------------------------------- data

def standardise(a, m):
    """Per map: (x - mean) / std over the valid finite points (float64 statistics); std 1 when 0; invalid -> 0.
    Returns (float32 map, bool mask, mean, std)."""
    m = m & np.isfinite(a)
    v = a[m].astype(np.float64)
    mu = float(v.mean()) if v.size else 0.0
    sd = float(v.std()) if v.size else 1.0
    if not math.isfinite(sd) or sd == 0.0:
        sd = 1.0
    out = np.zeros(a.shape, dtype=np.float32)
    out[m] = ((v - mu) / sd).astype(np.float32)
    return out, m, mu, sd


def log_offset(a, m, mode):
    """The offset of log scaling for a set (values a, valid mask m), or None for linear scaling."""
    if mode == "linear":
        return None
    v = a[m & np.isfinite(a)].astype(np.float64)
    if v.size == 0:
        return None
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo
    if mode == "auto":
        if not span > 0 or lo < -LOG_MIN_FRACTION * span:
            return None
        d = v - v.mean()
        m2 = float((d * d).mean())
        if not m2 > 0 or float((d * d * d).mean()) / m2 ** 1.5 < LOG_SKEWNESS:
            return None
    floor = LOG_FLOOR * span if span > 0 else max(abs(hi), 1.0) * LOG_FLOOR
    return 0.0 if lo >= floor else floor - lo


def pad_reflect(x, m, h, w):
    """Pads a map at the bottom/right to at least h x w by reflection (repeated as needed); padding is invalid."""
    ph, pw = max(0, h - x.shape[0]), max(0, w - x.shape[1])
    if ph == 0 and pw == 0:
        return x, m
    xp = np.pad(x, ((0, ph), (0, pw)), mode="reflect" if min(x.shape) > 1 else "edge")
    mp = np.zeros(xp.shape, dtype=bool)
    mp[:m.shape[0], :m.shape[1]] = m
    return xp, mp


def pad16(n):
    return ((n + STRIDE - 1) // STRIDE) * STRIDE


def load_maps(data_dir, val_fraction, patch, scaling="linear"):
    meta_path = os.path.join(data_dir, "meta.json")
    if not os.path.exists(meta_path):
        raise ConfigError(f"training data not found: {meta_path} is missing")
    with open(meta_path, "r", encoding="utf-8") as f:
        meta = json.load(f)
    _req(isinstance(meta, dict) and meta.get("version") == 2 and meta.get("kind") == "maps",
         f"{meta_path}: expected {{\"version\": 2, \"kind\": \"maps\", ...}}")
    sets = meta.get("sets")
    _req(isinstance(sets, list) and sets, f"{meta_path}: sets must be a non-empty list")
    train, val, names, logs = [], [], [], {}
    skipped = 0
    total = 0
    for st in sets:
        shape = [int(n) for n in st["shape"]]
        _req(len(shape) == 3 and all(n >= 1 for n in shape), f"set {st.get('name')}: shape must be [S, H, W]")
        count = int(np.prod(shape))
        p = os.path.join(data_dir, st["file"])
        a = np.fromfile(p, dtype="<f4")
        _req(a.size == count, f"{p}: {a.size} values, expected {count} for shape {shape}")
        a = a.reshape(shape)
        if st.get("mask"):
            mp = os.path.join(data_dir, st["mask"])
            mk = np.fromfile(mp, dtype=np.uint8)
            _req(mk.size == count, f"{mp}: {mk.size} mask values, expected {count}")
            mk = mk.reshape(shape) != 0
        else:
            mk = np.ones(shape, dtype=bool)
        s = shape[0]
        n_val = int(round(s * val_fraction)) if s >= 2 else 0
        n_val = min(n_val, s - 1)
        names.append(st.get("name", st["file"]))
        offset = log_offset(a, mk, scaling)
        if offset is not None:
            logs[names[-1]] = offset
            with np.errstate(divide="ignore", invalid="ignore"):
                a = np.where(mk & np.isfinite(a), np.log10(np.maximum(a.astype(np.float64) + offset, 1e-300)), 0.0)
        for i in range(s):
            x, m, _, _ = standardise(a[i], mk[i])
            total += 1
            if not m.any():
                skipped += 1
                continue
            (val if i >= s - n_val else train).append((st.get("name", st["file"]), x, m))
    if val_fraction > 0 and not val and len(train) >= 2:
        val.append(train.pop())  # at least one map held out overall
    _req(train, "no training maps with valid points")
    train_maps = [pad_reflect(x, m, patch, patch) for _, x, m in train]
    val_maps = [pad_reflect(x, m, pad16(x.shape[0]), pad16(x.shape[1])) for _, x, m in val]
    return meta, names, train_maps, val_maps, skipped, total, logs


# ------------------------------------------------------------------------------------------------------ training

def lr_at(step, total, warmup, base):
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1.0 + math.cos(math.pi * min(1.0, t)))


def run(cfg, stop):
    import torch
    from .train import begin_run, end_epoch
    from .vqvae import VQVAE, psnr, save_fpvq, write_probe

    t_start, device, dev_name = begin_run(cfg, "vqvae")

    ps = cfg["patchSize"]
    meta, set_names, train_maps, val_maps, skipped, total, log_sets = load_maps(cfg["dataDir"], cfg["validationFraction"], ps,
                                                                                cfg["scaling"])
    model = VQVAE(cfg["channels"], cfg["latentDim"], cfg["codesY"], cfg["codesZ"], cfg["negativeSlope"]).to(device)
    n_weights = model.weight_count()
    emit("data", maps=total, trainMaps=len(train_maps), validationMaps=len(val_maps), skippedMaps=skipped,
         sets=len(set_names), parameters=n_weights, patchSize=ps, scaling=cfg["scaling"], logScaled=sorted(log_sets),
         validFraction=float(np.mean([m.mean() for _, m in train_maps])))

    rng = np.random.default_rng(cfg["seed"])
    bs = cfg["batchSize"]
    steps_per_epoch = max(1, math.ceil(cfg["patchesPerEpoch"] / bs))
    total_steps = steps_per_epoch * cfg["epochs"]
    warmup = int(round(cfg["warmupFraction"] * total_steps))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["learningRate"], betas=(0.9, 0.95), weight_decay=cfg["weightDecay"])

    def batch():
        xs = np.empty((bs, 1, ps, ps), dtype=np.float32)
        ms = np.empty((bs, 1, ps, ps), dtype=np.float32)
        for b in range(bs):
            x, m = train_maps[int(rng.integers(len(train_maps)))]
            i = int(rng.integers(0, x.shape[0] - ps + 1))
            j = int(rng.integers(0, x.shape[1] - ps + 1))
            px, pm = x[i:i + ps, j:j + ps], m[i:i + ps, j:j + ps]
            if rng.random() < 0.5:
                px, pm = px[::-1], pm[::-1]
            if rng.random() < 0.5:
                px, pm = px[:, ::-1], pm[:, ::-1]
            xs[b, 0] = px
            ms[b, 0] = pm
        return torch.from_numpy(xs).to(device), torch.from_numpy(ms).to(device)

    def masked_mse(pred, target, mask):
        return (((pred - target) ** 2) * mask).sum() / mask.sum().clamp(min=1.0)

    def validate():
        if not val_maps:
            # too few maps to hold one out: nothing measured (zeros would read as a perfect model)
            nan = float("nan")
            return {"loss": nan, "psnr": nan, "psnrMin": nan, "mse": nan, "codebookUsageY": nan, "codebookUsageZ": nan,
                    "reseededY": model.vq_y.reseeded, "reseededZ": model.vq_z.reseeded,
                    "reseeded": model.vq_y.reseeded + model.vq_z.reseeded, "maps": 0, "points": 0}
        model.eval()
        used_y = np.zeros(cfg["codesY"], dtype=bool)
        used_z = np.zeros(cfg["codesZ"], dtype=bool)
        se, cnt, loss_sum, psnrs = 0.0, 0, 0.0, []
        with torch.no_grad():
            for x, m in val_maps:
                xt = torch.from_numpy(x)[None, None].to(device)
                mt = torch.from_numpy(m.astype(np.float32))[None, None].to(device)
                xh, vq, iy, iz = model(xt)
                loss_sum += float(3.0 * masked_mse(xh, xt, mt) + vq)
                used_y[np.unique(iy.cpu().numpy())] = True
                used_z[np.unique(iz.cpu().numpy())] = True
                xhn = xh[0, 0].cpu().numpy()
                psnrs.append(psnr(x, xhn, m))
                se += float((((xhn - x)[m]).astype(np.float64) ** 2).sum())
                cnt += int(m.sum())
        model.train()
        finite = [p for p in psnrs if math.isfinite(p)]
        return {"loss": loss_sum / max(1, len(val_maps)), "psnr": float(np.mean(finite)) if finite else float("nan"),
                "psnrMin": float(np.min(finite)) if finite else float("nan"), "mse": se / max(1, cnt),
                "codebookUsageY": float(used_y.mean()), "codebookUsageZ": float(used_z.mean()),
                "reseededY": model.vq_y.reseeded, "reseededZ": model.vq_z.reseeded,
                "reseeded": model.vq_y.reseeded + model.vq_z.reseeded, "maps": len(val_maps), "points": cnt}

    os.makedirs(cfg["outDir"], exist_ok=True)
    model_path = os.path.join(cfg["outDir"], "model.fpvq")
    probe_path = os.path.join(os.path.dirname(model_path), "probe.json")
    state = {"epochs": 0, "steps": 0}
    metrics = {}
    epoch_seconds = []

    def finish(kind, reason=None):
        seconds = time.monotonic() - t_start
        info = {"datasets": meta.get("datasets") or set_names, "heldOut": meta.get("heldOut", []),
                "maps": total, "trainMaps": len(train_maps), "validationMaps": len(val_maps),
                # the codec's scaling=auto takes log scaling only with a model that learned log-scaled maps
                "scaling": cfg["scaling"], "logScaledSets": len(log_sets), "logOffsets": log_sets,
                "epochs": state["epochs"], "steps": state["steps"], "seconds": round(seconds, 1),
                "secondsPerEpoch": round(float(np.mean(epoch_seconds)), 2) if epoch_seconds else None,
                "device": device.type, "deviceName": dev_name, "threads": torch.get_num_threads(),
                "valPsnr": metrics.get("psnr"), "valMse": metrics.get("mse"),
                "codebookUsageY": metrics.get("codebookUsageY"), "codebookUsageZ": metrics.get("codebookUsageZ"),
                "trainer": f"fieldpack_trainer {TRAINER_VERSION}", "torch": torch.__version__,
                "hyper": {k: cfg[k] for k in ("batchSize", "learningRate", "weightDecay", "warmupFraction", "patchSize",
                                              "patchesPerEpoch", "validationFraction", "seed")},
                "stopped": kind == "stopped"}
        info = {k: (v if not (isinstance(v, float) and not math.isfinite(v)) else None) for k, v in info.items()}
        model.cpu().eval()
        digest, size = save_fpvq(model, model_path, info)
        write_probe(model, probe_path)
        arts = {"model": model_path, "probe": probe_path}
        common = dict(epochs=state["epochs"], steps=state["steps"], seconds=seconds, metrics=metrics, artifacts=arts,
                      contentHash=digest, bytes=size, parameters=n_weights)
        if kind == "finished":
            emit("finished", **common)
        else:
            emit("stopped", reason=reason, **common)

    model.train()
    gstep = 0
    for epoch in range(1, cfg["epochs"] + 1):
        t0 = time.monotonic()
        losses = []
        for step in range(1, steps_per_epoch + 1):
            lr = lr_at(gstep, total_steps, warmup, cfg["learningRate"])
            for g in opt.param_groups:
                g["lr"] = lr
            xb, mb = batch()
            opt.zero_grad(set_to_none=True)
            xh, vq, _, _ = model(xb)
            loss = 3.0 * masked_mse(xh, xb, mb) + vq
            loss.backward()
            opt.step()
            lv = float(loss.detach())
            losses.append(lv)
            gstep += 1
            state["steps"] = gstep
            if gstep % cfg["logEvery"] == 0 or step == steps_per_epoch:
                emit("step", epoch=epoch, step=step, stepsPerEpoch=steps_per_epoch, globalStep=gstep, loss=lv, lr=lr)
            if stop.check():
                finish("stopped", stop.reason)
                return 0
        metrics = end_epoch(epoch, cfg["epochs"], steps_per_epoch, losses, validate(), t0, state, epoch_seconds)
        if stop.check():
            finish("stopped", stop.reason)
            return 0
    finish("finished")
    return 0


def main(argv):
    return run_trainer(argv, "fieldpack_trainer.vqvae_train", "VQ-VAE trainer (JSON lines on stdout)", load_config, lambda cfg, stop: run(cfg, stop))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
