"""One tick that sends 10,000 due check-ins to the local workspace server.

Baseline in the same run: the same number of bare chat.postMessage calls with the same
worker count, which is what the local server itself can take.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from sqlalchemy import insert

from bench.harness import TOKEN, workspace_and_tandem
from bot.settings import Settings

console = Console()
LEADERS = 10_000
MONDAY_0900_GMT = dt.datetime(2026, 11, 30, 9, 0)


def run(leaders: int = LEADERS) -> dict:
    from bot.db.engine import get_engine
    from bot.db.models import Leader, utcnow
    from bot.slack_client import TeamClients, make_web_client
    from bot.ui.checkins import checkin_message
    from jobs.tick import deliver_checkins, plan_checkins

    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(_env_file=None, TANDEM_DATA_DIR=tmp)
        with workspace_and_tandem(
            base, users=leaders, database=Path(tmp) / "bench.db", slack_sends_per_second=0
        ) as (
            ws,
            settings,
            _t,
        ):
            engine = get_engine(settings)
            rows = [
                {
                    "team_id": "T0BENCH",
                    "slack_user_id": f"U{n:05d}",
                    "display_name": f"Leader {n}",
                    "organisation": f"Org {n % 40}",
                    "time_zone": "Europe/London",
                    "cadence": "weekly",
                    "day": "mon",
                    "local_time": "09:00",
                    "skip_next": False,
                    "focus_themes": "",
                    "guidance_after_answer": True,
                    "status": "active",
                    "consent_source": "programme",
                    "anchor_date": dt.date(2026, 1, 5),
                    "created_at": utcnow(),
                }
                for n in range(leaders)
            ]
            with engine.begin() as connection:
                connection.execute(insert(Leader), rows)

            client = make_web_client(settings, TOKEN)
            blocks, text = checkin_message(
                0, "A baseline question of typical length?", "Good morning."
            )

            def bare_post(n: int):
                # The same payload as a check-in, so the baseline differs only by Tandem's work.
                return client.chat_postMessage(
                    channel=f"U{n:05d}",
                    text=text,
                    blocks=blocks,
                    metadata={"event_type": "bench", "event_payload": {"n": n}},
                )

            started = time.perf_counter()
            with ThreadPoolExecutor(settings.delivery_workers) as pool:
                list(pool.map(bare_post, range(leaders)))
            baseline_s = time.perf_counter() - started

            started = time.perf_counter()
            planned = plan_checkins(settings, MONDAY_0900_GMT)
            plan_s = time.perf_counter() - started
            started = time.perf_counter()
            sent = deliver_checkins(settings, MONDAY_0900_GMT, TeamClients(settings))
            send_s = time.perf_counter() - started
            replay = deliver_checkins(settings, MONDAY_0900_GMT, TeamClients(settings))

    result = {
        "leaders": leaders,
        "planned": planned,
        "sent": sent,
        "replayed_tick_sent": replay,
        "plan_s": plan_s,
        "deliver_s": send_s,
        "throughput_per_s": sent / send_s,
        "plan_overhead_ms_per_leader": plan_s * 1000 / leaders,
        "baseline_post_only_s": baseline_s,
        "baseline_per_s": leaders / baseline_s,
    }
    console.print(
        f"Tick with {leaders:,} due check-ins: planned in {plan_s:.1f} s "
        f"({result['plan_overhead_ms_per_leader']:.2f} ms/leader), delivered {sent:,} in {send_s:.1f} s "
        f"({result['throughput_per_s']:.0f}/s); replayed tick sent {replay}. Baseline: bare "
        f"chat.postMessage x{leaders:,} took {baseline_s:.1f} s ({result['baseline_per_s']:.0f}/s)."
    )
    return result
