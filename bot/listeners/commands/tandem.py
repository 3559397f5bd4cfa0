"""`/tandem <subcommand>`: help and ask (later issues add theirs)."""

from __future__ import annotations

from bot.listeners.context import Services
from bot.services.ratelimit import allow_request
from bot.ui import messages
from bot.ui.answer import answer_blocks, to_dicts
from bot.ui.messages import help_blocks


def parse(text: str) -> tuple[str, str]:
    name, _, rest = (text or "").strip().partition(" ")
    return name.lower(), rest.strip()


def register(app, services: Services) -> None:
    settings = services.settings

    def ack_command(ack, command: dict) -> None:
        name, rest = parse(command.get("text", ""))
        if name == "ask" and rest:
            ack(text=messages.THINKING, response_type="ephemeral")
            return
        if name == "ask":
            ack(text=services.guidance.answer("").answer, response_type="ephemeral")
            return
        intro = None if name in ("", "help") else messages.UNKNOWN_SUBCOMMAND.format(name=name)
        blocks, text = help_blocks(intro)
        ack(text=text, blocks=to_dicts(blocks), response_type="ephemeral")

    def run_command(command: dict, respond) -> None:
        name, rest = parse(command.get("text", ""))
        if name != "ask" or not rest:
            return
        if not allow_request(settings, command.get("team_id", ""), command["user_id"]):
            respond(text=messages.RATE_LIMITED, response_type="ephemeral", replace_original=True)
            return
        try:
            answer = services.guidance.answer(rest)
            blocks, text = answer_blocks(
                answer, settings.allowed_link_domains, shareable_question=rest
            )
            respond(
                text=text, blocks=to_dicts(blocks), response_type="ephemeral", replace_original=True
            )
        except Exception:
            respond(
                text=messages.SOMETHING_WENT_WRONG, response_type="ephemeral", replace_original=True
            )
            raise

    app.command("/tandem")(ack=ack_command, lazy=[run_command])
