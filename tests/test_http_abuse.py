"""The HTTP front door under abuse: signatures first, then careful parsing, bounded metrics.

Every request goes over real HTTP to the real Tandem server (uvicorn + Starlette + Bolt).
Unsigned or badly signed: 401, whatever the body. Signed but unreadable: 400, and never a
traceback. Too big: 413. Metric labels come from a fixed set, so junk cannot grow them.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import httpx
import pytest

from tests.slack_fixtures import SECRET, running_tandem
from tests.support.slack_signing import sign

# Slow tier: the HTTP abuse set against the running app (one test floods it).
pytestmark = pytest.mark.slow

MALFORMED = {
    "malformed json": (b'{"type": "event_callback", "event": {', "application/json"),
    "a json array": (b'[{"type": "event_callback"}]', "application/json"),
    "not utf-8": (b'{"type": "\xff\xfe"}', "application/json"),
    "deeply nested json": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "payload that is not json": (
        b"payload=%7Bnot+json",
        "application/x-www-form-urlencoded",
    ),
    "view submission without a view type": (
        urlencode({"payload": json.dumps({"type": "view_submission", "view": {}})}).encode(),
        "application/x-www-form-urlencoded",
    ),
    "event that is not an object": (
        b'{"type": "event_callback", "event": "hello"}',
        "application/json",
    ),
    "neither json nor a form": (b"hello there", "text/plain"),
}


@pytest.fixture(scope="module")
def tandem(kb_settings, tmp_path_factory):
    with running_tandem(kb_settings, tmp_path_factory.mktemp("abuse")) as harness:
        yield harness


def _signed(body: bytes, timestamp: int | None = None) -> dict:
    ts = int(time.time()) if timestamp is None else timestamp
    import hashlib
    import hmac

    base = f"v0:{ts}:".encode() + body
    signature = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_unsigned_malformed_requests_get_401_without_a_traceback(tandem, case, caplog):
    body, content_type = MALFORMED[case]
    caplog.set_level(logging.DEBUG)
    response = httpx.post(tandem.events_url, content=body, headers={"Content-Type": content_type})
    assert response.status_code == 401
    assert not any(record.exc_info for record in caplog.records)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_signed_but_malformed_requests_get_400_without_a_traceback(tandem, case, caplog):
    body, content_type = MALFORMED[case]
    caplog.set_level(logging.DEBUG)
    response = httpx.post(
        tandem.events_url, content=body, headers={"Content-Type": content_type, **_signed(body)}
    )
    assert response.status_code == 400, response.text
    assert not any(record.exc_info for record in caplog.records)


def test_a_non_numeric_timestamp_is_refused_not_acknowledged(tandem):
    raw = b'{"type": "event_callback", "event": {"type": "message"}}'
    headers = {**sign(SECRET, raw.decode()), "Content-Type": "application/json"}
    headers["X-Slack-Request-Timestamp"] = "soon"
    assert httpx.post(tandem.events_url, content=raw, headers=headers).status_code == 401


def test_a_body_over_one_mebibyte_is_refused_with_413(tandem):
    body = b'{"type": "event_callback", "padding": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = httpx.post(
        tandem.events_url,
        content=body,
        headers={"Content-Type": "application/json", **_signed(body)},
    )
    assert response.status_code == 413


def test_metric_labels_cannot_be_grown_from_outside(tandem):
    def series() -> int:
        text = httpx.get(tandem.url + "/metrics").text
        return sum(1 for line in text.splitlines() if line.startswith("tandem_events_received"))

    before = series()
    for n in range(300):
        body = json.dumps({"type": "event_callback", "event": {"type": f"made-up-{n}"}}).encode()
        httpx.post(tandem.events_url, content=body, headers={"Content-Type": "application/json"})
        signed = json.dumps({"type": f"junk-{n}", "event": {"type": f"junk-{n}"}}).encode()
        httpx.post(
            tandem.events_url,
            content=signed,
            headers={"Content-Type": "application/json", **_signed(signed)},
        )
    assert series() - before <= 4  # at most "rejected" and "events:other" (with _created)
