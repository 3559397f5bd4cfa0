"""Retrieval v1, kept as the baseline that `make bench` compares v2 against.

This is the retriever Tandem shipped first, unchanged in substance: documents cut into
900-character chunks by heading, BM25 and dense search fused by reciprocal rank, grouped by
document, and one cosine threshold for abstaining. It indexes the same documents as v2,
into its own Chroma collection, so the comparison is of the method alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from bot.knowledge.embeddings import get_encoder
from bot.knowledge.index import chroma_client, load_documents
from bot.settings import Settings

RRF_K = 60
CANDIDATES = 40
CHUNK_SIZE = 900
CHUNK_OVERLAP = 120


@dataclass
class V1Result:
    doc_id: str
    themes: list[str]
    similarity: float
    text: str
    title: str = ""
    summary: str = ""
    question: str = ""


@dataclass
class V1Outcome:
    results: list[V1Result]
    best_similarity: float


def chunk_document(doc) -> list[tuple[str, str]]:
    """(section, text) pieces, as v1 cut them."""
    header_splitter = MarkdownHeaderTextSplitter(
        headers_to_split_on=[("#", "title"), ("##", "section")], strip_headers=True
    )
    size_splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP
    )
    pieces = []
    for part in header_splitter.split_text(doc.body):
        section = part.metadata.get("section", "")
        for piece in size_splitter.split_text(part.page_content):
            if len(piece.split()) >= 5:
                pieces.append((section, piece.strip()))
    return pieces


class RetrieverV1:
    def __init__(self, settings: Settings) -> None:
        documents = load_documents(settings)
        client = chroma_client(settings)
        self.collection = client.get_or_create_collection(
            name="tandem_kb_v1_baseline", metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        ids, texts, metas, embed = [], [], [], []
        for doc in documents:
            for n, (section, text) in enumerate(chunk_document(doc)):
                ids.append(f"{doc.id}#{n}")
                texts.append(text)
                metas.append({"doc_id": doc.id, "themes": ",".join(doc.themes)})
                embed.append(
                    f"{doc.title}. {section}. {text}" if section else f"{doc.title}. {text}"
                )
        vectors = get_encoder().encode(embed)
        if self.collection.count() == 0:
            for start in range(0, len(ids), 1000):
                end = start + 1000
                self.collection.add(
                    ids=ids[start:end],
                    embeddings=vectors[start:end].tolist(),
                    documents=texts[start:end],
                    metadatas=metas[start:end],
                )
        self.ids, self.texts, self.metas, self.vectors = ids, texts, metas, vectors
        self.position = {chunk_id: i for i, chunk_id in enumerate(ids)}
        titles = {doc.id: doc.title for doc in documents}
        self.docs = {doc.id: doc for doc in documents}
        self.stemmer = Stemmer.Stemmer("english")
        corpus = [f"{titles[m['doc_id']]} {t}" for m, t in zip(self.metas, self.texts, strict=True)]
        self.bm25 = bm25s.BM25()
        self.bm25.index(self._tokenize(corpus), show_progress=False)

    def _tokenize(self, texts):
        return bm25s.tokenize(
            texts, stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False
        )

    def search(self, query: str, k: int = 10) -> V1Outcome:
        vector = get_encoder().encode([query])[0]
        found = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=CANDIDATES, include=["distances"]
        )
        dense = [
            (self.position[cid], 1.0 - float(d))
            for cid, d in zip(found["ids"][0], found["distances"][0], strict=True)
        ]
        tokens = self._tokenize([query])[0]
        keyword = []
        if tokens:
            scores = self.bm25.get_scores(tokens)
            keyword = [
                (int(i), float(scores[i]))
                for i in np.argsort(-scores)[:CANDIDATES]
                if scores[i] > 0
            ]
        fused: dict[int, float] = {}
        for ranking in (dense, keyword):
            for rank, (index, _score) in enumerate(ranking):
                fused[index] = fused.get(index, 0.0) + 1.0 / (RRF_K + rank + 1)
        similarity = {i: s for i, s in dense}
        for index in fused:
            similarity.setdefault(index, float(self.vectors[index] @ vector))
        best_chunk: dict[str, int] = {}
        doc_score: dict[str, float] = {}
        for index, score in sorted(fused.items(), key=lambda item: -item[1]):
            doc_id = self.metas[index]["doc_id"]
            if doc_id not in best_chunk:
                best_chunk[doc_id], doc_score[doc_id] = index, score
        ranked = sorted(doc_score, key=lambda d: -doc_score[d])[:k]
        results = [
            V1Result(
                doc_id,
                self.metas[best_chunk[doc_id]]["themes"].split(","),
                similarity[best_chunk[doc_id]],
                self.texts[best_chunk[doc_id]],
                self.docs[doc_id].title,
                self.docs[doc_id].summary,
                self.docs[doc_id].reflective_question,
            )
            for doc_id in ranked
        ]
        return V1Outcome(results, max((r.similarity for r in results), default=0.0))


# --- v1's offline composer, unchanged, for side-by-side answers -------------------------

_WORD = re.compile(r"[a-z][a-z']+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_STEMMER = Stemmer.Stemmer("english")
# Words too common in leaders' questions to say which sentence answers them.
_STOP = set(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "how",
        "what",
        "can",
        "our",
        "your",
        "you",
        "are",
        "was",
        "when",
        "who",
        "why",
        "does",
        "into",
        "from",
        "about",
        "have",
        "has",
        "should",
        "would",
        "could",
        "they",
        "them",
        "their",
        "there",
        "then",
        "than",
        "its",
        "it's",
        "not",
        "but",
        "all",
        "any",
        "get",
        "got",
        "one",
        "out",
        "more",
        "some",
        "just",
        "like",
        "i'm",
        "we're",
        "do",
        "we",
        "my",
        "me",
        "is",
        "to",
        "of",
        "in",
        "on",
        "a",
        "an",
        "be",
        "or",
        "let",
        "make",
        "work",
        "help",
        "need",
        "way",
        "take",
        "good",
        "really",
        "thing",
        "things",
    ]
)
MIN_SENTENCE_WORDS = 9
MAX_POINTS = 3
MAX_SENTENCE_CHARS = 260


def _stems(text: str) -> set[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    return set(_STEMMER.stemWords(words))


def _sentences(text: str) -> list[str]:
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line).strip()
        line = line.replace("**", "").replace("__", "")
        if line and not line.startswith("#"):
            lines.append(line)
    sentences: list[str] = []
    for line in lines:
        sentences.extend(s.strip() for s in _SENTENCE.split(line) if s.strip())
    return sentences


def key_sentence(question: str, result) -> str:
    """The passage sentence that speaks most directly to the question."""
    wanted = _stems(question)
    best, best_overlap = "", 0
    for sentence in _sentences(result.text):
        if len(sentence) > MAX_SENTENCE_CHARS or len(sentence.split()) < MIN_SENTENCE_WORDS:
            continue
        overlap = len(wanted & _stems(sentence))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    if not best:
        candidates = [s for s in _sentences(result.text) if len(s.split()) >= 6 and len(s) <= 260]
        best = candidates[0] if candidates else ""
    return best


def compose_v1(question: str, results) -> str:
    """Two or three points in Tandem's framing, each naming its document, then a question."""
    points = results[:MAX_POINTS]
    lines = ["Here's what the guidance I hold suggests:"]
    for number, result in enumerate(points, start=1):
        sentence = key_sentence(question, result)
        detail = f" {sentence}" if sentence and sentence not in result.summary else ""
        lines.append(f"{number}. *{result.title}*: {result.summary}{detail} [{number}]")
    follow_up = next((r.question for r in points if r.question), "")
    if follow_up:
        lines.append("")
        lines.append(f"Something to sit with: _{follow_up}_")
    return "\n".join(lines)
