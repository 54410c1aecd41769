"""Charts and timeline strips: occasions per week, time of day, durations, the pair against
its peers, and for each occasion a strip of the two officers' separation and their fixes.

All columns are worked on whole (numpy / Arrow); local times come from Arrow's time-zone
aware field extraction, so hours and weeks are in the workspace's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from whereabouts.report.figures import (
    EXPLAINED,
    GREY,
    SUBJECT_COLOURS,
    UNEXPLAINED,
    new_figure,
    style,
    to_data_uri,
)
from whereabouts.report.labels import Labels
from whereabouts.report.maps import MARGIN_S, TrackIndex
from whereabouts.report.wording import uk_time

_US = 10**6


def local_parts(times: pa.ChunkedArray | pa.Array, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """(local hour as a float, local date of the week's Monday as datetime64[D]) per time."""
    local = pc.cast(times, pa.timestamp("us", tz=tz))
    hour = (
        pc.hour(local).to_numpy(zero_copy_only=False)
        + pc.minute(local).to_numpy(zero_copy_only=False) / 60.0
    )
    # Local calendar date (not the UTC date): shift by the local offset, then floor to days.
    naive = pc.local_timestamp(local).cast(pa.int64()).to_numpy(zero_copy_only=False)
    day = naive // (86400 * _US)
    monday = day - (day + 3) % 7  # 1970-01-01 was a Thursday
    return hour, np.asarray(monday).astype("datetime64[D]")


def _findings(occasions: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(no policing reason found, not assessable) per occasion; a run from before the
    `finding` column has only the first, from `explained`."""
    if "finding" not in occasions.column_names:
        return ~np.asarray(occasions["explained"].to_pylist(), bool), np.zeros(
            occasions.num_rows, bool
        )
    finding = np.asarray(occasions["finding"].to_pylist(), object)
    return finding == "no_reason_found", finding == "not_assessable"


def _bars(
    ax: Axes,
    labels: list[str],
    unexplained: np.ndarray,
    explained: np.ndarray,
    unassessed: np.ndarray | None = None,
) -> None:
    pos = np.arange(len(labels))
    ax.bar(pos, unexplained, color=UNEXPLAINED, label="no policing reason found")
    ax.bar(pos, explained, bottom=unexplained, color=EXPLAINED, label="policing reason found")
    if unassessed is not None and unassessed.any():
        ax.bar(pos, unassessed, bottom=unexplained + explained, color=GREY, label="not assessable")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=6, frameon=False)


def per_week(occasions: pa.Table, tz: str) -> str:
    """Occasions per week (weeks start on Monday), split by whether a reason was found."""
    with style():
        fig = new_figure(7.0, 2.4)
        ax = fig.add_subplot()
        if occasions.num_rows:
            _, week = local_parts(occasions["start"], tz)
            none, na = _findings(occasions)
            expl = ~none & ~na
            weeks = np.arange(week.min(), week.max() + 1, 7)
            ix = (week - weeks[0]).astype(int) // 7
            un = np.bincount(ix[none], minlength=len(weeks))
            ex = np.bincount(ix[expl], minlength=len(weeks))
            names = [f"{d.astype(datetime):%d %b}" for d in weeks]
            _bars(ax, names, un, ex, np.bincount(ix[na], minlength=len(weeks)))
            step = max(1, len(names) // 14)
            ax.set_xticks(np.arange(len(names))[::step], names[::step], fontsize=6)
        ax.set_xlabel("Week beginning (Monday)")
        ax.set_ylabel("Occasions")
        return to_data_uri(fig)


def time_of_day(occasions: pa.Table, tz: str) -> str:
    """Occasions by the local hour they began."""
    with style():
        fig = new_figure(3.4, 2.4)
        ax = fig.add_subplot()
        if occasions.num_rows:
            hour, _ = local_parts(occasions["start"], tz)
            none, na = _findings(occasions)
            h = hour.astype(int)
            _bars(
                ax,
                [str(i) for i in range(24)],
                np.bincount(h[none], minlength=24),
                np.bincount(h[~none & ~na], minlength=24),
                np.bincount(h[na], minlength=24),
            )
        ax.set_xticks(np.arange(0, 24, 3), [f"{i:02d}:00" for i in range(0, 24, 3)], fontsize=6)
        ax.set_xlabel("Hour the occasion began (local time)")
        ax.set_ylabel("Occasions")
        return to_data_uri(fig)


def durations(occasions: pa.Table) -> str:
    """How long occasions lasted, in minutes."""
    with style():
        fig = new_figure(3.4, 2.4)
        ax = fig.add_subplot()
        if occasions.num_rows:
            minutes = np.asarray(occasions["duration_s"].to_pylist(), float) / 60
            none, na = _findings(occasions)
            top = max(float(minutes.max()), 10.0)
            edges = np.linspace(0, np.ceil(top / 10) * 10, min(int(np.ceil(top / 10)) + 1, 25))
            groups = [
                (minutes[none], UNEXPLAINED, "no policing reason found"),
                (minutes[~none & ~na], EXPLAINED, "policing reason found"),
            ]
            if na.any():
                groups.append((minutes[na], GREY, "not assessable"))
            ax.hist(
                [g[0] for g in groups],
                bins=edges.tolist(),
                stacked=True,
                color=[g[1] for g in groups],
                label=[g[2] for g in groups],
            )
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(fontsize=6, frameon=False)
        ax.set_xlabel("Length of the occasion (minutes)")
        ax.set_ylabel("Occasions")
        return to_data_uri(fig)


def pair_vs_peers(unexplained_h: np.ndarray, is_subject: np.ndarray) -> str:
    """Each pair's unexplained hours together, highest first; the case's pair in colour."""
    with style():
        fig = new_figure(7.0, 2.4)
        ax = fig.add_subplot()
        order = np.argsort(-unexplained_h, kind="stable")
        pos = np.arange(len(order))
        colours = np.where(is_subject[order], UNEXPLAINED, "#bbbbbb")
        ax.bar(pos, unexplained_h[order], color=colours, width=0.85)
        ax.set_xticks([])
        ax.set_xlabel(
            f"Pairs of officers who worked alongside each other ({len(order)}), "
            "highest first; the subjects' pair in orange"
        )
        ax.set_ylabel("Hours together,\nno policing reason")
        return to_data_uri(fig)


def _known(
    idx: TrackIndex, w: np.ndarray, grid: np.ndarray, max_gap_us: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions interpolated on `grid`, and where they are known (gap ≤ max_gap)."""
    t, x, y = idx.t[w], idx.x[w], idx.y[w]
    if len(t) == 0:
        nan = np.full(len(grid), np.nan)
        return nan, nan, np.zeros(len(grid), bool)
    j = np.searchsorted(t, grid, side="right")
    prev = t[np.clip(j - 1, 0, len(t) - 1)]
    nxt = t[np.clip(j, 0, len(t) - 1)]
    known = (j > 0) & ((j < len(t)) & (nxt - prev <= max_gap_us) | (prev == grid))
    return np.interp(grid, t, x), np.interp(grid, t, y), known


def timeline_strip(
    idx: TrackIndex,
    occ: dict[str, Any],
    labels: Labels,
    tz: str,
    distance_m: float,
    max_gap_s: float,
) -> str:
    """Separation of the two officers over the hour around the occasion, with their fixes."""
    s_us, e_us = int(occ["start_us"]), int(occ["end_us"])
    lo, hi = s_us - MARGIN_S * _US, e_us + MARGIN_S * _US
    grid = np.arange(lo, hi + 1, 15 * _US)
    officers = (occ["officer_a"], occ["officer_b"])
    ws = [idx.window(o, lo, hi) for o in officers]
    # Officers are together when any device of one is near any device of the other: the
    # separation is the least over device pairs where both positions are known.
    gap = int(max_gap_s * _US)
    per_a = [_known(idx, w, grid, gap) for _, w in idx.by_device(ws[0])]
    per_b = [_known(idx, w, grid, gap) for _, w in idx.by_device(ws[1])]
    sep = np.full(len(grid), np.nan)
    for xa, ya, ka in per_a:
        for xb, yb, kb in per_b:
            sep = np.fmin(sep, np.where(ka & kb, np.hypot(xa - xb, ya - yb), np.nan))
    minutes = (grid - s_us) / (60 * _US)
    with style():
        fig = new_figure(7.0, 1.6, margins=(0.08, 0.45, 0.99, 0.97))
        ax = fig.add_subplot()
        ax.axvspan(
            0, (e_us - s_us) / (60 * _US), color=UNEXPLAINED, alpha=0.12, lw=0, label="the occasion"
        )
        cap = distance_m * 10
        ax.plot(
            minutes,
            np.where(sep <= cap, sep, np.nan),
            color="black",
            lw=1.0,
            label="distance apart (likely)",
        )
        ax.axhline(
            distance_m,
            color=GREY,
            lw=0.6,
            ls="--",
            label=f"{distance_m:g} metres (the distance used)",
        )
        # The axis stops at ten times the distance used: beyond that, only "far apart" matters.
        top = float(np.nanmax(sep)) if np.isfinite(sep).any() else distance_m * 4
        top = min(max(top, distance_m * 2), cap)
        if (sep > cap).any():
            ax.plot(
                minutes,
                np.where(sep > cap, cap, np.nan),
                color="black",
                lw=1.0,
                ls=":",
                label=f"more than {cap:g} metres apart",
            )
        for i, w in enumerate(ws):
            # Each report a short tick; all of one officer's ticks are one path (NaN breaks).
            fm = (idx.t[w] - s_us) / (60 * _US)
            level = top * (1.08 + 0.08 * i)
            tx = np.repeat(fm, 3)
            ty = np.tile([level - top * 0.03, level + top * 0.03, np.nan], len(fm))
            tx[2::3] = np.nan
            ax.plot(
                tx,
                ty,
                color=SUBJECT_COLOURS[i],
                lw=0.6,
                label=f"a position report, {labels.of(officers[i])}",
            )
        ax.set_ylim(0, top * 1.3)
        ax.set_xlim(minutes[0], minutes[-1])
        # Ticks on the quarter hour (UK offsets are whole hours, so UTC quarters are local).
        q = 15 * 60 * _US
        tick_us = np.arange(-(-lo // q) * q, hi + 1, q)
        ticks = (tick_us - s_us) / (60 * _US)
        ax.set_xticks(
            ticks,
            [
                uk_time(datetime.fromtimestamp(v / _US, UTC), tz).split(" ")[0]
                for v in tick_us.tolist()
            ],
            fontsize=6,
        )
        ax.set_xlabel(
            f"Local time ({uk_time(datetime.fromtimestamp(s_us / _US, UTC), tz).split(' ')[1]})",
            fontsize=6,
            labelpad=1,
        )
        ax.set_ylabel("metres apart")

        ax.legend(fontsize=5.5, ncols=3, loc="upper left", bbox_to_anchor=(0, -0.3), frameon=False)
        return to_data_uri(fig)


__all__ = ["durations", "local_parts", "pair_vs_peers", "per_week", "time_of_day", "timeline_strip"]
