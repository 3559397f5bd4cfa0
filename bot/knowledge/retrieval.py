"""Hybrid retrieval: BM25 and dense results fused by reciprocal rank, grouped by document.

The abstain rule is deliberately simple and calibrated on data (bench/eval, dev split):
a question is grounded only when its best passage is semantically close enough.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import bm25s
import numpy as np
import Stemmer

from bot.knowledge.embeddings import get_encoder
from bot.knowledge.index import get_collection
from bot.metrics import RETRIEVAL_SECONDS
from bot.settings import Settings

logging.getLogger("bm25s").setLevel(logging.WARNING)

Mode = Literal["hybrid", "bm25", "dense"]
RRF_K = 60
CANDIDATES = 40


@dataclass
class SearchResult:
    doc_id: str
    title: str
    themes: list[str]
    score: float
    text: str
    section: str
    similarity: float
    summary: str
    question: str

    def as_json(self) -> dict:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "themes": self.themes,
            "score": round(self.score, 4),
            "text": self.text,
        }


@dataclass
class SearchOutcome:
    query: str
    results: list[SearchResult]
    grounded: bool
    best_similarity: float
    timings: dict[str, float] = field(default_factory=dict)


class Retriever:
    """Holds the BM25 index in memory and queries Chroma for dense neighbours."""

    def __init__(self, settings: Settings, collection=None) -> None:
        self.settings = settings
        self.collection = collection or get_collection(settings)
        self._stemmer = Stemmer.Stemmer("english")
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """Rebuild the keyword index from what Chroma holds (one source of truth)."""
        stored = self.collection.get(include=["documents", "metadatas"])
        self.ids: list[str] = list(stored["ids"])
        self.texts: list[str] = list(stored["documents"] or [])
        self.metas: list[dict] = list(stored["metadatas"] or [])
        self._position = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        self._bm25 = None
        if self.ids:
            corpus = [
                f"{m['title']} {m.get('section', '')} {t}"
                for m, t in zip(self.metas, self.texts, strict=True)
            ]
            tokens = self._tokenize(corpus)
            self._bm25 = bm25s.BM25()
            self._bm25.index(tokens, show_progress=False)

    @property
    def empty(self) -> bool:
        return not self.ids

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        return bm25s.tokenize(
            texts, stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )

    def _keyword_ranking(self, query: str) -> list[tuple[int, float]]:
        tokens = self._tokenize([query])[0]
        if not tokens or self._bm25 is None:
            return []
        with self._lock:
            scores = self._bm25.get_scores(tokens)
        order = np.argsort(-scores)[:CANDIDATES]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def _dense_ranking(self, query_vector: np.ndarray) -> list[tuple[int, float]]:
        found = self.collection.query(
            query_embeddings=[list(map(float, query_vector))],
            n_results=min(CANDIDATES, len(self.ids)),
            include=["distances"],
        )
        ranking = []
        for chunk_id, distance in zip(found["ids"][0], found["distances"][0], strict=True):
            if chunk_id in self._position:
                ranking.append((self._position[chunk_id], 1.0 - float(distance)))
        return ranking

    def search(self, query: str, k: int | None = None, mode: Mode = "hybrid") -> SearchOutcome:
        k = k or self.settings.retrieval_k
        if self.empty or not query.strip():
            return SearchOutcome(query, [], False, 0.0)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        vector = get_encoder().encode([query])[0]
        timings["embed"] = time.perf_counter() - started

        similarity: dict[int, float] = {}
        rankings: list[list[tuple[int, float]]] = []
        if mode in ("hybrid", "dense"):
            mark = time.perf_counter()
            dense = self._dense_ranking(vector)
            timings["dense"] = time.perf_counter() - mark
            similarity = {i: s for i, s in dense}
            rankings.append(dense)
        if mode in ("hybrid", "bm25"):
            mark = time.perf_counter()
            rankings.append(self._keyword_ranking(query))
            timings["bm25"] = time.perf_counter() - mark

        fused: dict[int, float] = {}
        for ranking in rankings:
            for rank, (index, _score) in enumerate(ranking):
                fused[index] = fused.get(index, 0.0) + 1.0 / (RRF_K + rank + 1)

        # Chunks outside the dense candidates still need a similarity for the abstain rule.
        missing = [i for i in fused if i not in similarity]
        if missing:
            stored = self.collection.get(ids=[self.ids[i] for i in missing], include=["embeddings"])
            for chunk_id, emb in zip(stored["ids"], stored["embeddings"], strict=True):
                similarity[self._position[chunk_id]] = float(np.dot(vector, np.asarray(emb)))

        best_per_doc: dict[str, int] = {}
        doc_score: dict[str, float] = {}
        for index, score in sorted(fused.items(), key=lambda item: -item[1]):
            doc_id = self.metas[index]["doc_id"]
            if doc_id not in best_per_doc:
                best_per_doc[doc_id] = index
                doc_score[doc_id] = score
        ranked = sorted(doc_score, key=lambda d: -doc_score[d])[:k]

        results = []
        for doc_id in ranked:
            index = best_per_doc[doc_id]
            meta = self.metas[index]
            results.append(
                SearchResult(
                    doc_id=doc_id,
                    title=meta["title"],
                    themes=[t for t in meta["themes"].split(",") if t],
                    score=doc_score[doc_id],
                    text=self.texts[index],
                    section=meta.get("section", ""),
                    similarity=similarity.get(index, 0.0),
                    summary=meta.get("summary", ""),
                    question=meta.get("question", ""),
                )
            )
        best = max((r.similarity for r in results), default=0.0)
        timings["total"] = time.perf_counter() - started
        RETRIEVAL_SECONDS.observe(timings["total"])
        grounded = best >= self.settings.retrieval_min_similarity
        return SearchOutcome(query, results, grounded, best, timings)


_shared: dict[tuple, Retriever] = {}
_shared_lock = threading.Lock()


def get_retriever(settings: Settings) -> Retriever:
    """One retriever per index location, shared by every caller in the process."""
    key = (settings.chroma_url, str(settings.resolved_chroma_path), settings.chroma_collection)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Retriever(settings)
        return _shared[key]


def forget_retrievers() -> None:
    with _shared_lock:
        _shared.clear()
