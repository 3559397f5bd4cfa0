"""Pooled judging for new documents: `python -m bench.pool list OUT` and `... merge VERDICTS`.

A new document only counts in the benchmark once a blind reader has judged it. `list` runs
every labelled in-topic question of the evaluation set (both splits) and every fresh set's
in-topic question through v2 and pools v2's top three with its keyword-only and meaning-only
top two; it writes the pooled pairs nobody has judged yet, shuffled within each question, for
readers who see neither Tandem's ranking nor the labels. `merge` appends their verdicts (good,
partial, no) to `second_reader.yaml` or the fresh set's `.judged.yaml`, and adds documents
judged good to `labels.yaml` as acceptable, after the others. Header comments are kept; say in
them who judged what.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import yaml

from bench.evalset import (
    EVAL_DIR,
    FRESH_DIR,
    load_eval,
    load_fresh,
    load_second_reader,
    question_key,
    select,
)

POOL = (("hybrid", 3), ("bm25", 2), ("dense", 2))
VERDICTS = ("good", "partial", "no")


def pooled(retriever, text: str) -> list[str]:
    found: list[str] = []
    for mode, depth in POOL:
        for result in retriever.search(text, k=depth, mode=mode).results[:depth]:
            if result.doc_id not in found:
                found.append(result.doc_id)
    return found


def unjudged_pairs(retriever) -> list[dict]:
    """Every pooled (question, document) pair with no verdict yet, one entry a question."""
    second = load_second_reader()
    wanted: list[tuple[str, str, set[str]]] = []
    for q in select(load_eval(), kind="in_topic", labelled=True):
        judged = set(q.docs) | set(second.get(q.key, {}))
        wanted.append(("eval", q.text, judged))
    for fresh in load_fresh():
        for text in fresh.in_topic:
            wanted.append((fresh.name, text, set(fresh.judgements.get(question_key(text), {}))))
    rng = random.Random(11)
    out = []
    for source, text, judged in wanted:
        new = [d for d in pooled(retriever, text) if d not in judged]
        if new:
            rng.shuffle(new)
            out.append({"set": source, "key": question_key(text), "question": text, "docs": new})
    return out


def _rewrite(path: Path, top: str, data: dict) -> None:
    """Replace the YAML body under `top:` and keep the comment header above it."""
    text = path.read_text("utf-8")
    marker = f"\n{top}:\n"
    header = text[: text.index(marker) + 1] if marker in text else ""
    body = yaml.safe_dump({top: data}, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(header + body, "utf-8")


def merge(verdicts_path: Path) -> dict[str, int]:
    """Fold readers' verdicts ({set, key, verdicts: {doc: good|partial|no}} items) into the
    judgement files; returns counts per file."""
    items = yaml.safe_load(verdicts_path.read_text("utf-8"))
    second_path = EVAL_DIR / "second_reader.yaml"
    labels_path = EVAL_DIR / "labels.yaml"
    second = yaml.safe_load(second_path.read_text("utf-8"))["judgements"]
    labels = yaml.safe_load(labels_path.read_text("utf-8"))["labels"]
    fresh: dict[str, dict] = {}
    counts: dict[str, int] = {}
    for item in items:
        given = {str(d): str(v) for d, v in item["verdicts"].items()}
        bad = set(given.values()) - set(VERDICTS)
        if bad:
            raise SystemExit(f"{item['key']}: unknown verdicts {sorted(bad)}")
        if item["set"] == "eval":
            second.setdefault(item["key"], {}).update(given)
            good = [d for d, v in given.items() if v == "good"]
            docs = labels.setdefault(item["key"], {"docs": []})["docs"]
            docs.extend(d for d in good if d not in docs)
            counts["labels.yaml (good)"] = counts.get("labels.yaml (good)", 0) + len(good)
            target = "second_reader.yaml"
        else:
            name = item["set"]
            if name not in fresh:
                path = FRESH_DIR / f"{name}.judged.yaml"
                fresh[name] = yaml.safe_load(path.read_text("utf-8"))["judgements"]
            fresh[name].setdefault(item["key"], {}).update(given)
            target = f"{name}.judged.yaml"
        counts[target] = counts.get(target, 0) + len(given)
    _rewrite(second_path, "judgements", second)
    _rewrite(labels_path, "labels", labels)
    for name, data in fresh.items():
        _rewrite(FRESH_DIR / f"{name}.judged.yaml", "judgements", data)
    return counts


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("list", "merge"):
        raise SystemExit(__doc__)
    if argv[0] == "merge":
        for target, count in merge(Path(argv[1])).items():
            print(f"{target}: {count}")
        return
    from bench.harness import indexed_settings
    from bot.knowledge.retrieval import Retriever

    with indexed_settings() as settings:
        pairs = unjudged_pairs(Retriever(settings))
    Path(argv[1]).write_text(
        yaml.safe_dump(pairs, sort_keys=False, allow_unicode=True, width=100), "utf-8"
    )
    print(f"{sum(len(p['docs']) for p in pairs)} unjudged pairs, {len(pairs)} questions")


if __name__ == "__main__":
    main(sys.argv[1:])
