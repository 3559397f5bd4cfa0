"""The outbox: every scheduled post reaches Slack exactly once, however the network fails."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import select

from bot.cohort import import_leaders
from bot.db.engine import session_scope
from bot.db.models import CheckIn, FailedSend, Leader, OutboxSend
from bot.digests.config import configure_digest
from bot.peers.preferences import save_choices
from bot.reflection.leaders import enrol
from bot.slack.client import TeamClients
from jobs.tick import run_tick
from tests.slack_fixtures import running_tandem

# Slow tier: fan-outs with injected resets and timeouts.
pytestmark = pytest.mark.slow

TEAM = "T0TANDEM"
MONDAY_1000_GMT = dt.datetime(2026, 11, 30, 10, 0)  # a peer round Monday, 10:00 in London
CHECKIN_USERS = ["U1", "U2", "U3", "U4", "U5", "U6"]
INVITED = "U7"
DIGEST_CHANNEL = "C1"


@pytest.fixture
def slack(kb_settings, tmp_path):
    # Calls time out after half a second; a "timeout" fault holds its answer back longer.
    with running_tandem(kb_settings, tmp_path, slack_timeout_seconds=0.5) as harness:
        harness.ws.hang_seconds = 1.0
        for user in CHECKIN_USERS[2:] + [INVITED]:
            harness.ws.add_user(user, name=f"Person {user}", tz="Europe/London")
        yield harness


def tick(slack, at):
    return run_tick(slack.settings, now=at, clients=TeamClients(slack.settings))


def everything_due_at_once(slack) -> None:
    """Check-ins for six, an invitation, a peer introduction and a team digest, all due at
    MONDAY_1000_GMT; reminders a day later."""
    for user in CHECKIN_USERS:
        enrol(slack.settings, TEAM, user, time_zone="Europe/London", day="mon", local_time="10:00")
    report = import_leaders(
        slack.settings,
        TEAM,
        "slack_user_id,organisation,time_zone,cadence,day,time,consent\n"
        f"{INVITED},Westvale Council,Europe/London,weekly,mon,10:00,no\n",
    )
    assert report.invited == 1
    for user, org in (("U1", "Northshire ICB"), ("U2", "St Anne's Hospice")):
        save_choices(
            slack.settings,
            TEAM,
            user,
            cadence="fortnightly",
            prefer_other_org=True,
            want=["trust-and-relationships"],
            offer=[],
            exclusions=[],
            organisation=org,
            display_name=user,
        )
    configure_digest(
        slack.settings,
        TEAM,
        DIGEST_CHANNEL,
        configured_by="U1",
        day="mon",
        local_time="10:00",
        time_zone="Europe/London",
        k=5,
    )


def posts_marked(slack, event_type: str) -> list[dict]:
    """Every message in the workspace (threads included) whose metadata is of this type."""
    found = []
    for conversation in slack.ws.state.conversations.values():
        for message in conversation.messages:
            if (message.get("metadata") or {}).get("event_type") == event_type:
                found.append(message)
    return found


def payloads(messages: list[dict]) -> list:
    return sorted(str(m["metadata"]["event_payload"]) for m in messages)


def settle_ticks(slack, at, most=6) -> None:
    """Tick until a tick finds nothing more to send."""
    for _ in range(most):
        counts = tick(slack, at)
        sends = ("invitations", "checkins", "reminders", "digests", "peer_introductions")
        if not any(counts.get(kind) for kind in sends):
            return
    raise AssertionError("the tick never settled")


def test_resets_and_timeouts_mid_fan_out_deliver_every_message_exactly_once(slack):
    everything_due_at_once(slack)
    ws = slack.ws
    # Mid fan-out, posts are carried out but their answers lost (reset, then timeout), and
    # the lookups that settle them fail too, at first.
    for _ in range(3):
        ws.drop_next("chat.postMessage", "reset", after=1)
        ws.drop_next("chat.postMessage", "timeout", after=1)
    ws.drop_next("conversations.history", "timeout", after=1)
    ws.drop_next("conversations.replies", "timeout")
    ws.fail_next("chat.postMessage", error="internal_error")

    settle_ticks(slack, MONDAY_1000_GMT)
    ws.drop_next("chat.postMessage", "timeout")  # the first reminder's answer is lost too
    ws.drop_next("chat.postMessage", "reset", after=2)
    settle_ticks(slack, MONDAY_1000_GMT + dt.timedelta(days=1))

    checkins = posts_marked(slack, "tandem_checkin")
    assert len(checkins) == len(CHECKIN_USERS)
    assert len(set(payloads(checkins))) == len(CHECKIN_USERS)
    [introduction] = posts_marked(slack, "tandem_peer_intro")
    [digest] = posts_marked(slack, "tandem_digest")
    assert len([m for m in ws.messages(DIGEST_CHANNEL, digest["ts"]) if m["ts"] != digest["ts"]])
    details = [m for m in posts_marked(slack, "tandem_send") if "digest_detail" in str(m)]
    assert len(details) == 1
    invitations = [m for m in slack.bot_messages(ws.open_dm(INVITED))]
    assert len(invitations) == 1 and "invitation" in str(invitations[0]["metadata"])
    reminders = [m for m in posts_marked(slack, "tandem_send") if "reminder:" in str(m)]
    assert sorted(payloads(reminders)) == sorted(set(payloads(reminders)))
    assert len(reminders) == len(CHECKIN_USERS)

    # The faults really happened, and none of them left a trace of failure behind.
    assert len(ws.calls_to("chat.postMessage")) > len(checkins) + len(reminders) + 4
    with session_scope(slack.settings) as session:
        assert session.scalars(select(FailedSend)).all() == []
        assert set(session.scalars(select(CheckIn.status))) == {"sent"}
        assert session.scalar(select(Leader.invited_at).where(Leader.slack_user_id == INVITED))
        assert set(session.scalars(select(OutboxSend.status))) == {"sent"}


def test_a_failing_stage_is_logged_by_name_and_the_other_stages_still_run(slack, caplog):
    everything_due_at_once(slack)
    from bot.db.engine import get_engine

    with get_engine(slack.settings).begin() as connection:  # invitations cannot be recorded
        connection.exec_driver_sql("DROP TABLE outbox_sends")
    with caplog.at_level(logging.ERROR, logger="jobs.tick"):
        counts = tick(slack, MONDAY_1000_GMT)
    assert counts["invitations"] == 0
    assert counts["checkins"] == len(CHECKIN_USERS)
    assert counts["peer_introductions"] == 1 and counts["digests"] == 1
    [failure] = [r.getMessage() for r in caplog.records if "tick stage failed" in r.getMessage()]
    # The stage and the error's class, never its text (it could quote what was being sent).
    assert failure in {
        f"tick stage failed: stage=invitations error={name}"
        for name in ("OperationalError", "ProgrammingError")  # SQLite, PostgreSQL
    }
