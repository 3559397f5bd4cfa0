"""Finding the right guidance: documents ranked by what they advise and how leaders ask.

The index holds passages by section (`bot/knowledge/passages.py`). A document's score is
its best passage by meaning, with the illustrative example weighed down so that the nouns
in a story ("the hospice", "our directors") cannot outrank guidance that fits, plus a
keyword score over everything but the story. Questions are read with organisation names
replaced by their group (`knowledge/vocabulary.yaml`), so which partner a question names
does not sway the result (documents are indexed with the group's name added). No two near-identical documents share the top
three. A scope gate (`bot/knowledge/scope.py`) decides whether the question is about
leading collaboratively at all.

Everything is held in memory (a few thousand 384-float vectors): a search is one matrix
product and a BM25 lookup, a few milliseconds on two cores.
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

from bot.knowledge import snapshot
from bot.knowledge.embeddings import get_encoder, load_encoder_in_background
from bot.knowledge.keywords import content_key, load_or_build
from bot.knowledge.scope import (
    ScopeGate,
    ScopeVerdict,
    example_vectors,
    load_examples,
    paraphrase_texts,
    scope_dir,
)
from bot.knowledge.vocabulary import load_vocabulary
from bot.knowledge.wordvectors import (
    get_word_encoder,
    load_or_embed,
    load_word_encoder_in_background,
)
from bot.metrics import RETRIEVAL_SECONDS
from bot.settings import Settings
from bot.text import split_themes

logging.getLogger("bm25s").setLevel(logging.WARNING)

Mode = Literal["hybrid", "bm25", "dense"]
KINDS = ("card", "question", "lead", "guidance", "action", "pitfall", "limits", "story", "reflect")
# A document is scored by signals over groups of its passages: how leaders ask for it (its
# questions and card) and what it advises, each by meaning and by keywords (BM25). By
# meaning, a group counts twice: its single closest passage, and the centre of the group
# (the mean of its vectors), which rewards a document whose questions as a whole sit near
# the leader's rather than one lucky phrase. How leaders ask is also read by a second model,
# static word vectors (`wordvectors.py`), which errs differently from MiniLM. Each signal is standardised across documents
# for the question (z-scores), then weighted. The story has a small weight: it may help
# recall, but its nouns must not outrank guidance that fits. Weights chosen by coordinate
# search on the dev split together with two held-out questions per document (never on the
# test split); see docs/benchmarks.md.
ASKED = ("card", "question")
ADVICE = ("lead", "guidance", "action", "pitfall", "limits")
SIGNAL_WEIGHTS = {
    "asked_meaning": 1.1,
    "asked_centre": 1.1,
    "advice_meaning": 0.4,
    "advice_centre": 0.25,
    "story_meaning": 0.2,
    "all_keywords": 2.0,  # everything but the story and the closing question
    "asked_keywords": 0.85,
    "asked_words_meaning": 0.6,
    "asked_words_centre": 0.6,
}
MEANING_SIGNALS = (
    "asked_meaning",
    "asked_centre",
    "advice_meaning",
    "advice_centre",
    "story_meaning",
    "asked_words_meaning",
    "asked_words_centre",
)
DUPLICATE_SIMILARITY = 0.9
KEYWORD_KINDS = {"all_keywords": ASKED + ADVICE, "asked_keywords": ASKED}
# How `_tokenize` reads text; part of the saved keyword indexes' key, so change it with it.
TOKENIZER_RECIPE = "bm25s.tokenize stopwords=en stemmer=PyStemmer english"  # documents this alike do not share the top three


@dataclass(frozen=True)
class ScoredPassage:
    id: str
    kind: str
    section: str
    text: str
    position: int
    similarity: float
    vector: np.ndarray = field(repr=False, compare=False)


@dataclass
class SearchResult:
    doc_id: str
    title: str
    themes: list[str]
    score: float
    text: str  # the best-matching advice passage (or the insight)
    section: str
    similarity: float
    summary: str
    question: str  # the document's closing reflective question
    insight: str = ""
    path: str = ""
    passages: list[ScoredPassage] = field(default_factory=list, repr=False)

    def as_json(self) -> dict:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "themes": self.themes,
            "score": round(self.score, 4),
            "text": self.text,
        }

    def advice(self, kinds=("guidance", "action")) -> list[ScoredPassage]:
        return [p for p in self.passages if p.kind in kinds]


@dataclass
class SearchOutcome:
    query: str
    results: list[SearchResult]
    grounded: bool
    best_similarity: float
    timings: dict[str, float] = field(default_factory=dict)
    scope: ScopeVerdict = field(default_factory=lambda: ScopeVerdict(True, 1.0, ""))
    vector: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Doc:
    doc_id: str
    title: str
    themes: list[str]
    summary: str
    insight: str
    question: str
    path: str


class Retriever:
    """Loads the index into memory once; `reload()` after an ingest."""

    def __init__(self, settings: Settings, collection=None) -> None:
        """`collection`: read this Chroma collection; by default the snapshot that ingest
        wrote (`snapshot.py`), or the configured index when there is none.

        Both models start loading in the background first: every search needs them, and
        reading the index meanwhile hides most of their load time."""
        load_encoder_in_background()
        load_word_encoder_in_background()
        self.settings = settings
        self.collection = collection
        self.vocabulary = load_vocabulary(settings.knowledge_dir / "vocabulary.yaml")
        self._stemmer = Stemmer.Stemmer("english")
        self._lock = threading.Lock()
        self.reload()

    # --- loading ---------------------------------------------------------------------

    def _stored(self) -> dict:
        if self.collection is not None:
            return self.collection.get(include=["documents", "metadatas", "embeddings"])
        stored = snapshot.load(self.settings)
        if stored is None:
            from bot.knowledge.index import get_collection  # Chroma only when reading it

            stored = get_collection(self.settings).get(
                include=["documents", "metadatas", "embeddings"]
            )
            snapshot.save(self.settings, stored)
        return stored

    def reload(self) -> None:
        stored = self._stored()
        ids = list(stored["ids"])
        metas = list(stored["metadatas"] or [])
        texts = list(stored["documents"] or [])
        embeddings = stored["embeddings"]
        order = sorted(
            range(len(ids)), key=lambda i: (metas[i]["doc_id"], int(metas[i].get("position", 0)))
        )
        self.passage_ids = [ids[i] for i in order]
        self.passage_meta = [metas[i] for i in order]
        self.passage_text = [texts[i] for i in order]
        self.matrix = (
            np.asarray(embeddings, dtype=np.float32)[order]
            if ids
            else np.zeros((0, 384), dtype=np.float32)
        )
        self.docs: dict[str, _Doc] = {}
        for meta in self.passage_meta:
            if meta["doc_id"] not in self.docs:
                self.docs[meta["doc_id"]] = _Doc(
                    meta["doc_id"],
                    meta["title"],
                    split_themes(meta.get("themes", "")),
                    meta.get("summary", ""),
                    meta.get("insight", ""),
                    meta.get("question", ""),
                    meta.get("path", ""),
                )
        self.doc_order = list(self.docs)
        doc_index = {doc_id: i for i, doc_id in enumerate(self.doc_order)}
        self.passage_doc = np.array(
            [doc_index[m["doc_id"]] for m in self.passage_meta], dtype=np.int64
        )
        kind_index = {kind: i for i, kind in enumerate(KINDS)}
        self.passage_kind = np.array(
            [kind_index.get(m.get("kind", "guidance"), 3) for m in self.passage_meta],
            dtype=np.int64,
        )
        self._groups = {
            "asked": np.isin(self.passage_kind, [KINDS.index(k) for k in ASKED]),
            "advice": np.isin(self.passage_kind, [KINDS.index(k) for k in ADVICE]),
            "story": self.passage_kind == KINDS.index("story"),
        }
        self._build_keywords()
        self._build_word_vectors()
        self._build_doc_vectors()
        self._build_scope()

    def _keyword_corpus(self, kinds: tuple[str, ...]) -> list[str]:
        """One text per document: its passages of these kinds, with organisation groups."""
        corpus: dict[int, list[str]] = {i: [] for i in range(len(self.doc_order))}
        for position, meta in enumerate(self.passage_meta):
            if meta.get("kind") in kinds:
                text = self.vocabulary_expanded(self.passage_text[position])
                corpus[int(self.passage_doc[position])].append(text)
        return [" ".join(corpus[i]) for i in range(len(self.doc_order))]

    def _bm25_over(self, corpus: list[str]):
        index = bm25s.BM25()
        index.index(self._tokenize(corpus), show_progress=False)
        return index

    def _build_keywords(self) -> None:
        self._keyword_indexes = {}
        if self.doc_order:
            self._keyword_indexes = load_or_build(
                keywords_dir(self.settings),
                self._keywords_key(),
                KEYWORD_KINDS,
                len(self.doc_order),
                lambda: {
                    name: self._bm25_over(self._keyword_corpus(kinds))
                    for name, kinds in KEYWORD_KINDS.items()
                },
            )

    def _keywords_key(self) -> str:
        """A hash of everything the keyword indexes are built from (see keywords.py)."""
        vocabulary = self.vocabulary.pattern.pattern if self.vocabulary.pattern else ""
        parts = [vocabulary, repr(sorted(self.vocabulary.group_of.items())), repr(KEYWORD_KINDS)]
        parts += [
            f"{meta['doc_id']}\x01{meta.get('kind')}\x01{text}"
            for meta, text in zip(self.passage_meta, self.passage_text, strict=True)
        ]
        return content_key(parts, TOKENIZER_RECIPE)

    def _build_word_vectors(self) -> None:
        """Word vectors of how leaders ask for each document (card and questions)."""
        rows = np.flatnonzero(self._groups["asked"])
        self.word_matrix = load_or_embed(
            words_dir(self.settings),
            [self.passage_text[r] for r in rows],
            self.vocabulary.normalise,  # read the way questions are
            self.vocabulary.fingerprint(),
        )
        self.word_doc = self.passage_doc[rows]
        questions = self.passage_kind[rows] == KINDS.index("question")
        centres = sums_by_doc(
            self.word_matrix[questions], self.word_doc[questions], len(self.doc_order)
        )
        norms = np.linalg.norm(centres, axis=1, keepdims=True)
        self.word_question_centres = centres / np.clip(norms, 1e-9, None)

    def _centres(self, kinds: tuple[str, ...]) -> np.ndarray:
        """One unit vector per document: the mean of its passages of these kinds."""
        chosen = np.isin(self.passage_kind, [KINDS.index(k) for k in kinds])
        vectors = sums_by_doc(self.matrix[chosen], self.passage_doc[chosen], len(self.doc_order))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.clip(norms, 1e-9, None)

    def _build_doc_vectors(self) -> None:
        # Card and advice: to keep near-twins apart in the top three.
        self.doc_vectors = self._centres(("card", "guidance", "action"))
        self.question_centres = self._centres(("question",))
        self.advice_centres = self._centres(ADVICE)

    def _build_scope(self) -> None:
        examples = load_examples(scope_dir(self.settings))
        # Both gates' examples (the refusal gate in bot/guidance reads them from here).
        self.examples = example_vectors(
            self.settings, self.vocabulary, examples_dir(self.settings), self.anchor_texts()
        )
        inside_kb = self.matrix[self._groups["asked"]]  # how leaders ask for each document
        inside = np.vstack([inside_kb, self.examples.inside])
        outside = self.examples.outside
        self.scope = ScopeGate(
            inside,
            outside,
            examples.redirects,
            examples.threshold,
            saved=scope_fit_dir(self.settings),
            anchors=self.examples.anchors,
            paraphrase=examples.paraphrase,
        )

    def anchor_texts(self) -> list[str]:
        """The scope gate's paraphrase anchors (`paraphrase_texts`) for this index."""
        kinds = [meta.get("kind") for meta in self.passage_meta]
        return paraphrase_texts(self.vocabulary, zip(kinds, self.passage_text, strict=True))

    def asked_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every way leaders ask for a document (cards and questions), row for row as MiniLM
        and as word vectors."""
        return self.matrix[self._groups["asked"]], self.word_matrix

    def encode_words(self, query: str) -> np.ndarray:
        """The question's word vector (unit length), read as its MiniLM vector is."""
        return get_word_encoder().encode([self.vocabulary.normalise(query)])[0]

    def questions_matrix(self) -> np.ndarray:
        """The vectors of every way leaders ask for a document (front-matter `questions`)."""
        return self.matrix[self.passage_kind == KINDS.index("question")]

    @property
    def empty(self) -> bool:
        return not self.passage_ids

    # --- searching -------------------------------------------------------------------

    def vocabulary_expanded(self, text: str) -> str:
        groups = self.vocabulary.groups_in(text)
        return f"{text} {' '.join(groups)}" if groups else text

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        return bm25s.tokenize(
            texts, stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )

    def encode_query(self, query: str) -> np.ndarray:
        """The question's vector, with organisation names read as their group: a question
        about the hospice and the same question about the council mean the same."""
        vector = get_encoder().encode([self.vocabulary.normalise(query)])[0]
        return vector / max(float(np.linalg.norm(vector)), 1e-9)

    def _keyword_tokens(self, query: str) -> list[str]:
        # The organisation a question names is read as its group ("partner organisation"),
        # so which partner it is cannot move the keyword score.
        return self._tokenize([self.vocabulary.normalise(query)])[0]

    def _keyword_scores(self, tokens: list[str], name: str) -> np.ndarray:
        scores = np.zeros(len(self.doc_order), dtype=np.float32)
        index = self._keyword_indexes.get(name)
        if not tokens or index is None:
            return scores
        with self._lock:
            raw = index.get_scores(tokens)
        return raw.astype(np.float32)

    def _best_by_doc(self, similarity: np.ndarray, group: str) -> np.ndarray:
        best = np.full(len(self.doc_order), -1.0, dtype=np.float32)
        mask = self._groups[group]
        np.maximum.at(best, self.passage_doc[mask], similarity[mask])
        return best

    def signals(
        self, query: str, similarity: np.ndarray, vector: np.ndarray
    ) -> dict[str, np.ndarray]:
        tokens = self._keyword_tokens(query)  # read once for both keyword indexes
        words = self.encode_words(query)
        best_words = np.full(len(self.doc_order), -1.0, dtype=np.float32)
        np.maximum.at(best_words, self.word_doc, self.word_matrix @ words)
        return {
            "asked_meaning": self._best_by_doc(similarity, "asked"),
            "asked_centre": self.question_centres @ vector,
            "advice_meaning": self._best_by_doc(similarity, "advice"),
            "advice_centre": self.advice_centres @ vector,
            "story_meaning": self._best_by_doc(similarity, "story"),
            "all_keywords": self._keyword_scores(tokens, "all_keywords"),
            "asked_keywords": self._keyword_scores(tokens, "asked_keywords"),
            "asked_words_meaning": best_words,
            "asked_words_centre": self.word_question_centres @ words,
        }

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: Mode = "hybrid",
        *,
        vector: np.ndarray | None = None,
    ) -> SearchOutcome:
        k = k or self.settings.retrieval_k
        if self.empty or not query.strip():
            return SearchOutcome(query, [], False, 0.0)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        if vector is None:
            vector = self.encode_query(query)
        timings["embed"] = time.perf_counter() - started

        mark = time.perf_counter()
        similarity = self.matrix @ vector
        signals = self.signals(query, similarity, vector)
        wanted = {
            "dense": MEANING_SIGNALS,
            "bm25": ("all_keywords", "asked_keywords"),
        }.get(mode, tuple(SIGNAL_WEIGHTS))
        score = np.zeros(len(self.doc_order), dtype=np.float32)
        for name in wanted:
            score += SIGNAL_WEIGHTS[name] * standardised(signals[name])
        timings["rank"] = time.perf_counter() - mark

        ranked = self._diversified(np.argsort(-score), k)
        results = [self._result(i, float(score[i]), similarity) for i in ranked]
        best = max((r.similarity for r in results), default=0.0)
        verdict = self.scope.judge(vector)
        timings["total"] = time.perf_counter() - started
        RETRIEVAL_SECONDS.observe(timings["total"])
        grounded = verdict.in_scope and best >= self.settings.retrieval_min_similarity
        return SearchOutcome(query, results, grounded, best, timings, verdict, vector)

    def _diversified(self, order: np.ndarray, k: int) -> list[int]:
        chosen: list[int] = []
        for index in order:
            index = int(index)
            if len(chosen) < 3 and any(
                float(self.doc_vectors[index] @ self.doc_vectors[c]) >= DUPLICATE_SIMILARITY
                for c in chosen
            ):
                continue
            chosen.append(index)
            if len(chosen) >= k:
                break
        return chosen

    def _result(self, doc_index: int, score: float, similarity: np.ndarray) -> SearchResult:
        doc = self.docs[self.doc_order[doc_index]]
        rows = np.flatnonzero(self.passage_doc == doc_index)
        passages = [
            ScoredPassage(
                self.passage_ids[r],
                self.passage_meta[r].get("kind", "guidance"),
                self.passage_meta[r].get("section", ""),
                self.passage_text[r],
                int(self.passage_meta[r].get("position", 0)),
                float(similarity[r]),
                self.matrix[r],
            )
            for r in rows
        ]
        advice = [p for p in passages if p.kind in ("guidance", "action", "pitfall", "limits")]
        best = max(advice, key=lambda p: p.similarity, default=None)
        ranked_by = [p for p in passages if p.kind != "story"]
        top = max((p.similarity for p in ranked_by), default=0.0)
        return SearchResult(
            doc_id=doc.doc_id,
            title=doc.title,
            themes=doc.themes,
            score=score,
            text=best.text if best else doc.insight,
            section=best.section if best else "",
            similarity=top,
            summary=doc.summary,
            question=doc.question,
            insight=doc.insight,
            path=doc.path,
            passages=passages,
        )

    def document(self, doc_id: str) -> SearchResult | None:
        """One document with its passages (unscored), e.g. for "more on 2" or a View modal."""
        if doc_id not in self.docs:
            return None
        return self._result(self.doc_order.index(doc_id), 0.0, np.zeros(len(self.passage_ids)))


def _beside_index(settings: Settings, suffix: str):
    """A folder kept between starts beside the vector index, named after it."""
    index = settings.resolved_chroma_path
    return index.with_name(f"{index.name}-{suffix}")


def keywords_dir(settings: Settings):
    """Where the keyword indexes are kept between starts."""
    return _beside_index(settings, "keywords")


def words_dir(settings: Settings):
    """Where the word vectors of the knowledge base are kept between starts."""
    return _beside_index(settings, "words")


def examples_dir(settings: Settings):
    """Where the gates' example vectors are kept between starts."""
    return _beside_index(settings, "examples")


def scope_fit_dir(settings: Settings):
    """Where the scope gate's fitted weights are kept between starts."""
    return _beside_index(settings, "scope")


def requests_dir(settings: Settings):
    """Where the request models' word vectors (and, a folder a kind, their fitted weights)
    are kept between starts: each kind of saved file clears older ones from its folder."""
    return _beside_index(settings, "requests")


def sums_by_doc(rows: np.ndarray, docs: np.ndarray, count: int) -> np.ndarray:
    """Each document's rows added up, exactly as `np.add.at(zeros, docs, rows)` adds them
    (from zero, one row at a time in row order, so the same bits), but a step per rank
    within a document rather than per row: about ten times quicker on a start. Rows come
    grouped by document (passages are sorted by it); otherwise np.add.at does it."""
    out = np.zeros((count, rows.shape[1]), dtype=np.float32)
    if not len(rows):
        return out
    if np.any(docs[1:] < docs[:-1]):
        np.add.at(out, docs, rows)
        return out
    starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
    lengths = np.diff(np.r_[starts, len(rows)])
    for rank in range(int(lengths.max())):
        live = starts[lengths > rank]  # documents with at least rank + 1 rows
        out[docs[live]] += rows[live + rank]
    return out


def standardised(values: np.ndarray) -> np.ndarray:
    """Scores as z-scores across documents, so signals on different scales can be added."""
    spread = float(values.std())
    return (values - float(values.mean())) / spread if spread > 1e-9 else values * 0.0


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
