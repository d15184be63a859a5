import argparse
import os
import sys
import traceback

from .config import ConfigError, load_config
from .events import emit


def run_trainer(argv, prog, description, load, train):
    """Parses --config, loads it with `load`, runs `train(cfg, stop)` with a STOP-file/signal flag; every failure
    becomes an `error` event (exit 2 for a bad configuration, 1 otherwise)."""
    ap = argparse.ArgumentParser(prog=prog, description=description)
    ap.add_argument("--config", required=True, help="run configuration (JSON)")
    ap.add_argument("--list-networks", action="store_true")
    args = ap.parse_args(argv)
    if os.environ.get("CUBLAS_WORKSPACE_CONFIG") is None:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"  # deterministic cuBLAS
    try:
        cfg = load(args.config)
    except ConfigError as e:
        emit("error", kind="config", message=str(e))
        return 2
    from .train import StopFlag  # imports torch
    stop = StopFlag(cfg["stopPath"])
    stop.install()
    try:
        return train(cfg, stop)
    except ConfigError as e:
        emit("error", kind="config", message=str(e))
        return 2
    except Exception as e:  # noqa: BLE001 - report everything to the app, then fail
        emit("error", kind="runtime", message=f"{type(e).__name__}: {e}", traceback=traceback.format_exc()[-4000:])
        return 1


def main(argv):
    def train(cfg, stop):
        from .train import run  # imports torch
        return run(cfg, stop)
    return run_trainer(argv, "fieldpack_trainer", "Fieldpack trainer (JSON lines on stdout)", load_config, train)
