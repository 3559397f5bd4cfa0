"""The guidance service: question in, grounded answer (or an honest 'no') out.

Used by the CLI, the Slack listeners and the check-in follow-ups; it never imports Bolt.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from bot.guidance.composer import compose
from bot.guidance.llm import ModelAnswerRejected, ask_model
from bot.knowledge.retrieval import Retriever, SearchResult, get_retriever
from bot.knowledge.taxonomy import load_taxonomy
from bot.metrics import MODEL_FALLBACKS, MODEL_SECONDS
from bot.settings import Settings
from bot.text import clean_query

log = logging.getLogger(__name__)

EMPTY_HINT = (
    "Ask me anything about leading collaboratively, for example: "
    "_How can I rebuild trust with a partner organisation?_"
)
TRUNCATED_NOTE = "Your message was long, so I read the first {limit:,} characters."
NOT_GROUNDED = (
    "I don't have guidance on that in my library, and I'd rather not guess. "
    "I can help with collaboration across teams and organisations: {examples}. "
    "Would one of those be useful?"
)
EMPTY_INDEX = (
    "My guidance library isn't loaded yet, so I can't answer well just now. "
    "An administrator can run `tandem kb ingest` to load it."
)


@dataclass
class Citation:
    doc_id: str
    title: str


@dataclass
class Answer:
    query: str
    grounded: bool
    answer: str
    citations: list[Citation] = field(default_factory=list)
    mode: str = "offline"
    note: str = ""
    kind: str = "answer"  # answer | not_grounded | empty | unavailable

    def as_json(self) -> dict:
        return {
            "query": self.query,
            "grounded": self.grounded,
            "answer": self.answer,
            "citations": [{"doc_id": c.doc_id, "title": c.title} for c in self.citations],
            "mode": self.mode,
        }


class GuidanceService:
    def __init__(self, settings: Settings, retriever: Retriever | None = None) -> None:
        self.settings = settings
        self._retriever = retriever

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = get_retriever(self.settings)
        return self._retriever

    def _examples(self) -> str:
        themes = load_taxonomy(self.settings.knowledge_dir / "taxonomy.yaml")
        names = [t.name.lower() for t in themes[:4]]
        return ", ".join(names[:-1]) + " or " + names[-1]

    def answer(self, question: str | None, history: list[tuple[str, str]] | None = None) -> Answer:
        cleaned = clean_query(question, self.settings.max_question_chars)
        if not cleaned.text:
            return Answer("", False, EMPTY_HINT, kind="empty")
        note = (
            TRUNCATED_NOTE.format(limit=self.settings.max_question_chars)
            if cleaned.truncated
            else ""
        )
        if self.retriever.empty:
            return Answer(cleaned.text, False, EMPTY_INDEX, note=note, kind="unavailable")

        # In a thread, the previous question helps retrieval understand a short follow-up.
        search_text = cleaned.text
        if history:
            earlier = [text for role, text in history if role == "user"][-1:]
            if earlier:
                search_text = f"{earlier[0][:500]}\n{cleaned.text}"
        outcome = self.retriever.search(search_text)
        if not outcome.grounded:
            text = NOT_GROUNDED.format(examples=self._examples())
            return Answer(cleaned.text, False, text, note=note, kind="not_grounded")

        passages = [r for r in outcome.results if r.similarity >= self._floor()]
        if self.settings.llm_configured:
            answer = self._model_answer(cleaned.text, passages, history, note)
            if answer:
                return answer
        text = compose(cleaned.text, passages)
        return Answer(cleaned.text, True, text, _citations(passages[:3]), "offline", note)

    def _floor(self) -> float:
        # Secondary passages may sit a little below the grounding threshold.
        return self.settings.retrieval_min_similarity - 0.1

    def _model_answer(self, question, passages: list[SearchResult], history, note):
        started = time.perf_counter()
        try:
            reply = ask_model(self.settings, question, passages, history)
        except ModelAnswerRejected as reason:
            MODEL_FALLBACKS.labels(reason="rejected").inc()
            log.warning("model answer rejected (%s); using the offline composer", reason)
            return None
        except Exception as error:  # any model failure falls back, never crashes
            MODEL_FALLBACKS.labels(reason=type(error).__name__[:40]).inc()
            log.warning("model call failed (%s); using the offline composer", type(error).__name__)
            return None
        finally:
            MODEL_SECONDS.observe(time.perf_counter() - started)
        return Answer(question, True, reply.text, _citations(reply.cited), "llm", note)


def _citations(results: list[SearchResult]) -> list[Citation]:
    return [Citation(r.doc_id, r.title) for r in results]
