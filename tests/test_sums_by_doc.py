"""Documents' centres are added up exactly as np.add.at adds them, bit for bit."""

import numpy as np
import pytest

from bot.knowledge.retrieval import sums_by_doc


@pytest.mark.parametrize("seed", range(5))
def test_sums_by_doc_are_np_add_at_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    count = 40
    sizes = rng.integers(0, 30, count)  # some documents have no rows, some one, some many
    docs = np.repeat(np.arange(count), sizes)
    rows = (
        rng.normal(size=(len(docs), 16)) * rng.choice([1e-3, 1.0, 1e3], len(docs))[:, None]
    ).astype(np.float32)
    expected = np.zeros((count, 16), dtype=np.float32)
    np.add.at(expected, docs, rows)
    assert sums_by_doc(rows, docs, count).tobytes() == expected.tobytes()


def test_rows_not_grouped_by_document_and_no_rows_at_all():
    rows = np.arange(12, dtype=np.float32).reshape(6, 2) / 7
    docs = np.array([2, 0, 2, 1, 0, 2])
    expected = np.zeros((3, 2), dtype=np.float32)
    np.add.at(expected, docs, rows)
    assert sums_by_doc(rows, docs, 3).tobytes() == expected.tobytes()
    assert not sums_by_doc(np.zeros((0, 2), dtype=np.float32), np.zeros(0, dtype=int), 3).any()
