"""The shared number formatter: intervals never read as a point, probabilities never as certain."""

from __future__ import annotations

import pytest

from whatif.report.format import (
    MINUS,
    change,
    change_interval,
    decimals,
    interval,
    level,
    level_interval,
    nps_level,
    nps_points,
    percent,
    points,
    probability,
    share_points,
    signed,
)


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0.08, 2, "+0.08"),
        (-0.004, 2, f"{MINUS}0.004"),  # a small negative part keeps its sign and size
        (0.0, 2, "0.00"),
        (1e-12, 2, "0.00"),  # below a millionth: zero at any sensible precision
        (-1.5, 1, f"{MINUS}1.5"),
    ],
)
def test_signed(value, digits, expected):
    assert signed(value, digits) == expected


def test_ascii_minus_for_plain_text():
    assert signed(-0.25, 2, minus="-") == "-0.25"


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(0.0801, 0.0849), (0.081, 0.082), (0.005, 0.0051), (-0.0002, 0.0003), (1.2341, 1.2349)],
)
def test_an_interval_never_reads_as_a_single_number(lo, hi):
    text = interval(lo, hi)
    left, right = text.split(" to ")
    assert left != right, text


def test_interval_styles_units_and_scale():
    assert interval(0.05, 0.07, 1, scale=100, unit=" pts") == "+5.0 pts to +7.0 pts"
    assert interval(-0.1, 0.2, minus="-", style="brackets") == "[-0.10, +0.20]"


@pytest.mark.parametrize(
    ("p", "expected"),
    [(1.0, "> 99%"), (0.996, "> 99%"), (0.99, "99%"), (0.5, "50%"), (0.004, "< 1%"), (0.0, "< 1%")],
)
def test_probabilities_are_never_certain(p, expected):
    assert probability(p) == expected


def test_decimals_grow_for_small_numbers():
    assert decimals(0.5, 0.4) == 2
    assert decimals(0.05) == 3
    assert decimals(0.004) == 4
    assert decimals(0.0) == 2


def test_points_shares_and_percent():
    assert points(0.123) == "+0.12"
    assert points(0.0123) == "+0.012"
    assert share_points(0.052) == "+5.2 pts"
    assert share_points(-0.001, minus="-") == "-0.1 pts"
    assert percent(0.31) == "31%"


def test_nps_in_nps_points():
    assert nps_points(2.44) == "+2.4 NPS points"
    assert nps_points(-0.04, minus="-") == "-0.04 NPS points"  # a small change keeps its size
    assert nps_points(0.0) == "0.0 NPS points"
    assert nps_level(31.76) == "+31.8" and nps_level(-4.0, minus="-") == "-4.0"


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        ("mean", 0.123, "+0.12 points"),
        ("mean", -0.0123, f"{MINUS}0.012 points"),
        ("top_box", 0.052, "+5.2 pts"),
        ("top_box", -0.0004, f"{MINUS}0.04 pts"),
        ("nps", 2.44, "+2.4 NPS points"),
        ("nps", 0.0, "0.0 NPS points"),
    ],
)
def test_a_change_of_each_metric_in_its_unit(metric, value, expected):
    assert change(metric, value) == expected
    assert change(metric, value, unit=False) == expected.rsplit(" ", 2 if metric == "nps" else 1)[0]


def test_change_intervals_write_the_unit_once():
    assert change_interval("nps", 1.1, 3.8) == "+1.1 to +3.8 NPS points"
    assert change_interval("top_box", 0.015, 0.046) == "+1.5 to +4.6 pts"
    assert (
        change_interval("mean", -0.1, 0.2, minus="-", style="brackets") == "[-0.10, +0.20] points"
    )
    assert change_interval("nps", 1.1, 3.8, style="brackets", unit=False) == "[+1.1, +3.8]"


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [("mean", 7.853, "7.85"), ("top_box", 0.4823, "48.2%"), ("nps", 31.76, "+31.8")],
)
def test_levels_of_each_metric(metric, value, expected):
    assert level(metric, value) == expected


@pytest.mark.parametrize(
    ("metric", "lo", "hi"),
    [("mean", 7.8501, 7.8549), ("top_box", 0.48231, 0.48239), ("nps", 31.71, 31.74)],
)
def test_a_level_interval_never_reads_as_a_single_number(metric, lo, hi):
    left, right = level_interval(metric, lo, hi).split(" to ")
    assert left != right
    assert level_interval("top_box", 0.46, 0.503, style="brackets") == "[46.0%, 50.3%]"


def test_an_unknown_metric_is_named():
    with pytest.raises(ValueError, match="median"):
        change("median", 1.0)
