"""Loading a survey file against its spec into a validated, typed container.

The container holds a normalized frame with one column per model term:
``channel`` (str), ``year`` (int), ``weight`` (float, raw), ``outcome``, one column per driver id
(the mean of its items) and one per influencer id. A driver or influencer whose column is empty in
every row of a channel is *not measured* there, and so is an influencer that takes one value in
every row of a channel; the model leaves it out instead of imputing it.

Before validation, cells equal to one of the spec's missing-value codes become missing, dates in
the year column become calendar years, and channel names that differ only in case or spaces
become one channel (:mod:`whatif.data.clean`); each such change is one line of
:attr:`Survey.notes`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from whatif.data.clean import (
    apply_missing_codes,
    channel_names,
    channel_spellings,
    clean_spelling,
    codes_note,
    constant_notes,
    dates_note,
)
from whatif.data.readers import read_survey_file
from whatif.data.reliability import ItemMoments, item_moments
from whatif.data.spec import Spec, load_spec
from whatif.data.validate import (
    MIN_GROUP_RESPONSES,
    binary_values,
    check_columns_present,
    check_counts,
    check_group_sizes,
    check_numeric,
    check_scale,
    check_spec_channels,
    check_weights,
    check_years,
    measured_flags,
)
from whatif.errors import DataError

__all__ = ["Survey", "load_survey", "read_table", "fingerprint_files"]

SINGLE_CHANNEL = "all"
SINGLE_YEAR = 0


@dataclass
class Survey:
    """A validated survey, ready for aggregation.

    Attributes
    ----------
    frame
        Normalized rows (see module docstring); rows with a missing outcome are already dropped.
    spec
        The spec it was read with.
    source
        The file it came from.
    dropped_missing_outcome
        Rows dropped because the outcome was empty.
    driver_measured, influencer_measured
        Boolean frames (channel x id): whether each column is measured in each channel.
    fingerprint
        Hash of the input file bytes and the spec, recorded in every artefact.
    notes
        One line per thing read differently from the file as it stands (encoding, separator,
        missing-value codes, dates as years, merged channel names, constant influencers).
    item_moments
        Means and covariances of each multi-item driver's raw items per channel, for their
        reliability (:mod:`whatif.data.reliability`); ``frame`` keeps only the items' mean.
    """

    frame: pd.DataFrame
    spec: Spec
    source: str
    dropped_missing_outcome: int = 0
    driver_measured: pd.DataFrame = field(default_factory=pd.DataFrame)
    influencer_measured: pd.DataFrame = field(default_factory=pd.DataFrame)
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)
    item_moments: tuple[ItemMoments, ...] = ()

    @property
    def channels(self) -> list[str]:
        return sorted(self.frame["channel"].unique().tolist())

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.frame["year"].unique())

    def profile(self) -> dict:
        """A short profile: responses per channel and year, measured columns, missing shares."""
        counts = self.frame.groupby(["channel", "year"]).size().unstack("year", fill_value=0)
        terms = self.spec.driver_ids + self.spec.influencer_ids
        missing = {}
        for channel, rows in self.frame.groupby("channel"):
            measured = [t for t in terms if self._measured(channel, t)]
            missing[channel] = {t: float(rows[t].isna().mean()) for t in measured}
        return {
            "source": self.source,
            "responses": int(len(self.frame)),
            "dropped_missing_outcome": self.dropped_missing_outcome,
            "counts": counts,
            "measured_drivers": {
                c: [d for d in self.spec.driver_ids if self.driver_measured.loc[c, d]]
                for c in self.channels
            },
            "measured_influencers": {
                c: [i for i in self.spec.influencer_ids if self.influencer_measured.loc[c, i]]
                for c in self.channels
            },
            "missing_share": missing,
            "notes": list(self.notes),
        }

    def _measured(self, channel: str, term: str) -> bool:
        if term in self.driver_measured.columns:
            return bool(self.driver_measured.loc[channel, term])
        return bool(self.influencer_measured.loc[channel, term])


def read_table(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a survey file (CSV, Parquet, Excel or SPSS) with the readers' defaults.

    Every read failure becomes a :class:`DataError`; see
    :func:`whatif.data.readers.read_survey_file`, which also returns the readers' notes.
    """
    frame = read_survey_file(path).frame
    return frame[columns] if columns is not None else frame


def fingerprint_files(paths: list[Path], spec: Spec) -> str:
    """SHA-256 over the bytes of the input files and the spec: the identity of a fit's input."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            with open(f, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
    digest.update(spec.to_toml().encode())
    return digest.hexdigest()[:16]


def load_survey(
    data: str | Path,
    spec: Spec | str | Path,
    *,
    min_group: int = MIN_GROUP_RESPONSES,
    known_channels: tuple[str, ...] | list[str] = (),
) -> Survey:
    """Load a survey file and validate it against a spec.

    Parameters
    ----------
    data
        Path to a ``.csv`` (``.txt``, ``.tsv``, ``.gz``), ``.parquet``, ``.xlsx`` or ``.sav``
        file, or a folder of Parquet files.
    spec
        A :class:`~whatif.data.spec.Spec` or the path of its TOML file.
    min_group
        Fewest responses a (channel, year) group needs to be estimated.
    known_channels
        Channels known from a previous fit: a ``[channels.X]`` table may name one of them even
        when this file has no rows of it.

    Returns
    -------
    Survey

    Raises
    ------
    DataError
        Listing every problem found at once, each naming the file, column, row count and an
        example row.
    SpecError
        The spec does not fit the data: a ``[channels.X]`` table names no channel of the data, or
        volumes are given for some channels only.
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    path = Path(data)
    table = read_survey_file(path, spec)
    survey = validate_frame(
        table.frame, spec, source=str(path), min_group=min_group, separator=table.separator
    )
    check_spec_channels(spec, survey.channels, str(path), known_channels)
    survey.notes = table.notes + survey.notes
    survey.fingerprint = fingerprint_files([path], spec)
    return survey


def validate_frame(
    raw: pd.DataFrame,
    spec: Spec,
    *,
    source: str = "<data>",
    min_group: int = MIN_GROUP_RESPONSES,
    separator: str | None = None,
) -> Survey:
    """Validate an in-memory frame against a spec; see :func:`load_survey`.

    ``separator`` is the one a CSV file was read with, for the error when no column is found.
    Whether ``[channels]`` tables fit the data is checked by :func:`load_survey`, not here, so
    that a frame may hold a subset of the channels.
    """
    where = source
    check_columns_present(raw, spec, where, separator)  # raises: nothing else works without them

    problems: list[str] = []
    numeric: dict[str, pd.Series] = {}
    codes = spec.missing_codes()
    coded = dict.fromkeys(codes, 0)
    for col in spec.data_columns():
        if col in (spec.channel, spec.year):
            continue
        series, coded_here = apply_missing_codes(raw[col], codes.get(col, ()))
        if col in coded:
            coded[col] = coded_here
        if _kind_of(spec, col) == "binary":
            series, msg = binary_values(series, col, where)
        else:
            series, msg = check_numeric(series, col, where)
        numeric[col] = series
        problems += msg

    for _column, messages in check_values(numeric, spec, where):
        problems += messages

    notes = codes_note(coded, where)
    if spec.year:
        years, msg, dated = check_years(raw[spec.year], spec.year, where)
        problems += msg
        notes += dates_note(where, spec.year, dated)
    else:
        years = pd.Series(SINGLE_YEAR, index=raw.index)
    if spec.channel:
        spelling_codes, spellings = channel_spellings(raw[spec.channel])
        blank = no_channel(spelling_codes, spellings)
        if blank.any():
            problems.append(no_channel_problem(where, spec.channel, blank))
        else:
            rows = np.bincount(spelling_codes, minlength=len(spellings))
            found: dict[str, int] = {}
            for spelling, n in zip(spellings, rows, strict=True):
                found[spelling] = found.get(spelling, 0) + int(n)
            names, merged = channel_names(found, spec, where)
            notes += merged
            channel = pd.Series(
                np.asarray([names[s] for s in spellings], dtype=object)[spelling_codes],
                index=raw.index,
            )
    else:
        channel = pd.Series(SINGLE_CHANNEL, index=raw.index)

    if problems:
        raise DataError(*problems)

    frame, dropped = normalized_rows(numeric, channel, years, spec)
    if len(frame) == 0:
        raise DataError(
            f"{where}: column '{spec.outcome}': every row has a missing outcome; nothing to model"
        )

    by_channel = frame.groupby("channel")
    present = by_channel[spec.driver_ids + spec.influencer_ids].count()
    ids = spec.influencer_ids
    minimum = by_channel[ids].min() if ids else pd.DataFrame(index=present.index)
    maximum = by_channel[ids].max() if ids else pd.DataFrame(index=present.index)
    driver_measured, influencer_measured = measured_flags(spec, present, minimum, maximum)
    problems += check_group_sizes(
        frame, spec, where, min_group, driver_measured, influencer_measured
    )
    problems += unmeasured_problems(spec, where, present, driver_measured, influencer_measured)
    if problems:
        raise DataError(*problems)
    notes += constant_notes(spec, present, minimum, influencer_measured, where)
    return Survey(
        frame=frame,
        spec=spec,
        source=source,
        dropped_missing_outcome=dropped,
        driver_measured=driver_measured,
        influencer_measured=influencer_measured,
        notes=notes,
        item_moments=item_moments(spec, numeric, channel, keep=numeric[spec.outcome].notna()),
    )


def no_channel(codes: np.ndarray, spellings: list[str]) -> np.ndarray:
    """Rows without a channel: missing, or only spaces (``codes`` from ``channel_spellings``)."""
    blank = [i for i, s in enumerate(spellings) if not clean_spelling(s)]
    return (codes < 0) | np.isin(codes, blank)


def no_channel_problem(where: str, column: str, blank: np.ndarray) -> str:
    """The message on rows without a channel."""
    rows = np.flatnonzero(blank)
    return (
        f"{where}: column '{column}': {len(rows)} rows have no channel, e.g. row "
        f"{rows[0] + 1}; fill in the channel or remove those rows"
    )


def unmeasured_problems(
    spec: Spec,
    where: str,
    present: pd.DataFrame,
    driver_measured: pd.DataFrame,
    influencer_measured: pd.DataFrame,
) -> list[str]:
    """A driver or influencer measured in no channel at all cannot be estimated."""
    problems = []
    for term in spec.driver_ids + spec.influencer_ids:
        flags = driver_measured if term in driver_measured.columns else influencer_measured
        if flags[term].any():
            continue
        if present[term].sum() == 0:
            problems.append(
                f"{where}: '{term}' is empty in every row of every channel; remove it from the "
                "spec or check its column"
            )
        else:
            problems.append(
                f"{where}: '{term}' takes one value in every channel where it is answered, so "
                "its effect cannot be estimated; remove it from the spec or check its column"
            )
    return problems


def check_values(
    numeric: dict[str, pd.Series], spec: Spec, where: str
) -> list[tuple[str, list[str]]]:
    """The value checks of the numeric columns (rating scale, counts, weights), in a fixed order.

    Returns
    -------
    list
        ``(column, messages)`` per check; both engines report them in this order.
    """
    lo, hi = spec.scale
    found = [
        (col, check_scale(numeric[col], col, where, lo, hi))
        for col in [spec.outcome] + [c for d in spec.drivers for c in d.columns]
    ]
    found += [
        (inf.column, check_counts(numeric[inf.column], inf.column, where))
        for inf in spec.influencers
        if inf.kind == "count"
    ]
    if spec.weight:
        found.append((spec.weight, check_weights(numeric[spec.weight], spec.weight, where)))
    return found


def normalized_rows(
    numeric: dict[str, pd.Series], channel: pd.Series, years: pd.Series, spec: Spec
) -> tuple[pd.DataFrame, int]:
    """Checked columns as the model's rows: channel, year, weight, outcome, one column per driver
    (the mean of its items) and per influencer; rows without an outcome dropped.

    Returns
    -------
    frame, dropped
        The rows, and how many were dropped for a missing outcome.
    """
    outcome = numeric[spec.outcome].to_numpy(dtype=float)
    keep = ~np.isnan(outcome)
    columns = {
        "channel": channel.to_numpy()[keep],
        "year": years.to_numpy().astype("int64")[keep],
        "weight": numeric[spec.weight].to_numpy()[keep] if spec.weight else 1.0,
        "outcome": outcome[keep],
    }
    for d in spec.drivers:
        items = np.column_stack([numeric[c].to_numpy(dtype=float)[keep] for c in d.columns])
        columns[d.id] = _mean_of_items(items) if items.shape[1] > 1 else items[:, 0]
    for inf in spec.influencers:
        columns[inf.id] = numeric[inf.column].to_numpy(dtype=float)[keep]
    # one frame built from whole columns: inserting them one by one copies the table each time
    return pd.DataFrame(columns, copy=False), int((~keep).sum())


def _mean_of_items(items: np.ndarray) -> np.ndarray:
    """``np.nanmean(items, axis=1)`` (the same sums and division) without its warning.

    Rows with every item missing stay NaN. Silencing the warning with ``warnings`` is not safe in
    the threads that run partitions side by side (the Dask engine).
    """
    missing = np.isnan(items)
    total = np.where(missing, 0.0, items).sum(axis=1)
    count = (~missing).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def _kind_of(spec: Spec, column: str) -> str:
    for inf in spec.influencers:
        if inf.column == column:
            return inf.kind
    return "rating"
