"""KPI feeds: a fitted model's influencers as operations counts them, period by period.

A feed is a CSV or Parquet file with a ``period`` column (text such as ``2025-03`` or
``2025-W14``), a ``channel`` column (optional for a one-channel model) and one column per
influencer id: the period's mean for a count or continuous influencer, its share (0-1) for a
binary one. An optional ``contacts`` column holds the period's volume per channel (for the
company roll-up). A feed with several rows for a period and channel is a *per-contact log*: one
row per contact with raw influencer values (0/1 for a binary one), averaged here into the feed's
form, its contacts counted.

Both forms are read block by block (one block for a CSV or a single Parquet file on pandas; one
per partition of a Parquet folder or glob on Dask, so a log of many millions of rows is never in
memory at once): each block is validated and reduced to sums per (period, channel), and the
blocks' sums are added up. Row numbers in messages count rows in reading order across blocks.

Periods keep the order of the file for an aggregated feed. A log's periods are sorted when they
are dates of one form (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, ``YYYY-Qn``, ``YYYY-Www``), else
kept in order of first appearance; once the first period is such a date, every period must be
one of the same form (``2025-13`` is a bad period).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from whatif.data.kpi_blocks import (
    CONTACTS,
    PERIOD,
    FeedBlock,
    FeedColumns,
    period_key,
    summarize_block,
)
from whatif.data.problems import merge_problems
from whatif.data.readers import is_parquet_dataset, read_survey_file, resolve_parquet
from whatif.data.spec import Spec
from whatif.errors import DataError, WhatifError

__all__ = ["KPI_ENGINES", "KpiFeed", "load_kpis", "read_kpi_frame"]

KPI_ENGINES = ("auto", "pandas", "dask")


@dataclass(frozen=True, eq=False)
class KpiFeed:
    """A validated KPI feed: one row per period and channel.

    Attributes
    ----------
    source
        The file, folder or glob read (for messages).
    periods
        The periods, in order.
    values
        Index ``(period, channel)`` in order, one column per influencer of the file; NaN where
        the period has no value (the baseline holds there).
    contacts
        Contacts by ``(period, channel)`` (a log's rows), or ``None`` when the feed gives none.
    contact_rows
        Rows of a per-contact log, ``None`` for an aggregated feed.
    notes
        One-line notes on what was read differently from the file as it stands.
    """

    source: str
    periods: tuple[str, ...]
    values: pd.DataFrame
    contacts: pd.Series | None = None
    contact_rows: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def channels(self) -> list[str]:
        """Channels of the feed, in order of first appearance."""
        return list(dict.fromkeys(self.values.index.get_level_values(1)))

    @property
    def influencers(self) -> list[str]:
        return [str(c) for c in self.values.columns]


def load_kpis(
    path: str | Path,
    spec: Spec,
    channels: list[str],
    *,
    engine: str = "auto",
) -> KpiFeed:
    """Read and validate a KPI feed (or a per-contact log) against a model's spec and channels.

    Parameters
    ----------
    path
        A CSV or Parquet file, or a Parquet folder or glob (read with Dask).
    spec
        The model's spec (influencer ids and kinds).
    channels
        The model's channels.
    engine
        ``auto`` (Dask for a Parquet folder or glob), ``pandas`` or ``dask``.

    Raises
    ------
    DataError
        Every problem at once, one line each, naming the file, column and first row.
    """
    if engine not in KPI_ENGINES:
        raise WhatifError(f"--engine must be one of {', '.join(KPI_ENGINES)}, got '{engine}'")
    text = str(path)
    if not any(ch in text for ch in "*?[") and not Path(text).exists():
        raise DataError(f"{path}: KPI feed not found; check the path to the feed")
    if engine == "dask" or (engine == "auto" and is_parquet_dataset(path)):
        return _load_dask(path, spec, channels)
    try:
        table = read_survey_file(path)
    except DataError as err:  # the survey reader's words, said of a feed
        raise DataError(*(_of_feed(p) for p in err.problems)) from None
    return read_kpi_frame(table.frame, spec, channels, source=str(path), notes=table.notes)


def _of_feed(message: str) -> str:
    return message.replace(
        "the file has a header but no rows; it needs survey responses",
        "the feed has a header but no rows; it needs one row per period",
    ).replace("survey file", "KPI feed (.csv or .parquet)")


def read_kpi_frame(
    frame: pd.DataFrame,
    spec: Spec,
    channels: list[str],
    *,
    source: str = "<feed>",
    notes: list[str] | tuple[str, ...] = (),
) -> KpiFeed:
    """Validate an in-memory feed (or per-contact log); see :func:`load_kpis`."""
    plan = FeedColumns.of([str(c) for c in frame.columns], spec, channels, source)
    frame = frame.rename(columns=str)
    block = summarize_block(frame[plan.columns], plan)
    return _finish([block], plan, list(notes))


def _load_dask(path, spec: Spec, channels: list[str]) -> KpiFeed:
    """Summarize every partition on Dask's local threads; only the sums come back."""
    import dask
    import dask.dataframe as dd
    import pyarrow as pa

    where, target, _ = resolve_parquet(path)
    try:
        with dask.config.set({"dataframe.convert-string": False}):
            table = dd.read_parquet(target)
    except (OSError, ValueError) as err:
        raise DataError(
            f"{where}: cannot read the Parquet dataset ({err}); is it valid Parquet?"
        ) from None
    plan = FeedColumns.of([str(c) for c in table.columns], spec, channels, where)
    parts = table[plan.columns].to_delayed()
    summarize = dask.delayed(summarize_block)
    try:
        blocks = list(dask.compute(*[summarize(part, plan) for part in parts]))
    except (OSError, pa.ArrowException) as err:
        raise DataError(
            f"{where}: cannot read the data ({err}); is every file valid Parquet?"
        ) from None
    return _finish(blocks, plan, [])


# ---------------------------------------------------------------------------------------------
# All blocks: merge, decide aggregated feed or log, average
# ---------------------------------------------------------------------------------------------


def _finish(blocks: list[FeedBlock], plan: FeedColumns, notes: list[str]) -> KpiFeed:
    where = plan.where
    offsets = np.concatenate([[0], np.cumsum([b.rows for b in blocks])])
    if offsets[-1] == 0:
        raise DataError(f"{where}: the feed has a header but no rows; it needs one row per period")
    problems = merge_problems([b.problems for b in blocks], offsets)
    forms: dict[str, int] = {}
    for b, block in enumerate(blocks):
        for form, row in block.forms.items():
            forms.setdefault(form, int(offsets[b]) + row)
    if len(forms) > 1:
        (first, _), (other, row) = sorted(forms.items(), key=lambda item: item[1])[:2]
        problems.append(
            f"{where}: column '{PERIOD}': row {row + 1} writes a period as {other}, but the feed "
            f"starts with periods written as {first}; write every period the same way"
        )
    if problems:
        raise DataError(*problems)
    sums = pd.concat([b.sums for b in blocks if b.sums is not None])
    counts = pd.concat([b.counts for b in blocks if b.counts is not None])
    first = pd.concat(
        [b.first_row + offsets[i] for i, b in enumerate(blocks) if b.first_row is not None]
    )
    sums = sums.groupby(level=[0, 1], sort=False).sum()
    counts = counts.groupby(level=[0, 1], sort=False).sum()
    first = first.groupby(level=[0, 1], sort=False).min()
    rows = counts.pop("_rows")
    is_log = bool((rows > 1).any())
    spellings = {k: v for b in blocks for k, v in b.spellings.items()}
    if spellings:
        merged = ", ".join(f"'{k}' -> '{v}'" for k, v in sorted(spellings.items()))
        notes.append(f"{where}: channel names differing only in case or spaces read as ({merged})")
    contacts = None
    if is_log:
        _check_log(blocks, offsets, rows, first, plan)
        contacts = rows.astype(float).rename(CONTACTS)
        notes.append(
            f"{where}: a per-contact log of {int(rows.sum()):,} rows, averaged into "
            f"{rows.index.get_level_values(0).nunique()} periods x "
            f"{rows.index.get_level_values(1).nunique()} channels"
        )
    elif plan.has_contacts:
        contacts = sums.pop(CONTACTS)
    sums = sums.drop(columns=[CONTACTS], errors="ignore")
    counts = counts.drop(columns=[CONTACTS], errors="ignore")
    values = (sums / counts.where(counts > 0)).astype(float)
    periods = list(dict.fromkeys(values.index.get_level_values(0)))
    if is_log and "text" not in forms:
        periods = sorted(periods, key=lambda p: period_key(p)[1])
        order = {p: i for i, p in enumerate(periods)}
        values = values.iloc[
            np.argsort([order[p] for p in values.index.get_level_values(0)], kind="stable")
        ]
    values = values[list(plan.influencers)]
    if contacts is not None:
        contacts = contacts.reindex(values.index)
    return KpiFeed(
        where, tuple(periods), values, contacts, int(rows.sum()) if is_log else None, tuple(notes)
    )


def _check_log(blocks: list[FeedBlock], offsets, rows: pd.Series, first: pd.Series, plan) -> None:
    """A per-contact log has no ``contacts`` column and 0/1 binary values."""
    where = plan.where
    if plan.has_contacts:
        period, channel = rows[rows > 1].index[0]
        raise DataError(
            f"{where}: {int((rows > 1).sum())} period-channel pairs have more than one row (e.g. "
            f"period {period}, channel {channel}, first at row {int(first[(period, channel)]) + 1}); "
            f"a feed with '{CONTACTS}' has one row per period and channel: remove the duplicates, "
            f"or drop '{CONTACTS}' to read the file as a per-contact log"
        )
    parts = [[b.fractional[c] for c in plan.influencers if c in b.fractional] for b in blocks]
    problems = merge_problems(parts, offsets)
    if problems:
        raise DataError(
            *(
                f"{p} (several rows per period and channel: the file is read as a per-contact log)"
                for p in problems
            )
        )
