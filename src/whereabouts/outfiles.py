"""Output files: the format an output path's extension asks for, and CSV cells made safe.

Every table the product writes goes through here: `output_format` refuses an extension it
cannot honour (listing the choices) and `write_table` writes CSV or Parquet by it. Every CSV
cell that a spreadsheet would run as a formula (text starting with = + - @, tab or carriage
return; OWASP "CSV injection") is written with a leading apostrophe, so it shows as text.
Numbers stay numbers: "-3.02" and "+44" are left alone, "-1+2" is not.

    write_table(table, Path("enc.csv"))      # CSV, formula-like text neutralised
    write_table(table, Path("enc.parquet"))  # Parquet
    write_table(table, Path("enc.xlsx"))     # ParameterError: use .csv or .parquet
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

import pyarrow as pa

from whereabouts.errors import ParameterError

FORMATS: Final[dict[str, str]] = {".csv": "csv", ".parquet": "parquet"}
# what a spreadsheet reads as the start of a formula (OWASP: = + - @ tab CR)
FORMULA_START: Final = r"^[=+\-@\t\r]"
# a plain number is data, not a formula, whatever its sign
NUMBER: Final = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_FORMULA = re.compile(FORMULA_START)
_NUMBER = re.compile(NUMBER[1:-1])  # fullmatch: Python's $ would allow a final newline


def output_format(path: Path | str, choices: Sequence[str] = (".csv", ".parquet")) -> str:
    """The format ("csv", "parquet") `path`'s extension asks for; ParameterError listing the
    choices for any other extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in choices or suffix not in FORMATS:
        raise ParameterError(
            f"cannot write {Path(path).name}: its extension {suffix or '(none)'} is not an "
            "output format",
            hint="end the output name with " + " or ".join(choices),
        )
    return FORMATS[suffix]


def safe_cell(value: object) -> object:
    """`value`, with a leading apostrophe if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    """A CSV row with every formula-like text cell neutralised (for csv.writer)."""
    return [safe_cell(v) for v in row]


def safe_values(row: dict[str, object]) -> dict[str, object]:
    """A CSV row as a dict (for csv.DictWriter), neutralised the same way."""
    return {k: safe_cell(v) for k, v in row.items()}


def safe_table(table: pa.Table) -> pa.Table:
    """`table` with formula-like text neutralised in every string column (vectorised)."""
    import pyarrow.compute as pc

    columns = []
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            risky = pc.and_(
                pc.match_substring_regex(col, FORMULA_START),
                pc.invert(pc.match_substring_regex(col, NUMBER)),
            )
            prefixed = pc.binary_join_element_wise(pa.scalar("'", col.type), col, "")
            col = pc.if_else(pc.fill_null(risky, False), prefixed, col)
        elif pa.types.is_dictionary(col.type) and pa.types.is_string(col.type.value_type):
            col = safe_table(pa.table({"c": col.cast(col.type.value_type)}))["c"]
        columns.append(col)
    return pa.table(columns, names=table.column_names)


def sql_safe(expr: str) -> str:
    """A DuckDB expression of text `expr` neutralised the same way (for COPY … TO csv)."""
    return (
        f"CASE WHEN regexp_matches({expr}, '{FORMULA_START}') AND NOT "
        f"regexp_matches({expr}, '{NUMBER}') THEN '''' || {expr} ELSE {expr} END"
    )


def write_csv(table: pa.Table, path: Path | str) -> None:
    """Write `table` as CSV with a header, formula-like text neutralised."""
    import pyarrow.csv as pcsv

    pcsv.write_csv(safe_table(table), str(path))


def write_table(
    table: pa.Table, path: Path | str, *, choices: Sequence[str] = (".csv", ".parquet")
) -> str:
    """Write `table` in the format `path`'s extension names (whole, then renamed into
    place: store.atomic); return that format."""
    from whereabouts.store import atomic

    fmt = output_format(path, choices)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        atomic.write_with(Path(path), lambda tmp: write_csv(table, tmp))
    else:
        import pyarrow.parquet as pq

        atomic.write_with(
            Path(path), lambda tmp: pq.write_table(table, str(tmp), compression="zstd")
        )
    return fmt


__all__ = [
    "FORMATS",
    "output_format",
    "safe_cell",
    "safe_row",
    "safe_table",
    "safe_values",
    "sql_safe",
    "write_csv",
    "write_table",
]
