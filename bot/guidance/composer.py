"""The offline composer: a short, readable answer from retrieved guidance, no model needed."""

from __future__ import annotations

import re

import Stemmer

from bot.knowledge.retrieval import SearchResult

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


def key_sentence(question: str, result: SearchResult) -> str:
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


def compose(question: str, results: list[SearchResult]) -> str:
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
