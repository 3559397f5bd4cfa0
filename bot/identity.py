"""Keyed hashes of people: rows that must be found again for one person (to erase them)
but must not be readable as a list of who did what.

The key is `TANDEM_HASH_KEY` (falling back to `SLACK_SIGNING_SECRET`, which every replica
already shares). Without the key, listing a workspace's user ids does not re-identify a row.
"""

from __future__ import annotations

import hashlib
import hmac

from bot.settings import Settings


def hash_key(settings: Settings) -> bytes:
    key = settings.secret_value("hash_key") or settings.secret_value("slack_signing_secret")
    return (key or "tandem-local").encode()


def person_key(settings: Settings, purpose: str, team_id: str, user_id: str) -> str:
    """A stable, keyed, purpose-specific hash of one person."""
    message = f"{purpose}:{team_id}:{user_id}".encode()
    return hmac.new(hash_key(settings), message, hashlib.sha256).hexdigest()
