"""The Dask engine: sufficient statistics of a Parquet dataset too large for one pandas frame.

Two passes over the partitions, each reading only the spec's columns, so that no step holds more
than a few partitions in memory:

1. *Scan*: every partition is validated with the validators of :mod:`whatif.data.validate` (the same
   checks, in the same order, as :func:`whatif.data.survey.validate_frame`) and reduced to a tiny
   summary: its row count, the problems it has (count, first row, example value), the counts
   behind the notes (cells read as missing by the spec's codes, rows per channel spelling, dates
   read as years), responses per (channel, year), per-channel non-missing counts of each driver
   and influencer, and per-channel influencer minima and maxima; channels are keyed by their
   spelling with spaces trimmed and case ignored. The client merges the summaries: problems
   become the pandas path's one-line messages with counts over the whole dataset, the spellings
   become channel names (:func:`~whatif.data.clean.channel_names`), the notes are written by the
   pandas path's functions, group sizes, "not measured anywhere" and the ``[channels]`` tables go
   through the same checks, and the rest becomes the :class:`~whatif.data.aggregate.Layout`
   (:func:`~whatif.data.aggregate.layout_from_stats`).
2. *Accumulate*: every partition is normalized again, channels by their final names, and reduced
   to a mergeable :class:`~whatif.data.aggregate.Partial`
   (:func:`~whatif.data.aggregate.accumulate`); the partials are added up in a tree
   (:func:`~whatif.data.aggregate.combine`) and finalized.

The result has the layout of :func:`whatif.data.aggregate.aggregate` and equals it to floating-point
tolerance (only the order of the sums differs). Row numbers in messages count rows in the order
Dask reads the files (natural sort of their names), as the pandas path does when the names sort
the same way both ways (zero-padded part numbers).

Without a scheduler the passes run on local threads; with the address of a ``dask.distributed``
scheduler they run on its workers, which must see the same paths (a shared filesystem or an object
store) and have ``whatif`` installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from whatif.data.aggregate import Layout, Partial, accumulate, combine, finalize, layout_from_stats
from whatif.data.clean import (
    apply_missing_codes,
    channel_names,
    channel_spellings,
    clean_spelling,
    codes_note,
    constant_notes,
    dates_note,
)
from whatif.data.patterns import answer_patterns
from whatif.data.problems import Found, escape, found_problems, merge_problems
from whatif.data.rating_stats import rating_statistics
from whatif.data.readers import resolve_parquet
from whatif.data.spec import Spec
from whatif.data.survey import (
    SINGLE_CHANNEL,
    SINGLE_YEAR,
    check_values,
    fingerprint_files,
    no_channel,
    normalized_rows,
    unmeasured_problems,
)
from whatif.data.validate import (
    MIN_GROUP_RESPONSES,
    binary_values,
    check_columns_present,
    check_group_sizes,
    check_numeric,
    check_spec_channels,
    check_years,
    measured_flags,
    min_responses_for,
)
from whatif.errors import DataError, WhatifError

__all__ = ["LOCAL_SCHEDULERS", "aggregate_parquet"]

LOCAL_SCHEDULERS = ("threads", "processes", "sync", "synchronous")
SPLIT_EVERY = 8  # partials added per task of the tree reduction
CONNECT_TIMEOUT_S = 15


# ---------------------------------------------------------------------------------------------
# One partition: validate, normalize, summarize
# ---------------------------------------------------------------------------------------------


@dataclass
class _Tally:
    """What one partition contributes to the notes: counts that add up over partitions."""

    coded: dict[str, int] = field(default_factory=dict)  # cells read as missing, by column
    spellings: dict[str, int] = field(default_factory=dict)  # rows by channel spelling
    dated: tuple[int, str | None, int | None] = (0, None, None)  # dates read as years


def _normalize(
    raw: pd.DataFrame,
    spec: Spec,
    where: str,
    *,
    trusted: bool = False,
    names: dict[str, str] | None = None,
) -> tuple[pd.DataFrame | None, list[Found], int, _Tally]:
    """The row checks and normalized rows of :func:`whatif.data.survey.validate_frame`, per partition.

    Parameters
    ----------
    raw
        One partition of the spec's columns.
    spec, where
        The spec; the dataset's name in messages.
    trusted
        The scan already validated these rows: convert, skip the checks that only check.
    names
        The channel of each spelling (:func:`~whatif.data.clean.channel_names` over the whole
        dataset). Without it (the scan) rows are grouped by their spelling with spaces trimmed
        and case ignored, which is what decides the channel, and renamed after the scan.

    Returns
    -------
    frame, problems, dropped, tally
        Normalized rows with an outcome (``None`` when there are problems), the problems, the
        number of rows dropped for a missing outcome, and the counts behind the notes.
    """
    problems: list[Found] = []
    tally = _Tally()
    stage = 0

    def note(column: str, messages: list[str]) -> None:
        nonlocal stage
        problems.extend(found_problems(stage, f"{where}: column '{column}': ", messages))
        stage += 1

    binary = {i.column for i in spec.influencers if i.kind == "binary"}
    codes = spec.missing_codes()
    numeric: dict[str, pd.Series] = {}
    for col in spec.data_columns():
        if col in (spec.channel, spec.year):
            continue
        series, coded = apply_missing_codes(raw[col], codes.get(col, ()))
        if col in codes:
            tally.coded[col] = coded
        if col in binary:
            numeric[col], msg = binary_values(series, col, where)
        else:
            numeric[col], msg = check_numeric(series, col, where)
        note(col, msg)

    if not trusted:
        for column, messages in check_values(numeric, spec, where):
            note(column, messages)

    if spec.year:
        years, msg, tally.dated = check_years(raw[spec.year], spec.year, where)
        note(spec.year, msg)
    else:
        years = pd.Series(SINGLE_YEAR, index=raw.index)
    if spec.channel:
        spelling_codes, spellings = channel_spellings(raw[spec.channel])
        missing = no_channel(spelling_codes, spellings)
        if missing.any():  # the message of validate_frame, which builds it itself
            prefix = f"{where}: column '{spec.channel}': "
            template = escape(prefix) + (
                "{n} rows have no channel, e.g. row {row}; fill in the channel or remove those rows"
            )
            first = int(np.flatnonzero(missing)[0])
            problems.append(Found(stage, 0, "no channel", template, int(missing.sum()), first))
        else:
            rows = np.bincount(spelling_codes, minlength=len(spellings))
            for spelling, n in zip(spellings, rows, strict=True):
                tally.spellings[spelling] = tally.spellings.get(spelling, 0) + int(n)
            named = [
                names[s] if names is not None else clean_spelling(s).casefold() for s in spellings
            ]
            channel = pd.Series(np.asarray(named, dtype=object)[spelling_codes], index=raw.index)
        stage += 1
    else:
        channel = pd.Series(SINGLE_CHANNEL, index=raw.index)

    if problems:
        return None, problems, 0, tally

    frame, dropped = normalized_rows(numeric, channel, years, spec)
    return frame, [], dropped, tally


@dataclass
class _Scan:
    """What the first pass keeps of one partition (channels by their provisional key)."""

    rows: int
    problems: list[Found] = field(default_factory=list)
    dropped: int = 0
    tally: _Tally = field(default_factory=_Tally)
    counts: pd.Series | None = None  # responses with an outcome by (channel, year)
    present: pd.DataFrame | None = None  # non-missing values by channel x term
    minimum: pd.DataFrame | None = None  # by channel x influencer
    maximum: pd.DataFrame | None = None


def _scan(raw: pd.DataFrame, spec: Spec, where: str) -> _Scan:
    frame, problems, dropped, tally = _normalize(raw, spec, where)
    if frame is None:
        return _Scan(rows=len(raw), problems=problems, tally=tally)
    by_channel = frame.groupby("channel")
    influencers = spec.influencer_ids
    return _Scan(
        rows=len(raw),
        dropped=dropped,
        tally=tally,
        counts=frame.groupby(["channel", "year"]).size(),
        present=by_channel[spec.driver_ids + influencers].count(),
        minimum=by_channel[influencers].min() if influencers else None,
        maximum=by_channel[influencers].max() if influencers else None,
    )


def _accumulate(
    raw: pd.DataFrame, spec: Spec, where: str, layout: Layout, names: dict[str, str] | None
) -> Partial:
    from threadpoolctl import threadpool_limits

    frame, _, _, _ = _normalize(raw, spec, where, trusted=True, names=names)
    with threadpool_limits(1):  # one BLAS thread per task: tasks already run side by side
        return accumulate(frame, spec, layout)


def _combine(*parts: Partial) -> Partial:
    return combine(list(parts))


def _patterns(
    raw: pd.DataFrame, spec: Spec, where: str, names: dict[str, str] | None
) -> pd.DataFrame:
    """One partition's distinct answer patterns with their summed weights and counts: what the
    rating-scale fits need of the rows (exact), far fewer than rows when answers are ratings."""
    frame, _, _, _ = _normalize(raw, spec, where, trusted=True, names=names)
    return answer_patterns(frame, spec)


# ---------------------------------------------------------------------------------------------
# The dataset and the scheduler
# ---------------------------------------------------------------------------------------------


def _reason(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


@contextmanager
def _connect(scheduler) -> Iterator[object]:
    """What ``dask.compute(scheduler=...)`` takes: a local scheduler name, or a Client."""
    if scheduler is None or scheduler in LOCAL_SCHEDULERS:
        yield scheduler  # None: dask's default, an active distributed Client or local threads
        return
    if not isinstance(scheduler, str):  # a distributed.Client the caller manages
        yield scheduler
        return
    from distributed import Client

    try:
        client = Client(scheduler, set_as_default=False, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as err:
        raise WhatifError(
            f"cannot reach the Dask scheduler at {scheduler} ({_reason(err)}); check --scheduler "
            "or leave it out to aggregate on this machine"
        ) from None
    try:
        yield client
    finally:
        client.close()


def _compute(tasks: list, scheduler, where: str) -> list:
    import dask
    import pyarrow as pa

    try:
        return list(dask.compute(*tasks, scheduler=scheduler))
    except (OSError, pa.ArrowException) as err:  # a file that is not (valid) Parquet
        raise DataError(
            f"{where}: cannot read the data ({_reason(err)}); is every file valid Parquet?"
        ) from None


# ---------------------------------------------------------------------------------------------
# Merging the scan
# ---------------------------------------------------------------------------------------------


def _group_problems(
    spec: Spec,
    where: str,
    counts: pd.Series,
    min_group: int,
    driver_measured: pd.DataFrame,
    influencer_measured: pd.DataFrame,
) -> list[str]:
    """:func:`~whatif.data.validate.check_group_sizes` on counts instead of rows.

    It only counts rows per group, so a stand-in frame with ``min(n, cap)`` rows per group gives
    its exact answer, where ``cap`` is the most any group can need (every term measured).
    """
    cap = min_responses_for(len(spec.driver_ids) + len(spec.influencer_ids), min_group)
    reps = np.minimum(counts.to_numpy(), cap)
    stand_in = pd.DataFrame(
        {
            "channel": np.repeat(counts.index.get_level_values(0).to_numpy(), reps),
            "year": np.repeat(counts.index.get_level_values(1).to_numpy(), reps),
        }
    )
    return check_group_sizes(stand_in, spec, where, min_group, driver_measured, influencer_measured)


@dataclass
class _Merged:
    """The scan over the whole dataset: what the accumulating pass and the profile need."""

    layout: Layout
    counts: pd.Series
    dropped: int
    names: dict[str, str] | None  # channel of each spelling (None: no channel column)
    notes: list[str]


def _merge_tallies(scans: list[_Scan], spec: Spec, where: str) -> tuple[list[str], dict | None]:
    """The notes of the pandas path from the partitions' counts, and the channel names."""
    coded = dict.fromkeys(spec.missing_codes(), 0)
    spellings: dict[str, int] = {}
    dated_count, example, year = 0, None, None
    for scan in scans:
        for column, n in scan.tally.coded.items():
            coded[column] += n
        for spelling, n in scan.tally.spellings.items():
            spellings[spelling] = spellings.get(spelling, 0) + n
        count, first, first_year = scan.tally.dated
        if count and example is None:  # partitions are in row order: the first date wins
            example, year = first, first_year
        dated_count += count
    notes = codes_note(coded, where)
    if spec.year:
        notes += dates_note(where, spec.year, (dated_count, example, year))
    if not spec.channel:
        return notes, None
    names, merged = channel_names(spellings, spec, where)
    return notes + merged, names


def _merge_scans(scans: list[_Scan], spec: Spec, where: str, min_group: int) -> _Merged:
    """Raise every problem at once, as the pandas path does; else the layout, counts and notes."""
    offsets = np.concatenate([[0], np.cumsum([s.rows for s in scans])])
    if offsets[-1] == 0:
        raise DataError(f"{where}: the file has a header but no rows; it needs survey responses")
    problems = merge_problems([scan.problems for scan in scans], offsets)
    if problems:
        raise DataError(*problems)
    notes, names = _merge_tallies(scans, spec, where)
    if names is None:
        final = {SINGLE_CHANNEL: SINGLE_CHANNEL}
    else:
        final = {clean_spelling(s).casefold(): name for s, name in names.items()}

    def by_name(frames: list) -> pd.DataFrame | pd.Series:
        return pd.concat(frames).rename(index=final, level=0)

    counts = by_name([s.counts for s in scans]).groupby(level=[0, 1]).sum()
    if counts.sum() == 0:
        raise DataError(
            f"{where}: column '{spec.outcome}': every row has a missing outcome; nothing to model"
        )
    counts = counts[counts > 0]
    present = by_name([s.present for s in scans]).groupby(level=0).sum()
    influencers = spec.influencer_ids
    if influencers:
        minimum = by_name([s.minimum for s in scans]).groupby(level=0).min()
        maximum = by_name([s.maximum for s in scans]).groupby(level=0).max()
    else:
        minimum = maximum = pd.DataFrame(index=present.index)
    driver_measured, influencer_measured = measured_flags(spec, present, minimum, maximum)
    problems = _group_problems(spec, where, counts, min_group, driver_measured, influencer_measured)
    problems += unmeasured_problems(spec, where, present, driver_measured, influencer_measured)
    if problems:
        raise DataError(*problems)
    notes += constant_notes(spec, present, minimum, influencer_measured, where)

    channels = sorted(present.index.tolist())
    years = sorted(int(y) for y in counts.index.get_level_values(1).unique())
    layout = layout_from_stats(spec, channels, years, present, minimum, maximum)
    return _Merged(layout, counts, int(sum(s.dropped for s in scans)), names, notes)


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def aggregate_parquet(
    path_or_glob: str | Path,
    spec: Spec,
    *,
    scheduler=None,
    min_group: int = MIN_GROUP_RESPONSES,
    known_channels: tuple[str, ...] | list[str] = (),
) -> tuple[xr.Dataset, dict]:
    """Validate and aggregate a Parquet dataset with Dask, partition by partition.

    Parameters
    ----------
    path_or_glob
        A Parquet file, a folder of Parquet files (Hive-style ``key=value`` folders included) or
        a glob such as ``"lake/2025/*.parquet"``.
    spec
        The survey spec (:func:`whatif.data.spec.load_spec`).
    scheduler
        ``None`` for Dask's default (the active ``distributed.Client`` if there is one, else
        local threads); a local scheduler name (``"threads"``, ``"processes"``, ``"sync"``); the
        address of a ``dask.distributed`` scheduler
        (``"tcp://10.0.0.5:8786"``) to run on its workers; or a ``distributed.Client``.
    min_group, known_channels
        As in :func:`whatif.data.survey.load_survey`.

    Returns
    -------
    aggregates : xarray.Dataset
        The layout of :func:`whatif.data.aggregate.aggregate`, equal to it to floating-point
        tolerance.
    profile : dict
        ``source``, ``responses`` (rows with an outcome), ``dropped_missing_outcome``, ``counts``
        (responses by channel x year, a DataFrame), ``notes`` (those of
        :attr:`whatif.data.survey.Survey.notes`), ``fingerprint`` (as
        :func:`whatif.data.survey.fingerprint_files`) and ``partitions``.

    Raises
    ------
    DataError
        Every problem at once, in the pandas path's one-line messages with counts over the whole
        dataset.
    SpecError
        The ``[channels]`` tables do not fit the data, as in the pandas path.
    WhatifError
        The scheduler cannot be reached.
    """
    import dask
    import dask.dataframe as dd

    where, target, files = resolve_parquet(path_or_glob)
    try:
        with dask.config.set({"dataframe.convert-string": False}):  # dtypes of pd.read_parquet
            table = dd.read_parquet(target)
    except (OSError, ValueError) as err:
        raise DataError(
            f"{where}: cannot read the Parquet dataset ({_reason(err)}); is it valid Parquet?"
        ) from None
    check_columns_present(pd.DataFrame(columns=list(table.columns)), spec, where)
    parts = table[list(dict.fromkeys(spec.data_columns()))].to_delayed()

    with _connect(scheduler) as sched:
        scan = dask.delayed(_scan)
        scans = _compute([scan(part, spec, where) for part in parts], sched, where)
        merged = _merge_scans(scans, spec, where, min_group)
        layout, counts = merged.layout, merged.counts
        check_spec_channels(spec, layout.channels, where, known_channels)

        add = dask.delayed(_accumulate)
        level = [add(part, spec, where, layout, merged.names) for part in parts]
        join = dask.delayed(_combine)
        while len(level) > 1:
            level = [join(*level[i : i + SPLIT_EVERY]) for i in range(0, len(level), SPLIT_EVERY)]
        (total,) = _compute(level, sched, where)

        pattern = dask.delayed(_patterns)
        pieces = _compute(
            [pattern(part, spec, where, merged.names) for part in parts], sched, where
        )

    aggregates = finalize(total, spec, layout)
    patterns = answer_patterns(pd.concat(pieces, ignore_index=True), spec)
    aggregates = rating_statistics(patterns, spec, aggregates)
    profile = {
        "source": where,
        "responses": int(counts.sum()),
        "dropped_missing_outcome": merged.dropped,
        "counts": counts.unstack("year", fill_value=0),
        "notes": merged.notes,
        "fingerprint": fingerprint_files(files, spec),
        "partitions": len(parts),
    }
    return aggregates, profile
