"""Options files: candidate actions with costed settings, the raw material of the plan optimizer.

```toml
currency = "EUR"                  # optional, for display
[[option]]
name = "IVR menu redesign"
influencer = "ivr_prompts"        # or driver = "knowledge"
channels = ["ivr_self_service"]   # optional, as in scenarios
cap = [2, 3, 4]                   # the candidate settings, under the lever operation's name
cost = [90000, 60000, 30000]      # the cost of each setting (same length)
fixed_cost = 0                    # optional: added once when the option is used at any setting
```

An option's setting is the value of a scenario lever (:mod:`whatif.analysis.scenario`), so the
lever vocabulary and its validation are the scenarios' own; a plan (at most one setting per
option) becomes a :class:`~whatif.analysis.scenario.Scenario`. Two options may not act on the same
influencer or driver in the same channel: their changes would not combine into one lever.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whatif.analysis.scenario import (
    OPERATIONS,
    Lever,
    Scenario,
    model_facts,
    parse_scenario,
    validate_scenario,
)
from whatif.errors import ScenarioError, closest, read_toml

__all__ = [
    "Option",
    "OptionSet",
    "OptionsError",
    "load_options",
    "parse_options",
    "validate_options",
]

TOP_KEYS = ("currency", "option")
OPTION_KEYS = ("name", "description", "influencer", "driver", "channels", "cost", "fixed_cost")
OPTION_KEYS = OPTION_KEYS + OPERATIONS


class OptionsError(ScenarioError):
    """An options file is invalid (its settings are scenario levers, hence a scenario error)."""


@dataclass(frozen=True)
class Option:
    """One candidate action: a lever with the settings a plan may choose and their costs.

    Attributes
    ----------
    name
        The action's name (unique in its file).
    target, kind
        The influencer or driver id and ``"influencer"`` or ``"driver"``.
    operation
        The lever operation (:data:`~whatif.analysis.scenario.OPERATIONS`).
    settings
        The candidate values of the operation.
    costs
        The cost of each setting (same length as ``settings``).
    fixed_cost
        Added once when the option is used at any setting.
    channels
        Channels the lever applies to; ``None``: every channel where the target is measured.
    """

    name: str
    target: str
    kind: str
    operation: str
    settings: tuple[float, ...]
    costs: tuple[float, ...]
    fixed_cost: float = 0.0
    channels: tuple[str, ...] | None = None
    description: str = ""

    def lever(self, setting: int) -> Lever:
        """The scenario lever of the setting at index ``setting``."""
        return Lever(
            target=self.target,
            kind=self.kind,
            operation=self.operation,
            value=self.settings[setting],
            channels=self.channels,
        )

    def cost(self, setting: int) -> float:
        """What using the option at index ``setting`` costs, its fixed cost included."""
        return self.costs[setting] + self.fixed_cost

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, self.kind: self.target}
        if self.description:
            out["description"] = self.description
        if self.channels is not None:
            out["channels"] = list(self.channels)
        out[self.operation] = list(self.settings)
        out["cost"] = list(self.costs)
        if self.fixed_cost:
            out["fixed_cost"] = self.fixed_cost
        return out


@dataclass(frozen=True)
class OptionSet:
    """The options of one file and the currency their costs are in.

    A plan is a tuple ``((option index, setting index), ...)``, each option at most once.
    """

    options: tuple[Option, ...]
    currency: str = ""
    source: str = field(default="", compare=False)

    def cost(self, plan: tuple[tuple[int, int], ...]) -> float:
        """The cost of a plan (fixed costs once per option used)."""
        return float(sum(self.options[o].cost(k) for o, k in plan))

    def scenario(
        self, plan: tuple[tuple[int, int], ...], name: str = "Plan", year: int | None = None
    ) -> Scenario:
        """The plan as a scenario: one lever per chosen option, in the file's order."""
        levers = tuple(self.options[o].lever(k) for o, k in sorted(plan))
        names = ", ".join(self.options[o].name for o, _ in sorted(plan)) or "nothing"
        return Scenario(name=name, levers=levers, year=year, description=f"Options: {names}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"currency": self.currency} if self.currency else {}
        out["option"] = [option.to_dict() for option in self.options]
        return out


def load_options(path: str | Path) -> OptionSet:
    """Read an options TOML file (structure only; :func:`validate_options` checks the model)."""
    raw = read_toml(path, OptionsError, "options file")
    return parse_options(raw, source=str(path))


def parse_options(raw: dict[str, Any], source: str = "<options>") -> OptionSet:
    """Check an options file's structure: keys, one operation per option, settings and costs.

    Raises
    ------
    OptionsError
        One line per problem, naming the file, the option and the key.
    """
    problems: list[str] = []
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(
                f"{source}: unknown key '{key}'{closest(key, TOP_KEYS)}; "
                f"valid keys: {', '.join(TOP_KEYS)}"
            )
    currency = raw.get("currency", "")
    if not isinstance(currency, str):
        problems.append(f"{source}: 'currency' must be text such as \"EUR\", got {currency!r}")
        currency = ""
    entries = raw.get("option", [])
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        problems.append(
            f"{source}: no options; add [[option]] tables, each with a name, an influencer or "
            "driver and its settings with their costs, e.g. cap = [2, 3] and cost = [900, 500]"
        )
        entries = []
    options: list[Option] = []
    for i, entry in enumerate(entries, start=1):
        option = _parse_option(entry, f"{source}: option {i}", problems)
        if option is not None:
            options.append(option)
    _check_names_and_overlaps(options, source, problems)
    if problems:
        raise OptionsError(*problems)
    return OptionSet(options=tuple(options), currency=currency.strip(), source=source)


def _parse_option(entry: Any, where: str, problems: list[str]) -> Option | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a table with a name, a lever and costs")
        return None
    before = len(problems)
    name = entry.get("name")
    if isinstance(name, str) and name.strip():
        where = f"{where} '{name.strip()}'"
    for key in entry:
        if key not in OPTION_KEYS:
            problems.append(
                f"{where}: unknown key '{key}'{closest(key, OPTION_KEYS)}; "
                f"valid keys: {', '.join(OPTION_KEYS)}"
            )
    if not isinstance(name, str) or not name.strip():
        problems.append(f'{where}: needs a name = "..." (text) saying what the action is')
        return None
    ops = [op for op in OPERATIONS if op in entry]
    if len(ops) != 1:
        found = ", ".join(ops) if ops else "none"
        problems.append(
            f"{where}: needs exactly one operation of {', '.join(OPERATIONS)} listing its "
            f"settings (e.g. cap = [2, 3, 4]); found {found}"
        )
        return None
    op = ops[0]
    settings = _numbers(entry[op], where, op, problems)
    costs = _numbers(entry.get("cost"), where, "cost", problems)
    if settings is None or costs is None:
        return None
    if len(settings) != len(costs):
        problems.append(
            f"{where}: {op} has {len(settings)} setting(s) but cost has {len(costs)}; "
            "give one cost per setting, in the same order"
        )
    if len(set(settings)) != len(settings):
        problems.append(f"{where}: {op} lists a setting twice; list each setting once")
    if any(c < 0 for c in costs):
        problems.append(f"{where}: cost must be 0 or more, got {_listed(costs)}")
    fixed = entry.get("fixed_cost", 0)
    if isinstance(fixed, bool) or not isinstance(fixed, int | float) or not math.isfinite(fixed):
        problems.append(f"{where}: fixed_cost must be a number, got {fixed!r}")
    elif fixed < 0:
        problems.append(f"{where}: fixed_cost must be 0 or more, got {fixed:g}")
    description = entry.get("description", "")
    if len(problems) > before:
        return None
    # the lever of every setting, checked by the scenarios' own rules (share in 0-1, ...)
    lever_entry = {k: entry[k] for k in ("influencer", "driver", "channels") if k in entry}
    levers = []
    for value in settings:
        try:
            scenario = parse_scenario({"lever": [{**lever_entry, op: value}]}, source=where)
        except ScenarioError as err:
            problems.extend(
                dict.fromkeys(p.replace(f"{where}: lever 1", where) for p in err.problems)
            )
            return None
        levers.append(scenario.levers[0])
    lever = levers[0]
    return Option(
        name=name.strip(),
        target=lever.target,
        kind=lever.kind,
        operation=op,
        settings=tuple(float(v) for v in settings),
        costs=tuple(float(c) for c in costs),
        fixed_cost=float(fixed),
        channels=lever.channels,
        description=str(description),
    )


def _numbers(value: Any, where: str, key: str, problems: list[str]) -> list[float] | None:
    """A key holding one number or a list of numbers, as a list (``None`` and a problem if not)."""
    if value is None:
        problems.append(f"{where}: needs {key} = [...] (one number per setting)")
        return None
    values = value if isinstance(value, list) else [value]
    if not values or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    ):
        problems.append(f"{where}: {key} must be a number or a list of numbers, got {value!r}")
        return None
    return [float(v) for v in values]


def _listed(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _check_names_and_overlaps(options: list[Option], source: str, problems: list[str]) -> None:
    seen: dict[str, int] = {}
    for option in options:
        if option.name in seen:
            problems.append(f"{source}: two options are named '{option.name}'; name each once")
        seen[option.name] = 1
    for i, a in enumerate(options):
        for b in options[i + 1 :]:
            if (a.kind, a.target) != (b.kind, b.target):
                continue
            if a.channels is None or b.channels is None:
                shared = "every channel" if a.channels is None and b.channels is None else None
                shared = shared or ", ".join(a.channels or b.channels or ())
            else:
                shared = ", ".join(c for c in a.channels if c in b.channels)
            if shared:
                problems.append(
                    f"{source}: options '{a.name}' and '{b.name}' both act on {a.kind} "
                    f"'{a.target}' in {shared}; merge them into one option with more settings "
                    "or give them different channels"
                )


def validate_options(options: OptionSet, spec, aggregates, facts: dict | None = None) -> list[str]:
    """Problems of an option set against a fitted model (empty when every setting can be run).

    Every setting's lever is checked as a scenario lever is (names with the closest valid one,
    channels, values the target can never take); each problem names the option.
    """
    facts = facts or model_facts(spec, aggregates)
    source = options.source or "<options>"
    problems: list[str] = []
    for i, option in enumerate(options.options, start=1):
        where = f"{source}: option {i} '{option.name}'"
        for k in range(len(option.settings)):
            scenario = Scenario(name=option.name, levers=(option.lever(k),))
            for problem in validate_scenario(scenario, spec, aggregates, source=where, facts=facts):
                problems.append(problem.replace(f"{where}: lever 1", where))
    return list(dict.fromkeys(problems))
