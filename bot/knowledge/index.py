"""The knowledge index: passages of curated documents in Chroma, ingested incrementally."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import register_embedding_function

from bot.knowledge import snapshot
from bot.knowledge.documents import KnowledgeDoc, check_knowledge_base
from bot.knowledge.embedcache import CACHE_NAME, EmbeddingCache
from bot.knowledge.embeddings import MODEL_ID, get_encoder
from bot.knowledge.passages import Passage, passages_of
from bot.knowledge.scope import paraphrase_texts, scope_texts
from bot.knowledge.taxonomy import load_taxonomy
from bot.knowledge.vocabulary import load_vocabulary
from bot.settings import Settings
from bot.text import join_themes

SCHEMA = 2  # passages by section (bot/knowledge/passages.py); older indexes are rebuilt
ADD_BATCH = 1000


class KnowledgeBaseInvalid(Exception):
    """Raised when documents fail `tandem kb check`; ingest refuses to index them."""


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    embedded: int = 0  # texts that went through the model (the rest came from the cache)
    seconds: float = 0.0


@register_embedding_function
class TandemMiniLM(EmbeddingFunction[Documents]):
    """Chroma embedding function backed by the offline MiniLM encoder. It lives here, with
    the rest of Chroma, so that code which only embeds never pays for importing Chroma."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's name
        return list(get_encoder().encode(list(input)))

    @staticmethod
    def name() -> str:
        return "tandem-minilm-int8"

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> TandemMiniLM:
        return TandemMiniLM()

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_ID}


def chroma_client(settings: Settings):
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    path = settings.resolved_chroma_path
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def get_collection(settings: Settings, client=None):
    client = client or chroma_client(settings)
    return client.get_or_create_collection(
        name=settings.chroma_collection,
        embedding_function=TandemMiniLM(),
        metadata={"hnsw:space": "cosine"},
    )


def load_documents(settings: Settings) -> list[KnowledgeDoc]:
    themes = {t.slug for t in load_taxonomy(settings.knowledge_dir / "taxonomy.yaml")}
    report = check_knowledge_base(settings.knowledge_dir, themes)
    if not report.ok:
        listing = "\n".join(str(p) for p in report.problems[:20])
        raise KnowledgeBaseInvalid(f"{len(report.problems)} problem(s):\n{listing}")
    return report.documents


def embedding_cache(settings: Settings) -> EmbeddingCache:
    return EmbeddingCache(settings.knowledge_dir / CACHE_NAME)


def ingest(
    settings: Settings,
    collection=None,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> IngestReport:
    """Bring the index in line with the documents: add, replace and delete by content hash.

    Every document is checked first; if any fails, nothing in the index is touched."""
    started = time.perf_counter()
    default_index = collection is None
    collection = collection or get_collection(settings)
    documents = load_documents(settings)
    snapshot.forget(settings)  # about to change the index: no start may read the old one
    stored = collection.get(include=["metadatas"])
    indexed: dict[str, str] = {}
    outdated = False
    for meta in stored["metadatas"] or []:
        indexed[meta["doc_id"]] = meta.get("content_hash", "")
        outdated = outdated or meta.get("schema") != SCHEMA
    if outdated and stored["ids"]:  # an index from an older Tandem: rebuild it whole
        collection.delete(ids=list(stored["ids"]))
        indexed = {}

    report = IngestReport()
    current = {doc.id for doc in documents}
    for doc_id in sorted(set(indexed) - current):
        collection.delete(where={"doc_id": doc_id})
        report.removed += 1

    cache = embedding_cache(settings)
    known = len(cache)
    passages_by_doc = {doc.id: passages_of(doc) for doc in documents}
    every_passage = [p for found in passages_by_doc.values() for p in found]
    vocabulary = load_vocabulary(settings.knowledge_dir / "vocabulary.yaml")
    examples = scope_texts(settings) + paraphrase_texts(
        vocabulary, [(p.kind, p.text) for p in every_passage]
    )
    changed = [doc for doc in documents if indexed.get(doc.id) != doc.content_hash]
    report.unchanged = len(documents) - len(changed)
    vectors_of = _encode_all(cache, [passages_by_doc[doc.id] for doc in changed], examples)
    pending = _PendingAdds(collection)
    for position, doc in enumerate(changed, start=1):
        if doc.id in indexed:
            collection.delete(where={"doc_id": doc.id})
            report.updated += 1
        else:
            report.added += 1
        for passage, vector in zip(passages_by_doc[doc.id], vectors_of[position - 1], strict=True):
            pending.add(passage.id, vector, passage.text, _metadata(doc, passage))
        if on_progress:
            on_progress(position, len(changed), doc.id)
    pending.flush()
    report.embedded = max(0, len(cache) - known)
    cache.keep_only([p.text for p in every_passage] + examples)
    cache.save()
    if default_index:
        snapshot.save(settings, collection.get(include=["documents", "metadatas", "embeddings"]))
    report.chunks = collection.count()
    report.seconds = time.perf_counter() - started
    return report


class _PendingAdds:
    """Passages written to Chroma ADD_BATCH at a time across documents: each add is a
    transaction and an index update, so many small ones cost far more than a few large."""

    def __init__(self, collection) -> None:
        self.collection = collection
        self._clear()

    def _clear(self) -> None:
        self.ids: list[str] = []
        self.vectors: list[list[float]] = []
        self.texts: list[str] = []
        self.metadatas: list[dict] = []

    def add(self, passage_id: str, vector: np.ndarray, text: str, metadata: dict) -> None:
        self.ids.append(passage_id)
        self.vectors.append(vector.tolist())
        self.texts.append(text)
        self.metadatas.append(metadata)
        if len(self.ids) >= ADD_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.ids:
            self.collection.add(
                ids=self.ids,
                embeddings=self.vectors,
                documents=self.texts,
                metadatas=self.metadatas,
            )
        self._clear()


def _encode_all(
    cache: EmbeddingCache, passages: list[list[Passage]], examples: list[str]
) -> list[np.ndarray]:
    """Each document's passage vectors, embedded in one pass with the scope gate's examples:
    the model then batches texts of similar length across documents (little padding, full
    batches) instead of a few short batches per document."""
    texts = [p.text for found in passages for p in found]
    vectors = cache.encode(texts + examples)  # the examples load with the index
    out, start = [], 0
    for found in passages:
        out.append(vectors[start : start + len(found)])
        start += len(found)
    return out


def _metadata(doc: KnowledgeDoc, passage: Passage) -> dict:
    return {
        "schema": SCHEMA,
        "doc_id": doc.id,
        "kind": passage.kind,
        "position": passage.position,
        "title": doc.title,
        "themes": join_themes(doc.themes),
        "section": passage.section,
        "summary": doc.summary,
        "insight": doc.insight,
        "question": doc.reflective_question,
        "content_hash": doc.content_hash,
        "path": Path(doc.path).name,
    }
