"""Screening: every pair in a set of officers, ranked by unexplained time against expectation.

What is counted: *unexplained stops together* — occasions in which the pair stood still
together for at least `min_duration_s` with no policing reason covering that time (both
planted patterns in DESIGN.md, meeting somewhere and parking up, are stops; driving along
the same roads is common and says little). Per pair: occasions, unexplained occasions and
seconds, unexplained stops and their stopped seconds, home and remote occasions, and the
hours both were on duty at once. The expectation comes from all *other* pairs in the set
(leave-one-out, so a pair does not raise its own bar): their unexplained stops (plus one
half, so a group with none does not make any count look impossible) per shared duty hour,
times this pair's shared hours. The test is a one-sided exact Poisson test —
occasions are counts of rare events over time at risk, which is what the Poisson model
describes, and the exact form needs no large-sample assumption. `p_adjusted` multiplies by
the number of pairs (Bonferroni), because screening looks at many pairs at once; `q_value`
is the Benjamini-Hochberg false discovery rate (`FDR_CONTROL`). Occasions not assessable
(some reason could not be checked) are counted apart, never as unexplained. Pairs are
ranked by p-value, then by unexplained stopped seconds above expectation.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SCREENING = pa.schema(
    [
        pa.field("rank", pa.int64(), nullable=False),
        pa.field("officer_a", pa.string(), nullable=False),
        pa.field("officer_b", pa.string(), nullable=False),
        pa.field("occasions", pa.int64(), nullable=False),
        pa.field("explained", pa.int64(), nullable=False),
        pa.field("unexplained", pa.int64(), nullable=False),
        pa.field("unexplained_s", pa.float64(), nullable=False),
        pa.field("unexplained_stops", pa.int64(), nullable=False),
        pa.field("unexplained_stopped_s", pa.float64(), nullable=False),
        pa.field("home", pa.int64(), nullable=False),
        pa.field("remote", pa.int64(), nullable=False),
        pa.field("shared_duty_h", pa.float64(), nullable=False),
        pa.field("stopped_min_per_100h", pa.float64(), nullable=False),
        pa.field("expected_stops", pa.float64(), nullable=False),
        pa.field("expected_stopped_s", pa.float64(), nullable=False),
        pa.field("excess_s", pa.float64(), nullable=False),
        pa.field("p_value", pa.float64(), nullable=False),
        pa.field("p_adjusted", pa.float64(), nullable=False),
        pa.field("percentile", pa.float64(), nullable=False),
        # Benjamini-Hochberg: the false discovery rate at which this pair would be called
        # unusual among all the pairs screened.
        pa.field("q_value", pa.float64(), nullable=False),
        # occasions with no reason found but not every reason assessable (not counted above)
        pa.field("not_assessable", pa.int64(), nullable=False),
    ]
)

FDR_CONTROL = (
    "false discoveries controlled by the Benjamini-Hochberg procedure over all "
    "pairs screened: a pair with q_value at most 0.05 is one of a list in which "
    "about 5 % are expected to be unusual by chance (p_adjusted, Bonferroni, is "
    "the stricter family-wise bound)"
)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of p-values: min over j >= rank of p_(j) * n / j."""
    n = len(p)
    if not n:
        return np.zeros(0)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def poisson_upper_tail(k: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """P(X ≥ k) for X ~ Poisson(lam), elementwise, exact to double precision.

    Sums the pmf from k upwards in log space with the ratio pmf(i+1)/pmf(i) = lam/(i+1).
    """
    k = np.asarray(k, np.int64)
    lam = np.asarray(lam, float)
    out = np.ones(k.shape, float)
    todo = k > 0
    out[todo & (lam <= 0)] = 0.0
    todo &= lam > 0
    if not todo.any():
        return out
    kk, ll = k[todo], lam[todo]
    logfact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, kk.max() + 1)))])
    log_first = -ll + kk * np.log(ll) - logfact[kk]
    span = int(np.ceil(ll.max() + 12 * np.sqrt(ll.max()) + 60))
    steps = np.arange(1, span + 1)
    total = np.zeros(kk.shape)
    for lo in range(0, len(kk), 4096):  # bounded memory: 4096 pairs × span terms at a time
        sl = slice(lo, lo + 4096)
        ratios = np.log(ll[sl, None]) - np.log(kk[sl, None] + steps[None, :])
        logs = log_first[sl, None] + np.concatenate(
            [np.zeros((ratios.shape[0], 1)), np.cumsum(ratios, axis=1)], axis=1
        )
        total[sl] = np.exp(logs).sum(axis=1)
    out[todo] = np.minimum(total, 1.0)
    return out


def _has(lists: pa.ChunkedArray, value: str) -> np.ndarray:
    """Whether each list holds `value` (vectorised over the flattened values)."""
    arr = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    hit = np.zeros(len(arr), bool)
    if len(arr):
        parents = pc.list_parent_indices(arr).to_numpy()
        match = pc.equal(pc.list_flatten(arr), value).to_numpy(zero_copy_only=False)
        hit[parents[match.astype(bool)]] = True
    return hit


PAIR_COUNTS = pa.schema(
    [
        SCREENING.field(n)
        for n in ("officer_a", "officer_b", "occasions", "explained", "unexplained")
    ]
    + [
        SCREENING.field(n)
        for n in (
            "unexplained_s",
            "unexplained_stops",
            "unexplained_stopped_s",
            "home",
            "remote",
            "shared_duty_h",
            "not_assessable",
        )
    ]
)
"""One row per pair: what is counted of its own occasions and duty (`pair_counts`), before
the ranking against the other pairs (`rank_counts`)."""

PAIR_ORDER = ("officer_a", "officer_b")
OCCASION_ORDER = ("officer_a", "officer_b", "start", "occasion_id")


def pair_statistics(occasions: pa.Table, shared_hours: pa.Table) -> pa.Table:
    """Screening table (schema `SCREENING`) from labelled occasions and shared duty hours."""
    return rank_counts(pair_counts(occasions, shared_hours))


def pair_counts(occasions: pa.Table, shared_hours: pa.Table) -> pa.Table:
    """Per pair (schema `PAIR_COUNTS`, sorted by officer_a, officer_b): counts of its labelled
    occasions (in `OCCASION_ORDER`) and its shared duty hours.

    Every figure is the pair's own, summed over its own rows in their order, so the pairs
    can be counted apart (one group of pairs per Spark task) with the same bits."""
    occ = occasions
    pairs: dict[tuple[str, str], int] = {}
    for a, b in zip(
        shared_hours.column("officer_a").to_pylist(),
        shared_hours.column("officer_b").to_pylist(),
        strict=True,
    ):
        pairs.setdefault((a, b), len(pairs))
    for a, b in zip(
        occ.column("officer_a").to_pylist(), occ.column("officer_b").to_pylist(), strict=True
    ):
        pairs.setdefault((a, b), len(pairs))
    keys = sorted(pairs)
    index = {p: i for i, p in enumerate(keys)}
    n = len(keys)
    hours = np.zeros(n)
    if shared_hours.num_rows:
        idx = np.array(
            [
                index[(a, b)]
                for a, b in zip(
                    shared_hours.column("officer_a").to_pylist(),
                    shared_hours.column("officer_b").to_pylist(),
                    strict=True,
                )
            ]
        )
        np.add.at(hours, idx, shared_hours.column("shared_duty_h").to_numpy())
    oi = np.array(
        [
            index[(a, b)]
            for a, b in zip(
                occ.column("officer_a").to_pylist(),
                occ.column("officer_b").to_pylist(),
                strict=True,
            )
        ],
        dtype=np.int64,
    )
    explained = occ.column("explained").to_numpy(zero_copy_only=False).astype(bool)
    stop = occ.column("unexplained_stop").to_numpy(zero_copy_only=False).astype(bool)
    # only occasions whose every reason was assessable count as having none
    finding = (
        np.asarray(occ.column("finding").to_pylist(), object)
        if "finding" in occ.column_names
        else None
    )
    unassessed = (
        (finding == "not_assessable") if finding is not None else np.zeros(occ.num_rows, bool)
    )
    stop &= ~unassessed
    un_dur = occ.column("unexplained_s").to_numpy()
    stop_dur = occ.column("unexplained_stopped_s").to_numpy()
    flags = occ.column("flags")
    un = ~explained & ~unassessed
    home = _has(flags, "home") & un
    remote = _has(flags, "remote") & un
    cols = {
        "officer_a": [k[0] for k in keys],
        "officer_b": [k[1] for k in keys],
        "occasions": np.bincount(oi, minlength=n).astype(np.int64),
        "explained": np.bincount(oi, weights=explained, minlength=n).astype(np.int64),
        "unexplained": np.bincount(oi, weights=un, minlength=n).astype(np.int64),
        "unexplained_s": np.bincount(oi, weights=un_dur * un, minlength=n),
        "unexplained_stops": np.bincount(oi, weights=stop, minlength=n).astype(np.int64),
        "unexplained_stopped_s": np.bincount(oi, weights=stop_dur * stop, minlength=n),
        "home": np.bincount(oi, weights=home, minlength=n).astype(np.int64),
        "remote": np.bincount(oi, weights=remote, minlength=n).astype(np.int64),
        "shared_duty_h": hours,
        "not_assessable": np.bincount(oi, weights=unassessed, minlength=n).astype(np.int64),
    }
    return pa.table(
        {f.name: pa.array(cols[f.name], f.type) for f in PAIR_COUNTS}, schema=PAIR_COUNTS
    )


def rank_counts(counts: pa.Table) -> pa.Table:
    """Screening table (schema `SCREENING`, by rank) from every pair's counts (`PAIR_COUNTS`,
    sorted by officer_a, officer_b): each pair against the pooled rate of all the others,
    the p-values adjusted over all pairs. It needs every pair's row (one per pair)."""
    n = counts.num_rows
    hours = counts.column("shared_duty_h").to_numpy()
    n_stop = counts.column("unexplained_stops").to_numpy()
    stop_s = counts.column("unexplained_stopped_s").to_numpy()
    # Leave-one-out pooled rates of the other pairs; half a stop is added to their count so
    # that a group with none at all does not make any count look impossible (p = 0).
    other_h = np.maximum(hours.sum() - hours, 1e-9)
    expected = (n_stop.sum() - n_stop + 0.5) / other_h * hours
    expected_s = (stop_s.sum() - stop_s) / other_h * hours
    p = poisson_upper_tail(n_stop, expected)
    per100 = np.where(hours > 0, stop_s / 60 / np.maximum(hours, 1e-9) * 100, 0.0)
    excess = stop_s - expected_s
    order = np.lexsort((np.arange(n), -excess, p))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(1, n + 1)
    # Percentile: share of pairs whose unexplained stopping per shared hour is at most this.
    sorted_rate = np.sort(per100)
    pct = np.searchsorted(sorted_rate, per100, side="right") / max(n, 1) * 100
    cols = {
        "rank": rank,
        "stopped_min_per_100h": per100,
        "expected_stops": expected,
        "expected_stopped_s": expected_s,
        "excess_s": excess,
        "p_value": p,
        "p_adjusted": np.minimum(p * max(n, 1), 1.0),
        "percentile": pct,
        "q_value": benjamini_hochberg(p),
    }
    table = pa.table(
        {
            f.name: counts.column(f.name)
            if f.name in PAIR_COUNTS.names
            else pa.array(cols[f.name], f.type)
            for f in SCREENING
        },
        schema=SCREENING,
    )
    return table.take(pa.array(order, pa.int64())) if n else table


__all__ = [
    "FDR_CONTROL",
    "OCCASION_ORDER",
    "PAIR_COUNTS",
    "PAIR_ORDER",
    "SCREENING",
    "benjamini_hochberg",
    "pair_counts",
    "pair_statistics",
    "poisson_upper_tail",
    "rank_counts",
]
