"""The knowledge index: chunks of curated documents in Chroma, ingested incrementally."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from bot.knowledge.documents import KnowledgeDoc, check_knowledge_base
from bot.knowledge.embeddings import TandemMiniLM, get_encoder
from bot.knowledge.taxonomy import load_taxonomy
from bot.settings import Settings

CHUNK_SIZE = 900
CHUNK_OVERLAP = 120


class KnowledgeBaseInvalid(Exception):
    """Raised when documents fail `tandem kb check`; ingest refuses to index them."""


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    section: str
    text: str

    def embedding_text(self, title: str) -> str:
        # Title and section give short passages the context a reader would have.
        return f"{title}. {self.section}. {self.text}" if self.section else f"{title}. {self.text}"


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    seconds: float = 0.0


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


def chunk_document(doc: KnowledgeDoc) -> list[Chunk]:
    """Split on headings first, then by size, so chunks keep their section."""
    header_splitter = MarkdownHeaderTextSplitter(
        headers_to_split_on=[("#", "title"), ("##", "section")], strip_headers=True
    )
    size_splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP
    )
    chunks: list[Chunk] = []
    for part in header_splitter.split_text(doc.body):
        section = part.metadata.get("section", "")
        for piece in size_splitter.split_text(part.page_content):
            if len(piece.split()) < 5:
                continue
            chunks.append(Chunk(f"{doc.id}#{len(chunks)}", doc.id, section, piece.strip()))
    return chunks


def load_documents(settings: Settings) -> list[KnowledgeDoc]:
    themes = {t.slug for t in load_taxonomy(settings.knowledge_dir / "taxonomy.yaml")}
    report = check_knowledge_base(settings.knowledge_dir, themes)
    if not report.ok:
        listing = "\n".join(str(p) for p in report.problems[:20])
        raise KnowledgeBaseInvalid(f"{len(report.problems)} problem(s):\n{listing}")
    return report.documents


def ingest(
    settings: Settings,
    collection=None,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> IngestReport:
    """Bring the index in line with the documents: add, replace and delete by content hash."""
    started = time.perf_counter()
    collection = collection or get_collection(settings)
    documents = load_documents(settings)
    stored = collection.get(include=["metadatas"])
    indexed: dict[str, str] = {}
    for meta in stored["metadatas"] or []:
        indexed[meta["doc_id"]] = meta["content_hash"]

    report = IngestReport()
    current = {doc.id for doc in documents}
    for doc_id in sorted(set(indexed) - current):
        collection.delete(where={"doc_id": doc_id})
        report.removed += 1

    changed = [doc for doc in documents if indexed.get(doc.id) != doc.content_hash]
    report.unchanged = len(documents) - len(changed)
    for position, doc in enumerate(changed, start=1):
        if doc.id in indexed:
            collection.delete(where={"doc_id": doc.id})
            report.updated += 1
        else:
            report.added += 1
        chunks = chunk_document(doc)
        vectors = get_encoder().encode([c.embedding_text(doc.title) for c in chunks])
        collection.add(
            ids=[c.id for c in chunks],
            embeddings=[list(map(float, v)) for v in vectors],
            documents=[c.text for c in chunks],
            metadatas=[_metadata(doc, c) for c in chunks],
        )
        if on_progress:
            on_progress(position, len(changed), doc.id)
    report.chunks = collection.count()
    report.seconds = time.perf_counter() - started
    return report


def _metadata(doc: KnowledgeDoc, chunk: Chunk) -> dict:
    return {
        "doc_id": doc.id,
        "title": doc.title,
        "themes": ",".join(doc.themes),
        "section": chunk.section,
        "summary": doc.summary,
        "question": doc.reflective_question,
        "content_hash": doc.content_hash,
        "path": Path(doc.path).name,
    }
