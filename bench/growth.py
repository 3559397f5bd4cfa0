"""Growth: what each scheduled cost does as the cohort grows (1k, 10k, 50k, 100k leaders).

Measured on SQLite, one process: an idle tick's check-in planning (nobody due), a due tick's
planning (everyone due at once), peer matching (with its quality beside random pairing at
the largest size), and `leaders import` of the whole cohort. Baselines beside them are the
figures issue #16 measured on the code before this work, quoted, not re-run.

Run: `.venv/bin/python -m bench.run growth` (GROWTH_SIZES=1000,10000 for a quick look).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.peers import ORGANISATIONS, quality, random_pairing, synthetic_candidates
from bot.peers.matching import Candidate, match
from bot.settings import Settings

console = Console()
SIZES = tuple(int(n) for n in os.environ.get("GROWTH_SIZES", "1000,10000,50000,100000").split(","))
# Issue #16's measurements of the old code (seconds), where it gave them.
BASELINE = {
    "idle_tick": {1_000: 0.032, 20_000: 1.07},
    "matching": {5_000: 0.43, 20_000: 8.5},
    "import": {20_000: 31.0, 100_000: 210.0},
}
ZONES = ("Europe/London", "Europe/London", "Europe/London", "Europe/Dublin", "Asia/Kolkata")
DAYS = ("mon", "tue", "wed", "thu", "fri")
NOW = dt.datetime(2027, 3, 1, 8, 0)  # a Monday 08:00 UTC, when nobody is due


def fast_cohort(n: int, seed: int = 2026) -> tuple[list[Candidate], dict]:
    """bench.peers's synthetic candidates, with three earlier rounds of random pairs as history
    (the matcher-made history there costs three matchings per size)."""
    candidates = synthetic_candidates(n, seed)
    history = {}
    for ago in (3, 2, 1):
        for group in random_pairing(candidates, seed + ago):
            history[frozenset(group.members)] = ago
    return candidates, history


def cohort_csv(n: int, seed: int = 2026) -> str:
    rng = random.Random(seed)
    lines = ["slack_user_id,organisation,time_zone,cadence,day,time,consent"]
    for i in range(n):
        lines.append(
            f"U{i:07d},Organisation {rng.randrange(ORGANISATIONS):02d},{rng.choice(ZONES)},"
            f"weekly,{rng.choice(DAYS)},{rng.choice(('08:30', '09:30', '13:00'))},yes"
        )
    return "\n".join(lines) + "\n"


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def measure_matching(n: int) -> dict:
    candidates, history = fast_cohort(n)
    seconds, result = timed(lambda: match(candidates, history, seed=7))
    return {
        "seconds": seconds,
        "groups": result.groups,
        "candidates": candidates,
        "history": history,
    }


def measure_database(n: int, workdir: Path) -> dict:
    """Import the cohort, then an idle tick's planning and a due tick's planning."""
    from bot import clock
    from bot.cohort import import_leaders
    from bot.reflection.ledger import plan_checkins

    settings = Settings(_env_file=None, TANDEM_DATA_DIR=str(workdir / f"n{n}"))
    text = cohort_csv(n)
    with clock.use(lambda: NOW.replace(tzinfo=dt.UTC)):
        import_seconds, report = timed(lambda: import_leaders(settings, "T1", text))
        assert report.enrolled == n and not report.problems, report.problems[:3]
        plan_checkins(settings, NOW)  # the first tick after an upgrade: works everyone out
        idle = min(timed(lambda: plan_checkins(settings, NOW))[0] for _ in range(5))
    monday = NOW.replace(hour=9, minute=30) + dt.timedelta(hours=1)  # after 09:30 BST/GMT
    with clock.use(lambda: monday.replace(tzinfo=dt.UTC)):
        due_seconds, planned = timed(lambda: plan_checkins(settings, monday))
    return {
        "import": import_seconds,
        "idle_tick": idle,
        "due_tick": due_seconds,
        "planned": planned,
    }


def baseline(kind: str, n: int) -> str:
    known = BASELINE.get(kind, {})
    if n in known:
        return f"{known[n]:.2f} s (issue #16)"
    nearest = [f"{v:.2f} s at {k // 1000}k" for k, v in sorted(known.items())]
    return "; ".join(nearest) + " (issue #16)" if nearest else "-"


def run() -> dict:
    rows: dict[int, dict] = {}
    largest_quality = None
    with tempfile.TemporaryDirectory() as folder:
        for n in SIZES:
            matching = measure_matching(n)
            database = measure_database(n, Path(folder))
            rows[n] = {"matching": matching["seconds"], **database}
            if n == max(SIZES):
                ours = quality(matching["groups"], matching["candidates"], matching["history"])
                chance = quality(
                    random_pairing(matching["candidates"], 11),
                    matching["candidates"],
                    matching["history"],
                )
                largest_quality = {"n": n, "matcher": ours, "random": chance}
            console.print(f"{n:,} leaders: {rows[n]}")
    table = Table(title="Growth (SQLite, one process, seconds)")
    table.add_column("leaders", justify="right")
    for name in ("idle tick", "due tick", "matching", "import"):
        table.add_column(name, justify="right")
    for n, row in rows.items():
        table.add_row(
            f"{n:,}",
            f"{row['idle_tick']:.4f}\n[dim]{baseline('idle_tick', n)}[/dim]",
            f"{row['due_tick']:.2f} ({row['planned']:,} planned)",
            f"{row['matching']:.2f}\n[dim]{baseline('matching', n)}[/dim]",
            f"{row['import']:.1f}\n[dim]{baseline('import', n)}[/dim]",
        )
    console.print(table)
    if largest_quality:
        ours, chance = largest_quality["matcher"], largest_quality["random"]
        console.print(
            f"Matching quality at {largest_quality['n']:,}: shared themes "
            f"{ours['mean_shared_themes']:.2f} vs random {chance['mean_shared_themes']:.2f} "
            f"({ours['mean_shared_themes'] / chance['mean_shared_themes']:.1f}x); repeats "
            f"{ours['repeat_rate']:.3f}; cross-organisation {ours['cross_org_share']:.3f}; "
            f"exclusions broken {ours['exclusions_broken']} (random: {chance['exclusions_broken']})"
        )
    return {"sizes": {str(n): row for n, row in rows.items()}, "quality": largest_quality}
