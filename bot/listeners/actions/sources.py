"""The View button on an answer's source: the document opens in a modal."""

from __future__ import annotations

import re
from functools import partial

from bot.knowledge.documents import load_document
from bot.knowledge.taxonomy import load_taxonomy
from bot.listeners.context import Services
from bot.ui.answer import ACTION_VIEW_SOURCE
from bot.ui.knowledge import document_modal, not_found_modal


def handle_view_source(services: Services, ack, body: dict, action: dict, client) -> None:
    # Opening a modal must happen while the trigger_id is fresh: reading one Markdown
    # file is quick, so it is done before the ack.
    settings = services.settings
    themes = {t.slug for t in load_taxonomy(settings.taxonomy_path)}
    doc = load_document(settings.knowledge_dir, str(action.get("value", "")), themes)
    client.views_open(
        trigger_id=body["trigger_id"],
        view=document_modal(doc) if doc else not_found_modal(),
    )
    ack()


def register(app, services: Services) -> None:
    app.action(re.compile(rf"^{ACTION_VIEW_SOURCE}:\d+$"))(partial(handle_view_source, services))
