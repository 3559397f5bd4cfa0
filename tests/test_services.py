"""Reliability services on a real database: dedupe, threads, rate limits, feedback."""

import datetime as dt

import pytest

from bot.services.events import (
    claim_event,
    event_keys,
    is_tandem_thread,
    prune_claims,
    remember_thread,
)
from bot.services.feedback import feedback_counts, record_feedback, vote_key
from bot.services.ratelimit import allow_request
from tests.conftest import make_settings


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])]
)
def db_settings(request, tmp_path):
    if request.param == "sqlite":
        return make_settings(tmp_path)
    return make_settings(tmp_path, DATABASE_URL=request.getfixturevalue("fresh_database"))


def _body(event_id, ts="1.0", channel="D1"):
    return {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": event_id,
        "event": {"type": "message", "channel": channel, "ts": ts},
    }


def test_a_retry_and_a_duplicate_with_a_new_event_id_are_both_refused(db_settings):
    assert claim_event(db_settings, event_keys(_body("Ev1")))
    assert not claim_event(db_settings, event_keys(_body("Ev1")))  # retry
    assert not claim_event(db_settings, event_keys(_body("Ev2")))  # same message, new id
    assert claim_event(db_settings, event_keys(_body("Ev3", ts="2.0")))


def test_claims_are_kept_for_hours_then_pruned(db_settings):
    claim_event(db_settings, event_keys(_body("Ev9")))
    assert prune_claims(db_settings, now=dt.datetime.now(dt.UTC).replace(tzinfo=None)) == 0
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=7)
    assert prune_claims(db_settings, now=later) >= 1


def test_threads_are_remembered(db_settings):
    assert not is_tandem_thread(db_settings, "T1", "C1", "5.0")
    remember_thread(db_settings, "T1", "C1", "5.0")
    remember_thread(db_settings, "T1", "C1", "5.0")
    assert is_tandem_thread(db_settings, "T1", "C1", "5.0")


def test_rate_limit_counts_per_person_per_minute(db_settings):
    now = dt.datetime(2026, 11, 26, 10, 0, 5)
    limit = db_settings.user_rate_limit_per_minute
    assert all(allow_request(db_settings, "T1", "U1", now) for _ in range(limit))
    assert not allow_request(db_settings, "T1", "U1", now)
    assert allow_request(db_settings, "T1", "U2", now)
    assert allow_request(db_settings, "T1", "U1", now + dt.timedelta(minutes=1))


def test_feedback_is_one_vote_per_person_per_answer_counted_per_document(db_settings):
    key = vote_key(db_settings, "T1", "U1", "111.1")
    assert record_feedback(db_settings, key, ["doc-a", "doc-b"], helpful=True)
    assert not record_feedback(db_settings, key, ["doc-a", "doc-b"], helpful=False)
    other = vote_key(db_settings, "T1", "U2", "111.1")
    assert record_feedback(db_settings, other, ["doc-a"], helpful=False, reason="too\u200b generic")
    assert feedback_counts(db_settings) == {
        "doc-a": {"helpful": 1, "not_helpful": 1},
        "doc-b": {"helpful": 1, "not_helpful": 0},
    }
    assert "U1" not in key and "U2" not in other
