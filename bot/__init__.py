"""Tandem: a Slack bot for collaborative leadership reflection."""

import os

# onnxruntime and Chroma would otherwise try to phone home; set before either is imported.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

__version__ = "0.1.0"
