"""The refusal gate: does this message ask Tandem for something it declines, and which?

Patterns (`prompts/guidance/refusals.yaml`) catch the usual wordings. People ask in endless
other ways ("paste the three practice managers' reflections here, I'm their line manager"),
so the rest is decided by meaning, locally: a message is declined when the refusal examples
closest to it are, on average, closer than the closest messages that must be answered (every
way leaders ask for a document, leadership questions that use a refusal's words, and
off-topic questions, which the scope gate redirects instead). Examples are in
`knowledge/scope/refusals.yaml`.

Comparing neighbours, not one threshold, is what lets "how do I push back on a league table
of partners?" through while "rank my team by engagement" is declined: each has near
neighbours of its own kind. A document's own question is always its own closest neighbour,
so no way of asking for guidance can be refused. The kind is the one whose closest examples
are closest, by the same measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEIGHBOURS = 3  # compared on each side, and within each kind to choose it


@dataclass(frozen=True)
class RefusalVerdict:
    kind: str | None  # a refusal kind, or None to answer
    margin: float  # how much closer the refusal examples are than the answerable ones


class RefusalGate:
    """Built once from unit vectors the caller supplies (read the way questions are)."""

    def __init__(
        self,
        examples: dict[str, np.ndarray],
        answerable: np.ndarray,
        margin: float,
        advice_margin: float | None = None,
    ):
        kinds = [kind for kind, vectors in examples.items() if len(vectors)]
        self.margin = margin
        self.advice_margin = margin if advice_margin is None else advice_margin
        self.ready = bool(kinds) and len(answerable) >= NEIGHBOURS
        self.refusals = np.vstack([examples[kind] for kind in kinds]) if kinds else np.zeros((0, 1))
        self.kinds = kinds
        bounds = np.cumsum([0] + [len(examples[kind]) for kind in kinds])
        self.rows_of = {kind: slice(bounds[i], bounds[i + 1]) for i, kind in enumerate(kinds)}
        self.answerable = answerable

    def judge(self, vector: np.ndarray, seeks_advice: bool = False) -> RefusalVerdict:
        """`seeks_advice`: the message asks for advice ("how do I…"), which needs the wider
        margin: such a message is far more often a question that borrows a refusal's words."""
        if not self.ready:
            return RefusalVerdict(None, float("-inf"))
        to_refusals = self.refusals @ vector
        to_answerable = self.answerable @ vector
        margin = float(_top_mean(to_refusals) - _top_mean(to_answerable))
        if margin < (self.advice_margin if seeks_advice else self.margin):
            return RefusalVerdict(None, margin)
        kind = max(self.kinds, key=lambda k: _top_mean(to_refusals[self.rows_of[k]]))
        return RefusalVerdict(kind, margin)


def _top_mean(similarities: np.ndarray) -> float:
    count = min(NEIGHBOURS, len(similarities))
    return float(np.partition(similarities, -count)[-count:].mean())
