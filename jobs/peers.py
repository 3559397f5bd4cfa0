"""Scheduled peer work, in every tick: a due round, its introductions, follow-ups, pause offers.

Due work is recomputed from the ledger each time (rounds unique per workspace and period,
groups claimed with a conditional update, follow-ups and pause offers claimed the same way),
so a replayed tick, a restart or two schedulers at once never send anything twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from slack_sdk.errors import SlackApiError

from bot.db.models import utcnow
from bot.knowledge.taxonomy import load_taxonomy, theme_names
from bot.peers.matching import Candidate, reason_kinds
from bot.peers.rounds import (
    GroupView,
    RoundPlan,
    claim_group,
    claim_pause_offer,
    due_followups,
    due_pause_offers,
    due_round,
    followup_due,
    group_view,
    groups_to_send,
    mark_failed,
    mark_sent,
    plan_round,
    release_group,
    settle_followup,
    teams_with_peers,
)
from bot.settings import Settings
from bot.slack.client import TeamClients
from bot.slack.outbox import (
    TRANSIENT_ERRORS,
    UNKNOWN_OUTCOME,
    Delivery,
    post,
    record_failed_send,
)
from bot.statuses import PeerGroupStatus, SendKind
from bot.ui.peers import (
    METADATA_EVENT,
    followup_message,
    introduction_message,
    pause_offer_message,
    sat_out_text,
)

log = logging.getLogger(__name__)
# With no shared theme, the starter comes from the theme the whole feature is about.
FALLBACK_THEME = "peer-support"


def run_peer_jobs(
    settings: Settings, now: dt.datetime | None = None, clients: TeamClients | None = None
) -> int:
    """Everything peer-related due at `now` (naive UTC); returns introductions sent."""
    return peer_job_counts(settings, now, clients)["peer_introductions"]


def peer_job_counts(
    settings: Settings, now: dt.datetime | None = None, clients: TeamClients | None = None
) -> dict[str, int]:
    """Everything peer-related due at `now`, counted by kind, so a tick reports all it sent."""
    now = now or utcnow()
    clients = clients or TeamClients(settings)
    occurrence = due_round(now)
    if occurrence is not None:
        for team_id in teams_with_peers(settings):
            start_round(settings, team_id, now, clients, occurrence=occurrence)
    return {
        "peer_introductions": send_introductions(settings, now, clients),
        "peer_followups": send_followups(settings, now, clients),
        "peer_pause_offers": send_pause_offers(settings, now, clients),
    }


def start_round(
    settings: Settings, team_id: str, now: dt.datetime, clients: TeamClients, **options
) -> RoundPlan | None:
    """Plan a round (once, through the ledger) and tell anyone without a match, kindly."""
    plan = plan_round(settings, team_id, now, **options)
    if plan is None or plan.round_id is None or not plan.result.unmatched:
        return plan
    client = clients.for_team(team_id)
    if client is not None:
        for unmatched in plan.result.unmatched:
            _post(
                settings,
                SendKind.PEER_SAT_OUT,
                client,
                f"{SendKind.PEER_SAT_OUT}:{plan.round_id}:{unmatched.user}",
                {"round_id": plan.round_id},
                channel=unmatched.user,
                text=sat_out_text(),
            )
    return plan


def _post(settings: Settings, kind: str, client, key: str, reference: dict, **message) -> bool:
    """Post through the outbox under a key naming only ids, never the words or names."""
    return post(settings, client, kind, key=key, reference=reference, **message).sent


def _names(client, view: GroupView) -> dict[str, str]:
    """Display names, asking Slack for anyone imported without one."""
    found = {}
    for member in view.members:
        name = member.name
        if not name:
            try:
                info = client.users_info(user=member.user_id).get("user", {})
                name = info.get("real_name") or info.get("name") or ""
            except Exception:
                name = ""
        found[member.user_id] = name
    return found


def conversation_starter(settings: Settings, reasons: list[str], cache: dict):
    """(title, reflective question) of a knowledge document on their first shared theme."""
    theme = reasons[0] if reasons else FALLBACK_THEME
    if theme in cache:
        return cache[theme]
    about = {t.slug: t for t in load_taxonomy(settings.knowledge_dir / "taxonomy.yaml")}
    starter = None
    if theme in about:
        try:
            from bot.knowledge.retrieval import get_retriever

            outcome = get_retriever(settings).search(
                f"{about[theme].name}. {about[theme].about}", k=5
            )
            usable = [r for r in outcome.results if r.question]
            best = (
                next((r for r in usable if r.themes[:1] == [theme]), None)
                or next((r for r in usable if theme in r.themes), None)
                or (usable[0] if usable else None)
            )
            starter = (best.title, best.question) if best else None
        except Exception as error:  # an empty or unreachable index: introduce without one
            log.warning("conversation starter lookup failed: %s", type(error).__name__)
    cache[theme] = starter
    return starter


def send_introductions(settings: Settings, now: dt.datetime, clients: TeamClients) -> int:
    names = theme_names(settings.knowledge_dir / "taxonomy.yaml")
    starters: dict = {}
    sent = 0
    for group_id, recovering in groups_to_send(settings, now):
        sent += send_introduction(settings, group_id, now, clients, names, starters, recovering)
    return sent


def send_introduction(
    settings: Settings,
    group_id: int,
    now: dt.datetime,
    clients: TeamClients,
    names: dict[str, str],
    starters: dict,
    recovering: bool = False,
) -> int:
    view = group_view(settings, group_id, now)
    if view is None:
        return 0
    if len(view.members) < 2:  # someone erased their data since the round was planned
        mark_failed(settings, group_id, status=PeerGroupStatus.CANCELLED)
        return 0
    client = clients.for_team(view.team_id)
    if client is None:
        return 0  # no token for this workspace yet: it stays planned for a later tick
    if not claim_group(settings, group_id, recovering):
        return 0
    people_names = _names(client, view)
    people = [(m.user_id, people_names[m.user_id], m.organisation) for m in view.members]
    as_candidates = [Candidate(m.user_id, wants=m.wants, offers=m.offers) for m in view.members]
    reasons = [
        (names.get(slug, slug), kind) for slug, kind in reason_kinds(as_candidates, view.reasons)
    ]
    blocks, text = introduction_message(
        group_id, people, reasons, conversation_starter(settings, view.reasons, starters)
    )
    try:
        channel = client.conversations_open(users=",".join(m.user_id for m in view.members))[
            "channel"
        ]["id"]
    except SlackApiError as failure:
        error = str(failure.response.get("error", "unknown_error"))
        delivery = Delivery(error=error, retryable=error in TRANSIENT_ERRORS, maybe_sent=recovering)
        if not delivery.retryable:
            record_failed_send(
                settings, SendKind.PEER_INTRODUCTION, "", error, {"group_id": group_id}
            )
    except UNKNOWN_OUTCOME as failure:  # opening a conversation twice is harmless
        delivery = Delivery(error=type(failure).__name__, retryable=True, maybe_sent=recovering)
    else:
        # Recovering a send a crash interrupted: the outbox looks in the group DM first.
        delivery = post(
            settings,
            client,
            SendKind.PEER_INTRODUCTION,
            maybe_sent=recovering,
            team_id=view.team_id,
            reference={"group_id": group_id},
            channel=channel,
            text=text,
            blocks=blocks,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"group_id": group_id}},
        )
    if delivery.sent:
        mark_sent(settings, group_id, delivery.channel, delivery.ts, followup_due(now))
        return 1
    if delivery.retryable:
        # Slack busy or unreachable: a later tick sends it, first looking for it when an
        # attempt's outcome was never learned.
        release_group(settings, group_id, delivery.maybe_sent)
    else:
        mark_failed(settings, group_id)  # Slack refused it: recorded, not tried again
    return 0


def send_followups(settings: Settings, now: dt.datetime, clients: TeamClients) -> int:
    """About a week on, each member privately: "what did you take away?"."""
    sent = 0
    for group_id in due_followups(settings, now):
        view = group_view(settings, group_id, now)
        client = clients.for_team(view.team_id) if view else None
        if client is None:
            continue
        settled = settle_followup(settings, group_id, now)
        if settled is None:
            continue  # another tick got there first
        view, recipients = settled
        people_names = _names(client, view)
        for member in recipients:
            others = [
                (people_names[o.user_id], o.organisation)
                for o in recipients
                if o.user_id != member.user_id
            ]
            blocks, text = followup_message(group_id, others)
            if _post(
                settings,
                SendKind.PEER_FOLLOWUP,
                client,
                f"{SendKind.PEER_FOLLOWUP}:{group_id}:{member.leader_id}",
                {"group_id": group_id},
                channel=member.user_id,
                text=text,
                blocks=blocks,
            ):
                sent += 1
    return sent


def send_pause_offers(settings: Settings, now: dt.datetime, clients: TeamClients) -> int:
    """Two introductions in a row with no response: ask kindly, privately, whether to pause."""
    sent = 0
    for leader_id, team_id, user_id in due_pause_offers(settings):
        client = clients.for_team(team_id)
        if client is None or not claim_pause_offer(settings, leader_id, now):
            continue
        blocks, text = pause_offer_message()
        kind = SendKind.PEER_PAUSE_OFFER
        key = f"{kind}:{leader_id}:{now:%Y%m%d%H%M}"
        if _post(settings, kind, client, key, {}, channel=user_id, text=text, blocks=blocks):
            sent += 1
    return sent
