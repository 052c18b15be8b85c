"""Loading a survey file against its spec into a validated, typed container.

The container holds a normalised frame with one column per model term:
``channel`` (str), ``year`` (int), ``weight`` (float, raw), ``outcome``, one column per driver id
(the mean of its items) and one per influencer id. A driver or influencer whose column is empty in
every row of a channel is *not measured* there; the model leaves it out instead of imputing it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from whatif.data.spec import Spec, load_spec
from whatif.data.validate import (
    MIN_GROUP_RESPONSES,
    check_binary,
    check_columns_present,
    check_counts,
    check_group_sizes,
    check_numeric,
    check_scale,
    check_weights,
    check_years,
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
        Normalised rows (see module docstring); rows with a missing outcome are already dropped.
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
    """

    frame: pd.DataFrame
    spec: Spec
    source: str
    dropped_missing_outcome: int = 0
    driver_measured: pd.DataFrame = field(default_factory=pd.DataFrame)
    influencer_measured: pd.DataFrame = field(default_factory=pd.DataFrame)
    fingerprint: str = ""

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
        }

    def _measured(self, channel: str, term: str) -> bool:
        if term in self.driver_measured.columns:
            return bool(self.driver_measured.loc[channel, term])
        return bool(self.influencer_measured.loc[channel, term])


def read_table(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet survey file, turning every read failure into a :class:`DataError`."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found; check the path to your survey data")
    suffix = path.suffix.lower()
    try:
        if path.is_dir() or suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix in (".csv", ".txt", ".gz"):
            if path.stat().st_size == 0:
                raise DataError(f"{path}: the file is empty; export the survey with a header row")
            frame = pd.read_csv(path, low_memory=False)
        else:
            raise DataError(
                f"{path}: unknown file type '{suffix}'; give a .csv or .parquet survey file"
            )
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; export the survey with a header row") from None
    except Exception as err:  # any parser failure is the file's fault, not ours
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(
            f"{path}: cannot read the file ({reason}); is it a valid CSV or Parquet file?"
        ) from None
    if len(frame) == 0:
        raise DataError(f"{path}: the file has a header but no rows; it needs survey responses")
    return frame


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
) -> Survey:
    """Load a survey file (CSV or Parquet) and validate it against a spec.

    Parameters
    ----------
    data
        Path to a ``.csv`` or ``.parquet`` file (or a folder of Parquet files).
    spec
        A :class:`~whatif.data.spec.Spec` or the path of its TOML file.
    min_group
        Fewest responses a (channel, year) group needs to be estimated.

    Returns
    -------
    Survey

    Raises
    ------
    DataError
        Listing every problem found at once, each naming the file, column, row count and an
        example row.
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    path = Path(data)
    raw = read_table(path)
    survey = validate_frame(raw, spec, source=str(path), min_group=min_group)
    survey.fingerprint = fingerprint_files([path], spec)
    return survey


def validate_frame(
    raw: pd.DataFrame, spec: Spec, *, source: str = "<data>", min_group: int = MIN_GROUP_RESPONSES
) -> Survey:
    """Validate an in-memory frame against a spec; see :func:`load_survey`."""
    where = source
    check_columns_present(raw, spec, where)  # raises: nothing else can be checked without them

    problems: list[str] = []
    numeric: dict[str, pd.Series] = {}
    for col in spec.data_columns():
        if col in (spec.channel, spec.year):
            continue
        kind = _kind_of(spec, col)
        if kind == "binary":
            series, msg = check_binary(raw[col], col, where)
        else:
            series, msg = check_numeric(raw[col], col, where)
        numeric[col] = series
        problems += msg

    for _column, messages in check_values(numeric, spec, where):
        problems += messages

    if spec.year:
        years, msg = check_years(raw[spec.year], spec.year, where)
        problems += msg
    else:
        years = pd.Series(SINGLE_YEAR, index=raw.index)
    if spec.channel:
        channel = raw[spec.channel]
        if channel.isna().any():
            rows = np.flatnonzero(channel.isna().to_numpy())
            problems.append(
                f"{where}: column '{spec.channel}': {len(rows)} rows have no channel, e.g. row "
                f"{rows[0] + 1}; fill in the channel or remove those rows"
            )
        channel = channel.astype("string").fillna("").astype(str)
    else:
        channel = pd.Series(SINGLE_CHANNEL, index=raw.index)

    if problems:
        raise DataError(*problems)

    frame, dropped = normalised_rows(numeric, channel, years, spec)
    if len(frame) == 0:
        raise DataError(
            f"{where}: column '{spec.outcome}': every row has a missing outcome; nothing to model"
        )

    driver_measured = frame.groupby("channel")[spec.driver_ids].agg(lambda s: s.notna().any())
    influencer_measured = (
        frame.groupby("channel")[spec.influencer_ids].agg(lambda s: s.notna().any())
        if spec.influencers
        else pd.DataFrame(index=driver_measured.index)
    )
    problems += check_group_sizes(
        frame, spec, where, min_group, driver_measured, influencer_measured
    )
    unmeasured = [d for d in spec.driver_ids if not driver_measured[d].any()]
    unmeasured += [i for i in spec.influencer_ids if not influencer_measured[i].any()]
    for term in unmeasured:
        problems.append(
            f"{where}: '{term}' is empty in every row of every channel; remove it from the spec "
            "or check its column"
        )
    if problems:
        raise DataError(*problems)
    return Survey(
        frame=frame,
        spec=spec,
        source=source,
        dropped_missing_outcome=dropped,
        driver_measured=driver_measured.astype(bool),
        influencer_measured=influencer_measured.astype(bool),
    )


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


def normalised_rows(
    numeric: dict[str, pd.Series], channel: pd.Series, years: pd.Series, spec: Spec
) -> tuple[pd.DataFrame, int]:
    """Checked columns as the model's rows: channel, year, weight, outcome, one column per driver
    (the mean of its items) and per influencer; rows without an outcome dropped.

    Returns
    -------
    frame, dropped
        The rows, and how many were dropped for a missing outcome.
    """
    frame = pd.DataFrame(
        {
            "channel": channel.to_numpy(),
            "year": years.to_numpy().astype("int64"),
            "weight": numeric[spec.weight].to_numpy() if spec.weight else 1.0,
            "outcome": numeric[spec.outcome].to_numpy(),
        }
    )
    for d in spec.drivers:
        items = np.column_stack([numeric[c].to_numpy(dtype=float) for c in d.columns])
        frame[d.id] = _mean_of_items(items) if items.shape[1] > 1 else items[:, 0]
    for inf in spec.influencers:
        frame[inf.id] = numeric[inf.column].to_numpy(dtype=float)
    missing_outcome = frame["outcome"].isna().to_numpy()
    return frame.loc[~missing_outcome].reset_index(drop=True), int(missing_outcome.sum())


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
