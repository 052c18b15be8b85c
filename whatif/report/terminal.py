"""Plain-text reports for the terminal: what ``whatif check``, ``summary``, ``simulate`` and
``compare`` print. The command line only parses, calls and prints; the words and tables are here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from whatif.analysis.answer_check import AnswerCheck
from whatif.analysis.results import LiftSummary
from whatif.data.reliability import item_reliability
from whatif.data.survey import Survey
from whatif.fitting.diagnostics import one_chain
from whatif.fitting.fitted import FittedModel
from whatif.report import format as fmt
from whatif.report.metrics import UNIT_WORDS, metric_label, ordered_metrics
from whatif.report.ppc_chart import answer_check_sentence
from whatif.report.tables import format_table

__all__ = [
    "carried_past",
    "compare_report",
    "baseline_table",
    "lift_report",
    "reliability_table",
    "summary_report",
    "survey_report",
]


def survey_report(data: Path, survey: Survey, warnings: list[str]) -> str:
    """The profile ``whatif check`` prints: counts, measured columns, notes and warnings."""
    out = []
    profile = survey.profile()
    out.append(
        f"{data}: {profile['responses']} responses with an outcome "
        f"({profile['dropped_missing_outcome']} rows dropped for a missing outcome)"
    )
    for note in profile["notes"]:
        out.append(f"note: {note}")
    for warning in warnings:
        out.append(f"warning: {warning}")
    counts = profile["counts"]
    if survey.spec.single_period:  # no year column: one period, whose stored year is no year
        out.append("\nResponses per channel:")
        out.append(counts.sum(axis=1).rename("responses").to_frame().to_string())
    else:
        out.append("\nResponses per channel and year:")
        out.append(counts.to_string())
    out.append("\nMeasured per channel (missing share):")
    for channel in survey.channels:
        miss = profile["missing_share"][channel]
        drivers = ", ".join(f"{d} ({miss[d]:.0%})" for d in profile["measured_drivers"][channel])
        infl = ", ".join(f"{i} ({miss[i]:.0%})" for i in profile["measured_influencers"][channel])
        out.append(f"  {channel}\n    drivers: {drivers or '-'}\n    influencers: {infl or '-'}")
    out.extend(reliability_table(survey))
    count = f" ({len(warnings)} warning{'s' if len(warnings) != 1 else ''} above)"
    out.append(f"\nOK: the data fit the spec{count if warnings else ''}.")
    return "\n".join(out)


def reliability_table(survey: Survey) -> list[str]:
    """The item reliability of each multi-item driver per channel (no lines if there is none)."""
    rows = [
        {
            "driver": r.driver,
            "channel": r.channel,
            "n": r.n,
            # rounded here so that a value near zero does not print as -0.00
            "alpha": round(r.alpha, 2) + 0.0,
            "omega": round(r.omega, 2) + 0.0,
            # with two items each one's item-rest correlation is their correlation: no weakest
            "weakest item": r.weakest[0] if len(r.item_rest) > 2 else "(both)",
            "item-rest r": round(r.weakest[1], 2) + 0.0,
        }
        for r in item_reliability(survey.item_moments)
    ]
    if not rows:
        return []
    return [
        "\nItem reliability of multi-item drivers (Cronbach's alpha, McDonald's omega):",
        format_table(rows, digits=2),
    ]


def summary_report(path: Path, fitted: FittedModel, result: dict) -> str:
    """``whatif summary`` as text, from :func:`whatif.analysis.summary.summarize`'s result."""
    out = []
    pct = f"{result['ci']:.0%}"
    if fitted.flagged:
        out.append(f"WARNING: {fitted.verdict}\n")
    out.append(
        f"Model {path} - fitted {fitted.manifest['fit_date']}, "
        f"{fitted.manifest['responses']} responses"
    )
    out.extend(carried_past(fitted.manifest))
    if result.get("single_period"):
        out.append("One survey period (the spec has no year column).")

    def table(key: str) -> str:
        rows = pd.DataFrame(result[key])
        if result.get("single_period") and "year" in rows:
            rows = rows.drop(columns="year")
        return format_table(rows)

    if result.get("likelihood"):
        out.append(f"Likelihood of the answers: {result['likelihood']}.")
    if result.get("metrics"):
        out.extend(baseline_table(result, fitted))

    tables = [("weights", "Driver weights (satisfaction points per driver point)")]
    if result.get("influencers", True):
        tables += [
            ("effects", "Influencer effects on drivers"),
            ("direct", "Direct influencer effects on satisfaction"),
        ]
    for key, title in tables:
        out.append(f"\n{title}, mean and {pct} interval:")
        out.append(table(key))
    if not result.get("influencers", True):
        out.append("\nInfluencer effects: none (the spec has no [influencers]).")
    out.append("\nDriver importance (standardized weight; share of explained variance):")
    out.append(table("importance"))
    sections = [
        ("paths", "Driver paths (rating points of the driver per rating point of its source)"),
        (
            "total_effects",
            "Total effects on satisfaction (weight plus everything moved downstream)",
        ),
        (
            "relative_importance",
            "Relative importance (Johnson's relative weights: share of the explained variance)",
        ),
    ]
    for key, title in sections:
        if result.get(key):
            out.append(f"\n{title}, mean and {pct} interval:")
            out.append(table(key))
    out.append("\nR-squared:")
    out.append(table("r2"))
    d = result["diagnostics"]
    rhat = (
        "R-hat not computed (1 chain)"
        if one_chain(fitted.diagnostics)
        else f"max R-hat {d['max_rhat']:.3f}"
    )
    out.append(
        f"\nDiagnostics: {rhat}, min ESS bulk {d['min_ess_bulk']:.0f}, "
        f"tail {d['min_ess_tail']:.0f}, divergences {d['divergences']}, "
        f"min BFMI {d['min_bfmi']:.2f}"
    )
    out.append(d["verdict"])
    if result.get("answer_check"):
        check = AnswerCheck.from_dict(result["answer_check"])
        label_of = fitted.spec.label_of
        out.append("Answers: " + answer_check_sentence(check, label_of, fitted.single_period))
    return "\n".join(out)


def baseline_table(result: dict, fitted: FittedModel) -> list[str]:
    """The baseline of every reported metric per channel and year (the headline metric first),
    from the ``metrics`` rows of :func:`whatif.analysis.summary.summarize`."""
    rating = fitted.spec.rating
    order = ordered_metrics(rating)
    cells: dict[tuple, dict] = {}
    for row in result["metrics"]:
        key = (fitted.spec.label_of(row["channel"]), row["year"])
        level = fmt.level(row["metric"], row["mean"], minus="-")
        spread = fmt.level_interval(
            row["metric"], row["lo"], row["hi"], minus="-", style="brackets"
        )
        cells.setdefault(key, {})[row["metric"]] = f"{level} {spread}"
    single = result.get("single_period")
    rows = [
        {"channel": channel, **({} if single else {"year": year})}
        | {metric_label(m, rating): by_metric[m] for m in order if m in by_metric}
        for (channel, year), by_metric in cells.items()
    ]
    return [
        f"\nBaseline per channel and year, the headline metric "
        f"({metric_label(rating.headline, rating)}) first; mean and {result['ci']:.0%} interval:",
        format_table(rows),
    ]


def lift_report(results: list[LiftSummary], fitted: FittedModel) -> str:
    """Scenarios side by side: company and per-channel lift with intervals (plain text), one
    table per reported metric, the spec's headline metric first (NPS in NPS points, top-box in
    percentage points, mean satisfaction in rating points)."""
    rating = fitted.spec.rating
    pct = f"{results[0].ci:.0%}"
    lines = []
    for metric in ordered_metrics(rating):
        rows = {}
        for res in results:
            company = res.metric(metric)
            cells = {"company": _lift_cell(metric, company)}
            if company.p_positive is not None:
                cells["company"] += f" P>0 {fmt.probability(company.p_positive)}"
            for c in res.channels:
                label = fitted.spec.label_of(c.channel)
                if not c.affected:
                    cells[label] = fmt.NOT_AFFECTED
                    continue
                cells[label] = _lift_cell(metric, c.metric(metric))
                if metric == "mean":
                    direct = fmt.points(c.direct, 3, minus="-")
                    indirect = fmt.points(c.indirect, 3, minus="-")
                    cells[label] += f" (direct {direct}, via drivers {indirect})"
            rows[f"{res.scenario} ({fmt.period(res.year, res.single_period)})"] = cells
        if lines:
            lines.append("")
        lines.append(
            f"{metric_label(metric, rating)} lift in {UNIT_WORDS[metric]} (mean [{pct} interval]):"
        )
        lines.append(pd.DataFrame(rows).to_string())
    for res in results:
        for warning in res.warnings:
            lines.append(f"warning ({res.scenario}): {warning}")
    return "\n".join(lines)


def _lift_cell(metric: str, e) -> str:
    """``+2.4 [+1.1, +3.8]``: a change and its interval, in the unit of the table's heading."""
    value = fmt.change(metric, e.mean, minus="-", unit=False)
    spread = fmt.change_interval(metric, e.lo, e.hi, minus="-", style="brackets", unit=False)
    return f"{value} {spread}"


def carried_past(manifest: dict) -> list[str]:
    """How a refit carried the earlier years, if it did not refit them at full weight."""
    lines = []
    power = manifest.get("power_prior")
    if power:
        weighted = {y: a for y, a in power.get("discount_by_year", {}).items() if a < 1}
        if weighted:
            lines.append(
                "Past carried as a power prior: "
                + ", ".join(f"{y} weighted {a:g}" for y, a in weighted.items())
            )
    carried = manifest.get("carried_prior")
    if carried:
        lines.append(
            f"Past kept fixed: years up to {carried['year']} carried as a prior "
            f"(a0 = {carried['a0']:g}); earlier estimates copied from the previous fit"
        )
    return lines


def compare_report(result: dict, old: Path, new: Path) -> str:
    """``whatif compare`` as text, from :func:`whatif.analysis.compare.compare`'s result."""
    out = []
    ci = result["ci"]
    pct = f"{ci:.0%}"
    for key, path in (("old", old), ("new", new)):
        ident = result[key]
        a0 = ident["discount"]["a0"]
        weighted = {y: a for y, a in ident["discount"]["discount_by_year"].items() if a < 1}
        parts = [f"a0 = {a0:g}"] if a0 is not None else []
        if weighted:
            parts.append("year weights " + ", ".join(f"{y}: {a:g}" for y, a in weighted.items()))
        prior = f", past carried as a power prior, {'; '.join(parts)}" if parts else ""
        out.append(
            f"{key}: {path} - years {', '.join(map(str, ident['years']))}, fitted "
            f"{ident['fit_date']}, {'healthy' if ident['healthy'] else 'FLAGGED'}{prior}"
        )
    info = result["weights_info"]
    if result["weights"]:
        out.append(
            f"\nDriver weights {info['from_year']} -> {info['to_year']} ({info['basis']}), "
            f"change with {pct} interval and probability it rose:"
        )
        cols = ["channel", "driver", "weight_from", "weight_to", "change", "lo", "hi", "p_rose"]
        out.append(format_table([{k: r[k] for k in cols} for r in result["weights"]]))
    if result["ranks"]:
        r0 = result["ranks"][0]
        out.append(
            f"\nDriver importance rank per channel ({r0['year_before']} old fit -> "
            f"{r0['year_after']} new fit; + moved up):"
        )
        out.append(format_table(result["ranks"]))
    bt = result["backtest_info"]
    if result["backtest"]:
        out.append(
            f"\nBacktest: the old fit's {pct} forecast of {bt['year']} mean satisfaction vs "
            f"observed (level shock sd {bt['level_shock_sd']:.3f}):"
        )
        cols = ["channel", "forecast", "lo", "hi", "observed", "n", "z", "flag"]
        out.append(format_table([{k: r[k] for k in cols} for r in result["backtest"]]))
        if result["flagged"]:
            out.append(f"OUTSIDE the forecast interval: {', '.join(result['flagged'])}")
        else:
            out.append("Every channel's observed mean fell within the forecast interval.")
    for note in result["notes"]:
        out.append(f"note: {note}")
    return "\n".join(out)
