"""Peer data in a person's export, and gone on erasure: called by bot.privacy's hooks."""

from __future__ import annotations

from sqlalchemy import delete, exists, select

from bot.db.engine import session_scope
from bot.db.models import Leader, PeerExclusion, PeerGroup, PeerMember, PeerPreference
from bot.peers.preferences import get_choices
from bot.peers.rounds import introductions_of
from bot.reflection.leaders import find_leader
from bot.settings import Settings


def export_peer_data(settings: Settings, team_id: str, user_id: str, data: dict) -> None:
    """Adds "peers": their choices, their own exclusions (theirs to see), and their
    introductions by theme only: no other person's identity or words."""
    choices = get_choices(settings, team_id, user_id)
    with session_scope(settings) as session:
        leader = find_leader(session, team_id, user_id)
        leader_id = leader.id if leader else None
    data["peers"] = {
        "preferences": None
        if choices is None
        else {
            "opted_in": choices.opted_in,
            "cadence": choices.cadence,
            "prefer_other_org": choices.prefer_other_org,
            "want_themes": choices.want,
            "offer_themes": choices.offer,
            "paused_until": choices.paused_until.isoformat() if choices.paused_until else None,
            "rather_not_meet": choices.exclusions,
        },
        "introductions": introductions_of(settings, leader_id) if leader_id else [],
    }


def erase_peer_data(settings: Settings, team_id: str, user_id: str) -> None:
    """Their choices, exclusions and memberships; and every other leader's exclusion of
    them, so not even that trace of them remains."""
    with session_scope(settings) as session:
        team_leaders = select(Leader.id).where(Leader.team_id == team_id)
        session.execute(
            delete(PeerExclusion).where(
                PeerExclusion.excluded_user_id == user_id,
                PeerExclusion.leader_id.in_(team_leaders),
            )
        )
        leader = find_leader(session, team_id, user_id)
        if leader is None:
            return
        groups = list(
            session.scalars(select(PeerMember.group_id).where(PeerMember.leader_id == leader.id))
        )
        session.execute(delete(PeerMember).where(PeerMember.leader_id == leader.id))
        session.execute(delete(PeerExclusion).where(PeerExclusion.leader_id == leader.id))
        session.execute(delete(PeerPreference).where(PeerPreference.leader_id == leader.id))
        if groups:
            # A group nobody is left in keeps no reasons behind.
            session.execute(
                delete(PeerGroup).where(
                    PeerGroup.id.in_(groups),
                    ~exists().where(PeerMember.group_id == PeerGroup.id),
                )
            )
