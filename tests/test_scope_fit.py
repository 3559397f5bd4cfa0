"""The scope gate's fitted weights, kept on disk between starts and keyed by what they fit."""

import numpy as np
import pytest

from bot.knowledge import scope
from bot.knowledge.scope import ScopeGate, fit_logistic


def _examples(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    inside = rng.normal(0.3, 1.0, (40, 8)).astype(np.float32)
    outside = rng.normal(-0.3, 1.0, (25, 8)).astype(np.float32)
    return inside, outside


def _fresh(inside: np.ndarray, outside: np.ndarray) -> tuple[np.ndarray, float]:
    features = np.vstack([inside, outside]).astype(np.float64)
    labels = np.concatenate([np.ones(len(inside)), np.zeros(len(outside))])
    return fit_logistic(features, labels)


def _gate(inside, outside, saved) -> ScopeGate:
    return ScopeGate(inside, outside, ("general",) * len(outside), saved=saved)


def _no_fitting(*args, **kwargs):
    raise AssertionError("fitted again although a saved fit matched")


def test_a_saved_fit_is_read_back_exactly_and_not_fitted_again(tmp_path, monkeypatch):
    inside, outside = _examples()
    first = _gate(inside, outside, tmp_path)
    coef, bias = _fresh(inside, outside)
    assert np.array_equal(first.coef, coef) and first.bias == bias
    assert len(list(tmp_path.glob("*.npz"))) == 1
    monkeypatch.setattr(scope, "fit_logistic", _no_fitting)
    second = _gate(inside, outside, tmp_path)
    assert np.array_equal(second.coef, coef) and second.bias == bias
    assert second.coef.dtype == coef.dtype and type(second.bias) is float
    vector = inside[0]
    assert second.judge(vector) == first.judge(vector)


def test_a_saved_fit_is_never_used_for_changed_examples(tmp_path):
    inside, outside = _examples()
    _gate(inside, outside, tmp_path)
    [saved] = list(tmp_path.glob("*.npz"))
    marked = np.full(inside.shape[1], 7.0)  # a stand-in no fit of these examples would give
    np.savez(saved, coef=marked, bias=np.array(0.5))
    assert np.array_equal(_gate(inside, outside, tmp_path).coef, marked)  # read, not refitted
    for changed_inside, changed_outside in (
        (inside[:-1], outside),  # an example removed
        (inside, np.vstack([outside, outside[:1] * 0.5])),  # an example added
        (inside, outside.copy()),  # an example's vector changed (below)
        (inside.astype(np.float64), outside),  # same values, another type
    ):
        if changed_outside is not outside and len(changed_outside) == len(outside):
            changed_outside[3, 2] += 1e-3
        gate = _gate(changed_inside, changed_outside, tmp_path)
        coef, bias = _fresh(changed_inside, changed_outside)
        assert np.array_equal(gate.coef, coef) and gate.bias == bias
        assert [p.name for p in tmp_path.glob("*.npz")] != [saved.name]  # the old file went
        assert len(list(tmp_path.glob("*.npz"))) == 1


def test_a_different_penalty_is_a_different_fit(tmp_path):
    inside, outside = _examples()
    _gate(inside, outside, tmp_path)
    gate = ScopeGate(inside, outside, ("general",) * len(outside), l2=3.0, saved=tmp_path)
    features = np.vstack([inside, outside]).astype(np.float64)
    labels = np.concatenate([np.ones(len(inside)), np.zeros(len(outside))])
    assert np.array_equal(gate.coef, fit_logistic(features, labels, l2=3.0)[0])


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not a numpy file"),
        lambda path: path.write_bytes(path.read_bytes()[:40]),  # cut short
        lambda path: np.savez(path, coef=np.zeros(3), bias=np.array(0.0)),  # wrong shape
        lambda path: np.savez(path, weights=np.zeros(8)),  # wrong fields
    ],
)
def test_a_damaged_saved_fit_is_refitted_and_rewritten(tmp_path, damage):
    inside, outside = _examples(1)
    _gate(inside, outside, tmp_path)
    [saved] = list(tmp_path.glob("*.npz"))
    damage(saved)
    gate = _gate(inside, outside, tmp_path)
    coef, bias = _fresh(inside, outside)
    assert np.array_equal(gate.coef, coef) and gate.bias == bias
    with np.load(saved) as data:  # written again, whole
        assert np.array_equal(data["coef"], coef)


def test_an_unwritable_directory_still_fits(tmp_path):
    inside, outside = _examples(2)
    blocked = tmp_path / "file"
    blocked.write_text("a file where the directory would be")
    gate = _gate(inside, outside, blocked)
    assert np.array_equal(gate.coef, _fresh(inside, outside)[0])
