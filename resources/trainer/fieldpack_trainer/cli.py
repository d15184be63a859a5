import argparse
import os
import sys
import traceback

from .config import ConfigError, load_config
from .events import emit


def main(argv):
    ap = argparse.ArgumentParser(prog="fieldpack_trainer", description="Fieldpack trainer (JSON lines on stdout)")
    ap.add_argument("--config", required=True, help="run configuration (JSON)")
    ap.add_argument("--list-networks", action="store_true")
    args = ap.parse_args(argv)
    if os.environ.get("CUBLAS_WORKSPACE_CONFIG") is None:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"  # deterministic cuBLAS
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        emit("error", kind="config", message=str(e))
        return 2
    from .train import StopFlag, run  # imports torch
    stop = StopFlag(cfg["stopPath"])
    stop.install()
    try:
        return run(cfg, stop)
    except ConfigError as e:
        emit("error", kind="config", message=str(e))
        return 2
    except Exception as e:  # noqa: BLE001 - report everything to the app, then fail
        emit("error", kind="runtime", message=f"{type(e).__name__}: {e}", traceback=traceback.format_exc()[-4000:])
        return 1
