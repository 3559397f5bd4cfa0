"""The index as one file, so that a start need not open Chroma.

Importing chromadb and reading every passage, its metadata and its vector back out of the
embedded index cost about two seconds of every cold start (`tandem ask`, a new replica). The
embedded index has one writer, `ingest`, so ingest also writes what it stored here, and
removes the old file before it changes anything: an ingest that fails half-way leaves no
snapshot, and the next start reads Chroma again (and writes a fresh one). A Chroma server may
have other writers, so with `CHROMA_URL` set the snapshot is never used.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from bot.knowledge.embedcache import write_atomically
from bot.settings import Settings

log = logging.getLogger(__name__)
FORMAT = 1  # bump when what is saved changes shape


def snapshot_path(settings: Settings) -> Path:
    index = settings.resolved_chroma_path
    return index.with_name(f"{index.name}-snapshot.npz")


def usable(settings: Settings) -> bool:
    return not settings.chroma_url


def load(settings: Settings) -> dict | None:
    """What `collection.get(include=[documents, metadatas, embeddings])` returned when the
    index was last written, or None when there is no usable snapshot."""
    path = snapshot_path(settings)
    if not usable(settings) or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["format"]) != FORMAT:
                return None
            text = json.loads(data["text"].tobytes().decode("utf-8"))
            return {
                "ids": text["ids"],
                "documents": text["documents"],
                "metadatas": text["metadatas"],
                "embeddings": data["embeddings"],
            }
    except (OSError, ValueError, KeyError) as error:  # unreadable: only slower, never wrong
        log.warning("index snapshot unreadable (%s); reading the index", type(error).__name__)
        return None


def save(settings: Settings, stored: dict) -> None:
    """Write atomically (a reader never sees half a file); a read-only install still works."""
    if not usable(settings):
        return
    path = snapshot_path(settings)
    embeddings = stored.get("embeddings")
    matrix = np.asarray(embeddings if embeddings is not None else [], dtype=np.float32)
    text = {
        "ids": list(stored["ids"]),
        "documents": list(stored["documents"] or []),
        "metadatas": list(stored["metadatas"] or []),
    }
    encoded = np.frombuffer(json.dumps(text).encode("utf-8"), dtype=np.uint8)
    try:
        write_atomically(
            path,
            lambda out: np.savez(out, format=np.array(FORMAT), text=encoded, embeddings=matrix),
        )
    except OSError as error:
        log.warning("could not save the index snapshot (%s)", type(error).__name__)


def forget(settings: Settings) -> None:
    snapshot_path(settings).unlink(missing_ok=True)
