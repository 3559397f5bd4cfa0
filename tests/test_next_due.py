"""The tick's "next due" index: right after every kind of change, and the same deliveries.

Each leader's next_due_at lets an idle tick read only who is due. These tests drive random
sequences of the real operations (joining, schedule changes, pause, skip, snooze, leaving,
cohort import, the tick) on a simulated clock and check two things after every step: the
stored instant equals the one worked out from scratch, and the check-ins planned are
exactly those a tick reading every leader (the old way) plans.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select, update

from bot import clock
from bot.cohort import import_leaders
from bot.db.engine import session_scope
from bot.db.models import CheckIn, Leader
from bot.db.next_due import _plain_next_due, next_due_of, planned_periods
from bot.reflection.leaders import enrol, update_leader
from bot.reflection.ledger import plan_checkins
from bot.schedule import NEVER, Schedule, due_for, next_due
from tests.conftest import make_settings

TEAM = "T1"
START = dt.datetime(2027, 3, 22, 7, 0)  # a week before the clocks go forward in London
ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC")
USERS = [f"U{n:03d}" for n in range(8)]


# --- the pure rule -----------------------------------------------------------------


def random_schedule(rng: random.Random) -> Schedule:
    quiet = rng.random() < 0.3
    return Schedule(
        cadence=rng.choice(("weekly", "fortnightly", "monthly")),
        day=rng.choice(("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
        local_time=f"{rng.randrange(24):02d}:{rng.choice((0, 15, 30, 45)):02d}",
        time_zone=rng.choice(ZONES),
        anchor=dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(60)),
        quiet_start="21:00" if quiet else None,
        quiet_end="07:30" if quiet else None,
    )


@pytest.mark.parametrize("seed", range(40))
def test_next_due_is_the_first_instant_the_tick_would_plan(seed):
    rng = random.Random(seed)
    schedule = random_schedule(rng)
    after = START + dt.timedelta(minutes=rng.randrange(60 * 24 * 40))
    paused = after.date() + dt.timedelta(days=rng.randrange(-3, 20)) if rng.random() < 0.3 else None
    snoozed = after + dt.timedelta(hours=rng.randrange(-5, 30)) if rng.random() < 0.3 else None
    planned = set()
    latest = due_for(schedule, after)
    if latest and rng.random() < 0.5:
        planned.add(latest.period_key)
    state = {"paused_until": paused, "snoozed_until": snoozed, "planned": planned}

    found = next_due(schedule, after, **state)

    assert found >= after
    assert due_for(schedule, found, **state) is not None
    moment = after
    while moment < found:  # every 5 minutes before it, the tick would plan nothing
        assert due_for(schedule, moment, **state) is None, moment
        moment += dt.timedelta(minutes=5)


@pytest.mark.parametrize("seed", range(20))
def test_a_remembered_next_due_is_what_working_it_out_again_gives(seed):
    """Imports reuse the last answer for a plain schedule while time is still before it."""
    rng = random.Random(seed)
    schedule = random_schedule(rng)
    after = START + dt.timedelta(minutes=rng.randrange(60 * 24 * 40))
    for _ in range(30):  # moments creeping forward, sometimes past the answer
        assert _plain_next_due(schedule, after) == next_due(schedule, after), after
        after += dt.timedelta(minutes=rng.choice((1, 7, 90, 60 * 24, 60 * 24 * 5)))


# --- every path that changes a schedule, against the old full read ---------------------


class Timeline:
    """Two databases driven through the same operations at the same simulated instants:
    one ticks with the index, the other with every leader marked due (the old full read)."""

    def __init__(self, tmp_path):
        self.indexed = make_settings(tmp_path / "indexed")
        self.full = make_settings(tmp_path / "full")
        self.now = START

    def source(self) -> dt.datetime:
        return self.now.replace(tzinfo=dt.UTC)

    def both(self, operation) -> None:
        for settings in (self.indexed, self.full):
            operation(settings)

    def tick(self) -> None:
        with session_scope(self.full) as session:
            session.execute(update(Leader).values(next_due_at=None))
        self.both(lambda settings: plan_checkins(settings, self.now))


def random_step(rng: random.Random, timeline: Timeline):
    user = rng.choice(USERS)
    kind = rng.choice(
        ("enrol", "schedule", "zone", "quiet", "pause", "resume", "skip", "unskip")
        + ("snooze", "unsnooze", "leave", "import", "wait", "wait")
    )
    today = timeline.now.date()
    if kind == "enrol":
        day = rng.choice(("mon", "wed", "fri", "sun"))
        return lambda s: enrol(s, TEAM, user, time_zone=rng_zone(user), day=day)
    if kind == "import":
        consent = "yes" if rng.random() < 0.7 else "no"
        cadence = rng.choice(("weekly", "fortnightly", "monthly"))
        text = (
            "slack_user_id,organisation,time_zone,cadence,day,time,consent\n"
            f"{user},Trust,{rng_zone(user)},{cadence},tue,08:15,{consent}\n"
        )
        return lambda s: import_leaders(s, TEAM, text)
    changes = {
        "schedule": {
            "cadence": rng.choice(("weekly", "fortnightly", "monthly")),
            "day": rng.choice(("mon", "tue", "thu", "sat")),
            "local_time": rng.choice(("06:00", "09:30", "13:45", "23:30")),
        },
        "zone": {"time_zone": rng.choice(ZONES)},
        "quiet": {"quiet_start": "21:00", "quiet_end": "10:00"},
        "pause": {"paused_until": today + dt.timedelta(days=rng.randrange(1, 20))},
        "resume": {"paused_until": None},
        "skip": {"skip_next": True},
        "unskip": {"skip_next": False},
        "snooze": {"snoozed_until": timeline.now + dt.timedelta(hours=rng.randrange(1, 30))},
        "unsnooze": {"snoozed_until": None},
        "leave": {"status": "left"},
    }.get(kind)
    if changes is None:  # time passes
        hours = rng.randrange(1, 100)
        return ("wait", hours)
    return lambda s: update_leader(s, TEAM, user, **changes)


def rng_zone(user: str) -> str:
    return ZONES[int(user[1:]) % len(ZONES)]


def from_scratch(settings, now) -> dict[str, dt.datetime | None]:
    with session_scope(settings) as session:
        leaders = session.scalars(select(Leader)).all()
        planned = planned_periods(session.connection(), [leader.id for leader in leaders], now)
        return {
            leader.slack_user_id: (
                leader.next_due_at,
                next_due_of(leader, now, planned.get(leader.id, set())),
            )
            for leader in leaders
        }


def ledger(settings) -> list[tuple]:
    with session_scope(settings) as session:
        rows = session.execute(
            select(Leader.slack_user_id, CheckIn.period_key, CheckIn.status, CheckIn.due_at)
            .join(Leader, Leader.id == CheckIn.leader_id)
            .order_by(Leader.slack_user_id, CheckIn.period_key)
        ).all()
    return [tuple(row) for row in rows]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_next_due_stays_right_through_random_changes_and_plans_as_before(tmp_path, seed):
    rng = random.Random(seed)
    timeline = Timeline(tmp_path)
    with clock.use(timeline.source):
        for user in USERS:
            timeline.both(lambda s, user=user: enrol(s, TEAM, user, time_zone=rng_zone(user)))
        for _ in range(70):
            step = random_step(rng, timeline)
            if isinstance(step, tuple):  # time passes, the scheduler ticking now and then
                end = timeline.now + dt.timedelta(hours=step[1])
                while timeline.now < end:
                    timeline.now += dt.timedelta(minutes=rng.randrange(20, 180))
                    timeline.tick()
            else:
                timeline.both(step)
                timeline.tick()
            for user, (stored, expected) in from_scratch(timeline.indexed, timeline.now).items():
                assert stored == expected, (seed, user, timeline.now)
            assert ledger(timeline.indexed) == ledger(timeline.full)
        assert len(ledger(timeline.indexed)) >= 4  # the run did plan check-ins


def test_a_leader_whose_schedule_no_longer_parses_is_passed_over(settings):
    enrol(settings, TEAM, "U1", time_zone="Europe/London")
    with session_scope(settings) as session:
        session.execute(update(Leader).values(time_zone="Mars/Olympus"))
        leader = session.scalars(select(Leader)).one()
        assert next_due_of(leader, START) == NEVER


def test_an_idle_tick_reads_only_leaders_who_are_due(settings):
    """With everyone's next check-in days away, the tick's read finds nobody."""
    with clock.use(lambda: START.replace(tzinfo=dt.UTC)):
        for user in USERS:
            enrol(settings, TEAM, user, time_zone="Europe/London", day="fri")
        plan_checkins(settings, START)  # START is a Monday: nobody is due
        with session_scope(settings) as session:
            waiting = session.scalars(
                select(Leader.id).where(Leader.status == "active", Leader.next_due_at <= START)
            ).all()
        assert waiting == []
        friday = dt.datetime(2027, 3, 26, 9, 30)  # Friday 09:30 GMT, the default time
        assert plan_checkins(settings, friday - dt.timedelta(minutes=1)) == 0
        assert plan_checkins(settings, friday) == len(USERS)
