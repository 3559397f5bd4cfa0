"""App Home buttons: join, schedule, pause, skip, snooze, leave, export, erase.

The three that open a modal need the trigger while it is fresh, so they run in the request;
every other button writes and redraws App Home after the ack, so Slack never waits for it.
"""

from __future__ import annotations

import datetime as dt

from bot.db.models import utcnow
from bot.listeners.context import Services, team_of
from bot.listeners.personal import join_checkins, names, publish_home, send_export
from bot.reflection.leaders import get_leader, schedule_of, today_local, update_leader
from bot.schedule import next_local
from bot.statuses import LeaderStatus
from bot.ui import journal as journal_ui


def ack_at_once(ack) -> None:
    ack()


def register(app, services: Services) -> None:
    settings = services.settings

    def refresh(client, body):
        publish_home(services, client, team_of(body), body["user"]["id"])

    def join(body, client):
        join_checkins(services, client, team_of(body), body["user"]["id"])
        refresh(client, body)

    def open_settings(ack, body, client):
        ack()
        leader = get_leader(settings, team_of(body), body["user"]["id"])
        if leader is not None:
            names(services)
            client.views_open(trigger_id=body["trigger_id"], view=journal_ui.settings_modal(leader))

    def open_pause(ack, body, client):
        ack()
        leader = get_leader(settings, team_of(body), body["user"]["id"])
        if leader is not None:
            client.views_open(
                trigger_id=body["trigger_id"], view=journal_ui.pause_modal(today_local(leader))
            )

    def change(**values):
        def handler(body, client):
            update_leader(settings, team_of(body), body["user"]["id"], **values)
            refresh(client, body)

        return handler

    def snooze(hours: int | None):
        def handler(body, client):
            leader = get_leader(settings, team_of(body), body["user"]["id"])
            if leader is None:
                return
            now = utcnow()
            until = (
                now + dt.timedelta(hours=hours)
                if hours
                else next_local(schedule_of(leader), now, days=1)
            )
            update_leader(settings, team_of(body), body["user"]["id"], snoozed_until=until)
            refresh(client, body)

        return handler

    def export(body, client):
        send_export(services, client, team_of(body), body["user"]["id"])

    def forget(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=journal_ui.forget_modal())

    app.action("home_settings")(open_settings)
    app.action("home_pause")(open_pause)
    app.action("home_forget")(forget)
    for action_id, work in (
        ("home_join", join),
        ("home_resume", change(paused_until=None)),
        ("home_skip", change(skip_next=True)),
        ("home_unskip", change(skip_next=False)),
        ("home_unsnooze", change(snoozed_until=None)),
        ("home_snooze_hour", snooze(1)),
        ("home_snooze_tomorrow", snooze(None)),
        ("home_leave", change(status=LeaderStatus.LEFT)),
        ("home_export", export),
    ):
        app.action(action_id)(ack=ack_at_once, lazy=[work])
