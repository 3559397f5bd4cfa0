"""The index as one file, so that a start need not open Chroma.

Importing chromadb and reading every passage, its metadata and its vector back out of the
embedded index cost about two seconds of every cold start (`tandem ask`, a new replica). The
embedded index has one writer, `ingest`, so ingest also writes what it stored here, and
removes the old file before it changes anything: an ingest that fails half-way leaves no
snapshot, and the next start reads Chroma again (and writes a fresh one). A Chroma server may
have other writers, so with `CHROMA_URL` set the snapshot is never used.

Metadata is stored once per document for the fields all its passages share (title, summary,
insight…) and per passage for the rest: the same dictionaries come back, and reading them
takes a fifth of the time of reading every passage's full copy.
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import numpy as np

from bot.knowledge.embedcache import write_atomically
from bot.settings import Settings

log = logging.getLogger(__name__)
FORMAT = 2  # bump when what is saved changes shape


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
            shared = text["shared"]
            return {
                "ids": text["ids"],
                "documents": text["documents"],
                "metadatas": [{**shared[group], **own} for group, own in text["metadatas"]],
                "embeddings": data["embeddings"],
            }
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        # unreadable (e.g. cut short by a full disk): only slower, never wrong
        log.warning("index snapshot unreadable (%s); reading the index", type(error).__name__)
        return None


def save(settings: Settings, stored: dict) -> None:
    """Write atomically (a reader never sees half a file); a read-only install still works."""
    if not usable(settings):
        return
    path = snapshot_path(settings)
    embeddings = stored.get("embeddings")
    matrix = np.asarray(embeddings if embeddings is not None else [], dtype=np.float32)
    shared, metadatas = _by_document(list(stored["metadatas"] or []))
    text = {
        "ids": list(stored["ids"]),
        "documents": list(stored["documents"] or []),
        "shared": shared,
        "metadatas": metadatas,
    }
    encoded = np.frombuffer(json.dumps(text).encode("utf-8"), dtype=np.uint8)
    try:
        write_atomically(
            path,
            lambda out: np.savez(out, format=np.array(FORMAT), text=encoded, embeddings=matrix),
        )
    except OSError as error:
        log.warning("could not save the index snapshot (%s)", type(error).__name__)


def _by_document(metadatas: list[dict]) -> tuple[list[dict], list[list]]:
    """Each document's shared fields (same key, type and value in all its passages) once,
    and per passage [the index of its document's shared fields, its own fields]."""
    rows: dict[object, list[int]] = {}
    for position, meta in enumerate(metadatas):
        rows.setdefault(meta.get("doc_id"), []).append(position)
    shared: list[dict] = []
    out: list[list] = [[]] * len(metadatas)
    for doc_id, positions in rows.items():
        first = metadatas[positions[0]]
        common = {
            key: value
            for key, value in first.items()
            if doc_id is not None
            and all(
                key in metadatas[p]
                and type(metadatas[p][key]) is type(value)
                and metadatas[p][key] == value
                for p in positions
            )
        }
        shared.append(common)
        for p in positions:
            own = {k: v for k, v in metadatas[p].items() if k not in common}
            out[p] = [len(shared) - 1, own]
    return shared, out


def forget(settings: Settings) -> None:
    snapshot_path(settings).unlink(missing_ok=True)
