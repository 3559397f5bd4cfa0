"""The gates' example vectors, kept beside the index and keyed by exactly what they read."""

import dataclasses
import shutil

import numpy as np
import pytest

from bot.knowledge import embedcache, scope
from bot.knowledge.embedcache import CACHE_NAME, EmbeddingCache
from bot.knowledge.scope import example_vectors
from bot.knowledge.vocabulary import load_vocabulary
from bot.settings import REPO_ROOT
from tests.conftest import make_settings
from tests.support.knowledge_edits import add_an_offtopic_example


@pytest.fixture
def knowledge(tmp_path):
    """The shipped examples, vocabulary and embedding cache, in a copy a test may change."""
    folder = tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "knowledge" / "scope", folder / "scope")
    for name in ("vocabulary.yaml", CACHE_NAME):
        shutil.copy(REPO_ROOT / "knowledge" / name, folder / name)
    settings = make_settings(tmp_path / "data", TANDEM_KNOWLEDGE_DIR=str(folder))
    yield settings
    scope.load_examples.cache_clear()  # the copies' paths are gone with the test
    scope.load_refusal_examples.cache_clear()


def _vocabulary(settings):
    return load_vocabulary(settings.knowledge_dir / "vocabulary.yaml")


def _as_the_gates_read_them(settings):
    """Straight from the embedding cache, as the gates did before any of this was saved."""
    folder = settings.knowledge_dir / "scope"
    examples, refusals = scope.load_examples(folder), scope.load_refusal_examples(folder)
    cache = EmbeddingCache(settings.knowledge_dir / CACHE_NAME)
    read = _vocabulary(settings).normalise
    return {
        "inside": cache.encode(list(examples.inside)),
        "outside": cache.encode(list(examples.outside)),
        "lookalikes": cache.encode([read(t) for t in refusals.lookalikes]),
        "outside_read": cache.encode([read(t) for t in examples.outside]),
        **{
            f"refusal:{kind}": cache.encode([read(t) for t in texts])
            for kind, texts in refusals.by_kind.items()
        },
    }


def _flat(vectors) -> dict[str, bytes]:
    out = {
        name: getattr(vectors, name).tobytes()
        for name in ("inside", "outside", "lookalikes", "outside_read")
    }
    out.update({f"refusal:{k}": v.tobytes() for k, v in vectors.refusals.items()})
    return out


def _no_cache(*args, **kwargs):
    raise AssertionError("read the embedding cache although saved vectors matched")


def test_saved_example_vectors_are_exactly_what_the_cache_gives(knowledge, tmp_path, monkeypatch):
    saved = tmp_path / "saved"
    first = example_vectors(knowledge, _vocabulary(knowledge), saved)
    expected = {name: v.tobytes() for name, v in _as_the_gates_read_them(knowledge).items()}
    assert _flat(first) == expected
    assert list(first.refusals) == list(
        scope.load_refusal_examples(knowledge.knowledge_dir / "scope").by_kind
    )  # kinds keep their order
    assert len(list(saved.glob("*.npz"))) == 1
    monkeypatch.setattr(embedcache, "EmbeddingCache", _no_cache)
    second = example_vectors(knowledge, _vocabulary(knowledge), saved)
    assert _flat(second) == expected


def test_changed_examples_or_vocabulary_or_cache_file_are_read_again(knowledge, tmp_path):
    saved = tmp_path / "saved"

    def mark_saved_file() -> str:
        """Put a stand-in in the saved file: used while nothing changes, never after."""
        [path] = list(saved.glob("*.npz"))
        with np.load(path) as data:
            np.savez(path, **{name: np.full_like(data[name], 0.25) for name in data.files})
        assert (example_vectors(knowledge, _vocabulary(knowledge), saved).inside == 0.25).all()
        return path.name

    def read_again(vectors, old_name: str, saved_anew: bool = True) -> None:
        assert not (vectors.inside == 0.25).any() and not (vectors.outside == 0.25).any()
        names = [p.name for p in saved.glob("*.npz")]
        if saved_anew:  # under the new key; the old file went, it can never match again
            assert len(names) == 1 and names != [old_name]

    example_vectors(knowledge, _vocabulary(knowledge), saved)
    old = mark_saved_file()
    refusals = knowledge.knowledge_dir / "scope" / "refusals.yaml"
    refusals.write_text(
        refusals.read_text("utf-8").replace(
            "examples:\n  privacy:\n", 'examples:\n  privacy:\n    - "show me her check-ins"\n', 1
        ),
        "utf-8",
    )
    scope.load_refusal_examples.cache_clear()
    vectors = example_vectors(knowledge, _vocabulary(knowledge), saved)
    read_again(vectors, old, saved_anew=False)  # the new example needed the model
    assert len(vectors.refusals["privacy"]) == len(
        _as_the_gates_read_them(knowledge)["refusal:privacy"]
    )

    example_vectors(knowledge, _vocabulary(knowledge), saved)  # saved, now all are in the file
    old = mark_saved_file()
    cache = EmbeddingCache(knowledge.knowledge_dir / CACHE_NAME)
    cache.keep_only(scope.scope_texts(knowledge))  # the same vectors, fewer others: new bytes
    assert cache.save()
    vectors = example_vectors(knowledge, _vocabulary(knowledge), saved)
    read_again(vectors, old)
    expected = {name: v.tobytes() for name, v in _as_the_gates_read_them(knowledge).items()}
    assert _flat(vectors) == expected

    old = mark_saved_file()
    vocabulary = _vocabulary(knowledge)
    changed = dataclasses.replace(vocabulary, group_of={**vocabulary.group_of, "zebra": "x"})
    read_again(example_vectors(knowledge, changed, saved), old)


def test_a_changed_example_is_embedded_and_saved_only_once_in_the_cache_file(knowledge, tmp_path):
    saved = tmp_path / "saved"
    add_an_offtopic_example(knowledge.knowledge_dir)
    fresh = example_vectors(knowledge, _vocabulary(knowledge), saved)
    assert not list(saved.glob("*.npz"))  # a vector came from the model: not saved yet
    again = example_vectors(knowledge, _vocabulary(knowledge), saved)  # now from the file
    assert len(list(saved.glob("*.npz"))) == 1
    expected = {name: v.tobytes() for name, v in _as_the_gates_read_them(knowledge).items()}
    assert _flat(again) == expected
    assert np.allclose(fresh.outside, again.outside, atol=1e-3)  # float16 in the file


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"not a numpy file"),
        lambda path: path.write_bytes(path.read_bytes()[:100]),
        lambda path: np.savez(path, inside=np.zeros((1, 384), dtype=np.float32)),
    ],
)
def test_damaged_saved_example_vectors_are_read_again_and_rewritten(knowledge, tmp_path, damage):
    saved = tmp_path / "saved"
    example_vectors(knowledge, _vocabulary(knowledge), saved)
    [path] = list(saved.glob("*.npz"))
    damage(path)
    vectors = example_vectors(knowledge, _vocabulary(knowledge), saved)
    expected = {name: v.tobytes() for name, v in _as_the_gates_read_them(knowledge).items()}
    assert _flat(vectors) == expected
    with np.load(path) as data:  # written again, whole
        assert data["inside"].tobytes() == expected["inside"]
