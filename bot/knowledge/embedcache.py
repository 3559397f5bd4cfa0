"""Precomputed embeddings, shipped with the knowledge base and keyed by content.

A fresh clone indexes the shipped documents in seconds because their vectors are already
here (`knowledge/embeddings.npz`); only text that changed is embedded again. Each vector is
keyed by a hash of the model and the exact text it encodes, so a stale vector can never be
used for new text, and a different model never reads this model's vectors.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from bot.knowledge.embeddings import DIMENSIONS, MODEL_SHA256, get_encoder

log = logging.getLogger(__name__)
CACHE_NAME = "embeddings.npz"


def text_key(text: str) -> str:
    return hashlib.sha256(f"{MODEL_SHA256[:16]}\n{text}".encode()).hexdigest()[:24]


def write_atomically(path: Path, write: Callable[[BinaryIO], None], mode: int | None = None):
    """Write `path` through a temporary file beside it, renamed into place, so a reader never
    sees half a file. Raises OSError: each caller says what failing to save means."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        if mode is not None:
            os.chmod(staging, mode)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def cache_file_digest(path: Path) -> str:
    """A hash of the cache file's bytes ("" when there is none), for keys of anything
    saved from the vectors in it."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


class EmbeddingCache:
    """Text -> unit vector, from a file when known, from the model otherwise."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        self.embedded = 0  # texts this object had to run through the model
        self._lock = threading.Lock()
        if path is not None and path.exists():
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, matrix = data["keys"], data["vectors"]
                if matrix.shape[1:] == (DIMENSIONS,):
                    rows = matrix.astype(np.float32)  # one conversion, not one per vector
                    self._vectors = dict(zip(keys.tolist(), rows, strict=True))
            except (OSError, ValueError, KeyError) as error:  # a damaged cache is only slower
                log.warning("embedding cache unreadable (%s); recomputing", type(error).__name__)

    def __len__(self) -> int:
        return len(self._vectors)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Vectors for the texts, in order; only unseen texts go through the model."""
        keys = [text_key(t) for t in texts]
        with self._lock:
            missing = sorted({i for i, k in enumerate(keys) if k not in self._vectors})
        if missing:
            fresh = get_encoder().encode([texts[i] for i in missing])
            with self._lock:
                self.embedded += len(missing)
                for i, vector in zip(missing, fresh, strict=True):
                    self._vectors[keys[i]] = vector.astype(np.float32)
                self._dirty = True
        with self._lock:
            if not texts:
                return np.zeros((0, DIMENSIONS), dtype=np.float32)
            return np.stack([self._vectors[k] for k in keys])

    def keep_only(self, texts: list[str]) -> None:
        """Forget vectors for text that no longer exists, so the shipped file stays small."""
        wanted = {text_key(t) for t in texts}
        with self._lock:
            if set(self._vectors) - wanted:
                self._vectors = {k: v for k, v in self._vectors.items() if k in wanted}
                self._dirty = True

    def save(self) -> bool:
        """Write the file atomically when anything changed; False when it could not be."""
        if self.path is None or not self._dirty:
            return False
        with self._lock:
            keys = np.array(sorted(self._vectors))
            matrix = np.stack([self._vectors[k] for k in keys]).astype(np.float16)
        try:
            write_atomically(
                self.path,
                lambda out: np.savez(out, keys=keys, vectors=matrix),
                mode=0o644,  # shipped with the code, like the documents
            )
        except OSError as error:  # a read-only install still works, just slower next time
            log.warning("could not save the embedding cache (%s)", type(error).__name__)
            return False
        self._dirty = False
        return True
