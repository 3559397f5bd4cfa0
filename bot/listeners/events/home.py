"""`app_home_opened`: publish the App Home for this person."""

from __future__ import annotations

from bot.listeners.context import Services
from bot.listeners.personal import publish_home


def register(app, services: Services) -> None:
    def ack_home(ack):
        ack()

    def on_home_opened(event: dict, body: dict, client, context) -> None:
        if event.get("tab") != "home":
            return
        team_id = body.get("team_id") or context.team_id or ""
        # Slack includes the published view once there is one: no view means a first visit.
        publish_home(services, client, team_id, event["user"], first_visit=not event.get("view"))

    app.event("app_home_opened")(ack=ack_home, lazy=[on_home_opened])
