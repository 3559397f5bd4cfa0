"""Many replicas on one PostgreSQL: exactly-once check-ins, fail-over of the scheduler role."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import insert

from bot.db.engine import get_engine
from bot.db.models import Leader
from bot.schedule import DAYS
from sandbox.workspace import Workspace, WorkspaceServer
from tests.conftest import make_settings
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
SECRET, TOKEN, TEAM = "replica-secret", "xoxb-replica-token", "T0REPLICA"


def _workspace(leaders: int) -> Workspace:
    ws = Workspace(
        signing_secret=SECRET,
        bot_token=TOKEN,
        team_id=TEAM,
        bot_user_id="UTANDEMBOT",
        bot_id="BTANDEM",
        app_id="A0TANDEM",
    )
    for n in range(leaders):
        ws.add_user(
            f"U{n:05d}", name=f"Leader {n}", tz="Europe/London", organisation=f"Org {n % 30}"
        )
    return ws


def _enrol_all_due_now(database_url: str, tmp_path, leaders: int) -> None:
    """Leaders whose check-in time was three minutes ago, London time."""
    moment = dt.datetime.now(ZoneInfo("Europe/London")) - dt.timedelta(minutes=3)
    settings = make_settings(tmp_path / "seed", DATABASE_URL=database_url)
    rows = [
        {
            "team_id": TEAM,
            "slack_user_id": f"U{n:05d}",
            "display_name": f"Leader {n}",
            "organisation": f"Org {n % 30}",
            "time_zone": "Europe/London",
            "cadence": "weekly",
            "day": DAYS[moment.weekday()],
            "local_time": moment.strftime("%H:%M"),
            "skip_next": False,
            "focus_themes": "",
            "guidance_after_answer": True,
            "status": "active",
            "consent_source": "programme",
            "anchor_date": dt.date(2026, 1, 5),
            "created_at": dt.datetime(2026, 1, 1),
        }
        for n in range(leaders)
    ]
    with get_engine(settings).begin() as connection:
        connection.execute(insert(Leader), rows)


def _checkins_by_user(ws: Workspace) -> Counter:
    counts: Counter = Counter()
    for call in ws.calls_to("chat.postMessage"):
        metadata = str(call["params"].get("metadata", ""))
        if call.get("ok") and "tandem_checkin" in metadata:
            counts[call["params"]["channel"]] += 1
    return counts


def _env(database_url: str, api_url: str, data_dir, **extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TANDEM_", "OPENAI_", "SLACK_", "DATABASE_"))
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "SLACK_API_URL": api_url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "TANDEM_DATA_DIR": str(data_dir),
            "TICK_SECONDS": "5",
            "STALE_CLAIM_SECONDS": "5",
            "DELIVERY_WORKERS": "4",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _role(port: int) -> str | None:
    try:
        return (
            httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            .json()["checks"]
            .get("scheduler")
        )
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def test_three_replicas_deliver_exactly_once_when_the_scheduler_replica_is_killed(
    fresh_database, tmp_path
):
    leaders = 2000
    ws = _workspace(leaders)
    with WorkspaceServer(ws) as server:
        _enrol_all_due_now(fresh_database, tmp_path, leaders)
        ports = [_free_port() for _ in range(3)]
        replicas = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "serve",
                    "--http",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=_env(
                    fresh_database,
                    server.api_url,
                    tmp_path / f"replica{n}",
                    SLACK_SENDS_PER_SECOND="100",
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for n, port in enumerate(ports)
        ]
        try:
            leader_port = wait_until(
                lambda: next((p for p in ports if _role(p) == "leader"), None), timeout=60
            )
            wait_until(lambda: sum(_checkins_by_user(ws).values()) >= 300, timeout=60)
            killed = replicas[ports.index(leader_port)]
            killed.send_signal(signal.SIGKILL)
            killed.wait(timeout=10)
            at_kill = sum(_checkins_by_user(ws).values())
            assert at_kill < leaders, "the fan-out finished before the kill; slow it down"

            survivors = [p for p in ports if p != leader_port]
            wait_until(lambda: any(_role(p) == "leader" for p in survivors), timeout=30)
            wait_until(lambda: len(_checkins_by_user(ws)) == leaders, timeout=180)
            time.sleep(8)  # past the stale-claim time: any double send would have happened
            counts = _checkins_by_user(ws)
            assert len(counts) == leaders
            assert set(counts.values()) == {1}, Counter(counts.values())
        finally:
            for replica in replicas:
                if replica.poll() is None:
                    replica.terminate()
            for replica in replicas:
                try:
                    replica.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    replica.kill()


def test_two_schedulers_running_at_once_still_send_once(fresh_database, tmp_path):
    leaders = 500
    ws = _workspace(leaders)
    with WorkspaceServer(ws) as server:
        _enrol_all_due_now(fresh_database, tmp_path, leaders)
        env = _env(fresh_database, server.api_url, tmp_path / "tick", SLACK_SENDS_PER_SECOND="0")
        ticks = [
            subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "jobs", "tick", "--json"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [t.communicate(timeout=180) for t in ticks]
        assert all(t.returncode == 0 for t in ticks), [o[1][-500:] for o in outputs]
        import json

        sent = [json.loads(out)["checkins"] for out, _err in outputs]
        counts = _checkins_by_user(ws)
    assert sum(sent) == leaders  # the two schedulers shared the work...
    assert len(counts) == leaders and set(counts.values()) == {1}  # ...and nobody got two
