"""`app_home_opened`: publish the App Home for this person."""

from __future__ import annotations

from bot.listeners.context import Services
from bot.ui.home import home_view


def register(app, services: Services) -> None:
    def ack_home(ack):
        ack()

    def publish_home(event: dict, client) -> None:
        if event.get("tab") != "home":
            return
        # Slack includes the published view once there is one: no view means a first visit.
        view = home_view(first_visit=not event.get("view"))
        client.views_publish(user_id=event["user"], view=view)

    app.event("app_home_opened")(ack=ack_home, lazy=[publish_home])
