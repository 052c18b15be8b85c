"""Values that are valid but need reading: missing-value codes, channel spellings, and the notes
that say what was changed.

Both engines (:mod:`whatif.data.survey` on a whole frame, :mod:`whatif.data.engine_dask` partition
by partition) count with these functions and write their notes with them, so that the notes are
the same whichever engine read the data.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from whatif.data.spec import Spec

__all__ = [
    "apply_missing_codes",
    "channel_names",
    "channel_spellings",
    "clean_spelling",
    "codes_note",
    "constant_notes",
    "dates_note",
]


def apply_missing_codes(series: pd.Series, codes: tuple[float, ...]) -> tuple[pd.Series, int]:
    """Blank the cells whose value is one of ``codes`` (numbers, or text that reads as one).

    Returns
    -------
    series, count
        The column with those cells missing, and how many there were.
    """
    if not codes or pd.api.types.is_bool_dtype(series):
        return series, 0
    numbers = (
        series if pd.api.types.is_numeric_dtype(series) else pd.to_numeric(series, errors="coerce")
    )
    hit = numbers.isin(codes).to_numpy(dtype=bool, na_value=False)
    count = int(hit.sum())
    return (series.mask(hit) if count else series), count


def codes_note(counts: Mapping[str, int], where: str) -> list[str]:
    """The note on cells read as missing by the spec's codes, counts by column in spec order."""
    hit = {column: n for column, n in counts.items() if n}
    if not hit:
        return []
    listed = ", ".join(f"'{column}' {n}" for column, n in hit.items())
    return [
        f"{where}: {sum(hit.values())} values equal to a missing-value code of the spec are read "
        f"as missing ({listed})"
    ]


def dates_note(where: str, column: str, dated: tuple[int, str | None, int | None]) -> list[str]:
    """The note on dates in the year column (``dated`` from :func:`~whatif.data.validate.check_years`)."""
    count, example, year = dated
    if not count:
        return []
    return [
        f"{where}: column '{column}': {count} dates are read as their calendar year "
        f"(e.g. {example} -> {year})"
    ]


def clean_spelling(text: str) -> str:
    """A channel name without surrounding spaces and with inner runs of spaces made one."""
    return " ".join(text.split())


def _text(value) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))  # a float column of channel codes: 1.0 is channel "1"
    return str(value)


def channel_spellings(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """The channel column as codes into its distinct spellings (as text; -1 for missing).

    Works on the distinct values only, so that a million rows cost one hash pass.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, [_text(u) for u in uniques]


def channel_names(
    spellings: Mapping[str, int], spec: Spec, where: str
) -> tuple[dict[str, str], list[str]]:
    """One channel per name that differs only in case or spaces.

    Spellings that are equal once spaces are trimmed and case ignored are one channel, named
    after the spec's ``[channels.X]`` key that matches them so, else after their most frequent
    spelling (the first in sort order on a tie).

    Parameters
    ----------
    spellings
        Rows by spelling as found in the data (blank spellings left out).
    spec, where
        The spec (its ``[channels]`` keys) and the data's name in the note.

    Returns
    -------
    names, notes
        The channel of each spelling, and a one-line note naming every spelling that was changed.
    """
    keys = {}
    for key in spec.channels:
        keys.setdefault(clean_spelling(key).casefold(), key)
    groups: dict[str, dict[str, int]] = {}
    for spelling, n in spellings.items():
        clean = clean_spelling(spelling)
        groups.setdefault(clean.casefold(), {})
        groups[clean.casefold()][clean] = groups[clean.casefold()].get(clean, 0) + n
    chosen = {
        folded: keys.get(folded) or min(counts, key=lambda s: (-counts[s], s))
        for folded, counts in groups.items()
    }
    names = {s: chosen[clean_spelling(s).casefold()] for s in spellings}
    changed: dict[str, list[str]] = {}
    for spelling in sorted(spellings):
        if names[spelling] != spelling:
            changed.setdefault(names[spelling], []).append(repr(spelling))
    if not changed:
        return names, []
    merged = "; ".join(f"{', '.join(found)} -> '{name}'" for name, found in sorted(changed.items()))
    column = f"column '{spec.channel}': " if spec.channel else ""
    return names, [
        f"{where}: {column}channel names that differ only in case or spaces are read as one "
        f"channel ({merged})"
    ]


def constant_notes(
    spec: Spec,
    present: pd.DataFrame,
    minimum: pd.DataFrame,
    influencer_measured: pd.DataFrame,
    where: str,
) -> list[str]:
    """One note per channel naming the influencers answered there that never vary.

    Parameters
    ----------
    present, minimum
        Non-missing responses and smallest value by channel x term.
    influencer_measured
        From :func:`~whatif.data.validate.measured_flags`.
    """
    notes = []
    for channel in present.index:
        constant = [
            i
            for i in spec.influencer_ids
            if present.loc[channel, i] > 0 and not influencer_measured.loc[channel, i]
        ]
        if constant:
            values = ", ".join(
                f"'{i}' is always {float(minimum.loc[channel, i]):g}" for i in constant
            )
            notes.append(
                f"{where}: channel '{channel}': {values}; an influencer that never varies in a "
                "channel is treated as not measured there"
            )
    return notes
