"""A matching round and its ledger: who is eligible, what they chose to share, who met whom.

When: every other Monday at 10:00 Europe/London, counted from Monday 1 January 2024 (the
check-in schedule arithmetic, so the clocks changing is handled). People who chose
fortnightly introductions are due every round; people who chose monthly rest for the round
after an introduction (no introduction in the last 21 days), so they meet about every four
weeks. A round missed entirely (Tandem down all Monday) is skipped, or run by hand with
`tandem peers match`.

What feeds matching: the themes a leader picked, plus the *themes* (never the text) of
journal entries they marked "may inform peer matching". Nothing private or team-only.

The ledger: peer_rounds is unique per workspace and round key, so a replayed tick, a restart
or a second scheduler never runs a round twice; a group moves planned -> sending -> sent
(or failed), claimed with a conditional update, so no introduction is sent twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.engine import session_scope
from bot.db.models import (
    JournalEntry,
    Leader,
    PeerExclusion,
    PeerGroup,
    PeerMember,
    PeerPreference,
    PeerRound,
    utcnow,
)
from bot.peers.matching import Candidate, MatchResult, match
from bot.schedule import (
    Occurrence,
    Schedule,
    due_occurrence,
    latest_occurrence,
    next_local,
    next_occurrence,
)
from bot.settings import Settings
from bot.statuses import PeerGroupStatus, Sharing
from bot.text import join_themes, split_themes

log = logging.getLogger(__name__)

ROUND_SCHEDULE = Schedule(
    cadence="fortnightly",
    day="mon",
    local_time="10:00",
    time_zone="Europe/London",
    anchor=dt.date(2024, 1, 1),
)
MONTHLY_REST = dt.timedelta(days=21)
HISTORY_ROUNDS = 26  # about a year of rounds feeds the repeat penalty
SHARED_JOURNAL_WEEKS = 12
FOLLOWUP_AFTER_DAYS = 7
FOLLOWUP_TIME = "10:00"
PAUSE_OFFER_AFTER = 2  # introductions in a row with no response at all
STUCK_AFTER = dt.timedelta(hours=1)
LIVE = (
    PeerGroupStatus.PLANNED,
    PeerGroupStatus.SENDING,
    PeerGroupStatus.RESENDING,
    PeerGroupStatus.SENT,
)


@dataclass
class RoundPlan:
    team_id: str
    round_key: str
    seed: int
    result: MatchResult
    round_id: int | None = None
    already_ran: bool = False


@dataclass
class Member:
    leader_id: int
    user_id: str
    name: str
    organisation: str
    wants: frozenset[str]
    offers: frozenset[str]
    response: str


@dataclass
class GroupView:
    id: int
    team_id: str
    round_key: str
    reasons: list[str]
    status: str
    channel_id: str | None
    message_ts: str | None
    members: list[Member] = field(default_factory=list)

    def member(self, user_id: str) -> Member | None:
        return next((m for m in self.members if m.user_id == user_id), None)


# --- when ------------------------------------------------------------------------


def due_round(now: dt.datetime) -> Occurrence | None:
    """The round to run now, if its moment has come and the day is not over."""
    return due_occurrence(ROUND_SCHEDULE, now)


def latest_round(now: dt.datetime) -> Occurrence | None:
    """The most recent round moment at or before now (for running a round by hand)."""
    return latest_occurrence(ROUND_SCHEDULE, now)


def next_round_date(now: dt.datetime) -> dt.date | None:
    """The day of the next round of introductions (London time), for telling people when."""
    moment = next_occurrence(ROUND_SCHEDULE, now)
    return moment.date() if moment else None


def london_today(now: dt.datetime) -> dt.date:
    return now.replace(tzinfo=dt.UTC).astimezone(ROUND_SCHEDULE.zone).date()


def default_seed(team_id: str, round_key: str) -> int:
    # 28 bits: fits PostgreSQL's INTEGER column with room to spare.
    return int(hashlib.sha256(f"peers:{team_id}:{round_key}".encode()).hexdigest()[:7], 16)


def teams_with_peers(settings: Settings) -> list[str]:
    with session_scope(settings) as session:
        return list(
            session.scalars(
                select(Leader.team_id)
                .join(PeerPreference, PeerPreference.leader_id == Leader.id)
                .where(PeerPreference.opted_in.is_(True))
                .distinct()
                .order_by(Leader.team_id)
            )
        )


def teams_with_leaders(settings: Settings) -> list[str]:
    with session_scope(settings) as session:
        return list(session.scalars(select(Leader.team_id).distinct().order_by(Leader.team_id)))


# --- who, and what they chose to share -------------------------------------------------


def shared_interests(
    session: Session, leader_ids: list[int], now: dt.datetime
) -> dict[int, set[str]]:
    """Themes of entries their authors marked "may inform peer matching". Themes only."""
    since = now - dt.timedelta(weeks=SHARED_JOURNAL_WEEKS)
    found: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(leader_ids), 500):
        chunk = leader_ids[start : start + 500]
        rows = session.execute(
            select(JournalEntry.leader_id, JournalEntry.themes).where(
                JournalEntry.leader_id.in_(chunk),
                JournalEntry.sharing == Sharing.PEERS,
                JournalEntry.created_at >= since,
            )
        )
        for leader_id, themes in rows:
            found[leader_id].update(split_themes(themes))
    return found


def _history(session: Session, team_id: str, round_key: str, users: dict[int, str]):
    """{pair of user ids: rounds ago} over earlier rounds, and each leader's latest group time."""
    rounds = session.execute(
        select(PeerRound.id, PeerRound.round_key)
        .where(PeerRound.team_id == team_id, PeerRound.round_key < round_key)
        .order_by(PeerRound.round_key.desc())
        .limit(HISTORY_ROUNDS)
    ).all()
    ago = {round_id: position + 1 for position, (round_id, _key) in enumerate(rounds)}
    last_group: dict[int, dt.datetime] = {}
    members_by_group: dict[int, list[int]] = defaultdict(list)
    group_round: dict[int, int] = {}
    rows = session.execute(
        select(PeerMember.leader_id, PeerGroup.id, PeerGroup.round_id, PeerGroup.created_at)
        .join(PeerGroup, PeerGroup.id == PeerMember.group_id)
        .join(PeerRound, PeerRound.id == PeerGroup.round_id)
        .where(PeerRound.team_id == team_id, PeerGroup.status.in_(LIVE))
    )
    for leader_id, group_id, round_id, created_at in rows:
        if created_at and (leader_id not in last_group or created_at > last_group[leader_id]):
            last_group[leader_id] = created_at
        if round_id in ago:
            members_by_group[group_id].append(leader_id)
            group_round[group_id] = round_id
    history: dict[frozenset, int] = {}
    for group_id, leader_ids in members_by_group.items():
        for i, a in enumerate(leader_ids):
            for b in leader_ids[i + 1 :]:
                if a in users and b in users:
                    pair = frozenset((users[a], users[b]))
                    history[pair] = min(history.get(pair, 10**6), ago[group_round[group_id]])
    return history, last_group


def load_round_inputs(session: Session, team_id: str, round_key: str, now: dt.datetime):
    """(candidates, history, leader id by user id) for everyone due in this round."""
    today = london_today(now)
    rows = session.execute(
        select(Leader, PeerPreference)
        .join(PeerPreference, PeerPreference.leader_id == Leader.id)
        .where(Leader.team_id == team_id, PeerPreference.opted_in.is_(True))
    ).all()
    rows = [
        (leader, pref)
        for leader, pref in rows
        if pref.paused_until is None or pref.paused_until <= today
    ]
    users = {leader.id: leader.slack_user_id for leader, _ in rows}
    history, last_group = _history(session, team_id, round_key, users)
    interests = shared_interests(session, list(users), now)
    exclusions: dict[int, set[str]] = defaultdict(set)
    ids = list(users)
    for start in range(0, len(ids), 500):
        for leader_id, excluded in session.execute(
            select(PeerExclusion.leader_id, PeerExclusion.excluded_user_id).where(
                PeerExclusion.leader_id.in_(ids[start : start + 500])
            )
        ):
            exclusions[leader_id].add(excluded)
    candidates = []
    for leader, pref in rows:
        last = last_group.get(leader.id)
        if pref.cadence == "monthly" and last is not None and now - last < MONTHLY_REST:
            continue  # resting this round: monthly means every other round
        candidates.append(
            Candidate(
                user_id=leader.slack_user_id,
                organisation=leader.organisation or "",
                wants=frozenset(split_themes(pref.want_themes)) | interests.get(leader.id, set()),
                offers=frozenset(split_themes(pref.offer_themes)),
                prefer_other_org=bool(pref.prefer_other_org),
                excludes=frozenset(exclusions.get(leader.id, ())),
                sat_out_last=bool(pref.sat_out_last),
            )
        )
    leader_ids = {user: leader_id for leader_id, user in users.items()}
    return candidates, history, leader_ids


# --- a round -------------------------------------------------------------------------


def plan_round(
    settings: Settings,
    team_id: str,
    now: dt.datetime,
    *,
    occurrence: Occurrence | None = None,
    seed: int | None = None,
    dry_run: bool = False,
) -> RoundPlan | None:
    """Match everyone due and, unless dry_run, write the round to the ledger (once)."""
    occurrence = occurrence or latest_round(now)
    if occurrence is None:
        return None
    key = occurrence.period_key
    seed = default_seed(team_id, key) if seed is None else seed
    with session_scope(settings) as session:
        ran = session.scalar(
            select(func.count())
            .select_from(PeerRound)
            .where(PeerRound.team_id == team_id, PeerRound.round_key == key)
        )
        if ran and not dry_run:
            return RoundPlan(team_id, key, seed, MatchResult(), already_ran=True)
        candidates, history, leader_ids = load_round_inputs(session, team_id, key, now)
    plan = RoundPlan(team_id, key, seed, match(candidates, history, seed))
    if dry_run:
        return plan
    try:
        with session_scope(settings) as session:
            record = PeerRound(team_id=team_id, round_key=key, seed=seed % 2**31, run_at=now)
            session.add(record)
            session.flush()
            for group in plan.result.groups:
                row = PeerGroup(
                    round_id=record.id,
                    reasons=join_themes(group.reasons),
                    status=PeerGroupStatus.PLANNED,
                    created_at=now,
                )
                session.add(row)
                session.flush()
                for user in group.members:
                    session.add(PeerMember(group_id=row.id, leader_id=leader_ids[user]))
            sat_out = [leader_ids[u.user] for u in plan.result.unmatched]
            everyone = [leader_ids[c.user_id] for c in candidates]
            for start in range(0, len(everyone), 500):
                session.execute(
                    update(PeerPreference)
                    .where(PeerPreference.leader_id.in_(everyone[start : start + 500]))
                    .values(sat_out_last=False)
                )
            if sat_out:
                session.execute(
                    update(PeerPreference)
                    .where(PeerPreference.leader_id.in_(sat_out))
                    .values(sat_out_last=True)
                )
            plan.round_id = record.id
    except IntegrityError:
        plan.already_ran = True  # another tick or replica wrote this round first
        return plan
    log.info(
        "peer round planned: groups=%d unmatched=%d",
        len(plan.result.groups),
        len(plan.result.unmatched),
    )
    return plan


# --- introductions and their ledger ----------------------------------------------------


def group_view(settings: Settings, group_id: int, now: dt.datetime | None = None):
    with session_scope(settings) as session:
        row = session.execute(
            select(PeerGroup, PeerRound)
            .join(PeerRound, PeerRound.id == PeerGroup.round_id)
            .where(PeerGroup.id == group_id)
        ).first()
        if row is None:
            return None
        group, round_ = row
        members = session.execute(
            select(PeerMember, Leader, PeerPreference)
            .join(Leader, Leader.id == PeerMember.leader_id)
            .outerjoin(PeerPreference, PeerPreference.leader_id == Leader.id)
            .where(PeerMember.group_id == group_id)
            .order_by(Leader.slack_user_id)
        ).all()
        interests = shared_interests(session, [m.leader_id for m, _, _ in members], now or utcnow())
        view = GroupView(
            id=group.id,
            team_id=round_.team_id,
            round_key=round_.round_key,
            reasons=split_themes(group.reasons),
            status=group.status,
            channel_id=group.channel_id,
            message_ts=group.message_ts,
        )
        for member, leader, pref in members:
            view.members.append(
                Member(
                    leader_id=leader.id,
                    user_id=leader.slack_user_id,
                    name=leader.display_name,
                    organisation=leader.organisation,
                    wants=frozenset(split_themes(pref.want_themes if pref else ""))
                    | interests.get(leader.id, set()),
                    offers=frozenset(split_themes(pref.offer_themes if pref else "")),
                    response=member.response,
                )
            )
        return view


def groups_to_send(settings: Settings, now: dt.datetime) -> list[tuple[int, bool]]:
    """(group id, recovering) for planned groups, and ones a crash left mid-send."""
    with session_scope(settings) as session:
        planned = session.scalars(
            select(PeerGroup.id)
            .where(PeerGroup.status == PeerGroupStatus.PLANNED)
            .order_by(PeerGroup.id)
        ).all()
        stuck = session.scalars(
            select(PeerGroup.id)
            .where(
                PeerGroup.status == PeerGroupStatus.SENDING,
                PeerGroup.created_at < now - STUCK_AFTER,
            )
            .order_by(PeerGroup.id)
        ).all()
    return [(g, False) for g in planned] + [(g, True) for g in stuck]


def claim_group(settings: Settings, group_id: int, recovering: bool = False) -> bool:
    """Only one sender ever gets a group: a conditional update is the claim."""
    before, after = (
        (PeerGroupStatus.SENDING, PeerGroupStatus.RESENDING)
        if recovering
        else (PeerGroupStatus.PLANNED, PeerGroupStatus.SENDING)
    )
    with session_scope(settings) as session:
        return bool(
            session.execute(
                update(PeerGroup)
                .where(PeerGroup.id == group_id, PeerGroup.status == before)
                .values(status=after)
            ).rowcount
        )


def mark_sent(
    settings: Settings, group_id: int, channel_id: str, message_ts: str, followup_due_at
) -> None:
    with session_scope(settings) as session:
        session.execute(
            update(PeerGroup)
            .where(PeerGroup.id == group_id)
            .values(
                status=PeerGroupStatus.SENT,
                channel_id=channel_id,
                message_ts=message_ts,
                followup_due_at=followup_due_at,
            )
        )


def release_group(settings: Settings, group_id: int, maybe_sent: bool) -> None:
    """Slack was busy or unreachable: hand the group back for a later tick. If an attempt's
    outcome was never learned it goes back as a stuck send, so its sender looks first."""
    with session_scope(settings) as session:
        session.execute(
            update(PeerGroup)
            .where(
                PeerGroup.id == group_id,
                PeerGroup.status.in_((PeerGroupStatus.SENDING, PeerGroupStatus.RESENDING)),
            )
            .values(status=PeerGroupStatus.SENDING if maybe_sent else PeerGroupStatus.PLANNED)
        )


def mark_failed(
    settings: Settings, group_id: int, status: PeerGroupStatus = PeerGroupStatus.FAILED
) -> None:
    """Failed after retries; or "cancelled" when erasures left fewer than two members."""
    with session_scope(settings) as session:
        session.execute(update(PeerGroup).where(PeerGroup.id == group_id).values(status=status))


def followup_due(sent_at: dt.datetime) -> dt.datetime:
    """About a week later, at a sensible hour: 10:00 London on the same weekday."""
    schedule = Schedule("weekly", "mon", FOLLOWUP_TIME, ROUND_SCHEDULE.time_zone, sent_at.date())
    return next_local(schedule, sent_at, days=FOLLOWUP_AFTER_DAYS)


def record_response(
    settings: Settings, team_id: str, user_id: str, group_id: int, response: str, now=None
) -> GroupView | None:
    """Their answer to an introduction; None if they are not in it. Any answer also resets
    the "no response" run that leads to a pause offer."""
    if response not in ("arranged", "declined"):
        raise ValueError(response)
    view = group_view(settings, group_id)
    if view is None or view.team_id != team_id or view.member(user_id) is None:
        return None
    member = view.member(user_id)
    with session_scope(settings) as session:
        session.execute(
            update(PeerMember)
            .where(PeerMember.group_id == group_id, PeerMember.leader_id == member.leader_id)
            .values(response=response, responded_at=now or utcnow())
        )
        session.execute(
            update(PeerPreference)
            .where(PeerPreference.leader_id == member.leader_id)
            .values(unanswered_in_row=0)
        )
    member.response = response
    return view


def member_of(settings: Settings, team_id: str, user_id: str, group_id: int):
    """(group, member) when this person is in the group, else None."""
    view = group_view(settings, group_id)
    if view is None or view.team_id != team_id or view.member(user_id) is None:
        return None
    return view, view.member(user_id)


def due_followups(settings: Settings, now: dt.datetime) -> list[int]:
    with session_scope(settings) as session:
        return list(
            session.scalars(
                select(PeerGroup.id)
                .where(
                    PeerGroup.status == PeerGroupStatus.SENT,
                    PeerGroup.followup_sent_at.is_(None),
                    PeerGroup.followup_due_at <= now,
                )
                .order_by(PeerGroup.id)
            )
        )


def settle_followup(settings: Settings, group_id: int, now: dt.datetime):
    """Claim a group's follow-up (once) and return who to ask "what did you take away?".

    Nobody who declined is asked, nor anyone left alone by a decline. Each member with no
    response at all adds one to their run of unanswered introductions (never shown to anyone).
    Returns (group, members to ask), or None if another tick already claimed it.
    """
    with session_scope(settings) as session:
        claimed = session.execute(
            update(PeerGroup)
            .where(PeerGroup.id == group_id, PeerGroup.followup_sent_at.is_(None))
            .values(followup_sent_at=now)
        ).rowcount
    if not claimed:
        return None
    view = group_view(settings, group_id, now)
    silent = [m.leader_id for m in view.members if m.response == "none"]
    if silent:
        with session_scope(settings) as session:
            session.execute(
                update(PeerPreference)
                .where(PeerPreference.leader_id.in_(silent))
                .values(unanswered_in_row=PeerPreference.unanswered_in_row + 1)
            )
    staying = [m for m in view.members if m.response != "declined"]
    return view, (staying if len(staying) >= 2 else [])


def due_pause_offers(settings: Settings) -> list[tuple[int, str, str]]:
    """(leader id, team, user) for people who let introductions pass twice in a row."""
    with session_scope(settings) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Leader.id, Leader.team_id, Leader.slack_user_id)
                .join(PeerPreference, PeerPreference.leader_id == Leader.id)
                .where(
                    PeerPreference.opted_in.is_(True),
                    PeerPreference.unanswered_in_row >= PAUSE_OFFER_AFTER,
                    PeerPreference.pause_offered_at.is_(None),
                )
                .order_by(Leader.id)
            )
        ]


def claim_pause_offer(settings: Settings, leader_id: int, now: dt.datetime) -> bool:
    with session_scope(settings) as session:
        return bool(
            session.execute(
                update(PeerPreference)
                .where(
                    PeerPreference.leader_id == leader_id,
                    PeerPreference.pause_offered_at.is_(None),
                )
                .values(pause_offered_at=now)
            ).rowcount
        )


def introductions_of(settings: Settings, leader_id: int) -> list[dict]:
    """A leader's own introductions, for their export: when, why (themes) and their answer."""
    with session_scope(settings) as session:
        rows = session.execute(
            select(PeerRound.round_key, PeerGroup.created_at, PeerGroup.reasons, PeerMember)
            .join(PeerGroup, PeerGroup.id == PeerMember.group_id)
            .join(PeerRound, PeerRound.id == PeerGroup.round_id)
            .where(PeerMember.leader_id == leader_id)
            .order_by(PeerGroup.id)
        ).all()
        return [
            {
                "round": key,
                "introduced_at": created.isoformat() if created else None,
                "themes": split_themes(reasons),
                "response": member.response,
                "responded_at": member.responded_at.isoformat() if member.responded_at else None,
            }
            for key, created, reasons, member in rows
        ]
