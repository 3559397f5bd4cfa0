"""`app_mention`: reply in a thread under the mention, never at channel root."""

from __future__ import annotations

from functools import partial

from bot.listeners.context import Services, Turn, ack_at_once, strip_mentions
from bot.slack.answering import answer_turn, thread_history


def handle_mention(services: Services, event: dict, body: dict, client, context) -> None:
    """After the ack: answering takes longer than Slack waits."""
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
        thread_history(turn, context.bot_user_id, event["ts"]) if event.get("thread_ts") else None
    )
    answer_turn(services, turn, history)


def register(app, services: Services) -> None:
    app.event("app_mention")(ack=ack_at_once, lazy=[partial(handle_mention, services)])
