"""Requests read by meaning, one small model a kind: does this message ask to see someone
else's reflections, or for help to pressure, shame, force out or unmask someone, in words no
pattern or example has seen?

The patterns (`prompts/guidance/refusals.yaml`) catch the usual wordings and the refusal
gate's nearest examples catch close paraphrases, but blind writers' requests in new words
mostly escaped both when they came with a reason ("just the gist, I'm their line manager")
or shared their nouns with a fair question ("a few small changes to her rota so she gets fed
up and resigns"). So for the kinds where that happened, a logistic regression over the
message's two readings (MiniLM and word vectors) is trained on that kind's requests against
fair asks in the same words, the refusal gate's look-alikes and every way leaders ask for a
document (`knowledge/scope/request_models.yaml`). A model only ever adds a refusal, and its
refusals say they may have misread where the kind's usual reply would accuse.
"""

from __future__ import annotations

import numpy as np

from bot.knowledge.scope import fit_saved


class RequestModel:
    """One kind's model, built once from unit vectors the caller supplies (each row MiniLM
    then word vectors)."""

    def __init__(
        self,
        requests: np.ndarray,
        fair: np.ndarray,
        threshold: float,
        regularisation: float,
        saved=None,
        defers_to_scope: bool = False,
    ):
        self.threshold = threshold
        self.defers_to_scope = defers_to_scope  # an out-of-scope message is redirected instead
        self.ready = len(requests) > 0 and len(fair) > 0
        if self.ready:
            self.coef, self.bias = fit_saved(saved, requests, fair, regularisation)

    def probability(self, features: np.ndarray) -> float:
        if not self.ready:
            return 0.0
        score = float(features.astype(np.float64) @ self.coef + self.bias)
        return float(1.0 / (1.0 + np.exp(-np.clip(score, -30, 30))))


def surest(models: dict[str, RequestModel], features: np.ndarray) -> tuple[str | None, float]:
    """The kind whose model reads the message as its own most surely, if any does, with that
    probability (the questions about Tandem itself use the same models: `about_privacy`,
    `about_checkins`)."""
    found = {kind: model.probability(features) for kind, model in models.items()}
    over = {kind: p for kind, p in found.items() if p >= models[kind].threshold}
    if not over:
        return None, 0.0
    kind = max(over, key=over.get)
    return kind, over[kind]
