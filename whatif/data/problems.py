"""Validation problems found partition by partition, merged into the pandas engine's messages.

The Dask engine (:mod:`whatif.data.engine_dask`) validates each partition with the same checks as
the pandas path; a message such as ``column 'x': 3 rows are not numbers, e.g. row 7 has 'n/a'``
is taken apart here into its count, first row and the rest, and the partitions' parts are added
up, so the user reads one message with the dataset-wide count and the first row in the dataset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["PROBLEM", "Found", "escape", "found_problems", "merge_problems"]


#: What :mod:`whatif.data.validate` writes after "<where>: column '<col>': ".
PROBLEM = re.compile(r"(?P<n>\d+) rows? (?P<what>.*?), e\.g\. row (?P<row>\d+) has (?P<rest>.*)")


@dataclass
class Found:
    """One problem in one partition: enough to rebuild its message with dataset-wide counts."""

    stage: int  # which check (validate_frame's order)
    sub: int  # position among that check's messages
    key: str  # identifies the same problem across partitions within a stage
    template: str  # str.format template with {n}, {rows} and {row}
    count: int | None = None  # None: a message we could not take apart; reported as is
    row: int | None = None  # 0-based first row within the partition


def escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def found_problems(stage: int, prefix: str, messages: list[str]) -> list[Found]:
    """Take a validator's messages apart into count, first row and the rest."""
    out = []
    for sub, message in enumerate(messages):
        match = PROBLEM.fullmatch(message[len(prefix) :]) if message.startswith(prefix) else None
        if match is None:  # a validator wrote something new: keep it whole rather than guess
            out.append(Found(stage, sub, message, escape(message)))
            continue
        template = (
            f"{escape(prefix)}{{n}} {{rows}} {escape(match['what'])}, e.g. row {{row}} has "
            f"{escape(match['rest'])}"
        )
        out.append(
            Found(stage, sub, match["what"], template, int(match["n"]), int(match["row"]) - 1)
        )
    return out


def merge_problems(problems: list[list[Found]], offsets: np.ndarray) -> list[str]:
    """One message per problem over all partitions: total count, the first row in the dataset.

    Parameters
    ----------
    problems
        The problems of each partition, in partition order.
    offsets
        The dataset row of each partition's first row.
    """
    merged: dict[tuple[int, str], dict] = {}
    for p, found in enumerate(problems):
        for f in found:
            entry = merged.get((f.stage, f.key))
            if entry is None:
                merged[(f.stage, f.key)] = {
                    "found": f,
                    "part": p,
                    "sub": f.sub,
                    "n": f.count or 0,
                    "row": None if f.row is None else int(offsets[p]) + f.row,
                }
            else:
                entry["n"] += f.count or 0
                entry["sub"] = max(entry["sub"], f.sub)
    # Checks run in validate_frame's order (stage); a check that writes two messages writes them
    # in a fixed order, so the later position seen for a message keeps that order even where a
    # partition has only the second one.
    ordered = sorted(merged.values(), key=lambda e: (e["found"].stage, e["sub"], e["part"]))
    messages = []
    for entry in ordered:
        n = entry["n"]
        rows = "row" if n == 1 else "rows"
        row = entry["row"] + 1 if entry["row"] is not None else 0
        messages.append(entry["found"].template.format(n=n, rows=rows, row=row))
    return messages
