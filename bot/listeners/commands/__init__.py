"""Slash command listeners. Feature modules add `/tandem` subcommands to the registry."""

from bot.listeners.commands import core, digest, peers, tandem


def register(app, services) -> None:
    core.register(services)
    peers.register(services)
    digest.register(services)
    tandem.register(app, services)
