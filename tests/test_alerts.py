"""Alerts files: parsing, every malformed alert as one line, names checked against the model,
and the boundary (a probability exactly at the threshold fires; a KPI equal to it does not)."""

from __future__ import annotations

import numpy as np
import pytest

from whatif.analysis.alerts import (
    DEFAULT_ALERT_PROBABILITY,
    AlertRule,
    load_alerts,
    metric_probability,
    parse_alerts,
    validate_alerts,
)
from whatif.errors import WhatifError

MODEL = {
    "channels": ["ivr_self_service", "web_self_service"],
    "influencers": ["outage", "ivr_prompts"],
    "metrics": ("mean", "top_box"),
}


def one(text: str) -> list[str]:
    import tomllib

    with pytest.raises(WhatifError) as err:
        parse_alerts(tomllib.loads(text), "alerts.toml")
    assert all("\n" not in p for p in err.value.problems)
    return err.value.problems


def test_the_demo_alerts_parse_into_metric_and_kpi_rules(demo_paths):
    rules = load_alerts(demo_paths["survey"].parent / "alerts.toml")
    kinds = {r.name: r.kind for r in rules}
    assert kinds["IVR NPS floor"] == "metric" and kinds["Outage spike"] == "kpi"
    floor = rules[0]
    assert (floor.channel, floor.metric, floor.side, floor.threshold, floor.probability) == (
        "ivr_self_service",
        "nps",
        "below",
        33.0,
        0.8,
    )


def test_defaults_a_name_and_a_probability_of_one_half():
    (rule,) = parse_alerts({"alert": [{"metric": "mean", "below": 6.0}]})
    assert rule.name == "alert 1" and rule.probability == DEFAULT_ALERT_PROBABILITY
    assert rule.channel is None  # the company


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "metric = 'mean'\nbelow = 6\nabove = 8",
            "needs exactly one of below = ... or above = ...; found both",
        ),
        ("metric = 'mean'", "needs exactly one of below = ... or above = ...; found neither"),
        ("metric = 'mean'\nbelow = 6\nprobability = 0", "probability must be in (0, 1]"),
        ("metric = 'mean'\nbelow = 6\nprobability = 1.5", "probability must be in (0, 1]"),
        ("metric = 'mean'\nbelow = 6\nprobability = 'high'", "probability must be in (0, 1]"),
        (
            "influencer = 'outage'\nabove = 0.1\nprobability = 0.8",
            "'probability' applies to metric alerts",
        ),
        ("metric = 'mean'\ninfluencer = 'outage'\nabove = 0.1", "not both"),
        ("metric = 'mean'\nbelow = 'six'", "below must be a finite number, got 'six'"),
        (
            "metric = 'mean'\nbelow = 6\nchanel = 'x'",
            "unknown key 'chanel' (did you mean 'channel'?)",
        ),
    ],
    ids=[
        "above-and-below",
        "no-threshold",
        "probability-zero",
        "probability-above-one",
        "probability-text",
        "probability-on-kpi",
        "metric-and-influencer",
        "threshold-text",
        "unknown-key",
    ],
)
def test_malformed_alerts_are_one_line_errors_naming_the_alert(body, expected):
    found = one(f"[[alert]]\nname = 'A'\n{body}\n")
    assert any(expected in p and p.startswith("alerts.toml: alert 1") for p in found), found


def test_a_file_without_alerts_and_a_missing_file_are_errors(tmp_path):
    (tmp_path / "a.toml").write_text("# nothing\n")
    with pytest.raises(WhatifError, match="a.toml: no alerts"):
        load_alerts(tmp_path / "a.toml")
    with pytest.raises(WhatifError, match="b.toml: alerts file not found"):
        load_alerts(tmp_path / "b.toml")


def test_names_are_checked_against_the_model_with_the_closest_valid_one():
    rules = parse_alerts(
        {
            "alert": [
                {"metric": "nps", "below": 0},
                {"metric": "topbox", "below": 0.3},
                {"metric": "mean", "channel": "web_selfservice", "below": 6},
                {"influencer": "outages", "above": 0.1},
            ]
        }
    )
    found = validate_alerts(rules, source="alerts.toml", **MODEL)
    assert "alert 1 (alert 1): unknown metric 'nps' (the model's scale reports no NPS)" in found[0]
    assert "unknown metric 'topbox' (did you mean 'top_box'?)" in found[1]
    assert "unknown channel 'web_selfservice' (did you mean 'web_self_service'?)" in found[2]
    assert "unknown influencer 'outages' (did you mean 'outage'?)" in found[3]


def test_a_probability_exactly_at_the_threshold_fires_and_a_kpi_equal_to_it_does_not():
    rule = AlertRule("floor", "metric", "below", 6.5, metric="mean", probability=0.8)
    draws = np.array([6.0] * 8 + [7.0] * 2)  # P(below 6.5) = 0.8 exactly
    p = float(metric_probability(rule, draws))
    assert p == 0.8 and rule.fires(float(draws.mean()), p)
    assert not rule.fires(float(draws.mean()), 0.79)
    above = AlertRule("ceiling", "metric", "above", 6.5, metric="mean", probability=0.2)
    assert float(metric_probability(above, draws)) == pytest.approx(0.2)
    assert above.fires(0.0, float(metric_probability(above, draws)))
    spike = AlertRule("spike", "kpi", "above", 0.05, influencer="outage")
    assert not spike.fires(0.05) and spike.fires(0.0500001)
    drop = AlertRule("drop", "kpi", "below", 0.5, influencer="fcr")
    assert drop.fires(0.49) and not drop.fires(0.5)
