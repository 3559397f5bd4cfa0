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


SWAPS = ("the hospice", "the council", "the care home", "our PCN", "the charity")


def _swapped(question: str, vocabulary) -> list[str]:
    """The question with its partner organisation named as each of SWAPS in turn."""
    match = vocabulary.pattern.search(question) if vocabulary.pattern else None
    if match is None or vocabulary.group_for(match.group(0)) != "partner organisation":
        return []
    start, end = match.span()
    before = question[:start]  # the match takes any determiner in front with it
    if before.lower().endswith(("the ", "our ", "a ", "an ")):
        before = before[: before.rfind(" ", 0, len(before) - 1) + 1]
    return [before + swap + question[end:] for swap in SWAPS]


def _ci(label: str, a: list[float], b: list[float]) -> dict:
    from bench.quality import paired_bootstrap

    mean, low, high = paired_bootstrap(a, b)
    return {"metric": label, "v2_minus_v1": mean, "ci95": [low, high]}


def retrieval_section() -> dict:
    """Retrieval v1 (kept as the baseline) and v2 side by side on the test split, plus the
    scope gate, the shape of answers, conversation, refusals and latency."""
    from bench.baseline_v1 import RetrieverV1, compose_v1
    from bench.evalset import load_eval, load_fresh, load_second_reader, select
    from bench.quality import (
        adversarial_handled,
        answer_shape,
        calibrate_v1,
        conversation_handled,
        held_out_requests,
        per_question,
        rank_table,
        run_v1,
        run_v2,
        scope_rates,
    )
    from bot.guidance.composer import stands_alone
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

        v2 = Retriever(settings)
        v1 = RetrieverV1(settings)
        questions = load_eval()
        dev_on = [q.text for q in select(questions, kind="in_topic", split="dev")]
        dev_off = [q.text for q in select(questions, kind="off_topic", split="dev")]
        v1_threshold = calibrate_v1(v1, dev_on, dev_off)
        test_on = select(questions, kind="in_topic", split="test", labelled=True)
        test_off = select(questions, kind="off_topic", split="test")

        ranked = {
            "v1": [run_v1(v1, q.text, v1_threshold) for q in test_on],
            "v2": [run_v2(v2, q.text) for q in test_on],
        }
        rows = {
            name: [per_question(r, q.docs) for r, q in zip(found, test_on, strict=True)]
            for name, found in ranked.items()
        }
        quality = {name: rank_table(found) for name, found in rows.items()}
        second = _second_reading(load_second_reader(), test_on, ranked["v2"])
        intervals = [
            _ci(metric, [r[metric] for r in rows["v1"]], [r[metric] for r in rows["v2"]])
            for metric in ("hit@1", "hit@3", "mrr", "ndcg@5", "p@3")
        ]
        modes = {
            mode: rank_table(
                [
                    per_question(
                        type(
                            "Ranked",
                            (),
                            {
                                "doc_ids": [
                                    x.doc_id for x in v2.search(q.text, k=10, mode=mode).results
                                ]
                            },
                        )(),
                        q.docs,
                    )
                    for q in test_on
                ]
            )
            for mode in ("bm25", "dense")
        }
        off = {
            "v1": [run_v1(v1, q.text, v1_threshold) for q in test_off],
            "v2": [run_v2(v2, q.text) for q in test_off],
        }
        scope = {name: scope_rates(ranked[name], off[name]) for name in ("v1", "v2")}

        # Nouns must not sway: swap the partner's organisation type, keep the top document.
        swaps = {"v1": [], "v2": []}
        for q in select(questions, kind="in_topic", split="test"):
            variants = _swapped(q.text, v2.vocabulary)
            if not variants:
                continue
            for name, retriever in (("v1", v1), ("v2", v2)):
                tops = {retriever.search(v, k=1).results[0].doc_id for v in variants}
                swaps[name].append(float(len(tops) == 1))
        invariance = {
            name: float(np.mean(found)) if found else 0.0 for name, found in swaps.items()
        }

        texts = [q.text for q in test_on]
        latency = {}
        for name, retriever in (("v1", v1), ("v2", v2)):
            for text in texts[:10]:
                retriever.search(text)
            times = []
            for text in texts * 2:
                started = time.perf_counter()
                retriever.search(text)
                times.append(time.perf_counter() - started)
            latency[name] = percentiles(times) | {"distinct_questions": len(texts)}

        service = GuidanceService(settings, v2)
        story = {
            text
            for text, meta in zip(v2.passage_text, v2.passage_meta, strict=True)
            if meta.get("kind") == "story"
        }
        shape = answer_shape(service, test_on, story)
        ask_latency = percentiles(shape.pop("seconds")) | {"distinct_questions": len(test_on)}
        # v1's composer on v1's retrieval, for the same questions.
        v1_answered = v1_story = v1_dangling = 0
        for q in test_on:
            outcome = v1.search(q.text, k=3)
            if outcome.best_similarity < v1_threshold:
                continue
            v1_answered += 1
            text = compose_v1(q.text, outcome.results[:3])
            lines = [line for line in text.split("\n") if line[:2] in ("1.", "2.", "3.")]
            sentences = [line.split(": ", 1)[-1] for line in lines]
            v1_story += sum(
                1 for s in sentences if any(s[-80:-4] in t for t in story if len(s) > 90)
            )
            v1_dangling += sum(1 for s in sentences if not stands_alone(s.split(". ")[-1]))
        conversation = conversation_handled(
            service, select(questions, kind="conversation", split="test")
        )
        adversarial = adversarial_handled(
            service, select(questions, kind="adversarial", split="test")
        )
        held_out = held_out_requests(service)
        fresh = [_fresh_reading(service, v2, found) for found in load_fresh()]

        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TANDEM_"))}
        env["TANDEM_DATA_DIR"] = tmp
        cold = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(
                [str(Path(sys.executable).parent / "tandem"), "ask", "--json",
                 "How do I build trust with a new partner?"],
                check=True, capture_output=True, env=env,
            )  # fmt: skip
            cold.append(time.perf_counter() - started)

    result = {
        "documents": full.added,
        "passages": full.chunks,
        "ingest_full_s": full_seconds,
        "ingest_embedded_texts": full.embedded,
        "ingest_unchanged_s": incremental_seconds,
        "test_questions": len(test_on),
        "quality_test": quality,
        "quality_test_v2_single_signals": modes,
        "second_reader_test": second,
        "v2_minus_v1": intervals,
        "v1_threshold_calibrated_on_dev": v1_threshold,
        "scope_test": scope,
        "noun_swap_invariance": invariance | {"questions": len(swaps["v2"])},
        "search_latency": latency,
        "answers_v2": shape,
        "answers_v1": {
            "answered": v1_answered,
            "with_two_actions": 0.0,
            "story_sentences_as_advice": v1_story,
            "unresolved_openings": v1_dangling,
        },
        "conversation_handled": conversation,
        "adversarial_handled": adversarial,
        "held_out_requests": held_out,
        "fresh_sets": fresh,
        "offline_ask_latency": ask_latency,
        "cold_start_ask_s": {"min": min(cold), "max": max(cold)},
    }
    _print_retrieval(result)
    return result


def _fresh_reading(service, retriever, fresh) -> dict:
    """A blind writer's questions through the whole service: in-topic ones answered,
    off-topic ones redirected, and how the readers judged the document Tandem ranks first
    (and whether one they judged good is in its top three)."""
    from bench.evalset import question_key

    answered = [service.answer(text).kind in ("answer", "clarify") for text in fresh.in_topic]
    declined = [service.answer(text).kind == "out_of_scope" for text in fresh.off_topic]
    first, in_three, useful, unjudged = [], [], [], 0
    for text in fresh.in_topic:
        verdicts = fresh.judgements.get(question_key(text))
        if verdicts is None:
            continue
        top = [r.doc_id for r in retriever.search(text, k=3).results]
        unjudged += top[0] not in verdicts
        first.append(verdicts.get(top[0]) == "good")
        in_three.append(any(verdicts.get(d) == "good" for d in top))
        useful.append(verdicts.get(top[0]) in ("good", "partial"))

    def mean(found: list) -> float:
        return float(np.mean(found)) if found else 0.0

    return {
        "name": fresh.name,
        "role": fresh.role,
        "in_topic_answered": mean(answered),
        "n_in": len(answered),
        "off_topic_declined": mean(declined),
        "n_off": len(declined),
        "judged_questions": len(first),
        "first_good": mean(first),
        "good_in_top3": mean(in_three),
        "first_good_or_partial": mean(useful),
        "first_unjudged": unjudged,
    }


def _second_reading(verdicts: dict, questions, ranked) -> dict:
    """How the labels and v2's ranking look to a blind second reader (`second_reader.yaml`):
    how the reader judged the labelled documents, how many of the reader's good documents
    the labels hold, and v2's ranks when "acceptable" is the reader's good (or good or
    partial) instead of labels.yaml."""
    from bench.quality import per_question, rank_table

    judged = [(q, r, verdicts[q.key]) for q, r in zip(questions, ranked, strict=True)
              if q.key in verdicts]  # fmt: skip
    if not judged:
        return {}
    labelled = [v.get(d, "unjudged") for q, _, v in judged for d in q.docs]
    good = [(d, q) for q, _, v in judged for d, said in v.items() if said == "good"]
    return {
        "questions": len(judged),
        "labels_judged": {
            said: labelled.count(said) / len(labelled) for said in ("good", "partial", "no")
        },
        "reader_good_within_labels": sum(d in q.docs for d, q in good) / max(1, len(good)),
        "v2_by_reader_good": rank_table(
            [per_question(r, tuple(d for d, s in v.items() if s == "good")) for _, r, v in judged]
        ),
        "v2_by_reader_good_or_partial": rank_table(
            [per_question(r, tuple(d for d, s in v.items() if s != "no")) for _, r, v in judged]
        ),
    }


def _print_retrieval(result: dict) -> None:
    quality = result["quality_test"]
    table = Table(
        title=f"Retrieval on {result['test_questions']} test questions (labelled documents)"
    )
    for column in ("retriever", "hit@1", "hit@3", "MRR", "nDCG@5", "P@3"):
        table.add_column(column)
    for name in ("v1", "v2"):
        m = quality[name]
        table.add_row(name, *(f"{m[k]:.3f}" for k in ("hit@1", "hit@3", "mrr", "ndcg@5", "p@3")))
    for mode, m in result["quality_test_v2_single_signals"].items():
        table.add_row(
            f"v2 {mode} only", *(f"{m[k]:.3f}" for k in ("hit@1", "hit@3", "mrr", "ndcg@5", "p@3"))
        )
    console.print(table)
    second = result.get("second_reader_test")
    if second:
        labels = second["labels_judged"]
        good, either = second["v2_by_reader_good"], second["v2_by_reader_good_or_partial"]
        console.print(
            f"A blind second reader ({second['questions']} test questions, pooled): labelled "
            f"documents judged good {labels['good']:.0%}, partial {labels['partial']:.0%}, no "
            f"{labels['no']:.0%}; {second['reader_good_within_labels']:.0%} of the reader's good "
            f"documents are labelled. v2 by the reader's good: hit@1 {good['hit@1']:.3f}, hit@3 "
            f"{good['hit@3']:.3f}; by good or partial: hit@1 {either['hit@1']:.3f}, hit@3 "
            f"{either['hit@3']:.3f}"
        )
    for ci in result["v2_minus_v1"]:
        low, high = ci["ci95"]
        console.print(
            f"  v2 − v1 {ci['metric']}: {ci['v2_minus_v1']:+.3f} (95% CI {low:+.3f} to {high:+.3f})"
        )
    for name in ("v1", "v2"):
        s = result["scope_test"][name]
        console.print(
            f"Scope {name}: off-topic declined {s['off_topic_declined']:.1%} of {s['n_off']}, "
            f"in-topic false decline {s['in_topic_false_decline']:.1%} of {s['n_on']}"
        )
    inv = result["noun_swap_invariance"]
    console.print(
        f"Partner-type swaps keep the top document: v1 {inv['v1']:.1%}, v2 {inv['v2']:.1%} "
        f"({inv['questions']} questions × {len(SWAPS)} swaps)"
    )
    for name in ("v1", "v2"):
        lat = result["search_latency"][name]
        console.print(f"Warm search {name}: p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms")
    a1, a2 = result["answers_v1"], result["answers_v2"]
    console.print(
        f"Answers v2: {a2['with_two_actions']:.1%} of {a2['answered']} in-topic answers have ≥2 actions; "
        f"story sentences as advice {a2['story_sentences_as_advice']}; unresolved openings "
        f"{a2['unresolved_openings']}. v1: {a1['story_sentences_as_advice']} story sentences, "
        f"{a1['unresolved_openings']} unresolved openings in {a1['answered']} answers."
    )
    c, d = result["conversation_handled"], result["adversarial_handled"]
    console.print(
        f"Conversation handled {c['handled']:.0%} of {c['n']}; refusals and injections handled "
        f"{d['handled']:.0%} of {d['n']}"
    )
    h = result.get("held_out_requests")
    if h:
        kinds = ", ".join(f"{k} {n}/{of}" for k, (n, of) in h["declined"].items())
        about = ", ".join(f"{k} {n}/{of}" for k, (n, of) in h["about"].items())
        console.print(
            f"Held-out requests declined: {kinds}; fair questions refused "
            f"{h['fair_refused'][0]}/{h['fair_refused'][1]}. About Tandem itself: {about}"
        )
    for f in result.get("fresh_sets", []):
        scope = (
            f"Fresh set {f['name']} ({f['role']}): in-topic answered {f['in_topic_answered']:.0%} "
            f"of {f['n_in']}, off-topic redirected {f['off_topic_declined']:.0%} of {f['n_off']}"
        )
        if not f["judged_questions"]:  # readers have not judged its pools yet
            console.print(f"{scope}; not yet judged")
            continue
        console.print(
            f"{scope}; "
            f"first document judged good {f['first_good']:.0%} (good or partial "
            f"{f['first_good_or_partial']:.0%}), a good one in the top three "
            f"{f['good_in_top3']:.0%} of {f['judged_questions']}; first never judged "
            f"{f['first_unjudged']}"
        )
    ask = result["offline_ask_latency"]
    console.print(
        f"Offline ask p50 {ask['p50_ms']:.1f} ms, p95 {ask['p95_ms']:.1f} ms "
        f"({ask['distinct_questions']} questions); cold `tandem ask` "
        f"{result['cold_start_ask_s']['min']:.2f}-{result['cold_start_ask_s']['max']:.2f} s"
    )
    console.print(
        f"Ingest {result['documents']} docs / {result['passages']} passages: "
        f"{result['ingest_full_s']:.2f} s full ({result['ingest_embedded_texts']} texts embedded, "
        f"the rest from the shipped cache), {result['ingest_unchanged_s']:.2f} s unchanged"
    )


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


def growth_section() -> dict:
    from bench.growth import run

    return run()


SECTIONS = {
    "retrieval": retrieval_section,
    "slack": slack_section,
    "checkins": checkins_section,
    "peers": peers_section,
    "load": load_section,
    "growth": growth_section,
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
