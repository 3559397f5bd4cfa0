"""`/tandem <subcommand>`: dispatch to the registered subcommands; anything else gets help."""

from __future__ import annotations

from functools import partial

from bot.listeners.context import Services
from bot.ui import messages
from bot.ui.answer import to_dicts
from bot.ui.messages import help_blocks


def parse(text: str) -> tuple[str, str]:
    name, _, rest = (text or "").strip().partition(" ")
    return name.lower(), rest.strip()


def handle_ack_command(services: Services, ack, command: dict, client) -> None:
    """In the request: a subcommand's own ack (a modal needs the fresh trigger), its working
    note, or help."""
    name, rest = parse(command.get("text", ""))
    sub = services.commands.get(name)
    if sub is not None and sub.ack_handler is not None:
        sub.ack_handler(ack, command, client, rest)
    elif sub is not None and sub.working:
        ack(text=sub.working, response_type="ephemeral")
    else:
        intro = None if name in ("", "help") else messages.UNKNOWN_SUBCOMMAND.format(name=name)
        commands = messages.commands_text(services.commands.help_entries())
        blocks, text = help_blocks(services.guidance.help_text(commands), intro)
        ack(text=text, blocks=to_dicts(blocks), response_type="ephemeral")


def handle_run_command(services: Services, command: dict, respond, client) -> None:
    """After the ack: the subcommand's slow part, if it has one."""
    name, rest = parse(command.get("text", ""))
    sub = services.commands.get(name)
    if sub is None or sub.run is None:
        return
    try:
        sub.run(command, rest, respond, client)
    except Exception:
        respond(
            text=messages.SOMETHING_WENT_WRONG, response_type="ephemeral", replace_original=True
        )
        raise


def register(app, services: Services) -> None:
    app.command("/tandem")(
        ack=partial(handle_ack_command, services), lazy=[partial(handle_run_command, services)]
    )
