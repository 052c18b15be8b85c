"""Scenarios: named sets of levers on influencers or drivers, read from and written to TOML.

```toml
name = "Fewer IVR prompts"
year = 2026                          # optional: an observed year or the year after the last
                                     # (a survey without a year column: its one period only)
[[lever]]
influencer = "ivr_prompts"           # or: driver = "knowledge"
channels = ["ivr_self_service"]      # optional: default every channel where it is measured
cap = 3                              # exactly one of: shift, scale, cap, floor, set, share
```
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from whatif.errors import ScenarioError, closest, read_toml

__all__ = [
    "apply_operation",
    "OPERATIONS",
    "Lever",
    "Scenario",
    "load_scenario",
    "parse_scenario",
    "model_facts",
    "validate_scenario",
]

OPERATIONS = ("shift", "scale", "cap", "floor", "set", "share")
LEVER_KEYS = ("influencer", "driver", "channels", *OPERATIONS)
TOP_KEYS = ("name", "year", "lever", "description")


@dataclass(frozen=True)
class Lever:
    """One change: ``operation`` with ``value`` applied to an influencer or a driver.

    Attributes
    ----------
    target
        Influencer or driver id.
    kind
        ``"influencer"`` or ``"driver"``.
    operation
        One of :data:`OPERATIONS`: shift (add), scale (multiply), cap (at most),
        floor (at least), set (value), share (binary: the share of 1s becomes this).
    value
        The operation's number.
    channels
        Channels it applies to; ``None`` means every channel where the target is measured.
    """

    target: str
    kind: str
    operation: str
    value: float
    channels: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.kind: self.target}
        if self.channels is not None:
            out["channels"] = list(self.channels)
        out[self.operation] = self.value
        return out

    def describe(self, label: str | None = None) -> str:
        """Plain words, e.g. ``IVR prompts: cap at 3``."""
        name = label or self.target
        words = {
            "shift": f"{'+' if self.value >= 0 else ''}{self.value:g}",
            "scale": f"x {self.value:g}",
            "cap": f"cap at {self.value:g}",
            "floor": f"at least {self.value:g}",
            "set": f"set to {self.value:g}",
            "share": f"share {self.value:.0%}",
        }[self.operation]
        where = f" in {', '.join(self.channels)}" if self.channels else ""
        return f"{name}: {words}{where}"


@dataclass(frozen=True)
class Scenario:
    """A named what-if: levers combined, for one year (``None``: the model's default year, the
    year after the last, or the one period of a survey without a year column)."""

    name: str
    levers: tuple[Lever, ...] = field(default_factory=tuple)
    year: int | None = None
    description: str = ""
    source: str = field(default="", compare=False)  # the file it was read from, for messages

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.year is not None:
            out["year"] = self.year
        out["lever"] = [lever.to_dict() for lever in self.levers]
        return out

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file (structure only; see :func:`validate_scenario` for the model).

    A file must hold at least one ``[[lever]]``: a scenario file that changes nothing is a
    mistake (a planner session may still hold a scenario without levers).
    """
    raw = read_toml(path, ScenarioError, "scenario file")
    scenario = parse_scenario(raw, source=str(path))
    if not scenario.levers:
        raise ScenarioError(
            f"{path}: no levers; add at least one [[lever]] table naming an influencer or driver "
            'and one operation, e.g. influencer = "ivr_prompts" and cap = 3'
        )
    return scenario


def parse_scenario(raw: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Check a scenario's structure: keys, one operation per lever, numbers, share in [0, 1]."""
    problems: list[str] = []
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(
                f"{source}: unknown key '{key}'{closest(key, TOP_KEYS)}; valid keys: {', '.join(TOP_KEYS)}"
            )
    name = raw.get("name", Path(source).stem if source != "<scenario>" else "Scenario")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{source}: 'name' must be a non-empty string")
        name = "Scenario"
    year = raw.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        problems.append(f"{source}: 'year' must be a whole number such as 2026, got {year!r}")
        year = None
    entries = raw.get("lever", [])
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        problems.append(f"{source}: levers are written as [[lever]] tables")
        entries = []
    levers = []
    for i, entry in enumerate(entries, start=1):
        lever = _parse_lever(entry, f"{source}: lever {i}", problems)
        if lever:
            levers.append(lever)
    if problems:
        raise ScenarioError(*problems)
    return Scenario(
        name=name.strip(),
        levers=tuple(levers),
        year=year,
        description=str(raw.get("description", "")),
        source=source if source != "<scenario>" else "",
    )


def _parse_lever(entry: Any, where: str, problems: list[str]) -> Lever | None:
    if not isinstance(entry, dict):
        problems.append(
            f'{where}: must be a table with influencer = "..." (or driver) and one operation'
        )
        return None
    for key in entry:
        if key not in LEVER_KEYS:
            problems.append(
                f"{where}: unknown key '{key}'{closest(key, LEVER_KEYS)}; valid keys: {', '.join(LEVER_KEYS)}"
            )
    targets = [k for k in ("influencer", "driver") if k in entry]
    if len(targets) != 1:
        problems.append(f'{where}: name exactly one of influencer = "..." or driver = "..."')
        return None
    kind = targets[0]
    target = entry[kind]
    ops = [op for op in OPERATIONS if op in entry]
    if len(ops) != 1:
        found = ", ".join(ops) if ops else "none"
        problems.append(
            f"{where} ({target}): needs exactly one operation of {', '.join(OPERATIONS)}; found {found}"
        )
        return None
    op = ops[0]
    value = entry[op]
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where} ({target}): {op} must be a number, got {value!r}")
        return None
    if not math.isfinite(value):
        problems.append(f"{where} ({target}): {op} must be a finite number, got {value}")
        return None
    if op == "share" and not 0 <= value <= 1:
        problems.append(
            f"{where} ({target}): share must be between 0 and 1 (e.g. 0.06 for 6%), got {value}"
        )
        return None
    if op == "scale" and value < 0:
        problems.append(
            f"{where} ({target}): scale must be 0 or more (a factor: 0.5 halves, 2 doubles), "
            f"got {value}"
        )
        return None
    channels = entry.get("channels")
    if channels is not None:
        if isinstance(channels, str):
            channels = [channels]
        if not (
            isinstance(channels, list) and channels and all(isinstance(c, str) for c in channels)
        ):
            problems.append(f"{where} ({target}): channels must be a list of channel names")
            return None
        channels = tuple(channels)
    return Lever(target=str(target), kind=kind, operation=op, value=float(value), channels=channels)


def model_facts(spec, aggregates) -> dict:
    """What scenario validation needs of a model, as plain Python (computed once per model)."""
    drivers = spec.driver_ids
    return {
        "channels": [str(c) for c in aggregates["channel"].to_numpy()],
        "years": [int(y) for y in aggregates["year"].to_numpy()],
        "single_period": spec.single_period,
        "scale": tuple(spec.scale),
        "kinds": {i.id: i.kind for i in spec.influencers},
        "drivers": drivers,
        "measured": {
            "influencer": dict(
                zip(
                    aggregates["influencer"].to_numpy().tolist(),
                    aggregates["influencer_measured"].to_numpy().T,
                    strict=True,
                )
            ),
            "driver": dict(zip(drivers, aggregates["driver_measured"].to_numpy().T, strict=True)),
        },
    }


def validate_scenario(
    scenario: Scenario, spec, aggregates, source: str = "", facts: dict | None = None
) -> list[str]:
    """Problems of a scenario against a fitted model (empty list when it can be simulated).

    Checks names (suggesting the closest), channels, that the target is measured where the lever
    applies, that share levers act on binary influencers, values the target cannot take (a
    negative count, a share outside 0-1, a rating off the scale) and the year. ``facts`` (from
    :func:`model_facts`) skips re-reading the aggregates.
    """
    facts = facts or model_facts(spec, aggregates)
    where = source or scenario.source or scenario.name
    problems = []
    channels, years, kinds = facts["channels"], facts["years"], facts["kinds"]
    drivers, measured = facts["drivers"], facts["measured"]
    if facts["single_period"]:
        if scenario.year is not None and scenario.year not in years:
            problems.append(
                f"{where}: year {scenario.year}: the survey has no year column, so the model "
                "knows one period and scenarios are for it; leave 'year' out"
            )
    elif scenario.year is not None and scenario.year not in years + [years[-1] + 1]:
        problems.append(
            f"{where}: year {scenario.year} is outside what the model can speak for: an observed year "
            f"({years[0]}-{years[-1]}) or the next one ({years[-1] + 1})"
        )
    for i, lever in enumerate(scenario.levers, start=1):
        label = f"{where}: lever {i} ({lever.target})"
        if lever.kind == "influencer" and lever.target not in kinds:
            hint = closest(lever.target, list(kinds))
            if lever.target in drivers:
                hint = f" ('{lever.target}' is a driver: write driver = \"{lever.target}\")"
            problems.append(f"{label}: unknown influencer{hint}; influencers: {', '.join(kinds)}")
            continue
        if lever.kind == "driver" and lever.target not in drivers:
            hint = closest(lever.target, drivers)
            if lever.target in kinds:
                hint = (
                    f" ('{lever.target}' is an influencer: write influencer = \"{lever.target}\")"
                )
            problems.append(f"{label}: unknown driver{hint}; drivers: {', '.join(drivers)}")
            continue
        if lever.operation == "share" and (
            lever.kind == "driver" or kinds[lever.target] != "binary"
        ):
            problems.append(
                f"{label}: share applies to binary influencers only; use shift, scale, cap, floor or set"
            )
            continue
        if lever.kind == "driver" and lever.operation in ("cap", "floor"):
            problems.append(
                f"{label}: drivers take shift, scale or set (their per-respondent distribution is not "
                "kept); cap or floor an influencer instead"
            )
            continue
        kind = "driver" if lever.kind == "driver" else kinds[lever.target]
        impossible = _impossible_value(lever, kind, facts["scale"])
        if impossible:
            problems.append(f"{label}: {impossible}")
            continue
        flags = dict(zip(channels, measured[lever.kind][lever.target], strict=True))
        for channel in lever.channels or ():
            if channel not in channels:
                problems.append(
                    f"{label}: unknown channel '{channel}'{closest(channel, channels)}; channels: {', '.join(channels)}"
                )
            elif not flags[channel]:
                where_measured = [c for c in channels if flags[c]]
                problems.append(
                    f"{label}: not measured in channel '{channel}'; it is measured in {', '.join(where_measured)}"
                )
    return problems


def _impossible_value(lever: Lever, kind: str, scale: tuple[float, float]) -> str:
    """Why a lever's value is one its target can never take (empty when it can).

    A shift may overshoot and is warned about on the data (the engine clips a count at 0); a value
    set outright is known to be impossible before any data are read.
    """
    op, value = lever.operation, lever.value
    if kind == "count" and op in ("cap", "set") and value < 0:
        return f"{op} = {value:g} is below 0, but counts are 0 or more; set {op} to 0 or more"
    if kind == "binary" and op in ("cap", "floor", "set") and not 0 <= value <= 1:
        return (
            f"{op} = {value:g} is outside 0-1, but a yes/no influencer moves as a share; "
            f"set {op} between 0 and 1 (e.g. 0.3 for 30%)"
        )
    low, high = scale
    if kind == "driver" and op == "set" and not low <= value <= high:
        return (
            f"set = {value:g} is off the rating scale [{low:g}, {high:g}]; set a mean rating "
            "on the scale, or shift it instead"
        )
    return ""


def apply_operation(operation: str, amount: float, values: np.ndarray) -> np.ndarray:
    """``values`` after a lever operation (shift, scale, cap, floor, set, share) by ``amount``."""
    if operation == "shift":
        return values + amount
    if operation == "scale":
        return values * amount
    if operation == "cap":
        return np.minimum(values, amount)
    if operation == "floor":
        return np.maximum(values, amount)
    if operation in ("set", "share"):
        return np.full_like(values, amount)
    raise ValueError(f"unknown operation {operation}")  # parse_scenario rules this out
