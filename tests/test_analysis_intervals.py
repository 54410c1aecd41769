"""intervals.runs, group_codes and last_at_or_before against plain Python."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from whereabouts.analysis.intervals import group_codes, last_at_or_before, runs
from whereabouts.spans import running_max


def _python_runs(rows: list[tuple[int, int, int]], gap: int) -> set[tuple[int, int, int]]:
    """(group, start, end) of each run, merging in sorted order the obvious way."""
    out: list[list[int]] = []
    for g, s, e in sorted(rows):
        if out and out[-1][0] == g and s <= out[-1][2] + gap:
            out[-1][2] = max(out[-1][2], e)
        else:
            out.append([g, s, e])
    return {tuple(r) for r in out}  # type: ignore[misc]


def test_runs_match_a_plain_merge() -> None:
    rng = np.random.default_rng(5)
    for gap in (0, 3, 50):
        g = rng.integers(0, 7, 3_000)
        s = rng.integers(0, 10_000, 3_000)
        e = s + rng.integers(0, 40, 3_000)
        order, run = runs(g, s, e, gap)
        first = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])
        got = {
            (int(g[order][i]), int(s[order][i]), int(e[order][i:j].max()))
            for i, j in zip(first, [*first[1:], len(run)], strict=True)
        }
        assert got == _python_runs(list(zip(g.tolist(), s.tolist(), e.tolist(), strict=True)), gap)
        assert len(got) > 10


def test_rows_already_in_order_are_not_sorted_and_give_the_same_runs() -> None:
    rng = np.random.default_rng(6)
    g, s = rng.integers(0, 7, 3_000), rng.integers(0, 10_000, 3_000)
    e = s + rng.integers(0, 40, 3_000)
    order, run = runs(g, s, e, 3)
    sorted_order, sorted_run = runs(g[order], s[order], e[order], 3)
    assert (sorted_order == np.arange(len(g))).all()  # the fast path: no sort
    assert (sorted_run == run).all()


def test_running_max_of_groups_too_wide_for_one_shift() -> None:
    # months of µs in many groups: shifted from each group's own minimum (or per group)
    rng = np.random.default_rng(7)
    for scale, far in ((10**13, 2**40), (10**15, 2**60)):  # then per group
        g = np.sort(rng.integers(0, 2_000, 20_000))
        v = rng.integers(0, 10**6, 20_000) + g * scale
        v[::97] = rng.integers(0, far, len(v[::97]))  # a few far apart within a group
        want = v.copy()
        for u in np.unique(g):
            want[g == u] = np.maximum.accumulate(v[g == u])
        assert int(v.max() - v.min()) * 2_000 >= 2**62  # not the one-shift path
        assert (running_max(v, g) == want).all()


def test_overlapping_by_one_search_is_the_search_per_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the packed (key, time) search and the compiled one give count_below's very pairs, in
    # order, for queries before, inside, at the edges of and after every row's times, of
    # keys with and without rows
    from whereabouts.analysis import intervals
    from whereabouts.engine import native

    rng = np.random.default_rng(4)
    k = rng.integers(0, 30, 3_000) * 2  # odd keys have no rows
    s0 = rng.integers(-(10**12), 10**12, 3_000)
    s1 = s0 + rng.integers(-5, 10**10, 3_000)
    qk = rng.integers(-1, 63, 5_000)
    q0 = rng.integers(-2 * 10**12, 2 * 10**12, 5_000)
    q1 = q0 + rng.integers(0, 10**11, 5_000)
    q0[:500], q1[500:1_000] = s1[:500], s0[:500]  # queries touching rows' ends and starts
    qk[:1_000] = np.r_[k[:500], k[:500]]
    found = []
    if native.available():
        monkeypatch.setenv("WHEREABOUTS_NATIVE", "1")
        found.append(intervals.overlapping(qk, q0, q1, k, s0, s1))
    monkeypatch.setenv("WHEREABOUTS_NATIVE", "0")
    found.append(intervals.overlapping(qk, q0, q1, k, s0, s1))
    monkeypatch.setattr(intervals, "_below", lambda *a, **k: None)
    want = intervals.overlapping(qk, q0, q1, k, s0, s1)
    assert len(want[0]) > 1_000
    for got in found:
        assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


def test_runs_order_is_lexsorts_permutation() -> None:
    # many rows tying on (group, start), some also on end: the packed sort then the ties
    # by end give np.lexsort's very permutation; too wide a key to pack, and float times,
    # take lexsort itself
    from whereabouts.spans import _order

    rng = np.random.default_rng(3)
    g, s = rng.integers(-3, 40, 20_000), rng.integers(-50, 200, 20_000) * 10**9
    e = s + rng.integers(0, 4, 20_000)
    assert np.array_equal(_order(g, s, e), np.lexsort((e, s, g)))
    assert np.array_equal(runs(g, s, e, 5)[0], np.lexsort((e, s, g)))
    wide = np.array([0, 2**40, 0, 0]), np.array([2**40, 0, -(2**40), 2**40]), np.arange(4)[::-1]
    assert np.array_equal(_order(*wide), np.lexsort(wide[::-1]))
    f = s.astype(float)
    assert np.array_equal(_order(g, f, e), np.lexsort((e, f, g)))


def test_runs_of_nothing() -> None:
    order, run = runs(np.array([], np.int64), np.array([], np.int64), np.array([], np.int64))
    assert len(order) == len(run) == 0


def test_group_codes_are_equal_exactly_where_the_columns_are() -> None:
    a = pa.chunked_array([["x", "y", None], ["x", "y", "x"]])
    b = pa.chunked_array([["1", "1", "2"], ["1", "2", None]])
    code = group_codes(a, b)
    pairs = list(zip(a.to_pylist(), b.to_pylist(), strict=True))
    for i in range(len(pairs)):
        for j in range(len(pairs)):
            assert (code[i] == code[j]) == (pairs[i] == pairs[j])


@pytest.mark.parametrize("compiled", ["1", "0"])
def test_overlapping_finds_every_overlap_and_nothing_else(
    compiled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whereabouts.analysis.intervals import overlapping

    monkeypatch.setenv("WHEREABOUTS_NATIVE", compiled)
    rng = np.random.default_rng(9)
    k = rng.integers(0, 5, 400)
    s0 = rng.integers(0, 5_000, 400)
    s1 = s0 + rng.integers(-5, 600, 400)  # some nested, some empty or backwards
    qk = rng.integers(0, 7, 1_000)  # keys 5 and 6 have no rows
    q0 = rng.integers(0, 5_000, 1_000)
    q1 = q0 + rng.integers(0, 300, 1_000)
    got = set(zip(*(a.tolist() for a in overlapping(qk, q0, q1, k, s0, s1)), strict=True))
    want = {
        (q, r)
        for q in range(1_000)
        for r in range(400)
        if qk[q] == k[r] and s0[r] < q1[q] and s1[r] > q0[q]
    }
    assert got == want and len(want) > 500


def test_sort_by_is_lexsort() -> None:
    from whereabouts.analysis.intervals import sort_by

    rng = np.random.default_rng(2)
    major, minor = rng.integers(-5, 50, 5_000), rng.integers(-(10**12), 10**12, 5_000)
    assert np.array_equal(sort_by(major, minor), np.lexsort((minor, major)))
    huge = np.array([0, 2**40, 0]), np.array([2**40, 0, -(2**40)])  # too wide to pack
    assert np.array_equal(sort_by(*huge), np.lexsort((huge[1], huge[0])))
    assert len(sort_by(np.array([], np.int64), np.array([], np.int64))) == 0


def test_joined_gives_each_runs_extent_and_nearest_distance() -> None:
    from whereabouts.analysis.intervals import joined

    rng = np.random.default_rng(6)
    g = rng.integers(0, 4, 500)
    s = rng.integers(0, 3_000, 500)
    e = s + rng.integers(0, 30, 500)
    d = np.where(rng.uniform(size=500) < 0.3, np.nan, rng.uniform(0, 100, 500))
    j = joined(g, s, e, 10, d)
    assert j.nearest is not None
    got = set(zip(g[j.first].tolist(), j.start.tolist(), j.end.tolist(), strict=True))
    assert got == _python_runs(list(zip(g.tolist(), s.tolist(), e.tolist(), strict=True)), 10)
    rows = j.run_of_rows()
    for r in range(len(j.first)):
        mine = d[rows == r]
        want = np.nanmin(mine) if np.isfinite(mine).any() else np.nan
        assert (np.isnan(want) and np.isnan(j.nearest[r])) or j.nearest[r] == want


def test_last_at_or_before_matches_a_plain_search() -> None:
    rng = np.random.default_rng(7)
    k = np.sort(rng.choice([0, 1, 3, 4], 200))  # no rows of 2 (nor of 5, queried below)
    s = np.concatenate(
        [np.sort(rng.integers(-(10**12), 10**12, int((k == g).sum()))) for g in range(5)]
    )
    qk, qt = rng.integers(0, 6, 500), rng.integers(-2 * 10**12, 2 * 10**12, 500)
    at = rng.integers(0, len(s), 50)
    qk[:50], qt[:50] = k[at], s[at]  # queries exactly at a row's time
    got = last_at_or_before(k, s, qk, qt)
    for i in range(len(qk)):
        rows = [j for j in range(len(k)) if k[j] == qk[i] and s[j] <= qt[i]]
        assert got[i] == (max(rows, key=lambda j: (s[j], j)) if rows else -1)
    assert (last_at_or_before(k[:0], s[:0], qk, qt) == -1).all()


def test_shared_device_pieces_come_from_the_fixes_near_the_crews_time() -> None:
    # a car reporting every 60 s for 10 h with one long silence, held by two officers at
    # once for two spans (one edge inside a piece, one inside the silence): the crew's
    # pieces are every fix's pieces (consecutive fixes <= max gap apart) cut to those spans
    from whereabouts.analysis import attribution
    from whereabouts.analysis.inputs import US, Inputs
    from whereabouts.analysis.params import AnalysisParams

    params = AnalysisParams(on_duty_only=False)
    gap, h = int(params.max_gap_s * US), 3600 * US
    t = np.arange(0, 10 * h, 60 * US)
    t = t[(t < 4 * h) | (t > 5 * h)]  # the silence
    t0 = pa.scalar(0, pa.timestamp("us", tz="UTC")).value
    fixes = pa.table(
        {
            "device_id": ["car"] * len(t),
            "time": pa.array(t + t0, pa.timestamp("us", tz="UTC")),
            "x": np.zeros(len(t)),
            "y": np.zeros(len(t)),
        }
    )
    spans = [(2 * h + 17 * US, 4 * h + 30 * 60 * US), (7 * h, 8 * h)]
    held = [("A", s, e) for s, e in spans] + [("B", 0, 10 * h)]
    assignments = pa.table(
        {
            "officer_id": [o for o, _, _ in held],
            "device_id": ["car"] * len(held),
            "start": pa.array([s for _, s, _ in held], pa.timestamp("us", tz="UTC")),
            "end": pa.array([e for _, _, e in held], pa.timestamp("us", tz="UTC")),
        }
    )
    con = Inputs(fixes=fixes, assignments=assignments).connect()
    attribution.register_periods(con, pa.table({c: [] for c in attribution.PERIOD_COLUMNS}))
    attribution.select_assignments(con, ["A", "B"])
    attribution.build_coverage(con, params)
    attribution.build_pieces(con, params)
    got = sorted(con.execute('SELECT start, "end" FROM pieces').fetchall())
    breaks = np.flatnonzero(np.diff(t) > gap)
    pieces = zip(t[np.r_[0, breaks + 1]], t[np.r_[breaks, len(t) - 1]], strict=True)
    want = sorted(
        (max(int(a), s), min(int(b), e))
        for a, b in pieces
        for s, e in spans
        if max(int(a), s) < min(int(b), e)
    )
    assert got == want and len(want) == 2
    read = con.execute("SELECT sum(n) FROM coverage").fetchone()
    assert (
        read is not None and read[0] < len(t) // 2
    )  # only the fixes near the crew's spans were joined into pieces


@pytest.mark.parametrize("gaps", [None, {"car2": 300.0, "car3": 30.0}])
def test_coverage_from_coded_fixes_is_coverage_from_the_fixes_table(
    gaps: dict[str, float] | None,
) -> None:
    # three cars (one crewed but silent), a radio; rows in no order, with repeated instants:
    # the crewed cars' pieces from the coded fixes' slices are the ones the scan gives
    from whereabouts.analysis import attribution
    from whereabouts.analysis.inputs import US, Inputs
    from whereabouts.analysis.occasions import CodedFixes
    from whereabouts.analysis.params import AnalysisParams

    rng = np.random.default_rng(7)
    h = 3600 * US
    devices = np.array(["car1", "car2", "car3", "radio"])
    dev = rng.integers(0, 4, 3000)
    t = np.sort(rng.integers(0, 10 * h, 3000)) // (10 * US) * (10 * US)
    t = np.where(rng.random(3000) < 0.1, np.roll(t, 1), t)  # some at one instant
    ts = pa.timestamp("us", tz="UTC")
    fixes = pa.table(
        {
            "device_id": pa.array(devices[dev], pa.string()),
            "time": pa.array(t, ts),
            "x": rng.random(3000),
            "y": rng.random(3000),
            "accuracy_m": np.full(3000, 5.0),
        }
    )
    held = [
        ("A", "car1", 0, 10 * h),  # crewed from before its first fix to after its last
        ("B", "car1", 0, 10 * h),
        ("A", "car2", 5 * h, 9 * h),
        ("C", "car2", 5 * h + 7 * US, 8 * h),
        ("D", "car2", 8 * h + 30 * 60 * US, 8 * h + 45 * 60 * US),  # car2 crewed three times
        ("B", "car2", 9 * h + 30 * 60 * US, 9 * h + 36 * 60 * US),
        ("D", "car2", 9 * h + 20 * 60 * US, 9 * h + 50 * 60 * US),
        ("B", "car3", 0, 10 * h),
        ("C", "car3", 3 * h, 3 * h + 40 * 60 * US),
        ("A", "radio", 0, 10 * h),
        ("B", "bus", 0, 10 * h),  # crewed, but no fixes
        ("C", "bus", 1 * h, 2 * h),
    ]
    assignments = pa.table(
        {
            "officer_id": [r[0] for r in held],
            "device_id": [r[1] for r in held],
            "start": pa.array([r[2] for r in held], ts),
            "end": pa.array([r[3] for r in held], ts),
        }
    )
    params = AnalysisParams.of({"max_gap_s": 60.0})
    inputs = Inputs(fixes=fixes, assignments=assignments)
    got = []
    for coded in (None, CodedFixes.of(fixes)):
        con = inputs.connect()
        attribution.select_assignments(con, ["A", "B", "C", "D"])
        attribution.build_coverage(con, params, gaps, coded)
        rows = con.execute('SELECT * FROM coverage ORDER BY device_id, start, "end"')
        got.append(rows.fetchall())
    assert got[0] == got[1]
    assert {r[0] for r in got[0]} == {"car1", "car2", "car3"} and len(got[0]) > 20


def test_period_pieces_are_the_join_of_periods_with_both_assignments() -> None:
    # periods (some of one instant) of devices held by officers in overlapping spans (one
    # officer holding both devices at once too): the pieces are the SQL join's rows
    from whereabouts.analysis import attribution
    from whereabouts.analysis.inputs import Inputs, fetch
    from whereabouts.analysis.params import AnalysisParams

    rng = np.random.default_rng(11)
    ts = pa.timestamp("us", tz="UTC")
    devices = [f"D{i}" for i in range(8)]
    pa_ = rng.integers(0, 8, 2_000)
    pb = (pa_ + rng.integers(1, 8, 2_000)) % 8
    p0 = rng.integers(0, 10**6, 2_000)
    p1 = p0 + rng.integers(0, 5_000, 2_000) * (rng.random(2_000) < 0.9)
    periods = pa.table(
        {
            "device_a": pa.array([devices[i] for i in pa_]),
            "device_b": pa.array([devices[i] for i in pb]),
            "start": pa.array(p0, ts),
            "end": pa.array(p1, ts),
            "min_distance_m": rng.random(2_000) * 50,
        }
    )
    a0 = rng.integers(0, 10**6, 300)
    assignments = pa.table(
        {
            "officer_id": pa.array([f"O{i}" for i in rng.integers(0, 6, 300)]),
            "device_id": pa.array([devices[i] for i in rng.integers(0, 8, 300)]),
            "start": pa.array(a0, ts),
            "end": pa.array(a0 + rng.integers(1, 100_000, 300), ts),
        }
    )
    con = Inputs(assignments=assignments).connect()
    attribution.register_periods(con, periods)
    attribution.select_assignments(con, None)
    con.execute('CREATE TABLE coverage (device_id VARCHAR, start BIGINT, "end" BIGINT, n BIGINT)')
    attribution.build_pieces(con, AnalysisParams(on_duty_only=False))
    got = sorted(con.execute("SELECT * FROM pieces").fetchall())
    want = fetch(
        con,
        """
        SELECT least(a.officer_id, b.officer_id), greatest(a.officer_id, b.officer_id),
               p.device_a, p.device_b, greatest(p.start, a.start, b.start) AS s,
               least(p."end", a."end", b."end") AS e, p.min_distance_m
        FROM periods p
        JOIN asg a ON a.device_id = p.device_a AND a.start < p."end" AND a."end" > p.start
        JOIN asg b ON b.device_id = p.device_b AND b.start < p."end" AND b."end" > p.start
        WHERE a.officer_id <> b.officer_id AND e > s""",
    )
    assert got == sorted(tuple(r.values()) for r in want.to_pylist())
    assert len(got) > 500
    # on duty: each piece cut to every roster entry of either officer, a cut both officers'
    # entries give (one shift for all, an entry repeated) once; an officer not analysed
    # has entries too
    d0 = np.r_[np.arange(0, 10**6, 50_000), rng.integers(0, 10**6, 60)]
    d1 = d0 + np.r_[np.full(20, 30_000), rng.integers(1, 40_000, 60)]
    who = [f"O{i}" for i in range(7) for _ in range(20)] + [f"O{i}" for i in rng.integers(0, 7, 60)]
    d0, d1 = np.r_[np.tile(d0[:20], 7), d0[20:]], np.r_[np.tile(d1[:20], 7), d1[20:]]
    who, d0, d1 = [*who, "O1"], np.r_[d0, d0[-1]], np.r_[d1, d1[-1]]  # an entry twice
    duty = pa.table(
        {
            "officer_id": pa.array(who),
            "start": pa.array(d0, ts),
            "end": pa.array(d1, ts),
        }
    )
    con = Inputs(assignments=assignments, duty=duty).connect()
    attribution.register_periods(con, periods)
    attribution.select_assignments(con, [f"O{i}" for i in range(6)])
    con.execute('CREATE TABLE coverage (device_id VARCHAR, start BIGINT, "end" BIGINT, n BIGINT)')
    attribution.build_pieces(con, AnalysisParams(on_duty_only=True))
    got = sorted(con.execute("SELECT * FROM pieces").fetchall())
    attribution.register_periods(con, periods)  # again on the same connection: the same
    attribution.build_pieces(con, AnalysisParams(on_duty_only=True))
    assert sorted(con.execute("SELECT * FROM pieces").fetchall()) == got
    entries: dict[str, list[tuple[int, int]]] = {}
    for o, a, b in zip(who, d0, d1, strict=True):
        entries.setdefault(o, []).append((int(a), int(b)))
    cut = []
    for r in want.to_pylist():
        oa, ob, da, db, s, e, dist = r.values()

        def cuts(officer: str, s: int = s, e: int = e) -> list[tuple[int, int]]:
            return [(max(s, a), min(e, b)) for a, b in entries[officer] if a < e and b > s]

        mine = cuts(oa)
        theirs = [c for c in cuts(ob) if c not in mine]  # a cut both gave: once
        cut += [(oa, ob, da, db, a, b, dist) for a, b in mine + theirs]
    assert got == sorted(cut)
    assert len(got) > 500 and len(set(got)) < len(got) < 2 * len(want) - 300


def test_occasions_are_each_pairs_merged_pieces_with_their_ids() -> None:
    # pieces of four officer pairs, many tied on start (one per duty entry of each officer),
    # some of one instant: the occasions and their pieces are those a plain merge gives,
    # ids the MD5 of "officer_a|officer_b|start", and the halves split the pairs
    import hashlib

    import duckdb

    from whereabouts.analysis.inputs import US
    from whereabouts.analysis.labelling import _halves
    from whereabouts.analysis.occasions import build_occasions
    from whereabouts.analysis.params import AnalysisParams

    rng = np.random.default_rng(3)
    n = 4_000
    pairs = [("A", "B"), ("A", "C"), ("B", "C"), ("C", "D")]
    which = rng.integers(0, 4, n)
    start = rng.integers(0, 100_000, n) * 10 * US
    end = start + rng.integers(0, 600, n) * US * (rng.random(n) < 0.95)
    dup = rng.random(n) < 0.4
    which, start, end = (np.r_[v, v[dup]] for v in (which, start, end))  # tied pieces
    dist = rng.random(len(start)) * 50
    dist[rng.random(len(start)) < 0.1] = np.nan
    pieces = pa.table(
        {
            "officer_a": [pairs[i][0] for i in which],
            "officer_b": [pairs[i][1] for i in which],
            "device_a": [f"d{i}" for i in rng.integers(0, 5, len(start))],
            "device_b": [f"e{i}" for i in rng.integers(0, 5, len(start))],
            "start": pa.array(start, pa.int64()),
            "end": pa.array(end, pa.int64()),
            "min_distance_m": pa.array(dist, pa.float64(), from_pandas=True),
        }
    )
    params = AnalysisParams.of({"merge_gap_s": 60.0, "min_duration_s": 300.0})
    gap, least = 60 * US, 300 * US
    want: dict[str, tuple[str, str, int, int, float]] = {}
    rows_of: dict[str, list[int]] = {}
    for k, (a, b) in enumerate(pairs):
        mine = sorted(np.flatnonzero(which == k).tolist(), key=lambda i: (start[i], end[i]))
        run: list[int] = []
        for i in [*mine, -1]:
            if run and (i < 0 or start[i] > max(end[j] for j in run) + gap):
                s0, e0 = int(start[run[0]]), max(int(end[j]) for j in run)
                if e0 - s0 >= least:
                    oid = hashlib.md5(f"{a}|{b}|{s0}".encode()).hexdigest()[:16]
                    near = [dist[j] for j in run if not np.isnan(dist[j])]
                    want[oid] = (a, b, s0, e0, min(near) if near else np.nan)
                    rows_of[oid] = sorted(run)
                run = []
            run.append(i)
    con = duckdb.connect()
    found = build_occasions(con, params, pieces)
    occ = con.sql("SELECT * FROM occ").to_arrow_table()
    got = {
        r["occasion_id"]: (
            r["officer_a"],
            r["officer_b"],
            r["start"],
            r["end"],
            r["period_min_distance_m"],
        )
        for r in occ.to_pylist()
    }
    assert len(want) > 50 and got.keys() == want.keys()
    for oid, (a, b, s0, e0, d) in want.items():
        assert got[oid][:4] == (a, b, s0, e0)
        assert got[oid][4] == d or (np.isnan(d) and got[oid][4] is None)
    assert occ["duration_s"].to_pylist() == [
        (e - s) / US for s, e in zip(occ["start"].to_pylist(), occ["end"].to_pylist(), strict=True)
    ]
    # occ_pieces: each kept run's pieces (duplicates too), with its id
    op = con.sql("SELECT * FROM occ_pieces").to_arrow_table()
    key = ["officer_a", "officer_b", "device_a", "device_b", "start", "end"]
    every = pieces.select(key).to_pylist()
    want_pieces = sorted((oid, *every[i].values()) for oid, rows in rows_of.items() for i in rows)
    assert (
        sorted(
            (r.pop("occasion_id"), *r.values())
            for r in op.select(["occasion_id", *key]).to_pylist()
        )
        == want_pieces
    )
    # each pair in one half only; both halves hold some
    theirs = _halves(found)
    half = {
        (a, b): bool(theirs[p])
        for a, b, p in zip(
            occ["officer_a"].to_pylist(), occ["officer_b"].to_pylist(), found.pair, strict=True
        )
    }
    assert len(half) == 4 and 0 < sum(half.values()) < 4


def test_the_halves_weigh_the_occasions_described_in_full() -> None:
    """A pair whose occasions are described in full weighs more than its time together
    (labelling.DESCRIBED_WEIGHT mean occasions each): with few minutes together but many
    occasions described, it outweighs the others and has a half to itself; with every
    pair described, they split two and two."""
    from whereabouts.analysis.labelling import DESCRIBED_WEIGHT, _halves
    from whereabouts.analysis.occasions import Occasions

    officers = [("A", "B"), ("C", "D"), ("E", "F"), ("G", "H")]
    minutes = [100, 3_000, 2_000, 1_000]  # each pair's time together, in 10 occasions
    occ = pa.table(
        {
            "officer_a": [a for a, _ in officers for _ in range(10)],
            "officer_b": [b for _, b in officers for _ in range(10)],
        }
    )
    start = np.arange(40) * 10**10
    pieces = pa.table({"start": start, "end": start + np.repeat(minutes, 10) // 10 * 60_000_000})
    pair = np.repeat(np.arange(4), 10)
    found = Occasions(occ, pieces, pair, pair)
    assert DESCRIBED_WEIGHT > 1
    assert _halves(found, ["A", "B"]).tolist() == [False, True, True, True]
    assert sorted(_halves(found, None).tolist()) == [False, False, True, True]
    assert sorted(_halves(found, []).tolist()) == [False, False, True, True]  # (time alone)
