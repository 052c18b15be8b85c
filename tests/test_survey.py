"""Loading and validating survey files: CSV and Parquet, items, applicability, every error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from whatif.cli import app
from whatif.data.spec import parse_spec
from whatif.data.survey import load_survey, validate_frame
from whatif.errors import DataError

SPEC = {
    "survey": {"outcome": "sat", "channel": "channel", "year": "year", "weight": "w"},
    "drivers": {"speed": {"column": "q_speed"}, "trust": {"items": ["t1", "t2"]}},
    "influencers": {
        "transfers": {"column": "transfers", "kind": "count"},
        "outage": {"column": "outage", "kind": "binary"},
    },
}


def make_frame(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "channel": np.repeat(["web", "phone"], n // 2),
            "year": np.tile([2024, 2025], n // 2),
            "sat": rng.integers(1, 11, n).astype(float),
            "q_speed": rng.integers(1, 11, n).astype(float),
            "t1": rng.integers(1, 11, n).astype(float),
            "t2": rng.integers(1, 11, n).astype(float),
            "transfers": rng.integers(0, 4, n).astype(float),
            "outage": rng.choice(["yes", "no"], n),
            "w": rng.uniform(0.5, 2, n),
        }
    )
    frame.loc[frame["channel"] == "web", "transfers"] = np.nan  # not measured on the web
    # the two trust items measure one thing (else whatif check warns that they do not)
    frame["t2"] = ((2 * frame["t1"] + frame["t2"]) / 3).round()
    return frame


@pytest.fixture
def spec():
    return parse_spec(SPEC, source="spec.toml")


def problems(frame, spec) -> str:
    with pytest.raises(DataError) as info:
        validate_frame(frame, spec, source="survey.csv")
    return str(info.value)


def test_valid_frame_gives_normalized_columns(spec):
    survey = validate_frame(make_frame(), spec)
    assert list(survey.frame.columns) == [
        "channel",
        "year",
        "weight",
        "outcome",
        "speed",
        "trust",
        "transfers",
        "outage",
    ]
    assert set(survey.frame["outage"].unique()) <= {0.0, 1.0}
    assert survey.channels == ["phone", "web"] and survey.years == [2024, 2025]


def test_driver_from_items_is_their_mean_ignoring_a_missing_item(spec):
    frame = make_frame()
    frame.loc[0, "t2"] = np.nan
    survey = validate_frame(frame, spec)
    assert survey.frame.loc[0, "trust"] == frame.loc[0, "t1"]
    assert survey.frame.loc[1, "trust"] == pytest.approx(
        (frame.loc[1, "t1"] + frame.loc[1, "t2"]) / 2
    )


def test_an_empty_column_in_a_channel_means_not_measured_there(spec):
    survey = validate_frame(make_frame(), spec)
    assert not survey.influencer_measured.loc["web", "transfers"]
    assert survey.influencer_measured.loc["phone", "transfers"]
    assert survey.driver_measured.all().all()
    profile = survey.profile()
    assert "transfers" not in profile["measured_influencers"]["web"]


def test_rows_with_missing_outcome_are_dropped_and_counted(spec):
    frame = make_frame()
    frame.loc[[3, 7, 9], "sat"] = np.nan
    survey = validate_frame(frame, spec)
    assert survey.dropped_missing_outcome == 3
    assert len(survey.frame) == len(frame) - 3


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda f: f.assign(sat=f["sat"].where(f.index != 5, 11.0)),
            "column 'sat': 1 row with a value outside the rating scale [1, 10], e.g. row 6 has 11.0",
        ),
        (
            lambda f: f.assign(q_speed=f["q_speed"].astype(object).where(f.index != 2, "fast")),
            "column 'q_speed': 1 row with a value that is not a number, e.g. row 3 has 'fast'",
        ),
        (
            lambda f: f.assign(year=f["year"].astype(float).where(f.index != 4, 2024.5)),
            "column 'year': 1 row with a year that is not a whole number, e.g. row 5",
        ),
        (
            lambda f: f.assign(transfers=f["transfers"].where(f.index != 200, -1.0)),
            "column 'transfers': 1 row with a negative count, e.g. row 201 has -1.0",
        ),
        (
            lambda f: f.assign(outage=f["outage"].where(f.index != 8, "maybe")),
            "column 'outage': 1 row with a value that is not binary, e.g. row 9 has 'maybe'",
        ),
        (
            lambda f: f.assign(w=f["w"].where(f.index != 1, -2.0)),
            "column 'w': 1 row with a missing or non-positive weight",
        ),
        (
            lambda f: f.drop(columns=["q_speed"]),
            "column 'q_speed' named in the spec spec.toml is missing",
        ),
        (
            lambda f: f.rename(columns={"t1": "t_1"}),
            "column 't1' named in the spec spec.toml is missing from the file (did you mean 't_1'?)",
        ),
        (lambda f: f.iloc[:40], "has only"),
    ],
)
def test_each_data_error_names_column_count_and_example(spec, mutate, expected):
    message = problems(mutate(make_frame()), spec)
    assert expected in message
    assert message.startswith("survey.csv: ")


def test_small_group_error_says_how_many_are_needed(spec):
    frame = make_frame()
    frame = pd.concat([frame, frame.iloc[:5].assign(year=2023)], ignore_index=True)
    message = problems(frame, spec)
    assert "year 2023 has only" in message and "at least 30 are needed" in message


def test_all_problems_reported_at_once(spec):
    frame = make_frame()
    frame.loc[5, "sat"] = 12
    frame.loc[8, "outage"] = "maybe"
    frame.loc[200, "transfers"] = -3
    assert len(problems(frame, spec).splitlines()) == 3


def test_csv_and_parquet_load_the_same(tmp_path, spec):
    frame = make_frame()
    frame.to_csv(tmp_path / "s.csv", index=False)
    frame.to_parquet(tmp_path / "s.parquet")
    a = load_survey(tmp_path / "s.csv", spec)
    b = load_survey(tmp_path / "s.parquet", spec)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.fingerprint and a.fingerprint != b.fingerprint  # different bytes, different identity


def test_unreadable_empty_and_missing_files(tmp_path, spec):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("sat,q_speed\n")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    (tmp_path / "data.xlsx").write_bytes(b"x")
    (tmp_path / "data.json").write_bytes(b"{}")
    for name, expected in [
        ("empty.csv", "the file is empty"),
        ("header.csv", "has a header but no rows"),
        ("bad.parquet", "cannot read the file"),
        ("data.xlsx", "cannot read the file .* is it a valid Excel .xlsx file"),
        ("data.json", "unknown file type"),
        ("missing.csv", "file not found"),
    ]:
        with pytest.raises(DataError, match=expected):
            load_survey(tmp_path / name, spec)


def test_check_command_prints_profile_on_demo(demo_paths):
    result = CliRunner().invoke(
        app, ["check", str(demo_paths["survey"]), "--spec", str(demo_paths["spec"])]
    )
    assert result.exit_code == 0, result.output
    assert "Responses per channel and year" in result.output
    assert "ivr_self_service" in result.output and "OK: the data fit the spec." in result.output


def test_check_command_fails_cleanly_on_broken_file(tmp_path, spec):
    frame = make_frame()
    frame.loc[5, "sat"] = 42
    frame.loc[8, "outage"] = "maybe"
    frame.to_csv(tmp_path / "broken.csv", index=False)
    (tmp_path / "spec.toml").write_text(spec.to_toml())
    result = CliRunner().invoke(
        app, ["check", str(tmp_path / "broken.csv"), "--spec", str(tmp_path / "spec.toml")]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(lines) == 2
    assert any("column 'sat'" in line for line in lines) and any(
        "column 'outage'" in line for line in lines
    )


def test_check_command_reports_a_bad_spec(tmp_path):
    (tmp_path / "spec.toml").write_text('[survey]\noutcom = "y"\n[drivers.a]\ncolumn = "a"\n')
    (tmp_path / "d.csv").write_text("y,a\n1,2\n")
    result = CliRunner().invoke(
        app, ["check", str(tmp_path / "d.csv"), "--spec", str(tmp_path / "spec.toml")]
    )
    assert result.exit_code == 2 and "did you mean 'outcome'?" in result.output
