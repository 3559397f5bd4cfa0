"""Slack's posting limits, shared by every replica through the database.

About one message per second per channel, and a configurable workspace-wide budget per
second. A large fan-out is spread out to fit, instead of bursting into 429s. Windows are
whole seconds (fifths of a second for the workspace), counted in the shared `rate_windows`
table.

Every slot is counted in the shared table before it is used, so replicas together never
exceed the budget. A process reserves workspace slots several at a time and hands them to
its own senders until the window ends (a slot left over is simply not used), so the
budget costs one small write per send (the channel's) instead of several.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.db.engine import get_engine
from bot.db.models import RateWindow
from bot.settings import Settings

PER_CHANNEL_PER_SECOND = 1
SLICES_PER_SECOND = 5
# Workspace slots a process reserves at once (never more than one window allows).
RESERVE_BATCH = 16

_held_lock = threading.Lock()
# (database, key) -> (window start, slots reserved in the table and not yet used)
_held: dict[tuple[str, str], tuple[float, int]] = {}


def _window(start: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(start, dt.UTC).replace(tzinfo=None)


def _take_channel(settings: Settings, key: str, second: float) -> bool:
    """The channel's one post this second, if nobody (on any replica) has taken it."""
    try:
        with get_engine(settings).begin() as connection:
            connection.execute(
                insert(RateWindow).values(user_key=key, window_start=_window(second), count=1)
            )
        return True
    except IntegrityError:
        return False  # this second is taken


def _take_slots(settings: Settings, key: str, start: float, limit: int, want: int) -> int:
    """Count up to `want` more posts in this window, within `limit`; returns how many."""
    window = _window(start)
    where = (RateWindow.user_key == key, RateWindow.window_start == window)
    for _ in range(4):
        try:
            with get_engine(settings).begin() as connection:
                taken = connection.execute(
                    update(RateWindow)
                    .where(*where, RateWindow.count + want <= limit)
                    .values(count=RateWindow.count + want)
                ).rowcount
                if taken:
                    return want
                counted = connection.execute(select(RateWindow.count).where(*where)).scalar()
                if counted is None:
                    granted = min(want, limit)
                    connection.execute(
                        insert(RateWindow).values(user_key=key, window_start=window, count=granted)
                    )
                    return granted
                granted = min(want, limit - counted)
                if granted <= 0:
                    return 0  # this window is full
                # Only what is left: if another sender took some meanwhile, look again.
                if connection.execute(
                    update(RateWindow)
                    .where(*where, RateWindow.count == counted)
                    .values(count=counted + granted)
                ).rowcount:
                    return granted
        except IntegrityError:
            continue  # another sender opened this window first; try to join it
    return 0


def _workspace_slot(settings: Settings, key: str, slices: int, per_slice: int) -> bool:
    """One workspace slot in the current window: from this process's reserve, or a new batch."""
    start = int(time.time() * slices) / slices
    held_key = (settings.resolved_database_url, key)
    with _held_lock:
        held_start, left = _held.get(held_key, (0.0, 0))
        if held_start == start and left > 0:
            _held[held_key] = (start, left - 1)
            return True
    granted = _take_slots(settings, key, start, per_slice, min(per_slice, RESERVE_BATCH))
    if not granted:
        return False
    with _held_lock:
        held_start, left = _held.get(held_key, (0.0, 0))
        if held_start < start:
            _held[held_key] = (start, granted - 1)  # slots of an earlier window have lapsed
        elif held_start == start:
            _held[held_key] = (start, left + granted - 1)
    return True


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
    workspace = f"ws:{team_id}"[:64]
    while True:
        now = time.time()
        second = float(int(now))
        if _take_channel(settings, f"ch:{team_id}:{channel_id}"[:64], second):
            while not _workspace_slot(settings, workspace, slices, per_slice):
                if time.monotonic() - started > max_wait:
                    return time.monotonic() - started  # let Slack's own 429 handling take over
                now = time.time()
                next_slice = (int(now * slices) + 1) / slices
                time.sleep(max(0.0, next_slice - now) + random.uniform(0, 0.005))
            return time.monotonic() - started
        if time.monotonic() - started > max_wait:
            return time.monotonic() - started
        time.sleep(max(0.0, second + 1 - now) + random.uniform(0, 0.01))
