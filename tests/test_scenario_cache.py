"""The engine's cache of recent scenarios: the same question gets the same numbers, computed once;
different questions and different models never share an entry; the cache stays within its bytes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from whatif.analysis.answers import (
    interpolation_weights,
    look_up,
    look_up_many,
    look_up_shared,
    look_up_sums,
    shift_grid,
)
from whatif.analysis.engine import ScenarioEngine
from whatif.analysis.respondents import MIN_ALIKE, alike_respondents
from whatif.analysis.scenario import Lever, Scenario
from whatif.analysis.scenario_cache import ScenarioCache, scenario_key


@pytest.fixture(scope="module")
def engine(tiny_model):
    return ScenarioEngine(tiny_model)


def _lever(engine, value: float, channels=None) -> Lever:
    return Lever(engine.influencers[0], "influencer", "shift", value, channels)


def test_the_same_question_is_answered_from_the_cache_with_identical_numbers(engine):
    engine.cache.clear()
    first = engine.lift(Scenario("mine", (_lever(engine, 0.5),)))
    misses = engine.cache.misses
    again = engine.lift(Scenario("a colleague's", (_lever(engine, 0.5),), description="same"))
    assert engine.cache.misses == misses and engine.cache.hits >= 1
    for name in first.data_vars:
        np.testing.assert_array_equal(first[name].to_numpy(), again[name].to_numpy())
    assert (first.attrs["scenario"], again.attrs["scenario"]) == ("mine", "a colleague's")
    assert first.attrs["warnings"] == again.attrs["warnings"]


def test_a_cached_forecast_equals_a_fresh_computation(engine):
    scenario = Scenario("s", (_lever(engine, 0.3),))
    engine.cache.clear()
    engine.lift(scenario)
    cached = engine.lift(scenario)
    fresh = engine.lift_arrays(scenario)
    np.testing.assert_array_equal(cached["company"].to_numpy(), fresh["company"])
    np.testing.assert_array_equal(cached["total"].to_numpy(), fresh["total"])


def test_nobody_can_change_what_the_next_session_reads(engine):
    lift = engine.lift(Scenario("s", (_lever(engine, 0.2),)))
    with pytest.raises(ValueError):
        lift["company"].values[0] = 99.0
    lift["extra"] = ("sample",), lift["company"].to_numpy() + 1  # new arrays are fine
    again = engine.lift(Scenario("s", (_lever(engine, 0.2),)))
    assert "extra" not in again


def test_different_questions_never_share_an_entry(engine):
    engine.cache.clear()
    channel = engine.channels[0]
    scenarios = [
        Scenario("a", (_lever(engine, 0.5),)),
        Scenario("b", (_lever(engine, 0.25),)),
        Scenario("c", (_lever(engine, 0.5, (channel,)),)),
        Scenario("d", (_lever(engine, 0.5),), year=engine.years[0]),
    ]
    companies = [engine.lift(s)["company"].to_numpy() for s in scenarios]
    assert len(engine.cache) == len(scenarios)
    keys = {scenario_key(s, engine.scenario_year(s)) for s in scenarios}
    assert len(keys) == len(scenarios)
    for i in range(len(companies)):
        for j in range(i + 1, len(companies)):
            assert not np.array_equal(companies[i], companies[j])


def test_different_models_never_share_an_entry(tiny_model):
    # the next year's forecast depends on the model's random-walk step: two engines that differ
    # there answer the same question differently, each from its own cache
    one, other = ScenarioEngine(tiny_model, seed=0), ScenarioEngine(tiny_model, seed=1)
    scenario = Scenario("s", (Lever(one.influencers[0], "influencer", "shift", 0.5, None),))
    a, b = one.lift(scenario), other.lift(scenario)
    assert one.cache is not other.cache
    assert not np.array_equal(a["company"].to_numpy(), b["company"].to_numpy())
    np.testing.assert_array_equal(other.lift(scenario)["company"].to_numpy(), b["company"])


def test_the_cache_forgets_the_least_recently_used_within_its_bytes():
    cache = ScenarioCache(max_bytes=3 * 800)
    arrays = {f"k{i}": {"x": np.full(100, float(i)), "warnings": ["w"]} for i in range(5)}
    for key in ("k0", "k1", "k2"):
        cache.put(key, arrays[key])
    assert cache.get("k0")["x"][0] == 0.0  # k0 used last: k1 goes first
    cache.put("k3", arrays["k3"])
    assert cache.get("k1") is None
    assert cache.get("k0") is not None and cache.get("k3") is not None
    assert cache.nbytes <= cache.max_bytes and len(cache) == 3
    assert cache.get("k3")["warnings"] == ["w"]
    cache.put("huge", {"x": np.zeros(10_000)})  # larger than the whole cache: not kept
    assert cache.get("huge") is None and len(cache) == 3


def test_a_scenario_key_ignores_names_and_keeps_lever_order():
    a = Lever("x", "influencer", "cap", 3, None)
    b = Lever("y", "driver", "shift", 0.5, ("web",))
    assert scenario_key(Scenario("one", (a, b)), 2025) == scenario_key(
        Scenario("two", (a, b), description="other words"), 2025
    )
    assert scenario_key(Scenario("one", (a, b)), 2025) != scenario_key(
        Scenario("one", (b, a)), 2025
    )
    assert scenario_key(Scenario("one", (a,)), 2025) != scenario_key(Scenario("one", (a,)), 2024)
    same_value = dataclasses.replace(a, value=3.0)
    assert scenario_key(Scenario("one", (a,)), 2025) == scenario_key(
        Scenario("one", (same_value,)), 2025
    )


def test_looking_up_several_tables_at_once_gives_the_same_numbers_as_one_by_one():
    rng = np.random.default_rng(5)
    grid = shift_grid((0.0, 10.0))
    tables = {name: rng.normal(size=(40, len(grid))) for name in ("mean", "top_box", "bottom")}
    shifts = rng.normal(scale=4.0, size=(30, 40))
    shifts[0, :3] = [-50.0, 50.0, grid[0]]  # beyond the grid at both ends, and on its edge
    together = look_up_many(tables, grid, shifts)
    for name, table in tables.items():
        np.testing.assert_array_equal(together[name], look_up(table, grid, shifts))
    step = grid[1] - grid[0]
    position = (shifts[1, 5] - grid[0]) / step
    i = int(position)
    expected = tables["mean"][5, i] + (tables["mean"][5, i + 1] - tables["mean"][5, i]) * (
        position - i
    )
    assert together["mean"][1, 5] == pytest.approx(expected, rel=1e-12)


def test_looking_up_some_rows_is_looking_up_those_rows_tables():
    rng = np.random.default_rng(6)
    grid = shift_grid((1.0, 5.0))
    tables = {name: rng.normal(size=(40, len(grid))) for name in ("mean", "top_box")}
    rows = np.array([3, 0, 17, 39])
    shifts = rng.normal(scale=2.0, size=(30, len(rows)))
    some = look_up_many(tables, grid, shifts, rows)
    for name, table in tables.items():
        np.testing.assert_array_equal(some[name], look_up(table[rows], grid, shifts))
        np.testing.assert_array_equal(some[name], look_up(table, grid, shifts, rows))
    assert look_up_many(tables, grid, shifts[:, :0], rows[:0])["mean"].shape == (30, 0)


def test_summing_look_ups_is_summing_the_respondents_values():
    """The weighted sums per draw equal those of each respondent's looked-up values, with one
    weight per respondent or one per draw and respondent, for all rows or some of them."""
    rng = np.random.default_rng(8)
    grid = shift_grid((0.0, 10.0))
    tables = {name: rng.normal(size=(40, len(grid))) for name in ("mean", "top_box")}
    rows = np.array([3, 0, 17, 39, 17])
    for some in (None, rows):
        m = 40 if some is None else len(rows)
        shifts = rng.normal(scale=3.0, size=(30, m))
        shifts[0, :2] = [-50.0, 50.0]  # beyond the grid at both ends
        values = look_up_many(tables, grid, shifts, some)
        for weights in (rng.random(m), rng.random((30, m))):
            sums = look_up_sums(tables, grid, shifts, weights, some)
            for name, value in values.items():
                expected = (value * weights).sum(axis=1)
                np.testing.assert_allclose(sums[name], expected, rtol=1e-12, atol=1e-12)


def test_looking_up_a_shift_every_respondent_shares_is_looking_it_up_one_by_one():
    """One small matrix product (the draws' interpolation weights times the table's columns)
    gives each respondent's look-up, at shifts near zero, far apart, and beyond the grid."""
    rng = np.random.default_rng(7)
    grid = shift_grid((0.0, 10.0))
    table = rng.normal(size=(40, len(grid)))
    rows = np.array([39, 2, 2, 11])
    for shifts in (
        rng.normal(scale=0.01, size=30),
        rng.normal(scale=3.0, size=30),
        np.array([-50.0, 50.0, grid[0], grid[-1], 0.0]),
    ):
        every = np.repeat(shifts[:, None], table.shape[0], axis=1)
        np.testing.assert_allclose(
            look_up_shared(table, grid, shifts), look_up(table, grid, every), rtol=0, atol=1e-12
        )
        np.testing.assert_allclose(
            look_up_shared(table, grid, shifts, rows),
            look_up(table, grid, every[:, : len(rows)], rows),
            rtol=0,
            atol=1e-12,
        )
        first, weights = interpolation_weights(grid, shifts)
        np.testing.assert_allclose(weights.sum(axis=1), 1.0)
        assert first >= 0 and first + weights.shape[1] <= len(grid)


def test_respondents_with_the_same_changes_are_put_side_by_side():
    rng = np.random.default_rng(8)
    n = MIN_ALIKE
    fixed = np.zeros((3 * n + 5, 2))
    flipped = np.zeros_like(fixed)
    fixed[:n, 0] = -2.0  # a group: above a cap
    fixed[n : 2 * n, 0] = 0.01  # a group: below it (a common correction)
    flipped[2 * n : 3 * n, 1] = 1.0  # a group: could gain a yes/no KPI
    fixed[3 * n :, 0] = rng.normal(size=5)  # too few alike: one by one
    shuffle = rng.permutation(len(fixed))
    fixed, flipped = fixed[shuffle], flipped[shuffle]
    order, groups = alike_respondents(fixed, flipped)
    assert [g.stop - g.start for g in groups] == [n, n, n]
    assert groups[-1].stop == 3 * n and sorted(order) == list(range(len(fixed)))
    both = np.hstack([fixed, flipped])[order]
    for group in groups:
        assert (both[group] == both[group.start]).all()
    rest = {tuple(row) for row in both[3 * n :]}
    assert len(rest) == 5
    assert alike_respondents(
        fixed[: n - 1] * 0 + rng.normal(size=(n - 1, 2)), flipped[: n - 1]
    ) == (
        None,
        [],
    )
    assert alike_respondents(fixed[:0], flipped[:0]) == (None, [])
