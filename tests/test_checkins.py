"""Check-ins end to end: enrol, tick, DM at the right local time, answer, remind, erase."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from sqlalchemy import func, inspect, select, text

from bot.db.engine import get_engine, session_scope
from bot.db.models import CheckIn, JournalEntry, Leader
from bot.reflection.leaders import enrol, get_leader, update_leader
from bot.reflection.ledger import plan_checkins
from bot.slack.client import TeamClients
from jobs.tick import run_tick
from tests.slack_fixtures import running_tandem
from tests.support.statements import statements_run
from tests.support.waiting import settle, wait_until

# Slow tier: check-ins end to end through Bolt, the tick and the CLI.
pytestmark = pytest.mark.slow

TEAM = "T0TANDEM"
MONDAY_0900_GMT = dt.datetime(2026, 11, 30, 9, 0)


@pytest.fixture
def slack(kb_settings, tmp_path):
    with running_tandem(kb_settings, tmp_path) as harness:
        yield harness


def tick(slack, at):
    return run_tick(slack.settings, now=at, clients=TeamClients(slack.settings))


def join(slack, user="U1", **schedule):
    leader = enrol(
        slack.settings,
        TEAM,
        user,
        time_zone="Europe/London",
        display_name="Amara Okafor",
        **schedule,
    )
    return leader


def checkin_messages(slack, user="U1"):
    """The check-in DMs (open or settled), found by the metadata every one carries."""
    dm = slack.ws.open_dm(user)
    return [
        m
        for m in slack.bot_messages(dm)
        if (m.get("metadata") or {}).get("event_type") == "tandem_checkin"
    ]


def test_joining_by_slash_command_uses_the_slack_time_zone(slack):
    slack.ws.run_slash_command("U1", channel="C1", command="/tandem", text="checkin")
    leader = wait_until(lambda: get_leader(slack.settings, TEAM, "U1"))
    assert leader.status == "active" and leader.time_zone == "Europe/London"
    assert leader.display_name == "Amara Okafor"
    wait_until(lambda: any("You're in" in e.get("text", "") for e in slack.ws.ephemeral("U1")))


def test_a_check_in_arrives_at_the_local_time_once_even_when_the_tick_is_replayed(slack):
    join(slack, day="mon", local_time="09:00")
    assert tick(slack, MONDAY_0900_GMT - dt.timedelta(minutes=1))["checkins"] == 0
    assert tick(slack, MONDAY_0900_GMT)["checkins"] == 1
    assert tick(slack, MONDAY_0900_GMT)["checkins"] == 0
    assert tick(slack, MONDAY_0900_GMT + dt.timedelta(hours=2))["checkins"] == 0
    [message] = checkin_messages(slack)
    assert message["text"].startswith("Good morning, Amara.")
    assert message["metadata"]["event_type"] == "tandem_checkin"


def test_reflect_now_modal_saves_the_entry_with_its_sharing_choice_and_thanks_with_guidance(slack):
    join(slack, day="mon", local_time="09:00")
    tick(slack, MONDAY_0900_GMT)
    [message] = checkin_messages(slack)
    slack.ws.click_button("U1", message, action_id="checkin_reflect")
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    reflection = "We had a tense meeting with the council about discharge and I felt trust between us slipping."
    slack.ws.submit_view(
        "U1",
        modal["id"],
        values={
            "reflection": {"text": reflection},
            "sharing": {"choice": "team"},
        },
    )
    entry = wait_until(lambda: _entries(slack))[0]
    assert entry.text == reflection and entry.sharing == "team" and entry.themes
    dm = slack.ws.open_dm("U1")
    thanks = wait_until(
        lambda: [
            m for m in slack.bot_messages(dm, message["ts"]) if "Thank you" in m.get("text", "")
        ]
    )
    assert "Source:" in json.dumps(thanks[0]["blocks"])
    with session_scope(slack.settings) as session:
        assert session.scalar(select(CheckIn.status)) == "answered"


def test_an_empty_modal_gets_a_kind_error_and_saves_nothing(slack):
    join(slack, day="mon", local_time="09:00")
    tick(slack, MONDAY_0900_GMT)
    [message] = checkin_messages(slack)
    slack.ws.click_button("U1", message, action_id="checkin_reflect")
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    response = slack.ws.submit_view("U1", modal["id"], values={"reflection": {"text": "   "}})
    assert response.json["response_action"] == "errors"
    settle()
    assert _entries(slack) == []


def test_a_long_thread_reply_is_kept_whole_and_later_replies_join_it(slack):
    join(slack, day="mon", local_time="09:00")
    tick(slack, MONDAY_0900_GMT)
    [message] = checkin_messages(slack)
    dm = slack.ws.open_dm("U1")
    long_text = ("I keep thinking about how we share power with the voluntary sector. " * 80)[:5000]
    slack.ws.user_posts("U1", channel=dm, text=long_text, thread_ts=message["ts"])
    entry = wait_until(lambda: _entries(slack))[0]
    assert entry.text == long_text.strip() and len(entry.text) >= 4900
    slack.ws.user_posts("U1", channel=dm, text="And one more thought.", thread_ts=message["ts"])
    wait_until(lambda: _entries(slack)[0].text.endswith("And one more thought."))
    assert len(_entries(slack)) == 1

    def thanks():
        return [
            m for m in slack.bot_messages(dm, message["ts"]) if "Thank you" in m.get("text", "")
        ]

    wait_until(thanks)
    settle()
    assert len(thanks()) == 1  # thanked once, not for every reply


def test_someone_else_cannot_use_your_check_in(slack):
    join(slack, day="mon", local_time="09:00")
    tick(slack, MONDAY_0900_GMT)
    [message] = checkin_messages(slack)
    slack.ws.click_button("U2", message, action_id="checkin_reflect")
    settle()
    assert slack.ws.views("U2") == []


def test_one_gentle_reminder_at_a_sensible_time_and_none_after_an_answer(slack):
    join(slack, day="mon", local_time="09:00")
    join(slack, user="U2", day="mon", local_time="09:00")
    tick(slack, MONDAY_0900_GMT)
    [answered] = checkin_messages(slack, "U2")
    slack.ws.user_posts(
        "U2", channel=slack.ws.open_dm("U2"), text="A thought.", thread_ts=answered["ts"]
    )
    wait_until(lambda: _entries(slack))
    assert tick(slack, MONDAY_0900_GMT + dt.timedelta(hours=23))["reminders"] == 0
    assert tick(slack, MONDAY_0900_GMT + dt.timedelta(days=1))["reminders"] == 1
    assert tick(slack, MONDAY_0900_GMT + dt.timedelta(days=1, hours=1))["reminders"] == 0


def test_not_this_time_means_no_reminder(slack):
    join(slack, day="mon", local_time="09:00")
    tick(slack, MONDAY_0900_GMT)
    [message] = checkin_messages(slack)
    slack.ws.click_button("U1", message, action_id="checkin_decline")
    wait_until(lambda: _status(slack) == "declined")
    assert tick(slack, MONDAY_0900_GMT + dt.timedelta(days=1))["reminders"] == 0


def test_snooze_an_hour_brings_the_question_back_then(slack):
    join(slack, day="mon", local_time="09:00")
    tick(slack, MONDAY_0900_GMT)
    [message] = checkin_messages(slack)
    usual_reminder = _reminder_due(slack)
    slack.ws.click_button("U1", message, action_id="checkin_snooze_hour")
    # The snooze is saved just after the ack: wait for it to replace the usual reminder.
    wait_until(lambda: _reminder_due(slack) != usual_reminder)
    due = _reminder_due(slack)
    assert tick(slack, due - dt.timedelta(minutes=1))["reminders"] == 0
    assert tick(slack, due)["reminders"] == 1


def test_pause_and_skip_next_are_respected(slack):
    join(slack, day="mon", local_time="09:00")
    update_leader(slack.settings, TEAM, "U1", paused_until=dt.date(2026, 12, 8))
    assert tick(slack, MONDAY_0900_GMT)["checkins"] == 0
    update_leader(slack.settings, TEAM, "U1", paused_until=None, skip_next=True)
    assert tick(slack, MONDAY_0900_GMT + dt.timedelta(days=7))["checkins"] == 0
    assert tick(slack, MONDAY_0900_GMT + dt.timedelta(days=14))["checkins"] == 1
    assert not get_leader(slack.settings, TEAM, "U1").skip_next


def test_a_crash_between_claim_and_send_is_recovered_without_a_duplicate(slack):
    for user in ("U1", "U2"):
        join(slack, user=user, day="mon", local_time="09:00")
    settings = slack.settings.model_copy(update={"stale_claim_seconds": 5})
    plan_checkins(settings, MONDAY_0900_GMT)  # claimed, then the process "dies"
    # Simulate a crash *after* one message was sent but before it was recorded.
    with session_scope(settings) as session:
        first = session.scalars(select(CheckIn).order_by(CheckIn.id)).first()
        first.attempts = 1
        first_id = first.id
        leader_user = session.get(Leader, first.leader_id).slack_user_id
    client = TeamClients(settings).for_team(TEAM)
    channel = client.conversations_open(users=leader_user)["channel"]["id"]
    client.chat_postMessage(
        channel=channel,
        text="check-in",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "q"}}],
        metadata={"event_type": "tandem_checkin", "event_payload": {"checkin_id": first_id}},
    )
    with session_scope(settings) as session:
        session.execute(
            text(
                "UPDATE checkins SET status = 'claimed', claimed_by = 'dead-worker', claimed_at = :old"
            ),
            {"old": dt.datetime(2020, 1, 1)},
        )
    counts = run_tick(
        settings, now=MONDAY_0900_GMT + dt.timedelta(minutes=5), clients=TeamClients(settings)
    )
    assert counts["checkins"] == 2  # both recorded as sent...
    posts = [c for c in slack.ws.calls_to("chat.postMessage") if c["params"].get("metadata")]
    assert len(posts) == 2  # ...but only one new message: the other was found in the DM
    with session_scope(settings) as session:
        assert set(session.scalars(select(CheckIn.status))) == {"sent"}


def test_jobs_tick_cli_prints_counts_as_json_and_honours_at(slack):
    join(slack, day="mon", local_time="09:00")
    env = {
        "TANDEM_DATA_DIR": str(slack.settings.data_dir),
        "DATABASE_URL": slack.settings.database_url,
        "SLACK_API_URL": slack.settings.slack_api_url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "jobs", "tick", "--at", "2026-11-30T09:00:00Z", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert counts["checkins"] == 1 and counts["reminders"] == 0


def test_cohort_import_enrols_consenting_rows_invites_the_rest_and_reports_bad_lines(
    slack, tmp_path
):
    from bot.cohort import import_leaders

    csv_text = (
        "slack_user_id,organisation,time_zone,cadence,day,time,consent\n"
        "U1,Northshire ICB,Europe/London,weekly,mon,09:00,yes\n"
        "U2,St Anne's Hospice,Europe/London,fortnightly,tue,10:30,no\n"
        "nobody,Somewhere,Europe/London,weekly,mon,09:00,yes\n"
        "U3,Westvale Council,Mars/Base,weekly,mon,09:00,yes\n"
    )
    report = import_leaders(slack.settings, TEAM, csv_text)
    assert (report.enrolled, report.invited) == (1, 1)
    assert report.problems[0].startswith("line 4:") and report.problems[1].startswith("line 5:")
    assert tick(slack, MONDAY_0900_GMT)["invitations"] == 1
    invitation = [
        m
        for m in slack.bot_messages(slack.ws.open_dm("U2"))
        if "Would you like to join" in m["text"]
    ][0]
    slack.ws.click_button("U2", invitation, action_id="checkins_join")
    wait_until(lambda: get_leader(slack.settings, TEAM, "U2").status == "active")
    assert tick(slack, MONDAY_0900_GMT)["invitations"] == 0


def test_export_arrives_as_a_file_in_the_dm(slack):
    join(slack, day="mon", local_time="09:00")
    tick(slack, MONDAY_0900_GMT)
    [message] = checkin_messages(slack)
    slack.ws.user_posts(
        "U1",
        channel=slack.ws.open_dm("U1"),
        text="export-canary reflection",
        thread_ts=message["ts"],
    )
    wait_until(lambda: _entries(slack))
    slack.ws.run_slash_command("U1", channel="C1", command="/tandem", text="export")
    files = wait_until(lambda: slack.ws.files("U1"))
    content = files[0].get("content") or b""
    data = json.loads(content if isinstance(content, str) else content.decode())
    assert data["journal"][0]["text"] == "export-canary reflection"
    assert data["leader"]["day"] == "mon"

    # /tandem forget removes the export file too, and says so truthfully.
    slack.ws.run_slash_command("U1", channel="C1", command="/tandem", text="forget")
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    slack.ws.submit_view("U1", modal["id"], values={})
    dm = slack.ws.open_dm("U1")
    done = wait_until(
        lambda: [m for m in slack.bot_messages(dm) if "erased everything" in m.get("text", "")]
    )
    assert "including the export files" in done[0]["text"]
    assert slack.ws.files("U1") == []
    everything = json.dumps(slack.ws.messages(dm))
    assert "export-canary" not in everything and "tandem-export-" not in everything


def test_forget_leaves_no_trace_of_the_canary_anywhere(kb_settings, tmp_path):
    import io
    import logging

    from bot.knowledge.index import get_collection
    from bot.logging_setup import configure_logging

    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream=stream)
    canary = "zebra-canary-7781"
    try:
        with running_tandem(kb_settings, tmp_path) as slack:
            join(slack, day="mon", local_time="09:00")
            tick(slack, MONDAY_0900_GMT)
            [message] = checkin_messages(slack)
            dm = slack.ws.open_dm("U1")
            slack.ws.user_posts(
                "U1",
                channel=dm,
                text=f"My {canary} reflection about trust",
                thread_ts=message["ts"],
            )
            wait_until(lambda: _entries(slack))
            slack.ws.run_slash_command("U1", channel="C1", command="/tandem", text="forget")
            [modal] = wait_until(lambda: slack.ws.views("U1"))
            slack.ws.submit_view("U1", modal["id"], values={})
            wait_until(lambda: get_leader(slack.settings, TEAM, "U1") is None)
            wait_until(
                lambda: any(
                    "erased everything" in m.get("text", "") for m in slack.bot_messages(dm)
                )
            )
            engine = get_engine(slack.settings)
            with engine.connect() as connection:
                for table in inspect(engine).get_table_names():
                    for row in connection.execute(text(f"SELECT * FROM {table}")):
                        assert canary not in repr(row), table
            stored = get_collection(slack.settings).get(include=["documents", "metadatas"])
            assert canary not in json.dumps(stored)
            with session_scope(slack.settings) as session:
                assert session.scalar(select(func.count()).select_from(JournalEntry)) == 0
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    assert canary not in stream.getvalue()


def test_data_cli_export_import_round_trip_and_malformed_import_writes_nothing(slack, tmp_path):
    from bot.privacy import ImportRejected, erase_user, export_user, import_user
    from bot.reflection.journal import add_entry

    leader = join(slack, day="mon", local_time="09:00")
    add_entry(slack.settings, leader.id, "A reflection worth keeping about peers.")
    exported = export_user(slack.settings, TEAM, "U1", actor="test")
    erase_user(slack.settings, TEAM, "U1", actor="test")
    broken = json.dumps(
        {**exported, "journal": [*exported["journal"], {"text": "", "created_at": "nope"}]}
    )
    with pytest.raises(ImportRejected):
        import_user(slack.settings, broken)
    assert get_leader(slack.settings, TEAM, "U1") is None  # no partial write
    with pytest.raises(ImportRejected, match="not JSON"):
        import_user(slack.settings, "{not json")
    assert import_user(slack.settings, json.dumps(exported))["entries"] == 1
    assert get_leader(slack.settings, TEAM, "U1").day == "mon"


def test_entries_past_retention_are_purged(slack):
    from bot.reflection.journal import add_entry

    leader = join(slack, day="mon", local_time="09:00")
    add_entry(slack.settings, leader.id, "An old reflection.")
    assert tick(slack, MONDAY_0900_GMT + dt.timedelta(days=400))["purged_entries"] == 1


def _entries(slack):
    with session_scope(slack.settings) as session:
        rows = session.scalars(select(JournalEntry).order_by(JournalEntry.id)).all()
        for row in rows:
            session.expunge(row)
        return rows


def _status(slack):
    with session_scope(slack.settings) as session:
        return session.scalar(select(CheckIn.status))


def _reminder_due(slack):
    with session_scope(slack.settings) as session:
        return session.scalar(select(CheckIn.reminder_due_at))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (dt.datetime(2026, 3, 30, 7, 59), 0),  # 08:59 BST
        (dt.datetime(2026, 3, 30, 8, 0), 1),  # 09:00 BST, the first Monday of summer time
        (dt.datetime(2026, 10, 26, 8, 59), 0),  # 08:59 GMT
        (dt.datetime(2026, 10, 26, 9, 0), 1),  # 09:00 GMT, the first Monday after the change
    ],
)
def test_daylight_saving_end_to_end(slack, at, expected):
    join(slack, day="mon", local_time="09:00")
    assert tick(slack, at)["checkins"] == expected


def test_journal_shows_recent_entries_privately_with_a_theme_summary(slack):
    from bot.reflection.journal import add_entry

    leader = join(slack, day="mon", local_time="09:00")
    for text_ in (
        "My team found it hard to speak up in the incident review.",
        "People stayed quiet when I asked for challenge; I want it to feel safe to disagree.",
    ):
        add_entry(slack.settings, leader.id, text_)
    slack.ws.run_slash_command("U1", channel="C1", command="/tandem", text="journal")
    shown = wait_until(
        lambda: [
            e for e in slack.ws.ephemeral("U1") if "Your journal" in json.dumps(e.get("blocks", []))
        ]
    )
    body = json.dumps(shown[-1]["blocks"])
    assert "speak up in the incident review" in body
    assert "keep coming back to" in body and "psychological safety" in body
    assert all(
        "Your journal" not in json.dumps(e.get("blocks", [])) for e in slack.ws.ephemeral("U2")
    )


def test_sharing_choice_changes_with_one_click_and_only_for_the_owner(slack):
    from bot.reflection.journal import NotYours, add_entry, set_sharing

    leader = join(slack, day="mon", local_time="09:00")
    other = join(slack, user="U2", day="mon", local_time="09:00")
    entry = add_entry(slack.settings, leader.id, "A private thought about peers.")
    assert entry.sharing == "private"
    assert set_sharing(slack.settings, leader.id, entry.id, "peers").sharing == "peers"
    with pytest.raises(NotYours):
        set_sharing(slack.settings, other.id, entry.id, "team")


def test_app_home_shows_schedule_and_what_tandem_holds(slack):
    from bot.reflection.journal import add_entry

    leader = join(slack, day="mon", local_time="09:00")
    add_entry(slack.settings, leader.id, "Something about trust.")
    slack.ws.open_app_home("U1")
    view = json.dumps(wait_until(lambda: slack.ws.home_view("U1")))
    assert "Weekly* on *Monday* at *09:00*" in view
    assert "*1* journal entry" in view
    assert "Export my data" in view and "Erase my data" in view


def test_settings_modal_changes_the_schedule(slack):
    join(slack, day="mon", local_time="09:00")
    slack.ws.open_app_home("U1")
    home = wait_until(lambda: slack.ws.home_view("U1"))
    slack.ws.click_button("U1", home, action_id="home_settings")
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    slack.ws.submit_view(
        "U1",
        modal["id"],
        values={"day": {"v": "wed"}, "time": {"v": "14:30"}, "tz": {"v": "Europe/Dublin"}},
    )
    leader = wait_until(
        lambda: (lambda lead: lead if lead.day == "wed" else None)(
            get_leader(slack.settings, TEAM, "U1")
        )
    )
    assert (leader.local_time, leader.time_zone) == ("14:30", "Europe/Dublin")


def test_the_scheduler_keeps_one_stable_job_across_restarts(slack):
    from jobs.scheduler import TICK_JOB_ID, build_scheduler

    for _ in range(2):  # a restart builds the scheduler again on the same job store
        scheduler = build_scheduler(slack.settings)
        scheduler.start(paused=True)
        jobs_ = scheduler.get_jobs()
        scheduler.shutdown(wait=False)
        assert [j.id for j in jobs_] == [TICK_JOB_ID]
        assert jobs_[0].args == () and jobs_[0].coalesce


def test_an_entry_can_be_edited_and_deleted_from_the_journal(slack):
    from bot.reflection.journal import add_entry

    leader = join(slack, day="mon", local_time="09:00")
    add_entry(slack.settings, leader.id, "A first draft of a thought about trust.")
    slack.ws.run_slash_command("U1", channel="C1", command="/tandem", text="journal")
    listing = wait_until(
        lambda: [
            e for e in slack.ws.ephemeral("U1") if "Your journal" in json.dumps(e.get("blocks", []))
        ]
    )[-1]
    slack.ws.click_button("U1", listing, action_id="journal_edit")
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    slack.ws.submit_view(
        "U1", modal["id"], values={"entry": {"text": "A better thought about trust."}}
    )
    wait_until(lambda: _entries(slack)[0].text == "A better thought about trust.")

    slack.ws.click_button("U1", listing, action_id="journal_delete")
    wait_until(lambda: _entries(slack) == [])
    wait_until(lambda: any("Deleted" in e.get("text", "") for e in slack.ws.ephemeral("U1")))


def test_leaders_import_reports_a_nul_byte_in_one_line_and_imports_the_good_rows(tmp_path):
    """On PostgreSQL a NUL used to reach the database and crash the import."""
    from tests.conftest import make_settings
    from tests.support.cli import run_cli

    settings = make_settings(tmp_path)
    path = tmp_path / "cohort.csv"
    path.write_text(
        "slack_user_id,organisation,time_zone,cadence,day,time,consent\n"
        "U1,North\x00shire ICB,Europe/London,weekly,mon,09:00,yes\n"
        "U2,St Anne's Hospice,Europe/London,weekly,mon,09:00,yes\n"
    )
    result = run_cli(["leaders", "import", str(path), "--team", TEAM], settings)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.endswith("line 2: contains a NUL character") and "shire" not in line
    assert get_leader(settings, TEAM, "U1") is None
    assert get_leader(settings, TEAM, "U2").organisation == "St Anne's Hospice"


def test_leaders_import_stops_in_one_line_at_a_row_that_is_not_csv(tmp_path):
    from tests.conftest import make_settings
    from tests.support.cli import run_cli

    settings = make_settings(tmp_path)
    path = tmp_path / "cohort.csv"
    path.write_text(
        "slack_user_id,organisation,time_zone,cadence,day,time,consent\n"
        "U2,St Anne's Hospice,Europe/London,weekly,mon,09:00,yes\n"
        f'U1,"{"x" * 200_000}",Europe/London,weekly,mon,09:00,yes\n'
    )
    result = run_cli(["leaders", "import", str(path), "--team", TEAM], settings)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "line 3: not readable as CSV" in line and "xxx" not in line
    assert get_leader(settings, TEAM, "U2") is not None


def test_a_sender_slowed_past_half_the_stale_time_does_not_post_a_claim_taken_over(slack):
    import time

    from bot.reflection.ledger import claim_sendable, new_claimant
    from jobs.tick import send_checkin

    join(slack, day="mon", local_time="09:00")
    settings = slack.settings.model_copy(update={"stale_claim_seconds": 6})
    plan_checkins(settings, MONDAY_0900_GMT)
    claimant = new_claimant()
    [item] = claim_sendable(settings, claimant)
    with session_scope(settings) as session:  # another replica took it over as stale
        session.execute(text("UPDATE checkins SET claimed_by = 'successor'"))
    # Renewed four seconds ago: more than half the stale-claim time, so the sender asks.
    late = send_checkin(
        settings, item, MONDAY_0900_GMT, TeamClients(settings), claimant, time.monotonic() - 4
    )
    assert late is None
    assert checkin_messages(slack) == []
    with session_scope(settings) as session:
        assert session.scalar(select(CheckIn.claimed_by)) == "successor"


def _monday_leaders(slack, count: int) -> list[str]:
    """`count` leaders who take a check-in at 09:00 on Mondays (the workspace has U1 and U2)."""
    users = [f"U{n}" for n in range(1, count + 1)]
    for n, user in enumerate(users):
        if n >= 2:
            slack.ws.add_user(user, name=f"Person {user}", tz="Europe/London")
        join(slack, user=user, day="mon", local_time="09:00")
    return users


def test_delivery_writes_the_ledger_in_batches_not_once_per_send(slack):
    users = _monday_leaders(slack, 6)
    with statements_run(slack.settings) as statements:
        assert tick(slack, MONDAY_0900_GMT)["checkins"] == 6
    statements = [s for s in statements if s.lstrip().upper().startswith("UPDATE CHECKINS")]
    assert all(len(checkin_messages(slack, user)) == 1 for user in users)
    # Claim, renew the group, record the sends: the same few statements for any batch size.
    assert len(statements) <= 3


def test_the_next_batch_is_claimed_while_this_one_is_sent_and_each_goes_once(slack, monkeypatch):
    import jobs.tick

    monkeypatch.setattr(jobs.tick, "CLAIM_BATCH", 8)  # 20 check-ins: three batches
    users = _monday_leaders(slack, 20)
    with statements_run(slack.settings) as statements:
        assert tick(slack, MONDAY_0900_GMT)["checkins"] == 20
    assert all(len(checkin_messages(slack, user)) == 1 for user in users)
    with session_scope(slack.settings) as session:
        assert set(session.scalars(select(CheckIn.status))) == {"sent"}
    updates = [s.upper() for s in statements if s.lstrip().upper().startswith("UPDATE CHECKINS")]
    claims = [i for i, s in enumerate(updates) if "ATTEMPTS=" in s.replace(" ", "")]
    records = [i for i, s in enumerate(updates) if "SENT_AT=" in s.replace(" ", "")]
    assert len(claims) == 3 and len(records) == 3
    assert claims[1] < records[0]  # the second batch was claimed before the first was recorded
