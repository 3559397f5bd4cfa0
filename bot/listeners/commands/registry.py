"""The `/tandem` subcommands. Each feature module adds its own to its app's registry
(`Services.commands`); `help` lists exactly these. Defined beside `Services`, which holds it."""

from bot.listeners.context import Registry, Subcommand

__all__ = ["Registry", "Subcommand"]
