"""The survey spec: parsing, defaults, round trip, and every error with its message."""

from __future__ import annotations

import tomllib

import pytest

from whatif.data.spec import load_spec, parse_spec
from whatif.errors import SpecError

GOOD = """
[survey]
outcome = "overall_sat"
channel = "channel"
year = "year"
weight = "w"

[drivers.timeliness]
column = "q_timely"
label = "Timeliness of resolution"

[drivers.trust]
items = ["q_trust1", "q_trust2"]

[influencers.ivr_prompts]
column = "ivr_prompts"
kind = "count"
better = "lower"

[channels.ivr]
label = "IVR"
volume = 0.3

[channels.web]
volume = 0.7
"""


def parse(text: str):
    return parse_spec(tomllib.loads(text), source="spec.toml")


def errors_of(text: str) -> str:
    with pytest.raises(SpecError) as info:
        parse(text)
    return str(info.value)


def test_good_spec_parses_with_defaults():
    spec = parse(GOOD)
    assert spec.outcome == "overall_sat"
    assert spec.scale == (1.0, 10.0)
    assert spec.driver_ids == ["timeliness", "trust"]
    assert spec.driver("trust").columns == ("q_trust1", "q_trust2")
    assert spec.driver("trust").is_item_mean
    assert spec.influencer("ivr_prompts").kind == "count"
    assert spec.channels["ivr"].volume == 0.3
    assert spec.label_of("timeliness") == "Timeliness of resolution"
    assert spec.label_of("web") == "web"


def test_spec_round_trips_through_toml(tmp_path):
    spec = parse(GOOD)
    path = tmp_path / "spec.toml"
    path.write_text(spec.to_toml())
    again = load_spec(path)
    assert again.to_dict() == spec.to_dict()


def test_minimal_spec_means_one_channel_one_period():
    spec = parse('[survey]\noutcome = "y"\n[drivers.a]\ncolumn = "a"\n')
    assert spec.channel is None and spec.year is None and spec.weight is None
    assert spec.influencers == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace('outcome = "overall_sat"', 'outcom = "overall_sat"'),
            "unknown key 'survey.outcom' (did you mean 'outcome'?)",
        ),
        (
            GOOD.replace('kind = "count"', 'kind = "cont"'),
            "'influencers.ivr_prompts.kind' is 'cont' (did you mean 'count'?)",
        ),
        (GOOD.replace('better = "lower"', 'better = "less"'), "use 'lower' or 'higher'"),
        (
            GOOD.replace('label = "Timeliness of resolution"', 'lable = "x"'),
            "unknown key 'drivers.timeliness.lable' (did you mean 'label'?)",
        ),
        (GOOD + "\n[extras]\nx = 1\n", "unknown key 'extras'"),
        ('[drivers.a]\ncolumn = "a"\n', "missing [survey] table"),
        ('[survey]\nchannel = "c"\n[drivers.a]\ncolumn = "a"\n', "'survey.outcome' is required"),
        ('[survey]\noutcome = "y"\n', "no drivers"),
        (
            '[survey]\noutcome = "y"\nscale = [10, 1]\n[drivers.a]\ncolumn = "a"\n',
            "'survey.scale' must be [low, high]",
        ),
        (
            '[survey]\noutcome = "y"\n[drivers.a]\ncolumn = "a"\nitems = ["b"]\n',
            "needs exactly one of column",
        ),
        ('[survey]\noutcome = "y"\n[drivers.a]\nitems = []\n', "must be a non-empty list"),
        (
            '[survey]\noutcome = "y"\n[drivers.a]\ncolumn = "y"\n',
            "column 'y' is used more than once (survey.outcome, drivers.a)",
        ),
        (
            '[survey]\noutcome = "y"\n[drivers.a]\ncolumn = "a"\n[influencers.a]\ncolumn = "b"\n',
            "'a' is both a driver and an influencer",
        ),
        (
            GOOD.replace("volume = 0.7", "volume = -1"),
            "'channels.web.volume' must be a positive share",
        ),
        (GOOD.replace("volume = 0.7\n", ""), "volume is given for some channels but not for web"),
    ],
)
def test_each_error_names_the_key_and_the_fix(text, expected):
    assert expected in errors_of(text)


def test_all_problems_are_reported_at_once():
    text = GOOD.replace('kind = "count"', 'kind = "cont"').replace("volume = 0.7", "volume = -1")
    message = errors_of(text)
    assert "kind" in message and "volume" in message
    assert len(message.splitlines()) >= 2
    assert all(line.startswith("spec.toml: ") for line in message.splitlines())


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[survey\noutcome = 1")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)


# -- driver paths --------------------------------------------------------------------------------

PATHS = """
[survey]
outcome = "y"

[drivers.attention]
column = "a"

[drivers.trust]
column = "t"
depends_on = ["attention"]

[drivers.speed]
column = "s"
depends_on = ["trust", "attention"]

[influencers.wait]
column = "w"
"""

#: SHA-256 of the demo spec's TOML as written before driver paths existed, when its outcome was
#: overall satisfaction on 1-10 (a spec without ``depends_on`` keeps its TOML, so its data
#: fingerprint, byte for byte).
DEMO_SPEC_TOML_SHA256 = "1dd5dd595cc391db435a5607a52b911f01662b0b2ab6ef0e11a8981b59d145be"


def test_paths_parse_in_spec_order_and_round_trip(tmp_path):
    spec = parse(PATHS)
    assert spec.paths == (("trust", "attention"), ("speed", "trust"), ("speed", "attention"))
    assert spec.driver("speed").depends_on == ("trust", "attention")
    path = tmp_path / "spec.toml"
    path.write_text(spec.to_toml())
    again = load_spec(path)
    assert again.paths == spec.paths and again.to_dict() == spec.to_dict()


def test_a_spec_without_paths_keeps_its_toml(demo_paths):
    import dataclasses
    import hashlib

    spec = load_spec(demo_paths["spec"])
    assert spec.paths == (("trust", "attention"), ("trust", "knowledge"))
    # The demo spec less its paths (and with the outcome it had then) is the demo spec from
    # before paths.
    drivers = tuple(dataclasses.replace(d, depends_on=()) for d in spec.drivers)
    spec = dataclasses.replace(spec, drivers=drivers, outcome="overall_sat", scale=(1.0, 10.0))
    assert spec.paths == () and "depends_on" not in spec.to_toml()
    assert hashlib.sha256(spec.to_toml().encode()).hexdigest() == DEMO_SPEC_TOML_SHA256
    assert "depends_on" not in parse(GOOD).to_toml()


def _with_depends(**depends: str) -> str:
    text = PATHS.replace('depends_on = ["attention"]\n', "").replace(
        'depends_on = ["trust", "attention"]\n', ""
    )
    for driver, value in depends.items():
        text = text.replace(f"[drivers.{driver}]\n", f"[drivers.{driver}]\ndepends_on = {value}\n")
    return text


@pytest.mark.parametrize(
    ("depends", "expected"),
    [
        (
            {"trust": '["attention"]', "attention": '["trust"]'},
            "spec.toml: 'drivers.attention.depends_on' closes a cycle of paths: "
            "attention -> trust -> attention; paths must not lead back to where they start",
        ),
        (
            {"trust": '["attention"]', "speed": '["trust"]', "attention": '["speed"]'},
            "closes a cycle of paths: attention -> trust -> speed -> attention;",
        ),
        (
            {"trust": '["trust"]'},
            "spec.toml: 'drivers.trust.depends_on' names 'trust' itself; a driver cannot move "
            "itself",
        ),
        (
            {"trust": '["atention"]'},
            "spec.toml: 'drivers.trust.depends_on' names 'atention', not a driver (did you mean "
            "'attention'?); drivers: attention, trust, speed",
        ),
        ({"trust": '["wait"]'}, "'drivers.trust.depends_on' names 'wait', an influencer"),
        ({"trust": '"attention"'}, "'drivers.trust.depends_on' must be a list of driver ids"),
    ],
    ids=["cycle", "long-cycle", "self-loop", "unknown", "influencer", "not-a-list"],
)
def test_bad_paths_are_one_line_errors(depends, expected):
    message = errors_of(_with_depends(**depends))
    assert expected in message
    assert len(message.splitlines()) == 1, message


def test_path_order_puts_sources_first():
    from whatif.data.paths import path_order

    drivers = ["speed", "trust", "attention"]
    assert path_order(drivers, []) == drivers
    assert path_order(drivers, parse(PATHS).paths) == ["attention", "trust", "speed"]
    with pytest.raises(ValueError, match="cycle"):
        path_order(["a", "b"], [("a", "b"), ("b", "a")])
