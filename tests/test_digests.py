"""Team channel digests end to end: set-up, the scheduled post and its thread, the ledger,
preview, the CLI contract, and the model paragraph that never sees anyone's words."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import threading

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from bot.db.engine import session_scope
from bot.db.models import DigestConfig, DigestRun, FailedSend, JournalEntry
from bot.digests import service
from bot.digests.config import configure_digest, get_config
from bot.reflection.journal import add_entry
from bot.reflection.leaders import enrol
from bot.schedule import to_utc
from bot.slack.client import TeamClients
from jobs.tick import run_tick
from tests.conftest import make_settings
from tests.slack_fixtures import running_tandem
from tests.support.openai_stub import OpenAIStub
from tests.support.waiting import settle, wait_until

# Slow tier: digests end to end through Bolt, the tick, the CLI and PostgreSQL.
pytestmark = pytest.mark.slow

TEAM = "T0TANDEM"
CHANNEL = "C9"
PEOPLE = ["U1", "U2", "U3", "U4", "U5", "U6"]
FRIDAY_1500_GMT = dt.datetime(2026, 12, 4, 15, 0)  # 15:00 in London
IN_THE_WEEK = dt.datetime(2026, 12, 1, 10, 0)
TRUST = "I worked on my relationship with our partners at the council, trying to rebuild trust."
CANARY = "quokka-canary-5521"


@pytest.fixture
def slack(kb_settings, tmp_path):
    with running_tandem(kb_settings, tmp_path, digest_admins="U3") as harness:
        ws = harness.ws
        for number, user in enumerate(["U3", "U4", "U5", "U6", "U7"], start=3):
            ws.add_user(user, name=f"Person{number} Surname{number}", tz="Europe/London")
        ws.add_user("UADMIN", name="Morgan Admin", tz="Europe/London", is_admin=True)
        ws.add_channel(CHANNEL, name="leadership-team", members=["UADMIN", *PEOPLE])
        for user in [*PEOPLE, "U7"]:
            enrol(
                harness.settings,
                TEAM,
                user,
                time_zone="Europe/London",
                display_name=f"Name of {user}",
                day="mon",
            )
        yield harness


def share(slack, user, text=TRUST, sharing="team", at=IN_THE_WEEK):
    """A leader's reflection, made at `at`, with the sharing choice they picked."""
    from bot.reflection.journal import leader_id_for

    entry = add_entry(
        slack.settings, leader_id_for(slack.settings, TEAM, user), text, sharing=sharing
    )
    with session_scope(slack.settings) as session:
        session.execute(
            update(JournalEntry).where(JournalEntry.id == entry.id).values(created_at=at)
        )
    return entry


def tick(slack, at):
    return run_tick(slack.settings, now=at, clients=TeamClients(slack.settings))


def runs(slack):
    with session_scope(slack.settings) as session:
        rows = session.scalars(select(DigestRun).order_by(DigestRun.id)).all()
        for row in rows:
            session.expunge(row)
        return rows


def configure(slack, **options):
    values = {"day": "fri", "local_time": "15:00", "time_zone": "Europe/London", "k": 5}
    values.update(options)
    return configure_digest(slack.settings, TEAM, CHANNEL, configured_by="UADMIN", **values)


def test_a_digest_posts_once_at_the_local_time_with_its_detail_in_the_thread(slack):
    configure(slack)
    assert share(slack, "U1").themes == ["trust-and-relationships"]
    for user in PEOPLE[1:5]:
        share(slack, user)
    share(slack, "U6", text=f"{TRUST} {CANARY}", sharing="private")
    share(slack, "U6", text=f"{TRUST} {CANARY}", sharing="peers")
    share(slack, "U7", text=f"{TRUST} {CANARY}")  # shared, but not in this channel

    assert tick(slack, FRIDAY_1500_GMT - dt.timedelta(minutes=1))["digests"] == 0
    assert tick(slack, FRIDAY_1500_GMT)["digests"] == 1
    assert tick(slack, FRIDAY_1500_GMT)["digests"] == 0  # a replayed tick posts nothing new
    assert tick(slack, FRIDAY_1500_GMT + dt.timedelta(hours=1))["digests"] == 0

    [post] = slack.bot_messages(CHANNEL)
    assert post["text"] == (
        "This week's reflection digest: 1 theme, guidance and a question for the team "
        "— details in the thread"
    )
    root, detail = slack.bot_messages(CHANNEL, post["ts"])
    assert root["ts"] == post["ts"]
    body = json.dumps(detail["blocks"], ensure_ascii=False)
    assert "Trust and relationships" in body and "5–9 people" in body
    assert "Guidance of the week" in body and "/tandem checkin" in body
    everything = json.dumps(slack.ws.messages(CHANNEL, post["ts"]), ensure_ascii=False)
    assert CANARY not in everything and "Name of" not in everything and "Person" not in everything
    for user in [*PEOPLE, "U7", "UADMIN"]:
        assert f'"{user}"' not in everything and f"<@{user}>" not in everything

    [run] = runs(slack)
    assert (run.status, run.period_key, run.message_ts) == ("posted", "W2026-49", post["ts"])
    shown = json.loads(run.shown)
    assert list(shown) == ["trust-and-relationships"] and len(shown["trust-and-relationships"]) == 5
    assert not any(user in run.shown for user in PEOPLE)


def test_next_weeks_digest_differing_by_one_person_leaves_the_theme_out(slack):
    configure(slack)
    for user in PEOPLE[:5]:
        share(slack, user)
    assert tick(slack, FRIDAY_1500_GMT)["digests"] == 1
    for user in PEOPLE[:6]:  # the same five and one more
        share(slack, user, at=IN_THE_WEEK + dt.timedelta(days=7))
    assert tick(slack, FRIDAY_1500_GMT + dt.timedelta(days=7))["digests"] == 1
    first, second = runs(slack)
    assert json.loads(first.shown) and json.loads(second.shown) == {}
    newest = slack.bot_messages(CHANNEL)[-1]
    assert newest["text"].startswith("This week's reflection digest: guidance")


def test_a_group_smaller_than_k_gets_no_themes_at_all(slack):
    configure(slack, k=7)  # six people in the channel take part
    for user in PEOPLE:
        share(slack, user)
    assert tick(slack, FRIDAY_1500_GMT)["digests"] == 1
    [post] = slack.bot_messages(CHANNEL)
    detail = slack.bot_messages(CHANNEL, post["ts"])[1]
    assert "Trust and relationships ·" not in json.dumps(detail["blocks"], ensure_ascii=False)
    assert "at least 7 people" in detail["text"]
    assert json.loads(runs(slack)[0].shown) == {}


def test_a_post_slack_refuses_is_recorded_and_not_retried(slack):
    slack.ws.add_channel("C8", name="no-bot-here", members=PEOPLE, bot_member=False)
    configure_digest(slack.settings, TEAM, "C8", day="fri", local_time="15:00")
    assert tick(slack, FRIDAY_1500_GMT)["digests"] == 0
    assert tick(slack, FRIDAY_1500_GMT + dt.timedelta(minutes=1))["digests"] == 0
    [run] = runs(slack)
    assert run.status == "failed"
    with session_scope(slack.settings) as session:
        [failed] = session.scalars(select(FailedSend)).all()
        assert (failed.kind, failed.channel_id, failed.error) == ("digest", "C8", "not_in_channel")


def test_setup_modal_rejects_k_below_three_inline_then_saves(slack):
    slack.ws.run_slash_command("UADMIN", channel=CHANNEL, command="/tandem", text="digest setup")
    [modal] = wait_until(lambda: slack.ws.views("UADMIN"))
    response = slack.ws.submit_view("UADMIN", modal["id"], values={"k": {"v": "2"}})
    assert response.json["response_action"] == "errors"
    assert "can't go below 3" in response.json["errors"]["k"]
    settle(0.3)
    assert get_config(slack.settings, TEAM, CHANNEL) is None
    slack.ws.submit_view(
        "UADMIN",
        modal["id"],
        values={
            "cadence": {"v": "fortnightly"},
            "day": {"v": "thu"},
            "time": {"v": "16:30"},
            "k": {"v": "6"},
            "sections": {"v": ["themes", "question", "invitation"]},
        },
    )
    config = wait_until(lambda: get_config(slack.settings, TEAM, CHANNEL))
    assert (config.cadence, config.day, config.local_time, config.k) == (
        "fortnightly",
        "thu",
        "16:30",
        6,
    )
    assert config.sections == ("themes", "question", "invitation")
    assert config.configured_by == "UADMIN"
    wait_until(lambda: any("All set" in e.get("text", "") for e in slack.ws.ephemeral("UADMIN")))
    assert slack.bot_messages(CHANNEL) == []  # set-up is private: nothing in the channel


def test_setup_is_for_admins_and_digest_admins_only(slack):
    slack.ws.run_slash_command("U1", channel=CHANNEL, command="/tandem", text="digest setup")
    wait_until(lambda: any("workspace admins" in e["text"] for e in slack.ws.ephemeral("U1")))
    assert slack.ws.views("U1") == []
    # U3 is not a workspace admin, but DIGEST_ADMINS names them.
    slack.ws.run_slash_command("U3", channel=CHANNEL, command="/tandem", text="digest setup")
    wait_until(lambda: slack.ws.views("U3"))
    # A private channel Tandem was never invited to: a kind pointer, not an error.
    slack.ws.add_channel("G5", name="private-team", members=["UADMIN"], bot_member=False)
    slack.ws.run_slash_command("UADMIN", channel="G5", command="/tandem", text="digest setup")
    wait_until(lambda: any("/invite" in e["text"] for e in slack.ws.ephemeral("UADMIN")))
    assert slack.ws.views("UADMIN") == [] and slack.ws.problems == []


def test_preview_is_ephemeral_and_only_for_the_person_who_set_it_up(slack):
    configure(slack)
    for user in PEOPLE[:5]:
        share(slack, user, at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
    slack.ws.run_slash_command("UADMIN", channel=CHANNEL, command="/tandem", text="digest preview")
    preview = wait_until(
        lambda: [e for e in slack.ws.ephemeral("UADMIN") if e["text"].startswith("Preview")]
    )[0]
    body = json.dumps(preview["blocks"], ensure_ascii=False)
    assert "only for you" in body and "Trust and relationships" in body
    slack.ws.run_slash_command("U1", channel=CHANNEL, command="/tandem", text="digest preview")
    wait_until(lambda: any("person who set up" in e["text"] for e in slack.ws.ephemeral("U1")))
    assert not any(e["text"].startswith("Preview") for e in slack.ws.ephemeral("U1"))
    assert slack.bot_messages(CHANNEL) == []
    [run] = runs(slack)  # the preview is a release: recorded, not posted
    assert run.status == "previewed" and run.message_ts is None


def now_naive():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def preview(slack, channel=CHANNEL, user="UADMIN"):
    """Run `/tandem digest preview` and return the new preview's blocks."""

    def previews():
        return [e for e in slack.ws.ephemeral(user) if e["text"].startswith("Preview")]

    seen = len(previews())
    slack.ws.run_slash_command(user, channel=channel, command="/tandem", text="digest preview")
    blocks = wait_until(lambda: previews()[seen:])[0]["blocks"]
    return [{key: value for key, value in block.items() if key != "block_id"} for block in blocks]


def detail_of_post(slack, channel=CHANNEL):
    [post] = slack.bot_messages(channel)
    return slack.bot_messages(channel, post["ts"])[1]["blocks"]


def themes_in(blocks) -> list[tuple[str, str]]:
    """(theme, band) pairs a digest's blocks show."""
    return re.findall(r"\*([^*]+)\* · (\S+) people", json.dumps(blocks, ensure_ascii=False))


def test_previews_before_and_after_someone_leaves_reveal_nothing(slack):
    config = configure(slack)
    for user in PEOPLE[:5]:
        share(slack, user, at=now_naive() - dt.timedelta(minutes=5))
    first = preview(slack)
    assert "Trust and relationships" in json.dumps(first, ensure_ascii=False)
    slack.ws.leave_channel(CHANNEL, "U5")  # the attack: would the theme now vanish?
    assert preview(slack) == first
    # The post is the preview: exactly what the admin saw, whoever left since.
    _period, due_local = service.period_in_progress(config, now_naive())
    assert tick(slack, to_utc(due_local))["digests"] == 1
    assert themes_in(detail_of_post(slack)) == themes_in(first) != []
    [run] = runs(slack)
    assert run.status == "posted"


def test_previews_before_and_after_someone_joins_reveal_nothing(slack):
    slack.ws.add_channel("C8", name="small-team", members=["UADMIN", *PEOPLE[:4]])
    configure_digest(slack.settings, TEAM, "C8", configured_by="UADMIN", k=5)
    for user in PEOPLE[:5]:  # U5 shared too, but is not in the channel yet
        share(slack, user, at=now_naive() - dt.timedelta(minutes=5))
    first = preview(slack, channel="C8")
    assert "Trust and relationships ·" not in json.dumps(first, ensure_ascii=False)
    slack.ws.join_channel("C8", "U5")  # the attack: would U5's theme now appear?
    assert preview(slack, channel="C8") == first


def test_reflections_after_a_preview_count_towards_the_next_digest(slack):
    config = configure(slack)
    moment = now_naive()
    share(slack, "U1", at=moment - dt.timedelta(minutes=5))
    preview(slack)
    [run] = runs(slack)
    assert moment <= run.cutoff <= now_naive()
    _period, due_local = service.period_in_progress(config, now_naive())
    after_next = service.period_due_at(config, to_utc(due_local) + dt.timedelta(days=7))
    following = service.continuing(slack.settings, config, after_next)
    assert following.start == run.cutoff  # nothing between the cutoff and the due time is lost


def test_erasure_removes_a_persons_themes_from_a_previewed_digest(slack):
    from bot.privacy import erase_user

    config = configure(slack)
    for user in PEOPLE[:5]:
        share(slack, user, at=now_naive() - dt.timedelta(minutes=5))
    assert "Trust and relationships" in json.dumps(preview(slack), ensure_ascii=False)
    erase_user(slack.settings, TEAM, "U1", actor="self")
    again = json.dumps(preview(slack), ensure_ascii=False)
    assert "Trust and relationships ·" not in again and "trust and relationships" not in again
    _period, due_local = service.period_in_progress(config, now_naive())
    assert tick(slack, to_utc(due_local))["digests"] == 1
    assert themes_in(detail_of_post(slack)) == []


def test_help_lists_digest(slack):
    slack.ws.run_slash_command("U1", channel=CHANNEL, command="/tandem", text="help")
    text = wait_until(lambda: slack.ws.ephemeral("U1"))[-1]["text"]
    assert "/tandem digest setup" in text
    commands = [line for line in text.splitlines() if line.startswith("`/tandem")]
    assert commands[-1].startswith("`/tandem help`")


def _cli(slack, *args):
    env = {
        "TANDEM_DATA_DIR": str(slack.settings.data_dir),
        "DATABASE_URL": slack.settings.database_url,
        "SLACK_API_URL": slack.settings.slack_api_url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": slack.settings.secret_value("slack_signing_secret"),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "digest", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_dry_run_json_contract_is_a_release_the_post_then_repeats(slack):
    result = _cli(
        slack, "configure", "--channel", CHANNEL, "--team", TEAM, "--day", "fri",
        "--time", "15:00", "--tz", "Europe/London",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert get_config(slack.settings, TEAM, CHANNEL).k == 5
    for user in PEOPLE[:5]:
        share(slack, user)
    result = _cli(
        slack, "run", "--channel", CHANNEL, "--team", TEAM,
        "--at", "2026-12-04T15:00:00Z", "--dry-run", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == [
        "channel",
        "period",
        "group_size_band",
        "themes",
        "guidance",
        "question",
        "connections_band",
        "text",
    ]
    assert data["channel"] == CHANNEL and data["period"] == "W2026-49"
    assert data["group_size_band"] == "5–9"
    assert data["themes"] == [{"slug": "trust-and-relationships", "band": "5–9"}]
    assert set(data["guidance"]) == {"doc_id", "title"}
    guide = slack.settings.knowledge_dir / "docs" / f"{data['guidance']['doc_id']}.md"
    assert "themes: [trust-and-relationships" in guide.read_text("utf-8")  # its primary theme
    assert data["question"] and data["connections_band"] == ""
    assert "trust and relationships" in data["text"]
    assert slack.bot_messages(CHANNEL) == []
    [run] = runs(slack)
    assert run.status == "previewed"
    # Someone leaves, and the dry run is repeated: the same digest, nothing to subtract.
    slack.ws.leave_channel(CHANNEL, "U5")
    again = _cli(
        slack, "run", "--channel", CHANNEL, "--team", TEAM,
        "--at", "2026-12-04T15:00:00Z", "--dry-run", "--json",
    )  # fmt: skip
    assert json.loads(again.stdout) == data
    assert tick(slack, FRIDAY_1500_GMT)["digests"] == 1
    assert themes_in(detail_of_post(slack)) and runs(slack)[0].status == "posted"


def test_cli_refuses_k_below_three():
    from bot.cli.digests import app

    result = CliRunner().invoke(
        app, ["configure", "--channel", CHANNEL, "--team", TEAM, "--k", "2"]
    )
    assert result.exit_code == 2
    assert "can't go below 3" in " ".join(result.output.split())


def test_the_model_writes_the_paragraph_from_theme_names_alone(slack):
    config = configure(slack)
    for user in PEOPLE[:5]:
        share(slack, user, text=f"{TRUST} {CANARY}")
    period = service.period_due_at(config, FRIDAY_1500_GMT)
    with OpenAIStub() as stub:
        stub.reply = "Trust has been on many minds. <!here> Perhaps talk it over?"
        llm = slack.settings.model_copy(update={"openai_base_url": stub.base_url})
        digest = service.build_digest(llm, config, period, ["UADMIN", *PEOPLE])
        sent = json.dumps(stub.requests)
        stub.behaviour = "error"
        fallback = service.build_digest(llm, config, period, ["UADMIN", *PEOPLE])
    assert digest.text == "Trust has been on many minds. Perhaps talk it over?"
    assert "Trust and relationships" in sent
    assert CANARY not in sent and "Name of" not in sent
    assert not any(user in sent for user in PEOPLE)
    assert fallback.text.startswith("This week, the reflections people chose to share")


@pytest.mark.postgres
def test_two_schedulers_claiming_the_same_digest_on_postgresql_post_it_once(
    fresh_database, tmp_path
):
    settings = make_settings(tmp_path, DATABASE_URL=fresh_database)
    channel = f"CPG{tmp_path.name[-8:].upper()}"
    config = configure_digest(settings, "TPGTEST", channel)
    results: list = []
    barrier = threading.Barrier(4)

    def claim():
        barrier.wait()
        results.append(service.claim_run(settings, config.id, "W2026-49"))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len([r for r in results if r is not None]) == 1
    finally:
        with session_scope(settings) as session:
            session.execute(delete(DigestConfig).where(DigestConfig.id == config.id))
