"""A per-person request budget shared by every replica through the database."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from bot.db.engine import session_scope
from bot.db.models import RateWindow, utcnow
from bot.settings import Settings

WINDOW = dt.timedelta(minutes=1)


def _user_key(team_id: str, user_id: str) -> str:
    return hashlib.sha256(f"rate:{team_id}:{user_id}".encode()).hexdigest()


def allow_request(
    settings: Settings, team_id: str, user_id: str, now: dt.datetime | None = None
) -> bool:
    """Count one request; False once the person is over the limit for this minute."""
    now = now or utcnow()
    window = now.replace(second=0, microsecond=0)
    key = _user_key(team_id, user_id)
    for _ in range(3):
        try:
            with session_scope(settings) as session:
                result = session.execute(
                    update(RateWindow)
                    .where(RateWindow.user_key == key, RateWindow.window_start == window)
                    .values(count=RateWindow.count + 1)
                    .returning(RateWindow.count)
                ).first()
                if result is None:
                    session.add(RateWindow(user_key=key, window_start=window, count=1))
                    session.execute(
                        delete(RateWindow).where(RateWindow.window_start < window - WINDOW)
                    )
                    return True
                return result[0] <= settings.user_rate_limit_per_minute
        except IntegrityError:
            continue  # the first request of this window raced another; count again
    return True
