"""arrays.mask: the same Arrow array as pyarrow's own conversion, for every length and bit."""

import numpy as np
import pyarrow as pa
import pytest

from whereabouts.arrays import mask


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 63, 64, 65, 1000])
def test_mask_is_pyarrows_own_conversion(n: int) -> None:
    rng = np.random.default_rng(n)
    for values in (rng.random(n) < 0.5, np.ones(n, bool), np.zeros(n, bool)):
        got = mask(values)
        assert got.equals(pa.array(values))
        assert got.null_count == 0
        # as a filter it keeps exactly the rows numpy keeps
        rows = pa.array(np.arange(n))
        assert rows.filter(got).to_pylist() == np.arange(n)[values].tolist()


def test_mask_of_a_strided_view() -> None:
    values = np.random.default_rng(1).random(101) < 0.3
    view = values[::3]
    assert mask(view).equals(pa.array(view))
