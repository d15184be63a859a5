#!/usr/bin/env python3
"""Builds the training data of Fieldpack's default VQ-VAE and trains it on the CPU.

    /usr/bin/python3 resources/models/make_default_vqvae.py            # data + 5-10 minutes of training, 2 threads
    /usr/bin/python3 resources/models/make_default_vqvae.py --data-only

Writes resources/models/vqvae-default.fpvq, vqvae-default.probe.json and vqvae-default.json (provenance). The
work folder (data, run.json, events.jsonl) is scratch/vqvae-default/ (git-ignored).

Training data (all 2D maps, each standardised on its own by the trainer):
  /usr/share/ferret-vis/data/coads_climatology.cdf   SST AIRT SPEH WSPD UWND VWND SLP, 12 months
  /usr/share/ferret-vis/data/levitus_climatology.cdf TEMP SALT, 20 depths
  /usr/share/ferret-vis/data/ocean_atlas_subset.nc   TEMP, 12 months x 19 depths
  test/fixtures/data/wrf_katrina.nc                   T QVAPOR U V W P PH at levels 0 3 6 9 12, 4 times; T2 PSFC Q2
  synthetic                                           200 smooth fields 128 x 128 (Gaussians + sinusoids), seed 7
Held out (never read here, so the default model can be evaluated on fields it has not seen):
  /usr/share/ferret-vis/data/etopo5.cdf (ROSE) and /usr/share/ferret-vis/data/monthly_navy_winds.cdf (UWND, VWND).
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FERRET = "/usr/share/ferret-vis/data"
WRF = os.path.join(REPO, "test", "fixtures", "data", "wrf_katrina.nc")
HELD_OUT = [f"{FERRET}/etopo5.cdf (ROSE)", f"{FERRET}/monthly_navy_winds.cdf (UWND, VWND)"]

SOURCES = [
    (f"{FERRET}/coads_climatology.cdf", ["SST", "AIRT", "SPEH", "WSPD", "UWND", "VWND", "SLP"], None),
    (f"{FERRET}/levitus_climatology.cdf", ["TEMP", "SALT"], None),
    (f"{FERRET}/ocean_atlas_subset.nc", ["TEMP"], None),
    (WRF, ["T", "QVAPOR", "U", "V", "W", "P", "PH"], [0, 3, 6, 9, 12]),
    (WRF, ["T2", "PSFC", "Q2"], None),
]

# 6 epochs x 313 steps: 5 to 10 minutes on 2 CPU cores (measured: vqvae-default.json, secondsPerEpoch)
TRAIN = {"channels": [8, 16, 32], "latentDim": 32, "codesY": 256, "codesZ": 128, "negativeSlope": 0.01,
         "epochs": 6, "batchSize": 32, "learningRate": 2e-3, "weightDecay": 1e-4, "warmupFraction": 0.15,
         "patchSize": 64, "patchesPerEpoch": 10000, "validationFraction": 0.1, "seed": 0, "device": "cpu",
         "threads": 2, "logEvery": 25,
         # the shipped model learned linear maps (the trainer's default is now auto: log for skewed, non-negative sets)
         "scaling": "linear"}


def read_var(path, name, levels):
    """-> list of (label, map float32 [H, W], mask bool [H, W]) or [] when the variable is not there."""
    import netCDF4
    with netCDF4.Dataset(path) as ds:
        if name not in ds.variables:
            print(f"  skip {os.path.basename(path)}:{name} (not in the file)", file=sys.stderr)
            return []
        v = ds.variables[name]
        v.set_auto_maskandscale(False)
        a = np.asarray(v[:])
        fills = [getattr(v, k) for k in ("_FillValue", "missing_value") if k in v.ncattrs()]
        scale = float(getattr(v, "scale_factor", 1.0))
        offset = float(getattr(v, "add_offset", 0.0))
        dims = v.dimensions
    if a.ndim < 2:
        return []
    m = np.isfinite(a.astype(np.float64))
    for fv in fills:
        fv = np.asarray(fv, dtype=a.dtype).ravel()
        for f in fv:
            m &= a != f
    a = a.astype(np.float64) * scale + offset
    m &= np.abs(a) < 1e30
    lead = a.shape[:-2]
    out = []
    for idx in np.ndindex(*lead) if lead else [()]:
        if levels is not None and len(idx) >= 2 and idx[1] not in levels:
            continue
        label = f"{name}[{','.join(str(i) for i in idx)}]" if idx else name
        out.append((label, a[idx].astype(np.float32), m[idx]))
    return out, dims


def synthetic(n, h, w, seed):
    g = np.random.default_rng(seed)
    yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    maps = np.empty((n, h, w), dtype=np.float32)
    for i in range(n):
        f = np.zeros((h, w))
        for _ in range(int(g.integers(2, 9))):  # Gaussians
            cy, cx = g.uniform(-0.1, 1.1, 2)
            sy, sx = g.uniform(0.03, 0.4, 2)
            f += g.normal() * np.exp(-((yy - cy) ** 2 / (2 * sy * sy) + (xx - cx) ** 2 / (2 * sx * sx)))
        for _ in range(int(g.integers(1, 5))):  # sinusoids
            ky, kx = g.uniform(-12, 12, 2)
            f += g.uniform(0.1, 1.0) * np.sin(2 * np.pi * (ky * yy + kx * xx) + g.uniform(0, 2 * np.pi))
        f += g.uniform(-1, 1) * xx + g.uniform(-1, 1) * yy  # trend
        if g.random() < 0.3:
            f += 0.02 * g.normal(size=(h, w))  # a little noise
        maps[i] = f * g.uniform(0.1, 100) + g.uniform(-50, 50)
    return maps


def build_data(data_dir):
    if os.path.isdir(data_dir):
        shutil.rmtree(data_dir)
    os.makedirs(data_dir)
    sets, datasets = [], []

    def add(name, maps, masks, source):
        fname = f"{len(sets):02d}-{name.replace('/', '_')}"
        maps = np.ascontiguousarray(maps, dtype="<f4")
        maps.tofile(os.path.join(data_dir, fname + ".f32"))
        mask_file = None
        if masks is not None and not masks.all():
            mask_file = fname + ".mask.u8"
            np.ascontiguousarray(masks, dtype=np.uint8).tofile(os.path.join(data_dir, mask_file))
        sets.append({"name": name, "file": fname + ".f32", "shape": list(maps.shape), "mask": mask_file})
        datasets.append({"name": name, "source": source, "maps": int(maps.shape[0]), "shape": list(maps.shape[1:]),
                         "validFraction": round(float(masks.mean()) if masks is not None else 1.0, 4)})

    for path, names, levels in SOURCES:
        if not os.path.exists(path):
            print(f"  skip {path} (missing)", file=sys.stderr)
            continue
        rel = os.path.relpath(path, REPO) if path.startswith(REPO) else path
        for name in names:
            got = read_var(path, name, levels)
            if not got:
                continue
            items, dims = got
            # group by 2D shape (staggered WRF variables differ by one)
            maps = np.stack([it[1] for it in items])
            masks = np.stack([it[2] for it in items])
            tag = os.path.splitext(os.path.basename(path))[0]
            add(f"{tag}/{name}" + ("" if levels is None else "@lev" + "-".join(str(k) for k in levels)), maps, masks, f"{rel} {name}{list(dims)}")
    syn = synthetic(200, 128, 128, seed=7)
    add("synthetic/smooth", syn, None, "synthetic: sums of random Gaussians, sinusoids and a trend, 128x128, seed 7")
    meta = {"version": 2, "kind": "maps", "sets": sets, "datasets": [d["name"] for d in datasets], "heldOut": HELD_OUT}
    with open(os.path.join(data_dir, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    return datasets


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(REPO, "scratch", "vqvae-default"))
    ap.add_argument("--data-only", action="store_true")
    ap.add_argument("--epochs", type=int, default=TRAIN["epochs"])
    ap.add_argument("--patches", type=int, default=TRAIN["patchesPerEpoch"])
    ap.add_argument("--out", default=HERE, help="where vqvae-default.* go")
    args = ap.parse_args()

    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    t0 = time.monotonic()
    datasets = build_data(os.path.join(work, "data"))
    n_maps = sum(d["maps"] for d in datasets)
    print(f"data: {len(datasets)} sets, {n_maps} maps ({time.monotonic() - t0:.1f} s) in {work}/data", file=sys.stderr)
    if args.data_only:
        return 0
    cfg = dict(TRAIN, epochs=args.epochs, patchesPerEpoch=args.patches, data="data", outputDir="out", stopFile="STOP")
    with open(os.path.join(work, "run.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=1)
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "resources", "trainer"))
    events_path = os.path.join(work, "events.jsonl")
    last = {}
    with open(events_path, "w", encoding="utf-8") as log:
        p = subprocess.Popen([sys.executable, "-m", "fieldpack_trainer.vqvae_train", "--config",
                              os.path.join(work, "run.json")], stdout=subprocess.PIPE, env=env, text=True)
        for line in p.stdout:
            log.write(line)
            log.flush()
            ev = json.loads(line)
            last[ev["event"]] = ev
            if ev["event"] in ("validation", "epoch", "data", "finished", "stopped", "error", "device"):
                print(line.rstrip()[:400], file=sys.stderr)
        rc = p.wait()
    end = last.get("finished") or last.get("stopped")
    if rc != 0 or end is None:
        print(f"trainer failed (exit {rc})", file=sys.stderr)
        return 1
    model_out = os.path.join(args.out, "vqvae-default.fpvq")
    probe_out = os.path.join(args.out, "vqvae-default.probe.json")
    shutil.copyfile(end["artifacts"]["model"], model_out)
    shutil.copyfile(end["artifacts"]["probe"], probe_out)
    digest = sha256(model_out)
    assert digest == end["contentHash"]
    sys.path.insert(0, os.path.join(REPO, "resources", "trainer"))
    from fieldpack_trainer.vqvae import read_fpvq
    desc, _ = read_fpvq(model_out)
    m = end["metrics"]
    info = {
        "model": "vqvae-default.fpvq", "format": "fieldpack-vqvae v1 (docs/vqvae.md)", "sha256": digest,
        "bytes": os.path.getsize(model_out), "weightCount": desc["weightCount"], "config": desc["config"],
        "training": {k: cfg[k] for k in TRAIN}, "epochs": end["epochs"], "steps": end["steps"],
        "seconds": round(end["seconds"], 1), "secondsPerEpoch": desc["training"].get("secondsPerEpoch"),
        "device": desc["training"].get("deviceName") or desc["training"].get("device"), "threads": cfg["threads"],
        "final": {"valPsnr": m.get("psnr"), "valPsnrMin": m.get("psnrMin"), "valMse": m.get("mse"),
                  "codebookUsageY": m.get("codebookUsageY"), "codebookUsageZ": m.get("codebookUsageZ"),
                  "reseeded": m.get("reseeded"), "validationMaps": m.get("maps")},
        "datasets": datasets, "maps": n_maps, "heldOut": HELD_OUT,
        "probe": "vqvae-default.probe.json",
        "retrain": "/usr/bin/python3 resources/models/make_default_vqvae.py",
        "torch": desc["training"].get("torch"),
    }
    with open(os.path.join(args.out, "vqvae-default.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print(json.dumps({k: info[k] for k in ("sha256", "bytes", "weightCount", "epochs", "seconds", "final")}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
