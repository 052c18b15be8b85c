"""Small named validators for survey columns.

Each returns a list of one-line problems (empty when the column is fine), so that a loader can
report every problem in one pass. Messages name the file, the column, how many rows are affected,
an example row (1-based, header not counted) and how to fix it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from whatif.data.spec import Spec
from whatif.errors import DataError, closest

__all__ = [
    "MIN_GROUP_RESPONSES",
    "check_binary",
    "check_columns_present",
    "check_counts",
    "check_group_sizes",
    "check_numeric",
    "check_scale",
    "check_weights",
    "check_years",
    "min_responses_for",
]

MIN_GROUP_RESPONSES = 30
TRUE_WORDS = {"1", "1.0", "true", "t", "yes", "y"}
FALSE_WORDS = {"0", "0.0", "false", "f", "no", "n"}


def _problem(
    where: str, column: str, mask: np.ndarray, values: pd.Series, what: str, fix: str
) -> str:
    rows = np.flatnonzero(mask)
    first = rows[0]
    example = values.iloc[first]
    if isinstance(example, np.generic):
        example = example.item()
    return (
        f"{where}: column '{column}': {len(rows)} row{'s' if len(rows) != 1 else ''} {what}, "
        f"e.g. row {first + 1} has {example!r}; {fix}"
    )


def check_columns_present(raw: pd.DataFrame, spec: Spec, where: str) -> None:
    """Raise a :class:`DataError` naming every spec column missing from the file."""
    present = [str(c) for c in raw.columns]
    missing = [c for c in dict.fromkeys(spec.data_columns()) if c not in present]
    if missing:
        raise DataError(
            *(
                f"{where}: column '{c}' named in the spec {spec.source} is missing from the file"
                f"{closest(c, present)}; rename the column or fix the spec"
                for c in missing
            )
        )


def check_numeric(series: pd.Series, column: str, where: str) -> tuple[pd.Series, list[str]]:
    """Convert to float; values that are present but not numbers are a problem."""
    converted = pd.to_numeric(series, errors="coerce")
    if not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        text = series.astype("string").str.strip()
        bad = converted.isna() & series.notna() & (text != "")
        converted = converted.where(~(text == ""), np.nan)
    else:
        bad = converted.isna() & series.notna()
    problems = []
    if bad.any():
        problems.append(
            _problem(
                where,
                column,
                bad.to_numpy(),
                series,
                "with a value that is not a number",
                "use numbers only (leave a cell empty for a missing answer)",
            )
        )
    inf = np.isinf(converted.to_numpy(dtype=float, na_value=np.nan))
    if inf.any():
        problems.append(
            _problem(where, column, inf, series, "with an infinite value", "use finite numbers")
        )
    return converted.astype(float), problems


def check_binary(series: pd.Series, column: str, where: str) -> tuple[pd.Series, list[str]]:
    """Map 0/1, true/false and yes/no (any case) to 0.0/1.0; anything else is a problem."""
    if series.dtype == bool:
        return series.astype(float), []
    text = series.astype("string").str.strip().str.lower()
    ones = text.isin(TRUE_WORDS)
    zeros = text.isin(FALSE_WORDS)
    empty = series.isna() | (text == "")
    out = pd.Series(np.where(ones, 1.0, np.where(zeros, 0.0, np.nan)), index=series.index)
    bad = (~ones & ~zeros & ~empty).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        return out, [
            _problem(
                where,
                column,
                bad,
                series,
                "with a value that is not binary",
                "a binary influencer takes 0/1, true/false or yes/no",
            )
        ]
    return out, []


def check_scale(values: pd.Series, column: str, where: str, low: float, high: float) -> list[str]:
    """Ratings must lie on the spec's scale."""
    arr = values.to_numpy(dtype=float)
    bad = ~np.isnan(arr) & ((arr < low) | (arr > high))
    if bad.any():
        return [
            _problem(
                where,
                column,
                bad,
                values,
                f"with a value outside the rating scale [{low:g}, {high:g}]",
                "fix the values or set survey.scale in the spec",
            )
        ]
    return []


def check_counts(values: pd.Series, column: str, where: str) -> list[str]:
    """A count influencer takes whole numbers >= 0."""
    arr = values.to_numpy(dtype=float)
    present = ~np.isnan(arr)
    problems = []
    negative = present & (arr < 0)
    if negative.any():
        problems.append(
            _problem(
                where,
                column,
                negative,
                values,
                "with a negative count",
                "a count influencer cannot be below 0",
            )
        )
    fractional = present & (arr >= 0) & (arr != np.round(arr))
    if fractional.any():
        problems.append(
            _problem(
                where,
                column,
                fractional,
                values,
                "with a count that is not a whole number",
                'a count takes whole numbers; use kind = "continuous" otherwise',
            )
        )
    return problems


def check_weights(values: pd.Series, column: str, where: str) -> list[str]:
    """Survey weights must be present and positive."""
    arr = values.to_numpy(dtype=float)
    bad = np.isnan(arr) | (arr <= 0)
    if bad.any():
        return [
            _problem(
                where,
                column,
                bad,
                values,
                "with a missing or non-positive weight",
                "survey weights must be positive numbers",
            )
        ]
    return []


def check_years(series: pd.Series, column: str, where: str) -> tuple[pd.Series, list[str]]:
    """Years must be present whole numbers."""
    numbers = pd.to_numeric(series, errors="coerce")
    arr = numbers.to_numpy(dtype=float)
    bad = np.isnan(arr) | (arr != np.round(arr))
    if bad.any():
        return numbers, [
            _problem(
                where,
                column,
                bad,
                series,
                "with a year that is not a whole number",
                "write years as integers such as 2025",
            )
        ]
    return numbers.astype("int64"), []


def min_responses_for(n_terms: int, floor: int = MIN_GROUP_RESPONSES) -> int:
    """Fewest responses a group needs: the floor, or five per coefficient when that is more."""
    return max(floor, 5 * (n_terms + 1))


def check_group_sizes(
    frame: pd.DataFrame,
    spec: Spec,
    where: str,
    floor: int,
    driver_measured: pd.DataFrame,
    influencer_measured: pd.DataFrame,
) -> list[str]:
    """Every (channel, year) group needs enough responses to estimate its coefficients."""
    problems = []
    sizes = frame.groupby(["channel", "year"]).size()
    for (channel, year), n in sizes.items():
        terms = int(driver_measured.loc[channel].sum())
        if len(influencer_measured.columns):
            terms += int(influencer_measured.loc[channel].sum())
        need = min_responses_for(terms, floor)
        if n < need:
            label = f"channel '{channel}', year {year}" if spec.year else f"channel '{channel}'"
            problems.append(
                f"{where}: {label} has only {n} responses with an outcome; at least {need} are "
                f"needed to estimate its {terms} coefficients; merge it with another group or "
                "collect more responses"
            )
    return problems
