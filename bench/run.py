"""`make bench`: every benchmark, printed side by side, results saved under bench/results/.

Run one section with `python -m bench.run retrieval` (or `slack`, ...).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.quality import abstention, best_similarity, calibrate, load_questions, rank_metrics
from bot.settings import Settings

console = Console()
RESULTS = Path(__file__).parent / "results"


def percentiles(samples: list[float]) -> dict[str, float]:
    values = np.array(samples) * 1000
    return {
        "p50_ms": float(np.percentile(values, 50)),
        "p95_ms": float(np.percentile(values, 95)),
        "p99_ms": float(np.percentile(values, 99)),
        "n": len(samples),
    }


def retrieval_section() -> dict:
    from bot.guidance.service import GuidanceService
    from bot.knowledge.index import ingest
    from bot.knowledge.retrieval import Retriever

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, TANDEM_DATA_DIR=tmp)
        started = time.perf_counter()
        full = ingest(settings)
        full_seconds = time.perf_counter() - started
        started = time.perf_counter()
        ingest(settings)
        incremental_seconds = time.perf_counter() - started

        retriever = Retriever(settings)
        questions = load_questions()
        test_on = [q for q in questions if q.on_topic and q.split == "test"]
        dev = [q for q in questions if q.split == "dev"]
        quality = {
            mode: rank_metrics(retriever, test_on, mode) for mode in ("bm25", "dense", "hybrid")
        }

        threshold = calibrate(
            best_similarity(retriever, [q for q in dev if q.on_topic]),
            best_similarity(retriever, [q for q in dev if not q.on_topic]),
        )
        abstain = abstention(retriever, [q for q in questions if q.split == "test"], threshold)
        configured = settings.retrieval_min_similarity
        abstain_configured = abstention(
            retriever, [q for q in questions if q.split == "test"], configured
        )

        texts = [q.text for q in questions]
        for text in texts[:10]:  # warm-up
            retriever.search(text)
        search_times = []
        for text in texts * 2:
            started = time.perf_counter()
            retriever.search(text)
            search_times.append(time.perf_counter() - started)
        service = GuidanceService(settings, retriever)
        ask_times = []
        for text in texts * 2:
            started = time.perf_counter()
            service.answer(text)
            ask_times.append(time.perf_counter() - started)

        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TANDEM_"))}
        env["TANDEM_DATA_DIR"] = tmp
        cold = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "tandem"),
                    "ask",
                    "--json",
                    "How do I build trust with a new partner?",
                ],
                check=True,
                capture_output=True,
                env=env,
            )
            cold.append(time.perf_counter() - started)

    result = {
        "documents": full.added,
        "chunks": full.chunks,
        "ingest_full_s": full_seconds,
        "ingest_unchanged_s": incremental_seconds,
        "quality_test": quality,
        "abstention_calibrated": abstain,
        "abstention_configured": abstain_configured,
        "search_latency": percentiles(search_times),
        "offline_ask_latency": percentiles(ask_times),
        "cold_start_ask_s": {"min": min(cold), "max": max(cold)},
    }

    table = Table(title=f"Retrieval on {quality['hybrid']['n']} test questions")
    for column in ("retriever", "hit@1", "hit@3", "MRR"):
        table.add_column(column)
    for mode, metrics in quality.items():
        table.add_row(
            mode, f"{metrics['hit@1']:.3f}", f"{metrics['hit@3']:.3f}", f"{metrics['mrr']:.3f}"
        )
    console.print(table)
    console.print(
        f"Abstention (threshold {threshold:.3f} calibrated on dev; configured {configured:.2f}): "
        f"off-topic abstained {abstain['off_topic_abstention']:.0%} of {abstain['n_off']}, "
        f"false abstention {abstain['false_abstention']:.1%} of {abstain['n_on']}; at the "
        f"configured value {abstain_configured['off_topic_abstention']:.0%} / "
        f"{abstain_configured['false_abstention']:.1%}"
    )
    console.print(
        f"Ingest {full.added} docs / {full.chunks} chunks: {full_seconds:.2f} s full, "
        f"{incremental_seconds:.2f} s unchanged"
    )
    s, a = result["search_latency"], result["offline_ask_latency"]
    console.print(
        f"Warm search p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms; "
        f"offline ask p50 {a['p50_ms']:.1f} ms, p95 {a['p95_ms']:.1f} ms (n={a['n']})"
    )
    console.print(f"Cold start `tandem ask`: {min(cold):.2f}-{max(cold):.2f} s")
    return result


def slack_section() -> dict:
    from bench.slack import run

    return run()


def checkins_section() -> dict:
    from bench.checkins import run

    return run()


def peers_section() -> dict:
    from bench.peers import run

    return run()


def load_section() -> dict:
    from bench.load import run

    return run()


SECTIONS = {
    "retrieval": retrieval_section,
    "slack": slack_section,
    "checkins": checkins_section,
    "peers": peers_section,
    "load": load_section,
}


def main(argv: list[str]) -> None:
    names = argv or list(SECTIONS)
    RESULTS.mkdir(exist_ok=True)
    for name in names:
        console.rule(f"[bold]{name}")
        result = SECTIONS[name]()
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
