"""Choose the scope gate's threshold on dev data (`make calibrate`): the evaluation set's dev
split and every fresh blind set marked dev (`bench/eval/fresh`).

The gate is retrained whenever the knowledge base changes (its in-scope examples are the
documents' own questions), so its threshold is re-chosen here rather than by hand: the
threshold that declines at least `--target` of the dev near-off-topic questions, both the
evaluation set's (the kind the target is written for) and all of them taken together, with the
fewest in-topic false declines (and, among equals, the most off-topic declined). Pooled alone,
the fresh writers' easier off-topic sets let the threshold slide below what the evaluation
set's dev questions support (0.35 once fresh7 was added). Prints the table;
`--write` stores the choice in `knowledge/scope/gate.yaml`. The test split and the fresh
sets marked test are never read.
"""

from __future__ import annotations

import argparse
import re
import tempfile

import numpy as np

from bench.evalset import load_eval, load_fresh, select
from bot.knowledge.index import ingest
from bot.knowledge.retrieval import Retriever
from bot.settings import Settings

THRESHOLDS = np.round(np.arange(0.30, 0.91, 0.05), 2)


def decisions(retriever: Retriever, texts: list[str]) -> list[tuple[float, bool]]:
    """Each text's in-scope probability, and whether any document is close enough."""
    found = []
    for text in texts:
        vector = retriever.encode_query(text)
        outcome = retriever.search(text, k=3, vector=vector)
        grounded = outcome.best_similarity >= retriever.settings.retrieval_min_similarity
        # A paraphrase of a document's own question is in scope at any threshold.
        probability = retriever.scope.probability(vector)
        if retriever.scope.paraphrases_a_document(vector):
            probability = 1.0
        found.append((probability, grounded))
    return found


def declined(found: list[tuple[float, bool]], threshold: float) -> float:
    """Share declined at this threshold (out of scope, or too far from any document)."""
    return sum(not (p >= threshold and grounded) for p, grounded in found) / max(1, len(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", type=float, default=0.95)  # the target
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    questions = load_eval()
    on = [q.text for q in select(questions, kind="in_topic", split="dev")]
    off = [q.text for q in select(questions, kind="off_topic", split="dev")]
    fresh_off: list[str] = []
    for fresh in load_fresh():  # blind writers' sets that have shaped Tandem (never "test")
        if fresh.role == "dev":
            on += fresh.in_topic
            fresh_off += fresh.off_topic
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, TANDEM_DATA_DIR=tmp)
        ingest(settings)
        retriever = Retriever(settings)
        print(
            f"dev (split and fresh dev sets): {len(on)} in-topic, "
            f"{len(off) + len(fresh_off)} near-off-topic ({len(off)} from the evaluation set)"
        )
        print("threshold  off-topic declined (evaluation set's)  in-topic false decline")
        on_found = decisions(retriever, on)
        eval_found = decisions(retriever, off)
        off_found = eval_found + decisions(retriever, fresh_off)
        chosen = None
        for threshold in THRESHOLDS:
            declined_off = declined(off_found, float(threshold))
            declined_eval = declined(eval_found, float(threshold))
            declined_on = declined(on_found, float(threshold))
            print(
                f"{threshold:9.2f}  {declined_off:18.1%} ({declined_eval:6.1%})  "
                f"{declined_on:22.1%}"
            )
            better = chosen is None or (declined_on, -declined_off) < (chosen[2], -chosen[1])
            if min(declined_off, declined_eval) >= args.target and better:
                chosen = (float(threshold), declined_off, declined_on)
    if chosen is None:
        print(f"No threshold declines {args.target:.0%}; gate.yaml left as it is.")
        return
    threshold, declined_off, declined_on = chosen
    print(f"chosen: {threshold:.2f}")
    if args.write:
        path = settings.knowledge_dir / "scope" / "gate.yaml"
        text = path.read_text("utf-8")
        text = re.sub(r"(?m)^threshold: .*$", f"threshold: {threshold:.2f}", text)
        text = re.sub(
            r"at [0-9.]+ it declined [0-9.]+% of\n# near-off-topic questions and wrongly declined "
            r"[0-9.]+% of in-topic ones",
            f"at {threshold:.2f} it declined {declined_off:.1%} of\n# near-off-topic questions "
            f"and wrongly declined {declined_on:.1%} of in-topic ones",
            text,
        )
        path.write_text(text, "utf-8")
        print(f"written to {path}")


if __name__ == "__main__":
    main()
