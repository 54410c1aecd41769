"""The validation exercise's runs: the engine against pymeos on simulated fleets and real
recordings, planted cases over several seeds and degraded data, sensitivity and
reproducibility. Each function returns plain figures (dicts) that validation.py reports.
"""

from __future__ import annotations

import csv
import hashlib
import math
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from whereabouts.analysis.gather import WorkspaceLike
    from whereabouts.analysis.params import AnalysisParams
    from whereabouts.simulate.force import Simulation
    from whereabouts.store.workspace import Workspace

T0 = 1_707_120_000_000_000  # 2024-02-05 08:00 UTC in µs: the simulated fleets' start
OFFICERS, DAYS = 30, 2
MEETINGS = ("remote_meeting", "home_meeting")


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n (0..1); (nan, nan) when n = 0."""
    if n == 0:
        return (math.nan, math.nan)
    z, p = 1.959964, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


# -- engine against pymeos -----------------------------------------------------------------
def fleet(n: int, minutes: int, seed: int, side: float = 600.0, step: int = 20) -> pa.Table:
    """Random walkers in a small square: jittered times, lost fixes, long gaps, stops."""
    rng = np.random.default_rng(seed)
    steps = minutes * 60 // step
    t = (
        T0
        + (np.arange(steps) * step * 1_000_000)[None, :]
        + rng.integers(-4_000_000, 4_000_000, (n, steps))
    )
    t = np.sort(t, axis=1)
    v = rng.normal(0, 4.0, (n, steps, 2)) * step
    v[rng.random((n, steps)) < 0.3] = 0.0
    pos = rng.uniform(0, side, (n, 1, 2)) + np.cumsum(v, axis=1)
    keep = rng.random((n, steps)) > 0.1
    dev = np.repeat(np.arange(n), steps).reshape(n, steps)
    ids = np.array([f"V{i:02d}" for i in range(n)], dtype=object)
    return pa.table(
        {
            "device_id": pa.array(ids[dev[keep]].tolist(), pa.string()),
            "time": pa.array(t[keep], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "x": 300_000.0 + pos[..., 0][keep],
            "y": 170_000.0 + pos[..., 1][keep],
        }
    )


def liverpool(path: Path) -> pa.Table:
    """The real Liverpool bus recording (UK BODS, OGL) as device_id, time, x, y (EPSG:27700)."""
    from pyarrow import csv as pcsv

    from whereabouts.tracks.projection import to_projected

    raw = pcsv.read_csv(
        path,
        convert_options=pcsv.ConvertOptions(
            column_types={"vehicle_id": pa.string(), "timestamp": pa.string()}
        ),
    )
    naive = pc.strptime(raw["timestamp"], format="%Y-%m-%d %H:%M:%S", unit="us")
    when = naive.cast(pa.int64()).cast(pa.timestamp("us", tz="UTC"))  # recorded in UTC
    x, y = to_projected(raw["latitude"].to_numpy(), raw["longitude"].to_numpy(), "EPSG:27700")
    return pa.table({"device_id": raw["vehicle_id"], "time": when, "x": x, "y": y})


def engine_vs_pymeos(table: pa.Table, distance_m: float, max_gap_s: float) -> dict[str, Any]:
    """Every device pair's within-distance periods, engine against pymeos."""
    from whereabouts.engine import EncounterParams, within_periods
    from whereabouts.evidence.oracle import compare, pymeos_module, pymeos_periods

    pymeos = pymeos_module()
    ep = EncounterParams(
        distance_m=distance_m, max_gap_s=max_gap_s, merge_gap_s=0, min_duration_s=0
    )
    got = within_periods(table, ep, crs="EPSG:27700")
    dev = np.asarray(table["device_id"].to_pylist(), dtype=object)
    t = pc.cast(table["time"], pa.int64()).to_numpy()
    x, y = table["x"].to_numpy(), table["y"].to_numpy()
    ours: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for r in zip(
        got["device_a"].to_pylist(),
        got["device_b"].to_pylist(),
        pc.cast(got["start"], pa.int64()).to_pylist(),
        pc.cast(got["end"], pa.int64()).to_pylist(),
        strict=True,
    ):
        ours.setdefault((r[0], r[1]), []).append((r[2], r[3]))
    names = sorted(set(dev))
    pairs = agree = periods = 0
    worst = 0.0
    disagreements = []
    for i, a in enumerate(names):
        ma = dev == a
        for b in names[i + 1 :]:
            mb = dev == b
            theirs = pymeos_periods(
                pymeos, (t[ma], x[ma], y[ma]), (t[mb], x[mb], y[mb]), distance_m, max_gap_s
            )
            mine = np.array(sorted(ours.get((a, b), [])), dtype=np.float64).reshape(-1, 2)
            ok, diff = compare(mine, theirs)
            pairs += 1
            periods += len(theirs)
            if ok:
                agree += 1
                worst = max(worst, diff)
            else:
                disagreements.append(f"{a}–{b}: engine {len(mine)}, pymeos {len(theirs)}")
    return {
        "devices": len(names),
        "fixes": table.num_rows,
        "pairs": pairs,
        "pairs_agreeing": agree,
        "periods": periods,
        "max_diff_ms": worst,
        "disagreements": disagreements[:5],
    }


# -- planted cases ---------------------------------------------------------------------
def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _truth(folder: Path) -> list[dict[str, Any]]:
    with (folder / "truth" / "occasions.csv").open(encoding="utf-8") as fh:
        return [{**r, "start": _utc(r["start"]), "end": _utc(r["end"])} for r in csv.DictReader(fh)]


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> float:
    return max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds())


def simulate_and_ingest(
    seed: int, work: Path, *, sim: dict[str, Any] | None = None
) -> tuple[Workspace, Simulation, Path]:
    """(workspace, simulation, data folder) of a simulated force.

    Without the map layers (buildings, addresses, water, green space, rail): an analysis
    never reads them (only the report and the web map draw them), and simulating and
    ingesting them took over half of each seed's time."""
    from whereabouts.simulate.config import SimConfig
    from whereabouts.simulate.force import simulate

    config = SimConfig(seed=seed, officers=OFFICERS, days=DAYS, **(sim or {}))
    data = work / "data"
    simulation = simulate(config, data, map_layers=False)
    return ingest_into(data, work / "workspace", config.timezone), simulation, data


def ingest_into(
    data: Path, folder: Path, timezone: str = "Europe/London", drop: tuple[str, ...] = ()
) -> Workspace:
    """A new workspace in `folder` holding the simulated files of `data`, except `drop`."""
    from whereabouts.simulate.demo import INGEST_ORDER
    from whereabouts.store import Workspace

    ws = Workspace.init(folder, timezone=timezone)
    for kind, name, profile in INGEST_ORDER:
        if name not in drop and (data / name).exists():
            ws.ingest(kind, [data / name], profile=profile)
    return ws


def period_of(start: date | None = None) -> tuple[datetime, datetime]:
    """The simulated period (the SimConfig default start, DAYS days, London time)."""
    from whereabouts.simulate.config import SimConfig

    d = start or SimConfig().start
    t0 = datetime.combine(d, time(0), tzinfo=ZoneInfo("Europe/London"))
    return t0, t0 + timedelta(days=DAYS)


def score_case(
    ws: WorkspaceLike,
    cast: dict[str, Any],
    truth: list[dict[str, Any]],
    params: AnalysisParams | None = None,
    out_dir: Path | None = None,
) -> dict[str, Any]:
    """Investigate the planted meeting pair and the decoy pair; score against the truth.

    The findings are scored, so the sensitivity ladder (which only adds each occasion's
    robustness) runs only for a run written to `out_dir` (the reproducibility test)."""
    from whereabouts.analysis.investigate import investigate

    t0, t1 = period_of()
    pair = sorted(cast["meeting_pair"])
    occ = investigate(
        ws,
        pair,
        t0,
        t1,
        params=params,
        baseline="none",
        out_dir=out_dir,
        sensitivity=out_dir is not None,
    ).occasions
    rows = occ.select(["officer_a", "officer_b", "start", "end", "finding"]).to_pylist()
    planted = [
        r
        for r in truth
        if sorted((r["officer_a"], r["officer_b"])) == pair and r["kind"] in MEETINGS
    ]
    real = [
        r
        for r in truth
        if sorted((r["officer_a"], r["officer_b"])) == pair
        and r["kind"] in (*MEETINGS, "incidental")
    ]
    found = found_unexplained = 0
    start_err: list[float] = []
    end_err: list[float] = []
    for p in planted:
        hits = [o for o in rows if _overlap(o["start"], o["end"], p["start"], p["end"]) > 0]
        if hits:
            found += 1
            best = max(hits, key=lambda o: _overlap(o["start"], o["end"], p["start"], p["end"]))
            start_err.append(abs((best["start"] - p["start"]).total_seconds()))
            end_err.append(abs((best["end"] - p["end"]).total_seconds()))
        if any(o["finding"] == "no_reason_found" for o in hits):
            found_unexplained += 1
    unexplained = [o for o in rows if o["finding"] == "no_reason_found"]
    true_unexplained = sum(
        1
        for o in unexplained
        if any(_overlap(o["start"], o["end"], r["start"], r["end"]) > 0 for r in real)
    )
    decoy = sorted(cast["decoy_pairs"])[:2]
    dec = investigate(
        ws, decoy, t0, t1, params=params, baseline="none", sensitivity=False
    ).occasions
    drows = dec.select(["start", "end", "finding"]).to_pylist()
    incidental = [
        r
        for r in truth
        if sorted((r["officer_a"], r["officer_b"])) == decoy and r["kind"] == "incidental"
    ]
    decoy_wrong = sum(
        1
        for o in drows
        if o["finding"] == "no_reason_found"
        and not any(_overlap(o["start"], o["end"], r["start"], r["end"]) > 0 for r in incidental)
    )
    findings = [o["finding"] for o in rows + drows]
    return {
        "planted": len(planted),
        "found": found,
        "found_unexplained": found_unexplained,
        "reported_unexplained": len(unexplained),
        "true_unexplained": true_unexplained,
        "occasions": len(rows),
        "decoy_occasions": len(drows),
        "decoy_wrong": decoy_wrong,
        "not_assessable": findings.count("not_assessable"),
        "start_err_s": start_err,
        "end_err_s": end_err,
    }


def total(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums over seeds, with recall and precision and their 95% intervals."""
    keys = (
        "planted",
        "found",
        "found_unexplained",
        "reported_unexplained",
        "true_unexplained",
        "occasions",
        "decoy_occasions",
        "decoy_wrong",
        "not_assessable",
    )
    s: dict[str, Any] = {k: sum(int(r[k]) for r in runs) for k in keys}
    errs = [e for r in runs for e in r["start_err_s"] + r["end_err_s"]]
    s["recall"] = s["found_unexplained"] / s["planted"] if s["planted"] else math.nan
    s["recall_ci"] = wilson(s["found_unexplained"], s["planted"])
    s["detection"] = s["found"] / s["planted"] if s["planted"] else math.nan
    s["precision"] = (
        s["true_unexplained"] / s["reported_unexplained"] if s["reported_unexplained"] else math.nan
    )
    s["precision_ci"] = wilson(s["true_unexplained"], s["reported_unexplained"])
    s["boundary_median_s"] = float(np.median(errs)) if errs else math.nan
    s["boundary_p90_s"] = float(np.percentile(errs, 90)) if errs else math.nan
    s["seeds"] = len(runs)
    return s


def run_outputs_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of an analysis output folder."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def reproducibility(
    ws: Workspace, sim: Simulation, work: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The simulated inputs of `ws` ingested again into a second workspace, and the planted
    case analysed in both (every output, the sensitivity ladder too): the same bytes?
    Returns (the first analysis's score, the comparison)."""
    digests = []
    scores = []
    again = ingest_into(sim.out, work / "again" / "workspace")
    for k, w in enumerate((ws, again)):
        scores.append(score_case(w, sim.cast, _truth(sim.out), out_dir=work / f"run{k + 1}"))
        digests.append(run_outputs_digest(work / f"run{k + 1}"))
    same = [n for n in digests[0] if digests[0][n] == digests[1].get(n)]
    return scores[0], {
        "files": len(digests[0]),
        "identical": len(same),
        "names": sorted(digests[0]),
        "different": sorted(set(digests[0]) - set(same)),
    }


def new_work() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for one run's files."""
    return tempfile.TemporaryDirectory(prefix="wa-validation-")


def with_distance(params: AnalysisParams, distance: float) -> AnalysisParams:
    """The analysis settings with another distance."""
    from whereabouts.analysis.params import AnalysisParams

    return AnalysisParams.of({**params.as_dict(), "distance_m": distance})


__all__ = [
    "engine_vs_pymeos",
    "fleet",
    "ingest_into",
    "liverpool",
    "reproducibility",
    "score_case",
    "simulate_and_ingest",
    "total",
    "wilson",
]
