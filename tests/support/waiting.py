"""Waiting for work that Tandem does after its ack (lazy listeners run in the background)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float = 15.0, interval: float = 0.05) -> T:
    """Return check()'s first truthy value, or fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def settle(seconds: float = 0.5) -> None:
    """Give background work a moment when asserting that something did NOT happen."""
    time.sleep(seconds)
