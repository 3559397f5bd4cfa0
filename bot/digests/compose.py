"""The digest as data: pure aggregation from rows already loaded. No Slack, no database.

What a digest may say, and the rules that keep it from ever pointing at a person:

1. **Only what people chose to share.** An entry counts only when its author marked it
   ``sharing == "team"`` and the author is in the channel's group (members of the channel
   who take part in check-ins). Private and peers-only entries never count. Entry text is
   never read here: only the taxonomy themes an entry was tagged with.
2. **Distinct people, minimum group size.** A theme's weight is the number of *different*
   contributors, not entries. A theme is shown only when at least ``k`` people contributed
   (``k`` is at least 3, default 5), and then only as a band ("5–9", "10–19", "20+"),
   never an exact count. A group smaller than ``k`` gets no aggregate at all: no themes,
   no connections count, no group size.
3. **No differencing.** Two digests must not be subtractable to learn about one person.
   For each theme about to be shown, its contributor set (salted hashes, never user ids)
   is compared with the set shown for that theme (empty when it was not shown) in

   * the previous digest of this channel, and
   * the latest digest of every other channel of the workspace in the same period.

   If the symmetric difference is non-empty but smaller than ``k``, the theme is
   suppressed this time. (Comparing with every channel is the same as comparing with
   those sharing a member: two disjoint contributor sets, each empty or of at least ``k``
   people, always differ by zero or at least ``k``.) What was shown is returned in
   ``Digest.shown`` for the ledger, so the next digest can make the same check.
4. **Nothing per person.** No names, quotes, entry text, participation rates or
   "who answered". Guidance and the question follow the leading *shown* theme; when no
   theme is shown they follow a theme chosen from the channel and period alone, so they
   reveal nothing about what was written.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from bot.statuses import Sharing
from bot.text import split_themes

BANDS = ((20, "20+"), (10, "10–19"), (5, "5–9"), (0, "under 5"))
ALL_SECTIONS = ("themes", "guidance", "question", "connections", "invitation")


class SharedRow(Protocol):
    """What compose reads from a journal entry: who wrote it, its themes, its sharing."""

    author: str
    themes: Sequence[str] | str
    sharing: str


@dataclass(frozen=True)
class Guide:
    doc_id: str
    title: str
    summary: str = ""


@dataclass(frozen=True)
class Library:
    """Reference material the digest draws on: the taxonomy, guidance, questions, wording."""

    theme_names: Mapping[str, str]  # slug -> name, in taxonomy order
    guidance: Mapping[str, Sequence[Guide]]  # slug -> candidate documents, best first
    questions: Mapping[str, Sequence[str]]  # slug -> question texts
    wording: Mapping[str, str]  # offline templates (prompts/digests/summary.yaml)


@dataclass(frozen=True)
class DigestInputs:
    team_id: str
    channel: str
    period: str
    cadence: str
    k: int
    sections: Sequence[str]
    salt: str
    group: Iterable[str]  # user ids of the group: hashed on the way in, never kept
    entries: Iterable[SharedRow]  # may hold text too: it is never read
    connections: int = 0  # peer introductions sent this period involving the group
    previous_shown: Mapping[str, Sequence[str]] = field(default_factory=dict)
    others_shown: Sequence[Mapping[str, Sequence[str]]] = ()


@dataclass(frozen=True)
class ThemeLine:
    slug: str
    name: str
    band: str


@dataclass
class Digest:
    channel: str
    period: str
    cadence: str
    k: int
    group_size_band: str
    themes: list[ThemeLine]
    guidance: Guide | None
    question: str
    connections_band: str
    invitation: bool
    text: str
    # theme -> contributor hashes: for the ledger only, never shown or printed.
    shown: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @property
    def period_word(self) -> str:
        return "fortnight" if self.cadence == "fortnightly" else "week"

    @property
    def headline(self) -> str:
        """The brief top-level message; the detail goes in its thread."""
        parts = []
        if self.themes:
            parts.append(f"{len(self.themes)} theme{'s' if len(self.themes) != 1 else ''}")
        if self.guidance:
            parts.append("guidance")
        if self.question:
            parts.append("a question for the team")
        listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)
        lead = f"This {self.period_word}'s reflection digest"
        return f"{lead}: {listed} — details in the thread" if listed else f"{lead} is in the thread"

    def as_json(self) -> dict:
        """The stable contract of `tandem digest run --json`; suppressed parts are empty."""
        return {
            "channel": self.channel,
            "period": self.period,
            "group_size_band": self.group_size_band,
            "themes": [{"slug": t.slug, "band": t.band} for t in self.themes],
            "guidance": (
                {"doc_id": self.guidance.doc_id, "title": self.guidance.title}
                if self.guidance
                else {}
            ),
            "question": self.question,
            "connections_band": self.connections_band,
            "text": self.text,
        }

    def to_record(self) -> dict:
        """What the ledger keeps of a released digest: everything shown, no one's hash."""
        return {
            "channel": self.channel,
            "period": self.period,
            "cadence": self.cadence,
            "k": self.k,
            "group_size_band": self.group_size_band,
            "themes": [[t.slug, t.name, t.band] for t in self.themes],
            "guidance": (
                [self.guidance.doc_id, self.guidance.title, self.guidance.summary]
                if self.guidance
                else None
            ),
            "question": self.question,
            "connections_band": self.connections_band,
            "invitation": self.invitation,
            "text": self.text,
        }

    @classmethod
    def from_record(cls, record: Mapping, shown: Mapping[str, Sequence[str]]) -> Digest:
        """The digest exactly as it was released (see ``to_record``)."""
        guide = record.get("guidance")
        return cls(
            channel=record["channel"],
            period=record["period"],
            cadence=record["cadence"],
            k=int(record["k"]),
            group_size_band=record["group_size_band"],
            themes=[ThemeLine(*line) for line in record["themes"]],
            guidance=Guide(*guide) if guide else None,
            question=record["question"],
            connections_band=record["connections_band"],
            invitation=bool(record["invitation"]),
            text=record["text"],
            shown={theme: list(people) for theme, people in shown.items()},
        )


def contributor_hash(salt: str, team_id: str, user_id: str) -> str:
    """A keyed hash: stable across channels and digests, meaningless without the salt."""
    message = f"digest-contributor:{team_id}:{user_id}".encode()
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()[:32]


def band(count: int, k: int) -> str:
    """A count as a band, or "" when it is below the minimum group size."""
    if count < max(k, 1):
        return ""
    return next(label for floor, label in BANDS if count >= floor)


def _band_rank(label: str) -> int:
    return next(i for i, (_floor, name) in enumerate(BANDS) if name == label)


def _themes_of(row: SharedRow) -> list[str]:
    themes = row.themes
    if isinstance(themes, str):
        themes = split_themes(themes)
    return [t.strip() for t in themes if t and t.strip()]


def _seed(*parts: str) -> int:
    return int(hashlib.sha256(":".join(parts).encode()).hexdigest(), 16)


def contributors_by_theme(
    inputs: DigestInputs, known_themes: Iterable[str]
) -> dict[str, frozenset[str]]:
    """Theme -> hashes of the distinct group members who shared an entry on it with the team."""
    known = set(known_themes)
    group = set(inputs.group)
    found: dict[str, set[str]] = {}
    for row in inputs.entries:
        if row.sharing != Sharing.TEAM or row.author not in group:
            continue
        person = contributor_hash(inputs.salt, inputs.team_id, row.author)
        for theme in _themes_of(row):
            if theme in known:
                found.setdefault(theme, set()).add(person)
    return {theme: frozenset(people) for theme, people in found.items()}


def differs_too_little(current: frozenset[str], before: Iterable[str], k: int) -> bool:
    """True when two contributor sets differ, but by fewer than k people."""
    difference = current.symmetric_difference(before)
    return 0 < len(difference) < k


def select_themes(
    inputs: DigestInputs, library: Library
) -> tuple[list[ThemeLine], dict[str, list[str]]]:
    """Themes that pass the minimum group size and the differencing rule, and what was shown."""
    by_theme = contributors_by_theme(inputs, library.theme_names)
    comparisons = [inputs.previous_shown, *inputs.others_shown]
    lines: list[ThemeLine] = []
    shown: dict[str, list[str]] = {}
    for slug, people in by_theme.items():
        label = band(len(people), inputs.k)
        if not label:
            continue
        if any(differs_too_little(people, other.get(slug, ()), inputs.k) for other in comparisons):
            continue
        lines.append(ThemeLine(slug, library.theme_names[slug], label))
        shown[slug] = sorted(people)
    order = list(library.theme_names)
    # Band first (exact counts stay hidden), then the taxonomy's own order.
    lines.sort(key=lambda line: (_band_rank(line.band), order.index(line.slug)))
    return lines, shown


def _rotating_theme(inputs: DigestInputs, library: Library) -> str:
    order = list(library.theme_names)
    return order[_seed("theme", inputs.channel, inputs.period) % len(order)] if order else ""


def _pick(items: Sequence, *seed: str):
    return items[_seed(*seed) % len(items)] if items else None


def _and_list(words: list[str]) -> str:
    if len(words) < 2:
        return "".join(words)
    # "trust and relationships, and psychological safety": names may contain "and" themselves.
    last = ", and " if any(" and " in w for w in words) else " and "
    return ", ".join(words[:-1]) + last + words[-1]


def offline_paragraph(
    library: Library, themes: list[ThemeLine], small_group: bool, k: int, period_word: str
) -> str:
    """The paragraph when no language model writes it: curated wording from prompts/."""
    if small_group:
        template = library.wording.get("small_group", "")
    elif themes:
        template = library.wording.get("themes", "")
    else:
        template = library.wording.get("quiet", "")
    names = _and_list([t.name.lower() for t in themes[:3]])
    return template.format(themes=names, k=k, period=period_word).strip()


def compose_digest(inputs: DigestInputs, library: Library) -> Digest:
    """The whole digest for one channel and period, with every privacy rule applied."""
    inputs = replace(inputs, group=frozenset(inputs.group), entries=tuple(inputs.entries))
    sections = set(inputs.sections)
    group = set(inputs.group)
    small_group = len(group) < inputs.k
    themes: list[ThemeLine] = []
    shown: dict[str, list[str]] = {}
    if not small_group and "themes" in sections:
        themes, shown = select_themes(inputs, library)
    leading = themes[0].slug if themes else _rotating_theme(inputs, library)
    guidance = None
    if "guidance" in sections:
        guidance = _pick(list(library.guidance.get(leading, ())), inputs.channel, inputs.period)
    question = ""
    if "question" in sections:
        question = _pick(list(library.questions.get(leading, ())), inputs.period, inputs.channel)
        question = question or ""
    connections_band = ""
    if not small_group and "connections" in sections:
        connections_band = band(inputs.connections, inputs.k)
    period_word = "fortnight" if inputs.cadence == "fortnightly" else "week"
    return Digest(
        channel=inputs.channel,
        period=inputs.period,
        cadence=inputs.cadence,
        k=inputs.k,
        group_size_band="" if small_group else band(len(group), inputs.k),
        themes=themes,
        guidance=guidance,
        question=question,
        connections_band=connections_band,
        invitation="invitation" in sections,
        text=offline_paragraph(library, themes, small_group, inputs.k, period_word),
        shown=shown,
    )
