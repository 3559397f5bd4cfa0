"""Telling conversation from questions, and refusals from both: pure rules, no I/O.

The wording and the patterns live in `prompts/guidance/conversation.yaml` and
`prompts/guidance/refusals.yaml`, so curators can change them without touching code. Who may
see what, and what Tandem will not do, is decided here in code, never left to a model.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.text import read_yaml

REFUSALS = ("privacy", "ranking", "posting", "coercive", "mandate", "injection")
CONVERSATION = (
    "greeting",
    "thanks",
    "help",
    "about_privacy",
    "about_checkins",
    "more_on",
    "something_else",
    "follow_up",
)
FOLLOW_UP_MAX_WORDS = 14
# Contractions typed without their apostrophe ("havent", "dont"), restored before the
# patterns are tried so that one spelling of each pattern is enough.
_BARE_CONTRACTION = re.compile(
    r"\b(haven|hasn|hadn|didn|doesn|don|won|wouldn|couldn|shouldn|isn|aren|wasn|weren|can)t\b",
    re.I,
)
_ORDINALS = {
    word: number
    for number, words in enumerate(
        (
            ("one", "first", "1st"),
            ("two", "second", "2nd"),
            ("three", "third", "3rd"),
            ("four", "fourth", "4th"),
            ("five", "fifth", "5th"),
            ("six", "sixth", "6th"),
        ),
        start=1,
    )
    for word in words
}


@dataclass(frozen=True)
class Intent:
    """What a message is: a question, a bit of conversation, or something to decline."""

    kind: str  # "question", one of CONVERSATION, or one of REFUSALS
    topic: str = ""  # for follow-ups: what the follow-up is about ("with the council")
    which: int | str = 0  # for "more on": the point's number, or "last"


@dataclass(frozen=True)
class Wording:
    conversation: dict
    refusals: dict
    patterns: dict[str, tuple[re.Pattern, ...]]
    strain: tuple[re.Pattern, ...]
    points_back_pattern: re.Pattern
    bare: re.Pattern
    advice_cue: re.Pattern
    fair_cue: re.Pattern
    receiving_end_cue: re.Pattern

    def reply(self, kind: str, unsure: bool = False) -> str:
        """`unsure`: declined by a model that may have misread the message (its own reply,
        where the kind has one)."""
        if kind in REFUSALS:
            entry = self.refusals[kind]
            return " ".join(
                entry.get("unsure_reply" if unsure else "reply", entry["reply"]).split()
            )
        entry = self.conversation[kind]
        return entry["reply"] if isinstance(entry, dict) else entry

    def text(self, key: str, field: str | None = None) -> str:
        value = self.conversation[key]
        if field is not None:
            value = value[field]
        return " ".join(str(value).split()) if "\n" not in str(value).strip() else str(value)

    def redirect(self, label: str) -> str:
        lines = self.refusals["redirects"]
        first = lines.get(label) or lines["general"]
        return f"{first} {' '.join(self.refusals['redirect_tail'].split())}"

    @property
    def refusal_margin(self) -> float:
        """How much closer a message must be to refusal examples than to guidance."""
        return float(self.refusals.get("refusal_margin", 0.0))

    @property
    def advice_margin(self) -> float:
        """The same, for a message that asks for advice ("how do I…")."""
        return float(self.refusals.get("advice_margin", self.refusal_margin))

    def seeks_advice(self, message: str) -> bool:
        return bool(self.advice_cue.search(message))

    def on_receiving_end(self, message: str) -> bool:
        """The leader asks how to answer someone else's request to do what Tandem declines:
        never declined, by any means."""
        return bool(self.receiving_end_cue.search(message))

    def asks_fairly(self, message: str) -> bool:
        """The message asks to do something fairly or openly, or says the asker is on the
        receiving end: never read as coercion, nor declined by a request model."""
        return bool(self.fair_cue.search(message))

    def points_back(self, message: str) -> bool:
        """A short message that points at something said before ("how long should that take?")."""
        short = len(message.split()) <= FOLLOW_UP_MAX_WORDS
        return short and bool(self.points_back_pattern.search(message))

    def acknowledgement(self, question: str) -> str:
        """A word of acknowledgement when the question shows strain, else ""."""
        if not any(p.search(question) for p in self.strain):
            return ""
        options = self.conversation["strain"]["acknowledgements"]
        pick = int(hashlib.sha256(question.encode()).hexdigest(), 16) % len(options)
        return options[pick]


def _compile(patterns) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, re.I) for p in patterns or [])


@lru_cache(maxsize=4)
def load_wording(prompts_dir: Path) -> Wording:
    folder = Path(prompts_dir) / "guidance"
    conversation = read_yaml((folder / "conversation.yaml").read_text("utf-8"))
    refusals = read_yaml((folder / "refusals.yaml").read_text("utf-8"))
    patterns = {kind: _compile(refusals[kind]["patterns"]) for kind in REFUSALS}
    patterns.update({kind: _compile(conversation[kind]["patterns"]) for kind in CONVERSATION})
    return Wording(
        conversation,
        refusals,
        patterns,
        _compile(conversation["strain"]["patterns"]),
        re.compile(conversation["follow_up"]["points_back"], re.I),
        re.compile(conversation["follow_up"]["bare"], re.I),
        re.compile(refusals.get("advice_cue") or r"(?!)", re.I),
        re.compile(refusals.get("fair_cue") or r"(?!)", re.I),
        re.compile(refusals.get("receiving_end") or r"(?!)", re.I),
    )


def _which(raw: str) -> int | str:
    raw = raw.lower()
    if raw.isdigit():
        return int(raw)
    return "last" if raw == "last" else _ORDINALS.get(raw, 0)


def classify(text: str, wording: Wording, *, after_answer: bool = False) -> Intent:
    """The intent of one message, already cleaned (see `bot.text.clean_query`).

    Conversation is only ever a short message (`max_words` in the wording file): a long one
    is a question, whatever words it happens to contain. `after_answer` says an earlier
    answer is in this conversation, so a short message pointing back at it is a follow-up."""
    message = " ".join(text.replace("\u2019", "'").split())
    message = _BARE_CONTRACTION.sub(r"\1't", message)
    words = len(message.split())
    for kind in () if wording.on_receiving_end(message) else REFUSALS:
        if kind == "coercive" and wording.asks_fairly(message):
            continue  # "how do I respond constructively to a threat to go to the press"
        if any(p.search(message) for p in wording.patterns[kind]):
            return Intent(kind)

    def short_enough(kind: str) -> bool:
        return words <= int(wording.conversation[kind].get("max_words", FOLLOW_UP_MAX_WORDS))

    for kind in ("greeting", "thanks", "help", "about_privacy", "about_checkins"):
        if short_enough(kind) and any(p.search(message) for p in wording.patterns[kind]):
            return Intent(kind)
    if short_enough("more_on"):
        for pattern in wording.patterns["more_on"]:
            match = pattern.search(message)
            if match:
                return Intent("more_on", which=_which(match.group("which")))
    if short_enough("something_else") and any(
        p.search(message) for p in wording.patterns["something_else"]
    ):
        return Intent("something_else")
    if words <= FOLLOW_UP_MAX_WORDS:
        for pattern in wording.patterns["follow_up"]:
            match = pattern.search(message)
            if match:
                topic = (match.groupdict().get("topic") or "").strip(" ?.!,")
                return Intent("follow_up", topic=topic)
        if after_answer and wording.points_back(message):
            return Intent("follow_up")
    return Intent("question")
