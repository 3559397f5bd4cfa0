"""Health-and-care nouns that should not sway search, and abbreviations read in full
(`knowledge/vocabulary.yaml`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.text import read_yaml

NORMALISE_VERSION = 1  # bump when `normalise` reads the same vocabulary differently


@dataclass(frozen=True)
class Vocabulary:
    pattern: re.Pattern | None
    group_of: dict[str, str]  # lower-case term -> group name
    abbreviations: re.Pattern | None = None
    expansion_of: dict[str, str] = field(default_factory=dict)  # "CD" -> "clinical director"
    shorthand: re.Pattern | None = None
    shorthand_of: dict[str, str] = field(default_factory=dict)  # "mtg" -> "meeting"

    def expanded(self, text: str) -> str:
        """The text with known abbreviations and Slack shorthand written out ("PCN CDs" ->
        "PCN clinical directors", "mtg w ceo" -> "meeting with chief executive")."""
        if self.abbreviations is not None:
            text = self.abbreviations.sub(
                lambda m: self.expansion_of[m.group(1)] + m.group(2), text
            )
        if self.shorthand is not None:
            text = self.shorthand.sub(
                lambda m: self.shorthand_of[" ".join(m.group(0).lower().split())], text
            )
        return text

    def normalise(self, text: str) -> str:
        """The text with abbreviations and Slack shorthand written out and every known term
        replaced by its group's name."""
        text = self.expanded(text)
        if self.pattern is None:
            return text

        def group(match: re.Match) -> str:
            found = match.group(0)
            name = self.group_of[_key(found)]
            return f"the {name}" if _DETERMINER.match(found) else name

        return self.pattern.sub(group, text)

    def fingerprint(self) -> str:
        """Everything `normalise` depends on, as text: part of the key of anything saved
        from normalised text, so a changed vocabulary can never reuse it."""
        return repr(
            (
                NORMALISE_VERSION,
                _DETERMINER.pattern,
                (self.pattern.pattern, self.pattern.flags) if self.pattern else None,
                sorted(self.group_of.items()),
                (self.abbreviations.pattern, self.abbreviations.flags)
                if self.abbreviations
                else None,
                sorted(self.expansion_of.items()),
                (self.shorthand.pattern, self.shorthand.flags) if self.shorthand else None,
                sorted(self.shorthand_of.items()),
            )
        )

    def group_for(self, found: str) -> str | None:
        """The group of a term as the pattern matched it (determiner and case ignored)."""
        return self.group_of.get(_key(found))

    def groups_in(self, text: str) -> list[str]:
        if self.pattern is None:
            return []
        return sorted({self.group_of[_key(m.group(0))] for m in self.pattern.finditer(text)})


_DETERMINER = re.compile(r"^(the|our|a|an|their|my|your|this|that)\s+", re.I)


def _key(found: str) -> str:
    return _DETERMINER.sub("", " ".join(found.lower().split()))


@lru_cache(maxsize=4)
def load_vocabulary(path: Path) -> Vocabulary:
    if not Path(path).exists():
        return Vocabulary(None, {})
    data = read_yaml(Path(path).read_text("utf-8")) or {}
    expansion_of = {str(k): str(v) for k, v in (data.get("abbreviations") or {}).items()}
    abbreviations = None
    if expansion_of:
        # Capitals only, a plural "s" allowed; never after a number ("2 PM" is a time).
        short = "|".join(re.escape(a) for a in sorted(expansion_of, key=len, reverse=True))
        abbreviations = re.compile(rf"(?<![\w-])(?<!\d\s)({short})(s?)(?![\w-])")
    shorthand_of = {str(k).lower(): str(v) for k, v in (data.get("shorthand") or {}).items()}
    shorthand = None
    if shorthand_of:
        # Whole words in any case, but single letters in lower case only ("W. Yorkshire");
        # "w/o" and "w/" before "w"; a phrase matches however many spaces were typed.
        typed = "|".join(
            re.escape(s).replace(r"\ ", r"\s+") if len(s) > 1 else f"(?-i:{re.escape(s)})"
            for s in sorted(shorthand_of, key=len, reverse=True)
        )
        shorthand = re.compile(rf"(?<![\w/'-])(?:{typed})(?![\w/'-])", re.I)
    group_of: dict[str, str] = {}
    for group, terms in (data.get("groups") or {}).items():
        for term in terms or []:
            group_of[str(term).lower()] = str(group)
    if not group_of:
        return Vocabulary(None, {}, abbreviations, expansion_of, shorthand, shorthand_of)
    alternatives = sorted(group_of, key=len, reverse=True)  # longest phrase first
    words = "|".join(re.escape(term).replace(r"\ ", r"\s+") for term in alternatives)
    # A determiner in front ("our PCN", "the hospice", "a council") goes with the term: which
    # partner it is, and how the leader points at it, should not sway search.
    pattern = re.compile(
        rf"(?<![\w-])(?:(?:the|our|a|an|their|my|your|this|that)\s+)?(?:{words})s?(?![\w-])",
        re.I,
    )
    # Plurals ("hospices") map like the singular.
    group_of.update({f"{term}s": group for term, group in list(group_of.items())})
    return Vocabulary(pattern, group_of, abbreviations, expansion_of, shorthand, shorthand_of)
