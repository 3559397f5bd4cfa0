"""Keyword (BM25) indexes kept on disk between starts, keyed by exactly what they index.

Building the two BM25 indexes over the knowledge base costs about 0.2 s on every start, so
the first answer from `tandem ask` or a fresh replica waits for it. They are saved beside the
vector index under a hash of everything they are built from (each passage's document, kind
and text, the vocabulary, how text is tokenised and the bm25s version): a saved index is
only ever used for identical input, so it cannot be stale, and any change simply builds and
saves a new one. The hash is over the raw passages, not the texts fed to BM25, because
preparing those costs as much as building the index.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import bm25s

log = logging.getLogger(__name__)
FORMAT = 1  # bump when what is saved changes shape


def content_key(parts: Iterable[str], recipe: str) -> str:
    digest = hashlib.sha256(f"{FORMAT}\n{bm25s.__version__}\n{recipe}\n".encode())
    for part in parts:
        digest.update(b"\x00" + part.encode())
    return digest.hexdigest()[:32]


def load_or_build(
    directory: Path,
    key: str,
    names: Iterable[str],
    documents: int,
    build: Callable[[], dict[str, bm25s.BM25]],
) -> dict[str, bm25s.BM25]:
    """The indexes (by name, each over `documents` documents) saved under this key when
    there are any, otherwise `build()`'s, saved for next time when the directory is
    writable."""
    loaded = _load(directory / key, set(names), documents)
    if loaded is not None:
        return loaded
    indexes = build()
    _save(directory, key, indexes)
    return indexes


def _load(saved: Path, names: set[str], documents: int) -> dict[str, bm25s.BM25] | None:
    if not saved.is_dir():
        return None
    try:
        indexes = {path.name: bm25s.BM25.load(str(path)) for path in sorted(saved.iterdir())}
    except (OSError, ValueError, KeyError) as error:  # unreadable: only slower, never wrong
        log.warning("saved keyword index unreadable (%s); rebuilding", type(error).__name__)
        return None
    if set(indexes) != names or any(i.scores["num_docs"] != documents for i in indexes.values()):
        return None
    return indexes


def _save(directory: Path, key: str, indexes: dict[str, bm25s.BM25]) -> None:
    """Write into a temporary directory, then rename it into place, so a reader never sees
    half an index; older keys are removed (they can never match again)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=directory, prefix=".saving-"))
        staging.chmod(0o755)
        for name, index in indexes.items():
            index.save(str(staging / name), show_progress=False)
        try:
            staging.rename(directory / key)
        except OSError:  # another process saved the same key first
            shutil.rmtree(staging, ignore_errors=True)
        for other in directory.iterdir():
            if other.name != key and not other.name.startswith(".saving-"):
                shutil.rmtree(other, ignore_errors=True)
    except OSError as error:  # a read-only install still works, just slower to start
        log.warning("could not save the keyword index (%s)", type(error).__name__)
