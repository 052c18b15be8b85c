"""The forecast brief: what a scenario would do, in one or two pages a director reads.

A brief holds, for one or more scenarios of a fitted model:

* a headline sentence: the forecast lift of the company's mean satisfaction and top-box share,
  with its interval and the chance that it is positive;
* the levers as they were set, in operational units, and the average change each makes;
* the lift per channel, split into its direct part and the part that acts through the drivers,
  and the distribution of the company lift;
* the top drivers and the priority map of the channels the levers act in;
* with several scenarios, a side-by-side comparison;
* model health and provenance (fit date, data fingerprint, years, responses, diagnostics
  verdict, extrapolation warnings); a brief from a flagged fit says so in a banner at the top.

Every lift figure is :func:`whatif.analysis.engine.summarize_lift` of the same engine, scenario and
interval as ``whatif simulate``, so the brief and the command line never disagree. The HTML is
self-contained (inline CSS, charts as SVG data URIs, no request to any host); the PDF is the same
HTML laid out by WeasyPrint on A4 pages with page numbers.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import jinja2
import numpy as np
import xarray as xr

from whatif.analysis.engine import ScenarioEngine, summarize_lift
from whatif.analysis.priorities import priority_map
from whatif.analysis.results import LiftSummary
from whatif.analysis.scenario import Lever, Scenario
from whatif.analysis.summary import importance
from whatif.errors import WhatifError
from whatif.fitting.fitted import FittedModel
from whatif.report import charts
from whatif.report import format as fmt

__all__ = [
    "FORMATS",
    "build_brief",
    "check_output_path",
    "headline",
    "render_html",
    "render_pdf",
    "write_brief",
]

#: Output formats, chosen by the file extension.
FORMATS = ("html", "pdf")
TEMPLATES = Path(__file__).parent / "templates"
TOP_DRIVERS = 3
HIST_BINS = 40
DASH = "\u2013"


# -- checks ---------------------------------------------------------------------------------


def _check_ci(ci: float) -> None:
    if isinstance(ci, bool) or not isinstance(ci, int | float) or not 0 < ci < 1:
        raise WhatifError(f"ci must be a probability between 0 and 1 (e.g. 0.9), got {ci}")


def check_output_path(out: str | Path) -> str:
    """Check that a brief can be written to ``out``; return its format (``html`` or ``pdf``).

    Nothing is created: a missing parent folder is only checked to be creatable (its nearest
    existing ancestor is a writable folder); :func:`write_brief` creates it.

    Raises
    ------
    WhatifError
        For an extension other than ``.html``/``.htm``/``.pdf``, a folder, or a parent folder
        that cannot be created or written to.
    """
    out = Path(out)
    suffix = out.suffix.lower().lstrip(".")
    fmt = {"html": "html", "htm": "html", "pdf": "pdf"}.get(suffix)
    if fmt is None:
        got = f"'.{suffix}'" if suffix else "no extension"
        raise WhatifError(
            f"{out}: a brief is written as .html or .pdf (chosen by the extension), got {got}"
        )
    if out.is_dir():
        raise WhatifError(f"{out}: is a folder; give a file name such as {out / ('brief.' + fmt)}")
    parent = out.absolute().parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise WhatifError(
            f"{out}: cannot create the folder {out.parent} ({existing} is a file); "
            "choose another --out"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise WhatifError(f"{out}: the folder {existing} is not writable; choose another --out")
    return fmt


def _percent(probability: float) -> str:
    """``0.9`` -> ``90%``, ``0.975`` -> ``97.5%``."""
    return f"{100 * probability:.10g}%"


# -- formatting (the template's filters): whatif.report.format ------------------------------------


def _signed(value: float, digits: int = 3) -> str:
    return fmt.signed(value, digits)


def _pp(share: float, digits: int = 1) -> str:
    return fmt.signed(100 * share, digits)


def _number(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}".replace("-", fmt.MINUS)


def headline(name: str, summary: LiftSummary, scale: dict, subject: str | None = None) -> str:
    """The brief's first sentence: the company lift, its interval and the chance it is positive.

    Parameters
    ----------
    name
        Scenario name.
    summary
        :func:`whatif.analysis.engine.summarize_lift` of the scenario.
    scale
        ``label`` (e.g. ``1-10``) and ``top_box`` (e.g. ``9 or 10``) of the rating scale.
    subject
        What the sentence starts with (default: the quoted name).
    """
    subject = subject or f"\u201c{name}\u201d"
    total, top, year = summary.total, summary.top_box, summary.year
    mean, lo, hi, p = total.mean, total.lo, total.hi, total.p_positive
    ci = _percent(summary.ci)
    if mean == lo == hi == 0:
        return (
            f"{subject} would leave average customer satisfaction unchanged in {year}: "
            "none of its levers moves an influencer or driver the model measures."
        )
    d = fmt.decimals(mean, lo, hi)
    verb = "raise" if mean >= 0 else "lower"
    top_mean = top.mean
    if abs(top_mean) < 0.0005:
        top_part = f"leave the share of customers who answer {scale['top_box']} about unchanged"
    else:
        top_verb = "raise" if top_mean > 0 else "lower"
        top_part = (
            f"{top_verb} the share of customers who answer {scale['top_box']} by "
            f"{abs(100 * top_mean):.1f} percentage points"
        )
    return (
        f"{subject} would {verb} average customer satisfaction by {abs(mean):.{d}f} points "
        f"on the {scale['label']} scale in {year} ({ci} chance: between "
        f"{fmt.interval(lo, hi, d).replace(' to ', ' and ')}) and {top_part}; the chance that it "
        f"improves satisfaction at all is {fmt.probability(p)}."
    )


# -- content --------------------------------------------------------------------------------


def _scale(engine: ScenarioEngine) -> dict:
    low, high = engine.scale
    return {
        "low": low,
        "high": high,
        "label": f"{low:g}{DASH}{high:g}",
        "top_box": f"{high - 1:g} or {high:g}",
        "top_box_short": f"{high - 1:g}{DASH}{high:g}",
    }


def _change_text(value: float, kind: str) -> str:
    if kind == "binary":
        return f"{_pp(value)} pp"
    return _signed(value, 2)


_CHANGE_UNIT = {
    "binary": "share of contacts, percentage points",
    "count": "average per contact",
    "continuous": "average",
    "driver": "mean rating, points",
}


def _lever_content(model: FittedModel, lever: Lever, lift: xr.Dataset) -> dict:
    spec = model.spec
    label = spec.label_of(lever.target)
    labelled = replace(
        lever, channels=tuple(spec.label_of(c) for c in lever.channels) if lever.channels else None
    )
    text = labelled.describe(label)
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
    return {
        "name": scenario.name,
        "description": scenario.description,
        "year": year,
        "forecast": year not in model.years,
        "population_year": model.years[engine.population_index(year)],
        "headline": headline(scenario.name, summary, scale),
        "levers": [_lever_content(model, lever, lift) for lever in scenario.levers],
        "result": summary,
        "summary": summary.to_dict(),
        "total": summary.total.to_dict(),
        "top_box": summary.top_box.to_dict(),
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
    _, share = importance(model)
    share = share.sel(year=year).mean("sample")
    shown = {p.driver for p in pmap.points if p.channel in channels}
    used = [d for d in model.spec.driver_ids if d in shown]
    keys = {d: i + 1 for i, d in enumerate(used)}
    out = []
    for channel in channels:
        rows = [p.to_dict() for p in pmap.points if p.channel == channel]
        for row in rows:
            row["share"] = float(share.sel(channel=channel, driver=row["driver"]))
            row["key"] = keys[row["driver"]]
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
                "perf_line": border.performance,
                "weight_line": border.importance,
            }
        )
    return {
        "year": year,
        "channels": out,
        "key": [{"key": keys[d], "driver": d, "label": model.spec.label_of(d)} for d in used],
    }


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
    best = max(range(len(content)), key=lambda i: content[i]["total"]["mean"])
    return {
        "best": best,
        "channels": [{"id": c, "label": model.spec.label_of(c)} for c in channels],
    }


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
        ``provenance`` and ``generated``.

    Raises
    ------
    WhatifError
        For a bad ``ci``, no scenario, or a scenario the model cannot simulate.
    """
    _check_ci(ci)
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
        "flagged": model.flagged,
        "verdict": model.verdict,
        "scale": scale,
        "scenarios": content,
        "comparison": comparison,
        "drivers": _drivers_content(model, concerned, driver_year, ci),
        "provenance": _provenance(model, content),
        "generated": now.strftime("%d %b %Y, %H:%M UTC").lstrip("0"),
        "generated_short": now.strftime("%d %b %Y").lstrip("0"),
    }


# -- rendering ------------------------------------------------------------------------------


def _charts(brief: dict) -> dict:
    ci_label, scale = brief["ci_label"], brief["scale"]
    out: dict = {"scenarios": []}
    for s in brief["scenarios"]:
        rows = [r for r in s["channels"] if r["acted"]] or s["channels"]
        hist = s["histogram"]
        out["scenarios"].append(
            {
                "channels": charts.channel_lift_chart(
                    [
                        {
                            "label": r["label"],
                            **{k: r[k] for k in ("direct", "indirect", "mean", "lo", "hi")},
                        }
                        for r in rows
                    ],
                    ci_label,
                    scale["label"],
                ),
                "distribution": charts.distribution_chart(
                    hist["edges"],
                    hist["counts"],
                    s["total"]["mean"],
                    s["total"]["lo"],
                    s["total"]["hi"],
                    ci_label,
                    "Company lift in mean satisfaction (points)",
                ),
            }
        )
    if brief["comparison"]:
        out["comparison"] = charts.comparison_chart(
            [
                {
                    "label": s["name"],
                    "mean": s["total"]["mean"],
                    "lo": s["total"]["lo"],
                    "hi": s["total"]["hi"],
                    "top_mean": s["top_box"]["mean"],
                    "top_lo": s["top_box"]["lo"],
                    "top_hi": s["top_box"]["hi"],
                }
                for s in brief["scenarios"]
            ],
            scale["label"],
            scale["top_box_short"],
        )
    panels = [
        {
            "title": c["label"],
            "perf_line": c["perf_line"],
            "weight_line": c["weight_line"],
            "points": c["drivers"],
        }
        for c in brief["drivers"]["channels"]
    ]
    out["priority"] = charts.priority_chart(panels, ci_label)
    return out


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(signed=_signed, pp=_pp, prob=fmt.probability, number=_number)
    env.globals.update(digits=fmt.decimals, interval=fmt.interval)
    return env


def render_html(model: FittedModel, scenarios: list[Scenario], ci: float = 0.9) -> str:
    """The brief as one self-contained HTML page (inline CSS, charts as SVG data URIs).

    Parameters
    ----------
    model, scenarios, ci
        As :func:`build_brief`.
    """
    brief = build_brief(model, scenarios, ci)
    return _environment().get_template("brief.html.j2").render(brief=brief, charts=_charts(brief))


def _html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # a slow import only the PDF path needs
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))  # nothing outside the page, ever
    return HTML(string=html, url_fetcher=fetcher).write_pdf()


def render_pdf(model: FittedModel, scenarios: list[Scenario], ci: float = 0.9) -> bytes:
    """The brief as PDF bytes: the HTML of :func:`render_html` on A4 pages, numbered.

    Parameters
    ----------
    model, scenarios, ci
        As :func:`build_brief`.
    """
    return _html_to_pdf(render_html(model, scenarios, ci))


def write_brief(
    model: FittedModel, scenarios: list[Scenario], out: str | Path, ci: float = 0.9
) -> Path:
    """Write a brief to ``out`` (``.html`` or ``.pdf``, from the extension), atomically.

    The file is written to a temporary sibling and moved into place, so a failed or interrupted
    write leaves any earlier brief at ``out`` untouched.

    Parameters
    ----------
    model, scenarios, ci
        As :func:`build_brief`.
    out
        Target file.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    WhatifError
        Unknown extension, unwritable path, bad ``ci`` or a scenario the model cannot simulate.
    """
    out = Path(out)
    fmt = check_output_path(out)
    _check_ci(ci)
    html = render_html(model, scenarios, ci)
    data = _html_to_pdf(html) if fmt == "pdf" else html.encode("utf-8")
    tmp = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=out.parent, prefix=f".{out.name}.", suffix=".tmp", delete=False
        ) as handle:
            tmp = Path(handle.name)
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
        tmp = None
    except OSError as err:
        raise WhatifError(
            f"{out}: cannot write the brief ({err.strerror or err}); choose a writable --out"
        ) from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return out
