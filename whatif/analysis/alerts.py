"""Alerts on the nowcast: thresholds on a metric or on a KPI, read from TOML, and when they fire.

```toml
[[alert]]
name = "IVR satisfaction floor"
channel = "ivr_self_service"   # optional: the company when absent
metric = "mean"                # mean | top_box | nps (default: the model's headline metric)
below = 6.5                    # or above = ...; exactly one
probability = 0.8              # optional, default 0.5, in (0, 1]

[[alert]]
name = "Outage spike"
influencer = "outage"          # a KPI threshold on the period's value
channel = "web_self_service"   # optional: every channel of the feed where it is measured
above = 0.05
```

A metric alert fires in a period when the posterior probability that the metric is below (above)
its threshold is *at least* ``probability``: a probability exactly at the threshold fires. A KPI
alert fires when the period's value is strictly above (below) its threshold; a value equal to it
does not. ``top_box`` thresholds are shares (0.45 for 45%), ``nps`` thresholds NPS points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from whatif.errors import WhatifError, closest, read_toml

__all__ = [
    "ALERT_KEYS",
    "DEFAULT_ALERT_PROBABILITY",
    "alert_message",
    "AlertRule",
    "FiredAlert",
    "load_alerts",
    "metric_probability",
    "parse_alerts",
    "validate_alerts",
]

ALERT_KEYS = ("name", "channel", "metric", "influencer", "above", "below", "probability")
DEFAULT_ALERT_PROBABILITY = 0.5
_METRIC_WORDS = {"mean": "mean satisfaction", "top_box": "top-box share", "nps": "NPS"}


@dataclass(frozen=True)
class AlertRule:
    """One alert of an alerts file.

    Attributes
    ----------
    name
        As written (default ``alert N``).
    kind
        ``"metric"`` (a threshold on the nowcast) or ``"kpi"`` (on an influencer's value).
    channel
        The channel; ``None`` means the company (metric) or every channel (KPI).
    metric
        ``mean``, ``top_box`` or ``nps`` (metric alerts; ``None`` until resolved to the model's
        headline by :func:`validate_alerts`'s caller).
    influencer
        The KPI of a KPI alert.
    side, threshold
        ``"below"`` or ``"above"``, and the value.
    probability
        The posterior probability a metric alert needs (``None`` for a KPI alert).
    """

    name: str
    kind: str
    side: str
    threshold: float
    channel: str | None = None
    metric: str | None = None
    influencer: str | None = None
    probability: float | None = None

    def fires(self, value: float, probability: float | None = None) -> bool:
        """Whether the rule fires at a KPI ``value`` or a metric's ``probability`` of the side."""
        if self.kind == "metric":
            return probability is not None and probability >= self.probability
        return value < self.threshold if self.side == "below" else value > self.threshold

    def describe(self) -> str:
        """Plain words, e.g. ``mean below 6.5 with probability >= 0.8 in ivr_self_service``."""
        where = self.channel or ("the company" if self.kind == "metric" else "every channel")
        if self.kind == "kpi":
            return f"{self.influencer} {self.side} {self.threshold:g} in {where}"
        return (
            f"{self.metric} {self.side} {self.threshold:g} with probability >= "
            f"{self.probability:g} in {where}"
        )


@dataclass(frozen=True)
class FiredAlert:
    """An alert that fired in one period (``channel`` is ``"company"`` for the roll-up)."""

    period: str
    channel: str
    name: str
    kind: str
    value: float
    probability: float | None
    message: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def metric_probability(rule: AlertRule, draws: np.ndarray) -> np.ndarray:
    """P(metric below / above the threshold) along the last axis of ``draws``."""
    side = draws < rule.threshold if rule.side == "below" else draws > rule.threshold
    return side.mean(axis=-1)


def load_alerts(path: str | Path) -> tuple[AlertRule, ...]:
    """Read an alerts TOML file (structure only; :func:`validate_alerts` checks the model's names).

    Raises
    ------
    WhatifError
        A missing file, bad TOML or any malformed alert, one line each naming the file and alert.
    """
    raw = read_toml(path, WhatifError, "alerts file", "; check the path given to --alerts")
    rules = parse_alerts(raw, str(path))
    if not rules:
        raise WhatifError(
            f"{path}: no alerts; add at least one [[alert]] table with a metric or influencer "
            "and a threshold (below = ... or above = ...)"
        )
    return rules


def parse_alerts(raw: dict[str, Any], source: str = "<alerts>") -> tuple[AlertRule, ...]:
    """Alerts from parsed TOML: keys, one threshold, numbers, probability in (0, 1]."""
    problems: list[str] = []
    for key in raw:
        if key != "alert":
            problems.append(
                f"{source}: unknown key '{key}'{closest(key, ['alert'])}; alerts are [[alert]] "
                "tables"
            )
    entries = raw.get("alert", [])
    entries = [entries] if isinstance(entries, dict) else entries
    if not isinstance(entries, list):
        problems.append(f"{source}: alerts are written as [[alert]] tables")
        entries = []
    rules = []
    for i, entry in enumerate(entries, start=1):
        rule = _parse_alert(entry, f"{source}: alert {i}", i, problems)
        if rule is not None:
            rules.append(rule)
    if problems:
        raise WhatifError(*problems)
    return tuple(rules)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _parse_alert(entry: Any, where: str, index: int, problems: list[str]) -> AlertRule | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a table with a metric or influencer and a threshold")
        return None
    for key in entry:
        if key not in ALERT_KEYS:
            problems.append(
                f"{where}: unknown key '{key}'{closest(key, ALERT_KEYS)}; valid keys: "
                f"{', '.join(ALERT_KEYS)}"
            )
    name = entry.get("name", f"alert {index}")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: 'name' must be a non-empty string")
        return None
    where = f"{where} ({name})"
    sides = [side for side in ("below", "above") if side in entry]
    if len(sides) != 1:
        found = "both above and below" if sides else "neither"
        problems.append(f"{where}: needs exactly one of below = ... or above = ...; found {found}")
        return None
    side = sides[0]
    if not _number(entry[side]):
        problems.append(f"{where}: {side} must be a finite number, got {entry[side]!r}")
        return None
    if "metric" in entry and "influencer" in entry:
        problems.append(
            f"{where}: name a metric (a threshold on the nowcast) or an influencer (on a KPI), "
            "not both"
        )
        return None
    for key in ("channel", "metric", "influencer"):
        if key in entry and not (isinstance(entry[key], str) and entry[key].strip()):
            problems.append(f"{where}: '{key}' must be a non-empty string, got {entry[key]!r}")
            return None
    kind = "kpi" if "influencer" in entry else "metric"
    probability = entry.get("probability")
    if kind == "kpi" and probability is not None:
        problems.append(
            f"{where}: 'probability' applies to metric alerts; a KPI alert fires on the period's "
            "value itself"
        )
        return None
    if kind == "metric":
        probability = DEFAULT_ALERT_PROBABILITY if probability is None else probability
        if not _number(probability) or not 0 < probability <= 1:
            problems.append(
                f"{where}: probability must be in (0, 1] (e.g. 0.8: alert when the metric is "
                f"{side} the threshold with probability 80% or more), got {probability!r}"
            )
            return None
        probability = float(probability)
    return AlertRule(
        name=name.strip(),
        kind=kind,
        side=side,
        threshold=float(entry[side]),
        channel=entry.get("channel"),
        metric=entry.get("metric"),
        influencer=entry.get("influencer"),
        probability=probability,
    )


def validate_alerts(
    rules: tuple[AlertRule, ...],
    *,
    channels: list[str],
    influencers: list[str],
    metrics: tuple[str, ...],
    source: str = "<alerts>",
) -> list[str]:
    """Problems of alerts against a model (empty when every alert can be evaluated).

    Parameters
    ----------
    rules
        From :func:`load_alerts`.
    channels, influencers, metrics
        The model's channels, influencer ids and reported metrics (``spec.rating.metrics``).
    source
        The file, for messages.
    """
    problems = []
    for i, rule in enumerate(rules, start=1):
        where = f"{source}: alert {i} ({rule.name})"
        if rule.channel is not None and rule.channel not in channels:
            problems.append(
                f"{where}: unknown channel '{rule.channel}'{closest(rule.channel, channels)}; "
                f"channels: {', '.join(channels)} (leave channel out for the company)"
            )
        if rule.kind == "kpi" and rule.influencer not in influencers:
            problems.append(
                f"{where}: unknown influencer '{rule.influencer}'"
                f"{closest(rule.influencer, influencers)}; influencers: {', '.join(influencers)}"
            )
        if rule.kind == "metric" and rule.metric is not None and rule.metric not in metrics:
            hint = closest(rule.metric, metrics)
            if rule.metric == "nps":
                hint = " (the model's scale reports no NPS)"
            problems.append(
                f"{where}: unknown metric '{rule.metric}'{hint}; metrics: {', '.join(metrics)}"
            )
    return problems


def alert_message(rule: AlertRule, period: str, where: str, value: str) -> str:
    """The one-line message of a fired alert (``value`` already written for people)."""
    if rule.kind == "kpi":
        return f"{rule.name}: {rule.influencer} in {where} is {value} in {period}, {rule.side} {rule.threshold:g}"
    words = _METRIC_WORDS.get(rule.metric, rule.metric)
    return (
        f"{rule.name}: {words} in {where} is {rule.side} {rule.threshold:g} with probability "
        f"{rule.probability:.0%} or more in {period} (nowcast {value})"
    )
