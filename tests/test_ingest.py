import numpy as np
import pytest

from bot.knowledge.embeddings import get_encoder
from bot.knowledge.index import KnowledgeBaseInvalid, get_collection, ingest

# Slow tier: each test ingests into a fresh index with the embedding model.
pytestmark = pytest.mark.slow


def _doc_ids(settings) -> set[str]:
    stored = get_collection(settings).get(include=["metadatas"])
    return {m["doc_id"] for m in stored["metadatas"]}


def test_ingest_is_incremental_by_content_hash(small_kb):
    first = ingest(small_kb)
    assert (first.added, first.updated, first.removed) == (3, 0, 0)
    assert first.chunks > 3

    again = ingest(small_kb)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 3)
    assert again.chunks == first.chunks


def test_a_changed_document_is_replaced_and_a_removed_one_deleted(small_kb):
    ingest(small_kb)
    docs = sorted((small_kb.knowledge_dir / "docs").glob("*.md"))
    changed, removed = docs[0], docs[1]
    changed.write_text(
        changed.read_text("utf-8").replace(
            "## Common pitfalls", "## Common pitfalls\n\nA freshly written zebracanary line.", 1
        ),
        "utf-8",
    )
    removed.unlink()

    report = ingest(small_kb)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, 1)
    assert removed.stem not in _doc_ids(small_kb)
    texts = get_collection(small_kb).get(where={"doc_id": changed.stem})["documents"]
    assert any("zebracanary" in t for t in texts)
    assert sum("zebracanary" in t for t in texts) >= 1


def test_an_invalid_base_is_not_indexed(small_kb):
    doc = sorted((small_kb.knowledge_dir / "docs").glob("*.md"))[0]
    doc.write_text(doc.read_text("utf-8").replace("themes: [", "themes: [bogus, ", 1), "utf-8")
    try:
        ingest(small_kb)
    except KnowledgeBaseInvalid as problem:
        assert "unknown theme 'bogus'" in str(problem)
    else:
        raise AssertionError("ingest accepted an invalid document")
    assert get_collection(small_kb).count() == 0


def test_the_index_reopens_with_our_embedding_function(small_kb):
    ingest(small_kb)
    from bot.knowledge.index import chroma_client

    client = chroma_client(small_kb)
    collection = client.get_collection(small_kb.chroma_collection)
    found = collection.query(query_texts=["trust between partners"], n_results=1)
    assert found["ids"][0]


def test_a_malformed_document_leaves_the_live_index_untouched(small_kb):
    ingest(small_kb)
    before = get_collection(small_kb).get(include=["metadatas"])
    doc = sorted((small_kb.knowledge_dir / "docs").glob("*.md"))[0]
    doc.write_text(doc.read_text("utf-8").replace("## Common pitfalls", "## Gossip", 1), "utf-8")
    try:
        ingest(small_kb)
    except KnowledgeBaseInvalid as problem:
        assert f"{doc.name}:" in str(problem) and "unknown section '## Gossip'" in str(problem)
    else:
        raise AssertionError("ingest accepted a malformed document")
    after = get_collection(small_kb).get(include=["metadatas"])
    assert sorted(after["ids"]) == sorted(before["ids"])


def test_passages_are_indexed_by_section_with_their_kind(small_kb):
    ingest(small_kb)
    metas = get_collection(small_kb).get(include=["metadatas"])["metadatas"]
    kinds = {m["kind"] for m in metas}
    assert {"card", "question", "action", "pitfall", "story", "reflect"} <= kinds


def test_every_passage_is_stored_with_its_own_vector_when_embedded_in_one_pass(small_kb):
    ingest(small_kb)  # three documents, none with a precomputed vector
    stored = get_collection(small_kb).get(include=["documents", "embeddings"])
    texts, vectors = stored["documents"], np.asarray(stored["embeddings"])
    assert len(texts) > 30
    expected = np.stack([get_encoder().encode([text])[0] for text in texts])
    assert (np.sum(expected * vectors, axis=1) > 0.999).all()
