"""The sandbox's simulated time: real time plus an offset that only ever moves forward.

Tandem's scheduled work (check-ins, reminders, digests) runs as of this clock, so a person
trying the sandbox can jump to Monday morning instead of waiting for it. The offset never
goes back: Tandem's send ledger would (rightly) refuse to repeat what already went out.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo


def next_weekday_at(
    after: dt.datetime, time_zone: str, weekday: int = 0, at: dt.time = dt.time(9, 0)
) -> dt.datetime:
    """The first ``weekday`` (0 = Monday) at ``at`` local time strictly after ``after``.

    Returned as an aware UTC datetime; a wall-clock time the clocks skip lands just after
    the change, like Tandem's own schedules.
    """
    zone = ZoneInfo(time_zone)
    local = after.astimezone(zone)
    days_ahead = (weekday - local.weekday()) % 7
    for extra in (0, 7):
        date = local.date() + dt.timedelta(days=days_ahead + extra)
        candidate = dt.datetime.combine(date, at, tzinfo=zone).astimezone(dt.UTC)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a week later is always later")


class SimulatedClock:
    """Real time plus an offset; every change is remembered so that past moments (such as
    when a message was posted) can be shown in simulated time too."""

    def __init__(
        self,
        changes: list[tuple[float, float]] | None = None,
        real_time: Callable[[], float] = time.time,
    ):
        self._real_time = real_time
        # (real epoch seconds when the offset was set, offset in seconds), oldest first.
        self._changes: list[tuple[float, float]] = list(changes or [(0.0, 0.0)])
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        """Seconds the sandbox is ahead of real time."""
        with self._lock:
            return self._changes[-1][1]

    def now(self) -> dt.datetime:
        """The simulated present, aware UTC."""
        return self.simulated(self._real_time())

    def naive_utc(self) -> dt.datetime:
        """The simulated present as Tandem stores times: naive UTC."""
        return self.now().replace(tzinfo=None)

    def simulated(self, real_epoch: float) -> dt.datetime:
        """The simulated moment that a real instant (such as a message ts) corresponds to."""
        with self._lock:
            offset = self._changes[0][1]
            for changed_at, value in self._changes:
                if changed_at <= real_epoch:
                    offset = value
        return dt.datetime.fromtimestamp(real_epoch + offset, tz=dt.UTC)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move forward by ``delta`` (negative deltas are ignored); returns the new now."""
        seconds = max(0.0, delta.total_seconds())
        with self._lock:
            self._changes.append((self._real_time(), self._changes[-1][1] + seconds))
            del self._changes[:-200]  # older change points only date very old messages
        return self.now()

    def advance_to(self, moment: dt.datetime) -> dt.datetime:
        """Jump to ``moment`` (aware); a moment already past leaves the clock alone."""
        return self.advance(moment - self.now())

    def to_dict(self) -> dict:
        with self._lock:
            return {"changes": [list(change) for change in self._changes]}

    @classmethod
    def from_dict(cls, data: dict, real_time: Callable[[], float] = time.time) -> SimulatedClock:
        changes = [(float(a), float(b)) for a, b in data.get("changes") or []]
        return cls(changes or None, real_time=real_time)
