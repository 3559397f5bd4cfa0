"""Tag text with taxonomy themes offline: embedding similarity to each theme's description."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.knowledge.embeddings import get_encoder
from bot.knowledge.taxonomy import load_taxonomy

MAX_THEMES = 3
# Below this similarity a theme is not claimed at all; two close runners-up may join the best.
MIN_SIMILARITY = 0.20
RUNNER_UP_MARGIN = 0.06


@lru_cache(maxsize=2)
def _theme_vectors(taxonomy_path: Path):
    themes = load_taxonomy(taxonomy_path)
    texts = [f"{t.name}. {t.about}" for t in themes]
    return [t.slug for t in themes], get_encoder().encode(texts)


def tag_themes(text: str, taxonomy_path: Path) -> list[str]:
    if not text.strip():
        return []
    slugs, vectors = _theme_vectors(taxonomy_path)
    scores = vectors @ get_encoder().encode([text[:4000]])[0]
    order = np.argsort(-scores)
    best = float(scores[order[0]])
    if best < MIN_SIMILARITY:
        return []
    return [
        slugs[i]
        for i in order[:MAX_THEMES]
        if float(scores[i]) >= max(MIN_SIMILARITY, best - RUNNER_UP_MARGIN)
    ]
