"""Health-and-care nouns that should not sway search (`knowledge/vocabulary.yaml`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Vocabulary:
    pattern: re.Pattern | None
    group_of: dict[str, str]  # lower-case term -> group name

    def normalise(self, text: str) -> str:
        """The text with every known term replaced by its group's name."""
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.group_of[_key(m.group(0))], text)

    def groups_in(self, text: str) -> list[str]:
        if self.pattern is None:
            return []
        return sorted({self.group_of[_key(m.group(0))] for m in self.pattern.finditer(text)})


def _key(found: str) -> str:
    return " ".join(found.lower().split())


@lru_cache(maxsize=4)
def load_vocabulary(path: Path) -> Vocabulary:
    if not Path(path).exists():
        return Vocabulary(None, {})
    data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    group_of: dict[str, str] = {}
    for group, terms in (data.get("groups") or {}).items():
        for term in terms or []:
            group_of[str(term).lower()] = str(group)
    if not group_of:
        return Vocabulary(None, {})
    alternatives = sorted(group_of, key=len, reverse=True)  # longest phrase first
    words = "|".join(re.escape(term).replace(r"\ ", r"\s+") for term in alternatives)
    pattern = re.compile(rf"(?<![\w-])(?:{words})s?(?![\w-])", re.I)
    # Plurals ("hospices") map like the singular.
    group_of.update({f"{term}s": group for term, group in list(group_of.items())})
    return Vocabulary(pattern, group_of)
