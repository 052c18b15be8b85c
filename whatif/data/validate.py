"""Small named validators for survey columns.

Each returns a list of one-line problems (empty when the column is fine), so that a loader can
report every problem in one pass. Messages name the file, the column, how many rows are affected,
an example row (1-based, header not counted) and how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from whatif.data.spec import Spec
from whatif.errors import DataError, SpecError, closest

__all__ = [
    "MIN_GROUP_RESPONSES",
    "binary_values",
    "check_binary",
    "check_columns_present",
    "check_counts",
    "check_group_sizes",
    "check_numeric",
    "check_scale",
    "check_spec_channels",
    "check_weights",
    "check_years",
    "measured_flags",
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


def check_columns_present(
    raw: pd.DataFrame, spec: Spec, where: str, separator: str | None = None
) -> None:
    """Raise a :class:`DataError` naming every spec column missing from the file.

    Parameters
    ----------
    raw, spec, where
        The frame as read, its spec, the file's name in messages.
    separator
        The separator a CSV file was read with: when none of the spec's columns is found, the
        one-line error says which it was and how to set another.
    """
    present = [str(c) for c in raw.columns]
    wanted = list(dict.fromkeys(spec.data_columns()))
    missing = [c for c in wanted if c not in present]
    if separator is not None and len(missing) == len(wanted):
        header = present[0] if present else ""
        better = next((s for s in (",", ";", "\t", "|") if s != separator and s in header), None)
        example = f"{better!r}".replace("'", '"') if better else '";"'
        raise DataError(
            f"{where}: none of the {len(wanted)} columns named in the spec {spec.source} is in the "
            f"file, read with separator {separator!r} into {len(present)} column"
            f"{'s' if len(present) != 1 else ''} (the first is {header[:60]!r}); set [survey] "
            f"separator = {example} in the spec to the file's separator"
        )
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


def binary_values(series: pd.Series, column: str, where: str) -> tuple[pd.Series, list[str]]:
    """:func:`check_binary`, skipping its text path when it cannot matter.

    A numeric column whose values are all 0, 1 or missing is valid and maps to itself as floats,
    which is what ``check_binary`` returns for it after turning every value into text (about two
    thirds of the validation time on the demo survey). Any other column, or one value outside {0, 1}
    (``-0.0`` included: its text is not a binary word), goes through ``check_binary`` itself, so
    messages and counts are always its own.
    """
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        present = values[~np.isnan(values)]
        if (((present == 0.0) & ~np.signbit(present)) | (present == 1.0)).all():
            return pd.Series(values, index=series.index), []
    return check_binary(series, column, where)


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


def check_years(
    series: pd.Series, column: str, where: str
) -> tuple[pd.Series, list[str], tuple[int, str | None, int | None]]:
    """Years must be present whole numbers; a date (a datetime column, a date object or ISO text
    such as ``2024-03-01``) is read as its calendar year.

    Returns
    -------
    years, problems, dated
        The years (int64 when there are no problems), the problems, and ``(count, example,
        year)``: how many dates were read as years, the first of them as text and its year.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        dated = series.notna().to_numpy()
        numbers = pd.Series(series.dt.year.to_numpy(dtype=float, na_value=np.nan), series.index)
    else:
        numbers = pd.to_numeric(series, errors="coerce").astype(float)
        dated = np.zeros(len(series), bool)
        if not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            others = numbers.isna().to_numpy() & series.notna().to_numpy()
            if others.any():
                codes, uniques = pd.factorize(series[others])
                parsed = pd.to_datetime(
                    pd.Series(uniques, dtype=object), format="ISO8601", errors="coerce"
                )
                years = parsed.dt.year.to_numpy(dtype=float, na_value=np.nan)[codes]
                numbers[others] = years
                dated[np.flatnonzero(others)[~np.isnan(years)]] = True
    arr = numbers.to_numpy(dtype=float)
    bad = np.isnan(arr) | (arr != np.round(arr))
    summary: tuple[int, str | None, int | None] = (0, None, None)
    if dated.any():
        first = int(np.flatnonzero(dated)[0])
        summary = (int(dated.sum()), _date_text(series.iloc[first]), int(arr[first]))
    if bad.any():
        return (
            numbers,
            [
                _problem(
                    where,
                    column,
                    bad,
                    series,
                    "with a year that is not a whole number",
                    "write years as integers such as 2025 (or as dates such as 2025-03-01)",
                )
            ],
            summary,
        )
    return numbers.astype("int64"), [], summary


def _date_text(value) -> str:
    if isinstance(value, str):
        return value
    stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.isoformat()


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


def measured_flags(
    spec: Spec, present: pd.DataFrame, minimum: pd.DataFrame, maximum: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Which drivers and influencers are measured in each channel.

    A driver is measured where any response has it; an influencer where it also takes more than
    one value, since a constant cannot be told apart from the channel's intercept.

    Parameters
    ----------
    present
        Non-missing responses by channel x term (driver and influencer ids).
    minimum, maximum
        Each influencer's smallest and largest value by channel.

    Returns
    -------
    driver_measured, influencer_measured
        Boolean frames, channel x id, in the index order of ``present``.
    """
    drivers = present[spec.driver_ids] > 0
    ids = spec.influencer_ids
    if not ids:
        return drivers.astype(bool), pd.DataFrame(index=present.index)
    low = minimum.reindex(index=present.index)[ids].to_numpy(dtype=float)
    high = maximum.reindex(index=present.index)[ids].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        varies = high > low  # NaN (never answered) compares False
    influencers = (present[ids] > 0) & varies
    return drivers.astype(bool), influencers.astype(bool)


def _table_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"' + key.replace('"', '\\"') + '"'


def check_spec_channels(
    spec: Spec, channels: Iterable[str], where: str, known: Iterable[str] = ()
) -> None:
    """Every ``[channels.X]`` table names a channel of the data, and volumes cover every channel.

    Parameters
    ----------
    spec
        The spec.
    channels
        The channels of the data (after their names are normalized).
    where
        The data's name in messages.
    known
        Channels known from elsewhere (a previous fit's, for a refit), which count as present.

    Raises
    ------
    SpecError
        One line per table naming a missing channel (with the closest channel of the data), or
        one line listing the channels without a volume.
    """
    if not spec.channels:
        return
    present = sorted(set(channels) | set(known))
    if not spec.channel:
        raise SpecError(
            f"{spec.source}: [channels.{_table_key(next(iter(spec.channels)))}] is given but "
            "survey.channel is not, so the data are one channel; set survey.channel to the "
            "channel column or remove the [channels] tables"
        )
    problems = [
        f"{spec.source}: [channels.{_table_key(key)}] names a channel that is not in {where}"
        f"{closest(key, present)}; its channels: {', '.join(present)}"
        for key in spec.channels
        if key not in present
    ]
    if problems:
        raise SpecError(*problems)
    if any(c.volume is not None for c in spec.channels.values()):
        lacking = [c for c in present if c not in spec.channels or spec.channels[c].volume is None]
        if lacking:
            raise SpecError(
                f"{spec.source}: [channels] gives volumes, but not for "
                f"{', '.join(lacking)} (in {where}); add [channels.<id>] volume = ... for "
                "them, or remove every volume to weight channels by their responses"
            )
