"""A second reading of meaning: WordLlama's static word vectors, weights from PyPI.

MiniLM reads a question in context; WordLlama (MIT, `wordllama` on PyPI, its 256-dimension
"l2_supercat" weights and tokenizer inside the wheel) averages word vectors taken from a
large language model's token embeddings. The two make different mistakes, so retrieval adds
this one as two more signals over how leaders ask for each document (see retrieval.py).
Nothing is downloaded: the files are read from the installed package and downloads are
switched off.

Embedding the knowledge base's questions costs about half a second, so the vectors are kept
on disk beside the vector index under a hash of exactly what was embedded: the texts and how
they were read (the vocabulary), as the keyword indexes are. A saved file is only ever used
for identical input, so it cannot be stale.

Both models load on first use, or ahead of it in a thread (`LoadedOnce` in embeddings.py).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.knowledge.embedcache import write_atomically
from bot.knowledge.embeddings import LoadedOnce

log = logging.getLogger(__name__)
MODEL = "l2_supercat"
DIMENSIONS = 256


BATCH_SIZE = 64  # as WordLlama embeds: the padding of a batch is part of the arithmetic


class WordEncoder:
    """WordLlama's own inference (`WordLlamaInference.embed(texts, norm=True)`), over the
    weights and tokenizer the wheel ships, without importing the `wordllama` package: its
    import (an HTTP client for downloads, its configuration models) cost about 0.15 s of
    every start, more than reading the files. The steps are WordLlama's, batch by batch, so
    the vectors are exactly its own (tests/test_wordvectors.py compares them).
    Loads once; thread-safe for concurrent callers."""

    def __init__(self) -> None:
        spec = importlib.util.find_spec("wordllama")  # locates it without importing it
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("The package 'wordllama' is not installed; run `make setup`.")
        from safetensors import safe_open
        from tokenizers import Tokenizer

        package = Path(list(spec.submodule_search_locations)[0])
        weights = package / "weights" / f"{MODEL}_{DIMENSIONS}.safetensors"
        tokenizer = package / "tokenizers" / f"{MODEL}_tokenizer_config.json"
        for path in (weights, tokenizer):
            if not path.is_file():
                raise RuntimeError(f"WordLlama's file {path.name} is missing; run `make setup`.")
        with safe_open(str(weights), framework="np", device="cpu") as saved:
            embedding = saved.get_tensor("embedding.weight")
        self._embedding = np.ascontiguousarray(embedding.astype(np.float32))
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_padding()
        self._tokenizer.no_truncation()
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            return self._embed([t or " " for t in texts])

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(texts), BATCH_SIZE):
            chunk = texts[start : start + BATCH_SIZE]
            encoded = self._tokenizer.encode_batch(
                chunk, is_pretokenized=False, add_special_tokens=False
            )
            ids = np.array([e.ids for e in encoded], dtype=np.int32)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
            np.clip(ids, 0, self._embedding.shape[0] - 1, out=ids)
            tokens = self._embedding[ids]
            # Average over the tokens the mask keeps, then unit length.
            counts = np.maximum(mask.sum(axis=1, keepdims=True), 1.0).astype(np.float32)
            pooled = np.sum(tokens * mask[..., np.newaxis], axis=1, dtype=np.float32) / counts
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
            out[start : start + len(chunk)] = pooled
        return out


_word_encoder = LoadedOnce(WordEncoder, "wordllama")


def get_word_encoder() -> WordEncoder:
    """The process-wide word encoder (waits for a load already under way)."""
    return _word_encoder.get()


def load_word_encoder_in_background() -> None:
    _word_encoder.start()


def _key(texts: list[str], recipe: str) -> str:
    digest = hashlib.sha256(
        f"{importlib.metadata.version('wordllama')}\n{MODEL}\n{DIMENSIONS}\n{recipe}\n".encode()
    )
    for text in texts:
        digest.update(b"\x00" + text.encode())
    return digest.hexdigest()[:32]


def load_or_embed(
    directory: Path,
    texts: list[str],
    read: Callable[[str], str] | None = None,
    recipe: str = "",
) -> np.ndarray:
    """The texts' word vectors: saved ones when exactly these texts were embedded before,
    otherwise freshly embedded and saved for next time (when the directory is writable).

    `read`: how each text is read before it is embedded (e.g. the vocabulary's
    `normalise`), with `recipe` naming exactly what it does; the key is over the texts as
    given and the recipe, so a start need not read them all again to find saved vectors."""
    path = directory / f"{_key(texts, recipe)}.npy"
    if path.is_file():
        try:
            saved = np.load(path, allow_pickle=False)
            if saved.shape == (len(texts), DIMENSIONS):
                return saved
        except (OSError, ValueError) as error:  # unreadable: only slower, never wrong
            log.warning("saved word vectors unreadable (%s); embedding", type(error).__name__)
    vectors = get_word_encoder().encode([read(t) for t in texts] if read else texts)
    _save(directory, path, vectors)
    return vectors


def _save(directory: Path, path: Path, vectors: np.ndarray) -> None:
    """Write to a temporary file, then rename it into place; older files can never match
    again, so they go."""
    try:
        write_atomically(path, lambda out: np.save(out, vectors, allow_pickle=False))
        for other in directory.glob("*.npy"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError as error:  # a read-only install still works, just slower to start
        log.warning("could not save the word vectors (%s)", type(error).__name__)
