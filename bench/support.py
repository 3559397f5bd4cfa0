"""Calibrates the model path's support check (bot/guidance/llm.py, SUPPORT_SIMILARITY).

A model's point is shown only when it is close enough, by meaning, to the passage it cites.
No model runs here, so the calibration uses the nearest thing the knowledge base offers:

- supported pairs: a shortened restatement of an advice bullet (its first sentence, or its
  first half when it is one sentence) against the whole bullet;
- unsupported pairs: the same restatement against an advice bullet of a different
  document (what a point citing the wrong passage looks like).

It prints both distributions and the share of each that a threshold lets through.
Run: `python -m bench.support`.
"""

from __future__ import annotations

import numpy as np

from bot.guidance.llm import SUPPORT_SIMILARITY
from bot.knowledge.embedcache import EmbeddingCache
from bot.knowledge.index import load_documents
from bot.knowledge.passages import first_sentence, passages_of
from bot.settings import Settings


def restatement(text: str) -> str:
    first = first_sentence(text)
    if first != text.strip():
        return first
    words = text.split()
    return " ".join(words[: max(6, len(words) // 2)])


def run(settings: Settings | None = None, seed: int = 3) -> dict:
    settings = settings or Settings(_env_file=None)
    advice = [p for doc in load_documents(settings) for p in passages_of(doc) if p.is_advice]
    cache = EmbeddingCache(settings.knowledge_dir / "embeddings.npz")
    bullets = cache.encode([p.text for p in advice])
    claims = cache.encode([restatement(p.text) for p in advice])
    rng = np.random.default_rng(seed)
    others = []
    for passage in advice:
        while True:
            j = int(rng.integers(len(advice)))
            if advice[j].doc_id != passage.doc_id:
                others.append(j)
                break
    supported = np.einsum("ij,ij->i", claims, bullets)
    unsupported = np.einsum("ij,ij->i", claims, bullets[others])
    result = {
        "pairs": len(advice),
        "supported_pct": {p: float(np.percentile(supported, p)) for p in (1, 5, 10, 50)},
        "unsupported_pct": {p: float(np.percentile(unsupported, p)) for p in (50, 90, 95, 99)},
        "threshold": SUPPORT_SIMILARITY,
        "supported_kept": float(np.mean(supported >= SUPPORT_SIMILARITY)),
        "unsupported_kept": float(np.mean(unsupported >= SUPPORT_SIMILARITY)),
    }
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
