"""Socket Mode through a local WebSocket server: the real slack_sdk Socket Mode client."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from websockets.sync.server import serve

from bot.app import build_app
from bot.guidance.service import GuidanceService
from bot.server import socket_mode_handler
from bot.slack.client import make_web_client
from sandbox.workspace import WorkspaceServer
from tests.slack_fixtures import make_workspace, slack_settings
from tests.support.slack_signing import message_event
from tests.support.waiting import wait_until


class SocketModeEndpoint:
    """apps.connections.open over HTTP, then a WebSocket that pushes one envelope."""

    def __init__(self, envelopes: list[dict]) -> None:
        self.envelopes = envelopes
        self.acks: list[dict] = []
        self.ws_server = serve(self._session, "127.0.0.1", 0)
        ws_port = self.ws_server.socket.getsockname()[1]
        url = f"ws://127.0.0.1:{ws_port}/link"

        class OpenHandler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = self.headers.get("Authorization") == "Bearer xapp-test-token"
                body = json.dumps(
                    {"ok": True, "url": url} if ok else {"ok": False, "error": "invalid_auth"}
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), OpenHandler)
        self.api_url = f"http://127.0.0.1:{self.http.server_port}/api/"
        for target in (self.ws_server.serve_forever, self.http.serve_forever):
            threading.Thread(target=target, daemon=True).start()

    def _session(self, connection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {}}))
        for envelope in self.envelopes:
            connection.send(json.dumps(envelope))
        deadline = time.time() + 10
        while time.time() < deadline and len(self.acks) < len(self.envelopes):
            try:
                self.acks.append(json.loads(connection.recv(timeout=1)))
            except TimeoutError:
                continue
            except Exception:
                return

    def close(self) -> None:
        self.ws_server.shutdown()
        self.http.shutdown()


def test_a_dm_delivered_over_socket_mode_is_acked_and_answered(kb_settings, tmp_path):
    ws = make_workspace()
    with WorkspaceServer(ws) as workspace_server:
        settings = slack_settings(kb_settings, workspace_server.api_url, tmp_path / "t.db")
        app = build_app(settings, guidance=GuidanceService(settings))
        dm = ws.open_dm("U1")
        body = message_event(
            "U1", dm, "How do I make space to think as a leader?", ts="1764150100.000100"
        )
        envelope = {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": body,
        }
        endpoint = SocketModeEndpoint([envelope])
        opener = make_web_client(settings.model_copy(update={"slack_api_url": endpoint.api_url}))
        handler = socket_mode_handler(app, "xapp-test-token", opener)
        try:
            handler.connect()
            wait_until(lambda: endpoint.acks)
            answers = wait_until(
                lambda: [
                    m
                    for m in ws.messages(dm)
                    if m.get("bot_id") and "Sources:" in m.get("text", "")
                ]
            )
        finally:
            handler.close()
            endpoint.close()
    assert endpoint.acks[0]["envelope_id"] == "env-1"
    assert len(answers) == 1
