"""Erasure reaches digests too: a person's salted hash leaves every stored contributor set.

A digest that was previewed but not yet posted also loses every theme the person counted
towards, so nothing they shared reaches the channel after they asked to be forgotten. What
changes is decided by the frozen release and the person's own contributions alone (never by
recomputing from current data), so erasing yourself cannot be used to difference others.
"""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import select

from bot.db.engine import session_scope
from bot.db.models import DigestRun
from bot.digests.compose import Digest, Library, contributor_hash, offline_paragraph
from bot.digests.service import contributor_salt, load_wording
from bot.settings import Settings
from bot.statuses import DigestRunStatus


def _without_themes(settings: Settings, content: str | None, themes: set[str]) -> str | None:
    """The stored release with the given themes left out, its paragraph rewritten offline."""
    if not content or not themes:
        return content
    digest = Digest.from_record(json.loads(content), {})
    kept = [line for line in digest.themes if line.slug not in themes]
    wording = Library({}, {}, {}, dict(load_wording(settings.prompts_dir)["offline"]))
    text = offline_paragraph(wording, kept, False, digest.k, digest.period_word)
    return json.dumps(replace(digest, themes=kept, text=text).to_record(), ensure_ascii=False)


def erase_digest_traces(settings: Settings, team_id: str, user_id: str) -> int:
    """Remove the person from the differencing record of every past digest, and their themes
    from any digest fixed by a preview but not yet posted; returns runs changed."""
    mine = contributor_hash(contributor_salt(settings), team_id, user_id)
    changed = 0
    with session_scope(settings) as session:
        for run in session.scalars(select(DigestRun).where(DigestRun.shown.contains(mine))):
            shown = json.loads(run.shown or "{}")
            theirs = {theme for theme, hashes in shown.items() if mine in hashes}
            if run.status in (
                DigestRunStatus.PREVIEWED,
                DigestRunStatus.CLAIMED,
                DigestRunStatus.UNSENT,
            ):
                run.content = _without_themes(settings, run.content, theirs)
                shown = {theme: hashes for theme, hashes in shown.items() if theme not in theirs}
            run.shown = json.dumps(
                {theme: [h for h in hashes if h != mine] for theme, hashes in shown.items()},
                sort_keys=True,
            )
            changed += 1
    return changed
