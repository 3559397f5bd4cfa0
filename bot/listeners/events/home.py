"""`app_home_opened`: publish the App Home for this person."""

from __future__ import annotations

from functools import partial

from bot.listeners.context import Services, ack_at_once
from bot.slack.personal import publish_home


def handle_home_opened(services: Services, event: dict, body: dict, client, context) -> None:
    if event.get("tab") != "home":
        return
    team_id = body.get("team_id") or context.team_id or ""
    # Slack includes the published view once there is one: no view means a first visit.
    publish_home(services, client, team_id, event["user"], first_visit=not event.get("view"))


def register(app, services: Services) -> None:
    app.event("app_home_opened")(ack=ack_at_once, lazy=[partial(handle_home_opened, services)])
