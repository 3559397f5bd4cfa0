"""End to end: real signed HTTP requests into Tandem, real slack_sdk calls to the local workspace."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest

from bot.ui import messages
from tests.slack_fixtures import SECRET, running_tandem
from tests.support.model_replies import labelled_passages, scripted_reply
from tests.support.openai_stub import OpenAIStub
from tests.support.slack_signing import message_event, post_event, post_form
from tests.support.waiting import settle, wait_until

# Slow tier: the real Bolt app over HTTP against the workspace server, waits included.
pytestmark = pytest.mark.slow


@pytest.fixture
def slack(kb_settings, tmp_path):
    with running_tandem(kb_settings, tmp_path) as harness:
        yield harness


def _answered(harness, channel, thread_ts=None):
    """Bot messages that carry a finished answer (not the Thinking placeholder)."""
    return [
        m for m in harness.bot_messages(channel, thread_ts) if m.get("text") != messages.THINKING
    ]


def _context_text(message) -> str:
    return " ".join(
        e.get("text", "")
        for b in message.get("blocks", [])
        if b["type"] == "context"
        for e in b["elements"]
    )


def test_dm_gets_exactly_one_cited_answer(slack):
    dm = slack.ws.open_dm("U1")
    slack.ws.user_posts("U1", channel=dm, text="How do I rebuild trust with a partner we let down?")
    [answer] = wait_until(lambda: _answered(slack, dm))
    assert _context_text(answer) == "Sources"
    views = [
        b for b in answer["blocks"] if b.get("accessory", {}).get("action_id") == "view_source:1"
    ]
    assert views and views[0]["text"]["text"].startswith("[1] ")
    assert answer["text"]  # plain-text fallback
    settle()
    assert len(slack.bot_messages(dm)) == 1  # the placeholder was updated in place
    assert [
        str(c["params"].get("unfurl_links")).lower() for c in slack.ws.calls_to("chat.postMessage")
    ] in (["false"], ["0"])


def test_mention_is_answered_in_a_thread_never_at_channel_root(slack):
    mention = slack.ws.user_mentions_bot(
        "U1", channel="C1", text="how can we make it safe to disagree?"
    )
    replies = wait_until(lambda: _answered(slack, "C1", mention["ts"]))
    assert len(replies) == 1
    top_level = [m for m in slack.ws.messages("C1") if m.get("bot_id")]
    assert top_level == []


def test_a_follow_up_in_tandems_thread_is_answered_with_the_thread_as_context(slack):
    mention = slack.ws.user_mentions_bot(
        "U1", channel="C1", text="how do we build trust with partners?"
    )
    wait_until(lambda: _answered(slack, "C1", mention["ts"]))
    slack.ws.user_posts(
        "U2", channel="C1", text="and what if they feel we let them down?", thread_ts=mention["ts"]
    )
    wait_until(lambda: len(_answered(slack, "C1", mention["ts"])) == 2)
    replies_calls = slack.ws.calls_to("conversations.replies")
    assert replies_calls and replies_calls[-1]["params"]["ts"] == mention["ts"]


def test_tandem_never_barges_into_other_threads(slack):
    parent = slack.ws.user_posts("U1", channel="C2", text="Lunch plans?")
    slack.ws.user_posts("U2", channel="C2", text="How do I build trust?", thread_ts=parent["ts"])
    slack.ws.user_posts("U2", channel="C2", text="A top-level question about trust?")
    settle(1.0)
    assert slack.bot_messages("C2") == [] and slack.bot_messages("C2", parent["ts"]) == []


def test_retried_event_and_duplicate_with_new_event_id_get_exactly_one_reply(slack):
    dm = slack.ws.open_dm("U2")
    body = message_event(
        "U2", dm, "How do I support a peer under pressure?", ts="1764150000.000100"
    )
    first = post_event(slack.events_url, SECRET, body)
    retry = post_event(
        slack.events_url,
        SECRET,
        body,
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    duplicate = dict(body, event_id="EvDIFFERENT01")
    again = post_event(slack.events_url, SECRET, duplicate)
    assert [first.status_code, retry.status_code, again.status_code] == [200, 200, 200]
    wait_until(lambda: _answered(slack, dm))
    settle(1.0)
    assert len(_answered(slack, dm)) == 1


@pytest.mark.parametrize("case", ["unsigned", "tampered", "stale"])
def test_bad_signatures_get_401_and_the_body_is_not_logged(slack, case, caplog):
    body = message_event("U1", "D999", "canary-secret-words", ts="1764150000.000200")
    raw = json.dumps(body)
    import httpx

    from tests.support.slack_signing import sign

    caplog.set_level(logging.DEBUG)
    if case == "unsigned":
        response = httpx.post(
            slack.events_url, content=raw, headers={"Content-Type": "application/json"}
        )
    elif case == "tampered":
        headers = sign(SECRET, raw)
        response = httpx.post(
            slack.events_url, content=raw.replace("canary", "CANARY"), headers=headers
        )
    else:
        response = post_event(slack.events_url, SECRET, body, timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    handler_output = io.StringIO()
    from bot.logging_setup import RedactingFilter

    for record in caplog.records:
        if RedactingFilter().filter(record):
            handler_output.write(record.getMessage())
    assert "canary-secret-words" not in handler_output.getvalue()


def test_rate_limited_twice_then_success_posts_one_message(slack):
    slack.ws.fail_next("chat.postMessage", error="ratelimited", times=2, retry_after=1)
    dm = slack.ws.open_dm("U1")
    slack.ws.user_posts("U1", channel=dm, text="How do I make time to think?")
    wait_until(lambda: _answered(slack, dm), timeout=20)
    settle()
    assert len(slack.bot_messages(dm)) == 1
    assert len(slack.ws.calls_to("chat.postMessage")) == 3


def test_a_send_that_keeps_failing_is_recorded_not_lost(slack):
    from sqlalchemy import select

    from bot.db.engine import session_scope
    from bot.db.models import FailedSend

    # More failures than the outbox's tries of both the "Thinking…" post and the answer.
    tries = slack.settings.outbox_attempts
    slack.ws.fail_next("chat.postMessage", error="internal_error", times=2 * tries + 1)
    slack.ws.fail_next("chat.update", error="internal_error", times=5)
    dm = slack.ws.open_dm("U1")
    slack.ws.user_posts("U1", channel=dm, text="How do I make time to think?")

    def failures():
        with session_scope(slack.settings) as session:
            return session.scalars(select(FailedSend)).all()

    rows = wait_until(lambda: [r for r in failures() if r.kind == "answer"])
    assert rows[0].error == "internal_error" and rows[0].channel_id == dm


def test_ack_is_fast_even_when_the_model_sleeps_for_ten_seconds(kb_settings, tmp_path):
    with OpenAIStub() as stub:
        stub.behaviour, stub.delay = "sleep", 10.0
        with running_tandem(
            kb_settings, tmp_path, openai_base_url=stub.base_url, llm_timeout_seconds=2.0
        ) as slack:
            dm = slack.ws.open_dm("U1")
            timings = []
            for n in range(3):
                body = message_event(
                    "U1", dm, "How can peers support each other?", ts=f"1764150001.00010{n}"
                )
                started = time.perf_counter()
                response = post_event(slack.events_url, SECRET, body)
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200
            assert max(timings) < 1.0
            answers = wait_until(
                lambda: len(_answered(slack, dm)) == 3 and _answered(slack, dm), timeout=30
            )
            assert all(_context_text(a) == "Sources" for a in answers)  # offline fallback


def test_model_output_with_broadcasts_and_foreign_links_is_neutralised(kb_settings, tmp_path):
    question = "How do I make it safe for my team to speak up?"
    hostile = (
        "<!channel> Read <https://evil.example/x|this> and talk to <@U2>. See https://www.nhs.uk/ok"
    )
    with OpenAIStub() as stub:
        stub.reply, _used = scripted_reply(labelled_passages(kb_settings, question), hostile)
        with running_tandem(kb_settings, tmp_path, openai_base_url=stub.base_url) as slack:
            dm = slack.ws.open_dm("U1")
            slack.ws.user_posts("U1", channel=dm, text=question)
            [answer] = wait_until(lambda: [m for m in _answered(slack, dm) if m.get("blocks")])
    posted = json.dumps(answer["blocks"]) + answer["text"]
    assert "<!channel>" not in posted and "<@U2>" not in posted and "evil.example" not in posted
    assert "https://www.nhs.uk/ok" in posted


def test_slash_help_lists_what_exists_and_ask_can_be_shared_exactly_in_channel(slack):
    response = slack.ws.run_slash_command("U1", channel="C1", command="/tandem", text="help")
    assert response.status == 200
    registry = slack.app.tandem_services.commands

    listed = [
        line.split("`")[1].split(" ")[1]
        for line in response.json["text"].splitlines()
        if line.startswith("`/tandem")
    ]
    assert sorted(listed) == sorted(registry.subcommands)  # every one that exists, nothing else
    listed_in_order = [usage.split(" ")[1] for usage, _ in registry.help_entries()]
    assert listed == listed_in_order and listed[-1] == "help"
    assert {"ask", "checkin", "journal", "export", "forget", "help"} <= set(listed)
    assert response.json["response_type"] == "ephemeral"

    slack.ws.run_slash_command(
        "U1", channel="C1", command="/tandem", text="ask how do we co-produce with carers?"
    )
    answer = wait_until(
        lambda: [
            e
            for e in slack.ws.ephemeral("U1")
            if "Share in channel" in json.dumps(e.get("blocks", []))
        ]
    )[-1]
    share = next(
        el
        for b in answer["blocks"]
        if b["type"] == "actions"
        for el in b["elements"]
        if el["action_id"] == "share_answer"
    )
    assert len(share["value"]) <= 32 and "carers" not in share["value"]  # an id, not the question
    slack.ws.click_button("U1", answer, action_id="share_answer")
    shared = wait_until(
        lambda: [m for m in slack.ws.messages("C1") if "shared an answer" in m.get("text", "")]
    )
    assert "Sources:" in shared[0]["text"]
    assert "<@U1> shared an answer to" in shared[0]["text"]
    # Exactly the answer the person saw, not a regenerated one.
    assert _section_texts(shared[0])[0] == _section_texts(answer)[0]


def test_two_apps_in_one_process_keep_their_own_commands_and_settings(kb_settings, tmp_path):
    from pydantic import SecretStr

    from bot.app import build_app

    def app_with(limit: int):
        settings = kb_settings.model_copy(
            update={"user_rate_limit_per_minute": limit, "slack_bot_token": SecretStr("xoxb-t")}
        )
        return build_app(settings, token_verification_enabled=False)

    first, second = app_with(3), app_with(9)
    one, two = first.tandem_services, second.tandem_services
    assert one.commands is not two.commands
    assert set(one.commands.subcommands) == set(two.commands.subcommands)
    ask_one, ask_two = one.commands.get("ask"), two.commands.get("ask")
    assert ask_one.run is not ask_two.run
    # Each subcommand is bound (with partial) to its own app's services, so its own settings.
    assert ask_one.run.args[0] is one and ask_two.run.args[0] is two
    assert ask_one.run.args[0].settings.user_rate_limit_per_minute == 3
    assert ask_two.run.args[0].settings.user_rate_limit_per_minute == 9


def test_feedback_is_stored_per_document_not_per_person(slack):
    from bot.services.feedback import feedback_counts

    dm = slack.ws.open_dm("U1")
    slack.ws.user_posts("U1", channel=dm, text="How do I set up an action learning set?")
    [answer] = wait_until(lambda: _answered(slack, dm))
    slack.ws.click_button("U1", answer, action_id="feedback_helpful")
    counts = wait_until(lambda: feedback_counts(slack.settings))
    assert all(c == {"helpful": 1, "not_helpful": 0} for c in counts.values())

    slack.ws.user_posts(
        "U1", channel=dm, text="How should our board read performance data together?"
    )
    second = wait_until(lambda: [a for a in _answered(slack, dm) if a["ts"] != answer["ts"]])[0]
    slack.ws.click_button("U1", second, action_id="feedback_not_helpful")
    [modal] = wait_until(lambda: slack.ws.views("U1"))
    slack.ws.submit_view("U1", modal["id"], values={"reason": {"reason_input": "Too general"}})
    wait_until(lambda: any(c["not_helpful"] for c in feedback_counts(slack.settings).values()))


def test_app_home_is_published_with_a_welcome(slack):
    slack.ws.open_app_home("U1")
    view = wait_until(lambda: slack.ws.home_view("U1"))
    assert "Welcome to Tandem" in json.dumps(view)


def test_other_bots_and_edits_are_ignored_but_acknowledged(slack):
    dm = slack.ws.open_dm("U1")
    bot_body = message_event("U9", dm, "I am another bot", ts="1764150002.000100", bot_id="BOTHER")
    edit_body = message_event("U1", dm, "edited", ts="1764150002.000200", subtype="message_changed")
    assert post_event(slack.events_url, SECRET, bot_body).status_code == 200
    assert post_event(slack.events_url, SECRET, edit_body).status_code == 200
    settle(1.0)
    assert slack.bot_messages(dm) == []


def test_healthz_reports_ready(slack):
    import httpx

    assert httpx.get(slack.url + "/healthz").json() == {"ok": True}


def test_logs_hold_no_message_text_or_tokens_even_at_debug(kb_settings, tmp_path):
    from bot.logging_setup import configure_logging

    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream=stream)
    try:
        with running_tandem(kb_settings, tmp_path) as slack:
            dm = slack.ws.open_dm("U1")
            slack.ws.user_posts("U1", channel=dm, text="zebra-canary how do I build trust?")
            wait_until(lambda: _answered(slack, dm))
            slack.ws.user_mentions_bot("U1", channel="C1", text="zebra-canary again please")
            slack.ws.run_slash_command(
                "U1", channel="C1", command="/tandem", text="ask zebra-canary peers"
            )
            post_form(
                slack.events_url, "wrong-secret", {"command": "/tandem", "text": "zebra-canary"}
            )
            wait_until(lambda: _answered(slack, "C1", None) or True)
            settle(1.5)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    output = stream.getvalue()
    assert output, "expected some log lines at DEBUG"
    for secret in ("zebra-canary", "xoxb-test-token", SECRET):
        assert secret not in output


def _section_texts(message) -> list[str]:
    return [b["text"]["text"] for b in message.get("blocks", []) if b["type"] == "section"]


def test_a_bare_follow_up_in_a_dm_builds_on_the_previous_answer(slack):
    dm = slack.ws.open_dm("U1")
    slack.ws.user_posts("U1", channel=dm, text="The hospice feels we ignore them at the board")
    wait_until(lambda: len(_answered(slack, dm)) == 1)
    slack.ws.user_posts("U1", channel=dm, text="what about with the council?")
    answers = wait_until(lambda: len(_answered(slack, dm)) == 2 and _answered(slack, dm))
    assert "Building on what you asked before" in answers[-1]["text"]


def test_more_on_a_point_in_a_thread_expands_it(slack):
    mention = slack.ws.user_mentions_bot(
        "U1", channel="C1", text="how do we build trust with partners?"
    )
    wait_until(lambda: _answered(slack, "C1", mention["ts"]))
    slack.ws.user_posts("U1", channel="C1", text="more on 2", thread_ts=mention["ts"])
    replies = wait_until(
        lambda: (
            len(_answered(slack, "C1", mention["ts"])) == 2
            and _answered(slack, "C1", mention["ts"])
        )
    )
    assert replies[-1]["text"].startswith("More on that:")


def test_a_share_button_replayed_by_someone_else_posts_nothing(slack):
    from bot.guidance.ledger import conversation_key, kept_answer, remember
    from bot.guidance.service import GuidanceService

    answer = GuidanceService(slack.settings).answer("how do we co-produce with carers?")
    kept = remember(slack.settings, "T0TANDEM", "U1", conversation_key("C1", "ask"), answer)
    assert kept_answer(slack.settings, kept, "T0TANDEM", "U1") is not None
    assert kept_answer(slack.settings, kept, "T0TANDEM", "U2") is None
    assert kept_answer(slack.settings, "not-a-real-id", "T0TANDEM", "U1") is None


def test_view_opens_the_source_document_in_a_modal(slack):
    dm = slack.ws.open_dm("U1")
    slack.ws.user_posts("U1", channel=dm, text="How do I rebuild trust with a partner we let down?")
    [answer] = wait_until(lambda: _answered(slack, dm))
    slack.ws.click_button("U1", answer, action_id="view_source:1")
    [view] = wait_until(lambda: slack.ws.views("U1"))
    title = next(
        b for b in answer["blocks"] if b.get("accessory", {}).get("action_id") == "view_source:1"
    )
    assert title["text"]["text"][4:].replace("&amp;", "&") in json.dumps(view, ensure_ascii=False)


def test_kept_answers_are_exported_and_erased_with_the_person(slack):
    from bot.privacy import erase_user, export_user

    dm = slack.ws.open_dm("U1")
    slack.ws.user_posts("U1", channel=dm, text="How do I rebuild trust with a partner we let down?")
    wait_until(lambda: _answered(slack, dm))
    exported = export_user(slack.settings, "T0TANDEM", "U1")
    [kept] = exported["recent_answers"]
    assert kept["question"].startswith("How do I rebuild trust") and kept["answer"]
    erase_user(slack.settings, "T0TANDEM", "U1")
    assert export_user(slack.settings, "T0TANDEM", "U1")["recent_answers"] == []


def test_a_dm_that_arrives_while_the_database_is_down_is_retried_not_lost(slack):
    from bot.db.engine import get_engine
    from bot.db.models import ProcessedEvent

    dm = slack.ws.open_dm("U1")
    body = message_event("U1", dm, "How do I rebuild trust with a partner?", ts="1764150009.000100")
    table = ProcessedEvent.__table__
    engine = get_engine(slack.settings)
    table.drop(engine)  # the event ledger is unreachable, as when the database is down
    try:
        first = post_event(slack.events_url, SECRET, body)
        assert first.status_code >= 500  # not processed: Slack will retry
    finally:
        table.create(engine)
    retry = post_event(
        slack.events_url, SECRET, body,
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"},
    )  # fmt: skip
    assert retry.status_code == 200
    wait_until(lambda: _answered(slack, dm))
    settle(1.0)
    assert len(_answered(slack, dm)) == 1
