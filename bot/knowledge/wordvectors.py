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


class WordEncoder:
    """Loads the word vectors once; thread-safe for concurrent callers."""

    def __init__(self) -> None:
        spec = importlib.util.find_spec("wordllama")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("The package 'wordllama' is not installed; run `make setup`.")
        from wordllama import WordLlama

        # The wheel keeps its files in weights/ and tokenizers/, which is the layout it
        # expects of a cache directory; pointing it there finds them with no download.
        package = Path(list(spec.submodule_search_locations)[0])
        self._model = WordLlama.load(
            config=MODEL, dim=DIMENSIONS, cache_dir=package, disable_download=True
        )
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            vectors = self._model.embed([t or " " for t in texts], norm=True)
        return np.asarray(vectors, dtype=np.float32)


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
