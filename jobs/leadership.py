"""Exactly one replica runs the scheduler; every replica helps deliver.

On PostgreSQL the scheduler role belongs to whoever holds a session-level advisory lock on
a dedicated connection. If that replica dies, its connection closes, the lock is released
and another replica takes over within one poll interval. On SQLite (one machine) the only
process is the scheduler. The send ledger still makes duplicates impossible if two
schedulers ever ran at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from sqlalchemy import text

from bot.db.engine import get_engine
from bot.settings import Settings
from bot.slack.client import TeamClients

log = logging.getLogger(__name__)
SCHEDULER_LOCK_ID = 741_776_002


class SchedulerLeadership:
    """Holds the scheduler role while it can; starts and stops the scheduler with it."""

    def __init__(self, settings: Settings, poll_seconds: float = 5.0) -> None:
        self.settings = settings
        self.poll_seconds = poll_seconds
        self.is_leader = False
        self._connection = None
        self._scheduler = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tandem-leadership", daemon=True)

    def start(self) -> SchedulerLeadership:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.poll_seconds + 5)
        self._step_down()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.is_leader:
                    self._check_still_leader()
                else:
                    self._try_to_lead()
            except Exception as error:  # a lost connection: step down and try again later
                log.warning("scheduler leadership check failed: %s", type(error).__name__)
                self._step_down()
            self._stop.wait(self.poll_seconds)

    def _try_to_lead(self) -> None:
        engine = get_engine(self.settings)
        if engine.dialect.name != "postgresql":
            self._become_leader()
            return
        connection = engine.connect()
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:id)"), {"id": SCHEDULER_LOCK_ID}
        ).scalar()
        connection.commit()
        if got:
            self._connection = connection
            self._become_leader()
        else:
            connection.close()

    def _check_still_leader(self) -> None:
        if self._connection is not None:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()

    def _become_leader(self) -> None:
        from jobs.scheduler import build_scheduler

        self._scheduler = build_scheduler(self.settings)
        self._scheduler.start()
        self.is_leader = True
        log.info("this replica now runs the scheduler")

    def _step_down(self) -> None:
        # Stepping down must not fail: the scheduler or connection may already be gone.
        if self._scheduler is not None:
            with contextlib.suppress(Exception):
                self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
        if self.is_leader:
            log.info("this replica no longer runs the scheduler")
        self.is_leader = False


class DeliveryWorker:
    """Every replica claims and sends due check-ins in batches (SKIP LOCKED on PostgreSQL)."""

    def __init__(self, settings: Settings, poll_seconds: float = 2.0) -> None:
        self.settings = settings
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._clients = TeamClients(settings)
        self._thread = threading.Thread(target=self._run, name="tandem-delivery", daemon=True)

    def start(self) -> DeliveryWorker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        from jobs.tick import deliver_claimable

        while not self._stop.is_set():
            try:
                deliver_claimable(self.settings, self._clients)
            except Exception as error:
                log.warning("delivery pass failed: %s", type(error).__name__)
            self._stop.wait(self.poll_seconds)
