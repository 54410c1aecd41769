"""The per-instant points of occasions and the premises lookup, against plain oracles."""

from __future__ import annotations

import itertools
import os

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from whereabouts.analysis.occasions import instants
from whereabouts.analysis.reasons import at_places
from whereabouts.engine import native

# The points as DuckDB computed them before `instants` (GROUP BY and a window): the oracle.
ORACLE = """
    WITH p AS (SELECT occ, t, avg(mx) AS mx, avg(my) AS my
               FROM s WHERE dist <= {d} GROUP BY occ, t),
    q AS (SELECT *, lead(t) OVER w AS nt, lead(mx) OVER w AS nx, lead(my) OVER w AS ny
          FROM p WINDOW w AS (PARTITION BY occ ORDER BY t))
    SELECT occ, t, mx, my,
           CASE WHEN nt IS NULL THEN 0 ELSE least(nt - t, {gap}) END AS dt,
           coalesce(sqrt((nx - mx)^2 + (ny - my)^2) * 1000000 / (nt - t) < {v}, FALSE)
               AS stopped
    FROM q ORDER BY occ, t
"""


def _samples(rng: np.random.Generator, n: int) -> pa.Table:
    occ = np.sort(rng.integers(0, 40, n))
    t = rng.integers(0, 200, n) * 30_000_000  # instants on a 30 s grid, some repeated
    walk = rng.normal(0, 20, n)  # some pairs stand still (< 1 m/s), some move
    return pa.table(
        {
            "occ": occ,
            "t": t,
            "dist": rng.uniform(0, 150, n),
            "mx": 300_000 + np.cumsum(walk),
            "my": 170_000 + rng.uniform(0, 5, n),
        }
    )


def test_instants_agree_with_the_sql_they_replace() -> None:
    rng = np.random.default_rng(7)
    samples = _samples(rng, 5_000)
    got = instants(samples, 100.0, 300_000_000, 1.0)
    con = duckdb.connect()
    con.register("s", samples)
    want = con.sql(ORACLE.format(d=100.0, gap=300_000_000, v=1.0)).to_arrow_table()
    assert got.num_rows == want.num_rows > 1000
    for c in ("occ", "t", "dt"):
        assert np.array_equal(got[c].to_numpy(), want[c].to_numpy()), c
    for c in ("mx", "my"):  # a mean of several pairs may differ in the last bit
        assert np.allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=0, atol=1e-6), c
    assert np.array_equal(got["stopped"].to_numpy(), want["stopped"].to_numpy())
    assert 0 < got["stopped"].to_numpy().sum() < got.num_rows


def test_instants_do_not_depend_on_the_order_of_samples_of_different_instants() -> None:
    rng = np.random.default_rng(8)
    samples = _samples(rng, 2_000)
    shuffled = samples.take(pa.array(rng.permutation(samples.num_rows)))
    a, b = instants(samples, 100.0, 300_000_000, 1.0), instants(shuffled, 100.0, 300_000_000, 1.0)
    assert a.select(["occ", "t", "dt"]).equals(b.select(["occ", "t", "dt"]))
    assert np.allclose(a["mx"].to_numpy(), b["mx"].to_numpy(), rtol=0, atol=1e-6)


def test_instants_of_nothing() -> None:
    empty = _samples(np.random.default_rng(1), 10).slice(0, 0)
    assert instants(empty, 100.0, 1, 1.0).num_rows == 0


def test_at_places_finds_exactly_the_points_within_reach() -> None:
    rng = np.random.default_rng(3)
    px, py = rng.uniform(0, 5_000, 30), rng.uniform(0, 5_000, 30)
    reach = rng.uniform(20, 400, 30)
    x = np.r_[rng.uniform(-500, 5_500, 20_000), px + reach, px[:5]]  # on the edge, at it
    y = np.r_[rng.uniform(-500, 5_500, 20_000), py, py[:5]]
    (point, place), d = at_places(x, y, px, py, reach)
    full = np.hypot(x[:, None] - px[None, :], y[:, None] - py[None, :])
    want = np.argwhere(
        np.sqrt((px[None, :] - x[:, None]) ** 2 + (py[None, :] - y[:, None]) ** 2) <= reach[None, :]
    )
    assert len(want) > 100
    assert np.array_equal(np.column_stack([point, place]), want)  # point, then place order
    assert np.allclose(d, full[point, place])


def test_at_places_far_apart_each_cell_listing_one_place() -> None:
    """Stations kilometres apart (no cell lists two): the same pairs and distances as the
    brute force, most points at one."""
    rng = np.random.default_rng(5)
    px, py = np.arange(6) * 3_000.0, np.arange(6) * 2_000.0
    reach = np.full(6, 180.0)
    at = rng.integers(0, 6, 50_000)
    x = np.r_[px[at] + rng.normal(0, 120, 50_000), rng.uniform(-1e4, 3e4, 5_000)]
    y = np.r_[py[at] + rng.normal(0, 120, 50_000), rng.uniform(-1e4, 3e4, 5_000)]
    (point, place), d = at_places(x, y, px, py, reach)
    full = np.sqrt((px[None, :] - x[:, None]) ** 2 + (py[None, :] - y[:, None]) ** 2)
    want = np.argwhere(full <= reach[None, :])
    assert len(want) > 30_000
    assert np.array_equal(np.column_stack([point, place]), want)
    assert np.array_equal(d, full[point, place])


def test_runs_of_instants_are_joined_runs() -> None:
    """The premises' windows joined as spans.joined joins them: instants that never
    overlap directly, others (overlapping, out of order) by joined itself."""
    from whereabouts.analysis.reasons import _runs
    from whereabouts.spans import joined

    rng = np.random.default_rng(9)
    occ = np.sort(rng.integers(0, 40, 3_000))
    t = np.cumsum(rng.integers(1, 50, 3_000))
    dt = rng.integers(1, 30, 3_000)
    dt = np.minimum(dt, np.r_[np.diff(t), 30])  # each ends at or before the next begins
    for w1 in (t + dt, t + rng.integers(1, 80, 3_000)):  # apart; overlapping
        got = _runs(occ, t, w1)
        j = joined(occ, t, w1)
        want = (occ[j.first], j.start, j.end)
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
    assert all(len(a) == 0 for a in _runs(occ[:0], t[:0], t[:0]))


def test_at_places_with_nothing_to_find() -> None:
    (point, place), d = at_places(
        np.array([1.0]), np.array([1.0]), np.array([]), np.array([]), np.array([])
    )
    assert len(point) == len(place) == len(d) == 0


def test_fix_order_sorts_only_what_is_out_of_order() -> None:
    from whereabouts.analysis.occasions import fix_order

    rng = np.random.default_rng(11)
    code = np.sort(rng.integers(0, 5, 2_000))
    t = np.concatenate(
        [np.sort(rng.integers(0, 300, int((code == c).sum()))) for c in range(5)]
    )  # sorted per device, with repeated instants
    x, y = rng.integers(0, 3, 2_000).astype(float), rng.uniform(0, 1, 2_000)
    want = np.lexsort((y, x, t, code))
    got = fix_order(code, t, x, y)
    assert got is not None
    assert np.array_equal(np.c_[code, t, x, y][got], np.c_[code, t, x, y][want])
    shuffled = rng.permutation(2_000)
    again = fix_order(code[shuffled], t[shuffled], x[shuffled], y[shuffled])
    assert again is not None
    assert np.array_equal(np.c_[code, t, x, y][shuffled][again], np.c_[code, t, x, y][want])
    t_unique = np.arange(2_000)
    assert fix_order(code, t_unique, x, y) is None
    # copies of the table one after another, each device's copy coded apart (the ladder's):
    # each in time order per device, the devices interleaved
    copies = 3
    cc = np.concatenate([code * copies + i for i in range(copies)])
    ct, cx, cy = np.tile(t, copies), np.tile(x, copies), np.tile(y, copies)
    both = fix_order(cc, ct, cx, cy)
    assert both is not None and np.array_equal(both, np.lexsort((cy, cx, ct, cc)))
    ct = np.tile(t_unique, copies)
    again = fix_order(cc, ct, cx, cy)
    assert again is not None and np.array_equal(again, np.lexsort((cy, cx, ct, cc)))


def _position(ft: np.ndarray, fx: np.ndarray, t: int, gap: int) -> float:
    """One device's x at instant t the plain way: its fix then, or a straight line between
    the fixes either side when they are at most `gap` apart."""
    before = np.flatnonzero(ft <= t)
    if not len(before):
        return float("nan")
    i = before[-1]
    if ft[i] == t:
        return float(fx[i])
    if i + 1 >= len(ft) or not 0 < ft[i + 1] - ft[i] <= gap:
        return float("nan")
    return float(fx[i] + (fx[i + 1] - fx[i]) * ((t - ft[i]) / (ft[i + 1] - ft[i])))


def test_sample_pieces_match_interpolating_each_instant_the_plain_way() -> None:
    from whereabouts.analysis.occasions import sample_pieces

    rng = np.random.default_rng(4)
    step, gap = 30, 100
    fixes = []
    for code in range(4):
        t = np.sort(rng.choice(np.arange(0, 3_000), 120, replace=False))
        fixes.append((np.full(120, code), t, rng.uniform(0, 500, 120)))
    fcode, ft, fx = (np.concatenate(c) for c in zip(*fixes, strict=True))
    table = pa.table({"code": fcode, "time": ft, "x": fx, "y": fx * 2.0})
    rows = []
    for occ in range(12):  # overlapping pieces of several device pairs per occasion
        for _ in range(3):
            a, b = sorted(rng.choice(4, 2, replace=False))
            s = int(rng.integers(0, 2_800))
            rows.append((occ, a, b, s, s + int(rng.integers(0, 400))))
    pieces = pa.table(
        dict(
            zip(
                ("occ", "code_a", "code_b", "start", "end"),
                map(np.array, zip(*sorted(rows), strict=True)),
                strict=True,
            )
        )
    )
    got = pa.concat_tables(list(sample_pieces(pieces, table, step, gap)))
    want = []
    for occ, a, b, s, e in sorted(rows):
        for instant in range(-(-s // step) * step, e + 1, step):
            xa = _position(ft[fcode == a], fx[fcode == a], instant, gap)
            xb = _position(ft[fcode == b], fx[fcode == b], instant, gap)
            if np.isfinite(xa) and np.isfinite(xb):
                want.append((occ, instant, (xa + xb) / 2))
    assert len(want) > 100
    assert got["occ"].to_pylist() == [w[0] for w in want]
    assert got["t"].to_pylist() == [w[1] for w in want]
    assert np.allclose(got["mx"].to_numpy(), [w[2] for w in want], rtol=0, atol=1e-9)
    assert np.allclose(got["my"].to_numpy(), 2 * got["mx"].to_numpy(), rtol=1e-12)


def test_coded_copies_are_the_coding_of_the_copies() -> None:
    """CodedFixes.copies (the sensitivity ladder's copies of the data) gives what coding
    the renamed copies one after another gives, names, rows and order."""
    from whereabouts.analysis.occasions import CodedFixes

    rng = np.random.default_rng(5)
    n = 3_000
    fixes = pa.table(
        {
            "device_id": pa.array(rng.choice(["car 7", "R-1", "R-10", "R-2"], n), pa.string()),
            "time": pa.array(rng.integers(0, 500, n) * 1_000_000, pa.timestamp("us", tz="UTC")),
            "x": rng.integers(0, 3, n).astype(float),
            "y": rng.uniform(0, 1, n),
            "accuracy_m": rng.uniform(1, 9, n),
        }
    )
    one = CodedFixes.of(fixes)
    tags = ["#0", "#1", "#10", "#2"]  # text order is not copy order
    renamed = [pc.binary_join_element_wise(one.names, t, "") for t in tags]
    got = one.copies(renamed)
    want = CodedFixes.of(
        pa.concat_tables(
            fixes.set_column(
                0, "device_id", pc.binary_join_element_wise(fixes.column("device_id"), t, "")
            )
            for t in tags
        )
    )
    assert got.names.equals(want.names)
    assert got.table.equals(want.table)


def _occasion_pieces(rng: np.random.Generator, step: int) -> tuple[pa.Table, pa.Table, np.ndarray]:
    """Fixes of 27 devices (some at one place for a while, repeated times, long gaps) and
    pieces of 62 occasions, several device pairs each; occasion 0 holds every pair of 20
    devices at once (up to 190 samples an instant: numpy's pairwise sums of 8+ and 128+
    terms), occasion 60 only samples too far apart, occasion 61 samples exactly 60 m
    apart and a few units in the last place further (the compiled path's distances)."""
    fixes = []
    for code in range(24):
        t = np.sort(rng.choice(np.arange(0, 40_000), 1_500, replace=False)) * 1_000_000
        t[100:110] = t[100]  # one instant repeated
        x = 300_000 + np.cumsum(rng.normal(0, 0.3, 1_500)) + rng.normal(0, 15, 1_500)
        y = 170_000 + rng.normal(0, 15, 1_500) + 1_000 * (code == 23)  # 23: far off
        x[200:400], y[200:400] = x[200], y[200]  # standing still
        fixes.append((np.full(1_500, code), t, x, y))
    # 24, 25 and 26 standing still: 25 60 m (`distance`) from 24, and 26 too, by hypot
    # (what numpy and DuckDB use), though sqrt(dx * dx + dy * dy) is 60.00000000000001
    t, zero = np.arange(1_500) * step, np.zeros(1_500)
    fixes.append((np.full(1_500, 24), t, zero, zero))
    fixes.append((np.full(1_500, 25), t, zero + 36, zero + 48))
    fixes.append((np.full(1_500, 26), t, zero + 58.10214493710539, zero + 14.971331059982557))
    fcode, ft, fx, fy = (np.concatenate(c) for c in zip(*fixes, strict=True))
    table = pa.table({"code": fcode, "time": ft, "x": fx, "y": fy})
    s = 1_000_000
    rows = [(0, a, b, 5_000 * s, 5_400 * s) for a in range(20) for b in range(a + 1, 20)]
    for occ in range(1, 60):
        t0 = int(rng.integers(0, 38_000)) * s
        for _ in range(int(rng.integers(1, 5))):
            a, b = sorted(rng.choice(24, 2, replace=False))
            p0 = t0 + int(rng.integers(0, 300 * s))
            rows.append((occ, int(a), int(b), p0, p0 + int(rng.integers(0, 1_500 * s))))
    rows.append((60, 3, 4, 7 * step + 1, 8 * step - 1))  # no instant inside
    rows.append((60, 22, 23, 1_000 * s, 2_000 * s))  # samples, none near
    rows += [(61, 24, 25, 0, 400 * step), (61, 24, 26, 100 * step, 300 * step)]
    rows.sort(key=lambda r: (r[0], r[3], r[1], r[2]))
    pieces = pa.table(
        dict(
            zip(
                ("occ", "code_a", "code_b", "start", "end"),
                map(np.array, zip(*rows, strict=True)),
                strict=True,
            )
        )
    )
    gap = rng.integers(20, 120, 27) * 1_000_000
    return pieces, table, gap


@pytest.mark.parametrize("seed", [1, 2])
def test_compiled_samples_give_the_numpy_paths_bits(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """engine/_native.c's samples (one pass per occasion) against sample_pieces, instants
    and DuckDB's aggregates: the same instants and per-occasion figures, bit for bit."""
    from whereabouts.analysis.occasions import sample_occasions

    if not native.available() and not os.environ.get("WHEREABOUTS_REQUIRE_NATIVE"):
        pytest.skip("the compiled library is not built (pip install -e . with a C compiler)")
    rng = np.random.default_rng(seed)
    step = 10_000_000
    pieces, fixes, gap = _occasion_pieces(rng, step)
    by_occ = np.full(62, 60_000_000, np.int64)
    by_occ[pieces["occ"].to_numpy()] = gap[pieces["code_a"].to_numpy()]
    got = {}
    for on in ("1", "0"):
        monkeypatch.setenv("WHEREABOUTS_NATIVE", on)
        got[on] = sample_occasions(
            pieces, fixes, step, gap=gap, occasion_gap=by_occ, distance_m=60.0, stop_speed_mps=0.5
        )
    (points, sampled), (want_points, want_sampled) = got["1"], got["0"]
    assert want_points.num_rows > 2_000 and sum(want_points["stopped"].to_pylist()) > 0
    assert want_sampled.num_rows > 50 and want_sampled["x"].null_count > 0
    assert want_sampled.column("n_samples")[0].as_py() > 190 * 10
    assert points.equals(want_points)
    assert sampled.equals(want_sampled)
    exact = want_sampled.filter(pc.equal(want_sampled["occ"], 61))
    assert exact["sample_min_m"][0].as_py() == exact["median_separation_m"][0].as_py() == 60.0
    assert exact["n_samples"][0].as_py() == 401 + 201
    x, y = 58.10214493710539, 14.971331059982557
    assert np.hypot(x, y) == 60 < np.sqrt(x * x + y * y)
    assert points.filter(pc.equal(points["occ"], 61))["mx"][150].as_py() == (18 + x / 2) / 2


@pytest.mark.parametrize("seed", [1, 2])
def test_compiled_premises_give_the_numpy_paths_bits(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """engine/_native.c's premises (one pass over the instants) against premises_found's
    numpy path (at_places, the runs, the visits): the same runs and visits, bit for bit —
    with places listed twice (one group, two places), places side by side, instants on a
    reach's edge, far from every place, with dt 0, and occasions at no place."""
    from whereabouts.analysis.reasons import place_cells, premises_found

    if not native.available() and not os.environ.get("WHEREABOUTS_REQUIRE_NATIVE"):
        pytest.skip("the compiled library is not built (pip install -e . with a C compiler)")
    rng = np.random.default_rng(seed)
    px = np.r_[rng.uniform(0, 3_000, 12), 500.0, 500.0, 560.0]
    py = np.r_[rng.uniform(0, 3_000, 12), 800.0, 800.0, 800.0]
    reach = np.r_[rng.uniform(30, 200, 12), 120.0, 90.0, 130.0]
    group = np.r_[np.arange(12), 12, 12, 13]  # (the two at 500, 800: one place listed twice)
    n = 40_000
    occ = np.sort(rng.integers(0, 900, n))
    t = np.zeros(n, np.int64)
    for o in np.unique(occ):  # each occasion's instants 30 s apart, some gaps
        at = np.flatnonzero(occ == o)
        t[at] = np.cumsum(rng.choice([30, 30, 30, 90], len(at))) * 1_000_000
    dt = np.where(
        np.r_[occ[1:] == occ[:-1], False], np.minimum(np.r_[np.diff(t), 0], 60_000_000), 0
    )
    near = rng.integers(0, 15, n)
    x = px[near] + rng.normal(0, 90, n)
    y = py[near] + rng.normal(0, 90, n)
    x[:20], y[:20] = px[near[:20]] + reach[near[:20]], py[near[:20]]  # on the edge
    x[30:40] = rng.uniform(1e6, 2e6, 10)  # far from every place
    # in chunks (as DuckDB gives them): cut within an occasion, and where one begins
    whole = pa.table({"occ": occ, "t": t, "dt": dt, "mx": x, "my": y})
    cuts = [0, 7_001, int(np.searchsorted(occ, occ[20_000], side="right")), 30_001, n]
    points = pa.Table.from_batches(
        [b for a, z in itertools.pairwise(cuts) for b in whole.slice(a, z - a).to_batches()]
    )
    got = {}
    for on in ("1", "0"):
        monkeypatch.setenv("WHEREABOUTS_NATIVE", on)
        got[on] = premises_found(points, (px, py, reach, group))
    (runs, visits), (want_runs, want_visits) = got["1"], got["0"]
    # (the compiled pass took them as they are: it refuses instants out of order)
    names = ("occ", "t", "dt", "mx", "my")
    chunks = [tuple(b.column(c).to_numpy() for c in names) for b in points.to_batches()]
    assert len(chunks) == 4
    compiled = native.premises(chunks, (px, py, reach, group), place_cells(px, py, reach))
    assert compiled is not None
    assert all(np.array_equal(a, b) for a, b in zip(compiled[0], runs, strict=True))
    assert len(want_runs[0]) > 1_000 and want_visits.num_rows > 1_000
    assert {12, 14} <= set(want_visits["place"].to_pylist())  # (13: 12's group, never first)
    assert 13 not in set(want_visits["place"].to_pylist())
    for a, b in zip(runs, want_runs, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert visits.equals(want_visits)
    # out of (occ, t) order: sorted first (the compiled pass refuses it), the same finding
    monkeypatch.setenv("WHEREABOUTS_NATIVE", "1")
    shuffled = premises_found(points.take(pa.array(rng.permutation(n))), (px, py, reach, group))
    assert all(np.array_equal(a, b) for a, b in zip(shuffled[0], want_runs, strict=True))
    assert shuffled[1].equals(want_visits)
    # nothing to find: no instants, no places
    none = premises_found(points.slice(0, 0), (px, py, reach, group))
    assert none[1].num_rows == 0 and all(len(a) == 0 for a in none[0])
    none = premises_found(points, (px[:0], py[:0], reach[:0], group[:0]))
    assert none[1].num_rows == 0 and all(len(a) == 0 for a in none[0])


def test_cover_counts_stopped_time_outside_the_windows_a_chunk_at_a_time() -> None:
    """reasons.coverage against a plain count: explained time is the union of each
    occasion's windows within it, unexplained stopped time the stopped instants' dt
    outside them — with enough instants that DuckDB hands them over in several chunks."""
    from whereabouts.analysis.reasons import coverage

    rng = np.random.default_rng(4)
    n_occ, per = 2_000, 150
    occ = np.repeat(np.arange(n_occ), per)
    t = np.tile(np.arange(per) * 30_000_000, n_occ)
    t += np.repeat(rng.integers(0, 10**12, n_occ), per)
    dt = np.where(np.tile(np.arange(per), n_occ) < per - 1, 30_000_000, 0)
    stopped = rng.random(len(occ)) < 0.6
    start, end = t[::per] - 5_000_000, t[per - 1 :: per] + 5_000_000
    ids = np.array([f"o{k:05d}" for k in range(n_occ)])
    # a few windows per occasion, some overlapping, some beyond its ends, some outside
    w_occ = rng.integers(0, n_occ, 5_000)
    w0 = start[w_occ] + rng.integers(-(10**9), 5 * 10**9, 5_000)
    w1 = w0 + rng.integers(1, 2 * 10**9, 5_000)
    con = duckdb.connect()
    zero = np.zeros(len(t))
    pts = {"occ": occ, "t": t, "mx": zero, "my": zero, "dt": dt, "stopped": stopped}
    con.register("pts", pa.table(pts))
    con.register("occ_map", pa.table({"occasion_id": ids, "occ": np.arange(n_occ)}))
    occw = {"occasion_id": ids, "start": start, "end": end, "duration_s": (end - start) / 1e6}
    con.register("occw", pa.table(occw))
    rwin = {"occasion_id": ids[w_occ], "label": ["x"] * len(w_occ), "w0": w0, "w1": w1}
    con.register("rwin", pa.table(rwin))
    handed = con.sql("SELECT occ, t, dt FROM pts WHERE stopped").to_arrow_table()
    assert handed.num_rows > 150_000 and len(handed.to_batches()) > 1
    coverage(con)
    got = con.sql("SELECT * FROM cover ORDER BY occasion_id").to_arrow_table()
    for k in range(n_occ):
        mine = w_occ == k
        a, b = np.maximum(w0[mine], start[k]), np.minimum(w1[mine], end[k])
        spans = sorted(zip(a[b > a].tolist(), b[b > a].tolist(), strict=True))
        union, cur = 0, None
        for s0, s1 in spans:
            if cur is None or s0 > cur[1]:
                union += 0 if cur is None else cur[1] - cur[0]
                cur = [s0, s1]
            else:
                cur[1] = max(cur[1], s1)
        union += 0 if cur is None else cur[1] - cur[0]
        at = np.flatnonzero((occ == k) & stopped)
        inside = np.zeros(len(at), bool)
        for s0, s1 in spans:
            inside |= (t[at] >= s0) & (t[at] < s1)
        row = got.slice(k, 1).to_pylist()[0]
        assert row["occasion_id"] == ids[k]
        assert row["explained_s"] == union / 1e6
        assert row["unexplained_stopped_s"] == int(dt[at[~inside]].sum()) / 1e6
