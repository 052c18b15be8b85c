"""The forecast brief: its figures are those of ``whatif simulate``, its HTML asks nothing of any
other host, its PDF is a real A4 document of one or two pages, a flagged fit carries a banner,
and bad arguments end in one clean line with exit code 2.

The model is conftest's tiny fit (2 channels x 3 years, fitted once per session); the demo
artefact under models/ may be refitted by others at any time, so it is not used here.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from whatif.analysis.engine import ScenarioEngine, summarize_lift
from whatif.analysis.results import Estimate, LiftSummary
from whatif.analysis.scenario import Lever, Scenario
from whatif.cli import app
from whatif.errors import WhatifError
from whatif.fitting.artefact import load_model, save_model
from whatif.report.brief import render_html, render_pdf, write_brief
from whatif.report.brief_content import build_brief, headline
from whatif.report.format import signed

MINUS = "\u2212"
BANNER = "failed its convergence checks"

# i1 is a binary influencer, i2 a count; d1 is a driver measured in both channels.
FEWER = Scenario(
    name="Fewer repeat contacts",
    description="Halve the count influencer everywhere.",
    levers=(Lever("i2", "influencer", "scale", 0.5),),
)
MIXED = Scenario(
    name="Share and driver",
    levers=(
        Lever("i1", "influencer", "share", 0.15, channels=("ch1",)),
        Lever("d1", "driver", "shift", 0.3),
    ),
    year=2022,
)
FEWER_TOML = """name = "Fewer repeat contacts"
description = "Halve the count influencer everywhere."
[[lever]]
influencer = "i2"
scale = 0.5
"""


@pytest.fixture(scope="module")
def fitted(tiny_model):
    """The session's tiny fit (conftest), reported on the survey's nominal 1-10 scale: conftest
    widens the spec's scale only so that unrounded simulated answers pass validation."""
    spec = dataclasses.replace(tiny_model.spec, scale=(1.0, 10.0))
    return dataclasses.replace(tiny_model, spec=spec, name="tiny")


def _with_passed(model, passed: bool):
    manifest = copy.deepcopy(model.manifest)
    manifest["diagnostics"]["passed"] = passed
    return dataclasses.replace(model, manifest=manifest)


@pytest.fixture(scope="module")
def healthy(fitted):
    return _with_passed(fitted, True)


@pytest.fixture(scope="module")
def flagged(fitted):
    return _with_passed(fitted, False)


@pytest.fixture(scope="module")
def healthy_html(healthy):
    return render_html(healthy, [FEWER], ci=0.9)


@pytest.fixture(scope="module")
def saved(flagged, tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    path = save_model(dataclasses.replace(flagged), folder / "tiny")
    scenario = folder / "fewer.toml"
    scenario.write_text(FEWER_TOML, encoding="utf-8")
    return path, scenario


class _Page(HTMLParser):
    """Collects every URL-bearing attribute, the visible text and the tags met."""

    URL_ATTRS = {
        "src",
        "href",
        "srcset",
        "action",
        "data",
        "poster",
        "background",
        "formaction",
        "xlink:href",
        "cite",
        "manifest",
    }

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("style", "script"):
            self._skip += 1
        for name, value in attrs:
            if name in self.URL_ATTRS:
                self.urls.append((tag, name, value or ""))

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", " ".join(_parse(html).text))


def _signed(value: float, digits: int = 3) -> str:
    return signed(value, digits)  # the shared formatter (tests/test_format.py holds it honest)


# -- content ------------------------------------------------------------------------------


def test_brief_figures_are_summarize_lift(healthy):
    brief = build_brief(healthy, [FEWER, MIXED], ci=0.8)
    engine = ScenarioEngine(healthy)
    for scenario, content in zip([FEWER, MIXED], brief["scenarios"], strict=True):
        expected = summarize_lift(engine.lift(scenario), 0.8, flagged=False).to_dict()
        assert content["summary"] == expected
        assert content["total"] == expected["total"]
        assert content["top_box"] == expected["top_box"]["total"]
        for row in content["channels"]:
            assert {k: row[k] for k in expected["channels"][row["id"]]} == expected["channels"][
                row["id"]
            ]
    assert brief["scenarios"][1]["year"] == 2022 and not brief["scenarios"][1]["forecast"]
    assert brief["scenarios"][0]["year"] == 2024 and brief["scenarios"][0]["forecast"]
    assert brief["comparison"] is not None
    assert brief["drivers"]["channels"], "the channels the levers act in have top drivers"
    assert brief["provenance"]["fingerprint"] == "tiny"
    assert brief["provenance"]["years"] == "2021\u20132023"


def test_brief_equals_the_simulate_command(saved):
    path, scenario = saved
    result = CliRunner().invoke(
        app, ["simulate", str(path), "--scenario", str(scenario), "--ci", "0.8", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    model = load_model(path)
    summary = build_brief(model, [FEWER], ci=0.8)["scenarios"][0]["summary"]
    assert printed["total"] == pytest.approx(summary["total"], abs=1e-12)
    assert printed["top_box"]["total"] == pytest.approx(summary["top_box"]["total"], abs=1e-12)
    for channel, entry in printed["channels"].items():
        assert entry["mean"] == pytest.approx(summary["channels"][channel]["mean"], abs=1e-12)
        assert entry["direct"] == pytest.approx(summary["channels"][channel]["direct"], abs=1e-12)


def test_html_shows_the_summarized_figures(healthy, healthy_html):
    html = healthy_html
    text = _text(html)
    summary = summarize_lift(ScenarioEngine(healthy).lift(FEWER), 0.9).to_dict()
    total = summary["total"]
    assert f"{_signed(total['lo'])} to {_signed(total['hi'])}" in text
    assert _signed(total["mean"]) in text
    for channel, entry in summary["channels"].items():
        for key in ("mean", "direct", "indirect"):
            assert _signed(entry[key]) in text, (channel, key)
        assert f"{_signed(entry['lo'])} to {_signed(entry['hi'])}" in text
    top = summary["top_box"]["total"]
    assert f"{_signed(100 * top['mean'], 1)} pp" in text
    # The headline sentence comes first, before any table, and names the scenario and its year.
    lead = re.search(r'<p class="headline lead">(.*?)</p>', html, re.S).group(1)
    assert html.index('class="headline lead"') < html.index("<table")
    assert "Fewer repeat contacts" in lead and "2024" in lead and "90% chance" in lead
    assert "IVR" not in text  # labels come from the model's spec, nothing is hard-wired
    assert "Influencer 2" in text and "x 0.5" in text  # Lever.describe with the spec's label


def test_html_is_self_contained(healthy):
    html = render_html(healthy, [FEWER, MIXED])
    page = _parse(html)
    assert page.urls, "the charts are images"
    for tag, name, value in page.urls:
        assert value.startswith(("data:", "#")), f"<{tag} {name}={value[:60]!r}> leaves the page"
    assert "link" not in page.tags and "script" not in page.tags
    assert not re.search(r"url\(|@import|@font-face", html), "CSS must not load anything"
    images = [v for tag, name, v in page.urls if tag == "img"]
    assert len(images) >= 5  # comparison, 2 x (channels, distribution), priority map
    for uri in images:
        assert uri.startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(uri.split(",", 1)[1]).decode("utf-8")
        hrefs = re.findall(r'href="([^"]*)"', svg)
        assert all(h.startswith("#") for h in hrefs), hrefs
        assert "<image" not in svg and "@import" not in svg


def test_flagged_fit_carries_a_banner_at_the_top(flagged, healthy_html):
    html = render_html(flagged, [FEWER])
    assert 'class="banner"' in html and BANNER in html
    assert html.index('class="banner"') < html.index('class="headline lead"')
    assert "Diagnostics failed" in html
    ok = healthy_html
    assert 'class="banner"' not in ok and BANNER not in ok
    assert "Diagnostics passed" in ok


def test_headline_reads_plainly():
    scale = {"label": "1\u201310", "top_box": "9 or 10"}
    summary = LiftSummary(
        scenario="Cut staff",
        year=2026,
        ci=0.9,
        total=Estimate(-0.05, -0.09, -0.01, 0.02),
        top_box=Estimate(-0.004, -0.01, 0.0),
        channels=(),
    )
    text = headline("Cut staff", summary, scale)
    assert text.startswith(
        "\u201cCut staff\u201d would lower average customer satisfaction by 0.050"
    )
    assert f"between {MINUS}0.090 and {MINUS}0.010" in text and "2%" in text
    assert "lower the share of customers who answer 9 or 10 by 0.4 percentage points" in text
    none = dataclasses.replace(summary, total=Estimate(0.0, 0.0, 0.0, 0.0))
    assert "unchanged" in headline("Nothing", none, scale)


# -- files ---------------------------------------------------------------------------------


def test_pdf_is_a_real_short_document(flagged):
    pdf = render_pdf(flagged, [FEWER])
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    first = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    assert "Fewer repeat contacts" in first and BANNER in first
    assert f"Page 1 of {len(reader.pages)}" in first


def test_pdf_of_several_scenarios(healthy, tmp_path):
    out = write_brief(healthy, [FEWER, MIXED], tmp_path / "two.pdf")
    reader = PdfReader(out)
    assert 2 <= len(reader.pages) <= 5
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "side by side" in text and "Share and driver" in text
    assert [p.name for p in tmp_path.iterdir()] == ["two.pdf"]


def test_write_brief_is_atomic_and_creates_the_folder(healthy, tmp_path):
    out = tmp_path / "briefs" / "fewer.html"
    assert write_brief(healthy, [FEWER], out) == out
    first = out.read_text(encoding="utf-8")
    assert first.startswith("<!DOCTYPE html>")
    out.write_text("old", encoding="utf-8")
    write_brief(healthy, [FEWER], out, ci=0.8)
    assert "80% intervals" in out.read_text(encoding="utf-8")
    assert [p.name for p in out.parent.iterdir()] == ["fewer.html"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("brief.docx", "written as .html or .pdf"),
        ("brief", "written as .html or .pdf"),
        ("blocker/brief.html", "cannot create the folder"),
    ],
)
def test_write_brief_refuses_bad_paths(healthy, tmp_path, name, message):
    (tmp_path / "blocker").write_text("a file where a folder should be", encoding="utf-8")
    with pytest.raises(WhatifError, match=re.escape(message)):
        write_brief(healthy, [FEWER], tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]


def test_build_brief_refuses_bad_input(healthy):
    with pytest.raises(WhatifError, match="between 0 and 1"):
        build_brief(healthy, [FEWER], ci=1.5)
    with pytest.raises(WhatifError, match="at least one scenario"):
        build_brief(healthy, [])
    bad = Scenario(name="Typo", levers=(Lever("i9", "influencer", "shift", 1.0),))
    with pytest.raises(WhatifError, match="unknown influencer"):
        build_brief(healthy, [bad])


# -- command line --------------------------------------------------------------------------


def test_cli_writes_a_brief(saved, tmp_path):
    path, scenario = saved
    out = tmp_path / "brief.html"
    result = CliRunner().invoke(
        app, ["brief", str(path), "--scenario", str(scenario), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.exists() and "Fewer repeat contacts" in out.read_text(encoding="utf-8")
    assert f"wrote {out}" in result.stderr
    assert "note: FLAGGED fit" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "missing.toml", "--out", "{tmp}/b.html"], "scenario file not found"),
        (["--scenario", "{scenario}", "--out", "{tmp}/blocker/b.pdf"], "cannot create the folder"),
        (["--scenario", "{scenario}", "--out", "{tmp}/b.docx"], "written as .html or .pdf"),
        (["--scenario", "{scenario}", "--out", "{tmp}/b.html", "--ci", "90"], "--ci must be"),
        (["--scenario", "{tmp}/typo.toml", "--out", "{tmp}/b.html"], "unknown influencer"),
    ],
)
def test_cli_errors_are_one_clean_line(saved, tmp_path, args, message):
    path, scenario = saved
    (tmp_path / "blocker").write_text("not a folder", encoding="utf-8")
    (tmp_path / "typo.toml").write_text(
        'name = "Typo"\n[[lever]]\ninfluencer = "i9"\nshift = 1\n', encoding="utf-8"
    )
    argv = ["brief", str(path)] + [a.format(tmp=tmp_path, scenario=scenario) for a in args]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert not list(Path(tmp_path).glob("b.*"))
