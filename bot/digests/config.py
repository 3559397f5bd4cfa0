"""A channel's digest settings: validated once here, for the modal and the CLI alike.

A digest never aggregates fewer than MIN_K people: below three, a "theme" could point
straight at someone. Who may set one up is decided here too, so the Slack layer and the
CLI cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from bot.db.engine import session_scope
from bot.db.models import DigestConfig, utcnow
from bot.schedule import DAYS, Schedule, ScheduleError, parse_time, validate
from bot.settings import Settings

DIGEST_CADENCES = ("weekly", "fortnightly")
SECTIONS = ("themes", "guidance", "question", "connections", "invitation")
SECTION_LABELS = {
    "themes": "Themes people are reflecting on",
    "guidance": "Guidance of the week",
    "question": "A question for the team",
    "connections": "Peer connections made",
    "invitation": "An invitation to join check-ins",
}
DEFAULT_K = 5
MIN_K = 3
MAX_K = 50


class DigestConfigError(ValueError):
    """A digest setting someone chose is not usable; the message says why, kindly."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DigestSettings:
    """A channel's digest configuration, detached from the database session."""

    id: int
    team_id: str
    channel_id: str
    cadence: str
    day: str
    local_time: str
    time_zone: str
    k: int
    sections: tuple[str, ...]
    configured_by: str
    anchor_date: dt.date

    @property
    def schedule(self) -> Schedule:
        return Schedule(
            cadence=self.cadence,
            day=self.day,
            local_time=self.local_time,
            time_zone=self.time_zone,
            anchor=self.anchor_date,
        )

    def includes(self, section: str) -> bool:
        return section in self.sections


def _view(row: DigestConfig) -> DigestSettings:
    return DigestSettings(
        id=row.id,
        team_id=row.team_id,
        channel_id=row.channel_id,
        cadence=row.cadence,
        day=row.day,
        local_time=row.local_time,
        time_zone=row.time_zone,
        k=row.k,
        sections=parse_sections(row.sections),
        configured_by=row.configured_by,
        anchor_date=row.anchor_date,
    )


def parse_sections(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    chosen = raw.split(",") if isinstance(raw, str) else list(raw)
    wanted = {s.strip().lower() for s in chosen if s.strip()}
    return tuple(s for s in SECTIONS if s in wanted)


def check_k(k: int | str | None) -> int:
    """The minimum group size as a number no lower than MIN_K."""
    try:
        value = int(str(k).strip())
    except (TypeError, ValueError):
        raise DigestConfigError("Please enter a whole number, such as 5.", "k") from None
    if value < MIN_K:
        raise DigestConfigError(
            f"The minimum group size can't go below {MIN_K}: with fewer people, a theme "
            "could point to someone. 5 is a good default.",
            "k",
        )
    if value > MAX_K:
        raise DigestConfigError(f"Please choose {MAX_K} or fewer.", "k")
    return value


def check_settings(
    cadence: str, day: str, local_time: str, time_zone: str, k, sections
) -> tuple[str, str, str, str, int, tuple[str, ...]]:
    """Normalised values, or DigestConfigError naming the field that needs changing."""
    cadence = (cadence or "").strip().lower()
    if cadence not in DIGEST_CADENCES:
        raise DigestConfigError(
            f"How often must be one of {', '.join(DIGEST_CADENCES)} (not '{cadence}').", "cadence"
        )
    day = (day or "").strip().lower()[:3]
    if day not in DAYS:
        raise DigestConfigError(f"Day must be one of {', '.join(DAYS)} (not '{day}').", "day")
    try:
        moment = parse_time(local_time or "")
        validate(cadence, day, f"{moment:%H:%M}", (time_zone or "").strip())
    except ScheduleError as problem:
        field = "tz" if "time zone" in str(problem) else "time"
        raise DigestConfigError(str(problem), field) from None
    value = check_k(k)
    chosen = parse_sections(sections)
    if not chosen:
        raise DigestConfigError("Please choose at least one section.", "sections")
    return cadence, day, f"{moment:%H:%M}", time_zone.strip(), value, chosen


def configure_digest(
    settings: Settings,
    team_id: str,
    channel_id: str,
    *,
    cadence: str = "weekly",
    day: str = "fri",
    local_time: str = "15:00",
    time_zone: str = "Europe/London",
    k: int | str = DEFAULT_K,
    sections=SECTIONS,
    configured_by: str = "",
) -> DigestSettings:
    """Create or change a channel's digest; the fortnightly rhythm keeps its first anchor."""
    cadence, day, local_time, time_zone, k, chosen = check_settings(
        cadence, day, local_time, time_zone, k, sections
    )
    with session_scope(settings) as session:
        row = session.scalars(
            select(DigestConfig).where(
                DigestConfig.team_id == team_id, DigestConfig.channel_id == channel_id
            )
        ).first()
        if row is None:
            row = DigestConfig(team_id=team_id, channel_id=channel_id, anchor_date=utcnow().date())
            session.add(row)
        row.cadence, row.day, row.local_time, row.time_zone = cadence, day, local_time, time_zone
        row.k, row.sections = k, ",".join(chosen)
        if configured_by:
            row.configured_by = configured_by
        session.flush()
        return _view(row)


def get_config(settings: Settings, team_id: str, channel_id: str) -> DigestSettings | None:
    with session_scope(settings) as session:
        row = session.scalars(
            select(DigestConfig).where(
                DigestConfig.team_id == team_id, DigestConfig.channel_id == channel_id
            )
        ).first()
        return _view(row) if row else None


def all_configs(settings: Settings) -> list[DigestSettings]:
    with session_scope(settings) as session:
        return [_view(r) for r in session.scalars(select(DigestConfig).order_by(DigestConfig.id))]


def digest_admin_ids(settings: Settings) -> frozenset[str]:
    return frozenset(u.strip() for u in settings.digest_admins.split(",") if u.strip())


def may_configure(settings: Settings, user_id: str, user_info: dict, channel_members) -> bool:
    """Digest admins anywhere; otherwise workspace admins or owners who are in the channel."""
    if user_id in digest_admin_ids(settings):
        return True
    is_admin = bool(user_info.get("is_admin") or user_info.get("is_owner"))
    return is_admin and user_id in set(channel_members)


def may_preview(settings: Settings, user_id: str, config: DigestSettings) -> bool:
    """Only the person who set the digest up, or a digest admin, sees it ahead of time."""
    return user_id in digest_admin_ids(settings) or (
        bool(config.configured_by) and user_id == config.configured_by
    )
