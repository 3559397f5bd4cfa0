"""Erasure reaches digests too: a person's salted hash leaves every stored contributor set."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.db.engine import session_scope
from bot.db.models import DigestRun
from bot.digests.compose import contributor_hash
from bot.digests.service import contributor_salt
from bot.settings import Settings


def erase_digest_traces(settings: Settings, team_id: str, user_id: str) -> int:
    """Remove the person from the differencing record of every past digest; returns runs changed."""
    mine = contributor_hash(contributor_salt(settings), team_id, user_id)
    changed = 0
    with session_scope(settings) as session:
        for run in session.scalars(select(DigestRun).where(DigestRun.shown.contains(mine))):
            shown = json.loads(run.shown or "{}")
            run.shown = json.dumps(
                {theme: [h for h in hashes if h != mine] for theme, hashes in shown.items()},
                sort_keys=True,
            )
            changed += 1
    return changed
