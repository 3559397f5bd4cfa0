"""App Home buttons: join, schedule, pause, skip, snooze, leave, export, erase.

The three that open a modal need the trigger while it is fresh, so they run in the request;
every other button writes and redraws App Home after the ack, so Slack never waits for it.
Each button is one `handle_*` function, so a test can click it without the Bolt stack; Bolt
passes a listener the arguments it names, and `partial` puts `services` in front of them.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from bot.db.models import utcnow
from bot.listeners.context import Services, ack_at_once, team_of
from bot.reflection.leaders import get_leader, schedule_of, today_local, update_leader
from bot.schedule import next_local
from bot.slack.personal import join_checkins, names, publish_home, send_export
from bot.statuses import LeaderStatus
from bot.ui import journal as journal_ui


def _refresh(services: Services, body: dict, client) -> None:
    publish_home(services, client, team_of(body), body["user"]["id"])


def _change(services: Services, body: dict, client, **values) -> None:
    update_leader(services.settings, team_of(body), body["user"]["id"], **values)
    _refresh(services, body, client)


def _snooze(services: Services, body: dict, client, hours: int | None) -> None:
    """Snooze for `hours`, or (None) until tomorrow at their usual check-in time."""
    leader = get_leader(services.settings, team_of(body), body["user"]["id"])
    if leader is None:
        return
    now = utcnow()
    until = (
        now + dt.timedelta(hours=hours) if hours else next_local(schedule_of(leader), now, days=1)
    )
    _change(services, body, client, snoozed_until=until)


# In the request (a modal needs a fresh trigger).


def handle_open_settings(services: Services, ack, body: dict, client) -> None:
    ack()
    leader = get_leader(services.settings, team_of(body), body["user"]["id"])
    if leader is not None:
        view = journal_ui.settings_modal(leader, names(services))
        client.views_open(trigger_id=body["trigger_id"], view=view)


def handle_open_pause(services: Services, ack, body: dict, client) -> None:
    ack()
    leader = get_leader(services.settings, team_of(body), body["user"]["id"])
    if leader is not None:
        client.views_open(
            trigger_id=body["trigger_id"], view=journal_ui.pause_modal(today_local(leader))
        )


def handle_open_forget(ack, body: dict, client) -> None:
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=journal_ui.forget_modal())


# After the ack.


def handle_join(services: Services, body: dict, client) -> None:
    join_checkins(services, client, team_of(body), body["user"]["id"])
    _refresh(services, body, client)


def handle_resume(services: Services, body: dict, client) -> None:
    _change(services, body, client, paused_until=None)


def handle_skip(services: Services, body: dict, client) -> None:
    _change(services, body, client, skip_next=True)


def handle_unskip(services: Services, body: dict, client) -> None:
    _change(services, body, client, skip_next=False)


def handle_unsnooze(services: Services, body: dict, client) -> None:
    _change(services, body, client, snoozed_until=None)


def handle_snooze_hour(services: Services, body: dict, client) -> None:
    _snooze(services, body, client, hours=1)


def handle_snooze_tomorrow(services: Services, body: dict, client) -> None:
    _snooze(services, body, client, hours=None)


def handle_leave(services: Services, body: dict, client) -> None:
    _change(services, body, client, status=LeaderStatus.LEFT)


def handle_export(services: Services, body: dict, client) -> None:
    send_export(services, client, team_of(body), body["user"]["id"])


def register(app, services: Services) -> None:
    app.action("home_settings")(partial(handle_open_settings, services))
    app.action("home_pause")(partial(handle_open_pause, services))
    app.action("home_forget")(handle_open_forget)
    for action_id, work in (
        ("home_join", handle_join),
        ("home_resume", handle_resume),
        ("home_skip", handle_skip),
        ("home_unskip", handle_unskip),
        ("home_unsnooze", handle_unsnooze),
        ("home_snooze_hour", handle_snooze_hour),
        ("home_snooze_tomorrow", handle_snooze_tomorrow),
        ("home_leave", handle_leave),
        ("home_export", handle_export),
    ):
        app.action(action_id)(ack=ack_at_once, lazy=[partial(work, services)])
