"""occasions.CodedFixes.of against a plain coding: names sorted, rows lexsorted."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from whereabouts.analysis.occasions import CodedFixes


def _plain(fixes: pa.Table) -> tuple[list[str], list[dict[str, object]]]:
    dev = fixes.column("device_id").to_pylist()
    names = sorted(set(dev), key=lambda d: d.encode("utf-8"))
    code = np.array([names.index(d) for d in dev], np.int64)
    t = fixes.column("time").cast(pa.int64()).to_numpy()
    x, y = fixes.column("x").to_numpy(), fixes.column("y").to_numpy()
    order = np.lexsort((y, x, t, code))
    rows: list[dict[str, object]] = [
        {"code": int(code[i]), "time": int(t[i]), "x": float(x[i]), "y": float(y[i])} for i in order
    ]
    return names, rows


@pytest.mark.parametrize("ties", [0, 5, 2_000])
@pytest.mark.parametrize("shuffled", [False, True])
def test_coded_fixes_are_a_plain_coding(ties: int, shuffled: bool) -> None:
    # fixes in (device, time) order as a workspace gives them, with `ties` instants a
    # device has two fixes at (in either position order), or the same rows shuffled
    rng = np.random.default_rng(ties)
    n = 6_000
    devices = np.array(["R10", "R2", "é1", "Ä", "car"])
    dev = np.sort(rng.integers(0, len(devices), n))
    t = rng.integers(0, 10**9, n)
    order = np.lexsort((t, devices[dev].astype(str)))
    dev, t = dev[order], t[order]
    at = rng.choice(np.flatnonzero(dev[1:] == dev[:-1]), ties, replace=False)
    t[at + 1] = t[at]
    x, y = rng.random(n).round(1), rng.random(n)
    rows = rng.permutation(n) if shuffled else np.arange(n)
    fixes = pa.table(
        {
            "device_id": pa.array(devices[dev][rows], pa.string()),
            "time": pa.array(t[rows], pa.timestamp("us", tz="UTC")),
            "x": x[rows],
            "y": y[rows],
            "accuracy_m": np.ones(n),
        }
    )
    coded = CodedFixes.of(fixes)
    names, want = _plain(fixes)
    assert coded.names.to_pylist() == names
    assert coded.table.select(["code", "time", "x", "y"]).to_pylist() == want
    assert coded.table.column_names == ["code", "time", "x", "y", "accuracy_m"]
