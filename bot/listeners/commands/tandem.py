"""`/tandem <subcommand>`: help, ask, checkin, journal, export, forget."""

from __future__ import annotations

from bot.listeners.context import Services
from bot.listeners.personal import journal_message, send_export
from bot.reflection.leaders import enrol, get_leader
from bot.services.ratelimit import allow_request
from bot.ui import messages
from bot.ui.answer import answer_blocks, to_dicts
from bot.ui.journal import DAY_NAMES, forget_modal
from bot.ui.messages import help_blocks

WORKING = {
    "ask": messages.THINKING,
    "checkin": "Setting up your check-ins…",
    "journal": "Opening your journal…",
    "export": "Preparing your export. It will arrive in our DM in a moment.",
}


def parse(text: str) -> tuple[str, str]:
    name, _, rest = (text or "").strip().partition(" ")
    return name.lower(), rest.strip()


def register(app, services: Services) -> None:
    settings = services.settings

    def ack_command(ack, command: dict, client) -> None:
        name, rest = parse(command.get("text", ""))
        if name == "ask" and not rest:
            ack(text=services.guidance.answer("").answer, response_type="ephemeral")
        elif name == "forget":
            client.views_open(trigger_id=command["trigger_id"], view=forget_modal())
            ack()
        elif name in WORKING:
            ack(text=WORKING[name], response_type="ephemeral")
        else:
            intro = None if name in ("", "help") else messages.UNKNOWN_SUBCOMMAND.format(name=name)
            blocks, text = help_blocks(intro)
            ack(text=text, blocks=to_dicts(blocks), response_type="ephemeral")

    def run_command(command: dict, respond, client) -> None:
        name, rest = parse(command.get("text", ""))
        team, user = command.get("team_id", ""), command["user_id"]
        try:
            if name == "ask" and rest:
                ask(team, user, rest, respond)
            elif name == "checkin":
                join(team, user, client, respond)
            elif name == "journal":
                blocks, text = journal_message(services, team, user)
                respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)
            elif name == "export":
                send_export(services, client, team, user)
        except Exception:
            respond(
                text=messages.SOMETHING_WENT_WRONG, response_type="ephemeral", replace_original=True
            )
            raise

    def ask(team: str, user: str, question: str, respond) -> None:
        if not allow_request(settings, team, user):
            respond(text=messages.RATE_LIMITED, response_type="ephemeral", replace_original=True)
            return
        answer = services.guidance.answer(question)
        blocks, text = answer_blocks(
            answer, settings.allowed_link_domains, shareable_question=question
        )
        respond(
            text=text, blocks=to_dicts(blocks), response_type="ephemeral", replace_original=True
        )

    def join(team: str, user: str, client, respond) -> None:
        existing = get_leader(settings, team, user)
        if existing is not None and existing.status == "active":
            text = "You're already taking part. You can change your schedule, pause or leave in my Home tab."
        else:
            info = client.users_info(user=user).get("user", {})
            leader = enrol(
                settings,
                team,
                user,
                time_zone=(existing.time_zone if existing else None)
                or info.get("tz")
                or "Europe/London",
                display_name=info.get("real_name") or info.get("name") or "",
            )
            text = (
                f"You're in. I'll send a short question {leader.cadence} on {DAY_NAMES[leader.day]} at "
                f"{leader.local_time} ({leader.time_zone}). Your answers stay in a private journal. "
                "Change the timing, pause or leave any time from my Home tab."
            )
        respond(text=text, response_type="ephemeral", replace_original=True)

    app.command("/tandem")(ack=ack_command, lazy=[run_command])
