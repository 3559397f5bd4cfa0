"""When a leader's check-in is due: pure date arithmetic in their own time zone.

Kept free of I/O so daylight-saving edge cases can be tested exhaustively.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CADENCES = ("weekly", "fortnightly", "monthly")
# A check-in that could not go out within this long after its time waits for the next period,
# so nobody gets last week's question at an odd hour after an outage.
LATE_WINDOW = dt.timedelta(hours=12)


class ScheduleError(ValueError):
    """A schedule value a person typed or imported is not usable; the message says why."""


@dataclass(frozen=True)
class Schedule:
    cadence: str
    day: str
    local_time: str
    time_zone: str
    anchor: dt.date
    quiet_start: str | None = None
    quiet_end: str | None = None

    def __post_init__(self) -> None:
        validate(self.cadence, self.day, self.local_time, self.time_zone)
        for value in (self.quiet_start, self.quiet_end):
            if value is not None:
                parse_time(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Occurrence:
    period_key: str
    due_utc: dt.datetime  # naive UTC, as stored


def parse_time(value: str) -> dt.time:
    try:
        hours, minutes = value.strip().split(":")
        return dt.time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        raise ScheduleError(f"'{value}' is not a time like 09:30") from None


def validate(cadence: str, day: str, local_time: str, time_zone: str) -> None:
    if cadence not in CADENCES:
        raise ScheduleError(f"cadence must be one of {', '.join(CADENCES)} (not '{cadence}')")
    if day not in DAYS:
        raise ScheduleError(f"day must be one of {', '.join(DAYS)} (not '{day}')")
    parse_time(local_time)
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"'{time_zone}' is not a time zone like Europe/London") from None


def to_utc(local: dt.datetime) -> dt.datetime:
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def local_at(date: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """A wall-clock time on a date, normalised.

    A time skipped when the clocks go forward lands just after the change (fold=0 takes
    the offset from before it); a repeated time in autumn is its first occurrence.
    """
    candidate = dt.datetime.combine(date, time, tzinfo=zone)
    return candidate.astimezone(dt.UTC).astimezone(zone)


def in_quiet_hours(moment: dt.datetime, schedule: Schedule) -> bool:
    if not (schedule.quiet_start and schedule.quiet_end):
        return False
    start, end = parse_time(schedule.quiet_start), parse_time(schedule.quiet_end)
    now = moment.timetz().replace(tzinfo=None)
    if start <= end:
        return start <= now < end
    return now >= start or now < end  # e.g. 21:00-07:00 spans midnight


def out_of_quiet_hours(moment: dt.datetime, schedule: Schedule) -> dt.datetime:
    """The first moment at or after `moment` that is outside the leader's quiet hours."""
    if not in_quiet_hours(moment, schedule):
        return moment
    end = parse_time(schedule.quiet_end)
    date = moment.date()
    if moment.timetz().replace(tzinfo=None) >= end:
        date += dt.timedelta(days=1)
    return local_at(date, end, schedule.zone)


def _occurrence_date(schedule: Schedule, week_start: dt.date) -> dt.date:
    return week_start + dt.timedelta(days=DAYS.index(schedule.day))


def _candidates(schedule: Schedule, today: dt.date):
    """Scheduled local dates near `today`, newest first, with their period keys."""
    if schedule.cadence == "monthly":
        year, month = today.year, today.month
        for _ in range(3):
            first = dt.date(year, month, 1)
            offset = (DAYS.index(schedule.day) - first.weekday()) % 7
            yield f"M{year}-{month:02d}", first + dt.timedelta(days=offset)
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return
    monday = today - dt.timedelta(days=today.weekday())
    anchor_monday = schedule.anchor - dt.timedelta(days=schedule.anchor.weekday())
    for weeks_back in range(4):
        week = monday - dt.timedelta(weeks=weeks_back)
        if schedule.cadence == "fortnightly" and ((week - anchor_monday).days // 7) % 2:
            continue
        iso = week.isocalendar()
        prefix = "W" if schedule.cadence == "weekly" else "F"
        yield f"{prefix}{iso.year}-{iso.week:02d}", _occurrence_date(schedule, week)


def latest_occurrence(schedule: Schedule, now_utc: dt.datetime) -> Occurrence | None:
    """The most recent scheduled moment at or before now (quiet hours applied)."""
    now_local = now_utc.replace(tzinfo=dt.UTC).astimezone(schedule.zone)
    for key, date in _candidates(schedule, now_local.date()):
        due = out_of_quiet_hours(
            local_at(date, parse_time(schedule.local_time), schedule.zone), schedule
        )
        if due <= now_local:
            return Occurrence(key, to_utc(due))
    return None


def due_occurrence(schedule: Schedule, now_utc: dt.datetime) -> Occurrence | None:
    """The occurrence to send now, if its moment has come and it is not too late."""
    occurrence = latest_occurrence(schedule, now_utc)
    if occurrence and now_utc - occurrence.due_utc < LATE_WINDOW:
        return occurrence
    return None


def next_local(schedule: Schedule, after_utc: dt.datetime, days: int = 1) -> dt.datetime:
    """`days` later at the leader's usual time, outside quiet hours: for reminders."""
    local = after_utc.replace(tzinfo=dt.UTC).astimezone(schedule.zone)
    target = local_at(
        local.date() + dt.timedelta(days=days), parse_time(schedule.local_time), schedule.zone
    )
    return to_utc(out_of_quiet_hours(target, schedule))


def next_occurrence(schedule: Schedule, now_utc: dt.datetime) -> dt.datetime | None:
    """When the next check-in will arrive (for App Home), as an aware local datetime."""
    for days in range(0, 70):
        probe = now_utc + dt.timedelta(days=days)
        for hour in range(0, 24, 6):
            occ = latest_occurrence(schedule, probe + dt.timedelta(hours=hour))
            if occ and occ.due_utc > now_utc:
                return occ.due_utc.replace(tzinfo=dt.UTC).astimezone(schedule.zone)
    return None


def upcoming(
    schedule: Schedule,
    now_utc: dt.datetime,
    *,
    skip_next: bool = False,
    snoozed_until: dt.datetime | None = None,
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(when the next check-in will really arrive, the one being skipped), local and aware.

    Mirrors the tick: a check-in due while snoozed waits until the snooze ends if that is
    within LATE_WINDOW, and otherwise waits for its next period; a skip then takes the first
    check-in that would have arrived.
    """

    def utc(local: dt.datetime) -> dt.datetime:
        return local.astimezone(dt.UTC).replace(tzinfo=None)

    arrival = next_occurrence(schedule, now_utc)
    if arrival is not None and snoozed_until is not None and utc(arrival) < snoozed_until:
        arrival = next_occurrence(schedule, max(now_utc, snoozed_until - LATE_WINDOW))
        if arrival is not None and utc(arrival) < snoozed_until:
            arrival = snoozed_until.replace(tzinfo=dt.UTC).astimezone(schedule.zone)
    if arrival is None or not skip_next:
        return arrival, None
    return next_occurrence(schedule, utc(arrival)), arrival


# --- when a leader is next due, for the tick's index -----------------------------------

# Stored for a leader who will never be due (a schedule that no longer parses), so the
# tick's "next due" index passes over them until a change makes the schedule usable.
NEVER = dt.datetime(9999, 12, 31)
# How many future moments next_due looks at before settling for a safe early answer.
_LOOKAHEAD = 8


def due_for(
    schedule: Schedule,
    now_utc: dt.datetime,
    *,
    paused_until: dt.date | None = None,
    snoozed_until: dt.datetime | None = None,
    planned: frozenset[str] | set[str] = frozenset(),
) -> Occurrence | None:
    """The check-in the tick should plan at `now_utc`, if any: due, not too late, not
    already planned, and neither paused (by local date) nor snoozed."""
    occurrence = due_occurrence(schedule, now_utc)
    if occurrence is None or occurrence.period_key in planned:
        return None
    local_today = now_utc.replace(tzinfo=dt.UTC).astimezone(schedule.zone).date()
    if paused_until and local_today < paused_until:
        return None
    if snoozed_until and now_utc < snoozed_until:
        return None
    return occurrence


def _occurrences_from(schedule: Schedule, start: dt.date):
    """Scheduled (period key, local date) pairs from the period holding `start`, oldest first."""
    if schedule.cadence == "monthly":
        year, month = start.year, start.month
        while True:
            first = dt.date(year, month, 1)
            offset = (DAYS.index(schedule.day) - first.weekday()) % 7
            yield f"M{year}-{month:02d}", first + dt.timedelta(days=offset)
            year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    week = start - dt.timedelta(days=start.weekday())
    anchor_monday = schedule.anchor - dt.timedelta(days=schedule.anchor.weekday())
    prefix = "W" if schedule.cadence == "weekly" else "F"
    while True:
        if schedule.cadence == "weekly" or not ((week - anchor_monday).days // 7) % 2:
            iso = week.isocalendar()
            yield f"{prefix}{iso.year}-{iso.week:02d}", _occurrence_date(schedule, week)
        week += dt.timedelta(weeks=1)


def next_due(
    schedule: Schedule,
    after_utc: dt.datetime,
    *,
    paused_until: dt.date | None = None,
    snoozed_until: dt.datetime | None = None,
    planned: frozenset[str] | set[str] = frozenset(),
) -> dt.datetime:
    """The first instant at or after `after_utc` at which the tick would plan a check-in.

    `due_for` can only turn true when an occurrence falls due, a pause ends (local
    midnight) or a snooze ends, so only those instants are tried, with `due_for` itself as
    the judge: the index and the tick cannot disagree. Never later than the truth; if
    nothing turns up within a few periods the last instant tried is returned, which only
    means the tick looks again then."""
    zone = schedule.zone
    start = after_utc
    if paused_until is not None:
        start = max(start, to_utc(local_at(paused_until, dt.time(0, 0), zone)))
    if snoozed_until is not None:
        start = max(start, snoozed_until)
    candidates = [start]
    first_date = (start - LATE_WINDOW).replace(tzinfo=dt.UTC).astimezone(zone).date()
    at = parse_time(schedule.local_time)
    for _key, date in _occurrences_from(schedule, first_date - dt.timedelta(days=1)):
        due = to_utc(out_of_quiet_hours(local_at(date, at, zone), schedule))
        if due > start:
            candidates.append(due)
        if len(candidates) > _LOOKAHEAD:
            break
    candidates.sort()
    for moment in candidates:
        if due_for(
            schedule,
            moment,
            paused_until=paused_until,
            snoozed_until=snoozed_until,
            planned=planned,
        ):
            return moment
    return candidates[-1]
