"""The sandbox page's backend over HTTP, with the real Tandem behind the local workspace."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from slack_sdk import WebClient

from bot.settings import REPO_ROOT
from sandbox.clock import SimulatedClock, next_weekday_at
from sandbox.demo import CIRCLE, DEMO_LEADERS, GENERAL, calm_moment
from sandbox.run import SNAPSHOT_NAME, Sandbox
from sandbox.web import compose_text
from tests.sandbox.conftest import sandbox_settings
from tests.support.waiting import settle, wait_until

# Slow tier: a whole sandbox (workspace, Tandem, page backend) per module, and restarts.
pytestmark = pytest.mark.slow

AMARA, PRIYA, GRACE = "U01AMARA", "U02PRIYA", "U03GRACE"
BOT = "UTANDEMBOT"


def screen(page, user, channel=None, thread=None) -> dict:
    params = {"user": user, "channel": channel or "", "thread": thread or ""}
    response = page.get("/ui/screen", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def bot_answers(page, user, channel=None, thread=None) -> list[dict]:
    """Tandem's finished messages (not its "Thinking" placeholder) in what `user` sees."""
    data = screen(page, user, channel, thread)
    messages = data["thread"]["messages"] if thread else data["channel"]["messages"]
    return [
        m
        for m in messages
        if m["author"]["id"] == BOT and not m["ephemeral"] and "Thinking" not in m["text"]
    ]


def context_text(message) -> str:
    return " ".join(
        e.get("text", "")
        for b in message.get("blocks") or []
        if b["type"] == "context"
        for e in b["elements"]
    )


def ephemeral(page, user, channel=None) -> list[dict]:
    return [m for m in screen(page, user, channel)["channel"]["messages"] if m["ephemeral"]]


# ---- pure parts ----------------------------------------------------------------------------


def test_composer_text_is_escaped_linked_and_mentions_become_ids():
    names = {"tandem": BOT, "grace": GRACE}
    typed = "@Tandem is a < b & c? See https://www.nhs.uk/x. Ask @Grace, not @nobody."
    assert compose_text(typed, names) == (
        f"<@{BOT}> is a &lt; b &amp; c? See <https://www.nhs.uk/x>. Ask <@{GRACE}>, not @nobody."
    )
    assert compose_text("mail amara@example.org", names) == "mail amara@example.org"


def test_next_monday_nine_is_local_time_across_the_clocks_changing():
    # Sunday 29 March 2026 is when the UK moves to BST: Monday 09:00 is then 08:00 UTC.
    sunday = dt.datetime(2026, 3, 29, 12, 0, tzinfo=dt.UTC)
    assert next_weekday_at(sunday, "Europe/London") == dt.datetime(2026, 3, 30, 8, 0, tzinfo=dt.UTC)
    monday_nine = dt.datetime(2026, 3, 30, 8, 0, tzinfo=dt.UTC)
    assert next_weekday_at(monday_nine, "Europe/London").date() == dt.date(2026, 4, 6)


def test_simulated_clock_only_moves_forward_and_dates_old_moments_by_their_offset():
    real = [1_000_000.0]
    clock = SimulatedClock(real_time=lambda: real[0])
    clock.advance(dt.timedelta(hours=-5))
    assert clock.offset == 0
    real[0] += 10
    clock.advance(dt.timedelta(days=2))
    assert clock.now().timestamp() == pytest.approx(1_000_010 + 2 * 86400)
    assert clock.simulated(1_000_005).timestamp() == pytest.approx(1_000_005)  # before the jump
    restored = SimulatedClock.from_dict(json.loads(json.dumps(clock.to_dict())), lambda: real[0])
    assert restored.offset == 2 * 86400


# ---- the demo workspace -----------------------------------------------------------------------


def test_the_demo_workspace_has_leaders_channels_and_enrolled_check_ins(page, sandbox):
    from bot.reflection.leaders import get_leader

    boot = page.get("/ui/bootstrap").json()
    assert [leader["id"] for leader in boot["leaders"]] == [d.user_id for d in DEMO_LEADERS]
    assert len({leader["tz"] for leader in boot["leaders"]}) >= 3
    seen = screen(page, AMARA)
    kinds = {c["label"]: c["kind"] for c in seen["conversations"]}
    assert kinds == {"leadership-circle": "public", "general": "public", "Tandem": "im"}
    assert seen["channel"]["id"] == seen["me"]["dm"]  # the DM with Tandem opens first
    circle = next(c for c in seen["conversations"] if c["id"] == CIRCLE)
    assert circle["bot_member"] and circle["members"] == len(DEMO_LEADERS) + 1
    enrolled = [d for d in DEMO_LEADERS if get_leader(sandbox.settings, "T0TANDEM", d.user_id)]
    assert enrolled == [d for d in DEMO_LEADERS if d.checkins]
    assert len(enrolled) >= 5 and len(DEMO_LEADERS) - len(enrolled) >= 2  # some can join
    assert page.get("/").status_code == 200 and "Tandem" in page.get("/").text
    assert page.get("/static/app.js").status_code == 200
    assert page.get("/static/../run.py").status_code == 404


def test_tandem_runs_exactly_as_in_production_http_mode(sandbox):
    assert sandbox.settings.slack_api_url.startswith("http://127.0.0.1:")
    assert sandbox.ws.app_url == f"{sandbox.tandem_url}/slack/events"
    assert httpx.get(f"{sandbox.tandem_url}/healthz").json() == {"ok": True}
    unsigned = httpx.post(f"{sandbox.tandem_url}/slack/events", json={"type": "event_callback"})
    assert unsigned.status_code == 401  # signatures are checked, as in production


# ---- acting as a leader ---------------------------------------------------------------------


def test_a_dm_is_answered_with_sources_and_helpful_is_thanked(page):
    dm = screen(page, AMARA)["me"]["dm"]
    posted = page.post(
        "/ui/post",
        json={"user": AMARA, "channel": dm, "text": "How do I rebuild trust with a partner?"},
    )
    assert posted.status_code == 200 and posted.json()["ok"]
    [answer] = wait_until(lambda: bot_answers(page, AMARA, dm), timeout=30)
    assert context_text(answer) == "Sources"
    sources = [
        b for b in answer["blocks"] if b.get("accessory", {}).get("text", {}).get("text") == "View"
    ]
    assert sources and sources[0]["text"]["text"].startswith("[1] ")
    page.post(
        "/ui/action",
        json={
            "user": AMARA,
            "action_id": "view_source:1",
            "message": {"channel": dm, "ts": answer["ts"], "ephemeral": False},
        },
    ).raise_for_status()
    document = wait_until(lambda: screen(page, AMARA)["modal"])
    title = sources[0]["text"]["text"][4:].replace("&amp;", "&")
    assert title in json.dumps(document, ensure_ascii=False)
    page.post("/ui/close", json={"user": AMARA, "view_id": document["id"]}).raise_for_status()
    clicked = page.post(
        "/ui/action",
        json={
            "user": AMARA,
            "action_id": "feedback_helpful",
            "message": {"channel": dm, "ts": answer["ts"], "ephemeral": False},
        },
    )
    assert clicked.json() == {"ok": True}
    thanks = wait_until(lambda: [m for m in ephemeral(page, AMARA, dm) if "Thank you" in m["text"]])
    assert thanks[0]["author"]["name"] == "Tandem"


def test_a_mention_in_the_circle_is_answered_in_its_thread(page):
    posted = page.post(
        "/ui/post",
        json={
            "user": GRACE,
            "channel": CIRCLE,
            "text": "@Tandem how can we make it safe to disagree?",
        },
    ).json()
    root = posted["opens_thread"]
    message = next(m for m in screen(page, GRACE, CIRCLE)["channel"]["messages"] if m["ts"] == root)
    assert message["text"].startswith(f"<@{BOT}> how can")
    replies = wait_until(lambda: bot_answers(page, GRACE, CIRCLE, thread=root), timeout=30)
    assert context_text(replies[0]) == "Sources"
    assert not [m for m in bot_answers(page, GRACE, CIRCLE) if m["ts"] != root]  # not at root

    reply = page.post(
        "/ui/post",
        json={"user": PRIYA, "channel": CIRCLE, "text": "Thank you", "thread_ts": root},
    ).json()
    assert reply["thread_ts"] == root


def test_mentioning_tandem_where_it_is_not_says_so(page):
    posted = page.post(
        "/ui/post", json={"user": AMARA, "channel": GENERAL, "text": "@Tandem are you here?"}
    ).json()
    assert posted["ok"] and "isn't in #general" in posted["notice"]


def test_slash_help_is_shown_only_to_the_person_who_ran_it(page):
    result = page.post(
        "/ui/post", json={"user": PRIYA, "channel": CIRCLE, "text": "/tandem help"}
    ).json()
    assert result == {"ok": True, "command": "/tandem"}
    [help_message] = [m for m in ephemeral(page, PRIYA, CIRCLE) if "/tandem ask" in m["text"]]
    assert help_message["author"]["is_bot"]
    assert not [m for m in ephemeral(page, GRACE, CIRCLE) if "/tandem ask" in m["text"]]
    unknown = page.post("/ui/post", json={"user": PRIYA, "channel": CIRCLE, "text": "/nope"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "unknown_command"


def test_slash_ask_replaces_thinking_in_place_and_can_be_shared(page):
    tomasz = "U05TOMASZ"
    question = "/tandem ask how do we co-produce with carers?"
    page.post("/ui/post", json={"user": tomasz, "channel": CIRCLE, "text": question})

    def private_answer():
        mine = ephemeral(page, tomasz, CIRCLE)
        done = [m for m in mine if "Share in channel" in json.dumps(m.get("blocks"))]
        return done and not [m for m in mine if "Thinking" in m["text"]] and done

    [answer] = wait_until(private_answer, timeout=30)
    page.post(
        "/ui/action",
        json={
            "user": tomasz,
            "action_id": "share_answer",
            "message": {"channel": CIRCLE, "ts": answer["ts"], "ephemeral": True},
        },
    ).raise_for_status()
    shared = wait_until(
        lambda: [m for m in bot_answers(page, GRACE, CIRCLE) if "shared an answer" in m["text"]]
    )
    assert shared[0]["text"].startswith(f"<@{tomasz}> shared an answer to")
    wait_until(lambda: not [m for m in ephemeral(page, tomasz, CIRCLE) if m["ts"] == answer["ts"]])


def test_not_helpful_opens_a_modal_that_submits_thanks_and_closes(page):
    dm = screen(page, PRIYA)["me"]["dm"]
    page.post(
        "/ui/post",
        json={"user": PRIYA, "channel": dm, "text": "How do I set up an action learning set?"},
    )
    [answer] = wait_until(lambda: bot_answers(page, PRIYA, dm), timeout=30)
    page.post(
        "/ui/action",
        json={
            "user": PRIYA,
            "action_id": "feedback_not_helpful",
            "message": {"channel": dm, "ts": answer["ts"]},
        },
    ).raise_for_status()
    modal = wait_until(lambda: screen(page, PRIYA)["modal"])
    assert modal["title"]["text"] == "Not helpful"
    submitted = page.post(
        "/ui/submit",
        json={
            "user": PRIYA,
            "view_id": modal["id"],
            "values": {"reason": {"reason_input": "Too general"}},
        },
    ).json()
    # The form becomes a thank-you, so the reason is seen to arrive (issue #14, item 12).
    assert submitted["ok"] and submitted["errors"] is None
    thanks = screen(page, PRIYA)["modal"]
    assert thanks["id"] == modal["id"] and "Thank you" in json.dumps(thanks["blocks"])
    page.post("/ui/close", json={"user": PRIYA, "view_id": thanks["id"]}).raise_for_status()
    assert screen(page, PRIYA)["modal"] is None


def test_app_home_is_published_when_opened(page):
    assert page.post("/ui/home", json={"user": GRACE}).json() == {"ok": True}
    home = wait_until(lambda: screen(page, GRACE)["home"])
    assert home["type"] == "home" and "Welcome to Tandem" in json.dumps(home)


def test_fast_forward_to_monday_brings_check_ins_and_the_reflection_modal_validates(page):
    before = screen(page, AMARA)["clock"]
    moved = page.post("/ui/clock", json={"user": AMARA, "step": "next_monday"}).json()
    assert moved["clock"]["label"].startswith("Mon ") and moved["clock"]["label"].endswith("09:00")
    assert moved["clock"]["iso"] > before["iso"] and "ahead of real time" in moved["clock"]["ahead"]
    enrolled = sum(1 for d in DEMO_LEADERS if d.checkins)
    assert moved["sent"]["checkins"] == enrolled

    dm = screen(page, AMARA)["me"]["dm"]
    checkin = wait_until(
        lambda: [m for m in bot_answers(page, AMARA, dm) if "Reflect now" in json.dumps(m)]
    )[-1]
    assert checkin["time"] == "09:00" and checkin["day"] == "Today"
    priya_dm = screen(page, PRIYA)["me"]["dm"]
    assert not [m for m in bot_answers(page, PRIYA, priya_dm) if "Reflect now" in json.dumps(m)]

    page.post(
        "/ui/action",
        json={
            "user": AMARA,
            "action_id": "checkin_reflect",
            "message": {"channel": dm, "ts": checkin["ts"]},
        },
    ).raise_for_status()
    modal = wait_until(lambda: screen(page, AMARA)["modal"])
    blank = {"reflection": {"text": "   "}, "sharing": {"choice": "private"}}
    refused = page.post(
        "/ui/submit", json={"user": AMARA, "view_id": modal["id"], "values": blank}
    ).json()
    assert refused["errors"] == {"reflection": "Write a few words, or close this for now."}
    assert refused["modal"]["id"] == modal["id"]  # it stays open, showing the error
    written = {"reflection": {"text": "Listening first helped."}, "sharing": {"choice": "private"}}
    saved = page.post(
        "/ui/submit", json={"user": AMARA, "view_id": modal["id"], "values": written}
    ).json()
    assert saved["errors"] is None and saved["modal"] is None

    hour = page.post("/ui/clock", json={"user": AMARA, "step": "hour"}).json()
    assert hour["clock"]["label"].endswith("10:00")
    bad = page.post("/ui/clock", json={"user": AMARA, "step": "year"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_step"


# ---- bad input ------------------------------------------------------------------------------


def test_a_message_over_40000_characters_is_rejected_like_slack(page):
    dm = screen(page, GRACE)["me"]["dm"]
    before = len(screen(page, GRACE, dm)["channel"]["messages"])
    response = page.post("/ui/post", json={"user": GRACE, "channel": dm, "text": "x" * 50_000})
    assert response.status_code == 400
    assert response.json()["error"] == "msg_too_long"
    assert "40,000" in response.json()["message"]
    assert len(screen(page, GRACE, dm)["channel"]["messages"]) == before


def test_an_empty_message_is_ignored(page):
    dm = screen(page, GRACE)["me"]["dm"]
    before = screen(page, GRACE, dm)["channel"]["messages"]
    response = page.post("/ui/post", json={"user": GRACE, "channel": dm, "text": "  \n\t "})
    assert response.json() == {"ok": True, "ignored": True}
    settle(0.3)
    assert screen(page, GRACE, dm)["channel"]["messages"] == before


def test_malformed_requests_get_error_json(page):
    def fails(path, status, error, **kwargs):
        response = page.post(path, **kwargs)
        assert response.status_code == status, response.text
        body = response.json()
        assert body["ok"] is False and body["error"] == error and body["message"]

    fails("/ui/action", 400, "invalid_json", content=b"{not json")
    fails("/ui/action", 400, "invalid_json", json=["a", "list"])
    fails("/ui/action", 400, "unknown_user", json={"user": BOT, "action_id": "x"})
    fails("/ui/action", 400, "invalid_action", json={"user": AMARA})
    fails("/ui/action", 400, "invalid_action", json={"user": AMARA, "action_id": "x"})
    fails(
        "/ui/action",
        400,
        "invalid_action",
        json={"user": AMARA, "action_id": "x", "message": {"channel": CIRCLE, "ts": "1.000001"}},
    )
    fails(
        "/ui/action",
        400,
        "channel_not_found",
        json={"user": AMARA, "action_id": "x", "message": {"channel": "D0NOPE", "ts": "1"}},
    )
    fails("/ui/submit", 400, "invalid_view", json={"user": AMARA, "view_id": "V0NOPE"})
    fails("/ui/submit", 400, "invalid_arguments", json={"user": AMARA, "values": [1]})
    fails("/ui/close", 400, "invalid_view", json={"user": AMARA, "view_id": "V0NOPE"})
    fails(
        "/ui/post",
        400,
        "channel_not_found",
        json={"user": AMARA, "channel": "C0NOPE", "text": "hi"},
    )
    fails("/ui/post", 400, "invalid_arguments", json={"user": AMARA, "channel": CIRCLE, "text": 5})


def test_an_interaction_tandem_refuses_is_a_visible_error(page, sandbox):
    bot = WebClient(token=sandbox.ws.bot_token, base_url=sandbox.settings.slack_api_url)
    dm = screen(page, AMARA)["me"]["dm"]
    button = {
        "type": "button",
        "action_id": "nobody_listens",
        "text": {"type": "plain_text", "text": "Try"},
    }
    posted = bot.chat_postMessage(
        channel=dm, text="A stray button", blocks=[{"type": "actions", "elements": [button]}]
    )
    response = page.post(
        "/ui/action",
        json={
            "user": AMARA,
            "action_id": "nobody_listens",
            "message": {"channel": dm, "ts": posted["ts"]},
        },
    )
    assert response.status_code == 502
    assert (
        response.json()["error"] == "dispatch_failed" and "HTTP 404" in response.json()["message"]
    )


def test_an_interaction_tandem_never_answers_times_out_with_an_error(page, sandbox):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections into the backlog, never answers
    real_url = sandbox.ws.app_url
    sandbox.ws.app_url = f"http://127.0.0.1:{silent.getsockname()[1]}/slack/events"
    try:
        dm = screen(page, AMARA)["me"]["dm"]
        started = time.monotonic()
        response = page.post(
            "/ui/post", json={"user": AMARA, "channel": dm, "text": "/tandem help"}
        )
        assert time.monotonic() - started < 6
    finally:
        sandbox.ws.app_url = real_url
        silent.close()
    assert response.status_code == 502 and response.json()["error"] == "operation_timeout"


# ---- live updates and files --------------------------------------------------------------------


def test_the_event_stream_announces_changes(page, sandbox):
    with page.stream("GET", "/ui/events", timeout=10) as stream:
        lines = stream.iter_lines()
        first = next(line for line in lines if line.startswith("data:"))
        sandbox.ws.user_posts(GRACE, CIRCLE, "Anything new?")
        second = next(line for line in lines if line.startswith("data:"))
    assert json.loads(first[5:])["revision"] != json.loads(second[5:])["revision"]


def test_a_shared_file_downloads_for_its_people_only(page, sandbox):
    bot = WebClient(token=sandbox.ws.bot_token, base_url=sandbox.settings.slack_api_url)
    dm = screen(page, GRACE)["me"]["dm"]
    bot.files_upload_v2(channel=dm, content="my journal", filename="journal.txt", title="Journal")
    [shared] = wait_until(
        lambda: [m for m in screen(page, GRACE, dm)["channel"]["messages"] if m["files"]]
    )
    link = shared["files"][0]["download"]
    assert page.get(link).content == b"my journal"
    priya_link = link.replace(f"user={GRACE}", f"user={PRIYA}")
    assert page.get(priya_link).status_code == 404


# ---- persistence, --reset and the command ----------------------------------------------------------


def test_a_restart_keeps_the_conversation_and_the_clock_and_reset_starts_clean(
    kb_settings, tmp_path
):
    settings = sandbox_settings(tmp_path, kb_settings)
    with (
        Sandbox(settings, port=0, tick_seconds=None) as first,
        httpx.Client(base_url=first.url, timeout=30) as page,
    ):
        dm = screen(page, AMARA)["me"]["dm"]
        page.post("/ui/post", json={"user": AMARA, "channel": dm, "text": "How do I build trust?"})
        wait_until(lambda: bot_answers(page, AMARA, dm), timeout=30)
        page.post("/ui/clock", json={"user": AMARA, "step": "day"})
        offset = first.clock.offset
    assert (tmp_path / SNAPSHOT_NAME).exists()

    with (
        Sandbox(settings, port=0, tick_seconds=None) as second,
        httpx.Client(base_url=second.url, timeout=30) as page,
    ):
        assert second.restored and second.clock.offset == offset
        texts = [m["text"] for m in screen(page, AMARA, dm)["channel"]["messages"]]
        assert texts[0] == "How do I build trust?" and len(texts) == 2
        # Tandem still answers in the restored workspace (its event ids stay new to it).
        page.post("/ui/post", json={"user": AMARA, "channel": dm, "text": "And with a council?"})
        wait_until(lambda: len(bot_answers(page, AMARA, dm)) == 2, timeout=30)

    with (
        Sandbox(settings, port=0, tick_seconds=None, reset=True) as third,
        httpx.Client(base_url=third.url, timeout=30) as page,
    ):
        assert not third.restored
        started = third.clock.now()  # a fresh clock: real time, or the next calm morning
        assert calm_moment(started) == started and third.clock.offset <= 25 * 3600
        assert screen(page, AMARA, dm)["channel"]["messages"] == []
        from bot.reflection.leaders import get_leader

        assert get_leader(third.settings, "T0TANDEM", AMARA).status == "active"  # re-seeded


def test_tandem_sandbox_command_serves_until_interrupted(kb_settings, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        # As `make run` does from the repo root, whatever the state of the editable install.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "TANDEM_DATA_DIR": str(tmp_path),
        "CHROMA_PATH": str(kb_settings.resolved_chroma_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = ""
        while "Ctrl-C stops it" not in output:
            line = process.stdout.readline()
            assert line, f"the sandbox exited early:\n{output}"
            output += line
        assert f"http://127.0.0.1:{port}/" in output
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest
    assert "Stopped" in rest and (tmp_path / SNAPSHOT_NAME).exists()
