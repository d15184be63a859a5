"""Run configuration: the JSON file the app writes into the run folder.

Paths in it are relative to the folder that holds the config file. Unknown keys are an error, so a
typo never silently trains the wrong thing.
"""
import json
import os

DEFAULTS = {
    "version": 1,
    "network": "tiny-cnn",
    "networkParams": {},
    "data": "data",
    "inputs": None,
    "target": None,
    "epochs": 5,
    "batchSize": 8,
    "learningRate": 1e-3,
    "weightDecay": 0.0,
    "seed": 0,
    "patchSize": 64,
    "patchesPerSample": 8,
    "maxStepsPerEpoch": 0,
    "validationFraction": 0.25,
    "device": "auto",
    "threads": 0,
    "outputDir": "out",
    "stopFile": "STOP",
    "logEvery": 1,
    "opset": 13,
    "probe": True,
    "exportOnnx": True,
}


class ConfigError(ValueError):
    pass


def _req(cond, msg):
    if not cond:
        raise ConfigError(msg)


def read_config(path, defaults):
    """The JSON object at `path` over `defaults`; unknown keys are an error (a typo never trains the wrong thing)."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            raw = json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}")
    except json.JSONDecodeError as e:
        raise ConfigError(f"config is not valid JSON ({path}): {e}")
    _req(isinstance(raw, dict), "config must be a JSON object")
    unknown = sorted(set(raw) - set(defaults))
    _req(not unknown, f"unknown config keys: {', '.join(unknown)}")
    cfg = dict(defaults)
    cfg.update(raw)
    return cfg


def check_run_config(cfg, path):
    """The checks every trainer entry shares (optimiser numbers, device, folders), and the folders made absolute
    against the configuration file's folder: dataDir, outDir, stopPath."""
    _req(isinstance(cfg["learningRate"], (int, float)) and not isinstance(cfg["learningRate"], bool)
         and cfg["learningRate"] > 0, "learningRate must be a number > 0")
    _req(isinstance(cfg["weightDecay"], (int, float)) and cfg["weightDecay"] >= 0, "weightDecay must be >= 0")
    _req(isinstance(cfg["validationFraction"], (int, float)) and 0 <= cfg["validationFraction"] < 1,
         "validationFraction must be in [0, 1)")
    _req(cfg["device"] in ("auto", "cpu", "cuda"), "device must be auto, cpu or cuda")
    for k in ("data", "outputDir", "stopFile"):
        _req(isinstance(cfg[k], str) and cfg[k], f"{k} must be a non-empty string")
    base = os.path.dirname(os.path.abspath(path))
    cfg["dataDir"] = os.path.join(base, cfg["data"])
    cfg["outDir"] = os.path.join(base, cfg["outputDir"])
    cfg["stopPath"] = os.path.join(base, cfg["stopFile"])
    return cfg


def load_config(path):
    cfg = read_config(path, DEFAULTS)
    base = os.path.dirname(os.path.abspath(path))

    _req(cfg["version"] == 1, f"config version {cfg['version']} is not supported (this trainer reads version 1)")
    _req(isinstance(cfg["network"], str), "network must be a string")
    _req(isinstance(cfg["networkParams"], dict), "networkParams must be an object")
    _req(isinstance(cfg["inputs"], list) and len(cfg["inputs"]) > 0 and all(isinstance(s, str) for s in cfg["inputs"]),
         "inputs must be a non-empty list of variable names")
    _req(isinstance(cfg["target"], str) and cfg["target"], "target must be a variable name")
    for k in ("epochs", "batchSize", "patchSize", "patchesPerSample", "logEvery", "opset"):
        _req(isinstance(cfg[k], int) and not isinstance(cfg[k], bool) and cfg[k] >= 1, f"{k} must be an integer >= 1 (got {cfg[k]!r})")
    for k in ("maxStepsPerEpoch", "threads", "seed"):
        _req(isinstance(cfg[k], int) and not isinstance(cfg[k], bool) and cfg[k] >= 0, f"{k} must be an integer >= 0 (got {cfg[k]!r})")
    for k in ("learningRate",):
        _req(isinstance(cfg[k], (int, float)) and cfg[k] > 0, f"{k} must be a number > 0 (got {cfg[k]!r})")
    _req(isinstance(cfg["weightDecay"], (int, float)) and cfg["weightDecay"] >= 0, "weightDecay must be >= 0")
    _req(isinstance(cfg["validationFraction"], (int, float)) and 0 <= cfg["validationFraction"] < 1,
         "validationFraction must be in [0, 1)")
    _req(cfg["device"] in ("auto", "cpu", "cuda"), "device must be auto, cpu or cuda")
    _req(cfg["opset"] in (13, 17), "opset must be 13 or 17")

    cfg["dataDir"] = os.path.join(base, cfg["data"])
    cfg["outDir"] = os.path.join(base, cfg["outputDir"])
    cfg["stopPath"] = os.path.join(base, cfg["stopFile"])
    return cfg
