"""Answers from an OpenAI-compatible model, every point checked in code before it is shown.

The model gets the cited documents' whole guidance sections (each bullet labelled as a
passage, [P1]…), the conversation so far, and a prompt from `prompts/guidance/answer.yaml`
that keeps Tandem's stance. It must reply in a small line format (OPENING, points, WATCH,
REFLECT), which code then checks line by line:

- every point carries a citation to a passage it was given;
- the cited passage supports the point: the point's embedding is close enough to the
  passage's (`SUPPORT_SIMILARITY`, calibrated in `bench/support.py`);
- the point gives no advice Tandem never gives as a first move (threats, escalation,
  performance-managing partners): `stance` patterns in the prompt file.

Unsupported or off-stance points are dropped; fewer than two left, and the offline
composer answers instead. `NO_ANSWER` means Tandem declines, as it would offline.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.knowledge.documents import ADVICE_KINDS
from bot.knowledge.embeddings import get_encoder
from bot.knowledge.retrieval import ScoredPassage, SearchOutcome, SearchResult
from bot.language_model import chat_model
from bot.settings import Settings
from bot.text import read_yaml

CITATION = re.compile(r"\[(P\d+)\]")
NO_ANSWER = "NO_ANSWER"
MAX_DOCS = 3
MIN_POINTS = 2
MAX_POINTS = 4
# A point and the passage it cites must be at least this alike (cosine, MiniLM). From
# `python -m bench.support`: a restatement of a bullet against the bullet is above it 98% of
# the time; against another document's bullet, 0.5% of the time.
SUPPORT_SIMILARITY = 0.5
STREAM_INTERVAL = 1.0  # seconds between updates of the visible message


class ModelAnswerRejected(Exception):
    """The model's reply cannot be shown (too few supported points, or no usable format)."""


class ModelDeclined(Exception):
    """The model said NO_ANSWER: the passages do not answer the question."""


@dataclass
class ModelAnswer:
    text: str
    cited: list[SearchResult]
    seconds: float
    dropped: list[str] = field(default_factory=list)  # why points were not shown


@lru_cache(maxsize=4)
def load_prompt(prompts_dir: Path) -> dict:
    return read_yaml((Path(prompts_dir) / "guidance" / "answer.yaml").read_text("utf-8"))


@lru_cache(maxsize=4)
def _stance_patterns(prompts_dir: Path) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, re.I) for p in load_prompt(prompts_dir).get("stance", []))


_DELIMITERS = str.maketrans({"<": "‹", ">": "›", "[": "(", "]": ")"})


def fence(text: str) -> str:
    """Untrusted text inside the prompt: it can neither close a tag nor fake a citation."""
    return text.translate(_DELIMITERS)


@dataclass(frozen=True)
class Labelled:
    label: str  # P1, P2, ...
    doc: SearchResult
    passage: ScoredPassage


def label_passages(outcome: SearchOutcome) -> list[Labelled]:
    """The whole guidance sections of the top documents, each bullet a labelled passage."""
    labelled: list[Labelled] = []
    for doc in outcome.results[:MAX_DOCS]:
        for passage in sorted(doc.passages, key=lambda p: p.position):
            if passage.kind in ADVICE_KINDS:
                labelled.append(Labelled(f"P{len(labelled) + 1}", doc, passage))
    return labelled


def build_messages(settings: Settings, question: str, labelled: list[Labelled], history):
    from langchain_core.prompts import ChatPromptTemplate

    prompt = load_prompt(settings.prompts_dir)
    blocks = []
    for doc in dict.fromkeys(item.doc.doc_id for item in labelled):
        items = [item for item in labelled if item.doc.doc_id == doc]
        title = fence(items[0].doc.title)
        lines = [f'<document title="{title}">']
        section = None
        for item in items:
            if item.passage.section != section:
                section = item.passage.section
                lines.append(f"## {fence(section)}")
            lines.append(f"[{item.label}] {fence(item.passage.text)}")
        lines.append("</document>")
        blocks.append("\n".join(lines))
    history_text = ""
    if history:
        turns = "\n".join(f"{role}: {fence(text)[:600]}" for role, text in history[-6:])
        history_text = f"<conversation>\n{turns}\n</conversation>\n\n"
    template = ChatPromptTemplate.from_messages(
        [("system", prompt["system"]), ("human", prompt["user"])]
    )
    return template.format_messages(
        references="\n\n".join(blocks), question=fence(question), history=history_text
    )


@dataclass
class Checked:
    opening: str = ""
    points: list[tuple[str, Labelled]] = field(default_factory=list)
    pitfall: tuple[str, Labelled] | None = None
    reflection: str = ""
    dropped: list[str] = field(default_factory=list)


class Checker:
    """Reads the model's lines as they arrive and keeps only what may be shown."""

    def __init__(self, settings: Settings, labelled: list[Labelled]) -> None:
        self.by_label = {item.label: item for item in labelled}
        self.stance = _stance_patterns(settings.prompts_dir)
        self.result = Checked()

    def _claim(self, line: str) -> tuple[str, Labelled] | None:
        labels = CITATION.findall(line)
        text = " ".join(CITATION.sub("", line).split()).strip(" -•*").strip()
        if not text:
            return None
        if not labels:
            self.result.dropped.append("no citation")
            return None
        if any(label not in self.by_label for label in labels):
            self.result.dropped.append("unknown citation")
            return None
        if any(p.search(text) for p in self.stance):
            self.result.dropped.append("off stance")
            return None
        vector = get_encoder().encode([text])[0]
        best = max(labels, key=lambda label: float(self.by_label[label].passage.vector @ vector))
        if float(self.by_label[best].passage.vector @ vector) < SUPPORT_SIMILARITY:
            self.result.dropped.append("unsupported")
            return None
        return text, self.by_label[best]

    def feed(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        head, _, rest = line.partition(":")
        head = head.strip().upper()
        if head == "OPENING" and not self.result.opening:
            opening = " ".join(CITATION.sub("", rest).split())
            if not any(p.search(opening) for p in self.stance):
                self.result.opening = opening
        elif head == "WATCH" and self.result.pitfall is None:
            self.result.pitfall = self._claim(rest)
        elif head == "REFLECT" and not self.result.reflection:
            reflection = " ".join(CITATION.sub("", rest).split())
            if reflection.endswith("?") and not any(p.search(reflection) for p in self.stance):
                self.result.reflection = reflection
        elif re.match(r"^(?:[-*•]|\d+[.)])\s", line) and len(self.result.points) < MAX_POINTS:
            claim = self._claim(line)
            if claim:
                self.result.points.append(claim)


def render(checked: Checked, lead_in: str = "A few things you could try:") -> tuple[str, list]:
    """The checked reply in Tandem's shape, with citations renumbered by document."""
    order: list[SearchResult] = []

    def number(item: Labelled) -> int:
        if item.doc.doc_id not in [d.doc_id for d in order]:
            order.append(item.doc)
        return [d.doc_id for d in order].index(item.doc.doc_id) + 1

    lines = [checked.opening, "", lead_in] if checked.opening else [lead_in]
    for position, (text, item) in enumerate(checked.points, start=1):
        lines.append(f"{position}. {text} [{number(item)}]")
    if checked.pitfall:
        text, item = checked.pitfall
        lines += ["", f"*Watch for:* {text} [{number(item)}]"]
    if checked.reflection:
        lines += ["", f"_Something to sit with: {checked.reflection}_"]
    return "\n".join(lines).strip(), order


def ask_model(
    settings: Settings,
    question: str,
    outcome: SearchOutcome,
    history=None,
    on_progress: Callable[[str], None] | None = None,
) -> ModelAnswer:
    """The model's answer, checked; streamed to `on_progress` (at most once a second) as
    checked points arrive, when given."""
    started = time.perf_counter()
    labelled = label_passages(outcome)
    if not labelled:
        raise ModelAnswerRejected("no guidance passages")
    messages = build_messages(settings, question, labelled, history)
    checker = Checker(settings, labelled)
    model = chat_model(settings, temperature=0.2, max_tokens=settings.llm_max_tokens)
    buffer = ""
    raw = ""
    last_shown = 0.0
    if on_progress is None:
        reply = model.invoke(messages)
        raw = reply.content if isinstance(reply.content, str) else ""
        for line in raw.split("\n"):
            checker.feed(line)
    else:
        for chunk in model.stream(messages):
            piece = chunk.content if isinstance(chunk.content, str) else ""
            raw += piece
            buffer += piece
            while "\n" in buffer:
                line, buffer = buffer.split("\n", 1)
                before = len(checker.result.points)
                checker.feed(line)
                now = time.perf_counter()
                if len(checker.result.points) > before and now - last_shown >= STREAM_INTERVAL:
                    on_progress(render(checker.result)[0])
                    last_shown = now
        checker.feed(buffer)
    if raw.strip() == NO_ANSWER or (NO_ANSWER in raw and not checker.result.points):
        raise ModelDeclined()
    checked = checker.result
    if len(checked.points) < MIN_POINTS:
        reasons = ", ".join(sorted(set(checked.dropped))) or "too few points"
        raise ModelAnswerRejected(reasons)
    if not checked.opening:
        checked.opening = outcome.results[0].insight if outcome.results else ""
    if not checked.reflection and outcome.results:
        checked.reflection = outcome.results[0].question
    text, cited = render(checked)
    return ModelAnswer(text, cited, time.perf_counter() - started, checked.dropped)
