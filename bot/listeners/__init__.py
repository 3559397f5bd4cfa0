"""Slack I/O only: ack fast, parse, call a service, render with bot.ui."""

from bot.listeners import actions, commands, events, views


def register_listeners(app, services) -> None:
    events.register(app, services)
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
