"""Messy survey files, case by case: each builds its input, runs ``whatif check`` on it and states
what must happen: it works (with which notes and warnings, and no others), or it ends in which
one-line error with exit code 2 and no traceback. Then the Dask engine on the Parquet cases: the
same notes, the same errors and the same aggregates as pandas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from typer.testing import CliRunner

from whatif.cli import app
from whatif.data.aggregate import aggregate
from whatif.data.engine_dask import aggregate_parquet
from whatif.data.spec import load_spec
from whatif.data.survey import load_survey
from whatif.errors import DataError, SpecError, WhatifError

N = 400  # two channels x two years of 100 responses: enough for every term in every group


def survey_frame(seed: int = 0, scale: tuple[int, int] = (1, 10)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    low, high = scale
    frame = pd.DataFrame(
        {
            "channel": np.repeat(["web", "phone"], N // 2),
            "year": np.tile([2024, 2025], N // 2),
            "sat": rng.integers(low, high + 1, N).astype(float),
            "q_speed": rng.integers(low, high + 1, N).astype(float),
            "t1": rng.integers(low, high + 1, N).astype(float),
            "t2": rng.integers(low, high + 1, N).astype(float),
            "transfers": rng.poisson(2, N).astype(float),
            "wait": rng.lognormal(4, 0.5, N).round(1),
            "outage": rng.choice(["yes", "no"], N),
        }
    )
    # the two trust items measure one thing (else whatif check warns that they do not)
    frame["t2"] = ((2 * frame["t1"] + frame["t2"]) / 3).round()
    return frame


def survey_spec() -> dict:
    return {
        "survey": {"outcome": "sat", "channel": "channel", "year": "year"},
        "drivers": {"speed": {"column": "q_speed"}, "trust": {"items": ["t1", "t2"]}},
        "influencers": {
            "transfers": {"column": "transfers", "kind": "count"},
            "wait": {"column": "wait", "kind": "continuous"},
            "outage": {"column": "outage", "kind": "binary"},
        },
    }


# -- writers: how a case's frame becomes a file -------------------------------------------------


def write_sav(frame: pd.DataFrame, path: Path) -> None:
    """SPSS with channel codes 1/2 labeled, and 99 declared user-missing for the outcome."""
    import pyreadstat

    frame = frame.assign(channel=frame["channel"].map({"web": 1.0, "phone": 2.0}))
    pyreadstat.write_sav(
        frame,
        str(path),
        variable_value_labels={"channel": {1.0: "Web self-service", 2.0: "Phone"}},
        missing_ranges={"sat": [99]},
    )


def write_two_sheets(frame: pd.DataFrame, path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        frame.to_excel(book, sheet_name="data", index=False)
        pd.DataFrame({"about": ["exported from the survey tool"]}).to_excel(
            book, sheet_name="readme", index=False
        )


WRITERS: dict[str, tuple[str, Callable[[pd.DataFrame, Path], None]]] = {
    "csv": (".csv", lambda f, p: f.to_csv(p, index=False)),
    "semicolon": (".csv", lambda f, p: f.to_csv(p, index=False, sep=";")),
    "tab": (".tsv", lambda f, p: f.to_csv(p, index=False, sep="\t")),
    "pipe": (".txt", lambda f, p: f.to_csv(p, index=False, sep="|")),
    "cp1252": (".csv", lambda f, p: f.to_csv(p, index=False, sep=";", encoding="cp1252")),
    "bom": (".csv", lambda f, p: f.to_csv(p, index=False, encoding="utf-8-sig")),
    "parquet": (".parquet", lambda f, p: f.to_parquet(p, index=False)),
    "xlsx": (".xlsx", lambda f, p: f.to_excel(p, index=False)),
    "xlsx2": (".xlsx", write_two_sheets),
    "sav": (".sav", write_sav),
}


# -- the cases ----------------------------------------------------------------------------------


def at(rows, column: str, value) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """A data change: ``column`` set to ``value`` in ``rows``, a boolean mask maker or a label
    slice, which includes its end (``slice(0, 4)`` is five rows)."""

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        if not (isinstance(value, float | int) and pd.api.types.is_numeric_dtype(frame[column])):
            frame[column] = frame[column].astype(object)
        mask = rows(frame) if callable(rows) else rows
        frame.loc[mask, column] = value
        return frame

    return change


def chain(*changes):
    """Data changes one after the other."""

    def change(frame):
        for c in changes:
            frame = c(frame)
        return frame

    return change


def survey_keys(**keys):
    def change(spec):
        spec["survey"].update(keys)

    return change


def web(frame):
    return frame["channel"] == "web"


def both(*changes):
    """Spec changes one after the other."""

    def change(spec):
        for c in changes:
            c(spec)

    return change


def copy_driver(spec):
    spec["drivers"]["copy"] = {"column": "q_copy"}


def mix_driver(spec):
    spec["drivers"]["mix"] = {"column": "q_mix"}


def drop_channel(spec):
    del spec["survey"]["channel"]


def drop_year(spec):
    del spec["survey"]["year"]


def drivers_only(spec):
    del spec["influencers"]


def channels(table):
    def change(spec):
        spec["channels"] = table

    return change


def unicode_names(frame):
    """Non-ASCII column names (the outcome first, right after a byte-order mark) and channels."""
    frame = frame.rename(
        columns={"sat": "满意度", "q_speed": "Geschwindigkeit_ß", "t1": "Vertrauen 1"}
    ).assign(channel=frame["channel"].map({"web": "Web-Selbstbedienung", "phone": "Téléphone"}))
    return frame[["满意度", *[c for c in frame.columns if c != "满意度"]]]


def unicode_spec(spec):
    spec["survey"]["outcome"] = "满意度"
    spec["drivers"]["speed"]["column"] = "Geschwindigkeit_ß"
    spec["drivers"]["trust"]["items"] = ["Vertrauen 1", "t2"]


@dataclass
class Case:
    id: str
    data: Callable[[pd.DataFrame], pd.DataFrame] = lambda f: f
    spec: Callable[[dict], None] = lambda s: None
    fmt: str = "csv"
    notes: tuple[str, ...] = ()  # each in one note line; no other notes
    warnings: tuple[str, ...] = ()  # each in one warning line; no other warnings
    error: str | None = None  # in the one error line
    scale: tuple[int, int] = (1, 10)


CASES = [
    # 1. missing-value codes
    Case(
        "codes survey-wide: 99 on a 1-10 scale is missing, not out of scale",
        data=chain(
            at(slice(0, 4), "sat", 99.0),
            at(slice(5, 7), "q_speed", 98.0),
            at(slice(10, 13), "transfers", 99.0),
            at(slice(20, 21), "outage", 99),
            at(slice(30, 30), "t2", 98.0),
        ),
        spec=survey_keys(missing=[98, 99]),
        notes=(
            "15 values equal to a missing-value code of the spec are read as missing ('sat' 5, "
            "'q_speed' 3, 't2' 1, 'transfers' 4, 'outage' 2)",
        ),
    ),
    Case(
        "without codes 99 is an out-of-scale error",
        data=at(slice(0, 4), "sat", 99.0),
        error="column 'sat': 5 rows with a value outside the rating scale [1, 10], e.g. row 1 "
        "has 99.0; fix the values or set survey.scale",
    ),
    Case(
        "a column's own missing replaces the survey-wide codes",
        data=chain(at(slice(0, 2), "sat", 99.0), at(slice(3, 5), "wait", 99.0)),
        spec=both(
            survey_keys(missing=[99]),
            lambda s: s["influencers"]["wait"].update(missing=[]),
        ),
        notes=("3 values equal to a missing-value code of the spec are read as missing ('sat' 3)",),
    ),
    Case(
        "outcome_missing on a 1-5 scale",
        data=at(slice(0, 3), "sat", 9.0),
        spec=survey_keys(scale=[1, 5], outcome_missing=[9]),
        scale=(1, 5),
        notes=("4 values equal to a missing-value code of the spec are read as missing ('sat' 4)",),
    ),
    Case(
        "missing must be a list",
        spec=survey_keys(missing=99),
        error="'survey.missing' must be a list of numbers that mean 'no answer', e.g. [98, 99]; "
        "got 99",
    ),
    Case(
        "a driver's missing must hold numbers",
        spec=lambda s: s["drivers"]["speed"].update(missing=["DK"]),
        error="'drivers.speed.missing' must be a list of numbers",
    ),
    Case(
        "outcome_missing must hold numbers, not booleans",
        spec=survey_keys(outcome_missing=[True]),
        error="'survey.outcome_missing' must be a list of numbers",
    ),
    # 2. values far outside the bulk of an influencer
    Case(
        "a don't-know 99 among counts of 0-8 is warned about, per channel",
        data=at(lambda f: f.index.isin([0, 2, 4, 6, 8, 10]), "transfers", 99.0),
        warnings=(
            "column 'transfers', channel 'web': 6 responses at 99, far outside the rest of its "
            "values (middle half 1 to 3); if it is a code for 'don't know', add missing = [99] "
            "to [influencers.transfers]",
        ),
    ),
    Case(
        "declared as missing, the 99 is a note and no warning",
        data=at(lambda f: f.index.isin([0, 2, 4, 6, 8, 10]), "transfers", 99.0),
        spec=lambda s: s["influencers"]["transfers"].update(missing=[99]),
        notes=("6 values equal to a missing-value code",),
    ),
    Case(
        "ordinary skewed counts and measurements are not warned about",
        data=lambda f: f.assign(
            transfers=np.random.default_rng(5).negative_binomial(0.5, 0.5 / 3.5, N).astype(float),
            wait=np.random.default_rng(6).lognormal(3, 1.5, N).round(1),
        ),
    ),
    Case(
        "a repeated 9999 among continuous waits is warned about",
        data=at(lambda f: f.index.isin([201, 203, 205]), "wait", 9999.0),
        warnings=("column 'wait', channel 'phone': 3 responses at 9999, far outside",),
    ),
    # 3. [channels] tables that do not fit the data
    Case(
        "a [channels] key that is not a channel of the data",
        spec=channels({"webb": {"label": "Web"}, "phone": {}}),
        error="[channels.webb] names a channel that is not in",
    ),
    Case(
        "volumes for only some channels",
        spec=channels({"web": {"volume": 0.6}}),
        error="[channels] gives volumes, but not for phone",
    ),
    Case(
        "[channels] without a channel column",
        spec=both(drop_channel, channels({"web": {"volume": 1.0}})),
        data=lambda f: f.drop(columns=["channel"]),
        error="[channels.web] is given but survey.channel is not",
    ),
    # 4. channel names that differ in case or spaces
    Case(
        "case and space variants are one channel, named by the most frequent spelling",
        data=chain(
            at(slice(0, 9), "channel", "Web"),
            at(slice(10, 12), "channel", " web "),
            at(slice(200, 204), "channel", "PHONE"),
        ),
        notes=(
            "column 'channel': channel names that differ only in case or spaces are read as one "
            "channel ('PHONE' -> 'phone'; ' web ', 'Web' -> 'web')",
        ),
    ),
    Case(
        "a [channels] key that matches up to case names the channel",
        data=lambda f: f.assign(channel=f["channel"].replace({"phone": "live  chat"})),
        spec=channels({"Web": {"label": "Web self-service"}, "live chat": {}}),
        notes=("('web' -> 'Web'; 'live  chat' -> 'live chat')",),
    ),
    # 5. a year column holding dates
    Case(
        "ISO date strings in the year column are calendar years",
        data=lambda f: f.assign(year=f["year"].map({2024: "2024-03-01", 2025: "2025-06-30"})),
        notes=(
            "column 'year': 400 dates are read as their calendar year (e.g. 2024-03-01 -> 2024)",
        ),
    ),
    Case(
        "Parquet datetimes in the year column are calendar years",
        data=lambda f: f.assign(year=pd.to_datetime(f["year"].astype(str) + "-01-15")),
        fmt="parquet",
        notes=("400 dates are read as their calendar year (e.g. 2024-01-15 -> 2024)",),
    ),
    Case(
        "anything else in the year column is an error with an example",
        data=at(slice(2, 2), "year", "FY24"),
        error="column 'year': 1 row with a year that is not a whole number, e.g. row 3 has "
        "'FY24'; write years as integers such as 2025 (or as dates such as 2025-03-01)",
    ),
    # 6. collinear drivers and constant influencers
    Case(
        "two identical driver columns",
        data=lambda f: f.assign(q_copy=f["q_speed"]),
        spec=copy_driver,
        warnings=(
            "channel 'phone': driver 'copy' is an exact linear function of 'speed' (perfectly "
            "collinear)",
            "channel 'web': driver 'copy' is an exact linear function of 'speed'",
        ),
    ),
    Case(
        "a driver that is a linear combination of two others, in one channel",
        data=lambda f: f.assign(
            q_mix=np.where(
                f["channel"] == "web", (f["q_speed"] + (f["t1"] + f["t2"]) / 2) / 2, f["t1"]
            )
        ),
        spec=mix_driver,
        warnings=(
            "channel 'web': driver 'mix' is an exact linear function of 'speed' and 'trust'",
        ),
    ),
    Case(
        "an influencer constant in one channel is not measured there",
        data=at(web, "outage", "no"),
        notes=(
            "channel 'web': 'outage' is always 0; an influencer that never varies in a channel is "
            "treated as not measured there",
        ),
    ),
    Case(
        "an influencer constant in every channel is an error",
        data=lambda f: f.assign(outage="no"),
        error="'outage' takes one value in every channel where it is answered",
    ),
    # 7. CSV dialects and encodings
    Case("semicolons", fmt="semicolon", notes=("read as semicolon-separated (detected)",)),
    Case("tabs", fmt="tab", notes=("read as tab-separated (detected)",)),
    Case("pipes", fmt="pipe", notes=("read as pipe-separated (detected)",)),
    Case("a separator given in the spec", fmt="semicolon", spec=survey_keys(separator=";")),
    Case(
        "a wrong separator in the spec",
        fmt="semicolon",
        spec=survey_keys(separator=","),
        error="none of the 9 columns named in the spec",
    ),
    Case(
        "Windows-1252 with accented names and channels",
        fmt="cp1252",
        data=lambda f: f.rename(columns={"q_speed": "Qualität"}).assign(
            channel=f["channel"].map({"web": "Selbstbedienung", "phone": "Bürgertelefon"})
        ),
        spec=lambda s: s["drivers"]["speed"].update(column="Qualität"),
        notes=(
            "read as semicolon-separated",
            "not UTF-8 text, read as Windows-1252; set [survey] encoding",
        ),
    ),
    Case(
        "Windows-1252 declared in the spec",
        fmt="cp1252",
        data=lambda f: f.rename(columns={"q_speed": "Qualität"}),
        spec=both(
            survey_keys(separator=";", encoding="cp1252"),
            lambda s: s["drivers"]["speed"].update(column="Qualität"),
        ),
    ),
    Case(
        "UTF-8 declared for a Windows-1252 file",
        fmt="cp1252",
        data=lambda f: f.rename(columns={"q_speed": "Qualität"}),
        spec=survey_keys(encoding="utf-8"),
        error="cannot decode the file as utf-8",
    ),
    Case(
        "an unknown encoding name",
        spec=survey_keys(encoding="utf9"),
        error="'survey.encoding' is 'utf9', not a known text encoding",
    ),
    Case(
        "UTF-8 with a byte-order mark before a non-ASCII first column",
        fmt="bom",
        data=unicode_names,
        spec=unicode_spec,
    ),
    # 8. Excel and SPSS
    Case("Excel", fmt="xlsx"),
    Case(
        "Excel dates as years",
        fmt="xlsx",
        data=lambda f: f.assign(year=pd.to_datetime(f["year"].astype(str) + "-07-01")),
        notes=("400 dates are read as their calendar year (e.g. 2024-07-01 -> 2024)",),
    ),
    Case("Excel, the first of two sheets", fmt="xlsx2", notes=("read the first of 2 sheets",)),
    Case("Excel, a sheet by name", fmt="xlsx2", spec=survey_keys(sheet="data")),
    Case(
        "Excel, a sheet that is not there",
        fmt="xlsx2",
        spec=survey_keys(sheet="Daten"),
        error="'survey.sheet' is 'Daten', not a sheet of",
    ),
    Case(
        "SPSS: declared missing values and channel labels",
        fmt="sav",
        data=at(slice(0, 2), "sat", 99.0),
        spec=channels({"web_self_service": {"label": "Web self-service"}, "phone": {}}),
        notes=(
            "3 values declared missing in the SPSS file are read as missing ('sat' 3)",
            "column 'channel': channel ids come from the SPSS value labels (1 'Web self-service' "
            "-> web_self_service, 2 'Phone' -> phone)",
        ),
    ),
    # 9. shapes that are unusual but valid
    Case("a 1-5 scale", spec=survey_keys(scale=[1, 5]), scale=(1, 5)),
    Case("a 0-10 scale", spec=survey_keys(scale=[0, 10]), scale=(0, 10)),
    Case("unicode column and channel names", data=unicode_names, spec=unicode_spec),
    Case("no channel column", data=lambda f: f.drop(columns=["channel"]), spec=drop_channel),
    Case("no year column", data=lambda f: f.drop(columns=["year"]), spec=drop_year),
    Case(
        "drivers only",
        data=lambda f: f.drop(columns=["transfers", "wait", "outage"]),
        spec=drivers_only,
    ),
]


def build(case: Case, folder: Path) -> tuple[Path, Path]:
    frame = case.data(survey_frame(scale=case.scale))
    spec = survey_spec()
    case.spec(spec)
    suffix, writer = WRITERS[case.fmt]
    data = folder / f"survey{suffix}"
    writer(frame, data)
    spec_path = folder / "spec.toml"
    spec_path.write_text(tomli_w.dumps(spec), encoding="utf-8")
    return data, spec_path


def run_check(data: Path, spec: Path):
    result = CliRunner().invoke(app, ["check", str(data), "--spec", str(spec)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def lines(output: str, prefix: str) -> list[str]:
    return [line[len(prefix) :] for line in output.splitlines() if line.startswith(prefix)]


def assert_each_once(expected: tuple[str, ...], found: list[str], what: str, output: str) -> None:
    assert len(found) == len(expected), f"{what}: {found}\n{output}"
    for text in expected:
        assert sum(text in line for line in found) == 1, f"{what} {text!r} not in {found}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_check(case: Case, tmp_path):
    data, spec = build(case, tmp_path)
    result = run_check(data, spec)
    if case.error:
        assert result.exit_code == 2, result.output
        errors = lines(result.output, "error: ")
        assert len(errors) == 1 and case.error in errors[0], result.output
        return
    assert result.exit_code == 0, result.output
    assert_each_once(case.notes, lines(result.output, "note: "), "notes", result.output)
    assert_each_once(case.warnings, lines(result.output, "warning: "), "warnings", result.output)
    assert "OK: the data fit the spec" in result.output


# -- what the notes stand for -----------------------------------------------------------------


def load(tmp_path: Path, data=lambda f: f, spec=lambda s: None, fmt="csv", scale=(1, 10)):
    return load_survey(*build(Case("load", data=data, spec=spec, fmt=fmt, scale=scale), tmp_path))


def test_codes_become_missing_and_a_column_can_keep_them(tmp_path):
    survey = load(
        tmp_path,
        data=chain(at(slice(0, 1), "sat", 99.0), at(slice(3, 4), "wait", 99.0)),
        spec=both(survey_keys(missing=[99]), lambda s: s["influencers"]["wait"].update(missing=[])),
    )
    assert survey.dropped_missing_outcome == 2
    assert (survey.frame["wait"] == 99.0).sum() == 2


def test_merged_channels_and_spec_key_names(tmp_path):
    survey = load(
        tmp_path,
        data=chain(at(slice(0, 9), "channel", "WEB "), at(slice(200, 210), "channel", "Phone")),
        spec=channels({"Phone": {"volume": 0.4}, "web": {"volume": 0.6}}),
    )
    assert survey.channels == ["Phone", "web"]
    assert survey.profile()["counts"].sum(axis=1).to_dict() == {"Phone": 200, "web": 200}


def test_constant_influencer_is_left_out_of_that_channel(tmp_path):
    survey = load(tmp_path, data=at(web, "outage", "no"))
    assert not survey.influencer_measured.loc["web", "outage"]
    assert survey.influencer_measured.loc["phone", "outage"]
    agg = aggregate(survey)
    assert not bool(agg["influencer_measured"].sel(channel="web", influencer="outage"))
    assert float(abs(agg["cross"].sel(channel="web", term="outage")).max()) == 0.0


def test_years_from_dates_and_spss_channel_ids(tmp_path):
    survey = load(
        tmp_path,
        data=lambda f: f.assign(year=f["year"].map({2024: "2024-03-01", 2025: "2025-12-31"})),
    )
    assert survey.years == [2024, 2025]
    sav = tmp_path / "sav"
    sav.mkdir()
    survey = load(sav, fmt="sav")
    assert survey.channels == ["phone", "web_self_service"]


def test_spec_round_trips_the_new_keys():
    from whatif.data.spec import parse_spec

    raw = survey_spec()
    raw["survey"].update(
        missing=[98, 99], outcome_missing=[0], separator=";", encoding="cp1252", sheet="data"
    )
    raw["drivers"]["speed"]["missing"] = [97]
    raw["influencers"]["wait"]["missing"] = []
    spec = parse_spec(raw, source="spec.toml")
    assert parse_spec(spec.to_dict()).to_dict() == spec.to_dict()
    codes = spec.missing_codes()
    assert codes["sat"] == (0,) and codes["q_speed"] == (97,) and codes["t1"] == (98, 99)
    assert "wait" not in codes


def test_spec_without_new_keys_keeps_its_toml(tmp_path):
    """Fingerprints hash the spec's TOML: specs that do not use the new keys must not change."""
    from whatif.data.spec import parse_spec

    assert "missing" not in parse_spec(survey_spec()).to_toml()


def test_load_errors_are_project_errors(tmp_path):
    data, spec = build(Case("typo", spec=channels({"webb": {}, "phone": {}})), tmp_path)
    with pytest.raises(SpecError, match=r"\(did you mean 'web'\?\)"):
        load_survey(data, spec)
    data, spec = build(Case("year", data=at(slice(2, 2), "year", "FY24")), tmp_path)
    with pytest.raises(DataError):
        load_survey(data, spec)


# -- the Dask engine on the same data -----------------------------------------------------------


def lake(tmp_path: Path, frame: pd.DataFrame, spec: dict) -> tuple[Path, Path]:
    """Three uneven Parquet parts (zero-padded names: both engines read them in one order)."""
    folder = tmp_path / "lake"
    folder.mkdir()
    for i, (lo, hi) in enumerate([(0, 150), (150, 170), (170, N)]):
        frame.iloc[lo:hi].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(tomli_w.dumps(spec), encoding="utf-8")
    return folder, spec_path


def messy_lake(tmp_path: Path, spec_change=lambda s: None) -> tuple[Path, Path]:
    frame = chain(
        at(web, "outage", "no"),
        at(slice(0, 3), "sat", 99.0),
        at(slice(160, 165), "transfers", 98.0),
        # the first part has more "Web" than "web"; the whole dataset has more "web"
        at(slice(0, 80), "channel", "Web"),
        at(slice(380, 385), "channel", "PHONE "),
    )(survey_frame())
    frame["year"] = pd.to_datetime(frame["year"].astype(str) + "-06-01")
    spec = survey_spec()
    spec["survey"]["missing"] = [98, 99]
    spec_change(spec)
    return lake(tmp_path, frame, spec)


def test_dask_gives_the_pandas_notes_and_aggregates(tmp_path):
    folder, spec = messy_lake(tmp_path)
    survey = load_survey(folder, spec)
    got, profile = aggregate_parquet(folder, survey.spec)
    assert profile["notes"] == survey.notes
    assert len(survey.notes) == 4
    assert "('PHONE ' -> 'phone'; 'Web' -> 'web')" in survey.notes[2]
    assert "400 dates are read as their calendar year" in survey.notes[1]
    assert "'outage' is always 0" in survey.notes[3]
    want = aggregate(survey)
    assert list(got["channel"].to_numpy()) == list(want["channel"].to_numpy()) == ["phone", "web"]
    for name in ("n", "n_total", "driver_measured", "influencer_measured"):
        np.testing.assert_array_equal(got[name].to_numpy(), want[name].to_numpy(), err_msg=name)
    np.testing.assert_allclose(got["cross"].to_numpy(), want["cross"].to_numpy(), rtol=1e-9)


def test_dask_names_channels_after_the_spec_key(tmp_path):
    folder, spec = messy_lake(
        tmp_path, channels({"WEB": {"volume": 0.5}, "Phone": {"volume": 0.5}})
    )
    survey = load_survey(folder, spec)
    got, profile = aggregate_parquet(folder, survey.spec)
    assert profile["notes"] == survey.notes
    assert list(got["channel"].to_numpy()) == survey.channels == ["Phone", "WEB"]


@pytest.mark.parametrize(
    "spec_change",
    [
        channels({"webb": {}, "phone": {}}),
        channels({"web": {"volume": 0.5}}),
        survey_keys(outcome_missing=[]),  # 99 is out of scale again
    ],
    ids=["channel key typo", "volumes for some channels", "no outcome codes"],
)
def test_dask_gives_the_pandas_errors(tmp_path, spec_change):
    folder, spec = messy_lake(tmp_path, spec_change)
    with pytest.raises(WhatifError) as pandas_error:
        load_survey(folder, spec)
    with pytest.raises(WhatifError) as dask_error:
        aggregate_parquet(folder, load_spec(spec))
    assert type(dask_error.value) is type(pandas_error.value)
    assert dask_error.value.problems == pandas_error.value.problems


def test_dask_fit_logs_the_notes(tmp_path):
    from whatif.pipeline import _aggregate

    folder, spec = messy_lake(tmp_path)
    logged: list[str] = []
    _aggregate(folder, spec, "dask", None, logged.append)
    pandas_logged: list[str] = []
    _aggregate(folder, spec, "pandas", None, pandas_logged.append)
    assert [m for m in logged if m.startswith("note: ")] == [
        m for m in pandas_logged if m.startswith("note: ")
    ]
    assert len([m for m in logged if m.startswith("note: ")]) == 4


def outcome(run) -> tuple:
    """What a load gives: its notes, or the kind of error and its lines."""
    try:
        return ("notes", run())
    except WhatifError as err:
        return (type(err).__name__, err.problems)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.fmt in ("csv", "parquet")], ids=lambda c: c.id
)
def test_dask_matches_pandas_on_each_case(case: Case, tmp_path):
    """Every case that fits in Parquet, as a lake of three parts: the same notes or errors."""
    frame = case.data(survey_frame(scale=case.scale))
    for column in frame.select_dtypes(object).columns:  # Parquet wants one type per column
        frame[column] = frame[column].astype(str)
    spec = survey_spec()
    case.spec(spec)
    folder, spec_path = lake(tmp_path, frame, spec)
    pandas = outcome(lambda: load_survey(folder, spec_path).notes)
    dask = outcome(lambda: aggregate_parquet(folder, load_spec(spec_path))[1]["notes"])
    assert dask == pandas
    assert (pandas[0] == "notes") == (case.error is None)
