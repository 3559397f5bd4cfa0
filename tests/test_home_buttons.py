"""Every App Home button, clicked: each `handle_*` called directly with the body Slack sends.

The local Slack-compatible workspace builds each body, exactly as it would for the app (its
`app_url` is a small recorder here instead of Tandem's endpoint); a real `slack_sdk.WebClient`
answers through that workspace, and the database is a real SQLite file. Each test asserts on
what changed: the leader's row, the App Home published, the modal opened, the file or
message sent. The full Bolt round trip (acks, lazy listeners) is tested in test_ack_fast.py
and test_screens.py.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from slack_bolt.context import BoltContext
from slack_bolt.context.ack import Ack
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot import clock
from bot.guidance.service import GuidanceService
from bot.listeners.actions import home, peers
from bot.listeners.context import Services
from bot.listeners.events.home import handle_home_opened
from bot.listeners.views import personal as personal_views
from bot.peers import preferences
from bot.privacy import erase_user
from bot.reflection.leaders import get_leader
from bot.ui import peers as peers_ui
from sandbox.workspace import Workspace, WorkspaceServer
from tests.conftest import make_settings
from tests.slack_fixtures import BOT, TOKEN, make_workspace

TEAM = "T0TANDEM"
LONDON = ZoneInfo("Europe/London")


@dataclass
class Received:
    """What the workspace sent the app: interactivity payloads and Events API bodies."""

    interactions: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)


def _recorder(received: Received) -> ThreadingHTTPServer:
    """Stands where Tandem's endpoint would be: keeps each body and answers 200 at once."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers["Content-Type"].startswith("application/json"):
                received.events.append(json.loads(raw))
            else:
                received.interactions.append(json.loads(parse_qs(raw.decode())["payload"][0]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@dataclass
class Slack:
    ws: Workspace
    client: WebClient
    services: Services
    received: Received

    @property
    def settings(self):
        return self.services.settings

    def open_home(self, user: str) -> dict:
        """The person opens App Home; the `app_home_opened` body Slack sends."""
        self.ws.open_app_home(user)
        self.ws.wait_idle()
        return [b for b in self.received.events if b["event"]["type"] == "app_home_opened"][-1]

    def click(self, user: str, action_id: str) -> dict:
        """The person clicks a button on their App Home as it stands; the body Slack sends."""
        self.ws.click_button(user, self.ws.home_view(user), action_id)
        return self.received.interactions[-1]

    def submit(self, user: str, values: dict | None = None) -> dict:
        """The person submits their open modal; the body Slack sends."""
        [modal] = self.ws.views(user)
        self.ws.submit_view(user, modal["id"], values)
        return self.received.interactions[-1]

    def home_text(self, user: str) -> str:
        return json.dumps(self.ws.home_view(user))

    def leader(self, user: str = "U1"):
        return get_leader(self.settings, TEAM, user)


@pytest.fixture
def slack(tmp_path):
    received = Received()
    recorder = _recorder(received)
    threading.Thread(target=recorder.serve_forever, args=(0.05,), daemon=True).start()
    ws = make_workspace()
    ws.app_url = f"http://127.0.0.1:{recorder.server_port}/slack/events"
    with WorkspaceServer(ws) as server:
        settings = make_settings(tmp_path)
        services = Services(settings=settings, guidance=GuidanceService(settings))
        yield Slack(ws, WebClient(token=TOKEN, base_url=server.api_url), services, received)
        ws.wait_idle()
    recorder.shutdown()
    recorder.server_close()


def _home_opened(slack: Slack, user: str = "U1") -> None:
    body = slack.open_home(user)
    context = BoltContext(team_id=TEAM, bot_user_id=BOT)
    handle_home_opened(slack.services, body["event"], body, slack.client, context)


def _joined(slack: Slack, user: str = "U1") -> None:
    _home_opened(slack, user)
    home.handle_join(slack.services, slack.click(user, "home_join"), slack.client)


# --- opening App Home, and joining ------------------------------------------------------------


def test_opening_app_home_welcomes_a_first_visit_then_welcomes_back(slack):
    _home_opened(slack)
    assert "Welcome to Tandem" in slack.home_text("U1")
    assert "home_join" in slack.home_text("U1")
    _home_opened(slack)  # Slack now sends the published view: not a first visit
    assert "Good to see you again" in slack.home_text("U1")


def test_join_enrols_with_the_slack_name_and_time_zone_and_redraws_home(slack):
    _home_opened(slack)
    assert slack.leader() is None
    home.handle_join(slack.services, slack.click("U1", "home_join"), slack.client)
    leader = slack.leader()
    assert (leader.status, leader.display_name, leader.time_zone) == (
        "active",
        "Amara Okafor",
        "Europe/London",
    )
    page = slack.home_text("U1")
    assert "home_join" not in page and "home_settings" in page and "Next:" in page


# --- the schedule's buttons ---------------------------------------------------------------------


def test_skip_next_then_dont_skip(slack):
    _joined(slack)
    home.handle_skip(slack.services, slack.click("U1", "home_skip"), slack.client)
    assert slack.leader().skip_next is True
    assert "skipping the one on" in slack.home_text("U1")
    home.handle_unskip(slack.services, slack.click("U1", "home_unskip"), slack.client)
    assert slack.leader().skip_next is False
    assert "skipping" not in slack.home_text("U1") and "home_skip" in slack.home_text("U1")


def test_snooze_an_hour_then_end_the_snooze(slack):
    _joined(slack)
    before = clock.utcnow()
    home.handle_snooze_hour(slack.services, slack.click("U1", "home_snooze_hour"), slack.client)
    snoozed = slack.leader().snoozed_until
    assert before + dt.timedelta(hours=1) <= snoozed <= clock.utcnow() + dt.timedelta(hours=1)
    assert "Snoozed until" in slack.home_text("U1") and "home_unsnooze" in slack.home_text("U1")
    home.handle_unsnooze(slack.services, slack.click("U1", "home_unsnooze"), slack.client)
    assert slack.leader().snoozed_until is None
    assert "Snoozed until" not in slack.home_text("U1")


def test_snooze_to_tomorrow_lasts_until_tomorrow_at_the_usual_time(slack):
    _joined(slack)
    today = dt.datetime.now(LONDON).date()
    home.handle_snooze_tomorrow(
        slack.services, slack.click("U1", "home_snooze_tomorrow"), slack.client
    )
    local = slack.leader().snoozed_until.replace(tzinfo=dt.UTC).astimezone(LONDON)
    tomorrow = {today + dt.timedelta(days=1), dt.datetime.now(LONDON).date() + dt.timedelta(days=1)}
    assert local.date() in tomorrow and f"{local:%H:%M}" == "09:30"
    assert "at 09:30: nothing arrives before then" in slack.home_text("U1")


def test_change_schedule_opens_the_settings_form_and_saving_it_redraws_home(slack):
    _joined(slack)
    ack = Ack()
    home.handle_open_settings(slack.services, ack, slack.click("U1", "home_settings"), slack.client)
    assert ack.response.status == 200
    [modal] = slack.ws.views("U1")
    assert modal["callback_id"] == "checkin_settings"

    body = slack.submit("U1", {"day": {"v": "tue"}, "time": {"v": "07:30"}})
    ack = Ack()
    personal_views.handle_check_settings(ack, body["view"])
    assert ack.response.status == 200 and not ack.response.body  # no errors on the form
    personal_views.handle_save_settings(slack.services, body, body["view"], slack.client)
    leader = slack.leader()
    assert (leader.day, leader.local_time) == ("tue", "07:30")
    assert "*Tuesday* at *07:30*" in slack.home_text("U1")


def test_pause_opens_a_date_form_that_refuses_today_then_pauses_and_resume_ends_it(slack):
    _joined(slack)
    ack = Ack()
    home.handle_open_pause(slack.services, ack, slack.click("U1", "home_pause"), slack.client)
    assert ack.response.status == 200
    [modal] = slack.ws.views("U1")
    assert modal["callback_id"] == "checkin_pause"

    today = clock.utcnow().date()
    body = slack.submit("U1", {"until": {"v": today.isoformat()}})
    ack = Ack()
    personal_views.handle_check_pause(ack, body["view"])
    assert json.loads(ack.response.body)["errors"] == {"until": "Pick a date after today."}

    # The recorder acks without the errors, so the form closed: open it again.
    home.handle_open_pause(slack.services, Ack(), slack.click("U1", "home_pause"), slack.client)
    until = today + dt.timedelta(days=10)
    body = slack.submit("U1", {"until": {"v": until.isoformat()}})
    ack = Ack()
    personal_views.handle_check_pause(ack, body["view"])
    assert not ack.response.body
    personal_views.handle_save_pause(slack.services, body, body["view"], slack.client)
    assert slack.leader().paused_until == until
    assert f"Paused until {until:%d %b %Y}" in slack.home_text("U1")

    home.handle_resume(slack.services, slack.click("U1", "home_resume"), slack.client)
    assert slack.leader().paused_until is None
    assert "Paused until" not in slack.home_text("U1") and "home_pause" in slack.home_text("U1")


def test_leave_check_ins_stops_them_and_offers_join_again(slack):
    _joined(slack)
    home.handle_leave(slack.services, slack.click("U1", "home_leave"), slack.client)
    assert slack.leader().status == "left"
    assert "home_join" in slack.home_text("U1") and "home_leave" not in slack.home_text("U1")


def test_the_schedule_forms_do_not_open_from_a_stale_home_once_the_data_is_erased(slack):
    _joined(slack)
    erase_user(slack.settings, TEAM, "U1")  # App Home still shows the schedule's buttons
    for action_id, handler in (
        ("home_settings", home.handle_open_settings),
        ("home_pause", home.handle_open_pause),
    ):
        ack = Ack()
        handler(slack.services, ack, slack.click("U1", action_id), slack.client)
        assert ack.response.status == 200
    assert slack.ws.views("U1") == []


# --- what Tandem holds: export and erase -------------------------------------------------------


def test_export_sends_a_json_file_of_everything_held_into_the_dm(slack):
    _joined(slack)
    home.handle_export(slack.services, slack.click("U1", "home_export"), slack.client)
    [sent] = slack.ws.files("U1")
    assert sent["name"].startswith("tandem-export-") and sent["name"].endswith(".json")
    assert sent["channel"] == slack.ws.open_dm("U1")
    exported = json.loads(sent["content"])
    assert exported["leader"]["display_name"] == "Amara Okafor"


def test_erase_opens_a_confirmation_and_confirming_erases_the_data_and_the_exports(slack):
    _joined(slack)
    home.handle_export(slack.services, slack.click("U1", "home_export"), slack.client)
    assert len(slack.ws.files("U1")) == 1

    ack = Ack()
    home.handle_open_forget(ack, slack.click("U1", "home_forget"), slack.client)
    assert ack.response.status == 200
    [modal] = slack.ws.views("U1")
    assert modal["callback_id"] == "forget_confirm"

    body = slack.submit("U1")
    context = BoltContext(team_id=TEAM, bot_user_id=BOT)
    personal_views.handle_confirm_forget(slack.services, body, slack.client, context)
    assert slack.leader() is None
    assert slack.ws.files("U1") == []  # the export file was deleted too
    said = slack.ws.messages(slack.ws.open_dm("U1"))[-1]["text"]
    assert said.startswith("Done. I've erased everything I held about you, including the export")
    assert "home_join" in slack.home_text("U1")


# --- the "Meet a peer" section ------------------------------------------------------------------


def _opted_in(slack: Slack, **choices) -> None:
    preferences.save_choices(
        slack.settings,
        TEAM,
        "U1",
        cadence="monthly",
        prefer_other_org=True,
        want=[],
        offer=[],
        exclusions=[],
        **choices,
    )


def test_meet_a_peer_opens_the_preferences_form_from_app_home(slack):
    _home_opened(slack)
    ack = Ack()
    body = slack.click("U1", peers_ui.ACTION_OPEN)
    peers.handle_open_preferences(slack.services, ack, body, slack.client)
    assert ack.response.status == 200
    [modal] = slack.ws.views("U1")
    assert modal["callback_id"] == peers_ui.CALLBACK_PREFERENCES
    assert json.loads(modal["private_metadata"]) == {"channel": None}  # from App Home


def test_leaving_and_resuming_peer_introductions_redraw_app_home(slack):
    _opted_in(slack, paused_until=clock.utcnow().date() + dt.timedelta(days=30))
    _home_opened(slack)
    # From App Home there is no message to replace: a call to respond would fail here.
    respond = Respond(response_url=None)

    body = slack.click("U1", peers_ui.ACTION_RESUME)
    peers.handle_resume(slack.services, body, slack.client, respond)
    assert preferences.get_choices(slack.settings, TEAM, "U1").paused_until is None
    assert peers_ui.ACTION_RESUME not in slack.home_text("U1")

    body = slack.click("U1", peers_ui.ACTION_LEAVE)
    peers.handle_leave(slack.services, body, slack.client, respond)
    assert preferences.get_choices(slack.settings, TEAM, "U1").opted_in is False
    assert "stepped back from peer introductions" in slack.home_text("U1")
