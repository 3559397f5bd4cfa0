"""Quality on the shared evaluation set (bench/eval/v2): retrieval, scope and answers.

Retrieval: a result is a hit when it is one of the question's acceptable documents
(labels.yaml). hit@1, hit@3, MRR, nDCG@5 (binary gains), precision@3. Scope: off-topic
questions declined, in-topic questions wrongly declined. Answers: the shape of what the
offline composer says. Every v1/v2 comparison carries a paired bootstrap 95% interval.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from bench.evalset import EvalQuestion

BOOTSTRAP_SAMPLES = 2000


@dataclass
class Ranked:
    """One question's ranked document ids and its decline decision."""

    doc_ids: list[str]
    declined: bool
    seconds: float


def per_question(ranked: Ranked, acceptable: tuple[str, ...]) -> dict[str, float]:
    docs = ranked.doc_ids
    good = set(acceptable)
    rank = next((i for i, d in enumerate(docs, start=1) if d in good), None)
    gains = [1.0 if d in good else 0.0 for d in docs[:5]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(good), 5)))
    return {
        "hit@1": float(rank == 1),
        "hit@3": float(rank is not None and rank <= 3),
        "mrr": 1.0 / rank if rank else 0.0,
        "ndcg@5": dcg / ideal if ideal else 0.0,
        "p@3": sum(1 for d in docs[:3] if d in good) / 3.0,
    }


METRICS = ("hit@1", "hit@3", "mrr", "ndcg@5", "p@3")


def rank_table(rows: list[dict[str, float]]) -> dict[str, float]:
    return {m: float(np.mean([r[m] for r in rows])) if rows else 0.0 for m in METRICS} | {
        "n": len(rows)
    }


def paired_bootstrap(a: list[float], b: list[float], seed: int = 7) -> tuple[float, float, float]:
    """Mean of b - a, with a 95% percentile interval over resampled questions."""
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    diff = b_arr - a_arr
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, len(diff), size=(BOOTSTRAP_SAMPLES, len(diff)))
    means = diff[samples].mean(axis=1)
    return float(diff.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def run_v2(retriever, question: str) -> Ranked:
    started = time.perf_counter()
    outcome = retriever.search(question, k=10)
    return Ranked(
        [r.doc_id for r in outcome.results],
        not outcome.scope.in_scope or not outcome.grounded,
        time.perf_counter() - started,
    )


def run_v1(retriever, question: str, threshold: float) -> Ranked:
    started = time.perf_counter()
    outcome = retriever.search(question, k=10)
    return Ranked(
        [r.doc_id for r in outcome.results],
        outcome.best_similarity < threshold,
        time.perf_counter() - started,
    )


def calibrate_v1(retriever, on_topic: list[str], off_topic: list[str]) -> float:
    """v1's single cosine threshold, chosen on dev for balanced accuracy (as v1 did)."""
    on = np.array([retriever.search(q, k=3).best_similarity for q in on_topic])
    off = np.array([retriever.search(q, k=3).best_similarity for q in off_topic])
    best, best_key = 0.0, (-1.0, -1.0)
    for threshold in np.unique(np.concatenate([on, off])):
        key = ((np.mean(off < threshold) + np.mean(on >= threshold)) / 2, np.mean(on >= threshold))
        if key > best_key:
            best, best_key = float(threshold), key
    return best


def scope_rates(ranked_on: list[Ranked], ranked_off: list[Ranked]) -> dict[str, float]:
    return {
        "off_topic_declined": float(np.mean([r.declined for r in ranked_off])),
        "in_topic_false_decline": float(np.mean([r.declined for r in ranked_on])),
        "n_off": len(ranked_off),
        "n_on": len(ranked_on),
    }


# --- answers -----------------------------------------------------------------------

_POINT = re.compile(r"^\d+\. (.+?) \[\d+\]$")
CONVERSATION_EXPECT = {
    "greeting": {"greeting"},
    "thanks": {"thanks"},
    "help": {"help"},
    "about_privacy": {"about_privacy"},
    "about_checkins": {"about_checkins"},
    "follow_up": {"follow_up"},
    "more_on": {"more_on"},
    "something_else": {"something_else"},
}
ADVERSARIAL_EXPECT = {
    "refuse_privacy": {"privacy"},
    "refuse_ranking": {"ranking"},
    "refuse_posting": {"posting"},
    "refuse_coercive": {"coercive"},
    # An injection must not change what Tandem does: declined, or answered as guidance.
    "injection": {"injection", "out_of_scope", "not_grounded", "answer"},
}


def points_of(answer_text: str) -> list[str]:
    return [m.group(1) for line in answer_text.split("\n") if (m := _POINT.match(line.strip()))]


def answer_shape(service, questions: list[EvalQuestion], story_texts: set[str]) -> dict:
    """For in-topic questions the offline composer answers: concrete actions, story
    sentences used as advice, points that open by pointing back, and latency."""
    from bot.guidance.composer import stands_alone

    answered = 0
    with_two = 0
    story_points = 0
    dangling = 0
    times = []
    for q in questions:
        started = time.perf_counter()
        answer = service.answer(q.text)
        times.append(time.perf_counter() - started)
        if answer.kind != "answer":
            continue
        answered += 1
        points = points_of(answer.answer)
        with_two += len(points) >= 2
        story_points += sum(1 for p in points if any(p[:60] in s for s in story_texts))
        dangling += sum(1 for p in points if not stands_alone(p))
    return {
        "answered": answered,
        "with_two_actions": with_two / answered if answered else 0.0,
        "story_sentences_as_advice": story_points,
        "unresolved_openings": dangling,
        "seconds": times,
    }


def conversation_handled(service, questions: list[EvalQuestion]) -> dict:
    """Greetings, thanks, help and follow-ups handled as conversation (with the earlier turn)."""
    from bot.guidance.service import PreviousTurn

    results = []
    for q in questions:
        previous = None
        if q.previous:
            first = service.answer(q.previous)
            previous = PreviousTurn.from_memory(first.memory()) if first.grounded else None
        answer = service.answer(q.text, previous=previous)
        results.append((q, answer.kind in CONVERSATION_EXPECT.get(q.expect, set())))
    return {
        "handled": float(np.mean([ok for _q, ok in results])) if results else 0.0,
        "n": len(results),
        "missed": [q.text for q, ok in results if not ok],
    }


HELD_OUT = Path(__file__).parent.parent / "tests" / "support"
ABOUT_TANDEM = ("about_privacy", "about_checkins")


def held_out_requests(service) -> dict:
    """The blind writers' held-out sets for what Tandem declines and for questions about
    Tandem itself (`tests/support/request_probes.yaml`, `about_probes.yaml`): requests
    declined (or redirected) by the kind the writer meant, fair questions refused, and
    questions about Tandem answered with the facts."""
    declined = {"privacy", "ranking", "posting", "coercive", "mandate", "injection"}
    requests = yaml.safe_load((HELD_OUT / "request_probes.yaml").read_text("utf-8"))
    about = yaml.safe_load((HELD_OUT / "about_probes.yaml").read_text("utf-8"))

    def count(texts, kinds) -> int:
        return sum(service.answer(text).kind in kinds for text in texts)

    return {
        "declined": {
            kind: [count(texts, declined | {"out_of_scope"}), len(texts)]
            for kind, texts in requests["decline"].items()
        },
        "fair_refused": [count(requests["answer"], declined), len(requests["answer"])],
        "about": {
            name: [count(about[name], ABOUT_TANDEM), len(about[name])]
            for name in ("own_privacy", "own_checkins", "not_these")
        },
    }


def adversarial_handled(service, questions: list[EvalQuestion]) -> dict:
    results = []
    for q in questions:
        answer = service.answer(q.text)
        results.append((q, answer.kind in ADVERSARIAL_EXPECT.get(q.expect, set())))
    return {
        "handled": float(np.mean([ok for _q, ok in results])) if results else 0.0,
        "n": len(results),
        "missed": [q.text for q, ok in results if not ok],
    }
