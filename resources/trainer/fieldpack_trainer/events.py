"""JSON-lines event protocol on stdout. One object per line, flushed at once.

Every event has `event` (its kind) and `t` (seconds since the trainer started). The app's parser
(src-main/services/training/events.ts) validates these shapes; change both together.
"""
import json
import math
import sys
import time

_T0 = time.monotonic()
_OUT = sys.stdout


def _clean(v):
    # JSON has no NaN/Infinity: send them as null (the app models "no value" explicitly).
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def emit(_event, **fields):
    obj = {"event": _event, "t": round(time.monotonic() - _T0, 4)}
    obj.update(_clean(fields))
    _OUT.write(json.dumps(obj, separators=(",", ":")) + "\n")
    _OUT.flush()


def elapsed():
    return time.monotonic() - _T0
