"""The index snapshot gives back exactly what was stored (bot/knowledge/snapshot.py)."""

import numpy as np

from bot.knowledge import snapshot
from tests.conftest import make_settings


def test_a_snapshot_gives_back_every_passage_and_its_metadata_exactly(tmp_path):
    settings = make_settings(tmp_path)
    metadatas = [
        {"doc_id": "a", "title": "Trust", "kind": "card", "position": 0, "themes": "x,y"},
        {"doc_id": "a", "title": "Trust", "kind": "guidance", "position": 1, "themes": "x,y"},
        {"doc_id": "b", "title": "Pace", "kind": "card", "position": 0, "flag": True},
        {"doc_id": "b", "title": "Pace", "kind": "action", "position": 1, "flag": 1},  # not True
        {"doc_id": "a", "title": "Trust", "kind": "story", "position": 2},  # no themes
        {"title": "Loose", "position": 0},  # no document: nothing shared
        {"title": "Loose", "position": 1},
        {"doc_id": "c", "score": 0.5, "note": None},
    ]
    stored = {
        "ids": [f"p{i}" for i in range(len(metadatas))],
        "documents": [f"text {i} ✓" for i in range(len(metadatas))],
        "metadatas": metadatas,
        "embeddings": np.arange(len(metadatas) * 3, dtype=np.float32).reshape(-1, 3),
    }
    snapshot.save(settings, stored)
    loaded = snapshot.load(settings)
    assert loaded["ids"] == stored["ids"] and loaded["documents"] == stored["documents"]
    assert loaded["metadatas"] == metadatas
    for back, original in zip(loaded["metadatas"], metadatas, strict=True):
        assert {k: type(v) for k, v in back.items()} == {k: type(v) for k, v in original.items()}
    assert np.array_equal(loaded["embeddings"], stored["embeddings"])


def test_a_snapshot_of_the_old_shape_is_not_read(tmp_path):
    settings = make_settings(tmp_path)
    path = snapshot.snapshot_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = np.frombuffer(b'{"ids": [], "documents": [], "metadatas": []}', dtype=np.uint8)
    np.savez(path, format=np.array(1), text=text, embeddings=np.zeros((0, 3)))
    assert snapshot.load(settings) is None  # the start reads the index and writes a new one


def test_a_snapshot_cut_short_is_not_read(tmp_path):
    settings = make_settings(tmp_path)
    stored = {
        "ids": ["p0"],
        "documents": ["text"],
        "metadatas": [{"doc_id": "a", "position": 0}],
        "embeddings": np.ones((1, 3), dtype=np.float32),
    }
    snapshot.save(settings, stored)
    path = snapshot.snapshot_path(settings)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert snapshot.load(settings) is None  # the start reads the index instead of crashing
