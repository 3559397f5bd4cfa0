"""Slack's posting limits, shared by every replica through the database.

About one message per second per channel, and a configurable workspace-wide budget per
second. A large fan-out is spread out to fit, instead of bursting into 429s. Windows are
whole seconds, counted in the shared `rate_windows` table.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bot.db.engine import session_scope
from bot.db.models import RateWindow
from bot.settings import Settings

PER_CHANNEL_PER_SECOND = 1
SLICES_PER_SECOND = 5


def _take(settings: Settings, key: str, start: float, limit: int) -> bool:
    window = dt.datetime.fromtimestamp(start, dt.UTC).replace(tzinfo=None)
    for _ in range(2):
        try:
            with session_scope(settings) as session:
                taken = session.execute(
                    update(RateWindow)
                    .where(
                        RateWindow.user_key == key,
                        RateWindow.window_start == window,
                        RateWindow.count < limit,
                    )
                    .values(count=RateWindow.count + 1)
                ).rowcount
                if taken:
                    return True
                if session.get(RateWindow, (key, window)) is not None:
                    return False  # this second is full
                session.add(RateWindow(user_key=key, window_start=window, count=1))
            return True
        except IntegrityError:
            continue  # another sender opened this window first; try to join it
    return False


def reserve(settings: Settings, team_id: str, channel_id: str, max_wait: float = 120.0) -> float:
    """Wait until one more message fits the channel's and the workspace's budget.

    Returns the seconds waited. With SLACK_SENDS_PER_SECOND=0 the budget is off.
    """
    budget = settings.slack_sends_per_second
    if budget <= 0:
        return 0.0
    started = time.monotonic()
    # Budgets below five a second are counted per whole second; the rest in fifths,
    # rounding down so the budget is never exceeded.
    slices = SLICES_PER_SECOND if budget >= SLICES_PER_SECOND else 1
    per_slice = budget // slices
    while True:
        now = time.time()
        second = float(int(now))
        slice_start = int(now * slices) / slices
        if _take(settings, f"ch:{team_id}:{channel_id}"[:64], second, PER_CHANNEL_PER_SECOND):
            while not _take(settings, f"ws:{team_id}"[:64], slice_start, per_slice):
                if time.monotonic() - started > max_wait:
                    return time.monotonic() - started  # let Slack's own 429 handling take over
                now = time.time()
                next_slice = (int(now * slices) + 1) / slices
                time.sleep(max(0.0, next_slice - now) + random.uniform(0, 0.005))
                slice_start = int(time.time() * slices) / slices
            return time.monotonic() - started
        if time.monotonic() - started > max_wait:
            return time.monotonic() - started
        time.sleep(max(0.0, second + 1 - now) + random.uniform(0, 0.01))
