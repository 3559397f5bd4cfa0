"""The demo workspace tells the truth: an admin who can try digests, one clock for Tandem
and the sandbox, a digest with themes on its day, and a calm first few minutes."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.db.engine import session_scope
from bot.db.models import JournalEntry
from bot.digests.config import get_config
from bot.reflection.journal import leader_id_for
from sandbox.clock import SimulatedClock
from sandbox.demo import CIRCLE, DEMO_LEADERS
from sandbox.run import Sandbox
from tests.sandbox.conftest import sandbox_settings
from tests.sandbox.test_sandbox_page import AMARA, GRACE, bot_answers, ephemeral, screen
from tests.support.waiting import wait_until

# Slow tier: a whole demo sandbox, fast-forwarded through weeks.
pytestmark = pytest.mark.slow

TEAM = "T0TANDEM"
LONDON = ZoneInfo("Europe/London")
# The real world, as far as this module's sandbox knows, starts at 10:00 on a Monday in
# London: the hour when the demo's weekly check-ins are due.
MONDAY_TEN = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
THEME_LINE = re.compile(r"• \*([^*]+)\* · ([^ ]+) people")


@pytest.fixture(scope="module")
def sandbox(kb_settings, tmp_path_factory):
    """A fresh demo workspace started at MONDAY_TEN (real time runs on from there)."""
    settings = sandbox_settings(tmp_path_factory.mktemp("demo"), kb_settings)
    running = Sandbox(settings, port=0, tick_seconds=None)
    shift = MONDAY_TEN.timestamp() - time.time()
    running.clock = SimulatedClock(real_time=lambda: time.time() + shift)
    with running:
        yield running


def in_london(sandbox) -> dt.datetime:
    return sandbox.clock.now().astimezone(LONDON)


def blocks_text(message: dict) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False)


def test_a_fresh_demo_starts_at_a_calm_moment_with_nothing_waiting(page, sandbox):
    started = in_london(sandbox)
    assert (started.strftime("%A"), started.hour) == ("Tuesday", 9)  # the next calm morning
    assert sandbox.tick()["checkins"] == 0
    for leader in DEMO_LEADERS:
        assert bot_answers(page, leader.user_id) == [], leader.name  # an empty DM, with tips


def test_one_demo_person_is_a_workspace_admin_who_may_set_up_a_digest(page, sandbox):
    leaders = page.get("/ui/bootstrap").json()["leaders"]
    assert [leader["id"] for leader in leaders if leader["admin"]] == [AMARA]
    slack = WebClient(token=sandbox.ws.bot_token, base_url=sandbox.settings.slack_api_url)
    assert slack.users_info(user=AMARA)["user"]["is_admin"] is True
    assert slack.users_info(user=GRACE)["user"]["is_admin"] is False

    page.post("/ui/post", json={"user": GRACE, "channel": CIRCLE, "text": "/tandem digest setup"})
    wait_until(lambda: [m for m in ephemeral(page, GRACE, CIRCLE) if "admins" in m["text"]])
    assert screen(page, GRACE)["modal"] is None
    nothing_yet = page.post("/ui/clock", json={"user": GRACE, "step": "next_digest"})
    assert (
        nothing_yet.status_code == 400 and "/tandem digest setup" in nothing_yet.json()["message"]
    )

    page.post("/ui/post", json={"user": AMARA, "channel": CIRCLE, "text": "/tandem digest setup"})
    modal = wait_until(lambda: screen(page, AMARA)["modal"])
    assert modal["callback_id"] == "digest_setup" and "How often" in json.dumps(modal)
    page.post("/ui/close", json={"user": AMARA, "view_id": modal["id"]}).raise_for_status()


def test_the_slash_autocomplete_offers_every_subcommand_that_help_lists(page):
    offered = page.get("/ui/bootstrap").json()["subcommands"]
    dm = screen(page, GRACE)["me"]["dm"]
    page.post("/ui/post", json={"user": GRACE, "channel": dm, "text": "/tandem help"})
    shown = wait_until(
        lambda: [m for m in ephemeral(page, GRACE, dm) if "/tandem ask" in m["text"]]
    )
    listed = re.findall(r"`(/tandem [^`]+)`", shown[-1]["text"])
    assert len(listed) >= 7 and sorted(s["label"] for s in offered) == sorted(listed)
    assert offered[0]["insert"] == "/tandem help"
    for suggestion in offered:
        assert suggestion["label"].startswith(suggestion["insert"].strip()) and suggestion["about"]
    inserts = {s["label"]: s["insert"] for s in offered}
    assert inserts["/tandem ask <question>"] == "/tandem ask "  # the question is theirs to type
    assert inserts["/tandem digest setup | preview"] == "/tandem digest "


def test_a_digest_set_up_in_the_demo_shows_a_theme_on_its_day_exactly_as_previewed(page, sandbox):
    page.post("/ui/post", json={"user": AMARA, "channel": CIRCLE, "text": "/tandem digest setup"})
    modal = wait_until(lambda: screen(page, AMARA)["modal"])
    monday_three = {"day": {"v": "mon"}, "time": {"v": "15:00"}}
    page.post("/ui/submit", json={"user": AMARA, "view_id": modal["id"], "values": monday_three})
    config = wait_until(lambda: get_config(sandbox.settings, TEAM, CIRCLE))
    assert (config.day, config.local_time, config.k) == ("mon", "15:00", 5)

    # A week on, check-ins arrive; Grace reflects and shares it with the team.
    grace = leader_id_for(sandbox.settings, TEAM, GRACE)

    def grace_entries():
        with session_scope(sandbox.settings) as session:
            return session.scalars(
                select(JournalEntry.created_at).where(JournalEntry.leader_id == grace)
            ).all()

    moved = page.post("/ui/clock", json={"user": AMARA, "step": "next_monday"}).json()
    assert moved["sent"]["checkins"] == sum(1 for d in DEMO_LEADERS if d.checkins)
    checkin = wait_until(
        lambda: [m for m in bot_answers(page, GRACE) if "Reflect now" in blocks_text(m)]
    )[-1]
    page.post(
        "/ui/action",
        json={
            "user": GRACE,
            "action_id": "checkin_reflect",
            "message": {"channel": screen(page, GRACE)["me"]["dm"], "ts": checkin["ts"]},
        },
    ).raise_for_status()
    reflect = wait_until(lambda: screen(page, GRACE)["modal"])
    written = {
        "reflection": {"text": "I rang our council partner just to listen. Trust is growing."},
        "sharing": {"choice": "team"},
    }
    before = len(grace_entries())  # the demo's, and perhaps a fresh one from the move
    page.post("/ui/submit", json={"user": GRACE, "view_id": reflect["id"], "values": written})
    stamped = max(wait_until(lambda: len(grace_entries()) == before + 1 and grace_entries()))
    sandbox_now = sandbox.clock.naive_utc()
    assert sandbox_now - dt.timedelta(minutes=5) < stamped <= sandbox_now  # sandbox time

    # Amara previews: due today at 15:00 by the sandbox's clock, with the shared theme.
    page.post("/ui/post", json={"user": AMARA, "channel": CIRCLE, "text": "/tandem digest preview"})
    preview = wait_until(
        lambda: [m for m in ephemeral(page, AMARA, CIRCLE) if "Preview" in blocks_text(m)]
    )[-1]
    today = in_london(sandbox)
    assert f"{today:%A %d %B} at 15:00" in blocks_text(preview)
    previewed = THEME_LINE.findall(blocks_text(preview))
    assert ("Trust and relationships", "5–9") in previewed

    # At 15:00 the digest goes out, showing exactly what the preview showed.
    moved = page.post("/ui/clock", json={"user": AMARA, "step": "next_digest"}).json()
    assert moved["clock"]["label"] == f"{today:%a %-d %b %Y}, 15:00"
    assert moved["sent"].get("digests") == 1
    [post] = [m for m in bot_answers(page, AMARA, CIRCLE) if "digest" in m["text"]]
    assert post["text"].startswith("This week's reflection digest: 1 theme")
    detail = wait_until(lambda: bot_answers(page, AMARA, CIRCLE, post["ts"])[1:])[-1]
    assert THEME_LINE.findall(blocks_text(detail)) == previewed
    kinds = [b["type"] for b in preview["blocks"]]
    preview_detail = preview["blocks"][kinds.index("divider") + 1 :]
    assert [b.get("text") for b in detail["blocks"]] == [b.get("text") for b in preview_detail]


def test_three_weeks_of_fast_forward_still_leave_a_digest_with_themes(page, sandbox):
    """Demo colleagues share again each week of sandbox time, so a newcomer who has played
    with the clock for weeks still sees a theme when they try a digest (a journey dead end)."""
    for _ in range(3):
        page.post("/ui/clock", json={"user": AMARA, "step": "next_monday"}).raise_for_status()
    page.post("/ui/post", json={"user": AMARA, "channel": CIRCLE, "text": "/tandem digest preview"})
    preview = wait_until(
        lambda: [
            m
            for m in ephemeral(page, AMARA, CIRCLE)
            if "Preview" in blocks_text(m) and f"{in_london(sandbox):%A %d %B}" in blocks_text(m)
        ]
    )[-1]
    assert ("Trust and relationships", "5–9") in THEME_LINE.findall(blocks_text(preview))
    moved = page.post("/ui/clock", json={"user": AMARA, "step": "next_digest"}).json()
    assert moved["sent"].get("digests") == 1
    posts = [m for m in bot_answers(page, AMARA, CIRCLE) if "digest" in m["text"]]
    assert posts[-1]["text"].startswith("This week's reflection digest: 1 theme")
