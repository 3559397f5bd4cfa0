"""Operations: readiness, Prometheus metrics without per-person labels, structured logs."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest

from bot.app import build_app
from bot.guidance.service import GuidanceService
from bot.logging_setup import configure_logging
from bot.server import Warmup, create_http_app
from sandbox.workspace import WorkspaceServer
from tests.slack_fixtures import make_workspace, running_tandem, slack_settings
from tests.support.servers import ASGIServer
from tests.support.waiting import wait_until


@pytest.mark.slow
def test_readyz_checks_database_index_and_slack(kb_settings, tmp_path):
    ws = make_workspace()
    with WorkspaceServer(ws) as workspace_server:
        settings = slack_settings(kb_settings, workspace_server.api_url, tmp_path / "r.db")
        app = build_app(settings, guidance=GuidanceService(settings))
        with ASGIServer(create_http_app(app, settings=settings)) as tandem:
            ready = httpx.get(tandem.url + "/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {"database": True, "index": True, "slack": True}
    broken = slack_settings(kb_settings, "http://127.0.0.1:9/api/", tmp_path / "r2.db")
    app = build_app(broken, guidance=GuidanceService(broken), token_verification_enabled=False)
    with ASGIServer(create_http_app(app, settings=broken)) as tandem:
        not_ready = httpx.get(tandem.url + "/readyz", timeout=30)
        assert not_ready.status_code == 503 and not_ready.json()["checks"]["slack"] is False
        assert httpx.get(tandem.url + "/healthz").status_code == 200  # alive, just not ready


def test_readyz_says_warming_until_the_guidance_engine_is_warm(kb_settings, tmp_path):
    ws = make_workspace()
    with WorkspaceServer(ws) as workspace_server:
        settings = slack_settings(kb_settings, workspace_server.api_url, tmp_path / "w.db")
        guidance = GuidanceService(settings)
        warmup = Warmup(guidance)
        app = build_app(settings, guidance=guidance)
        with ASGIServer(create_http_app(app, settings=settings, warmup=warmup)) as tandem:
            warming = httpx.get(tandem.url + "/readyz", timeout=30)
            assert warming.status_code == 503
            assert warming.json()["checks"]["index"] == "warming"
            assert warmup.start().done.wait(300) and warmup.ok
            warm = httpx.get(tandem.url + "/readyz", timeout=30)
            assert warm.status_code == 200 and warm.json()["checks"]["index"] is True


def test_readyz_is_not_ready_when_warming_fails(kb_settings, tmp_path):
    ws = make_workspace()
    with WorkspaceServer(ws) as workspace_server:
        settings = slack_settings(kb_settings, workspace_server.api_url, tmp_path / "f.db")
        warmup = Warmup(guidance=None).start()  # nothing to warm: warm() fails at once
        app = build_app(settings, guidance=GuidanceService(settings))
        with ASGIServer(create_http_app(app, settings=settings, warmup=warmup)) as tandem:
            assert warmup.done.wait(30) and not warmup.ok
            failed = httpx.get(tandem.url + "/readyz", timeout=30)
            assert failed.status_code == 503 and failed.json()["checks"]["index"] is False


def test_metrics_count_events_calls_and_sends_with_no_per_person_labels(kb_settings, tmp_path):
    with running_tandem(kb_settings, tmp_path) as slack:
        dm = slack.ws.open_dm("U1")
        slack.ws.user_posts("U1", channel=dm, text="How do I build trust with partners?")
        wait_until(lambda: [m for m in slack.bot_messages(dm) if "Sources:" in m.get("text", "")])
        metrics = httpx.get(slack.url + "/metrics").text
    assert 'tandem_events_received_total{kind="events:message"}' in metrics
    assert "tandem_ack_seconds_bucket" in metrics
    assert 'tandem_slack_api_calls_total{method="chat.postMessage",outcome="ok"}' in metrics
    assert 'tandem_sends_total{kind="answer",outcome="ok"}' in metrics
    assert "tandem_retrieval_seconds_count" in metrics
    for private in ("U1", dm, "Amara", "trust with partners"):
        assert private not in metrics


def test_json_logs_carry_request_ids_and_no_secrets(kb_settings, tmp_path):
    stream = io.StringIO()
    handler = configure_logging("INFO", stream=stream, fmt="json")
    try:
        with running_tandem(kb_settings, tmp_path) as slack:
            logging.getLogger("slack_bolt.tandem").error("token xoxb-123-456-abc leaked?")
            response = httpx.post(
                slack.url + "/slack/events", content=b"{}", headers={"X-Request-Id": "req-42"}
            )
            assert response.status_code == 401
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert lines and all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    assert "xoxb-123-456-abc" not in stream.getvalue()
    assert any(line.get("request_id") == "req-42" for line in lines)


def test_serve_listens_on_loopback_unless_told_otherwise():
    import inspect

    from bot.cli.serve import serve

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"


def test_uvicorn_tracebacks_go_through_the_redacting_handler(monkeypatch):
    import io
    import logging

    import uvicorn

    from bot.logging_setup import configure_logging
    from bot.server import serve_http

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    serve_http(object.__new__(type("FakeApp", (), {"_signing_secret": "s"})), "127.0.0.1", 0)
    assert seen["log_config"] is None  # no handlers of uvicorn's own

    # As in a fresh `tandem serve` process: uvicorn's loggers untouched by any log_config
    # (other tests in this process run uvicorn with its default config, which stops them
    # propagating).
    for name in ("uvicorn", "uvicorn.error"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
        monkeypatch.setattr(logging.getLogger(name), "handlers", [])
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    stream = io.StringIO()
    handler = configure_logging("INFO", stream=stream, fmt="json")
    try:
        try:
            raise ValueError("reflection-canary in a request body")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    finally:
        logging.getLogger().removeHandler(handler)
    line = stream.getvalue()
    assert '"logger": "uvicorn.error"' in line and "reflection-canary" not in line
