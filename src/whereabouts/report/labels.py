"""Pseudonyms for the people in a report (Mr A, Ms B, PC One …) and the separate key.

A report for a panel names nobody: each subject gets a label, other officers are "another
officer", and the key from label to identity is written to its own file, kept apart from
the report. Labels are configurable: a style for everyone, or an explicit label per officer.

    >>> Labels.make(["P2", "P1"], style="pc").of("P1")
    'PC One'
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from whereabouts.errors import ParameterError
from whereabouts.outfiles import safe_row
from whereabouts.report.wording import ordinal_word

LabelStyle = Literal["pc", "officer", "mr-ms"]
LABEL_STYLES: tuple[str, ...] = ("pc", "officer", "mr-ms")
OTHER_OFFICER = "another officer"


def _style_label(style: str, n: int) -> str:
    letter = chr(ord("A") + n) if n < 26 else f"A{n}"
    if style == "pc":
        return f"PC {ordinal_word(n + 1)}"
    if style == "officer":
        return f"Officer {letter}"
    # Mr/Ms cannot be known from the data; alternate, and let --label set each one.
    return f"{'Mr' if n % 2 == 0 else 'Ms'} {letter}"


def parse_label_option(text: str) -> dict[str, str]:
    """'P1001=Mr A,P1002=Ms B' → {'P1001': 'Mr A', 'P1002': 'Ms B'}."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        officer, sep, label = part.partition("=")
        if not sep or not officer.strip() or not label.strip():
            raise ParameterError(
                f"cannot read the label {part!r}",
                hint="write labels as OFFICER_ID=LABEL, e.g. P1001=Mr A",
            )
        out[officer.strip()] = label.strip()
    return out


@dataclass(frozen=True)
class Labels:
    """Officer id → pseudonym, plus what must never appear in the report (ids and names)."""

    by_officer: Mapping[str, str]
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def make(
        cls,
        subjects: Sequence[str],
        *,
        style: str = "pc",
        explicit: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> Labels:
        """Label subjects in sorted id order with `style`; `explicit` overrides any of them."""
        if style not in LABEL_STYLES:
            raise ParameterError(
                f"unknown label style {style!r}", hint=f"choose one of: {', '.join(LABEL_STYLES)}"
            )
        explicit = dict(explicit or {})
        unknown = sorted(set(explicit) - set(subjects))
        if unknown:
            raise ParameterError(
                f"labels given for officers who are not subjects: {unknown}",
                hint="label only the case's subjects",
            )
        labels = {
            o: explicit.get(o, _style_label(style, i)) for i, o in enumerate(sorted(set(subjects)))
        }
        if len(set(labels.values())) != len(labels):
            raise ParameterError(
                "two subjects would share one label", hint="give each subject a different label"
            )
        return cls(labels, dict(names or {}))

    def of(self, officer_id: str | None) -> str:
        """The label of a subject, or 'another officer'."""
        if officer_id is None:
            return OTHER_OFFICER
        return self.by_officer.get(officer_id, OTHER_OFFICER)

    def scrub(self, text: str) -> str:
        """Replace every officer id and name in free text by its label."""
        if not text:
            return text
        swaps: dict[str, str] = {}
        for officer, name in self.names.items():
            if name:
                swaps[name] = self.of(officer)
        for officer in set(self.names) | set(self.by_officer):
            swaps[officer] = self.of(officer)
        if not swaps:
            return text
        # Longest first so 'P10011' is not half-replaced by 'P1001'; whole words only.
        keys = sorted(swaps, key=len, reverse=True)
        pattern = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, keys)) + r")(?![\w])")
        return pattern.sub(lambda m: swaps[m.group(1)], text)

    def write_key(self, path: Path) -> Path:
        """Write the key (label, officer id, name) as CSV to its own file."""
        from whereabouts.store import atomic

        path.parent.mkdir(parents=True, exist_ok=True)

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(["label", "officer_id", "name"])
                for officer, label in sorted(self.by_officer.items(), key=lambda kv: kv[1]):
                    w.writerow(safe_row([label, officer, self.names.get(officer, "")]))

        atomic.write_with(path, write)  # whole, then renamed into place
        return path


__all__ = ["LABEL_STYLES", "OTHER_OFFICER", "LabelStyle", "Labels", "parse_label_option"]
