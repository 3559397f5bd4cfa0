"""Slash command listeners. Feature modules add `/tandem` subcommands to the registry."""

from bot.listeners.commands import core, tandem


def register(app, services) -> None:
    core.register(services)
    tandem.register(app, services)
