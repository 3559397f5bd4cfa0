"""Per-request dependencies handed from a listener to the code that answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot.guidance.service import GuidanceService
from bot.settings import Settings

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


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


class Registry:
    """One app's subcommands. Built per app, so two apps in one process (tests, several
    workspaces) never run each other's commands with each other's settings."""

    def __init__(self) -> None:
        self.subcommands: dict[str, Subcommand] = {}

    def add(self, subcommand: Subcommand) -> None:
        self.subcommands[subcommand.name] = subcommand

    def get(self, name: str) -> Subcommand | None:
        return self.subcommands.get(name)

    def help_entries(self) -> list[tuple[str, str]]:
        """Every subcommand, in the order registered, with `help` itself last."""
        ordered = sorted(self.subcommands.values(), key=lambda s: s.name == "help")
        return [(s.usage, s.about) for s in ordered]


@dataclass
class Services:
    """What listeners need from the domain layer; built once per app."""

    settings: Settings
    guidance: GuidanceService
    commands: Registry = field(default_factory=Registry)  # this app's /tandem subcommands


@dataclass
class Turn:
    """One person's message to Tandem, and where the reply belongs."""

    client: WebClient
    team_id: str
    user_id: str
    channel_id: str
    text: str
    reply_thread_ts: str | None = None


def team_of(body: dict) -> str:
    """The workspace of an interactivity payload (actions, view submissions)."""
    return (body.get("team") or {}).get("id") or body["user"].get("team_id", "")


def ack_unless_blank(ack, text: str | None, block_id: str, message: str) -> None:
    """Ack a modal submission, or, when `text` is blank, keep the modal open with `message`
    under `block_id`, so an empty form is pointed out on the form itself."""
    if (text or "").strip():
        ack()
    else:
        ack(response_action="errors", errors={block_id: message})


def ack_at_once(ack) -> None:
    """The ack of a listener whose work all runs after it (Bolt's `lazy=`)."""
    ack()


def strip_mentions(text: str) -> str:
    return _MENTION.sub("", text or "").strip()
