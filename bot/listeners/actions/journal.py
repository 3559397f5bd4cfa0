"""Journal entry controls: sharing choice (one click), edit, delete. Owner only.

Each change redraws the journal message it came from, with a line saying what changed.
Opening the edit modal needs a fresh trigger, so it runs in the request; the rest after the ack.
"""

from __future__ import annotations

from bot.listeners.context import Services, team_of
from bot.listeners.personal import journal_message
from bot.reflection import journal
from bot.ui import journal as journal_ui


def _leader_id(services: Services, body: dict) -> int | None:
    return journal.leader_id_for(services.settings, team_of(body), body["user"]["id"])


def redraw_journal(services: Services, body: dict, respond, note: str) -> None:
    """Replace the journal message with the journal as it now stands."""
    blocks, text = journal_message(services, team_of(body), body["user"]["id"], note=note)
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)


def register(app, services: Services) -> None:
    settings = services.settings

    def tell(respond, text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    def ack_at_once(ack) -> None:
        ack()

    def change_sharing(body, action, respond):
        entry_id, _, choice = action["selected_option"]["value"].partition(":")
        leader_id = _leader_id(services, body)
        try:
            entry = journal.set_sharing(settings, leader_id, int(entry_id), choice)
        except (journal.NotYours, ValueError):
            tell(respond, "I couldn't change that entry.")
            return
        redraw_journal(services, body, respond, journal_ui.sharing_changed_text(entry.sharing))

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
        client.views_open(
            trigger_id=body["trigger_id"],
            view=journal_ui.edit_modal(entry, body.get("response_url")),
        )

    def delete(body, action, respond):
        try:
            journal.delete_entry(settings, _leader_id(services, body), int(action["value"]))
        except (journal.NotYours, ValueError):
            tell(respond, "I couldn't find that entry.")
            return
        redraw_journal(services, body, respond, journal_ui.delete_confirmation_text())

    app.action(journal_ui.ACTION_SHARING)(ack=ack_at_once, lazy=[change_sharing])
    app.action(journal_ui.ACTION_EDIT)(edit)
    app.action(journal_ui.ACTION_DELETE)(ack=ack_at_once, lazy=[delete])
