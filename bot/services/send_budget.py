"""Slack's posting limits, shared by every replica through the database.

About one message per second per channel, and a configurable workspace-wide budget per
second. A large fan-out is spread out to fit, instead of bursting into 429s. Windows are
whole seconds (fifths of a second for the workspace), counted in the shared `rate_windows`
table.

Every slot is counted in the shared table before it is used, so replicas together never
exceed the budget. A process reserves workspace slots several at a time and hands them to
its own senders until the window ends (a slot left over is simply not used); channels'
seconds are written for all of a process's waiting senders at once. So the budget costs a
fraction of a write per send instead of several.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from concurrent.futures import Future

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


class _ChannelSeconds:
    """Takes channels' seconds for every sender of this process together (a group commit).

    Each sender waiting for a channel's second joins the next write; the first to arrive
    writes them all in one statement while later arrivals queue for the one after. Only the
    rows the statement inserted are granted, so a second another replica holds stays its."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[Settings, str, dt.datetime, Future]] = []
        self._writing = False

    def take(self, settings: Settings, key: str, second: float) -> bool:
        wanted: Future = Future()
        with self._lock:
            self._pending.append((settings, key, _window(second), wanted))
            writer = not self._writing
            self._writing = True
        if writer:
            self._write_all()
        return wanted.result()

    def _write_all(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch:
                    self._writing = False
                    return
            by_database: dict[str, list] = {}
            for entry in batch:
                by_database.setdefault(entry[0].resolved_database_url, []).append(entry)
            for entries in by_database.values():
                try:
                    granted = _insert_new(entries[0][0], {(k, w) for _, k, w, _ in entries})
                except Exception as error:  # every waiting sender sees the failure
                    for *_, wanted in entries:
                        wanted.set_exception(error)
                    continue
                for _, key, window, wanted in entries:
                    wanted.set_result((key, window) in granted)
                    granted.discard((key, window))  # one post per channel per second


def _insert_new(settings: Settings, rows: set[tuple[str, dt.datetime]]) -> set:
    """Insert these (key, window) rows with a count of one; returns those that were new."""
    engine = get_engine(settings)
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = (
        dialect_insert(RateWindow)
        .values([{"user_key": k, "window_start": w, "count": 1} for k, w in sorted(rows)])
        .on_conflict_do_nothing(index_elements=["user_key", "window_start"])
        .returning(RateWindow.user_key, RateWindow.window_start)
    )
    with engine.begin() as connection:
        return {(key, window) for key, window in connection.execute(statement)}


_channel_seconds = _ChannelSeconds()


def _take_channel(settings: Settings, key: str, second: float) -> bool:
    """The channel's one post this second, if nobody (on any replica) has taken it."""
    return _channel_seconds.take(settings, key, second)


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


def slice_limit(budget: int, slices: int, index: int) -> int:
    """Slots in the `index`-th window of a second: the budget shared out so that every
    second's windows add up to exactly the budget (9 a second in fifths: 1, 2, 2, 2, 2)."""
    position = index % slices
    return (position + 1) * budget // slices - position * budget // slices


def _workspace_slot(settings: Settings, key: str, slices: int, budget: int) -> bool:
    """One workspace slot in the current window: from this process's reserve, or a new batch."""
    index = int(time.time() * slices)
    start = index / slices
    per_slice = slice_limit(budget, slices, index)
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
    # Budgets below five a second are counted per whole second; the rest in fifths, each
    # fifth's share set so that a second's add up to the budget exactly.
    slices = SLICES_PER_SECOND if budget >= SLICES_PER_SECOND else 1
    workspace = f"ws:{team_id}"[:64]
    while True:
        now = time.time()
        second = float(int(now))
        if _take_channel(settings, f"ch:{team_id}:{channel_id}"[:64], second):
            while not _workspace_slot(settings, workspace, slices, budget):
                if time.monotonic() - started > max_wait:
                    return time.monotonic() - started  # let Slack's own 429 handling take over
                now = time.time()
                next_slice = (int(now * slices) + 1) / slices
                time.sleep(max(0.0, next_slice - now) + random.uniform(0, 0.005))
            return time.monotonic() - started
        if time.monotonic() - started > max_wait:
            return time.monotonic() - started
        time.sleep(max(0.0, second + 1 - now) + random.uniform(0, 0.01))
