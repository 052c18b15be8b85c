"""The posterior predictive check, presented: the app's chart and panel, the brief's chart and
health section, and ``whatif summary`` (table and JSON) -- all drawn from the model's own numbers
(observed shares are the aggregates' ``answer_share``, predicted ones
:func:`whatif.fitting.ppc.predicted_shares`), and a model whose predictions miss shows it.

The misfit is real: a linear-Gaussian fit of top-heavy whole-number answers (a third at the top
of the scale) predicts too few answers at the top, by more than the check allows.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import re

import numpy as np
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from whatif.analysis.answer_check import AnswerCheck, check_answers
from whatif.analysis.scenario import Lever, Scenario
from whatif.analysis.summary import summarize
from whatif.cli import app
from whatif.data.aggregate import aggregate
from whatif.data.survey import validate_frame
from whatif.fitting.artefact import save_model
from whatif.fitting.ppc import MAX_GAP, predicted_shares
from whatif.report import ppc_chart
from whatif.report.brief import render_html, render_pdf
from whatif.report.brief_content import build_brief
from whatif.synthetic.top_heavy import top_heavy_survey, top_heavy_truth

CAP = Scenario("Cap repeat contacts", (Lever("i1", "influencer", "cap", 1.0),))


@pytest.fixture(scope="module")
def misfit():
    """A linear fit of a top-heavy survey (2 channels x 2 years, whole-number answers on 0-10)."""
    from whatif.fitting.fit import fit_model

    truth = top_heavy_truth(1)
    spec = dataclasses.replace(truth.spec(), likelihood="linear")
    data = aggregate(validate_frame(top_heavy_survey(truth, 400, 1), spec))
    return fit_model(data, spec, draws=200, tune=200, chains=2, seed=1, fingerprint="t", source="t")


@pytest.fixture(scope="module")
def misfit_path(misfit, tmp_path_factory):
    return save_model(misfit, tmp_path_factory.mktemp("ppc") / "linear")


@pytest.fixture(scope="module")
def check(misfit) -> AnswerCheck:
    return check_answers(misfit)


def _with_diagnostics(model, **changes):
    manifest = copy.deepcopy(model.manifest)
    manifest["diagnostics"].update(changes)
    return dataclasses.replace(model, manifest=manifest)


def _without_answer_shares(model):
    """The model as if its answers were not whole numbers: no observed shares, no check."""
    manifest = copy.deepcopy(model.manifest)
    for key in [k for k in manifest["diagnostics"] if k.startswith("ppc_")]:
        del manifest["diagnostics"][key]
    aggregates = model.aggregates.drop_vars("answer_share")
    return dataclasses.replace(model, manifest=manifest, aggregates=aggregates)


# -- the result -----------------------------------------------------------------------------------


def test_the_check_holds_the_models_observed_and_predicted_shares(misfit, check):
    observed = misfit.aggregates["answer_share"]
    predicted = predicted_shares(misfit.posterior, misfit.aggregates)
    assert len(check.shares) == observed.size  # every channel, year and answer has answers here
    for s in check.shares:
        where = {"channel": s.channel, "year": s.year, "answer": s.answer}
        assert s.observed == float(observed.sel(where))
        assert s.predicted == pytest.approx(float(predicted.sel(where)), abs=1e-12)
    gaps = [abs(s.gap) for s in check.shares]
    assert check.max_gap == pytest.approx(max(gaps))
    assert abs(check.worst.gap) == pytest.approx(check.max_gap)
    assert check.max_gap == misfit.diagnostics["ppc_max_gap"]
    assert AnswerCheck.from_dict(json.loads(json.dumps(check.to_dict()))) == check


def test_a_linear_fit_of_top_heavy_answers_misses_at_the_top(misfit, check):
    """Known truth: a third of the answers sit at the top, where a normal cannot pile them up."""
    assert not check.passed and check.max_gap > MAX_GAP
    assert check.answer == 10.0
    assert check.worst.observed > check.worst.predicted
    assert misfit.flagged
    assert "miss the observed ones" in misfit.verdict
    assert f"at answer 10 ({check.channel}, {check.year})" in misfit.verdict


# -- the app ----------------------------------------------------------------------------------


def test_the_app_chart_draws_the_observed_and_predicted_shares(misfit, check):
    from whatif.app.ppc_chart import answer_check_chart

    observed = misfit.aggregates["answer_share"]
    predicted = predicted_shares(misfit.posterior, misfit.aggregates)
    for channel in check.channels:
        for year in check.years:
            fig = answer_check_chart(check, channel, year)
            data = fig.renderers[0].data_source.data
            where = {"channel": channel, "year": year}
            assert np.array_equal(data["answer"], observed["answer"].to_numpy())
            assert np.array_equal(data["observed"], observed.sel(where).to_numpy())
            assert np.allclose(data["predicted"], predicted.sel(where).to_numpy())
            marked = [r for r in fig.renderers if type(r.glyph).__name__ == "Segment"]
            assert bool(marked) == ((channel, year) == (check.channel, check.year))
    worst = answer_check_chart(check, check.channel, check.year)
    segment = next(r for r in worst.renderers if type(r.glyph).__name__ == "Segment")
    assert segment.data_source.data["y0"] == [check.worst.observed]
    assert segment.data_source.data["y1"] == [check.worst.predicted]


def test_the_model_tab_shows_the_check_for_the_chosen_channel_and_year(misfit_path, check):
    from whatif.app.bundle import load_bundle
    from whatif.app.state import PlannerState
    from whatif.app.views.answers import AnswerCheckPanel
    from whatif.app.views.model import ModelPanel

    state = PlannerState(load_bundle(misfit_path))
    panel = AnswerCheckPanel(state)
    assert panel.check == check
    assert "Misfit" in panel._sentence.object and "miss the observed ones" in panel._sentence.object
    assert f"{100 * check.max_gap:.1f} points of share" in panel._sentence.object
    assert panel._year.value == check.years[-1]  # the last year by default
    other = next(c for c in check.channels if c != state.focus_channel)
    state.focus_channel = other
    data = panel._chart.object.renderers[0].data_source.data
    assert data["observed"] == [s.observed for s in check.select(other, check.years[-1])]
    panel._year.value = check.years[0]
    data = panel._chart.object.renderers[0].data_source.data
    assert data["predicted"] == [s.predicted for s in check.select(other, check.years[0])]

    tab = ModelPanel(state)
    assert "miss the observed ones" in tab._diagnostics.object  # the health verdict
    row = next(r for r in state.bundle.diagnostics_rows() if "answer shares" in r["check"])
    assert row["value"] == f"{100 * check.max_gap:.1f} pts" and not row["ok"]


def test_the_model_tab_says_when_there_is_nothing_to_check(misfit, tmp_path):
    from whatif.app.bundle import load_bundle
    from whatif.app.state import PlannerState
    from whatif.app.views.answers import NO_CHECK, AnswerCheckPanel

    path = save_model(_without_answer_shares(misfit), tmp_path / "plain")
    panel = AnswerCheckPanel(PlannerState(load_bundle(path)))
    assert panel.check is None
    assert NO_CHECK.split(",")[0] in panel._sentence.object and not panel._chart.visible


# -- the brief ----------------------------------------------------------------------------------


def test_the_brief_chart_draws_the_models_shares(monkeypatch, check):
    drawn = []
    monkeypatch.setattr(ppc_chart, "figure_to_data_uri", lambda fig: drawn.append(fig) or "uri")
    assert ppc_chart.answer_check_chart(check) == "uri"
    panels = ppc_chart.answer_check_panels(check)
    assert panels[0] == (check.channel, check.year)  # the largest gap is always drawn
    assert sorted(c for c, _ in panels) == sorted(check.channels)
    axes = [ax for ax in drawn[0].axes if ax.get_visible()]
    assert len(axes) == len(panels)
    for ax, (channel, year) in zip(axes, panels, strict=True):
        shares = check.select(channel, year)
        bars = [p.get_height() for p in ax.patches]
        assert np.allclose(bars, [100 * s.observed for s in shares])
        (line,) = ax.get_lines()
        assert np.allclose(line.get_ydata(), [100 * s.predicted for s in shares])


def test_the_brief_states_and_draws_the_misfit_in_its_health_section(misfit, check):
    brief = build_brief(misfit, [CAP])
    sentence = brief["answer_check"]["sentence"]
    assert sentence.startswith("The model's answers miss the observed ones: at answer 10")
    assert f"{100 * check.worst.observed:.1f}% answered" in sentence
    html = render_html(misfit, [CAP])
    health = html[html.index('class="health-section"') :]
    verdict = health[health.index('class="verdict') :]
    assert "miss the observed ones" in verdict[: verdict.index("</div>")]  # the health verdict
    block = health[health.index('class="answer-check') :]
    assert re.search(r'<img src="data:image/svg\+xml;base64,', block)
    assert "The model&#39;s answers miss" in block or "The model's answers miss" in block


def test_a_brief_with_the_check_still_fits_two_pages(misfit):
    reader = PdfReader(io.BytesIO(render_pdf(misfit, [CAP])))
    assert 1 <= len(reader.pages) <= 2
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    assert "Predicted against observed answers" in text


def test_a_passing_check_reads_as_a_match(misfit, check):
    """The words follow the fit's record: a gap within the limit reads as a match everywhere."""
    small = {"ppc_max_gap": 0.031, "ppc_passed": True, "passed": True}
    healthy = _with_diagnostics(misfit, **small)
    assert "Predicted answers match the observed ones within 3%" in healthy.verdict
    passed = check_answers(healthy)
    assert passed.passed and passed.max_gap == 0.031
    sentence = ppc_chart.answer_check_sentence(passed)
    assert sentence.startswith("Predicted answers match the observed ones within 3.1 points")
    assert build_brief(healthy, [CAP])["answer_check"]["sentence"] == sentence
    assert summarize(healthy)["answer_check"]["passed"] is True


def test_without_whole_number_answers_there_is_no_check(misfit):
    plain = _without_answer_shares(misfit)
    assert check_answers(plain) is None
    assert summarize(plain)["answer_check"] is None
    assert build_brief(plain, [CAP])["answer_check"] is None
    assert 'class="answer-check' not in render_html(plain, [CAP])


# -- whatif summary -----------------------------------------------------------------------------


def test_summary_json_carries_the_check(misfit_path, check):
    result = CliRunner().invoke(app, ["summary", str(misfit_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    answers = json.loads(result.output)["answer_check"]
    assert {"max_gap", "channel", "year", "answer", "passed", "shares"} <= set(answers)
    assert answers["max_gap"] == pytest.approx(check.max_gap)
    assert (answers["channel"], answers["year"], answers["answer"]) == (
        check.channel,
        check.year,
        check.answer,
    )
    assert answers["passed"] is False
    assert len(answers["shares"]) == len(check.shares)
    for row, share in zip(answers["shares"], check.shares, strict=True):
        assert set(row) == {"channel", "year", "answer", "observed", "predicted"}
        assert row["observed"] == pytest.approx(share.observed)
        assert row["predicted"] == pytest.approx(share.predicted)


def test_summary_table_states_the_largest_gap(misfit_path, check):
    result = CliRunner().invoke(app, ["summary", str(misfit_path)])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("Answers: "))
    assert f"at answer 10 ({check.channel}, {check.year})" in line
    assert f"a gap of {100 * check.max_gap:.1f} points of share" in line
    assert result.output.startswith("WARNING: FLAGGED fit")
