"""The core subcommands: ask, checkin, journal, export, forget, help."""

from __future__ import annotations

from functools import partial

from bot.guidance.ledger import conversation_key, remember
from bot.listeners.commands.registry import Subcommand
from bot.listeners.context import Services
from bot.reflection.leaders import get_leader
from bot.services.ratelimit import allow_request
from bot.slack.personal import join_checkins, journal_message, send_export
from bot.statuses import LeaderStatus
from bot.ui import messages
from bot.ui.answer import answer_blocks, to_dicts
from bot.ui.checkins import joined_text
from bot.ui.journal import forget_modal


def _private(respond, text: str, blocks=None) -> None:
    respond(text=text, blocks=blocks or [], response_type="ephemeral", replace_original=True)


def ack_ask(services: Services, ack, command, client, rest: str) -> None:
    if rest:
        ack(text=messages.THINKING, response_type="ephemeral")
    else:
        ack(text=services.guidance.answer("").answer, response_type="ephemeral")


def run_ask(services: Services, command, rest: str, respond, client) -> None:
    if not rest:
        return
    settings = services.settings
    if not allow_request(settings, command.get("team_id", ""), command["user_id"]):
        _private(respond, messages.RATE_LIMITED)
        return
    team, user = command.get("team_id", ""), command["user_id"]
    conversation = conversation_key(command.get("channel_id", ""), "ask")
    answer = services.guidance.answer(
        rest, commands=messages.commands_text(services.commands.help_entries())
    )
    share_id = None
    if answer.grounded:
        share_id = remember(settings, team, user, conversation, answer)
    blocks, text = answer_blocks(answer, settings.allowed_link_domains, share_id=share_id)
    _private(respond, text, to_dicts(blocks))


def run_checkin(services: Services, command, rest: str, respond, client) -> None:
    team, user = command.get("team_id", ""), command["user_id"]
    existing = get_leader(services.settings, team, user)
    if existing is not None and existing.status == LeaderStatus.ACTIVE:
        _private(
            respond,
            "You're already taking part. You can change your schedule, pause or leave in my Home tab.",
        )
        return
    _private(respond, joined_text(join_checkins(services, client, team, user)))


def run_journal(services: Services, command, rest: str, respond, client) -> None:
    blocks, text = journal_message(services, command.get("team_id", ""), command["user_id"])
    _private(respond, text, blocks)


def run_export(services: Services, command, rest: str, respond, client) -> None:
    send_export(services, client, command.get("team_id", ""), command["user_id"])


def ack_forget(ack, command, client, rest: str) -> None:
    client.views_open(trigger_id=command["trigger_id"], view=forget_modal())
    ack()


def register(services: Services) -> None:
    services.commands.add(
        Subcommand(
            "ask",
            "/tandem ask <question>",
            "guidance on leading collaboratively, with its sources",
            ack_handler=partial(ack_ask, services),
            run=partial(run_ask, services),
        )
    )
    services.commands.add(
        Subcommand(
            "checkin",
            "/tandem checkin",
            "join reflective check-ins on your own schedule",
            "Setting up your check-ins…",
            run=partial(run_checkin, services),
        )
    )
    services.commands.add(
        Subcommand(
            "journal",
            "/tandem journal",
            "your recent reflections and the themes you return to (only you see it)",
            "Opening your journal…",
            run=partial(run_journal, services),
        )
    )
    services.commands.add(
        Subcommand(
            "export",
            "/tandem export",
            "a file of everything Tandem holds about you",
            "Preparing your export. It will arrive in our DM in a moment.",
            run=partial(run_export, services),
        )
    )
    services.commands.add(
        Subcommand(
            "forget",
            "/tandem forget",
            "erase everything Tandem holds about you",
            ack_handler=ack_forget,
        )
    )
    services.commands.add(Subcommand("help", "/tandem help", "this list"))
