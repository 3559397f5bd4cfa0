"""The one clock every time-dependent part of Tandem reads.

Journal stamps, schedules, digest periods, previews and due dates must agree about "now",
or a reflection written a moment ago can fall outside the digest it belongs to. In
production the clock is the machine's. A host that simulates time (the sandbox, with its
fast-forward) installs its own source with :func:`use`; everything then moves together.

Durations that are about the real world stay on real time on purpose: request signature
ages and Slack's rate limits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator

Source = Callable[[], dt.datetime]  # returns an aware UTC datetime

# Sources in use, newest last; the machine's clock when there are none. A list rather than
# one slot, so a second host in the same process (a test starting another sandbox) borrows
# the clock and hands it back, whatever order they stop in.
_sources: list[Source] = []
_lock = threading.Lock()


def now() -> dt.datetime:
    """The present, aware UTC."""
    with _lock:
        source = _sources[-1] if _sources else None
    return source() if source is not None else dt.datetime.now(dt.UTC)


def utcnow() -> dt.datetime:
    """The present as Tandem stores times: naive UTC."""
    return now().astimezone(dt.UTC).replace(tzinfo=None)


@contextlib.contextmanager
def use(source: Source) -> Iterator[None]:
    """Read time from ``source`` until the block ends."""
    with _lock:
        _sources.append(source)
    try:
        yield
    finally:
        with _lock:
            _sources.remove(source)
