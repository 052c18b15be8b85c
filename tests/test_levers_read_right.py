"""Levers read right: a lever limited to some channels shows those channels' values, and every
lever loaded from a file shows on its own control, in its own units (``+10 pts`` on a share)."""

from __future__ import annotations

import pytest

from whatif.analysis.library import ScenarioLibrary
from whatif.analysis.scenario import Lever, Scenario
from whatif.app.bundle import load_bundle
from whatif.app.state import PlannerState
from whatif.report.format import percent


@pytest.fixture(scope="module")
def bundle(tiny_model_path):
    return load_bundle(tiny_model_path)


@pytest.fixture
def state(bundle, tmp_path):
    return PlannerState(bundle, library=ScenarioLibrary(tmp_path / "library"))


def _binary(bundle):
    return next(c for c in bundle.controls.values() if c.measure == "binary")


def _shares(bundle, state, target):
    return {c: bundle.current_mean(target, state.year, [c]) for c in bundle.channels}


def test_a_share_limited_to_one_channel_reads_that_channels_share(state, bundle):
    binary = _binary(bundle)
    shares = _shares(bundle, state, binary.target)
    one, other = bundle.channels
    assert percent(shares[one]) != percent(shares[other])  # a mix would read differently
    state.apply_scenario(
        Scenario("Only one", (Lever(binary.target, "influencer", "share", 0.9, (one,)),))
    )
    text = state.describe(state.active_levers()[0][1])
    assert text == (
        f"{bundle.label(binary.target)}: share {percent(shares[one])} -> 90% in {bundle.label(one)}"
    )
    # the no-change value of the control is that channel's share, not the mix of channels
    assert state.identity(binary.target, "share") == pytest.approx(shares[one], abs=0.005)


def test_a_shift_on_a_share_reads_in_points_with_the_share_it_moves(state, bundle):
    binary = _binary(bundle)
    one = bundle.channels[0]
    now = _shares(bundle, state, binary.target)[one]
    state.apply_scenario(
        Scenario("Raise", (Lever(binary.target, "influencer", "shift", 0.1, (one,)),))
    )
    assert state.settings == {binary.target: ("shift", 0.1)} and state.extra_levers == []
    text = state.describe(state.active_levers()[0][1])
    assert f"+10 pts (share {percent(now)} -> {percent(min(now + 0.1, 1))})" in text
    assert "0.1" not in text


def test_other_units_on_a_share(state, bundle):
    binary = _binary(bundle)
    label = bundle.label(binary.target)
    words = {
        "cap": "at most 20%",
        "floor": "at least 50%",
        "set": "-> 30%",
        "scale": "x 1.5 (share",
    }
    values = {"cap": 0.2, "floor": 0.5, "set": 0.3, "scale": 1.5}
    for op, expected in words.items():
        text = state.describe(Lever(binary.target, "influencer", op, values[op]))
        assert text.startswith(f"{label}: ") and expected in text, text
    small = state.describe(Lever(binary.target, "influencer", "shift", -0.025))
    assert "\u22122.5 pts" in small  # a small negative keeps its sign and size


def test_each_loaded_lever_shows_on_its_control(state, bundle):
    from whatif.app.views.levers import LeverControl

    binary = _binary(bundle)
    count = next(c for c in bundle.controls.values() if c.measure == "count")
    one = bundle.channels[0]
    controls = {c.target: LeverControl(state, c) for c in (binary, count)}
    state.apply_scenario(
        Scenario(
            "From a file",
            (
                Lever(binary.target, "influencer", "shift", 0.1, (one,)),
                Lever(count.target, "influencer", "floor", 50.0),  # beyond the observed range
            ),
        )
    )
    share = controls[binary.target]
    assert share.operation == "shift" and share.slider.value == pytest.approx(0.1)
    args = share.slider.format.args
    assert args["now"] == pytest.approx(bundle.current_mean(binary.target, state.year, [one]))
    assert "pts (share" in share.slider.format.code
    floor = controls[count.target]
    assert floor.operation == "floor" and floor.slider.value == 50.0
    assert floor.slider.end >= 50.0  # widened to show the loaded value, not clipped
    assert "Floor" in floor._op.options
    assert "Applies only in" in share._caption.object
