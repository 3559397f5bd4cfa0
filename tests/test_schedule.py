"""Schedule arithmetic in the leader's own time zone, across daylight-saving changes."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.reflection.prompts import choose_question, load_questions
from bot.schedule import (
    Schedule,
    ScheduleError,
    due_occurrence,
    latest_occurrence,
    next_local,
    upcoming,
)
from bot.settings import REPO_ROOT

LONDON = "Europe/London"


def weekly(day="mon", time="09:00", tz=LONDON, **extra):
    return Schedule("weekly", day, time, tz, dt.date(2026, 1, 5), **extra)


@pytest.mark.parametrize(
    ("now", "due_utc"),
    [
        # Monday 30 March 2026 is the first Monday of British Summer Time: 09:00 BST = 08:00 UTC.
        (dt.datetime(2026, 3, 30, 8, 0), dt.datetime(2026, 3, 30, 8, 0)),
        # Monday 26 October 2026 is back on GMT: 09:00 GMT = 09:00 UTC.
        (dt.datetime(2026, 10, 26, 9, 0), dt.datetime(2026, 10, 26, 9, 0)),
    ],
)
def test_nine_oclock_local_is_right_either_side_of_the_clock_change(now, due_utc):
    assert due_occurrence(weekly(), now).due_utc == due_utc
    assert due_occurrence(weekly(), now - dt.timedelta(minutes=1)) is None or (
        due_occurrence(weekly(), now - dt.timedelta(minutes=1)).due_utc < now - dt.timedelta(days=6)
    )


def test_a_time_skipped_in_spring_moves_to_just_after_the_change():
    schedule = weekly(day="sun", time="01:30")
    assert due_occurrence(schedule, dt.datetime(2026, 3, 29, 0, 59)) is None
    occurrence = due_occurrence(schedule, dt.datetime(2026, 3, 29, 1, 30))
    assert occurrence.due_utc == dt.datetime(2026, 3, 29, 1, 30)  # 02:30 BST


def test_a_time_repeated_in_autumn_happens_once():
    schedule = weekly(day="sun", time="01:30")
    first = due_occurrence(schedule, dt.datetime(2026, 10, 25, 0, 30))
    again = due_occurrence(schedule, dt.datetime(2026, 10, 25, 1, 30))
    assert first.period_key == again.period_key and first.due_utc == dt.datetime(
        2026, 10, 25, 0, 30
    )


def test_other_time_zones_are_their_own_local_time():
    schedule = weekly(tz="Australia/Sydney")
    occurrence = latest_occurrence(schedule, dt.datetime(2026, 11, 30, 0, 0))
    assert occurrence.due_utc == dt.datetime(2026, 11, 29, 22, 0)  # Monday 09:00 AEDT


def test_quiet_hours_move_a_check_in_to_their_end():
    schedule = weekly(time="07:00", quiet_start="21:00", quiet_end="08:00")
    occurrence = latest_occurrence(schedule, dt.datetime(2026, 11, 30, 12, 0))
    assert occurrence.due_utc == dt.datetime(2026, 11, 30, 8, 0)


def test_fortnightly_alternates_weeks_and_monthly_is_the_first_such_day():
    fortnightly = Schedule("fortnightly", "fri", "09:00", LONDON, dt.date(2026, 11, 6))
    assert due_occurrence(fortnightly, dt.datetime(2026, 11, 13, 9, 0)) is None
    assert due_occurrence(fortnightly, dt.datetime(2026, 11, 20, 9, 0)) is not None
    monthly = Schedule("monthly", "mon", "09:00", LONDON, dt.date(2026, 1, 1))
    assert due_occurrence(monthly, dt.datetime(2026, 12, 7, 9, 0)).period_key == "M2026-12"
    assert due_occurrence(monthly, dt.datetime(2026, 12, 14, 9, 0)) is None


def test_a_late_check_in_is_not_sent_at_an_odd_hour_after_an_outage():
    assert due_occurrence(weekly(), dt.datetime(2026, 11, 30, 20, 59)) is not None
    assert due_occurrence(weekly(), dt.datetime(2026, 11, 30, 21, 1)) is None


def test_reminders_land_next_day_at_the_usual_time():
    assert next_local(weekly(), dt.datetime(2026, 11, 30, 9, 0)) == dt.datetime(2026, 12, 1, 9, 0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("cadence", "daily"), ("day", "funday"), ("local_time", "25:99"), ("time_zone", "Mars/Base")],
)
def test_unusable_schedules_are_refused_with_a_reason(field, value):
    values = {"cadence": "weekly", "day": "mon", "local_time": "09:00", "time_zone": LONDON}
    values[field] = value
    with pytest.raises(ScheduleError):
        Schedule(anchor=dt.date(2026, 1, 1), **values)


@given(st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 12, 31)))
def test_each_week_has_exactly_one_period_and_it_is_never_in_the_future(now):
    occurrence = latest_occurrence(weekly(), now)
    assert occurrence.due_utc <= now
    assert now - occurrence.due_utc < dt.timedelta(days=7, hours=1)


def test_the_question_library_has_at_least_sixty_with_follow_ups():
    questions = load_questions(REPO_ROOT / "prompts")
    assert len(questions) >= 60
    assert all(q.text.endswith("?") and q.follow_up for q in questions)
    assert len({q.id for q in questions}) == len(questions)


def test_no_question_repeats_until_the_whole_set_has_been_seen():
    prompts = REPO_ROOT / "prompts"
    pool = [q.id for q in load_questions(prompts) if q.theme == "peer-support"]
    asked: list[str] = []
    for n in range(len(pool)):
        asked.append(choose_question(prompts, ["peer-support"], asked, f"seed{n}").id)
    assert sorted(asked) == sorted(pool)
    asked.append(choose_question(prompts, ["peer-support"], asked, "again").id)
    assert asked[-1] in pool


# Wednesday 2 December 2026, 12:00 UTC (GMT); a weekly Monday 09:00 check-in.
WEDNESDAY_NOON = dt.datetime(2026, 12, 2, 12, 0)


def _local(value):
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value else None


def test_upcoming_names_the_one_after_a_skip_and_the_one_it_skips():
    arrival, skipped = upcoming(weekly(), WEDNESDAY_NOON, skip_next=True)
    assert _local(skipped) == dt.datetime(2026, 12, 7, 9, 0)
    assert _local(arrival) == dt.datetime(2026, 12, 14, 9, 0)
    assert upcoming(weekly(), WEDNESDAY_NOON) == (skipped, None)


def test_a_check_in_due_in_a_short_snooze_arrives_when_it_ends():
    monday_0830 = dt.datetime(2026, 12, 7, 8, 30)
    arrival, _ = upcoming(weekly(), monday_0830, snoozed_until=monday_0830 + dt.timedelta(hours=1))
    assert _local(arrival) == dt.datetime(2026, 12, 7, 9, 30)


def test_a_snooze_that_ends_too_late_moves_to_the_next_period_and_one_elsewhere_changes_nothing():
    monday_0830 = dt.datetime(2026, 12, 7, 8, 30)
    arrival, _ = upcoming(weekly(), monday_0830, snoozed_until=dt.datetime(2026, 12, 8, 9, 0))
    assert _local(arrival) == dt.datetime(2026, 12, 14, 9, 0)
    arrival, _ = upcoming(
        weekly(), WEDNESDAY_NOON, snoozed_until=WEDNESDAY_NOON + dt.timedelta(hours=1)
    )
    assert _local(arrival) == dt.datetime(2026, 12, 7, 9, 0)
