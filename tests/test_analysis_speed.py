"""The shortcuts that make investigations fast give the same answers as the long way round.

- `engine_fixes` hands the engine only the fixes it needs (assigned to the officers
  analysed and near their duty), and the occasions come out the same as from every fix;
- `fix_statistics` (binary searches and one reduceat) agrees with a plain count per span,
  whatever order the spans come in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from whereabouts import schema
from whereabouts.analysis.inputs import US, Inputs
from whereabouts.analysis.investigate import device_periods, engine_fixes
from whereabouts.analysis.labelling import label_occasions
from whereabouts.analysis.occasions import fix_statistics
from whereabouts.analysis.params import AnalysisParams

DAY = datetime(2024, 3, 4, tzinfo=UTC)


def at(h: float) -> datetime:
    return DAY + timedelta(hours=h)


def table(name: str, rows: list[dict[str, object]]) -> pa.Table:
    sch = schema.TABLES[name]
    cols = {f.name: [r.get(f.name) for r in rows] for f in sch}
    cols["src_file"] = [name] * len(rows)
    cols["src_line"] = list(range(1, len(rows) + 1))
    return pa.table({f.name: pa.array(cols[f.name], f.type) for f in sch}, schema=sch)


def steady(device: str, h0: float, h1: float, where: object) -> list[dict[str, object]]:
    """Fixes every 30 s from h0 to h1; `where(hour) -> (x, y)`."""
    rows: list[dict[str, object]] = []
    for s in np.arange(h0 * 3600, h1 * 3600, 30.0):
        x, y = where(s / 3600)  # type: ignore[operator]
        rows.append(
            {
                "device_id": device,
                "time": DAY + timedelta(seconds=float(s)),
                "lat": 0.0,
                "lon": 0.0,
                "x": x,
                "y": y,
                "accuracy_m": 8.0,
            }
        )
    return rows


TOGETHER = ((8.5, 9.5), (11.0, 11.5), (13.9, 17.0))


def r2(h: float) -> tuple[float, float]:
    return (20.0, 0.0) if any(a <= h < b for a, b in TOGETHER) else (5000.0, 0.0)


def world() -> Inputs:
    """Two radios with fixes 06:00-20:00, assigned 08:00-16:00; P1 on duty 09-12, P2 10-14;
    a third radio held by someone outside the analysis, always beside R1."""
    fixes = (
        steady("R1", 6, 20, lambda h: (0.0, 0.0))
        + steady("R2", 6, 20, r2)
        + steady("R9", 6, 20, lambda h: (10.0, 0.0))
    )
    return Inputs(
        fixes=table("fixes", fixes),
        devices=table("devices", [{"device_id": d, "kind": "radio"} for d in ("R1", "R2", "R9")]),
        officers=table(
            "officers", [{"officer_id": o, "team": "T", "station": "S"} for o in ("P1", "P2", "P9")]
        ),
        assignments=table(
            "assignments",
            [
                {"officer_id": o, "device_id": d, "start": at(8), "end": at(16)}
                for o, d in (("P1", "R1"), ("P2", "R2"), ("P9", "R9"))
            ],
        ),
        duty=table(
            "duty",
            [
                {"officer_id": "P1", "start": at(9), "end": at(12), "duty_type": "response"},
                {"officer_id": "P2", "start": at(10), "end": at(14), "duty_type": "response"},
                {"officer_id": "P9", "start": at(6), "end": at(20), "duty_type": "response"},
            ],
        ),
    )


def kept_hours(fixes: pa.Table, device: str) -> tuple[float, float]:
    mine = fixes.filter(pa.compute.equal(fixes["device_id"], device))
    t = [(v - DAY).total_seconds() / 3600 for v in mine["time"].to_pylist()]
    return min(t), max(t)


def test_engine_fixes_are_the_assigned_time_near_duty_with_a_margin() -> None:
    inputs = world()
    params = AnalysisParams()
    pad_h = 2 * (params.max_gap_s + params.merge_gap_s) / 3600  # 14 minutes
    fixes = engine_fixes(inputs, ["P1", "P2"], params)
    assert set(fixes["device_id"].to_pylist()) == {"R1", "R2"}  # R9 is not P1's or P2's
    # assigned 08-16, on duty (either) 09-14: kept from 09:00 - pad to 14:00 + pad (the
    # last fix before that instant, on the 30-second grid)
    lo, hi = kept_hours(fixes, "R1")
    assert lo == pytest.approx(9 - pad_h)
    assert hi == pytest.approx(14 + pad_h - 30 / 3600)
    # all their time on assignment when off-duty time is analysed too
    every = engine_fixes(inputs, ["P1", "P2"], AnalysisParams(on_duty_only=False))
    lo, hi = kept_hours(every, "R2")
    assert lo == pytest.approx(8 - pad_h)
    assert hi == pytest.approx(16 + pad_h - 30 / 3600)
    assert engine_fixes(inputs, ["P7"], params).num_rows == 0


def test_occasions_from_the_engine_fixes_equal_those_from_every_fix() -> None:
    inputs = world()
    params = AnalysisParams()
    officers = ["P1", "P2"]
    needed = engine_fixes(inputs, officers, params)
    assert needed.num_rows < inputs.fixes.num_rows / 2
    full = label_occasions(
        inputs, device_periods(inputs.fixes, params, inputs.crs), officers, params
    )
    fast = label_occasions(inputs, device_periods(needed, params, inputs.crs), officers, params)
    # together 08:30-09:30, 11:00-11:30, 13:54-17:00; on duty 09-14, assigned 08-16: three
    # occasions, the first from 09:00 and the last until 14:00
    assert full.num_rows == 3
    starts = [v.astimezone(UTC).strftime("%H:%M") for v in full["start"].to_pylist()]
    ends = [v.astimezone(UTC).strftime("%H:%M") for v in full["end"].to_pylist()]
    assert starts[0] == "09:00" and ends[-1] == "14:00"
    # bit for bit: the engine's answer for a pair depends on that pair's fixes alone
    assert fast.equals(full)


def test_fix_statistics_match_a_plain_count_per_span() -> None:
    rng = np.random.default_rng(5)
    codes, times, accs = [], [], []
    for code in range(3):
        t = np.sort(rng.choice(np.arange(0, 20_000), size=400, replace=False)) * US
        codes.append(np.full(len(t), code))
        times.append(t)
        accs.append(rng.uniform(2, 20, len(t)))
    fixes = pa.table(
        {
            "code": np.concatenate(codes),
            "time": np.concatenate(times),
            "accuracy_m": np.concatenate(accs),
        }
    )
    n_spans = 60
    start = rng.integers(0, 19_000, n_spans) * US
    spans = pa.table(
        {
            "occasion_id": [f"o{i % 20:02d}" for i in range(n_spans)],
            "code": rng.integers(0, 3, n_spans),
            "start": start,
            "end": start + rng.integers(0, 3000, n_spans) * US,
        }
    )
    spans = spans.take(pa.array(rng.permutation(n_spans)))  # any order
    got = {r["occasion_id"]: r for r in fix_statistics(spans, fixes).to_pylist()}
    # the long way: each span's fixes by comparison, gaps between consecutive ones
    want: dict[str, dict[str, float]] = {}
    for r in spans.to_pylist():
        t, a = times[r["code"]], accs[r["code"]]
        inside = (t >= r["start"]) & (t <= r["end"])
        w = want.setdefault(r["occasion_id"], {"n": 0, "dev": 0, "acc": 0.0, "gap": 0.0})
        w["n"] += int(inside.sum())
        w["dev"] += int(inside.any())
        w["acc"] += float(a[inside].sum())
        if inside.sum() > 1:
            w["gap"] = max(w["gap"], float(np.diff(t[inside]).max() / US))
    assert set(got) == set(want)
    for k, w in want.items():
        assert got[k]["n_fixes"] == w["n"]
        assert got[k]["n_devices"] == w["dev"]
        assert got[k]["max_fix_gap_s"] == pytest.approx(w["gap"])
        if w["n"]:
            assert got[k]["position_error_m"] == pytest.approx(w["acc"] / w["n"])


def test_duplicated_periods_give_the_same_occasions_every_time() -> None:
    """Tied rows (a pair's period reported twice, as duty cuts do) must not let a later
    piece join an earlier occasion across a gap, whatever order the database meets them in."""
    inputs = world()
    params = AnalysisParams(on_duty_only=False)
    periods = device_periods(inputs.fixes, params, inputs.crs)
    once = label_occasions(inputs, periods, ["P1", "P2"], params)
    twice = pa.concat_tables([periods, periods, periods.slice(1), periods.slice(0, 1)])
    for _ in range(3):
        again = label_occasions(inputs, twice, ["P1", "P2"], params)
        assert again["start"].equals(once["start"]) and again["end"].equals(once["end"])
    # together 08:30-09:30, 11:00-11:30, 13:54-16:00 while assigned: three separate occasions
    assert once.num_rows == 3
