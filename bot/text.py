"""Text hygiene shared by ingest and query (strip what a reader cannot see), and the one
way a list of theme slugs is kept in a single text column ("a,b")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Format (Cf) characters such as zero-width spaces and bidi overrides, control (Cc)
# characters other than ordinary whitespace, and private-use or unassigned code points.
_KEEP_CONTROLS = {"\n", "\t"}
_BAD_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs"}
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def invisible_characters(text: str) -> list[tuple[int, str]]:
    """Positions and names of characters that should not appear in curated text."""
    found = []
    for index, char in enumerate(text):
        if char in _KEEP_CONTROLS or char == "\r":
            continue
        if unicodedata.category(char) in _BAD_CATEGORIES:
            found.append((index, f"U+{ord(char):04X}"))
    return found


def clean_text(text: str) -> str:
    """Normalise to NFC, drop invisible and control characters, tidy spaces."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = [
        char
        for char in text
        if char in _KEEP_CONTROLS or unicodedata.category(char) not in _BAD_CATEGORIES
    ]
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(kept).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class CleanQuery:
    text: str
    truncated: bool
    original_length: int


def clean_query(text: str | None, max_chars: int) -> CleanQuery:
    """Clean a user's question and cut it to ``max_chars`` at a word boundary."""
    cleaned = clean_text(text or "")
    if len(cleaned) <= max_chars:
        return CleanQuery(cleaned, False, len(cleaned))
    cut = cleaned[:max_chars]
    space = cut.rfind(" ")
    if space > max_chars * 0.8:
        cut = cut[:space]
    return CleanQuery(cut.rstrip(), True, len(cleaned))


def split_themes(stored: str | None) -> list[str]:
    """Theme slugs from their stored form, in order; empty or missing means none."""
    return [theme for theme in (stored or "").split(",") if theme]


def join_themes(themes: Iterable[str]) -> str:
    """The stored form of theme slugs, in the order given (read back by `split_themes`)."""
    return ",".join(themes)


def read_yaml(text: str):
    """YAML as `yaml.safe_load` reads it, with libyaml's C parser where PyYAML has it (five
    to ten times faster: the wording and example files are read on every start)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
