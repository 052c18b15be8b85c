"""Options files: what parses, and a one-line error naming the key for every mistake."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from whatif.analysis.options import (
    OptionsError,
    load_options,
    parse_options,
    validate_options,
)
from whatif.cli import app

GOOD = """
currency = "EUR"
[[option]]
name = "Cap i2"
influencer = "i2"
cap = [0, 1, 2]
cost = [90, 50, 20]
[[option]]
name = "Raise i1"
influencer = "i1"
channels = ["ch1"]
shift = [0.05, 0.1]
cost = [30, 70]
fixed_cost = 10
"""


def option(**keys) -> dict:
    base = {"name": "A", "influencer": "i2", "cap": [1, 2], "cost": [10, 5]}
    base.update(keys)
    return {key: value for key, value in base.items() if value is not None}


def test_a_good_file_parses_into_levers_and_costs(tmp_path):
    path = tmp_path / "options.toml"
    path.write_text(GOOD)
    options = load_options(path)
    assert options.currency == "EUR"
    cap, raise_ = options.options
    assert (cap.target, cap.operation, cap.settings, cap.costs) == (
        "i2",
        "cap",
        (0, 1, 2),
        (90, 50, 20),
    )
    assert raise_.channels == ("ch1",) and raise_.fixed_cost == 10 and raise_.cost(1) == 80
    assert parse_options(options.to_dict()) == options


def test_the_demo_options_fit_the_demo_spec(demo_paths):
    from whatif.data.spec import load_spec

    options = load_options(demo_paths["spec"].parent / "options.toml")
    spec = load_spec(demo_paths["spec"])
    assert len(options.options) == 10
    assert all(3 <= len(o.settings) <= 5 for o in options.options)
    known = set(spec.driver_ids) | {i.id for i in spec.influencers}
    assert all(o.target in known for o in options.options)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"currenc": "EUR", "option": [option()]},
            "unknown key 'currenc' (did you mean 'currency'?)",
        ),
        ({"option": []}, "no options"),
        (
            {"option": [option(costs=[1, 2])]},
            "option 1 'A': unknown key 'costs' (did you mean 'cost'?)",
        ),
        ({"option": [option(name=None)]}, "option 1: needs a name"),
        ({"option": [option(cap=None)]}, "option 1 'A': needs exactly one operation"),
        ({"option": [option(scale=[0.5])]}, "found scale, cap"),
        ({"option": [option(cost=[10, 5, 1])]}, "cap has 2 setting(s) but cost has 3"),
        ({"option": [option(cost=[10, -5])]}, "cost must be 0 or more, got [10, -5]"),
        ({"option": [option(cost=None)]}, "needs cost = [...]"),
        ({"option": [option(cost=["ten", 5])]}, "cost must be a number or a list of numbers"),
        ({"option": [option(fixed_cost=-1)]}, "fixed_cost must be 0 or more"),
        ({"option": [option(cap=[1, 1])]}, "lists a setting twice"),
        ({"option": [option(cap=None, share=[0.5, 1.5])]}, "share must be between 0 and 1"),
        ({"option": [option(cap=None, scale=[-1, 2])]}, "scale must be 0 or more"),
        ({"option": [option(), option(name="A")]}, "two options are named 'A'"),
        (
            {"option": [option(), option(name="B", channels=["ch1"])]},
            "options 'A' and 'B' both act on influencer 'i2' in ch1",
        ),
        (
            {"option": [option(channels=["ch2"]), option(name="B", channels=["ch2", "ch1"])]},
            "both act on influencer 'i2' in ch2",
        ),
    ],
)
def test_structural_mistakes_are_one_line_naming_the_key(raw, message):
    with pytest.raises(OptionsError) as err:
        parse_options(raw, source="options.toml")
    assert len(err.value.problems) >= 1
    assert any(message in p for p in err.value.problems), err.value.problems
    assert all("\n" not in p and p.startswith("options.toml") for p in err.value.problems)


def test_options_on_the_same_target_in_different_channels_are_fine():
    raw = {"option": [option(channels=["ch1"]), option(name="B", channels=["ch2"])]}
    assert len(parse_options(raw).options) == 2


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (option(influencer="i3"), "option 1 'A' (i3): unknown influencer (did you mean 'i2'?)"),
        (option(influencer="d1"), "'d1' is a driver"),
        (option(cap=[-1, 2]), "cap = -1 is below 0, but counts are 0 or more"),
        (option(influencer=None, driver="d1"), "drivers take shift, scale or set"),
        (option(cap=None, share=[0.2, 0.3]), "share applies to binary influencers only"),
        (
            option(channels=["ch9"]),
            "unknown channel 'ch9' (did you mean 'ch2'?); channels: ch1, ch2",
        ),
    ],
)
def test_model_mistakes_name_the_option_and_the_closest_valid_name(tiny_model, entry, message):
    options = parse_options({"option": [entry]}, source="options.toml")
    problems = validate_options(options, tiny_model.spec, tiny_model.aggregates)
    assert problems and all("\n" not in p for p in problems)
    assert any(message in p for p in problems), problems
    assert len(problems) == len(set(problems))


def test_cli_prints_one_line_and_exits_2(tiny_model_path, tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.toml"
    bad.write_text('[[option]]\nname = "A"\ninfluencer = "i2"\ncap = [1, 2]\ncost = [1]\n')
    missing = tmp_path / "missing.toml"
    broken = tmp_path / "broken.toml"
    broken.write_text("[[option]\n")
    cases = [
        (bad, "cap has 2 setting(s) but cost has 1"),
        (missing, "options file not found"),
        (broken, "not valid TOML"),
    ]
    for path, message in cases:
        result = runner.invoke(
            app, ["optimize", str(tiny_model_path), "--options", str(path), "--budget", "5"]
        )
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and message in lines[0], lines
