"""Artifacts of a trained network.

  nn.json      layer description ("fieldpack-nn" v1): what the TypeScript reference runs
  weights.bin  every parameter as little-endian float32, concatenated in nn.json's order
  model.onnx   the same network for onnxruntime (dynamic batch and spatial axes)
  probe.json + probe_input.f32 + probe_output.f32
               a fixed input and PyTorch's float32 CPU output, to check other paths against
  manifest.json  network, input/output contract, training parameters, metrics, hashes, sizes
"""
import datetime
import hashlib
import json
import os

import numpy as np
import torch
from torch import nn

from . import TRAINER_VERSION
from .networks import Affine, receptive_radius


def _f32(t):
    return t.detach().cpu().contiguous().numpy().astype("<f4", copy=False).ravel()


def layer_spec(model, ndim, in_channels, out_channels):
    layers = []
    blobs = []
    offset = 0

    def add(arr):
        nonlocal offset
        start = offset
        blobs.append(arr)
        offset += arr.size
        return start

    for m in model:
        if isinstance(m, Affine):
            c = m.scale.shape[1]
            layers.append({"op": "affine", "channels": int(c), "scale": add(_f32(m.scale)), "shift": add(_f32(m.shift))})
        elif isinstance(m, (nn.Conv2d, nn.Conv3d)):
            k = [int(v) for v in m.kernel_size]
            if any(s != 1 for s in m.stride) or any(d != 1 for d in m.dilation) or m.groups != 1:
                raise ValueError("only stride 1, dilation 1, groups 1 convolutions are supported")
            if any(int(p) != kk // 2 for p, kk in zip(m.padding, k)):
                raise ValueError("only 'same' zero padding is supported")
            layers.append({
                "op": "conv", "inChannels": int(m.in_channels), "outChannels": int(m.out_channels), "kernel": k,
                "weight": add(_f32(m.weight)), "bias": add(_f32(m.bias)) if m.bias is not None else None,
            })
        elif isinstance(m, nn.ReLU):
            layers.append({"op": "relu"})
        elif isinstance(m, nn.LeakyReLU):
            layers.append({"op": "leaky_relu", "negativeSlope": float(np.float32(m.negative_slope))})
        elif isinstance(m, nn.Tanh):
            layers.append({"op": "tanh"})
        else:
            raise ValueError(f"layer {type(m).__name__} has no reference implementation")
    spec = {
        "format": "fieldpack-nn", "version": 1, "ndim": ndim, "dtype": "float32", "layout": "NC" + "DHW"[3 - ndim:],
        "inChannels": in_channels, "outChannels": out_channels, "receptiveRadius": receptive_radius(model),
        "weightCount": offset, "layers": layers,
    }
    weights = np.concatenate(blobs).astype("<f4") if blobs else np.zeros(0, "<f4")
    return spec, weights


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def content_hash(spec_bytes, weight_bytes):
    """The model's identity for streams: what a decoder needs (layer description + weights)."""
    h = hashlib.sha256()
    h.update(b"fieldpack-nn\n")
    h.update(hashlib.sha256(spec_bytes).digest())
    h.update(hashlib.sha256(weight_bytes).digest())
    return h.hexdigest()


def export_all(model, out_dir, ndim, in_feats, out_feats, net_name, net_version, net_params, cfg, dataset_info, metrics,
               state, probe_input=None, input_fill=None):
    os.makedirs(out_dir, exist_ok=True)
    model = model.cpu().eval()
    spec, weights = layer_spec(model, ndim, len(in_feats), len(out_feats))
    spec_bytes = (json.dumps(spec, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
    weight_bytes = weights.tobytes()
    paths = {"spec": os.path.join(out_dir, "nn.json"), "weights": os.path.join(out_dir, "weights.bin")}
    with open(paths["spec"], "wb") as f:
        f.write(spec_bytes)
    with open(paths["weights"], "wb") as f:
        f.write(weight_bytes)

    if cfg["exportOnnx"]:
        paths["onnx"] = os.path.join(out_dir, "model.onnx")
        cin = len(in_feats)
        dummy = torch.zeros((1, cin) + (8,) * ndim, dtype=torch.float32)
        axes = {0: "n"}
        for i in range(ndim):
            axes[2 + i] = f"s{i}"
        torch.onnx.export(model, dummy, paths["onnx"], input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": axes, "output": dict(axes)}, opset_version=cfg["opset"],
                          do_constant_folding=True)
        try:
            import onnx  # optional: validates the graph when present
            onnx.checker.check_model(onnx.load(paths["onnx"]))
        except ImportError:
            pass

    if cfg["probe"] and probe_input is not None:
        with torch.no_grad():
            out = model(torch.from_numpy(probe_input))
        paths["probeInput"] = os.path.join(out_dir, "probe_input.f32")
        paths["probeOutput"] = os.path.join(out_dir, "probe_output.f32")
        paths["probe"] = os.path.join(out_dir, "probe.json")
        probe_input.astype("<f4").tofile(paths["probeInput"])
        out.numpy().astype("<f4").tofile(paths["probeOutput"])
        with open(paths["probe"], "w", encoding="utf-8") as f:
            json.dump({"inputShape": list(probe_input.shape), "outputShape": list(out.shape),
                       "input": "probe_input.f32", "output": "probe_output.f32", "computedBy": "pytorch-cpu-float32"}, f)

    files = {}
    for k in ("onnx", "weights", "spec", "probe", "probeInput", "probeOutput"):
        if k in paths:
            files[k] = {"path": os.path.basename(paths[k]), "sha256": sha256_file(paths[k]), "size": os.path.getsize(paths[k])}
    manifest = {
        "format": "fieldpack-model", "formatVersion": 1,
        "contentHash": content_hash(spec_bytes, weight_bytes),
        "network": {"type": net_name, "version": net_version, "params": net_params,
                    "parameterCount": int(sum(p.numel() for p in model.parameters()))},
        "contract": {
            "ndim": ndim, "dtype": "float32", "layout": spec["layout"],
            "inputs": in_feats, "outputs": out_feats,
            "inChannels": len(in_feats), "outChannels": len(out_feats),
            "receptiveRadius": spec["receptiveRadius"],
            "invalidInput": "channel-mean",
            "inputFill": [float(np.float32(v)) for v in (input_fill or [])],
            "onnx": {"input": "input", "output": "output", "opset": cfg["opset"]} if "onnx" in paths else None,
        },
        "training": {
            "trainerVersion": TRAINER_VERSION,
            "config": {k: cfg[k] for k in ("network", "networkParams", "inputs", "target", "epochs", "batchSize", "learningRate",
                                           "weightDecay", "seed", "patchSize", "patchesPerSample", "maxStepsPerEpoch",
                                           "validationFraction")},
            "data": dataset_info,
            "device": state.get("device"),
            "epochsCompleted": state.get("epochsCompleted"),
            "steps": state.get("steps"),
            "stopped": state.get("stopped", False),
            "seconds": state.get("seconds"),
        },
        "metrics": metrics,
        "files": files,
        "size": int(sum(v["size"] for k, v in files.items() if k in ("onnx", "weights", "spec"))),
        "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    paths["manifest"] = os.path.join(out_dir, "manifest.json")
    with open(paths["manifest"], "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, allow_nan=False)
    return paths, manifest
