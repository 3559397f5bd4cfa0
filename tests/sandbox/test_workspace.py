"""The sandbox workspace against real clients: slack_sdk's WebClient, and a receiving app that
checks every delivery's signature with slack_sdk's SignatureVerifier (plus one real Bolt app).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from sandbox.workspace import Workspace, WorkspaceServer

# Slow tier: the workspace server's own tests wait out Slack's timeouts and retries.
pytestmark = pytest.mark.slow

SECRET = "test-secret"
TOKEN = "xoxb-test"
BOT = "UTANDEMBOT"


@dataclass
class Received:
    """One request as the app saw it: lower-cased headers, raw body and its parsed form."""

    headers: dict[str, str]
    raw: str
    verified: bool

    @property
    def body(self) -> dict:
        if self.headers.get("content-type", "").startswith("application/json"):
            return json.loads(self.raw)
        form = dict(parse_qsl(self.raw))
        return json.loads(form["payload"]) if "payload" in form else form


class ReceivingApp:
    """Stands in for Tandem's ``POST /slack/events``: verifies, records, answers as told."""

    def __init__(self, signing_secret: str):
        self.verifier = SignatureVerifier(signing_secret)
        self.received: list[Received] = []
        self.answer = lambda request: (200, "")  # (status, str or JSON-able body)
        self.first_request_delay = 0.0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/slack/events"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def payloads(self, kind: str) -> list[dict]:
        """Bodies of the given top-level type (block_actions, view_submission, ...)."""
        return [r.body for r in self.received if r.body.get("type") == kind]

    def events(self, event_type: str | None = None) -> list[dict]:
        bodies = [r.body for r in self.received if r.body.get("type") == "event_callback"]
        return [b for b in bodies if event_type in (None, b["event"]["type"])]

    def _handler(self):
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = app.verifier.is_valid(
                    body=raw,
                    timestamp=headers["x-slack-request-timestamp"],
                    signature=headers["x-slack-signature"],
                )
                request = Received(headers, raw, verified)
                app.received.append(request)
                if len(app.received) == 1 and app.first_request_delay:
                    time.sleep(app.first_request_delay)
                status, body = app.answer(request) if verified else (401, "bad signature")
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                try:
                    self.send_response(status)
                    kind = "text/plain" if isinstance(body, str) else "application/json"
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # "Slack" stopped waiting, as it does after 3 seconds

            def log_message(self, *args):
                pass

        return Handler


class FakeClock:
    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ws():
    workspace = Workspace(signing_secret=SECRET, bot_token=TOKEN)
    workspace.add_user("U1", name="Amara Okafor", tz="Europe/London", organisation="Northshire ICB")
    workspace.add_user("U2", name="Tom Reed", tz="Europe/London", organisation="Westmoor Trust")
    workspace.add_channel("C1", name="leadership-circle", members=["U1", "U2"], bot_member=True)
    workspace.add_channel("C2", name="no-bot-here", members=["U1"], bot_member=False)
    yield workspace
    workspace.close()


@pytest.fixture
def server(ws):
    with WorkspaceServer(ws) as running:
        yield running


@pytest.fixture
def client(server):
    return WebClient(token=TOKEN, base_url=server.api_url)


@pytest.fixture
def app(ws, server):
    receiver = ReceivingApp(SECRET)
    receiver.start()
    ws.app_url = receiver.url
    yield receiver
    ws.wait_idle()
    receiver.stop()


def api_error(call, *args, **kwargs) -> dict:
    with pytest.raises(SlackApiError) as caught:
        call(*args, **kwargs)
    return caught.value.response.data


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


MODAL = {
    "type": "modal",
    "callback_id": "reflect",
    "title": {"type": "plain_text", "text": "Reflect"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "answer",
            "label": {"type": "plain_text", "text": "What went well?"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
        {
            "type": "input",
            "block_id": "mood",
            "label": {"type": "plain_text", "text": "Mood"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [
                    {"text": {"type": "plain_text", "text": "Good"}, "value": "good"},
                    {"text": {"type": "plain_text", "text": "Tired"}, "value": "tired"},
                ],
            },
        },
    ],
}


# ---- Web API ----------------------------------------------------------------------------------


def test_auth_test_identifies_the_bot(client, server):
    data = client.auth_test().data
    assert data["ok"] and data["user_id"] == BOT and data["bot_id"] == "BTANDEM"
    assert data["team_id"] == "T0TANDEM" and data["is_enterprise_install"] is False
    assert data["url"] == f"{server.url}/"


def test_post_message_lands_in_im_channel_and_thread(ws, client):
    dm = client.chat_postMessage(channel="U1", text="Welcome to Tandem")
    assert dm["channel"] == ws.open_dm("U1") and dm["channel"].startswith("D")
    assert ws.messages(dm["channel"])[0]["bot_id"] == "BTANDEM"

    root = client.chat_postMessage(channel="C1", text="Prompt of the week", blocks=[section("*Q*")])
    assert root["message"]["user"] == BOT and root["message"]["app_id"] == "A0TANDEM"
    client.chat_postMessage(channel="C1", text="A reply", thread_ts=root["ts"])

    [parent] = ws.messages("C1")
    assert parent["reply_count"] == 1 and parent["latest_reply"] > root["ts"]
    thread = ws.messages("C1", thread_ts=root["ts"])
    assert [m["text"] for m in thread] == ["Prompt of the week", "A reply"]
    replies = client.conversations_replies(channel="C1", ts=root["ts"])["messages"]
    assert [m["ts"] for m in replies] == [m["ts"] for m in thread]
    assert client.conversations_history(channel="C1")["messages"][0]["ts"] == root["ts"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "C404", "text": "x"}, "channel_not_found"),
        ({"channel": "C2", "text": "x"}, "not_in_channel"),
        ({"channel": "C1", "text": "x" * 40001}, "msg_too_long"),
        ({"channel": "C1", "text": "x", "blocks": [section("x")] * 51}, "invalid_blocks"),
        ({"channel": "C1", "text": "x", "blocks": [section("x" * 3001)]}, "invalid_blocks"),
        ({"channel": "C1", "text": "x", "blocks": "[{not json"}, "invalid_blocks_format"),
        ({"channel": "C1", "text": ""}, "no_text"),
    ],
    ids=["unknown", "not-member", "long-text", "51-blocks", "long-section", "bad-json", "empty"],
)
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_rejects_like_slack(client, kwargs, error):
    data = api_error(client.chat_postMessage, **kwargs)
    assert data["error"] == error
    if error == "invalid_blocks":
        assert data["errors"] and "json-pointer:/blocks" in data["errors"][0]


def test_bad_or_missing_token(server, ws):
    assert api_error(WebClient("xoxb-wrong", base_url=server.api_url).auth_test)["error"] == (
        "invalid_auth"
    )
    assert api_error(WebClient(base_url=server.api_url).auth_test)["error"] == "not_authed"
    assert api_error(WebClient(TOKEN, base_url=server.api_url).api_call, "no.such")["error"] == (
        "unknown_method"
    )
    assert [c["method"] for c in ws.calls] == ["auth.test", "auth.test", "no.such"]


def test_ratelimited_post_is_retried_by_slack_sdk_and_lands_once(ws, server):
    ws.fail_next("chat.postMessage", error="ratelimited", times=1, retry_after=1)
    retrying = WebClient(
        TOKEN, base_url=server.api_url, retry_handlers=[RateLimitErrorRetryHandler(2)]
    )
    assert retrying.chat_postMessage(channel="C1", text="once")["ok"]
    assert [m["text"] for m in ws.messages("C1")] == ["once"]
    assert [c["status"] for c in ws.calls_to("chat.postMessage")] == [429, 200]


def test_rate_limit_mode_and_injected_errors(ws, client):
    ws.rate_limit(per_channel_per_second=1.0)
    client.chat_postMessage(channel="C1", text="first")
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="too soon")
    response = caught.value.response
    retry_after = {k.lower(): v for k, v in response.headers.items()}["retry-after"]
    assert response.status_code == 429 and int(retry_after) >= 1
    assert response["error"] == "ratelimited"

    ws.rate_limit(None, None)
    ws.fail_next("chat.postMessage", error="internal_error")
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="x")
    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "internal_error"


def test_dropped_connections_and_timeouts_happen_after_the_call_was_carried_out(ws, server):
    ws.hang_seconds = 1.0
    no_retries = WebClient(TOKEN, base_url=server.api_url, timeout=0.3, retry_handlers=[])
    ws.drop_next("chat.postMessage", "reset", after=1)
    ws.drop_next("chat.postMessage", "timeout")
    assert no_retries.chat_postMessage(channel="C1", text="heard")["ok"]
    with pytest.raises(ConnectionResetError):
        no_retries.chat_postMessage(channel="C1", text="reset")
    with pytest.raises(TimeoutError):
        no_retries.chat_postMessage(channel="C1", text="timed out")
    assert no_retries.chat_postMessage(channel="C1", text="fine again")["ok"]
    # Slack acted on every call; the client only failed to hear about two of them.
    assert [m["text"] for m in ws.messages("C1")] == ["heard", "reset", "timed out", "fine again"]


def test_views_open_update_publish_and_trigger_rules(ws, client):
    clock = FakeClock()
    ws.clock = clock
    opened = client.views_open(trigger_id=ws.issue_trigger_id("U1"), view=MODAL)["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["state"] == {"values": {}}
    assert [v["id"] for v in ws.views("U1")] == [opened["id"]]

    changed = {**MODAL, "title": {"type": "plain_text", "text": "Reflect again"}}
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    stale = api_error(client.views_update, view_id=opened["id"], hash=opened["hash"], view=MODAL)
    assert stale["error"] == "hash_conflict"

    home = {"type": "home", "blocks": [section("Your reflections")]}
    published = client.views_publish(user_id="U1", view=home)["view"]
    assert ws.home_view("U1")["id"] == published["id"]

    late = ws.issue_trigger_id("U1")
    clock.now += 3.1
    assert api_error(client.views_open, trigger_id=late, view=MODAL)["error"] == (
        "expired_trigger_id"
    )
    used = ws.issue_trigger_id("U1")
    client.views_open(trigger_id=used, view=MODAL)
    assert api_error(client.views_open, trigger_id=used, view=MODAL)["error"] == (
        "trigger_exchanged"
    )
    assert api_error(client.views_open, trigger_id="1.2.3", view=MODAL)["error"] == (
        "invalid_trigger_id"
    )
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    bad = api_error(client.views_open, trigger_id=ws.issue_trigger_id("U1"), view=long_title)
    assert bad["error"] == "invalid_arguments"
    assert "/view/title/text" in bad["response_metadata"]["messages"][0]


def test_users_and_conversations(ws, client):
    user = client.users_info(user="U1")["user"]
    assert user["real_name"] == "Amara Okafor" and user["profile"]["title"] == "Northshire ICB"
    assert user["tz"] == "Europe/London" and user["tz_offset"] in (0, 3600)
    assert user["tz_label"] in ("Greenwich Mean Time", "British Summer Time")
    assert client.users_info(user=BOT)["user"]["is_bot"] is True
    assert api_error(client.users_info, user="U404")["error"] == "user_not_found"

    im = client.conversations_open(users="U1")["channel"]
    assert im["id"] == ws.open_dm("U1") and im["is_im"] is True
    group = client.conversations_open(users=["U1", "U2"])
    assert group["channel"]["id"].startswith("G") and group["channel"]["is_mpim"] is True
    again = client.conversations_open(users="U2,U1")
    assert again["channel"]["id"] == group["channel"]["id"] and again["already_open"] is True
    assert set(client.conversations_members(channel="C1")["members"]) == {"U1", "U2", BOT}
    info = client.conversations_info(channel="C2")["channel"]
    assert info["name"] == "no-bot-here" and info["is_member"] is False
    assert api_error(client.conversations_history, channel="C2")["error"] == "not_in_channel"
    client.conversations_join(channel="C2")
    assert client.chat_postMessage(channel="C2", text="joined")["ok"]


def test_update_delete_permalink_and_ephemeral(ws, client, app):
    posted = client.chat_postMessage(channel="C1", text="draft")
    client.chat_update(channel="C1", ts=posted["ts"], text="final")
    [message] = ws.messages("C1")
    assert message["text"] == "final" and message["edited"]["user"] == BOT
    link = client.chat_getPermalink(channel="C1", message_ts=posted["ts"])["permalink"]
    assert link.endswith(f"/archives/C1/p{posted['ts'].replace('.', '')}")
    client.chat_delete(channel="C1", ts=posted["ts"])
    assert ws.messages("C1") == []
    ws.wait_idle()
    subtypes = [e["event"].get("subtype") for e in app.events("message")]
    assert subtypes == [None, "message_changed", "message_deleted"]

    button = {"type": "button", "action_id": "ok", "text": {"type": "plain_text", "text": "OK"}}
    blocks = [{"type": "actions", "elements": [button]}]
    client.chat_postEphemeral(channel="C1", user="U1", text="Only you", blocks=blocks)
    [note] = ws.ephemeral("U1")
    assert note["text"] == "Only you" and note["channel"] == "C1" and ws.ephemeral("U2") == []
    ws.click_button("U1", note, action_id="ok")
    [payload] = app.payloads("block_actions")
    assert payload["container"]["is_ephemeral"] is True and "message" not in payload
    WebhookClient(payload["response_url"]).send(text="", delete_original=True)
    assert ws.ephemeral("U1") == []
    ws.add_user("U3", name="Sam Lee")
    error = api_error(client.chat_postEphemeral, channel="C1", user="U3", text="x")
    assert error["error"] == "user_not_in_channel"


def test_files_upload_flow_shares_the_file(ws, client):
    dm = ws.open_dm("U1")
    done = client.files_upload_v2(
        channel=dm, content="my notes", filename="notes.txt", title="Notes", initial_comment="Here"
    )
    assert done["file"]["title"] == "Notes"
    [stored] = ws.files("U1")
    assert stored["content"] == b"my notes" and stored["channel"] == dm
    [shared] = ws.messages(dm)
    assert shared["text"] == "Here" and shared["files"][0]["id"] == stored["id"]
    assert shared["files"][0]["ims"] == [dm]


def test_reactions(ws, client):
    posted = client.chat_postMessage(channel="C1", text="hi")
    client.reactions_add(channel="C1", timestamp=posted["ts"], name="wave")
    error = api_error(client.reactions_add, channel="C1", timestamp=posted["ts"], name="wave")
    assert error["error"] == "already_reacted"
    assert ws.reactions("C1", posted["ts"]) == [{"name": "wave", "users": [BOT], "count": 1}]
    client.reactions_remove(channel="C1", timestamp=posted["ts"], name="wave")
    error = api_error(client.reactions_remove, channel="C1", timestamp=posted["ts"], name="wave")
    assert error["error"] == "no_reaction"


# ---- deliveries to the app --------------------------------------------------------------------


def test_user_message_is_delivered_as_a_signed_event(ws, app):
    dm = ws.open_dm("U1")
    posted = ws.user_posts("U1", channel=dm, text="hello")
    ws.wait_idle()
    assert all(r.verified for r in app.received)
    [envelope] = app.events()
    assert envelope["type"] == "event_callback" and envelope["event_id"].startswith("Ev")
    assert envelope["api_app_id"] == "A0TANDEM" and envelope["team_id"] == "T0TANDEM"
    assert envelope["authorizations"][0]["user_id"] == BOT
    event = envelope["event"]
    assert event["type"] == "message" and event["channel_type"] == "im"
    assert (event["user"], event["text"], event["ts"]) == ("U1", "hello", posted["ts"])
    assert event["channel"] == dm and event["client_msg_id"] and event["team"] == "T0TANDEM"
    assert ws.deliveries[0]["status"] == 200 and ws.deliveries[0]["retry_num"] == 0


def test_bot_message_comes_back_with_bot_id(ws, client, app):
    client.chat_postMessage(channel=ws.open_dm("U1"), text="from the bot")
    ws.wait_idle()
    [envelope] = app.events("message")
    assert envelope["event"]["bot_id"] == "BTANDEM" and envelope["event"]["user"] == BOT


def test_mention_delivers_app_mention_and_message(ws, app):
    ws.user_mentions_bot("U1", channel="C1", text="how do I build trust?")
    ws.wait_idle()
    [mention] = app.events("app_mention")
    [message] = app.events("message")
    assert mention["event"]["text"] == f"<@{BOT}> how do I build trust?"
    assert message["event"]["channel_type"] == "channel"
    assert mention["event"]["ts"] == message["event"]["ts"]
    assert mention["event_id"] != message["event_id"]


def test_slow_app_gets_a_retry(ws, app):
    app.first_request_delay = 3.5
    ws.user_posts("U1", channel=ws.open_dm("U1"), text="are you there?")
    ws.wait_idle(timeout=10)
    first, retry = app.received
    assert first.raw == retry.raw and "x-slack-retry-num" not in first.headers
    assert retry.headers["x-slack-retry-num"] == "1"
    assert retry.headers["x-slack-retry-reason"] == "http_timeout"
    assert [(d["retry_num"], d["error"]) for d in ws.deliveries] == [(0, "http_timeout"), (1, None)]


def test_slash_command_trigger_and_response_url(ws, client, app):
    app.answer = lambda request: (200, {"text": "Here is some help"})
    response = ws.run_slash_command("U1", channel="C1", command="/tandem", text="help")
    assert response.status == 200 and response.json == {"text": "Here is some help"}
    [form] = [r.body for r in app.received if "command" in r.body]
    assert (form["command"], form["text"], form["user_id"], form["channel_id"]) == (
        "/tandem",
        "help",
        "U1",
        "C1",
    )
    assert ws.ephemeral("U1")[-1]["text"] == "Here is some help"

    client.views_open(trigger_id=form["trigger_id"], view=MODAL)  # a fresh trigger works
    assert len(ws.views("U1")) == 1

    WebhookClient(form["response_url"]).send(text="Shared with all", response_type="in_channel")
    assert ws.messages("C1")[-1]["text"] == "Shared with all"


def test_button_click_then_replace_original(ws, client, app):
    button = {
        "type": "button",
        "action_id": "join",
        "text": {"type": "plain_text", "text": "Join"},
        "value": "circle-1",
    }
    blocks = [section("Join the circle?"), {"type": "actions", "elements": [button]}]
    client.chat_postMessage(channel="C1", text="Join?", blocks=blocks)
    [message] = ws.messages("C1")
    assert ws.click_button("U2", message, action_id="join").status == 200
    [payload] = app.payloads("block_actions")
    assert payload["user"]["id"] == "U2"
    assert payload["container"] == {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": "C1",
        "is_ephemeral": False,
    }
    assert (
        payload["actions"][0]["value"] == "circle-1" and payload["message"]["ts"] == message["ts"]
    )
    assert payload["channel"] == {"id": "C1", "name": "leadership-circle"} and payload["trigger_id"]

    WebhookClient(payload["response_url"]).send(text="You joined", replace_original=True)
    [replaced] = ws.messages("C1")
    assert replaced["ts"] == message["ts"] and replaced["text"] == "You joined"
    assert "blocks" not in replaced


def test_view_submission_applies_response_action(ws, client, app):
    opened = client.views_open(trigger_id=ws.issue_trigger_id("U1"), view=MODAL)["view"]
    errors = {"response_action": "errors", "errors": {"answer": "Please write something"}}
    app.answer = lambda request: (200, errors)
    rejected = ws.submit_view("U1", opened["id"], values={"mood": {"pick": "tired"}})
    assert rejected.json == errors and [v["id"] for v in ws.views("U1")] == [opened["id"]]
    state = app.payloads("view_submission")[-1]["view"]["state"]["values"]
    assert state["answer"]["text"] == {"type": "plain_text_input", "value": None}
    assert state["mood"]["pick"]["selected_option"]["value"] == "tired"

    app.answer = lambda request: (200, "")
    submitted = ws.submit_view("U1", opened["id"], values={"answer": {"text": "We listened"}})
    assert submitted.status == 200 and ws.views("U1") == []
    payload = app.payloads("view_submission")[-1]
    assert payload["view"]["callback_id"] == "reflect"
    assert payload["view"]["state"]["values"]["answer"]["text"]["value"] == "We listened"


def test_modal_stack_push_update_and_clear(ws, client, app):
    root = client.views_open(trigger_id=ws.issue_trigger_id("U1"), view=MODAL)["view"]
    pushed = client.views_push(trigger_id=ws.issue_trigger_id("U1"), view=MODAL)["view"]
    assert pushed["previous_view_id"] == root["id"] and pushed["root_view_id"] == root["id"]

    retitled = {**MODAL, "title": {"type": "plain_text", "text": "Step 2"}}
    app.answer = lambda request: (200, {"response_action": "update", "view": retitled})
    ws.submit_view("U1", pushed["id"])
    assert [v["title"]["text"] for v in ws.views("U1")] == ["Reflect", "Step 2"]
    assert ws.views("U1")[1]["id"] == pushed["id"]

    app.answer = lambda request: (200, {"response_action": "push", "view": MODAL})
    ws.submit_view("U1", pushed["id"])
    assert len(ws.views("U1")) == 3
    app.answer = lambda request: (200, {"response_action": "clear"})
    ws.submit_view("U1", ws.views("U1")[-1]["id"])
    assert ws.views("U1") == []

    noisy = {**MODAL, "notify_on_close": True}
    closing = client.views_open(trigger_id=ws.issue_trigger_id("U1"), view=noisy)["view"]
    app.answer = lambda request: (200, "")
    assert ws.close_view("U1", closing["id"]).status == 200
    [closed] = app.payloads("view_closed")
    assert closed["view"]["id"] == closing["id"] and closed["is_cleared"] is False
    assert ws.views("U1") == []


def test_app_home_opened_and_home_interaction(ws, client, app):
    picker = {
        "type": "static_select",
        "action_id": "focus",
        "options": [
            {"text": {"type": "plain_text", "text": "Trust"}, "value": "trust"},
            {"text": {"type": "plain_text", "text": "Conflict"}, "value": "conflict"},
        ],
    }
    home = {"type": "home", "blocks": [{**section("Focus area"), "accessory": picker}]}
    client.views_publish(user_id="U1", view=home)
    ws.open_app_home("U1")
    ws.wait_idle()
    [opened] = app.events("app_home_opened")
    assert opened["event"]["tab"] == "home" and opened["event"]["channel"] == ws.open_dm("U1")
    assert opened["event"]["view"]["id"] == ws.home_view("U1")["id"]

    ws.click_button("U1", ws.home_view("U1"), action_id="focus", value="conflict")
    [payload] = app.payloads("block_actions")
    assert payload["container"] == {"type": "view", "view_id": ws.home_view("U1")["id"]}
    assert payload["actions"][0]["selected_option"]["value"] == "conflict"
    assert payload["view"]["type"] == "home" and "response_url" not in payload


def test_snapshot_round_trip(ws, client):
    client.chat_postMessage(channel="C1", text="keep me")
    client.files_upload_v2(channel="C1", content=b"\x00bytes", filename="a.bin")
    saved = json.loads(json.dumps(ws.snapshot()))
    fresh = Workspace(signing_secret=SECRET, bot_token=TOKEN)
    fresh.restore(saved)
    assert [m["text"] for m in fresh.messages("C1")] == ["keep me", ""]
    assert fresh.files()[0]["content"] == b"\x00bytes"


# ---- a real Bolt app --------------------------------------------------------------------------


def test_real_bolt_app_round_trip(ws, server):
    from slack_bolt import App
    from slack_bolt.adapter.starlette import SlackRequestHandler
    from starlette.applications import Starlette
    from starlette.routing import Route

    from sandbox.server import ServerThread

    bolt = App(token=TOKEN, signing_secret=SECRET, client=WebClient(TOKEN, base_url=server.api_url))

    @bolt.message("hello")
    def greet(message: dict[str, Any], say):
        say("Hi there!")

    @bolt.command("/tandem")
    def open_modal(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @bolt.view("reflect")
    def save(ack):
        ack()

    handler = SlackRequestHandler(bolt)

    async def events(request):
        return await handler.handle(request)

    runner = ServerThread(Starlette(routes=[Route("/slack/events", events, methods=["POST"])]))
    runner.start()
    try:
        ws.app_url = f"{runner.url}/slack/events"
        dm = ws.open_dm("U1")
        ws.user_posts("U1", channel=dm, text="hello")
        ws.wait_idle(quiet=0.3)
        assert [m["text"] for m in ws.messages(dm)] == ["hello", "Hi there!"]

        assert ws.run_slash_command("U1", channel="C1", command="/tandem").status == 200
        ws.wait_idle(quiet=0.3)
        [modal] = ws.views("U1")
        assert ws.submit_view("U1", modal["id"], {"answer": {"text": "ok"}}).status == 200
        assert ws.views("U1") == []
        assert all(d["status"] == 200 for d in ws.deliveries) and not ws.problems
    finally:
        runner.stop()
