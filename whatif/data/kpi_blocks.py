"""KPI feeds, block by block: the feed's columns, its periods, and one block's sums.

:func:`summarize_block` validates one block of a feed (the whole file on pandas, one partition on
Dask) and reduces it to sums by (period, channel); :mod:`whatif.data.kpis` merges the blocks.
Every column has a fixed stage (period, channel, the influencers in order, contacts), so the
blocks' problems merge into one message per column and problem
(:func:`whatif.data.problems.merge_problems`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from whatif.data.clean import clean_spelling
from whatif.data.problems import Found, found_problems
from whatif.data.spec import Spec
from whatif.errors import DataError, closest

__all__ = [
    "CHANNEL",
    "CONTACTS",
    "PERIOD",
    "FeedBlock",
    "FeedColumns",
    "period_key",
    "period_year",
    "summarize_block",
]

PERIOD = "period"
CHANNEL = "channel"
CONTACTS = "contacts"

_PERIOD_FORMS = (
    ("YYYY-MM-DD", re.compile(r"(\d{4})-(\d{2})-(\d{2})")),
    ("YYYY-MM", re.compile(r"(\d{4})-(\d{1,2})")),
    ("YYYY-Www", re.compile(r"(\d{4})-W(\d{1,2})", re.IGNORECASE)),
    ("YYYY-Qn", re.compile(r"(\d{4})-Q(\d)", re.IGNORECASE)),
    ("YYYY", re.compile(r"(\d{4})")),
)


def period_key(text: str) -> tuple[str, tuple[int, ...]] | None:
    """``(form, sortable key)`` of a period written as a date, ``None`` for free text.

    Raises
    ------
    ValueError
        A date of a known form that does not exist (month 13, week 54, quarter 5, 31 April).
    """
    for form, pattern in _PERIOD_FORMS:
        match = pattern.fullmatch(text.strip())
        if match is None:
            continue
        parts = tuple(int(g) for g in match.groups())
        if form == "YYYY-MM-DD":
            dt.date(*parts)
        limit = {"YYYY-MM": 12, "YYYY-Www": 53, "YYYY-Qn": 4}.get(form)
        if limit is not None and not 1 <= parts[1] <= limit:
            unit = {"YYYY-MM": "month", "YYYY-Www": "week", "YYYY-Qn": "quarter"}[form]
            raise ValueError(f"{unit} must be 1-{limit}")
        return form, parts
    return None


def period_year(text: str) -> int | None:
    """The calendar year of a period written as a date (``2026-03`` -> 2026), else ``None``."""
    try:
        key = period_key(text)
    except ValueError:
        return None
    return key[1][0] if key else None


# ---------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedColumns:
    """What to read of a feed: its columns, their kinds, the model's channels."""

    where: str
    influencers: tuple[str, ...]
    kinds: dict
    has_channel: bool
    has_contacts: bool
    channels: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        keys = [PERIOD] + ([CHANNEL] if self.has_channel else [])
        return keys + list(self.influencers) + ([CONTACTS] if self.has_contacts else [])

    @classmethod
    def of(cls, columns: list[str], spec: Spec, channels: list[str], where: str) -> FeedColumns:
        """Check the header: a period column, a channel column, known influencer ids only."""
        ids = spec.influencer_ids
        kinds = {i.id: i.kind for i in spec.influencers}
        problems = []
        if PERIOD not in columns:
            problems.append(
                f"{where}: no '{PERIOD}' column{closest(PERIOD, columns)}; a KPI feed needs "
                "'period' (text such as 2025-03), 'channel' and one column per influencer id"
            )
        if CHANNEL not in columns and len(channels) > 1:
            problems.append(
                f"{where}: no '{CHANNEL}' column{closest(CHANNEL, columns)}; the model has "
                f"{len(channels)} channels ({', '.join(channels)}), so each row names one"
            )
        others = [c for c in columns if c not in (PERIOD, CHANNEL, CONTACTS)]
        for column in others:
            if column in ids:
                continue
            if column in spec.driver_ids:
                hint = f" ('{column}' is a driver; a feed holds influencers, the KPIs)"
            else:
                by_column = {i.column: i.id for i in spec.influencers}
                hint = (
                    f" (the survey column of influencer '{by_column[column]}': name the column "
                    f"'{by_column[column]}')"
                    if column in by_column
                    else closest(column, ids)
                )
            problems.append(
                f"{where}: column '{column}' is not an influencer of the model{hint}; "
                f"influencers: {', '.join(ids) or 'none'}"
            )
        influencers = tuple(i for i in ids if i in columns)
        if not problems and not influencers:
            problems.append(
                f"{where}: no influencer column; add one column per KPI named by its influencer "
                f"id ({', '.join(ids) or 'the model has none'})"
            )
        if problems:
            raise DataError(*problems)
        return cls(
            where, influencers, kinds, CHANNEL in columns, CONTACTS in columns, tuple(channels)
        )


# ---------------------------------------------------------------------------------------------
# One block: validate and sum by (period, channel)
# ---------------------------------------------------------------------------------------------


@dataclass
class FeedBlock:
    """One block's sums by (period, channel) and the problems found in it."""

    rows: int
    problems: list[Found] = field(default_factory=list)
    sums: pd.DataFrame | None = None  # influencer sums by (period, channel), first-seen order
    counts: pd.DataFrame | None = None  # non-missing values by (period, channel)
    first_row: pd.Series | None = None  # first row of each (period, channel) in the block
    forms: dict[str, int] = field(default_factory=dict)  # period forms seen, by first row
    fractional: dict[str, Found] = field(default_factory=dict)  # binary values not 0 or 1
    spellings: dict[str, str] = field(default_factory=dict)  # channel spelling -> model channel


def _message(where: str, column: str, mask: np.ndarray, values, what: str, fix: str) -> str:
    rows = np.flatnonzero(mask)
    example = values[rows[0]]
    example = example.item() if isinstance(example, np.generic) else example
    plural = "s" if len(rows) != 1 else ""
    return (
        f"{where}: column '{column}': {len(rows)} row{plural} {what}, e.g. row {rows[0] + 1} has "
        f"{example!r}; {fix}"
    )


def _period_text(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(series):
        return np.asarray(series.dt.strftime("%Y-%m-%d").fillna(""), dtype=object)

    def text(value) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        if isinstance(value, float | np.floating) and float(value).is_integer():
            return str(int(value))
        if isinstance(value, dt.date | pd.Timestamp):
            return value.strftime("%Y-%m-%d")
        return str(value).strip()

    codes, uniques = pd.factorize(series, use_na_sentinel=True)  # the texts of distinct values
    texts = np.asarray([text(u) for u in uniques] + [""], dtype=object)
    return texts[codes]


def summarize_block(raw: pd.DataFrame, plan: FeedColumns) -> FeedBlock:
    """Validate one block and sum its values by (period, channel).

    Each column has a fixed stage (period, channel, the influencers in order, contacts), so that
    the blocks' problems merge into one message per column and problem.
    """
    where, n = plan.where, len(raw)
    block = FeedBlock(rows=n)
    stages: dict[int, tuple[str, list[str]]] = {}

    def report(stage: int, column: str, mask: np.ndarray, values, what: str, fix: str) -> None:
        stages.setdefault(stage, (column, []))[1].append(
            _message(where, column, mask, values, what, fix)
        )

    periods = _period_text(raw[PERIOD])
    blank = periods == ""
    if blank.any():
        fix = "fill in the period (e.g. 2025-03) or remove those rows"
        report(0, PERIOD, blank, raw[PERIOD].to_numpy(), "with no period", fix)
    codes, texts = pd.factorize(periods)  # in order of first appearance
    for i, text in enumerate(texts):
        if text == "":
            continue
        try:
            key = period_key(text)
        except ValueError as err:
            fix = "write a period that exists, e.g. 2025-03 or 2025-W14"
            report(0, PERIOD, codes == i, periods, f"with a bad period ({err})", fix)
            continue
        block.forms.setdefault(key[0] if key else "text", int(np.argmax(codes == i)))
    channel = _channels(raw, plan, block, report)
    values = {}
    for i, column in enumerate(plan.influencers, start=2):
        values[column] = _numbers(raw[column], column, plan.kinds[column], i, report)
        if plan.kinds[column] == "binary":
            array = values[column]
            odd = ~np.isnan(array) & (array != 0) & (array != 1)
            if odd.any():
                fix = "in a per-contact log a binary KPI is 0 or 1 per contact"
                message = _message(where, column, odd, array, "with a value neither 0 nor 1", fix)
                (block.fractional[column],) = found_problems(
                    i, f"{where}: column '{column}': ", [message]
                )
    if plan.has_contacts:
        contacts = pd.to_numeric(raw[CONTACTS], errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(contacts) | (contacts < 0) | np.isinf(contacts)
        if bad.any():
            what = "without a number of contacts (0 or more)"
            fix = "fill in every row's contacts or drop the column"
            report(len(plan.influencers) + 2, CONTACTS, bad, raw[CONTACTS].to_numpy(), what, fix)
        values[CONTACTS] = contacts
    for stage, (column, found) in sorted(stages.items()):
        block.problems += found_problems(stage, f"{where}: column '{column}': ", found)
    if block.problems or n == 0:
        return block
    keys = pd.MultiIndex.from_arrays([periods, channel], names=[PERIOD, CHANNEL])
    grouped = pd.DataFrame(values, index=keys).groupby(level=[0, 1], sort=False)
    block.sums = grouped.sum(min_count=0)
    block.counts = grouped.count()
    block.counts["_rows"] = grouped.size()
    block.first_row = pd.Series(np.arange(n), index=keys).groupby(level=[0, 1], sort=False).min()
    return block


def _numbers(series: pd.Series, column: str, kind: str, stage: int, report) -> np.ndarray:
    """A KPI column as floats (yes/no words for a binary one); bad values become problems."""
    if kind == "binary" and not pd.api.types.is_numeric_dtype(series):
        series = _binary_words(series)
    array = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        given = series.notna().to_numpy()
    else:  # text: an empty cell is a missing value, not a bad one
        text = series.astype("string").str.strip()
        given = series.notna().to_numpy() & (text != "").fillna(False).to_numpy(dtype=bool)
    bad = (np.isnan(array) & given) | np.isinf(array)
    if bad.any():
        fix = "use numbers only (leave a cell empty when unknown)"
        report(stage, column, bad, series.to_numpy(), "with a value that is not a number", fix)
    array = np.where(bad, np.nan, array)
    present = ~np.isnan(array)
    if kind == "binary":
        out = present & ((array < 0) | (array > 1))
        if out.any():
            fix = "a binary KPI is a share (0.06 for 6%), or 0/1 per contact in a log"
            report(stage, column, out, array, "with a share outside 0-1", fix)
    elif kind == "count":
        out = present & (array < 0)
        if out.any():
            report(stage, column, out, array, "with a negative count", "a count cannot be below 0")
    return array


def _binary_words(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip().str.lower()
    words = {
        "true": 1.0,
        "yes": 1.0,
        "y": 1.0,
        "t": 1.0,
        "false": 0.0,
        "no": 0.0,
        "n": 0.0,
        "f": 0.0,
    }
    mapped = text.map(words)
    return series.where(mapped.isna(), mapped)


def _channels(raw: pd.DataFrame, plan: FeedColumns, block: FeedBlock, report) -> np.ndarray:
    """Each row's model channel (spellings differing in case or spaces matched); unknown and
    blank channels are reported."""
    if not plan.has_channel:
        return np.full(len(raw), plan.channels[0], dtype=object)
    codes, uniques = pd.factorize(raw[CHANNEL], use_na_sentinel=True)
    folded = {clean_spelling(c).casefold(): c for c in plan.channels}
    names = []
    for value in uniques:
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        name = text if text in plan.channels else folded.get(clean_spelling(text).casefold())
        if name is not None and name != text:
            block.spellings[text] = name
        names.append(name)
    column = raw[CHANNEL].to_numpy()
    if (codes < 0).any():
        report(1, CHANNEL, codes < 0, column, "with no channel", "fill in the channel")
    for i, name in enumerate(names):
        if name is None:
            spelled = str(uniques[i])
            what = f"with channel '{spelled}', not a channel of the model"
            fix = f"{closest(spelled, plan.channels).strip(' ()') or 'channels: ' + ', '.join(plan.channels)}"
            report(1, CHANNEL, codes == i, column, what, fix)
    return np.asarray(names + [None], dtype=object)[codes]
