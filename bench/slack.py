"""Slack transport: ack latency for 500 signed events, and event-to-answer time.

Baseline in the same run: the same uvicorn set-up with an endpoint that only returns 200,
which is the floor that loopback HTTP and the client impose.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from bench.harness import SECRET, indexed_settings, workspace_and_tandem
from tests.support.servers import ASGIServer
from tests.support.slack_signing import message_event, sign

console = Console()
EVENTS = 500


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

    with (
        indexed_settings() as settings,
        tempfile.TemporaryDirectory() as tmp,
        workspace_and_tandem(
            settings, database=Path(tmp) / "bench.db", slack_sends_per_second=0
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
        # One question, numbered so each DM is new: the answer path, not retrieval's spread.
        "event_to_answer": _percentiles(answer_times) | {"distinct_questions": 1},
    }
    b, t, a = result["baseline_ack"], result["tandem_ack"], result["event_to_answer"]
    console.print(
        f"HTTP ack over loopback, {EVENTS} signed events: Tandem p50 {t['p50_ms']:.1f} ms, p99 {t['p99_ms']:.1f} ms "
        f"(bare endpoint baseline p50 {b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms)"
    )
    console.print(
        f"DM event to posted answer (offline composer, {a['n']} DMs of one question): p50 {a['p50_ms']:.0f} ms, p95 {a['p95_ms']:.0f} ms"
    )
    return result
