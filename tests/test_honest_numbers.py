"""Honest numbers in the planner, the cases issue 18 found: an interval never collapses to one
number, probabilities never read 100% or 0%, a channel no lever touches reads "not affected", and
small negative parts keep their sign -- in the formatter and in what the app's views print."""

from __future__ import annotations

import re

import numpy as np
import pytest

from whatif.analysis.library import ScenarioLibrary
from whatif.analysis.results import Estimate, estimate, estimates
from whatif.app.bundle import load_bundle
from whatif.app.state import PlannerState
from whatif.data.moments import interval
from whatif.report import format as fmt
from whatif.report.difference import difference_cells


@pytest.mark.parametrize(
    ("lo", "hi", "options", "expected"),
    [
        (0.0795, 0.0849, {}, "+0.080 to +0.085"),  # was "+0.08, interval +0.08 to +0.08"
        (0.0049, 0.0054, {"digits": 1, "scale": 100, "unit": " pts"}, "+0.49 pts to +0.54 pts"),
    ],
)
def test_the_issues_intervals_no_longer_collapse(lo, hi, options, expected):
    assert fmt.interval(lo, hi, **options) == expected


def test_the_issues_other_cases():
    assert fmt.probability(1.0) == "> 99%" and fmt.probability(0.0) == "< 1%"
    assert fmt.points(-0.004) == f"{fmt.MINUS}0.0040"  # the Direct column read "+0.00"
    assert fmt.points(0.0) == "0.00"  # a zero has no sign
    tight = Estimate(0.0801, 0.0795, 0.0849, 1.0)
    value, spread, beats = difference_cells("mean", tight, minus="-")
    assert (value, spread, beats) == ("+0.080", "+0.080 to +0.085", "> 99%")
    assert difference_cells("top_box", Estimate(0.005, 0.0049, 0.0054, 0.0))[1:] == (
        "+0.49 pts to +0.54 pts",
        "< 1%",
    )
    assert difference_cells("nps", Estimate(-0.2, -0.25, -0.15, 0.0), minus="-")[0] == "-0.2"


@pytest.fixture(scope="module")
def bundle(tiny_model_path):
    return load_bundle(tiny_model_path)


def test_the_views_print_not_affected_and_never_certainty(bundle, tmp_path):
    from whatif.app.views.forecast import ForecastPanel
    from whatif.app.views.headline import Headline

    state = PlannerState(bundle, library=ScenarioLibrary(tmp_path))
    headline, forecast = Headline(state), ForecastPanel(state)
    count = next(c for c in bundle.controls.values() if c.measure == "count")
    state.channels = bundle.channels[:1]
    state.set_lever(count.target, "cap", count.ranges["cap"][0])  # one channel moves
    other = bundle.label(bundle.channels[1])
    for html in (headline._pane.object, forecast._table.object):
        assert fmt.NOT_AFFECTED in html
        # "100%" is the company's share of volume; no probability reads 100% or 0%
        assert not re.search(r"\b(100|0)%", html.replace("<td>100%</td>", "")), html
    chart = forecast._channels.source.data
    where = chart["label"].index(other)
    assert chart["text"][where] == fmt.NOT_AFFECTED and chart["chance"][where] == ""
    for text in chart["text"]:
        if text != fmt.NOT_AFFECTED:
            low, high = text.split(" [")[1].rstrip("]").split(", ")
            assert low != high


def test_estimates_of_every_channel_at_once_are_each_channels_estimate():
    """A lever move summarizes every channel's metrics in one interval call: the same numbers,
    to the last digit, as one channel at a time (zeros, ties and a channel with NaN draws)."""
    rng = np.random.default_rng(3)
    draws = rng.normal(0.1, 0.05, size=(300, 5))
    draws[:, 1] = 0.0  # a channel no lever reaches
    draws[:, 2] = np.round(draws[:, 2], 2)  # ties
    draws[:7, 3] = np.nan
    for change in (True, False):
        together = [e.to_dict() for e in estimates(draws, 0.9, change)]
        alone = [estimate(draws[:, c], 0.9, change).to_dict() for c in range(draws.shape[1])]
        np.testing.assert_equal(together, alone)  # exactly (NaN where NaN)


def test_intervals_skip_missing_draws_and_are_numpys_without_them():
    """``interval`` takes NumPy's quantile where no draw is missing (it is four times faster
    than nanquantile) and skips missing draws where some are: the same numbers either way."""
    rng = np.random.default_rng(5)
    draws = rng.normal(0.1, 0.05, size=(4, 300))
    draws[1] = np.round(draws[1], 2)  # ties
    ends = [(1 - 0.9) / 2, (1 + 0.9) / 2]  # as interval computes them
    np.testing.assert_array_equal(interval(draws, 0.9, axis=1), np.nanquantile(draws, ends, axis=1))
    missing = draws.copy()
    missing[2, :40] = np.nan
    lo, hi = interval(missing, 0.9, axis=1)
    assert (lo[2], hi[2]) == tuple(np.quantile(draws[2, 40:], ends))
    np.testing.assert_array_equal(lo[[0, 1, 3]], np.quantile(draws[[0, 1, 3]], ends, axis=1)[0])
    # no influencers: no columns, but the quantiles still a first axis (nanquantile drops it)
    assert [a.shape for a in interval(np.zeros((300, 0)), 0.9)] == [(0,), (0,)]
