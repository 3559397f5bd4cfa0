"""A knowledge document as the passages Tandem indexes: pure, no I/O.

Search ranks documents by what they advise and by how leaders ask for them, so the unit
of the index is the section's bullet, not a fixed-size chunk:

- ``card``      the title and the insight (what the document is for);
- ``question``  one of the ways leaders ask for it (front-matter `questions`);
- ``lead``      the opening paragraph;
- ``guidance`` / ``action`` / ``pitfall`` / ``limits``  one bullet of an advice section;
- ``story``     the illustrative example (it helps recall, never outranks guidance);
- ``reflect``   the closing question.

The composer quotes only advice passages, so a story can never be given as advice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge.documents import ADVICE_KINDS, KnowledgeDoc, Problem

STORY_MAX_CHARS = 700
_MARKUP = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Passage:
    id: str
    doc_id: str
    kind: str
    section: str
    text: str
    position: int  # order within the document

    @property
    def is_advice(self) -> bool:
        return self.kind in ADVICE_KINDS


def plain(text: str) -> str:
    """Markdown emphasis removed and whitespace collapsed: what a reader sees."""
    return " ".join(_MARKUP.sub("", text).split())


def _story_pieces(text: str) -> list[str]:
    """The example in pieces of a paragraph or two (LangChain's splitter keeps sentences)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=STORY_MAX_CHARS, chunk_overlap=0, separators=["\n\n", ". ", " "]
    )
    return [plain(piece) for piece in splitter.split_text(text)]


def passages_of(doc: KnowledgeDoc) -> list[Passage]:
    """Every passage of one document, in reading order."""
    found: list[Passage] = []

    def add(kind: str, section: str, text: str) -> None:
        text = plain(text)
        if text:
            found.append(Passage(f"{doc.id}:{len(found)}", doc.id, kind, section, text, len(found)))

    add("card", "", f"{doc.title}. {doc.insight}")
    for question in doc.questions:
        add("question", "", question)
    if doc.lead:
        add("lead", "", doc.lead)
    for section in doc.sections:
        if section.kind in ADVICE_KINDS:
            for bullet in section.bullets():
                add(section.kind, section.heading, bullet)
        elif section.kind == "story":
            for piece in _story_pieces(section.text):
                add("story", section.heading, piece)
        elif section.kind == "question":
            add("reflect", section.heading, doc.reflective_question)
    return found


def first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


NEAR_DUPLICATE_SIMILARITY = 0.9


def near_duplicate_warnings(
    documents: list[KnowledgeDoc], threshold: float = NEAR_DUPLICATE_SIMILARITY
) -> list[Problem]:
    """Pairs of documents whose title, insight and advice say nearly the same thing.

    Each document is the mean of its passages' vectors (the ones the index holds, so a
    check after an ingest embeds nothing new)."""
    import numpy as np

    from bot.knowledge.embedcache import CACHE_NAME, EmbeddingCache

    if len(documents) < 2:
        return []
    cache = EmbeddingCache(documents[0].path.parent.parent / CACHE_NAME)
    rows = []
    for doc in documents:
        texts = [p.text for p in passages_of(doc) if p.kind in ("card", "guidance", "action")]
        vector = cache.encode(texts).mean(axis=0)
        rows.append(vector / max(float(np.linalg.norm(vector)), 1e-9))
    cache.save()
    vectors = np.asarray(rows)
    similarity = vectors @ vectors.T
    warnings = []
    for i in range(len(documents)):
        for j in range(i + 1, len(documents)):
            if similarity[i, j] >= threshold:
                warnings.append(
                    Problem(
                        documents[i].path,
                        2,
                        f"near-duplicate of {documents[j].path.name} "
                        f"(similarity {similarity[i, j]:.2f}): merge them or make each distinct",
                    )
                )
    return warnings
