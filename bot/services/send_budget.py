"""Slack's posting limits, shared by every replica through the database.

About one message per second per channel, and a configurable workspace-wide budget per
second. A large fan-out is spread out to fit, instead of bursting into 429s. Windows are
whole seconds (fifths of a second for the workspace), counted in the shared `rate_windows`
table.

Every slot is counted in the shared table before it is used, so replicas together never
exceed the budget. A process reserves workspace slots several at a time (about as many as
it used in the window before, within half a window's share) and hands them to its own
senders until the window ends (a slot left over is simply not used); channels' seconds are
written for all of a process's waiting senders at once. So the budget costs a fraction of a
write per send instead of several. A fan-out to distinct channels (a tick's DMs) takes this
second for a whole group of them in one statement ahead of sending (`take_channel_seconds`),
in the same transaction as the group's own writes (renewing its claims), and a send whose
second is still that one does not take it again. The statements are built once, not per send.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.db.engine import get_ephemeral_engine
from bot.db.models import RateWindow
from bot.settings import Settings

PER_CHANNEL_PER_SECOND = 1
SLICES_PER_SECOND = 5
# Workspace slots a process reserves at once, at least (never more than one window allows).
RESERVE_BATCH = 16

# Writes a sender adds to the transaction that takes its channels' seconds.
Alongside = Callable[[Connection], object]


@dataclass
class _Held:
    """A process's workspace slots in one window (by its index since the epoch)."""

    window: int = 0
    left: int = 0  # reserved in the table and not yet used
    used: int = 0  # used in this window
    used_before: int = 0  # used in the window just before it

    def batch(self, per_slice: int) -> int:
        """How many to reserve at once: about what the last window used, so a busy sender
        reserves once or twice a window, not every RESERVE_BATCH sends; never more than half
        a window's share beyond RESERVE_BATCH, so other replicas still get their turn."""
        return min(per_slice, max(RESERVE_BATCH, min(self.used_before, per_slice // 2)))


_held_lock = threading.Lock()
_held: dict[tuple[str, str], _Held] = {}  # (database, key) -> this process's slots
# (database, key) -> held while one sender reserves a batch of slots for the process
_reserving: dict[tuple[str, str], threading.Lock] = {}


def _window(start: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(start, dt.UTC).replace(tzinfo=None)


class _ChannelSeconds:
    """Takes channels' seconds for every sender of this process together (a group commit).

    Each sender waiting for channels' seconds joins the next write; the first to arrive
    writes them all in one statement while later arrivals queue for the one after. Only the
    rows the statement inserted are granted, so a second another replica holds stays its.
    A sender may add writes of its own to the same transaction (`alongside`), so work that
    must happen just before sending (renewing claims) costs no transaction of its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[Settings, list[str], dt.datetime, Alongside | None, Future]] = []
        self._writing = False

    def take(
        self, settings: Settings, keys: list[str], second: float, alongside: Alongside | None = None
    ) -> tuple[set[str], object]:
        """The keys (channels) whose `second` this process now holds, and what `alongside`
        returned (run in the same transaction, before the seconds are taken)."""
        wanted: Future = Future()
        with self._lock:
            self._pending.append((settings, keys, _window(second), alongside, wanted))
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
                    granted, extras = _write_together(entries)
                except Exception as error:  # every waiting sender sees the failure
                    for *_, wanted in entries:
                        wanted.set_exception(error)
                    continue
                for (_, keys, window, _, wanted), extra in zip(entries, extras, strict=True):
                    mine = {key for key in keys if (key, window) in granted}
                    granted.difference_update((key, window) for key in mine)  # one post each
                    wanted.set_result((mine, extra))


def _write_together(entries: list) -> tuple[set, list]:
    """One transaction: each entry's own writes, then every channel's second."""
    settings = entries[0][0]
    engine = get_ephemeral_engine(settings)
    with engine.begin() as connection:
        extras = [alongside(connection) if alongside else None for *_, alongside, _ in entries]
        rows = {(k, w) for _, keys, w, _, _ in entries for k in keys}
        return (_insert_new(connection, rows) if rows else set()), extras


_RATE = RateWindow.__table__
_statements: dict[str, object] = {}


def _insert_statement(dialect: str):
    """INSERT … ON CONFLICT DO NOTHING RETURNING the rows that were new, built once."""
    statement = _statements.get(dialect)
    if statement is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        statement = _statements[dialect] = (
            dialect_insert(_RATE)
            .on_conflict_do_nothing(index_elements=["user_key", "window_start"])
            .returning(_RATE.c.user_key, _RATE.c.window_start)
        )
    return statement


def _insert_new(connection, rows: set[tuple[str, dt.datetime]]) -> set:
    """Insert these (key, window) rows with a count of one; returns those that were new.

    Many rows go as one statement (SQLAlchemy's insertmanyvalues)."""
    return {
        (key, window)
        for key, window in connection.execute(
            _insert_statement(connection.dialect.name),
            [{"user_key": k, "window_start": w, "count": 1} for k, w in sorted(rows)],
        )
    }


_channel_seconds = _ChannelSeconds()


def _channel_key(team_id: str, channel_id: str) -> str:
    return f"ch:{team_id}:{channel_id}"[:64]


def _take_channel(settings: Settings, key: str, second: float) -> bool:
    """The channel's one post this second, if nobody (on any replica) has taken it."""
    return bool(_channel_seconds.take(settings, [key], second)[0])


def take_channel_seconds(
    settings: Settings, channels: list[tuple[str, str]], alongside: Alongside | None = None
) -> tuple[float, set[tuple[str, str]]]:
    """Ahead of a fan-out: this second for each of these (team id, channel id), in one write.

    Returns the second and the channels granted; hand the second to `reserve` (as
    `held_second`) for each granted channel. A send that is still in that second does not
    take it again; one that is later takes its own. A channel listed twice is granted once.
    With the budget off nothing is taken. `alongside(connection)`, if given, runs first in
    the same transaction (with the budget off, in one of its own shared the same way)."""
    if settings.slack_sends_per_second <= 0 or not channels:
        if alongside is not None:
            _channel_seconds.take(settings, [], 0.0, alongside)
        return 0.0, set()
    second = float(int(time.time()))
    by_key = {_channel_key(team, channel): (team, channel) for team, channel in channels}
    granted, _ = _channel_seconds.take(settings, list(by_key), second, alongside)
    return second, {by_key[key] for key in granted}


_WHERE_WINDOW = (
    _RATE.c.user_key == bindparam("key"),
    _RATE.c.window_start == bindparam("window"),
)
# Add `want` if it still fits the window's limit; or, once it was read, only if unchanged.
_ADD_IF_FITS = (
    update(_RATE)
    .where(*_WHERE_WINDOW, _RATE.c.count + bindparam("want") <= bindparam("limit"))
    .values(count=_RATE.c.count + bindparam("want"))
)
_COUNTED = select(_RATE.c.count).where(*_WHERE_WINDOW)
_OPEN = insert(_RATE).values(
    user_key=bindparam("key"), window_start=bindparam("window"), count=bindparam("granted")
)
_ADD_IF_UNCHANGED = (
    update(_RATE)
    .where(*_WHERE_WINDOW, _RATE.c.count == bindparam("counted"))
    .values(count=bindparam("total"))
)


def _take_slots(settings: Settings, key: str, start: float, limit: int, want: int) -> int:
    """Count up to `want` more posts in this window, within `limit`; returns how many."""
    window = {"key": key, "window": _window(start)}
    for _ in range(4):
        try:
            with get_ephemeral_engine(settings).begin() as connection:
                taken = connection.execute(
                    _ADD_IF_FITS, {**window, "want": want, "limit": limit}
                ).rowcount
                if taken:
                    return want
                counted = connection.execute(_COUNTED, window).scalar()
                if counted is None:
                    granted = min(want, limit)
                    connection.execute(_OPEN, {**window, "granted": granted})
                    return granted
                granted = min(want, limit - counted)
                if granted <= 0:
                    return 0  # this window is full
                # Only what is left: if another sender took some meanwhile, look again.
                if connection.execute(
                    _ADD_IF_UNCHANGED, {**window, "counted": counted, "total": counted + granted}
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
    """One workspace slot in the current window: from this process's reserve, or a new batch.

    One sender at a time reserves a batch for the process (the others wait for it and use
    its slots), so a window's first sends do not each reserve a batch of their own."""
    index = int(time.time() * slices)
    per_slice = slice_limit(budget, slices, index)
    held_key = (settings.resolved_database_url, key)
    if _use_held(held_key, index):
        return True
    with _reserving_lock(held_key):
        if _use_held(held_key, index):  # another sender reserved while this one waited
            return True
        with _held_lock:
            held = _held.setdefault(held_key, _Held())
            if held.window != index:  # slots of an earlier window have lapsed
                used_before = held.used if held.window == index - 1 else 0
                held.window, held.left, held.used, held.used_before = index, 0, 0, used_before
            want = held.batch(per_slice)
        granted = _take_slots(settings, key, index / slices, per_slice, want)
        if not granted:
            return False
        with _held_lock:
            if held.window == index:
                held.left += granted - 1
                held.used += 1
        return True


def _use_held(held_key: tuple[str, str], index: int) -> bool:
    """One of this process's reserved slots in the window `index`, if any is left."""
    with _held_lock:
        held = _held.get(held_key)
        if held is not None and held.window == index and held.left > 0:
            held.left -= 1
            held.used += 1
            return True
    return False


def _reserving_lock(held_key: tuple[str, str]) -> threading.Lock:
    with _held_lock:
        return _reserving.setdefault(held_key, threading.Lock())


def reserve(
    settings: Settings,
    team_id: str,
    channel_id: str,
    max_wait: float = 120.0,
    held_second: float | None = None,
) -> float:
    """Wait until one more message fits the channel's and the workspace's budget.

    `held_second`: a second `take_channel_seconds` granted this channel; while it lasts the
    channel's post is already counted. Returns the seconds waited. With
    SLACK_SENDS_PER_SECOND=0 the budget is off.
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
        if second == held_second or _take_channel(
            settings, _channel_key(team_id, channel_id), second
        ):
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
