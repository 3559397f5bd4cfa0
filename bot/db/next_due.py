"""Each leader's next-due instant, kept right whatever changes their schedule.

The tick reads only leaders whose `next_due_at` has come (an indexed range), so an idle
tick costs the same at 100,000 leaders as at 1,000. Every ORM write to a leader passes
through `keep_next_due` (a mapper event registered below; `bot.db.engine` imports this
module, so no session can write a leader without it); the tick sets it itself
after planning, since it writes with bulk statements.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, inspect, select

from bot.clock import utcnow
from bot.db.models import CheckIn, Leader
from bot.schedule import LATE_WINDOW, NEVER, Schedule, next_due
from bot.statuses import LeaderStatus

# Everything next_due_at depends on, besides the check-ins already planned.
SCHEDULE_FIELDS = (
    "status",
    "cadence",
    "day",
    "local_time",
    "time_zone",
    "quiet_start",
    "quiet_end",
    "anchor_date",
    "paused_until",
    "snoozed_until",
)
# A period planned longer ago than this cannot be the one due at or after now.
PLANNED_LOOKBACK = dt.timedelta(days=70) + LATE_WINDOW


# Plain schedules (nothing planned, paused or snoozed) -> the last (after, next due) worked
# out. Cohort imports enrol thousands of leaders on a few dozen schedules, and working each
# one out again cost 0.2 ms a row, 40 % of an import.
_PLAIN: dict[Schedule, tuple[dt.datetime, dt.datetime]] = {}
_PLAIN_LIMIT = 4096


def _plain_next_due(schedule: Schedule, after: dt.datetime) -> dt.datetime:
    """`next_due` for a plain schedule, reusing the last answer while `after` is still before
    it: nothing can fall due between two instants `next_due` did not try (see its docstring),
    so the first due instant at or after any moment in [earlier after, answer) is the same."""
    known = _PLAIN.get(schedule)
    if known is not None and known[0] <= after < known[1]:
        return known[1]
    due = next_due(schedule, after)
    if len(_PLAIN) >= _PLAIN_LIMIT:
        _PLAIN.clear()
    _PLAIN[schedule] = (after, due)
    return due


def next_due_of(
    leader: Leader, after: dt.datetime, planned: frozenset[str] | set[str] = frozenset()
) -> dt.datetime | None:
    """When the tick should next look at `leader`; None for anyone not taking part."""
    if leader.status != LeaderStatus.ACTIVE:
        return None
    try:
        schedule = Schedule(
            cadence=leader.cadence or "weekly",
            day=leader.day or "fri",
            local_time=leader.local_time or "09:30",
            time_zone=leader.time_zone or "Europe/London",
            anchor=leader.anchor_date or after.date(),
            quiet_start=leader.quiet_start,
            quiet_end=leader.quiet_end,
        )
    except ValueError:
        return NEVER  # an unusable schedule is never due (the tick skipped it before too)
    if not planned and leader.paused_until is None and leader.snoozed_until is None:
        return _plain_next_due(schedule, after)
    return next_due(
        schedule,
        after,
        paused_until=leader.paused_until,
        snoozed_until=leader.snoozed_until,
        planned=planned,
    )


def planned_periods(connection, leader_ids: list[int], after: dt.datetime) -> dict[int, set]:
    """The periods each leader already has a check-in for, near enough to matter."""
    planned: dict[int, set] = {}
    for start in range(0, len(leader_ids), 500):
        rows = connection.execute(
            select(CheckIn.leader_id, CheckIn.period_key).where(
                CheckIn.leader_id.in_(leader_ids[start : start + 500]),
                CheckIn.due_at >= after - PLANNED_LOOKBACK,
            )
        )
        for leader_id, period_key in rows:
            planned.setdefault(leader_id, set()).add(period_key)
    return planned


def keep_next_due(connection, leader: Leader) -> None:
    """Before a leader row is written: work out next_due_at again if anything it depends
    on changed (or the row is new)."""
    state = inspect(leader)
    if state.persistent and not any(
        state.attrs[name].history.has_changes() for name in SCHEDULE_FIELDS
    ):
        return
    now = utcnow()
    planned = set()
    if leader.id is not None:
        planned = planned_periods(connection, [leader.id], now).get(leader.id, set())
    leader.next_due_at = next_due_of(leader, now, planned)


@event.listens_for(Leader, "before_insert")
@event.listens_for(Leader, "before_update")
def _keep_next_due(mapper, connection, leader: Leader) -> None:
    keep_next_due(connection, leader)
