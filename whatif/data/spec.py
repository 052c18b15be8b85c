"""The survey spec: the TOML contract that maps a user's survey columns onto the model.

A spec names the outcome (overall satisfaction), the optional channel, year and weight columns,
the rating scale, the drivers (rated elements, one column or the mean of several items, and the
drivers that move them: ``depends_on``, :mod:`whatif.data.paths`) and the influencers
(operational KPIs, of kind count, binary or continuous). It may also name missing-value codes
(``missing``) and how to read the file (``separator``, ``encoding``, ``sheet``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from whatif.data.paths import check_paths, parse_depends_on
from whatif.data.rating import LIKELIHOODS, RatingScale, rating_scale
from whatif.data.spec_values import (
    encoding_value,
    missing_codes_value,
    scale_value,
    separator_value,
    sheet_value,
)
from whatif.errors import SpecError, closest, read_toml

__all__ = [
    "Channel",
    "Driver",
    "Influencer",
    "Spec",
    "load_spec",
    "parse_spec",
]

INFLUENCER_KINDS = ("count", "binary", "continuous")
BETTER = ("lower", "higher")
TOP_KEYS = ("survey", "drivers", "influencers", "channels")
SURVEY_KEYS = (
    "outcome",
    "channel",
    "year",
    "scale",
    "weight",
    "missing",
    "outcome_missing",
    "separator",
    "encoding",
    "sheet",
    "top_box",
    "bottom_box",
    "headline",
    "likelihood",
)
DRIVER_KEYS = ("column", "items", "label", "missing", "depends_on")
INFLUENCER_KEYS = ("column", "kind", "better", "label", "missing")
CHANNEL_KEYS = ("label", "volume")


@dataclass(frozen=True)
class Driver:
    """A rated element of the interaction; its score is the mean of its item columns."""

    id: str
    columns: tuple[str, ...]
    label: str
    missing: tuple[float, ...] | None = None  # None: the survey-wide codes
    depends_on: tuple[str, ...] = ()  # drivers that move this one (its paths' sources)

    @property
    def is_item_mean(self) -> bool:
        return len(self.columns) > 1


@dataclass(frozen=True)
class Influencer:
    """An operational diagnostic (KPI) that moves drivers and satisfaction."""

    id: str
    column: str
    kind: str = "continuous"
    better: str | None = None
    label: str = ""
    missing: tuple[float, ...] | None = None  # None: the survey-wide codes


@dataclass(frozen=True)
class Channel:
    """Optional per-channel metadata: display label and share of contact volume."""

    id: str
    label: str
    volume: float | None = None


@dataclass(frozen=True)
class Spec:
    """A validated survey spec.

    Attributes
    ----------
    outcome
        Column of overall satisfaction.
    channel, year, weight
        Optional columns; ``None`` means one channel, one period, equal weights.
    scale
        Rating range ``(low, high)`` of the outcome and of the drivers.
    drivers, influencers
        In spec order; ids are unique across both.
    channels
        Metadata by channel value (may be empty).
    missing, outcome_missing
        Missing-value codes of every driver item, influencer and the outcome; a driver's or
        influencer's own ``missing`` and ``outcome_missing`` replace them for those columns.
    separator, encoding, sheet
        How to read the file: a CSV's field separator and text encoding (detected when ``None``)
        and an Excel workbook's sheet (the first when ``None``).
    top_box, bottom_box, headline
        The answers counted as top-box and as detractors, and the metric to lead with, as set
        (``None``: the defaults of :func:`whatif.data.rating.rating_scale`; see :attr:`rating`).
    likelihood
        ``ordinal`` or ``linear`` as set; ``None`` follows the data.
    """

    outcome: str
    drivers: tuple[Driver, ...]
    influencers: tuple[Influencer, ...] = ()
    channel: str | None = None
    year: str | None = None
    weight: str | None = None
    scale: tuple[float, float] = (1.0, 10.0)
    channels: dict[str, Channel] = field(default_factory=dict)
    missing: tuple[float, ...] = ()
    outcome_missing: tuple[float, ...] | None = None
    separator: str | None = None
    encoding: str | None = None
    sheet: str | int | None = None
    top_box: float | None = None
    bottom_box: float | None = None
    headline: str | None = None
    likelihood: str | None = None
    source: str = "<spec>"

    @property
    def rating(self) -> RatingScale:
        """Top-box, NPS and the headline metric on this spec's scale (:mod:`whatif.data.rating`)."""
        return rating_scale(self.scale, self.top_box, self.bottom_box, self.headline)

    @property
    def single_period(self) -> bool:
        """No year column: the survey is one period (stored as year 0), not a year among others;
        its scenarios are for that period, with no forecast year after it."""
        return self.year is None

    @property
    def driver_ids(self) -> list[str]:
        return [d.id for d in self.drivers]

    @property
    def influencer_ids(self) -> list[str]:
        return [i.id for i in self.influencers]

    @property
    def paths(self) -> tuple[tuple[str, str], ...]:
        """Every driver path as ``(driver, source)``: ``source`` moves ``driver``; in spec order
        of the drivers, then of their ``depends_on``."""
        return tuple((d.id, source) for d in self.drivers for source in d.depends_on)

    def driver(self, driver_id: str) -> Driver:
        return {d.id: d for d in self.drivers}[driver_id]

    def influencer(self, influencer_id: str) -> Influencer:
        return {i.id: i for i in self.influencers}[influencer_id]

    def label_of(self, name: str) -> str:
        """Human label of a driver, influencer or channel id (the id itself if none is given)."""
        for item in (*self.drivers, *self.influencers, *self.channels.values()):
            if item.id == name:
                return item.label or name
        return name

    def data_columns(self) -> list[str]:
        """Every column the spec reads from a survey file."""
        cols = [self.outcome]
        cols += [c for c in (self.channel, self.year, self.weight) if c]
        for d in self.drivers:
            cols += list(d.columns)
        cols += [i.column for i in self.influencers]
        return cols

    def missing_codes(self) -> dict[str, tuple[float, ...]]:
        """Missing-value codes by column: outcome, every driver item and influencer (no empties)."""
        codes = {
            self.outcome: self.missing if self.outcome_missing is None else self.outcome_missing
        }
        for d in self.drivers:
            for col in d.columns:
                codes[col] = self.missing if d.missing is None else d.missing
        for i in self.influencers:
            codes[i.column] = self.missing if i.missing is None else i.missing
        return {col: c for col, c in codes.items() if c}

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain TOML-able data (round-trips through :func:`parse_spec`)."""
        survey: dict[str, Any] = {"outcome": self.outcome, "scale": list(self.scale)}
        for key in ("channel", "year", "weight"):
            if getattr(self, key):
                survey[key] = getattr(self, key)
        if self.missing:
            survey["missing"] = list(self.missing)
        if self.outcome_missing is not None:
            survey["outcome_missing"] = list(self.outcome_missing)
        for key in ("separator", "encoding", "sheet", "top_box", "bottom_box", "headline"):
            if getattr(self, key) is not None:
                survey[key] = getattr(self, key)
        if self.likelihood is not None:
            survey["likelihood"] = self.likelihood
        drivers = {}
        for d in self.drivers:
            entry: dict[str, Any] = (
                {"items": list(d.columns)} if d.is_item_mean else {"column": d.columns[0]}
            )
            entry["label"] = d.label
            if d.missing is not None:
                entry["missing"] = list(d.missing)
            if d.depends_on:
                entry["depends_on"] = list(d.depends_on)
            drivers[d.id] = entry
        influencers = {}
        for i in self.influencers:
            entry = {"column": i.column, "kind": i.kind, "label": i.label}
            if i.better:
                entry["better"] = i.better
            if i.missing is not None:
                entry["missing"] = list(i.missing)
            influencers[i.id] = entry
        out: dict[str, Any] = {"survey": survey, "drivers": drivers}
        if influencers:
            out["influencers"] = influencers
        if self.channels:
            out["channels"] = {
                c.id: {"label": c.label, **({"volume": c.volume} if c.volume is not None else {})}
                for c in self.channels.values()
            }
        return out

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec TOML file.

    Raises
    ------
    SpecError
        With every problem found, each naming the file and the key.
    """
    raw = read_toml(path, SpecError, "spec file", "; pass the TOML file that maps your columns")
    return parse_spec(raw, source=str(path))


def parse_spec(raw: dict[str, Any], source: str = "<spec>") -> Spec:
    """Validate spec data already read from TOML; see :func:`load_spec`."""
    problems: list[str] = []

    def bad(msg: str) -> None:
        problems.append(f"{source}: {msg}")

    _unknown_keys(raw, TOP_KEYS, "", bad)
    survey = raw.get("survey")
    if not isinstance(survey, dict):
        raise SpecError(
            f'{source}: missing [survey] table; add it with at least outcome = "<column>"'
        )
    _unknown_keys(survey, SURVEY_KEYS, "survey.", bad)

    outcome = _string(survey, "outcome", "survey.", bad, required=True)
    channel = _string(survey, "channel", "survey.", bad)
    year = _string(survey, "year", "survey.", bad)
    weight = _string(survey, "weight", "survey.", bad)
    scale = scale_value(survey.get("scale", [1, 10]), bad)
    missing = missing_codes_value(survey.get("missing", []), "survey.missing", bad)
    outcome_missing = (
        missing_codes_value(survey["outcome_missing"], "survey.outcome_missing", bad)
        if "outcome_missing" in survey
        else None
    )
    separator = separator_value(survey.get("separator"), bad)
    encoding = encoding_value(survey.get("encoding"), bad)
    sheet = sheet_value(survey.get("sheet"), bad)
    rating_scale(
        scale, survey.get("top_box"), survey.get("bottom_box"), survey.get("headline"), bad
    )
    likelihood = survey.get("likelihood")
    if likelihood is not None and likelihood not in LIKELIHOODS:
        bad(
            f"'survey.likelihood' must be one of {', '.join(LIKELIHOODS)} (or left out to follow "
            f"the data); got {likelihood!r}"
        )

    drivers = _drivers(raw.get("drivers"), bad)
    influencers = _influencers(raw.get("influencers", {}), bad)
    channels = _channels(raw.get("channels", {}), bad)

    ids = [d.id for d in drivers]
    for i in influencers:
        if i.id in ids:
            bad(f"'{i.id}' is both a driver and an influencer; give them different ids")
    check_paths({d.id: d.depends_on for d in drivers}, [i.id for i in influencers], bad)
    _duplicate_columns(outcome, channel, year, weight, drivers, influencers, bad)

    if problems:
        raise SpecError(*problems)
    return Spec(
        outcome=outcome,
        drivers=tuple(drivers),
        influencers=tuple(influencers),
        channel=channel,
        year=year,
        weight=weight,
        scale=scale,
        channels=channels,
        missing=missing or (),
        outcome_missing=outcome_missing,
        separator=separator,
        encoding=encoding,
        sheet=sheet,
        top_box=_optional_float(survey.get("top_box")),
        bottom_box=_optional_float(survey.get("bottom_box")),
        headline=survey.get("headline"),
        likelihood=likelihood,
        source=source,
    )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _unknown_keys(table: dict, valid: tuple[str, ...], prefix: str, bad) -> None:
    for key in table:
        if key not in valid:
            bad(f"unknown key '{prefix}{key}'{closest(key, valid)}; valid keys: {', '.join(valid)}")


def _string(table: dict, key: str, prefix: str, bad, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            bad(f"'{prefix}{key}' is required; set it to the name of a column")
        return None
    if not isinstance(value, str) or not value.strip():
        bad(f"'{prefix}{key}' must be a column name (a non-empty string), got {value!r}")
        return None
    return value


def _drivers(table: Any, bad) -> list[Driver]:
    if not isinstance(table, dict) or not table:
        bad('no drivers; add at least one [drivers.<id>] table with column = "<column>"')
        return []
    drivers = []
    for key, entry in table.items():
        where = f"drivers.{key}"
        if not isinstance(entry, dict):
            bad(f"'{where}' must be a table with column = \"...\" or items = [...]")
            continue
        _unknown_keys(entry, DRIVER_KEYS, f"{where}.", bad)
        has_col, has_items = "column" in entry, "items" in entry
        if has_col == has_items:
            bad(f'\'{where}\' needs exactly one of column = "..." or items = ["q1", "q2"]')
            continue
        if has_col:
            col = _string(entry, "column", f"{where}.", bad)
            if col is None:
                continue
            columns = (col,)
        else:
            items = entry["items"]
            if not (
                isinstance(items, list) and items and all(isinstance(i, str) and i for i in items)
            ):
                bad(f"'{where}.items' must be a non-empty list of column names, got {items!r}")
                continue
            columns = tuple(items)
        label = entry.get("label", key)
        missing = (
            missing_codes_value(entry["missing"], f"{where}.missing", bad)
            if "missing" in entry
            else None
        )
        depends_on = parse_depends_on(entry.get("depends_on", []), where, bad)
        drivers.append(Driver(key, columns, str(label), missing, depends_on))
    return drivers


def _influencers(table: Any, bad) -> list[Influencer]:
    if not isinstance(table, dict):
        bad("'influencers' must be tables like [influencers.<id>]")
        return []
    out = []
    for key, entry in table.items():
        where = f"influencers.{key}"
        if not isinstance(entry, dict):
            bad(
                f'\'{where}\' must be a table with column = "..." and kind = "count|binary|continuous"'
            )
            continue
        _unknown_keys(entry, INFLUENCER_KEYS, f"{where}.", bad)
        col = _string(entry, "column", f"{where}.", bad, required=True)
        kind = entry.get("kind", "continuous")
        if kind not in INFLUENCER_KINDS:
            bad(
                f"'{where}.kind' is {kind!r}{closest(kind, INFLUENCER_KINDS)}; use one of {', '.join(INFLUENCER_KINDS)}"
            )
            continue
        better = entry.get("better")
        if better is not None and better not in BETTER:
            bad(f"'{where}.better' is {better!r}{closest(better, BETTER)}; use 'lower' or 'higher'")
            continue
        missing = (
            missing_codes_value(entry["missing"], f"{where}.missing", bad)
            if "missing" in entry
            else None
        )
        if col is None:
            continue
        out.append(
            Influencer(
                id=key,
                column=col,
                kind=kind,
                better=better,
                label=str(entry.get("label", key)),
                missing=missing,
            )
        )
    return out


def _channels(table: Any, bad) -> dict[str, Channel]:
    if not isinstance(table, dict):
        bad("'channels' must be tables like [channels.<value>]")
        return {}
    out = {}
    for key, entry in table.items():
        where = f"channels.{key}"
        if not isinstance(entry, dict):
            bad(f"'{where}' must be a table with optional label and volume")
            continue
        _unknown_keys(entry, CHANNEL_KEYS, f"{where}.", bad)
        volume = entry.get("volume")
        if volume is not None and (
            isinstance(volume, bool) or not isinstance(volume, int | float) or volume <= 0
        ):
            bad(f"'{where}.volume' must be a positive share of contacts, got {volume!r}")
            volume = None
        out[str(key)] = Channel(id=str(key), label=str(entry.get("label", key)), volume=volume)
    with_volume = [c for c in out.values() if c.volume is not None]
    if with_volume and len(with_volume) != len(out):
        missing = [c.id for c in out.values() if c.volume is None]
        bad(
            f"volume is given for some channels but not for {', '.join(missing)}; give it for all or none"
        )
    return out


def _duplicate_columns(outcome, channel, year, weight, drivers, influencers, bad) -> None:
    uses: dict[str, list[str]] = {}
    for role, col in (
        ("survey.outcome", outcome),
        ("survey.channel", channel),
        ("survey.year", year),
        ("survey.weight", weight),
    ):
        if col:
            uses.setdefault(col, []).append(role)
    for d in drivers:
        for col in d.columns:
            uses.setdefault(col, []).append(f"drivers.{d.id}")
    for i in influencers:
        uses.setdefault(i.column, []).append(f"influencers.{i.id}")
    for col, roles in uses.items():
        if len(roles) > 1:
            bad(
                f"column '{col}' is used more than once ({', '.join(roles)}); each column may play one role"
            )
