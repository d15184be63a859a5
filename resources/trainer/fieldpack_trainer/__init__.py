"""Fieldpack trainer: trains the small predictor networks of Fieldpack's learned compressors.

Started by the app as a child process (`python3 -m fieldpack_trainer --config run.json` with
PYTHONPATH=resources/trainer), or by hand on a GPU machine. Speaks JSON lines on stdout.
"""

PROTOCOL_VERSION = 1
TRAINER_VERSION = "0.1.0"
