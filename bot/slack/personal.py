"""Slack I/O for a leader's own things: App Home, journal listing, export and erase."""

from __future__ import annotations

import datetime as dt
import json
import logging

from bot.db.models import utcnow
from bot.knowledge.taxonomy import theme_names
from bot.listeners.context import Services
from bot.privacy import erase_user, export_user
from bot.reflection import journal
from bot.reflection.leaders import enrol, get_leader, schedule_of
from bot.schedule import upcoming
from bot.slack.outbox import send_or_record
from bot.statuses import LeaderStatus, SendKind
from bot.ui import journal as journal_ui
from bot.ui.answer import to_dicts
from bot.ui.home import home_view

log = logging.getLogger(__name__)


def join_checkins(services: Services, client, team_id: str, user_id: str):
    """Enrol with the person's Slack name and time zone; a time zone they set is kept."""
    existing = get_leader(services.settings, team_id, user_id)
    info = client.users_info(user=user_id).get("user", {})
    return enrol(
        services.settings,
        team_id,
        user_id,
        time_zone=(existing.time_zone if existing else None) or info.get("tz") or "Europe/London",
        display_name=info.get("real_name") or info.get("name") or "",
    )


def names(services: Services) -> dict[str, str]:
    return theme_names(services.settings.knowledge_dir / "taxonomy.yaml")


def _when(moment: dt.datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B at %H:%M}"


def personal_blocks(services: Services, team_id: str, user_id: str) -> list:
    settings = services.settings
    leader = get_leader(settings, team_id, user_id)
    entries, sharing, timing = 0, {}, {}
    if leader is not None:
        sharing = journal.sharing_counts(settings, leader.id)
        entries = sum(sharing.values())
        if leader.status == LeaderStatus.ACTIVE:
            now = utcnow()
            snoozed = leader.snoozed_until if (leader.snoozed_until or now) > now else None
            arrival, skipped = upcoming(
                schedule_of(leader), now, skip_next=leader.skip_next, snoozed_until=snoozed
            )
            zone = schedule_of(leader).zone
            timing = {
                "next_checkin": _when(arrival) if arrival else None,
                "skipped": _when(skipped) if skipped else None,
                "snoozed": _when(snoozed.replace(tzinfo=dt.UTC).astimezone(zone))
                if snoozed
                else None,
            }
    return journal_ui.holdings_blocks(leader, entries, sharing, **timing)


def peer_blocks(services: Services, team_id: str, user_id: str) -> list | None:
    from bot.slack.peers_home import peer_home_blocks

    return peer_home_blocks(services, team_id, user_id)


def publish_home(
    services: Services, client, team_id: str, user_id: str, first_visit: bool = False
) -> None:
    view = home_view(
        first_visit,
        personal_blocks(services, team_id, user_id),
        peer_blocks(services, team_id, user_id),
    )
    client.views_publish(user_id=user_id, view=view)


def journal_message(
    services: Services, team_id: str, user_id: str, note: str | None = None
) -> tuple[list, str]:
    """The journal as it stands now; `note` says what just changed, above the entries."""
    settings = services.settings
    leader_id = journal.leader_id_for(settings, team_id, user_id)
    if leader_id is None:
        text = (
            "You haven't started a journal yet. `/tandem checkin` starts your reflective check-ins."
        )
        return [], f"{note}\n{text}" if note else text
    entries = journal.recent_entries(settings, leader_id, limit=5)
    summary = journal.theme_summary(settings, leader_id, weeks=8)
    blocks, text = journal_ui.journal_blocks(entries, summary, names(services), note=note)
    return to_dicts(blocks), f"{note} {text}" if note else text


def send_export(services: Services, client, team_id: str, user_id: str) -> None:
    """A JSON file of everything Tandem holds, uploaded privately into the person's DM."""
    data = export_user(services.settings, team_id, user_id, actor="self")
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    client.files_upload_v2(
        channel=channel,
        content=json.dumps(data, indent=2, ensure_ascii=False),
        filename=f"tandem-export-{utcnow().date().isoformat()}.json",
        title="Everything Tandem holds about you",
        initial_comment="Here's everything Tandem holds about you, as a JSON file. Only you can see this DM.",
    )


def _delete_exports(client, channel: str, bot_user_id: str | None) -> int:
    """Delete the export files Tandem uploaded into this DM; returns how many could not be."""
    left = 0
    cursor = None
    while True:
        page = client.conversations_history(channel=channel, limit=200, cursor=cursor)
        for message in page.get("messages", []):
            for file in message.get("files") or []:
                if bot_user_id and file.get("user") not in (None, bot_user_id):
                    continue
                if not str(file.get("name", "")).startswith("tandem-export-"):
                    continue
                try:
                    client.files_delete(file=file["id"])
                except Exception as error:  # noqa: BLE001 - counted and told, never silent
                    log.warning("could not delete an export file: %s", type(error).__name__)
                    left += 1
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return left


def erase(services: Services, client, team_id: str, user_id: str, bot_user_id=None) -> None:
    erase_user(services.settings, team_id, user_id, actor="self")
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    try:
        left = _delete_exports(client, channel, bot_user_id)
    except Exception as error:  # noqa: BLE001 - the confirmation must stay true
        log.warning("could not look for export files: %s", type(error).__name__)
        left = -1
    text = (
        "Done. I've erased everything I held about you, including the export files I sent "
        "you here. If you ever want to start again, `/tandem checkin` is here."
    )
    if left:
        text = (
            "Done. I've erased everything I held about you. I couldn't remove "
            + ("some export files" if left < 0 else f"{left} export file{'s' * (left != 1)}")
            + " I sent you earlier in this DM, so please delete them yourself. If you ever "
            "want to start again, `/tandem checkin` is here."
        )
    send_or_record(
        services.settings, SendKind.ERASED, client.chat_postMessage, channel=channel, text=text
    )
