"""Peer matching for 5,000 synthetic leaders, against random pairing in the same run.

The synthetic cohort: organisations drawn from 40, 1-3 "want to think about" and 1-3 "could
offer a view on" themes from the 12 in the taxonomy, 80 % preferring another organisation,
5 % naming one or two people they'd rather not meet, and three earlier rounds made by the matcher itself (the pairs it would most like to repeat).
Measured: the pure matching time (best and median of 3), a whole round through the database
(load, match, write the ledger) on SQLite, and quality against random pairing:
themes a pair can think about together, cross-organisation share, repeats within the window,
and exclusions broken (random pairing breaks some; matching must break none).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import tempfile
import time

from rich.console import Console
from rich.table import Table

from bot.knowledge.taxonomy import load_taxonomy
from bot.peers.matching import REPEAT_WINDOW, Candidate, Group, common_themes, match
from bot.settings import REPO_ROOT, Settings

console = Console()
LEADERS = 5_000
ORGANISATIONS = 40
HISTORY_ROUNDS = 3
ROUND = dt.datetime(2026, 11, 30, 10, 0)


def synthetic_cohort(n: int = LEADERS, seed: int = 2026):
    """(candidates, history): a plausible cohort and its earlier rounds."""
    candidates = synthetic_candidates(n, seed)
    return candidates, matcher_history(candidates, HISTORY_ROUNDS, seed)


def synthetic_candidates(n: int, seed: int = 2026) -> list[Candidate]:
    """A plausible cohort: 1–3 themes wanted and offered, most preferring other organisations,
    one in twenty excluding someone."""
    rng = random.Random(seed)
    themes = [t.slug for t in load_taxonomy(REPO_ROOT / "knowledge" / "taxonomy.yaml")]
    users = [f"U{i:06d}" for i in range(n)]
    candidates = []
    for user in users:
        excludes = frozenset(rng.sample(users, rng.randint(1, 2))) if rng.random() < 0.05 else ()
        candidates.append(
            Candidate(
                user_id=user,
                organisation=f"Organisation {rng.randrange(ORGANISATIONS):02d}",
                wants=frozenset(rng.sample(themes, rng.randint(1, 3))),
                offers=frozenset(rng.sample(themes, rng.randint(1, 3))),
                prefer_other_org=rng.random() < 0.8,
                excludes=frozenset(excludes) - {user},
            )
        )
    return candidates


def matcher_history(candidates: list[Candidate], rounds: int, seed: int) -> dict[frozenset, int]:
    """Earlier rounds made by the matcher itself: the pairs it would most like to repeat."""
    met: list[list[Group]] = []
    for number in range(rounds):
        history = {
            frozenset(g.members[i : i + 2]): len(met) - k
            for k, groups in enumerate(met)
            for g in groups
            for i in range(len(g.members) - 1)
        }
        met.append(match(candidates, history, seed=seed + number + 1).groups)
    return {
        frozenset((a, b)): rounds - k
        for k, groups in enumerate(met)
        for g in groups
        for i, a in enumerate(g.members)
        for b in g.members[i + 1 :]
    }


def random_pairing(candidates: list[Candidate], seed: int) -> list[Group]:
    shuffled = [c.user_id for c in candidates]
    random.Random(seed).shuffle(shuffled)
    return [Group(tuple(shuffled[i : i + 2]), ()) for i in range(0, len(shuffled) - 1, 2)]


def quality(groups: list[Group], candidates: list[Candidate], history: dict) -> dict:
    people = {c.user_id: c for c in candidates}
    pairs = [
        (people[a], people[b])
        for g in groups
        for i, a in enumerate(g.members)
        for b in g.members[i + 1 :]
    ]
    placed = sum(len(g.members) for g in groups)
    return {
        "pairs": len(pairs),
        "placed_share": placed / len(candidates),
        "mean_shared_themes": statistics.fmean(len(common_themes(a, b)) for a, b in pairs),
        "cross_org_share": statistics.fmean(a.organisation != b.organisation for a, b in pairs),
        "repeat_rate": statistics.fmean(
            history.get(frozenset((a.user_id, b.user_id)), 10**6) <= REPEAT_WINDOW for a, b in pairs
        ),
        "exclusions_broken": sum(
            a.user_id in b.excludes or b.user_id in a.excludes for a, b in pairs
        ),
    }


def _database_round(candidates: list[Candidate], history_rounds: int = HISTORY_ROUNDS) -> dict:
    """Seconds for whole rounds (load, match, write) on SQLite, after earlier rounds."""
    from sqlalchemy import insert, select

    from bot.db.engine import dispose_engines, get_engine, session_scope
    from bot.db.models import Leader, PeerExclusion, PeerPreference
    from bot.peers.rounds import plan_round
    from bot.text import join_themes

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, TANDEM_DATA_DIR=tmp)  # SQLite in the temp dir
        engine = get_engine(settings)
        with engine.begin() as connection:
            connection.execute(
                insert(Leader),
                [
                    {
                        "team_id": "TBENCH",
                        "slack_user_id": c.user_id,
                        "display_name": c.user_id,
                        "organisation": c.organisation,
                        "status": "peers-only",
                        "anchor_date": ROUND.date(),
                    }
                    for c in candidates
                ],
            )
        with session_scope(settings) as session:
            ids = dict(session.execute(select(Leader.slack_user_id, Leader.id)).all())
        with engine.begin() as connection:
            connection.execute(
                insert(PeerPreference),
                [
                    {
                        "leader_id": ids[c.user_id],
                        "opted_in": True,
                        "cadence": "fortnightly",
                        "prefer_other_org": c.prefer_other_org,
                        "want_themes": join_themes(sorted(c.wants)),
                        "offer_themes": join_themes(sorted(c.offers)),
                    }
                    for c in candidates
                ],
            )
            exclusions = [
                {"leader_id": ids[c.user_id], "excluded_user_id": u}
                for c in candidates
                for u in c.excludes
            ]
            if exclusions:
                connection.execute(insert(PeerExclusion), exclusions)
        timings = []
        for number in range(history_rounds + 1):
            at = ROUND + dt.timedelta(weeks=2 * number)
            started = time.perf_counter()
            plan = plan_round(settings, "TBENCH", at)
            timings.append(time.perf_counter() - started)
        dispose_engines()
    return {
        "first_round_s": timings[0],
        "round_with_history_s": timings[-1],
        "groups_written": len(plan.result.groups),
    }


def run(leaders: int = LEADERS, seed: int = 2026) -> dict:
    candidates, history = synthetic_cohort(leaders, seed)
    times, result = [], None
    for _ in range(3):
        started = time.perf_counter()
        result = match(candidates, history, seed=seed)
        times.append(time.perf_counter() - started)
    matched = quality(result.groups, candidates, history)
    baseline = quality(random_pairing(candidates, seed), candidates, history)
    # The same matcher told nothing about earlier rounds: what repeat avoidance is worth.
    blind = quality(match(candidates, {}, seed=seed).groups, candidates, history)
    database = _database_round(candidates)
    trios = sum(1 for g in result.groups if len(g.members) == 3)
    outcome = {
        "leaders": leaders,
        "match_s": {"best": min(times), "median": statistics.median(times)},
        "database_round": database,
        "matching": matched,
        "random_baseline": baseline,
        "matching_ignoring_history": blind,
        "groups": len(result.groups),
        "trios": trios,
        "unmatched": len(result.unmatched),
        "shared_themes_ratio": matched["mean_shared_themes"] / baseline["mean_shared_themes"],
    }

    table = Table(title=f"Peer matching, {leaders:,} synthetic leaders")
    for column in ("", "matching", "random pairing", "matching, history ignored"):
        table.add_column(column)
    table.add_row(
        "themes to think about together, per pair",
        f"{matched['mean_shared_themes']:.2f}",
        f"{baseline['mean_shared_themes']:.2f}",
        f"{blind['mean_shared_themes']:.2f}",
    )
    table.add_row(
        "cross-organisation pairs",
        f"{matched['cross_org_share']:.1%}",
        f"{baseline['cross_org_share']:.1%}",
        f"{blind['cross_org_share']:.1%}",
    )
    table.add_row(
        f"repeats within {REPEAT_WINDOW} rounds",
        f"{matched['repeat_rate']:.2%}",
        f"{baseline['repeat_rate']:.2%}",
        f"{blind['repeat_rate']:.2%}",
    )
    table.add_row(
        "exclusions broken",
        *(str(q["exclusions_broken"]) for q in (matched, baseline, blind)),
    )
    table.add_row(
        "leaders placed", *(f"{q['placed_share']:.2%}" for q in (matched, baseline, blind))
    )
    console.print(table)
    console.print(
        f"Matching time: best {min(times):.2f} s, median {statistics.median(times):.2f} s "
        f"(target ≤ 10 s); shared themes {outcome['shared_themes_ratio']:.2f}× random "
        f"(target ≥ 2×); {len(result.groups)} groups incl. {trios} trios, "
        f"{len(result.unmatched)} unmatched."
    )
    console.print(
        f"Whole round through SQLite (load, match, write the ledger): "
        f"{database['first_round_s']:.2f} s first, {database['round_with_history_s']:.2f} s "
        f"with {HISTORY_ROUNDS} rounds of history."
    )
    return outcome


if __name__ == "__main__":
    run()
