"""Grounded answers from an OpenAI-compatible model, with citations checked in code."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.knowledge.retrieval import SearchResult
from bot.settings import Settings

log = logging.getLogger(__name__)
CITATION = re.compile(r"\[(P\d+)\]")
NO_ANSWER = "NO_ANSWER"


class ModelAnswerRejected(Exception):
    """The model's reply cannot be shown: no valid citation, an unknown one, or no answer."""


@dataclass
class ModelAnswer:
    text: str
    cited: list[SearchResult]
    seconds: float


@lru_cache(maxsize=4)
def load_prompt(prompts_dir: Path) -> dict[str, str]:
    return yaml.safe_load((Path(prompts_dir) / "guidance" / "answer.yaml").read_text("utf-8"))


def _escape(text: str) -> str:
    # Passages and questions must not be able to close our delimiters.
    return text.replace("<", "‹").replace(">", "›")


def build_messages(settings: Settings, question: str, passages: list[SearchResult], history):
    from langchain_core.prompts import ChatPromptTemplate

    prompt = load_prompt(settings.prompts_dir)
    references = "\n".join(
        f'<reference id="P{i}" title="{_escape(p.title)}">\n{_escape(p.text)}\n</reference>'
        for i, p in enumerate(passages, start=1)
    )
    history_text = ""
    if history:
        turns = "\n".join(f"{role}: {_escape(text)}" for role, text in history[-6:])
        history_text = f"Earlier in this conversation (context only):\n{turns}\n\n"
    template = ChatPromptTemplate.from_messages(
        [("system", prompt["system"]), ("human", prompt["user"])]
    )
    return template.format_messages(
        references=references, question=_escape(question), history=history_text
    )


@lru_cache(maxsize=4)
def _chat_model(base_url, api_key, model, timeout, max_tokens):
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=api_key or "not-needed",
        timeout=timeout,
        max_tokens=max_tokens,
        max_retries=0,
        temperature=0.2,
    )


def chat_model(settings: Settings):
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return _chat_model(
        settings.openai_base_url,
        key,
        settings.openai_model,
        settings.llm_timeout_seconds,
        settings.llm_max_tokens,
    )


def validate_citations(text: str, passages: list[SearchResult]) -> tuple[str, list[SearchResult]]:
    """Renumber [P#] markers as [1], [2]… in order of first use; reject unknown ids."""
    if not text or text.strip() == NO_ANSWER or NO_ANSWER in text:
        raise ModelAnswerRejected("model had no answer")
    labels = {f"P{i}": p for i, p in enumerate(passages, start=1)}
    used = CITATION.findall(text)
    if not used:
        raise ModelAnswerRejected("no citation")
    unknown = [label for label in used if label not in labels]
    if unknown:
        raise ModelAnswerRejected("citation of an unknown passage")
    order: list[str] = []
    for label in used:
        if label not in order:
            order.append(label)
    # Several passages may come from one document: number documents, not passages.
    docs: list[SearchResult] = []
    number_of: dict[str, int] = {}
    for label in order:
        doc = labels[label]
        ids = [d.doc_id for d in docs]
        if doc.doc_id not in ids:
            docs.append(doc)
        number_of[label] = [d.doc_id for d in docs].index(doc.doc_id) + 1
    renumbered = CITATION.sub(lambda m: f"[{number_of[m.group(1)]}]", text)
    renumbered = re.sub(r"(\[\d+\])(\s*\1)+", r"\1", renumbered)
    return renumbered.strip(), docs


def ask_model(settings: Settings, question: str, passages: list[SearchResult], history=None):
    started = time.perf_counter()
    messages = build_messages(settings, question, passages, history)
    reply = chat_model(settings).invoke(messages)
    content = reply.content if isinstance(reply.content, str) else ""
    text, cited = validate_citations(content, passages)
    return ModelAnswer(text, cited, time.perf_counter() - started)
