"""A leader's own choices about meeting peers: in or out, how often, what about, pauses.

Exclusions ("I'd rather not be matched with") are confidential: they are stored only to be
honoured, and are shown to nobody but their author (in their own export).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db.engine import session_scope
from bot.db.models import Leader, PeerExclusion, PeerPreference, utcnow
from bot.knowledge.taxonomy import load_taxonomy
from bot.reflection.leaders import find_leader
from bot.settings import Settings
from bot.statuses import LeaderStatus
from bot.text import join_themes, split_themes

CADENCES = ("fortnightly", "monthly")
DEFAULT_CADENCE = "monthly"
MAX_EXCLUSIONS = 50
PAUSE_FOR_NOW = dt.timedelta(weeks=8)
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")


@dataclass(frozen=True)
class PeerChoices:
    opted_in: bool
    cadence: str
    prefer_other_org: bool
    want: list[str]
    offer: list[str]
    paused_until: dt.date | None
    exclusions: list[str]
    organisation: str
    display_name: str


def known_themes(settings: Settings) -> list[str]:
    return [t.slug for t in load_taxonomy(settings.knowledge_dir / "taxonomy.yaml")]


def _clean_themes(themes, allowed: list[str]) -> str:
    chosen = [t for t in dict.fromkeys(themes or []) if t in allowed]
    return join_themes(chosen)[:400]


def _clean_exclusions(user_ids, own_user_id: str) -> list[str]:
    cleaned = [u for u in dict.fromkeys(user_ids or []) if _USER_ID.match(u or "")]
    return [u for u in cleaned if u != own_user_id][:MAX_EXCLUSIONS]


def ensure_leader(
    session: Session,
    team_id: str,
    user_id: str,
    *,
    display_name: str = "",
    organisation: str | None = None,
    time_zone: str | None = None,
) -> Leader:
    """The person's Leader row, created as peers-only (no check-ins) if they have none."""
    leader = find_leader(session, team_id, user_id)
    if leader is None:
        leader = Leader(
            team_id=team_id,
            slack_user_id=user_id,
            # Check-ins only ever go to status "active": this cannot start them by accident.
            status=LeaderStatus.PEERS_ONLY,
            consent_source="self",
            time_zone=time_zone or "Europe/London",
            anchor_date=utcnow().date(),
        )
        session.add(leader)
    if display_name and not leader.display_name:
        leader.display_name = display_name[:200]
    if organisation is not None:
        leader.organisation = organisation.strip()[:200]
    session.flush()
    return leader


def _choices(session: Session, leader: Leader, preference: PeerPreference) -> PeerChoices:
    exclusions = session.scalars(
        select(PeerExclusion.excluded_user_id)
        .where(PeerExclusion.leader_id == leader.id)
        .order_by(PeerExclusion.excluded_user_id)
    ).all()
    return PeerChoices(
        opted_in=preference.opted_in,
        cadence=preference.cadence,
        prefer_other_org=preference.prefer_other_org,
        want=split_themes(preference.want_themes),
        offer=split_themes(preference.offer_themes),
        paused_until=preference.paused_until,
        exclusions=list(exclusions),
        organisation=leader.organisation,
        display_name=leader.display_name,
    )


def get_choices(settings: Settings, team_id: str, user_id: str) -> PeerChoices | None:
    """Their peer choices, or None if they have never opted in."""
    with session_scope(settings) as session:
        leader = find_leader(session, team_id, user_id)
        preference = session.get(PeerPreference, leader.id) if leader else None
        if preference is None:
            return None
        return _choices(session, leader, preference)


def current_organisation(settings: Settings, team_id: str, user_id: str) -> str:
    with session_scope(settings) as session:
        leader = find_leader(session, team_id, user_id)
        return leader.organisation if leader else ""


def save_choices(
    settings: Settings,
    team_id: str,
    user_id: str,
    *,
    cadence: str,
    prefer_other_org: bool,
    want: list[str],
    offer: list[str],
    exclusions: list[str],
    paused_until: dt.date | None = None,
    organisation: str | None = None,
    display_name: str = "",
    time_zone: str | None = None,
    opted_in: bool = True,
) -> PeerChoices:
    """Opt in (or update). Saving again also clears any "shall we pause?" question."""
    if cadence not in CADENCES:
        raise ValueError(f"cadence must be one of {', '.join(CADENCES)}")
    allowed = known_themes(settings)
    with session_scope(settings) as session:
        leader = ensure_leader(
            session,
            team_id,
            user_id,
            display_name=display_name,
            organisation=organisation,
            time_zone=time_zone,
        )
        preference = session.get(PeerPreference, leader.id)
        if preference is None:
            preference = PeerPreference(leader_id=leader.id)
            session.add(preference)
        preference.opted_in = opted_in
        preference.cadence = cadence
        preference.prefer_other_org = prefer_other_org
        preference.want_themes = _clean_themes(want, allowed)
        preference.offer_themes = _clean_themes(offer, allowed)
        preference.paused_until = paused_until
        preference.unanswered_in_row = 0
        preference.pause_offered_at = None
        preference.updated_at = utcnow()
        session.execute(delete(PeerExclusion).where(PeerExclusion.leader_id == leader.id))
        for excluded in _clean_exclusions(exclusions, user_id):
            session.add(PeerExclusion(leader_id=leader.id, excluded_user_id=excluded))
        session.flush()
        return _choices(session, leader, preference)


def _update(settings: Settings, team_id: str, user_id: str, **values) -> bool:
    with session_scope(settings) as session:
        leader = find_leader(session, team_id, user_id)
        preference = session.get(PeerPreference, leader.id) if leader else None
        if preference is None:
            return False
        for key, value in values.items():
            setattr(preference, key, value)
        preference.updated_at = utcnow()
        return True


def leave(settings: Settings, team_id: str, user_id: str) -> bool:
    """No more introductions; their choices are kept so rejoining is one click."""
    return _update(settings, team_id, user_id, opted_in=False)


def resume(settings: Settings, team_id: str, user_id: str) -> bool:
    return _update(settings, team_id, user_id, paused_until=None)


def pause_for_now(settings: Settings, team_id: str, user_id: str, today: dt.date) -> dt.date:
    until = today + PAUSE_FOR_NOW
    _update(settings, team_id, user_id, paused_until=until, unanswered_in_row=0)
    return until


def keep_me_in(settings: Settings, team_id: str, user_id: str) -> bool:
    return _update(settings, team_id, user_id, unanswered_in_row=0, pause_offered_at=None)


def import_preferences(session: Session, leader: Leader, values: dict) -> None:
    """From the cohort CSV: `peers=yes` opts in (the programme recorded consent), and
    `peer_themes` become what they'd like to think about. A blank or "no" never opts
    out someone who opted in themselves: only they can do that."""
    preference = session.get(PeerPreference, leader.id)
    if preference is None:
        preference = PeerPreference(leader_id=leader.id, opted_in=bool(values.get("peers")))
        session.add(preference)
    elif values.get("peers"):
        preference.opted_in = True
    cadence = values.get("peer_cadence")
    preference.cadence = cadence if cadence in CADENCES else (preference.cadence or DEFAULT_CADENCE)
    if preference.prefer_other_org is None:
        preference.prefer_other_org = True
    if values.get("peer_themes"):
        preference.want_themes = join_themes(dict.fromkeys(values["peer_themes"]))[:400]
    preference.updated_at = utcnow()
    session.flush()


def remember_name(settings: Settings, team_id: str, user_id: str, display_name: str) -> None:
    """Their Slack name, for introductions, if Tandem doesn't have one yet."""
    if not display_name:
        return
    with session_scope(settings) as session:
        leader = find_leader(session, team_id, user_id)
        if leader is not None and not leader.display_name:
            leader.display_name = display_name[:200]
