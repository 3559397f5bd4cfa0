"""Tandem: a Slack bot for collaborative leadership reflection."""

import os

# onnxruntime and Chroma would otherwise try to phone home; set before either is imported.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# A search multiplies one small matrix; BLAS threads that spin afterwards fight the
# embedding model's own threads and doubled the search time (docs/benchmarks.md). Set
# before numpy is first imported; an operator may still override it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
