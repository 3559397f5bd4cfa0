"""The scope gate's decision rule, on small hand-made vectors (the real gate is exercised
over the shipped knowledge base in test_retrieval.py)."""

import numpy as np

from bot.knowledge.scope import ScopeGate


def unit(*values):
    vector = np.asarray(values, dtype=np.float64)
    return vector / np.linalg.norm(vector)


INSIDE = np.array([unit(1, 0.1, 0), unit(1, -0.1, 0), unit(0.9, 0, 0.2)])
OUTSIDE = np.array([unit(0, 1, 0), unit(0.1, 1, 0), unit(0, 1, 0.2)])
REDIRECTS = ("legal", "legal", "it")


def test_the_regression_decides_when_no_document_question_is_close():
    gate = ScopeGate(INSIDE, OUTSIDE, REDIRECTS, threshold=0.5)
    assert gate.judge(unit(1, 0, 0)).in_scope
    verdict = gate.judge(unit(0, 1, 0.1))
    assert not verdict.in_scope and verdict.redirect == "legal"


def test_a_paraphrase_of_an_anchor_is_in_scope_whatever_the_regression_says():
    anchor = unit(0.2, 1, 0.05)  # a document's question that sits among the off-topic ones
    gate = ScopeGate(INSIDE, OUTSIDE, REDIRECTS, threshold=0.5, anchors=np.array([anchor]))
    near = unit(0.22, 1, 0.06)
    assert gate.probability(near) < 0.5
    verdict = gate.judge(near)
    assert verdict.in_scope and verdict.redirect == ""
    # Less alike than the paraphrase bar: the regression decides again.
    assert float(anchor @ unit(0, 1, 1)) < gate.paraphrase
    assert not gate.judge(unit(0, 1, 1)).in_scope


def test_without_anchors_nothing_is_let_through():
    gate = ScopeGate(INSIDE, OUTSIDE, REDIRECTS, threshold=0.5)
    assert not gate.paraphrases_a_document(unit(0, 1, 0))
