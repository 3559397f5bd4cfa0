"""Slash command listeners. Feature modules add `/tandem` subcommands to the registry.

`tandem.py` is the one Bolt listener; each subcommand's parts are module-level `ack_*` (in the
request) and `run_*` (after the ack) functions, given `services` with `partial` when added."""

from bot.listeners.commands import core, digest, peers, tandem


def register(app, services) -> None:
    core.register(services)
    peers.register(services)
    digest.register(services)
    tandem.register(app, services)
