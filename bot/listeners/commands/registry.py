"""The `/tandem` subcommands. Each feature module adds its own; `help` lists exactly these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    about: str
    # Shown at once (ephemeral) while `run` works after the ack.
    working: str | None = None
    # Optional: runs inside the ack (e.g. to open a modal while the trigger_id is fresh).
    # Called as ack_handler(ack, command, client, rest) and must call ack itself.
    ack_handler: Callable | None = None
    # Optional: the slow part, after the ack: run(command, rest, respond, client).
    run: Callable | None = None


SUBCOMMANDS: dict[str, Subcommand] = {}


def add(subcommand: Subcommand) -> None:
    SUBCOMMANDS[subcommand.name] = subcommand


def help_entries() -> list[tuple[str, str]]:
    """Every subcommand, in the order registered, with `help` itself last."""
    ordered = sorted(SUBCOMMANDS.values(), key=lambda s: s.name == "help")
    return [(s.usage, s.about) for s in ordered]
