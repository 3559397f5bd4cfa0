"""`app_mention`: reply in a thread under the mention, never at channel root."""

from __future__ import annotations

from bot.listeners.answering import answer_turn, thread_history
from bot.listeners.context import Services, Turn, strip_mentions


def register(app, services: Services) -> None:
    def ack_mention(ack):
        ack()

    def handle_mention(event: dict, body: dict, client, context) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        thread_ts = event.get("thread_ts") or event["ts"]
        team_id = body.get("team_id") or context.team_id or ""
        turn = Turn(
            client,
            team_id,
            event["user"],
            event["channel"],
            strip_mentions(event.get("text", "")),
            thread_ts,
        )
        history = (
            thread_history(turn, context.bot_user_id, event["ts"])
            if event.get("thread_ts")
            else None
        )
        answer_turn(services, turn, history)

    app.event("app_mention")(ack=ack_mention, lazy=[handle_mention])
