"""The content of a forecast brief as plain data: numbers, sentences and rows, no layout.

:func:`build_brief` gathers, for one or more scenarios of a fitted model, the headline sentence,
the levers in operational units, the lift per channel (direct and through the drivers), the
distribution of the company lift, the top drivers and priority map of the channels the levers act
in, a side-by-side comparison and the model's health and provenance. Every lift figure is
:func:`whatif.analysis.engine.summarize_lift` of the same engine, scenario and interval as
``whatif simulate``. :mod:`whatif.report.brief` lays it out as HTML and PDF.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import replace

import numpy as np
import xarray as xr

from whatif.analysis.answer_check import check_answers
from whatif.analysis.effects import path_rows, total_effect_rows
from whatif.analysis.engine import ScenarioEngine, summarize_lift
from whatif.analysis.priorities import priority_map
from whatif.analysis.relative_weights import relative_importance
from whatif.analysis.results import Estimate, LiftSummary
from whatif.analysis.scenario import Lever, Scenario
from whatif.errors import WhatifError
from whatif.fitting.fitted import FittedModel
from whatif.report import format as fmt
from whatif.report.metrics import ordered_metrics
from whatif.report.ppc_chart import answer_check_sentence

__all__ = ["build_brief", "check_ci", "headline"]

TOP_DRIVERS = 3
HIST_BINS = 40
DASH = "\u2013"


def check_ci(ci: float) -> None:
    if isinstance(ci, bool) or not isinstance(ci, int | float) or not 0 < ci < 1:
        raise WhatifError(f"ci must be a probability between 0 and 1 (e.g. 0.9), got {ci}")


def _percent(probability: float) -> str:
    """``0.9`` -> ``90%``, ``0.975`` -> ``97.5%``."""
    return f"{100 * probability:.10g}%"


def headline(name: str, summary: LiftSummary, scale: dict, subject: str | None = None) -> str:
    """The brief's first sentence: the lift of the headline metric, its interval and the chance
    it is positive, then the other reported metrics.

    Parameters
    ----------
    name
        Scenario name.
    summary
        :func:`whatif.analysis.engine.summarize_lift` of the scenario.
    scale
        ``label`` (e.g. ``1-10``) and ``top_box`` (e.g. ``9 or 10``) of the rating scale, and
        ``metrics``: the reported metrics, the headline metric first (default: mean, top-box).
    subject
        What the sentence starts with (default: the quoted name).
    """
    subject = subject or f"\u201c{name}\u201d"
    metrics = scale.get("metrics", ("mean", "top_box"))
    lead = summary.metric(metrics[0])
    year = _in_period(summary.year, summary.single_period)
    if lead.mean == lead.lo == lead.hi == 0:
        names = [_METRIC_NAMES[m].format(top_box=scale["top_box"]) for m in metrics]
        return (
            f"{subject} would leave {_and(names)} unchanged {year}: "
            "none of its levers moves an influencer or driver the model measures."
        )
    first = _change_phrase(metrics[0], lead, scale)
    spread = _lead_interval(metrics[0], lead).replace(" to ", " and ")
    others = [_change_phrase(m, summary.metric(m), scale) for m in metrics[1:]]
    # top-box lifts carry no probability: its chance is read from the mean, which moves it
    chance_of = metrics[0] if lead.p_positive is not None else "mean"
    chance = summary.metric(chance_of).p_positive
    return (
        f"{subject} would {first} {year} ({_percent(summary.ci)} chance: between {spread})"
        f"{' and ' if len(others) == 1 else ', '}{_and(others)}; the chance that it improves "
        f"{'NPS' if chance_of == 'nps' else 'satisfaction'} at all is {fmt.probability(chance)}."
    )


_METRIC_NAMES = {
    "mean": "average customer satisfaction",
    "top_box": "the share of customers who answer {top_box}",
    "nps": "NPS",
}


def _and(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _change_phrase(metric: str, e: Estimate, scale: dict) -> str:
    """``raise NPS by 2.4 points``, ``lower the share of customers who answer 9 or 10 by 0.4
    percentage points``, ``raise average customer satisfaction by 0.12 points on the 1-10
    scale``; ``leave ... about unchanged`` below the precision shown."""
    name = _METRIC_NAMES[metric].format(top_box=scale["top_box"])
    if metric == "mean":
        d = fmt.decimals(e.mean, e.lo, e.hi)
        verb = "raise" if e.mean >= 0 else "lower"
        return f"{verb} {name} by {abs(e.mean):.{d}f} points on the {scale['label']} scale"
    value = 100 * e.mean if metric == "top_box" else e.mean
    if abs(value) < 0.05:
        return f"leave {name} about unchanged"
    unit = "percentage points" if metric == "top_box" else "points"
    return f"{'raise' if value > 0 else 'lower'} {name} by {abs(value):.1f} {unit}"


def _lead_interval(metric: str, e: Estimate) -> str:
    if metric == "mean":
        return fmt.interval(e.lo, e.hi, fmt.decimals(e.mean, e.lo, e.hi))
    return fmt.change_interval(metric, e.lo, e.hi, unit=metric == "top_box").replace(
        " pts", " percentage points"
    )


def _in_period(year: int, single_period: bool) -> str:
    """``in 2026``, or ``in the survey period`` for a survey without a year column."""
    return f"in {'the ' if single_period else ''}{fmt.period(year, single_period)}"


# -- content --------------------------------------------------------------------------------


def _scale(engine: ScenarioEngine) -> dict:
    low, high = engine.scale
    rating = engine.rating
    top = [rating.top_box + k for k in range(int(high - rating.top_box) + 1)]
    top_words = " or ".join(f"{v:g}" for v in top) if len(top) <= 2 else f"{top[0]:g} to {high:g}"
    return {
        "low": low,
        "high": high,
        "label": f"{low:g}{DASH}{high:g}",
        "top_box": top_words,
        "top_box_short": rating.top_box_label.replace("-", DASH),
        "headline": rating.headline,
        "nps": rating.nps,
        "metrics": ordered_metrics(rating),
    }


def _change_text(value: float, kind: str) -> str:
    if kind == "binary":
        return f"{fmt.signed(100 * value, 1)} pp"
    return fmt.signed(value, 2)


_CHANGE_UNIT = {
    "binary": "share of contacts, percentage points",
    "count": "average per contact",
    "continuous": "average",
    "driver": "mean rating, points",
}


def _lever_content(model: FittedModel, lever: Lever, lift: xr.Dataset) -> dict:
    spec = model.spec
    label = spec.label_of(lever.target)
    labeled = replace(
        lever, channels=tuple(spec.label_of(c) for c in lever.channels) if lever.channels else None
    )
    text = labeled.describe(label)
    if lever.channels is None:
        measured = model.aggregates[f"{lever.kind}_measured"].sel({lever.kind: lever.target})
        where = [str(c) for c, m in zip(model.channels, measured.to_numpy(), strict=True) if m]
    else:
        where = list(lever.channels)
    changes = lift[f"{lever.kind}_change"].sel({lever.kind: lever.target})
    kind = "driver" if lever.kind == "driver" else spec.influencer(lever.target).kind
    return {
        "text": text,
        "target": lever.target,
        "label": label,
        "action": text[len(label) + 2 :],
        "kind": lever.kind,
        "measure": kind,
        "unit": _CHANGE_UNIT[kind],
        "everywhere": lever.channels is None,
        "changes": [
            {
                "channel": c,
                "label": spec.label_of(c),
                "change": float(changes.sel(channel=c)),
                "text": _change_text(float(changes.sel(channel=c)), kind),
            }
            for c in where
        ],
    }


def _scenario_content(
    model: FittedModel,
    engine: ScenarioEngine,
    scenario: Scenario,
    lift: xr.Dataset,
    ci: float,
    scale: dict,
) -> dict:
    summary = summarize_lift(lift, ci, flagged=model.flagged)
    year = summary.year
    acted = [c.channel for c in summary.channels if c.affected]
    rows = [
        {
            "id": c.channel,
            "label": model.spec.label_of(c.channel),
            "acted": c.affected,
            **c.to_dict(),
        }
        for c in summary.channels
    ]
    rows.sort(key=lambda r: -r["volume"])
    counts, edges = np.histogram(lift["company"].to_numpy(), bins=HIST_BINS)
    population = model.years[engine.population_index(year)]
    single = model.single_period
    return {
        "name": scenario.name,
        "description": scenario.description,
        "year": year,
        "year_label": fmt.period(year, single).capitalize(),
        "forecast": year not in model.years,
        "population_year": population,
        "population_label": "the survey's" if single else f"{population}'s",
        "headline": headline(scenario.name, summary, scale),
        "levers": [_lever_content(model, lever, lift) for lever in scenario.levers],
        "result": summary,
        "summary": summary.to_dict(),
        "total": summary.total.to_dict(),
        "top_box": summary.top_box.to_dict(),
        "nps": summary.nps.to_dict() if summary.nps is not None else None,
        "baseline": float(sum(r["baseline"] * r["volume"] for r in rows)),
        "direct": float(sum(r["direct"] * r["volume"] for r in rows)),
        "indirect": float(sum(r["indirect"] * r["volume"] for r in rows)),
        "channels": rows,
        "acted_channels": acted,
        "warnings": list(lift.attrs.get("warnings", [])),
        "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }


def _drivers_content(model: FittedModel, channels: list[str], year: int, ci: float) -> dict:
    """Top drivers and priority-map points and borders of ``channels`` in ``year``."""
    pmap = priority_map(model, ci).select(year=year)
    with warnings.catch_warnings():  # unmeasured drivers are all-NaN by design
        warnings.simplefilter("ignore", RuntimeWarning)
        share = relative_importance(model).sel(year=year).mean("sample")
    shown = {p.driver for p in pmap.points if p.channel in channels}
    used = [d for d in model.spec.driver_ids if d in shown]
    keys = {d: i + 1 for i, d in enumerate(used)}
    totals = {
        (r["channel"], r["driver"]): r for r in total_effect_rows(model, ci) if r["year"] == year
    }
    paths = path_rows(model, ci)
    out = []
    for channel in channels:
        rows = [p.to_dict() for p in pmap.points if p.channel == channel]
        for row in rows:
            row["share"] = float(share.sel(channel=channel, driver=row["driver"]))
            row["key"] = keys[row["driver"]]
            row["total"] = totals[(channel, row["driver"])]["mean"]
            row["weight_text"] = fmt.points(row["weight"])
            row["total_text"] = fmt.points(row["total"])
        rows.sort(key=lambda r: -r["share"])
        border = pmap.border(channel, year)
        out.append(
            {
                "channel": channel,
                "label": model.spec.label_of(channel),
                "drivers": rows,
                "top": rows[:TOP_DRIVERS],
                "fix_first": sorted(
                    (r for r in rows if r["quadrant"] == "fix first"),
                    key=lambda r: -r["p_fix_first"],
                ),
                "paths": [_path_line(model, p) for p in paths if p["channel"] == channel],
                "perf_line": border.performance,
                "weight_line": border.importance,
            }
        )
    return {
        "year": year,
        "year_label": _in_period(year, model.single_period),
        "year_heading": "" if model.single_period else f" ({year})",
        "channels": out,
        "key": [{"key": keys[d], "driver": d, "label": model.spec.label_of(d)} for d in used],
    }


def _path_line(model: FittedModel, row: dict) -> str:
    """``Individual attention -> Trust: +0.45 [+0.40, +0.50]``."""
    source, driver = model.spec.label_of(row["source"]), model.spec.label_of(row["driver"])
    estimate = f"{fmt.points(row['mean'])} {fmt.interval(row['lo'], row['hi'], style='brackets')}"
    return f"{source} -> {driver}: {estimate}"


def _fit_date(value: str) -> str:
    try:
        when = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value or "not recorded")
    return when.strftime("%d %b %Y, %H:%M UTC").lstrip("0")


def _provenance(model: FittedModel, scenarios: list[dict]) -> dict:
    manifest = model.manifest
    diag = model.diagnostics
    sampler = manifest.get("sampler", {})
    years = model.years
    responses = manifest.get("responses", int(model.aggregates["n_total"].sum()))
    complete = manifest.get("complete_responses", int(model.aggregates["n"].sum()))

    def number(key):
        value = diag.get(key)
        return None if value is None or not math.isfinite(value) else float(value)

    return {
        "model": model.name or "unsaved model",
        "fit_date": _fit_date(manifest.get("fit_date", "")),
        "fit_date_short": _fit_date(manifest.get("fit_date", "")).split(",")[0],
        "fingerprint": manifest.get("fingerprint") or "not recorded",
        "source": manifest.get("source") or "not recorded",
        "years": f"{years[0]}{DASH}{years[-1]}" if len(years) > 1 else str(years[0]),
        "n_years": len(years),
        "single_period": model.single_period,
        "responses": int(responses),
        "complete_responses": int(complete),
        "channels": [model.spec.label_of(c) for c in model.channels],
        "passed": not model.flagged,
        "verdict": model.verdict,
        "max_rhat": number("max_rhat"),
        "min_ess": min(
            (v for v in (number("min_ess_bulk"), number("min_ess_tail")) if v is not None),
            default=None,
        ),
        "divergences": int(diag.get("divergences", 0)),
        "min_bfmi": number("min_bfmi"),
        "sampler": (
            f"{sampler['chains']} chains \u00d7 {sampler['draws']} draws "
            f"(after {sampler['tune']} tuning steps)"
        )
        if sampler
        else "not recorded",
        "whatif_version": manifest.get("versions", {}).get("whatif", "unknown"),
        "warnings": [{"scenario": s["name"], "text": w} for s in scenarios for w in s["warnings"]],
    }


def _comparison(content: list[dict], model: FittedModel) -> dict:
    channels = [c for c in model.channels if any(c in s["acted_channels"] for s in content)]
    volume = {r["id"]: r["volume"] for r in content[0]["channels"]}
    channels.sort(key=lambda c: -volume[c])
    lead = model.spec.rating.headline  # the strongest scenario is strongest on the headline metric
    best = max(range(len(content)), key=lambda i: content[i]["result"].metric(lead).mean)
    return {
        "best": best,
        "channels": [{"id": c, "label": model.spec.label_of(c)} for c in channels],
    }


def _answer_check(model: FittedModel) -> dict | None:
    """The posterior predictive check for the health section: the result and its sentence."""
    check = check_answers(model)
    if check is None:
        return None
    sentence = answer_check_sentence(check, model.spec.label_of, model.single_period)
    labels = {c: model.spec.label_of(c) for c in check.channels}
    return {"check": check, "passed": check.passed, "sentence": sentence, "labels": labels}


def build_brief(model: FittedModel, scenarios: list[Scenario], ci: float = 0.9) -> dict:
    """The content of a brief as plain data (numbers and sentences; charts are drawn on render).

    Parameters
    ----------
    model
        A fitted or loaded model.
    scenarios
        One or more scenarios (several are compared side by side).
    ci
        Probability of every interval in the brief.

    Returns
    -------
    dict
        ``title``, ``headline``, ``ci``, ``flagged``, ``verdict``, ``scale``, ``scenarios`` (each
        with ``summary`` = :func:`whatif.analysis.engine.summarize_lift`, ``levers``, ``channels``,
        ``warnings``, ``histogram``...), ``comparison`` (several scenarios, else ``None``),
        ``drivers`` (top drivers and priority map of the channels the levers act in),
        ``provenance``, ``answer_check`` (the posterior predictive check: ``check``,
        ``passed``, ``sentence``, ``labels`` of its channels; ``None`` without whole-number
        answers) and ``generated``.

    Raises
    ------
    WhatifError
        For a bad ``ci``, no scenario, or a scenario the model cannot simulate.
    """
    check_ci(ci)
    scenarios = list(scenarios)
    if not scenarios:
        raise WhatifError("a brief needs at least one scenario; pass --scenario FILE")
    engine = ScenarioEngine(model)
    scale = _scale(engine)
    content = [_scenario_content(model, engine, s, engine.lift(s), ci, scale) for s in scenarios]
    acted = [c for c in model.channels if any(c in s["acted_channels"] for s in content)]
    volume = {r["id"]: r["volume"] for r in content[0]["channels"]}
    concerned = sorted(acted or model.channels, key=lambda c: -volume[c])
    driver_year = max(s["population_year"] for s in content)
    comparison = _comparison(content, model) if len(content) > 1 else None
    now = dt.datetime.now(dt.UTC)
    if comparison is None:
        title, lead = content[0]["name"], content[0]["headline"]
    else:
        best = content[comparison["best"]]
        title = f"{len(content)} scenarios compared"
        subject = f"The strongest of the {len(content)} scenarios, \u201c{best['name']}\u201d,"
        lead = headline(best["name"], best["result"], scale, subject=subject)
    return {
        "title": title,
        "headline": lead,
        "ci": ci,
        "ci_label": _percent(ci),
        "single_period": model.single_period,
        "flagged": model.flagged,
        "verdict": model.verdict,
        "scale": scale,
        "scenarios": content,
        "comparison": comparison,
        "drivers": _drivers_content(model, concerned, driver_year, ci),
        "provenance": _provenance(model, content),
        "answer_check": _answer_check(model),
        "generated": now.strftime("%d %b %Y, %H:%M UTC").lstrip("0"),
        "generated_short": now.strftime("%d %b %Y").lstrip("0"),
    }


# -- rendering ------------------------------------------------------------------------------
