"""Read a TETRA LIP log (CSV: issi, received_at, pdu_hex) into canonical fixes.

A fix's device_id is the ISSI; its time is the long report's time of position where it
has one, else received_at; the time-elapsed bound is its time uncertainty and the position
error (or horizontal uncertainty) its accuracy. Every row ends accepted, merged as an
exact duplicate, or quarantined with its line, column and reason.

Time of position carries only day, hour, minute and second (UTC): the month and year are
those of the latest such instant at or before received_at, allowing the radio's clock to
run up to `CLOCK_SKEW_S` ahead of the receiver's.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from whereabouts.errors import InputError, SchemaError
from whereabouts.io.lip import codes as C
from whereabouts.io.lip.decode import decode_columns
from whereabouts.io.result import ReadResult, quarantine_table
from whereabouts.io.tabular import other_kind, safe_header
from whereabouts.io.times import DEFAULT_TIMEZONE, implausible, parse_times
from whereabouts.schema import UTC_TS

COLUMNS = ("issi", "received_at", "pdu_hex")
CLOCK_SKEW_S = 3600
SOURCE = "tetra"
_US = 1_000_000


def _read_csv(path: Path) -> tuple[pa.Table, np.ndarray, list[tuple[int | None, str]]]:
    """The CSV as strings, each row's 1-based line, and rows with the wrong field count."""
    raw = path.read_bytes()
    if re.search(rb"\S", raw) is None:
        raise InputError("the file is empty", where=str(path),
                         hint=f"a LIP log needs a header {','.join(COLUMNS)} and one row per PDU")
    bad_rows: list[tuple[int | None, str]] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        bad_rows.append((row.number, row.text))
        return "skip"

    try:
        table = pcsv.read_csv(
            pa.py_buffer(raw),
            read_options=pcsv.ReadOptions(use_threads=False),
            parse_options=pcsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in COLUMNS}, strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV ({str(exc).splitlines()[0]})", where=str(path),
                         hint="save the log as UTF-8 CSV with a header row") from exc
    found = table.column_names
    missing = [c for c in COLUMNS if c not in found]
    unknown = [c for c in found if c not in COLUMNS]
    if missing or unknown:
        shown, values = safe_header(found)
        problem = ("the first line holds values, not column names" if values else
                   "; ".join(part for part in (
                       f"missing column(s) {missing}" if missing else "",
                       f"unknown column(s) {unknown}" if unknown else "") if part))
        other = other_kind(found, "lip")
        raise SchemaError(
            f"{problem}; found {shown}, expected {list(COLUMNS)}", where=str(path),
            hint=(f"this looks like {other}; " if other else "")
            + "a TETRA LIP log has exactly the columns issi, received_at, pdu_hex (a header "
              "line, then one row per PDU); fixes already decoded to lat/lon are read with "
              "--kind fixes")
    if table.num_rows == 0 and not bad_rows:
        raise InputError("the file has a header but no rows", where=str(path),
                         hint="check the export: a LIP log has one row per PDU")
    # Lines of the rows: non-empty lines after the header, minus the rows skipped as invalid.
    buf = np.frombuffer(raw, np.uint8)
    ends = np.flatnonzero(buf == 10)
    if len(ends) == 0 or ends[-1] != len(buf) - 1:
        ends = np.append(ends, len(buf))
    starts = np.concatenate(([0], ends[:-1] + 1))
    span = ends - starts
    cr = (span > 0) & (buf[np.maximum(ends - 1, 0)] == 13)
    nonempty = np.flatnonzero((span - cr) > 0) + 1  # 1-based line numbers
    # pyarrow numbers invalid rows among the non-empty lines (header = 1).
    bad_rows = [(int(nonempty[b - 1]) if b is not None and 0 < b <= len(nonempty) else b, t)
                for b, t in bad_rows]
    lines = nonempty[1:]
    skipped = [b for b, _ in bad_rows if b is not None]
    if skipped:
        lines = lines[~np.isin(lines, skipped)]
    if len(lines) != table.num_rows:  # quoted newlines: fall back to row numbers
        lines = np.arange(2, table.num_rows + 2)
    return table.select(list(COLUMNS)), lines.astype(np.int64), bad_rows


def _time_of_position(received_us: np.ndarray, ints: dict[str, np.ndarray]) -> np.ndarray:
    """UTC micros of the time of position, month and year taken from received_at."""
    rec = received_us.astype("datetime64[us]")
    month0 = rec.astype("datetime64[M]")
    day = np.maximum(ints["day"], 1)
    secs = ints["hour"] * 3600 + ints["minute"] * 60 + ints["second"]
    chosen = np.full(len(rec), np.iinfo(np.int64).min)
    for back in (2, 1, 0):  # the latest month that fits wins: try the oldest first
        month = month0 - np.timedelta64(back, "M")
        first = month.astype("datetime64[D]")
        days_in = ((month + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(int)
        cand = (first.astype("datetime64[s]").astype(np.int64) + (day - 1) * 86400 + secs) * _US
        fits = (day <= days_in) & (cand <= received_us + CLOCK_SKEW_S * _US)
        chosen = np.where(fits, cand, chosen)
    return chosen


class _Reasons:
    """First reason per row, as integer codes into a list of texts (no object arrays)."""

    def __init__(self, n: int) -> None:
        self.code = np.zeros(n, np.int32)
        self.column = np.zeros(n, np.int8)
        self._texts: list[str | None] = [None]
        self._columns: list[str | None] = [None]

    def _col(self, name: str) -> int:
        if name not in self._columns:
            self._columns.append(name)
        return self._columns.index(name)

    def flag(self, mask: np.ndarray, column: str, why: str | pa.Array) -> None:
        new = mask & (self.code == 0)
        if not new.any():
            return
        if isinstance(why, str):
            self._texts.append(why)
            self.code[new] = len(self._texts) - 1
        else:
            enc = pc.dictionary_encode(why)
            base = len(self._texts)
            self._texts.extend(enc.dictionary.to_pylist())
            idx = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
            self.code[new] = idx[new] + base
        self.column[new] = self._col(column)

    def flag_codes(self, mask: np.ndarray, column: str, codes: np.ndarray,
                   texts: list[str]) -> None:
        """Reasons given as 1-based codes into `texts`."""
        new = mask & (self.code == 0)
        if not new.any():
            return
        base = len(self._texts)
        self._texts.extend(texts)
        self.code[new] = codes[new] - 1 + base
        self.column[new] = self._col(column)

    def texts(self, rows: np.ndarray) -> tuple[list[str | None], list[str | None]]:
        """(columns, reasons) of the selected rows."""
        cols = np.array(self._columns, dtype=object)[self.column[rows]]
        return list(cols), list(np.array(self._texts, dtype=object)[self.code[rows]])


def merge_duplicates(fixes: pa.Table) -> tuple[pa.Table, int]:
    """Keep the first of fixes identical in every column but src_line; count the rest.

    Same rule as `io.result.merge_exact_duplicates`, done with a numpy lexsort and adjacent
    comparison (a few times faster than a group-by over every column on a million rows).
    """
    n = fixes.num_rows
    if n < 2:
        return fixes, 0
    keys: list[np.ndarray] = []
    for name in fixes.column_names:
        if name == "src_line":
            continue
        col = fixes[name].combine_chunks()
        if pa.types.is_string(col.type):
            keys.append(np.asarray(pc.dictionary_encode(col).indices.fill_null(-1)
                                   .to_numpy(zero_copy_only=False), np.int64))
        elif pa.types.is_timestamp(col.type):
            keys.append(np.asarray(col.cast(pa.int64()).fill_null(-(2**62)).to_numpy()))
        else:
            keys.append(np.asarray(col.fill_null(np.nan).to_numpy(zero_copy_only=False),
                                   np.float64))
    # Duplicates share device and time: only rows whose (device, time) recurs need the full
    # comparison, done by a stable lexsort over every column and adjacent comparison.
    names = [c for c in fixes.column_names if c != "src_line"]
    dev = keys[names.index("device_id")] if "device_id" in names else keys[0]
    when = keys[names.index("time")] if "time" in names else keys[-1]
    first = np.lexsort((when, dev))
    tie = (dev[first[1:]] == dev[first[:-1]]) & (when[first[1:]] == when[first[:-1]])
    if not tie.any():
        return fixes, 0
    cand = np.zeros(n, bool)
    cand[first[1:][tie]] = True
    cand[first[:-1][tie]] = True
    rows = np.flatnonzero(cand)  # file order
    sub = [k[rows] for k in keys]
    order = np.lexsort(sub[::-1])  # stable: equal rows stay in file order
    same = np.ones(len(rows) - 1, bool)
    for k in sub:
        a, b = k[order[1:]], k[order[:-1]]
        eq = a == b
        if k.dtype.kind == "f":
            eq |= np.isnan(a) & np.isnan(b)
        same &= eq
    if not same.any():
        return fixes, 0
    keep = np.ones(n, bool)
    keep[rows[order[1:][same]]] = False
    return fixes.filter(pa.array(keep)), int(n - keep.sum())


def read_lip(path: Path, *, timezone: str = DEFAULT_TIMEZONE) -> ReadResult:
    """Read a LIP log into fixes (source "tetra"); naive received_at is read in `timezone`."""
    path = Path(path)
    table, lines, bad_rows = _read_csv(path)
    n = table.num_rows
    issi = pc.utf8_trim_whitespace(table["issi"].combine_chunks())
    received = table["received_at"].combine_chunks()
    pdu = pc.utf8_trim_whitespace(table["pdu_hex"].combine_chunks())
    why = _Reasons(n)
    why.flag(np.asarray(pc.equal(pc.utf8_length(issi), 0).to_numpy(zero_copy_only=False)),
             "issi", "missing issi")
    parsed = parse_times(received, timezone)
    why.flag(~parsed.ok, "received_at", parsed.reasons)
    ints, floats, _, out = decode_columns(pdu)
    why.flag_codes(out.err != 0, "pdu_hex", out.err, out.reasons)
    pe = ints["position_error_code"]
    why.flag(pe == C.POSITION_ERROR_TOO_COARSE, "pdu_hex",
             "position error > 200 km (code 6): too coarse to place the radio")
    why.flag(np.isnan(floats["lat"]), "pdu_hex",
             "long location report without a position (location shape 0)")
    why.flag((ints["lat_code"] == 0) & (ints["lon_code"] == 0), "pdu_hex",
             "position at (0, 0): the radio had no fix")

    received_us = np.asarray(pc.fill_null(parsed.times.cast(pa.int64()), 0).to_numpy())
    has_tp = ints["time_type"] == C.TIME_OF_POSITION
    time_us = np.where(has_tp, _time_of_position(received_us, ints), received_us)
    times = pa.array(time_us, pa.int64()).cast(UTC_TS)
    late = implausible(times)
    why.flag(np.asarray(pc.is_valid(late).to_numpy(zero_copy_only=False), bool), "received_at",
             late)

    ok = why.code == 0
    keep = pa.array(ok)
    speed = floats["speed_kmh"] / 3.6
    accepted = pa.table({
        "device_id": issi.filter(keep),
        "time": times.filter(keep),
        "lat": pa.array(floats["lat"][ok]),
        "lon": pa.array(floats["lon"][ok]),
        "accuracy_m": pa.array(floats["accuracy_m"][ok], mask=np.isnan(floats["accuracy_m"][ok])),
        "speed_mps": pa.array(speed[ok], mask=np.isnan(speed[ok])),
        "heading_deg": pa.array(floats["heading_deg"][ok],
                                mask=np.isnan(floats["heading_deg"][ok])),
        "time_uncertainty_s": pa.array(floats["time_uncertainty_s"][ok],
                                       mask=np.isnan(floats["time_uncertainty_s"][ok])),
        "source": pa.array(np.full(int(ok.sum()), SOURCE), pa.string()),
        "src_line": pa.array(lines[ok], pa.int64()),
    })
    accepted, duplicates = merge_duplicates(accepted)
    bad = ~ok
    raw = pc.binary_join_element_wise(
        pc.fill_null(table["issi"].combine_chunks(), ""), pc.fill_null(received, ""),
        pc.fill_null(pdu, ""), ",").filter(pa.array(bad))
    quarantine = quarantine_table(lines[bad], *why.texts(bad), raw)
    if bad_rows:
        extra = quarantine_table(
            [b if b is not None else 0 for b, _ in bad_rows], [None] * len(bad_rows),
            [f"expected {len(COLUMNS)} fields ({', '.join(COLUMNS)})"] * len(bad_rows),
            [t for _, t in bad_rows])
        quarantine = pa.concat_tables([quarantine, extra]).sort_by("line")
    return ReadResult(table="fixes", file=str(path), accepted=accepted,
                      quarantine=quarantine, read=n + len(bad_rows),
                      duplicates=duplicates).check()


__all__ = ["CLOCK_SKEW_S", "read_lip"]
