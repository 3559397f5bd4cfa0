"""Slash command listeners."""

from bot.listeners.commands import tandem


def register(app, services) -> None:
    tandem.register(app, services)
