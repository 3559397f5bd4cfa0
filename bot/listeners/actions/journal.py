"""Journal entry controls: sharing choice (one click), edit, delete. Owner only."""

from __future__ import annotations

from bot.listeners.context import Services, team_of
from bot.reflection import journal
from bot.ui import journal as journal_ui


def _leader_id(services: Services, body: dict) -> int | None:
    return journal.leader_id_for(services.settings, team_of(body), body["user"]["id"])


def register(app, services: Services) -> None:
    settings = services.settings

    def tell(respond, text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    def change_sharing(ack, body, action, respond):
        ack()
        entry_id, _, choice = action["selected_option"]["value"].partition(":")
        leader_id = _leader_id(services, body)
        try:
            entry = journal.set_sharing(settings, leader_id, int(entry_id), choice)
        except (journal.NotYours, ValueError):
            tell(respond, "I couldn't change that entry.")
            return
        tell(respond, f"Done: that entry is now “{journal.SHARING_LABELS[entry.sharing].lower()}”.")

    def edit(ack, body, action, client, respond):
        ack()
        try:
            entry = journal.get_entry(settings, _leader_id(services, body), int(action["value"]))
        except (journal.NotYours, ValueError):
            tell(respond, "I couldn't find that entry.")
            return
        if len(entry.text) > 3000:
            tell(
                respond,
                "This entry is longer than the edit box can hold (3,000 characters). You can add to it by replying in its check-in thread, or delete it.",
            )
            return
        client.views_open(trigger_id=body["trigger_id"], view=journal_ui.edit_modal(entry))

    def delete(ack, body, action, respond):
        ack()
        try:
            journal.delete_entry(settings, _leader_id(services, body), int(action["value"]))
        except (journal.NotYours, ValueError):
            tell(respond, "I couldn't find that entry.")
            return
        tell(respond, journal_ui.delete_confirmation_text())

    app.action(journal_ui.ACTION_SHARING)(change_sharing)
    app.action(journal_ui.ACTION_EDIT)(edit)
    app.action(journal_ui.ACTION_DELETE)(delete)
