"""The one clock: every time-dependent part of Tandem reads it, and a host may move it."""

from __future__ import annotations

import datetime as dt

from bot import clock
from bot.db import models
from bot.digests import service
from bot.digests.config import configure_digest, get_config
from bot.privacy import export_user
from bot.reflection.journal import add_entry, leader_id_for
from bot.reflection.leaders import enrol, get_leader

TEAM = "T0TANDEM"
A_MONDAY_LATER = dt.datetime(2031, 3, 3, 10, 0, tzinfo=dt.UTC)


def test_a_host_clock_is_read_while_in_use_and_handed_back_in_any_order():
    first = dt.datetime(2031, 1, 1, 12, 0, tzinfo=dt.UTC)
    second = dt.datetime(2032, 6, 1, 8, 30, tzinfo=dt.UTC)
    assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    outer, inner = clock.use(lambda: first), clock.use(lambda: second)
    outer.__enter__()
    assert clock.utcnow() == dt.datetime(2031, 1, 1, 12, 0)  # naive UTC, as stored
    inner.__enter__()
    assert clock.now() == second
    outer.__exit__(None, None, None)  # the first host stops before the second
    assert clock.now() == second
    inner.__exit__(None, None, None)
    assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    assert models.utcnow is clock.utcnow  # every column default reads the same clock


def test_reflections_leaders_digests_and_exports_follow_a_moved_clock(settings):
    with clock.use(lambda: A_MONDAY_LATER):
        enrol(settings, TEAM, "U1", time_zone="Europe/London", day="mon", local_time="09:00")
        entry = add_entry(
            settings,
            leader_id_for(settings, TEAM, "U1"),
            "I rang our council partner just to listen; trust is growing.",
            sharing="team",
        )
        config = configure_digest(
            settings, TEAM, "C1", cadence="weekly", day="fri", local_time="15:00",
            time_zone="Europe/London", k=5,
        )  # fmt: skip
        period, next_local = service.period_in_progress(
            get_config(settings, TEAM, "C1"), clock.utcnow()
        )
        exported = export_user(settings, TEAM, "U1")

    assert entry.created_at == A_MONDAY_LATER.replace(tzinfo=None)
    assert get_leader(settings, TEAM, "U1").anchor_date == A_MONDAY_LATER.date()
    assert config.anchor_date == A_MONDAY_LATER.date()
    assert period.start < entry.created_at <= period.end  # the reflection counts this week
    assert next_local.date() == dt.date(2031, 3, 7)  # that Friday, not one in real time
    assert exported["exported_at"].startswith("2031-03-03T10:00")
