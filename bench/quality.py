"""Retrieval quality and abstention on the labelled evaluation set (bench/eval/*.yaml).

A result is a hit when its document's primary theme is one the question accepts.
The abstention threshold is calibrated on the dev split only and reported on test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

EVAL_DIR = Path(__file__).parent / "eval"


@dataclass
class Question:
    text: str
    themes: list[str]
    split: str
    on_topic: bool


def load_questions() -> list[Question]:
    questions = []
    for path in sorted(EVAL_DIR.glob("questions-*.yaml")):
        for item in yaml.safe_load(path.read_text("utf-8"))["questions"]:
            questions.append(Question(item["q"], item["themes"], item["split"], True))
    for item in yaml.safe_load((EVAL_DIR / "offtopic.yaml").read_text("utf-8"))["questions"]:
        questions.append(Question(item["q"], [], item["split"], False))
    return questions


def rank_metrics(retriever, questions: list[Question], mode: str) -> dict[str, float]:
    hits1 = hits3 = 0
    reciprocal = []
    for question in questions:
        outcome = retriever.search(question.text, k=10, mode=mode)
        rank = next(
            (
                i
                for i, r in enumerate(outcome.results, start=1)
                if r.themes and r.themes[0] in question.themes
            ),
            None,
        )
        hits1 += rank == 1
        hits3 += rank is not None and rank <= 3
        reciprocal.append(1.0 / rank if rank else 0.0)
    n = len(questions)
    return {"hit@1": hits1 / n, "hit@3": hits3 / n, "mrr": float(np.mean(reciprocal)), "n": n}


def best_similarity(retriever, questions: list[Question]) -> np.ndarray:
    return np.array([retriever.search(q.text, k=3).best_similarity for q in questions])


def calibrate(on_topic: np.ndarray, off_topic: np.ndarray) -> float:
    """The threshold that best separates dev on- and off-topic questions.

    Maximises balanced accuracy, breaking ties towards fewer false abstentions,
    then places the cut midway in the gap it found.
    """
    candidates = np.unique(np.concatenate([on_topic, off_topic]))
    best, best_key = 0.0, (-1.0, -1.0)
    for threshold in candidates:
        abstain_off = float(np.mean(off_topic < threshold))
        answer_on = float(np.mean(on_topic >= threshold))
        key = ((abstain_off + answer_on) / 2, answer_on)
        if key > best_key:
            best, best_key = float(threshold), key
    below = candidates[candidates < best]
    return float((best + below.max()) / 2) if below.size else best


def abstention(retriever, questions: list[Question], threshold: float) -> dict[str, float]:
    on = [q for q in questions if q.on_topic]
    off = [q for q in questions if not q.on_topic]
    on_scores = best_similarity(retriever, on)
    off_scores = best_similarity(retriever, off)
    return {
        "threshold": threshold,
        "off_topic_abstention": float(np.mean(off_scores < threshold)),
        "false_abstention": float(np.mean(on_scores < threshold)),
        "n_on": len(on),
        "n_off": len(off),
    }
