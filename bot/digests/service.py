"""Digests from the database: the period, the group, what they shared, and the ledger.

No Slack here: callers pass in the channel's member ids (jobs/digests.py and the
listeners fetch them). Entry text is never loaded, only each shared entry's themes.

The contributor hashes in the ledger are keyed with SLACK_SIGNING_SECRET (as feedback
votes are), so the server and `tandem digest run` must share the same secret for the
differencing check to recognise the same person across digests.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.db.engine import session_scope
from bot.db.models import (
    DigestConfig,
    DigestRun,
    JournalEntry,
    Leader,
    PeerGroup,
    PeerMember,
    utcnow,
)
from bot.digests.compose import Digest, DigestInputs, Guide, Library, compose_digest
from bot.digests.config import DigestSettings
from bot.knowledge.taxonomy import load_taxonomy
from bot.language_model import chat_model
from bot.reflection.prompts import load_questions
from bot.schedule import latest_occurrence, next_occurrence, to_utc
from bot.services.safety import neutralise
from bot.settings import Settings
from bot.statuses import DigestRunStatus, LeaderStatus, PeerGroupStatus, Sharing
from bot.text import read_yaml

log = logging.getLogger(__name__)
GUIDES_PER_THEME = 3
MODEL_MAX_TOKENS = 220
MODEL_MAX_CHARS = 700


@dataclass(frozen=True)
class Period:
    """What a digest covers: entries made after `start` up to and including `end` (UTC)."""

    key: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class SharedEntry:
    author: str
    themes: str
    sharing: str


def contributor_salt(settings: Settings) -> str:
    return settings.secret_value("slack_signing_secret") or "tandem"


# --- periods ---------------------------------------------------------------------


def _cadence_length(config: DigestSettings) -> dt.timedelta:
    return dt.timedelta(weeks=2 if config.cadence == "fortnightly" else 1)


def _period_ending(config: DigestSettings, key: str, end: dt.datetime) -> Period:
    previous = latest_occurrence(config.schedule, end - dt.timedelta(seconds=1))
    start = previous.due_utc if previous else end - _cadence_length(config)
    return Period(key, start, end)


def period_due_at(config: DigestSettings, at: dt.datetime) -> Period | None:
    """The digest scheduled at or most recently before `at` (naive UTC): what a run posts."""
    occurrence = latest_occurrence(config.schedule, at)
    if occurrence is None:
        return None
    return _period_ending(config, occurrence.period_key, occurrence.due_utc)


def period_in_progress(config: DigestSettings, now: dt.datetime) -> tuple[Period, dt.datetime]:
    """For a preview: everything since the last digest, as if the next one went out now.

    Returns the period (keyed as the next scheduled digest) and that digest's local time.
    """
    upcoming = next_occurrence(config.schedule, now)
    if upcoming is None:  # cannot happen for weekly or fortnightly, but never guess wrong
        upcoming = (now + _cadence_length(config)).replace(tzinfo=dt.UTC)
    next_key = latest_occurrence(config.schedule, to_utc(upcoming))
    key = next_key.period_key if next_key else "preview"
    last = latest_occurrence(config.schedule, now)
    start = last.due_utc if last else now - _cadence_length(config)
    return Period(key, start, now), upcoming


# --- what the digest draws on ------------------------------------------------------


@lru_cache(maxsize=4)
def load_wording(prompts_dir: Path) -> dict:
    return read_yaml((Path(prompts_dir) / "digests" / "summary.yaml").read_text("utf-8"))


_libraries: dict[tuple, Library] = {}
_libraries_lock = threading.Lock()


def _guidance_by_search(settings: Settings, themes) -> dict[str, list[Guide]]:
    from bot.knowledge.retrieval import get_retriever

    retriever = get_retriever(settings)
    if retriever.empty:
        return {}
    found: dict[str, list[Guide]] = {}
    for theme in themes:
        outcome = retriever.search(f"{theme.name}. {theme.about}", k=10)
        primary = [
            Guide(r.doc_id, r.title, r.summary)
            for r in outcome.results
            if r.themes and r.themes[0] == theme.slug
        ]
        found[theme.slug] = primary[:GUIDES_PER_THEME] or [
            Guide(r.doc_id, r.title, r.summary) for r in outcome.results[:1]
        ]
    return found


def _guidance_by_primary_theme(settings: Settings, themes) -> dict[str, list[Guide]]:
    """Without an index: the documents whose primary theme matches, in id order."""
    from bot.knowledge.documents import check_knowledge_base

    report = check_knowledge_base(settings.knowledge_dir, {t.slug for t in themes})
    found: dict[str, list[Guide]] = {}
    for doc in sorted(report.documents, key=lambda d: d.id):
        found.setdefault(doc.themes[0], []).append(Guide(doc.id, doc.title, doc.summary))
    return {slug: docs[:GUIDES_PER_THEME] for slug, docs in found.items()}


def load_library(settings: Settings) -> Library:
    """Taxonomy, guidance candidates per theme, questions and wording; built once per index."""
    key = (
        str(settings.knowledge_dir),
        str(settings.prompts_dir),
        settings.chroma_url,
        str(settings.resolved_chroma_path),
        settings.chroma_collection,
    )
    with _libraries_lock:
        if key in _libraries:
            return _libraries[key]
    themes = load_taxonomy(settings.knowledge_dir / "taxonomy.yaml")
    try:
        guidance = _guidance_by_search(settings, themes)
    except Exception as error:  # an unreadable index: fall back to the documents themselves
        log.warning("digest guidance search unavailable: %s", type(error).__name__)
        guidance = {}
    if not guidance:
        guidance = _guidance_by_primary_theme(settings, themes)
    questions: dict[str, list[str]] = {}
    for question in load_questions(settings.prompts_dir):
        questions.setdefault(question.theme, []).append(question.text)
    library = Library(
        theme_names={t.slug: t.name for t in themes},
        guidance=guidance,
        questions=questions,
        wording=dict(load_wording(settings.prompts_dir)["offline"]),
    )
    with _libraries_lock:
        _libraries[key] = library
    return library


# --- loading rows ------------------------------------------------------------------


def group_of(settings: Settings, team_id: str, member_ids) -> dict[int, str]:
    """Leader id -> user id for the channel's members who take part in check-ins."""
    members = sorted(set(member_ids))
    group: dict[int, str] = {}
    with session_scope(settings) as session:
        for start in range(0, len(members), 500):
            chunk = members[start : start + 500]
            for leader_id, user_id in session.execute(
                select(Leader.id, Leader.slack_user_id).where(
                    Leader.team_id == team_id,
                    Leader.status == LeaderStatus.ACTIVE,
                    Leader.slack_user_id.in_(chunk),
                )
            ):
                group[leader_id] = user_id
    return group


def shared_entries(settings: Settings, group: dict[int, str], period: Period) -> list[SharedEntry]:
    """Themes of entries the group shared with the team in the period. Never their text."""
    ids = list(group)
    rows: list[SharedEntry] = []
    with session_scope(settings) as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for leader_id, themes, sharing in session.execute(
                select(JournalEntry.leader_id, JournalEntry.themes, JournalEntry.sharing).where(
                    JournalEntry.leader_id.in_(chunk),
                    JournalEntry.sharing == Sharing.TEAM,
                    JournalEntry.created_at > period.start,
                    JournalEntry.created_at <= period.end,
                )
            ):
                rows.append(SharedEntry(group[leader_id], themes or "", sharing))
    return rows


def connections_made(settings: Settings, group: dict[int, str], period: Period) -> int:
    """Peer introductions sent in the period that involve someone in the group."""
    if not group:
        return 0
    ids = list(group)
    found: set[int] = set()
    with session_scope(settings) as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found.update(
                session.scalars(
                    select(PeerGroup.id)
                    .join(PeerMember, PeerMember.group_id == PeerGroup.id)
                    .where(
                        PeerGroup.status == PeerGroupStatus.SENT,
                        PeerGroup.created_at > period.start,
                        PeerGroup.created_at <= period.end,
                        PeerMember.leader_id.in_(chunk),
                    )
                )
            )
    return len(found)


def _shown(raw: str | None) -> dict[str, list[str]]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def earlier_digests(
    settings: Settings, config: DigestSettings, period: Period
) -> tuple[dict[str, list[str]], list[dict[str, list[str]]]]:
    """What this channel's previous release showed, and what other channels showed lately."""
    live = (
        DigestRunStatus.PREVIEWED,
        DigestRunStatus.CLAIMED,
        DigestRunStatus.UNSENT,
        DigestRunStatus.POSTED,
    )
    with session_scope(settings) as session:
        previous = session.scalars(
            select(DigestRun.shown)
            .where(
                DigestRun.config_id == config.id,
                DigestRun.period_key != period.key,
                DigestRun.status.in_(live),
            )
            .order_by(DigestRun.created_at.desc(), DigestRun.id.desc())
            .limit(1)
        ).first()
        others: dict[int, str] = {}
        for config_id, shown in session.execute(
            select(DigestRun.config_id, DigestRun.shown)
            .join(DigestConfig, DigestConfig.id == DigestRun.config_id)
            .where(
                DigestConfig.team_id == config.team_id,
                DigestRun.config_id != config.id,
                DigestRun.status.in_(live),
                DigestRun.created_at > period.start,
            )
            .order_by(DigestRun.created_at.desc(), DigestRun.id.desc())
        ):
            others.setdefault(config_id, shown)  # the latest of each channel
    return _shown(previous), [_shown(s) for s in others.values()]


# --- composing ---------------------------------------------------------------------


def build_digest(
    settings: Settings,
    config: DigestSettings,
    period: Period,
    member_ids,
    *,
    use_model: bool = True,
) -> Digest:
    """Load what the period needs, compose it, and (optionally) let the model write the
    paragraph from the aggregated themes alone."""
    library = load_library(settings)
    group = group_of(settings, config.team_id, member_ids)
    previous, others = earlier_digests(settings, config, period)
    inputs = DigestInputs(
        team_id=config.team_id,
        channel=config.channel_id,
        period=period.key,
        cadence=config.cadence,
        k=config.k,
        sections=config.sections,
        salt=contributor_salt(settings),
        group=frozenset(group.values()),
        entries=shared_entries(settings, group, period),
        connections=connections_made(settings, group, period),
        previous_shown=previous,
        others_shown=others,
    )
    digest = compose_digest(inputs, library)
    if use_model and settings.llm_configured and digest.themes:
        paragraph = model_paragraph(settings, digest)
        if paragraph:
            digest = replace(digest, text=paragraph)
    return digest


def model_paragraph(settings: Settings, digest: Digest) -> str | None:
    """A short paragraph from the configured model; it sees theme names and nothing else
    about the group. Any failure (timeout, error, empty or overlong reply) returns None."""
    try:
        from langchain_core.prompts import ChatPromptTemplate

        prompt = load_wording(settings.prompts_dir)
        template = ChatPromptTemplate.from_messages(
            [("system", prompt["system"]), ("human", prompt["user"])]
        )
        messages = template.format_messages(
            themes="\n".join(f"- {t.name}" for t in digest.themes),
            period=digest.period_word,
            guidance=digest.guidance.title if digest.guidance else "none this time",
        )
        model = chat_model(settings, temperature=0.3, max_tokens=MODEL_MAX_TOKENS)
        reply = model.invoke(messages)
    except Exception as error:
        log.warning("digest paragraph from the model failed: %s", type(error).__name__)
        return None
    content = reply.content if isinstance(reply.content, str) else ""
    # Plain text: Slack control sequences, broadcasts and links are dropped.
    text = " ".join(neutralise(content, (), plain=True).split())
    if not text or len(text) > MODEL_MAX_CHARS:
        return None
    return text


# --- the ledger: releases ---------------------------------------------------------
#
# A release is any showing of a period's aggregates: a preview, a dry run, the post. The
# first release of a (channel, period) fixes its content, and every later showing of that
# period, the post included, replays it. So watching previews while someone leaves or joins
# the channel shows the same thing each time: there is nothing to subtract. Reflections made
# after the cutoff count towards the next period, which starts where this one was cut off.

WITH_CONTENT = (
    DigestRunStatus.PREVIEWED,
    DigestRunStatus.CLAIMED,
    DigestRunStatus.POSTED,
    DigestRunStatus.FAILED,
)


def _previous_cutoff(session, config: DigestSettings, period: Period) -> dt.datetime | None:
    previous = latest_occurrence(config.schedule, period.start)
    if previous is None or previous.period_key == period.key:
        return None
    return session.scalar(
        select(DigestRun.cutoff).where(
            DigestRun.config_id == config.id, DigestRun.period_key == previous.period_key
        )
    )


def continuing(settings: Settings, config: DigestSettings, period: Period) -> Period:
    """The period, starting where the previous release was cut off (when that was earlier)."""
    with session_scope(settings) as session:
        cutoff = _previous_cutoff(session, config, period)
    if cutoff is not None and cutoff < period.start:
        return replace(period, start=cutoff)
    return period


def _release_of(session, config_id: int, period_key: str) -> DigestRun | None:
    return session.scalars(
        select(DigestRun).where(
            DigestRun.config_id == config_id, DigestRun.period_key == period_key
        )
    ).first()


def _as_digest(run: DigestRun) -> Digest | None:
    if not run.content:
        return None  # released before releases were recorded: nothing can be shown again
    try:
        return Digest.from_record(json.loads(run.content), _shown(run.shown))
    except (ValueError, KeyError, TypeError):
        return None


def released(settings: Settings, config_id: int, period_key: str) -> tuple[bool, Digest | None]:
    """Whether the period was released, and its digest exactly as released (None when an
    old release kept no content)."""
    with session_scope(settings) as session:
        run = _release_of(session, config_id, period_key)
        return (run is not None, _as_digest(run) if run is not None else None)


def _release_values(digest: Digest, cutoff: dt.datetime) -> dict:
    """What the ledger keeps of a release: who counted (hashed), what was shown, and when."""
    return {
        "shown": json.dumps(digest.shown, sort_keys=True),
        "content": json.dumps(digest.to_record(), ensure_ascii=False),
        "cutoff": cutoff,
    }


def release(
    settings: Settings,
    config: DigestSettings,
    period: Period,
    members: Callable[[], list[str]],
    now: dt.datetime,
    *,
    use_model: bool = True,
) -> Digest | None:
    """The period's digest for a preview or a dry run: its first release if it has one,
    otherwise composed now (counting entries up to now) and recorded as its release.
    `members()` is asked for the channel's members only when the digest is composed.

    None only for a period released before releases kept their content."""
    was_released, digest = released(settings, config.id, period.key)
    if was_released:
        return digest
    period = continuing(settings, config, replace(period, end=min(period.end, now)))
    digest = build_digest(settings, config, period, members(), use_model=use_model)
    try:
        with session_scope(settings) as session:
            session.add(
                DigestRun(
                    config_id=config.id,
                    period_key=period.key,
                    status=DigestRunStatus.PREVIEWED,
                    **_release_values(digest, period.end),
                )
            )
    except IntegrityError:  # released by someone else a moment ago: show theirs
        return released(settings, config.id, period.key)[1]
    return digest


def run_status(settings: Settings, config_id: int, period_key: str) -> str | None:
    with session_scope(settings) as session:
        return session.scalar(
            select(DigestRun.status).where(
                DigestRun.config_id == config_id, DigestRun.period_key == period_key
            )
        )


# A release not (yet) posted: fixed by a preview, or left when Slack was busy or unreachable.
WAITING = (DigestRunStatus.PREVIEWED, DigestRunStatus.UNSENT)


def already_run(settings: Settings, config_id: int, period_key: str) -> bool:
    """Whether the period's post was claimed (a preview alone does not count)."""
    status = run_status(settings, config_id, period_key)
    return status is not None and status not in WAITING


def claim_run(settings: Settings, config_id: int, period_key: str) -> int | None:
    """Claim a channel's digest for a period; None when another tick or replica has it.

    A period that was previewed (or left unsent) is claimed by moving it on: exactly one
    claimant wins that update, as exactly one wins the insert."""
    try:
        with session_scope(settings) as session:
            run = DigestRun(
                config_id=config_id, period_key=period_key, status=DigestRunStatus.CLAIMED
            )
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        pass
    with session_scope(settings) as session:
        moved = session.execute(
            update(DigestRun)
            .where(
                DigestRun.config_id == config_id,
                DigestRun.period_key == period_key,
                DigestRun.status.in_(WAITING),
            )
            .values(status=DigestRunStatus.CLAIMED)
        )
        if moved.rowcount != 1:
            return None
        return session.scalar(
            select(DigestRun.id).where(
                DigestRun.config_id == config_id, DigestRun.period_key == period_key
            )
        )


def fixed_digest(settings: Settings, run_id: int) -> Digest | None:
    """The content a claimed run must post, when a preview already fixed it."""
    with session_scope(settings) as session:
        run = session.get(DigestRun, run_id)
        return _as_digest(run) if run is not None else None


def record_release(settings: Settings, run_id: int, digest: Digest, cutoff: dt.datetime) -> None:
    with session_scope(settings) as session:
        session.execute(
            update(DigestRun)
            .where(DigestRun.id == run_id)
            .values(**_release_values(digest, cutoff))
        )


def mark_posted(settings: Settings, run_id: int, message_ts: str) -> None:
    with session_scope(settings) as session:
        session.execute(
            update(DigestRun)
            .where(DigestRun.id == run_id)
            .values(status=DigestRunStatus.POSTED, posted_at=utcnow(), message_ts=message_ts)
        )


def mark_unsent(settings: Settings, run_id: int) -> None:
    """Slack was busy or unreachable: its fixed content is posted by the next tick."""
    with session_scope(settings) as session:
        session.execute(
            update(DigestRun).where(DigestRun.id == run_id).values(status=DigestRunStatus.UNSENT)
        )


def mark_failed(settings: Settings, run_id: int) -> None:
    with session_scope(settings) as session:
        session.execute(
            update(DigestRun).where(DigestRun.id == run_id).values(status=DigestRunStatus.FAILED)
        )
