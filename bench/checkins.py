"""One tick that sends 10,000 due check-ins to the Slack stand-in, in its own process.

Baseline in the same run: the same number of bare chat.postMessage calls with the same
payload and worker count, twice: with the blocks as slack_sdk's Block Kit objects (which it
serialises and checks on every post) and with them already Slack's JSON, as Tandem's fan-out
sends them (the leanest bare post, so Tandem's advantage from building them once does not
count). The stand-in runs as a separate process (so its work does not
share the sender's interpreter) and is drained between phases. Tandem is measured as it
runs by default, with the posting budget on; its rate is set above what one process can
send, so the budget's own cost shows without it binding. A run with the budget off shows
that cost by difference.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from sqlalchemy import insert

from bench.harness import TOKEN
from bench.standin import separate_workspace
from bot.settings import Settings

console = Console()
LEADERS = 10_000
MONDAY_0900_GMT = dt.datetime(2026, 11, 30, 9, 0)
NEVER_BINDS = 100_000  # posts a second: far above what one process sends


def _leaders(count: int) -> list[dict]:
    from bot.db.models import utcnow

    return [
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
        for n in range(count)
    ]


def _measured(standin, work) -> dict:
    """Wall time and CPU (this process: the sender; the stand-in's own) of one phase."""
    standin.drain()
    wall, cpu, standin_cpu = time.perf_counter(), time.process_time(), standin.cpu_seconds()
    result = work()
    return {
        "result": result,
        "wall_s": time.perf_counter() - wall,
        "sender_cpu_s": time.process_time() - cpu,
        "standin_cpu_s": standin.cpu_seconds() - standin_cpu,
    }


def run(leaders: int = LEADERS) -> dict:
    from bot.db.engine import get_engine
    from bot.db.models import Leader
    from bot.reflection.ledger import plan_checkins
    from bot.slack.client import TeamClients, make_web_client
    from bot.ui.checkins import checkin_message
    from jobs.tick import deliver_checkins, deliver_claimable

    with tempfile.TemporaryDirectory() as tmp, separate_workspace(leaders) as standin:
        settings = Settings(_env_file=None, TANDEM_DATA_DIR=tmp).model_copy(
            update={
                "slack_api_url": standin.api_url,
                "slack_bot_token": SecretStr(TOKEN),
                "database_url": f"sqlite:///{Path(tmp) / 'bench.db'}",
            }
        )
        with get_engine(settings).begin() as connection:
            connection.execute(insert(Leader), _leaders(leaders))

        client = make_web_client(settings, TOKEN)
        blocks, text = checkin_message(0, "A baseline question of typical length?", "Good morning.")

        as_json = [block.to_dict() for block in blocks]

        def bare_post(n: int, payload=blocks):
            # The same payload as a check-in, so the baseline differs only by Tandem's work.
            return client.chat_postMessage(
                channel=f"U{n:05d}",
                text=text,
                blocks=payload,
                metadata={"event_type": "bench", "event_payload": {"n": n}},
            )

        def bare(payload):
            with ThreadPoolExecutor(settings.delivery_workers) as pool:
                return len(list(pool.map(lambda n: bare_post(n, payload), range(leaders))))

        baseline = _measured(standin, lambda: bare(blocks))
        # The leanest post: the blocks already Slack's JSON, as Tandem's fan-out sends them.
        baseline_json = _measured(standin, lambda: bare(as_json))

        phases = {}
        for name, budget, week in (("budget_on", NEVER_BINDS, 0), ("budget_off", 0, 1)):
            configured = settings.model_copy(update={"slack_sends_per_second": budget})
            at = MONDAY_0900_GMT + dt.timedelta(days=7 * week)
            started = time.perf_counter()
            planned = plan_checkins(configured, at)
            plan_s = time.perf_counter() - started
            # Delivery alone: planning was just measured. (A tick re-plans first, and for an
            # instant more than five minutes past that reads every leader again: it did in
            # the budget-on week only, once the benchmark's Monday was in the past.)
            phase = _measured(
                standin, lambda c=configured, a=at: deliver_claimable(c, TeamClients(c), a)
            )
            phase["planned"], phase["plan_s"] = planned, plan_s
            phase["replayed_tick_sent"] = deliver_checkins(configured, at, TeamClients(configured))
            phases[name] = phase
    summary = standin.summary

    def rates(phase: dict) -> dict:
        sent = phase["result"]
        return {
            "sent": sent,
            "seconds": phase["wall_s"],
            "per_s": sent / phase["wall_s"],
            "sender_cpu_ms_per_send": phase["sender_cpu_s"] * 1000 / sent,
            "standin_cpu_ms_per_send": phase["standin_cpu_s"] * 1000 / sent,
        }

    result = {
        "leaders": leaders,
        "standin": "separate process, drained between phases",
        "baseline": rates(baseline),
        "baseline_prebuilt_json": rates(baseline_json),
        "tandem_default_budget_on": rates(phases["budget_on"])
        | {
            "planned": phases["budget_on"]["planned"],
            "plan_s": phases["budget_on"]["plan_s"],
            "replayed_tick_sent": phases["budget_on"]["replayed_tick_sent"],
        },
        "tandem_budget_off": rates(phases["budget_off"]),
        "standin_summary": summary,
    }
    on, off, base = (
        result["tandem_default_budget_on"],
        result["tandem_budget_off"],
        result["baseline"],
    )
    result["ratio_to_baseline"] = on["per_s"] / base["per_s"]
    lean = result["baseline_prebuilt_json"]
    result["ratio_to_prebuilt_json_baseline"] = on["per_s"] / lean["per_s"]
    result["budget_cpu_ms_per_send"] = on["sender_cpu_ms_per_send"] - off["sender_cpu_ms_per_send"]
    console.print(
        f"Tick with {leaders:,} due check-ins (stand-in in its own process): planned in "
        f"{on['plan_s']:.1f} s; delivered {on['sent']:,} in {on['seconds']:.1f} s "
        f"({on['per_s']:.0f}/s, {on['sender_cpu_ms_per_send']:.2f} ms CPU a send) with the "
        f"posting budget on, {off['per_s']:.0f}/s ({off['sender_cpu_ms_per_send']:.2f} ms) with it "
        f"off; replayed tick sent {on['replayed_tick_sent']}. Baseline, bare chat.postMessage: "
        f"{base['per_s']:.0f}/s ({base['sender_cpu_ms_per_send']:.2f} ms CPU a post). "
        f"Tandem/baseline {result['ratio_to_baseline']:.2f}x. Bare posts with the blocks already "
        f"JSON: {lean['per_s']:.0f}/s ({lean['sender_cpu_ms_per_send']:.2f} ms); Tandem/that "
        f"{result['ratio_to_prebuilt_json_baseline']:.2f}x. The budget costs "
        f"{result['budget_cpu_ms_per_send']:.2f} ms CPU a send."
    )
    return result
