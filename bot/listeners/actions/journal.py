"""Journal entry controls: sharing choice (one click), edit, delete. Owner only.

Each change redraws the journal message it came from, with a line saying what changed.
Opening the edit modal needs a fresh trigger, so it runs in the request; the rest after the ack.
"""

from __future__ import annotations

from functools import partial

from bot.listeners.context import Services, ack_at_once, team_of
from bot.reflection import journal
from bot.slack.personal import journal_message
from bot.ui import journal as journal_ui


def _leader_id(services: Services, body: dict) -> int | None:
    return journal.leader_id_for(services.settings, team_of(body), body["user"]["id"])


def redraw_journal(services: Services, body: dict, respond, note: str) -> None:
    """Replace the journal message with the journal as it now stands."""
    blocks, text = journal_message(services, team_of(body), body["user"]["id"], note=note)
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)


def _tell(respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


# In the request (the edit modal needs a fresh trigger).


def handle_edit(services: Services, ack, body: dict, action: dict, client, respond) -> None:
    ack()
    try:
        entry = journal.get_entry(
            services.settings, _leader_id(services, body), int(action["value"])
        )
    except (journal.NotYours, ValueError):
        _tell(respond, "I couldn't find that entry.")
        return
    if len(entry.text) > 3000:
        _tell(
            respond,
            "This entry is longer than the edit box can hold (3,000 characters). You can add to it by replying in its check-in thread, or delete it.",
        )
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=journal_ui.edit_modal(entry, body.get("response_url")),
    )


# After the ack.


def handle_change_sharing(services: Services, body: dict, action: dict, respond) -> None:
    entry_id, _, choice = action["selected_option"]["value"].partition(":")
    leader_id = _leader_id(services, body)
    try:
        entry = journal.set_sharing(services.settings, leader_id, int(entry_id), choice)
    except (journal.NotYours, ValueError):
        _tell(respond, "I couldn't change that entry.")
        return
    redraw_journal(services, body, respond, journal_ui.sharing_changed_text(entry.sharing))


def handle_delete(services: Services, body: dict, action: dict, respond) -> None:
    try:
        journal.delete_entry(services.settings, _leader_id(services, body), int(action["value"]))
    except (journal.NotYours, ValueError):
        _tell(respond, "I couldn't find that entry.")
        return
    redraw_journal(services, body, respond, journal_ui.delete_confirmation_text())


def register(app, services: Services) -> None:
    app.action(journal_ui.ACTION_SHARING)(
        ack=ack_at_once, lazy=[partial(handle_change_sharing, services)]
    )
    app.action(journal_ui.ACTION_EDIT)(partial(handle_edit, services))
    app.action(journal_ui.ACTION_DELETE)(ack=ack_at_once, lazy=[partial(handle_delete, services)])
