"""The Web API client keeps its connection to Slack instead of opening one per call."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.client import make_web_client
from tests.conftest import make_settings


class CountingServer(ThreadingHTTPServer):
    """A keep-alive HTTP/1.1 stand-in for Slack that counts the connections it accepts."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.requests = 0
        self.answers: list[tuple[int, dict, dict]] = []  # queued (status, body, headers)
        self.close_after_next = False
        self.closed = threading.Event()  # set once the server has closed a connection

    def process_request(self, request, client_address):
        self.connections += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        super().shutdown_request(request)
        self.closed.set()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's naming)
        server: CountingServer = self.server
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server.requests += 1
        status, body, headers = server.answers.pop(0) if server.answers else (200, {"ok": True}, {})
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)
        if server.close_after_next:  # the server drops the idle connection, as Slack may
            server.close_after_next = False
            self.close_connection = True

    def log_message(self, *_args):
        pass


@pytest.fixture
def server():
    server = CountingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client_for(server, tmp_path):
    settings = make_settings(
        tmp_path, SLACK_API_URL=f"http://127.0.0.1:{server.server_address[1]}/api/"
    )
    return make_web_client(settings, "xoxb-test")


def test_consecutive_calls_share_one_connection(server, tmp_path):
    client = client_for(server, tmp_path)
    for n in range(5):
        assert client.chat_postMessage(channel="C1", text=f"hello {n}")["ok"]
    assert server.requests == 5
    assert server.connections == 1


def test_a_connection_the_server_closed_is_replaced_without_losing_the_call(server, tmp_path):
    client = client_for(server, tmp_path)
    server.close_after_next = True
    assert client.auth_test()["ok"]
    # Slack closes an idle connection some time after answering; wait until this one has
    # been closed (under load the next call could otherwise race the close itself).
    assert server.closed.wait(5)
    assert client.chat_postMessage(channel="C1", text="after the close")["ok"]
    assert server.requests == 2  # nothing was sent twice
    assert server.connections == 2


def test_error_statuses_still_reach_the_retry_handlers_and_the_caller(server, tmp_path):
    client = client_for(server, tmp_path)
    server.answers = [
        (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}),
        (200, {"ok": True}, {}),
        (200, {"ok": False, "error": "channel_not_found"}, {}),
    ]
    assert client.chat_postMessage(channel="C1", text="retried after the 429")["ok"]
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C404", text="refused")
    assert refused.value.response["error"] == "channel_not_found"
    assert server.requests == 3
    assert server.connections == 1
