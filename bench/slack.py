"""Slack transport: ack latency for 500 signed events, acks under a burst of the requests
that do work, and event-to-answer time.

Baseline in the same run: the same uvicorn set-up with an endpoint that only returns 200,
which is the floor that loopback HTTP and the client impose, sent the same requests the
same way (one after another, then the same burst).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import httpx
from rich.console import Console
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from bench.harness import SECRET, bench_workspace, indexed_settings, workspace_and_tandem
from tests.support.servers import ASGIServer
from tests.support.slack_signing import message_event, sign

console = Console()
EVENTS = 500
BURST = 600  # requests in the burst: a third each DM questions, slash commands, button clicks
BURST_CLIENTS = 16  # sent this many at a time
TEAM = "T0BENCH"  # the stand-in workspace of bench.harness


def _percentiles(samples: list[float]) -> dict:
    from bench.run import percentiles

    return percentiles(samples)


def _post_all(url: str, bodies: list[dict]) -> list[float]:
    timings = []
    with httpx.Client(timeout=10) as client:
        for body in bodies:
            raw = json.dumps(body)
            headers = {"Content-Type": "application/json", **sign(SECRET, raw)}
            started = time.perf_counter()
            response = client.post(url, content=raw, headers=headers)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
    return timings


def _burst_requests(ws) -> list[tuple[str, str, str]]:
    """(kind, content type, body): DMs that each get an answer, `/tandem` commands and App
    Home button clicks, interleaved, each from one of 40 people."""
    requests = []
    for n in range(BURST // 3):
        user = f"U{n % 40:05d}"
        dm_channel = ws.open_dm(user)
        dm = message_event(
            user,
            dm_channel,
            f"How do I rebuild trust with a partner after a setback? ({n})",
            ts=f"1764300000.{n:06d}",
            team_id=TEAM,
        )
        requests.append(("DM that gets an answer", "application/json", json.dumps(dm)))
        command = {
            "command": "/tandem",
            "text": ("help", "journal", "peers")[n % 3],
            "team_id": TEAM,
            "user_id": user,
            "channel_id": dm_channel,
            "trigger_id": ws.issue_trigger_id(user),
            "response_url": ws.issue_response_url(user, dm_channel),
        }
        requests.append(("slash command", "application/x-www-form-urlencoded", urlencode(command)))
        click = {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A0TANDEM",
            "trigger_id": ws.issue_trigger_id(user),
            "container": {"type": "view", "view_id": f"V{n:06d}"},
            "view": {"id": f"V{n:06d}", "type": "home", "blocks": []},
            "actions": [
                {
                    "action_id": ("home_skip", "home_unskip", "home_snooze_hour")[n % 3],
                    "block_id": "home",
                    "type": "button",
                    "value": "x",
                    "action_ts": f"1764300000.{n:06d}",
                }
            ],
        }
        form = urlencode({"payload": json.dumps(click)})
        requests.append(("button click", "application/x-www-form-urlencoded", form))
    return requests


def _burst(url: str, requests: list[tuple[str, str, str]]) -> dict[str, list[float]]:
    """Send every request, BURST_CLIENTS at a time; each ack's latency by kind."""

    def send(item, client):
        kind, content_type, body = item
        headers = {"Content-Type": content_type, **sign(SECRET, body)}
        started = time.perf_counter()
        response = client.post(url, content=body, headers=headers)
        assert response.status_code == 200, (kind, response.status_code)
        return kind, time.perf_counter() - started

    by_kind: dict[str, list[float]] = {}
    limits = httpx.Limits(max_connections=BURST_CLIENTS)
    with (
        httpx.Client(timeout=30, limits=limits) as client,
        ThreadPoolExecutor(BURST_CLIENTS) as pool,
    ):
        for kind, seconds in pool.map(lambda item: send(item, client), requests):
            by_kind.setdefault(kind, []).append(seconds)
    by_kind["all"] = [s for kind in list(by_kind) for s in by_kind[kind]]
    return by_kind


def run() -> dict:
    async def ok(_request):
        return Response("")

    bodies = [
        message_event(
            f"U{n % 5:05d}",
            f"D{n:07d}",
            "How do I build trust?",
            ts=f"1764200000.{n:06d}",
            channel_type="channel",
        )
        for n in range(EVENTS)
    ]
    with ASGIServer(Starlette(routes=[Route("/slack/events", ok, methods=["POST"])])) as bare:
        baseline = _post_all(bare.url + "/slack/events", bodies)
        baseline_burst = _burst(bare.url + "/slack/events", _burst_requests(bench_workspace(40)))

    with (
        indexed_settings() as settings,
        tempfile.TemporaryDirectory() as tmp,
        workspace_and_tandem(
            settings,
            users=40,
            database=Path(tmp) / "bench.db",
            slack_sends_per_second=0,
            **(
                {"slack_worker_threads": int(os.environ["BENCH_WORKERS"])}
                if os.environ.get("BENCH_WORKERS")
                else {}
            ),
        ) as (ws, _s, tandem),
    ):
        # Channel messages outside Tandem's threads: Tandem acks and does nothing else,
        # so this measures the ack path (signature, dedupe claim in the database, ack).
        _post_all(tandem.url + "/slack/events", bodies[:20])  # warm-up (auth.test, pools)
        fresh = [
            dict(b, event_id=b["event_id"] + "X", event=dict(b["event"], ts=b["event"]["ts"] + "1"))
            for b in bodies
        ]
        acks = _post_all(tandem.url + "/slack/events", fresh)
        burst_acks = _burst(tandem.url + "/slack/events", _burst_requests(ws))
        ws.wait_idle(timeout=300, quiet=1.0)  # the burst's answers are all out before timing one

        answer_times = []
        for n in range(30):
            dm = ws.open_dm(f"U{n % 5:05d}")
            before = len([m for m in ws.messages(dm) if m.get("bot_id")])
            started = time.perf_counter()
            ws.user_posts(
                f"U{n % 5:05d}", channel=dm, text=f"How can I support a peer under pressure? ({n})"
            )
            while True:
                answered = [
                    m
                    for m in ws.messages(dm)
                    if m.get("bot_id") and "Sources:" in m.get("text", "")
                ]
                if len(answered) > before:
                    break
                time.sleep(0.002)
            answer_times.append(time.perf_counter() - started)

    result = {
        "events": EVENTS,
        "baseline_ack": _percentiles(baseline),
        "tandem_ack": _percentiles(acks),
        "burst": {
            "requests": BURST,
            "at_once": BURST_CLIENTS,
            "baseline": _percentiles(baseline_burst["all"]),
            "tandem": {kind: _percentiles(samples) for kind, samples in burst_acks.items()},
        },
        # One question, numbered so each DM is new: the answer path, not retrieval's spread.
        "event_to_answer": _percentiles(answer_times) | {"distinct_questions": 1},
    }
    b, t, a = result["baseline_ack"], result["tandem_ack"], result["event_to_answer"]
    console.print(
        f"HTTP ack over loopback, {EVENTS} signed events: Tandem p50 {t['p50_ms']:.1f} ms, p99 {t['p99_ms']:.1f} ms "
        f"(bare endpoint baseline p50 {b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms)"
    )
    burst_result = result["burst"]
    for kind, figures in burst_result["tandem"].items():
        console.print(
            f"Burst of {BURST} ({BURST_CLIENTS} at a time), {kind}: ack p50 {figures['p50_ms']:.1f} ms, "
            f"p99 {figures['p99_ms']:.1f} ms (n={figures['n']})"
        )
    base = burst_result["baseline"]
    console.print(
        f"  bare endpoint, same burst: p50 {base['p50_ms']:.1f} ms, p99 {base['p99_ms']:.1f} ms"
    )
    console.print(
        f"DM event to posted answer (offline composer, {a['n']} DMs of one question): p50 {a['p50_ms']:.0f} ms, p95 {a['p95_ms']:.0f} ms"
    )
    return result
