"""One pipeline from a survey to a saved artefact: read, validate, aggregate, fit, save.

The command line (``whatif fit``, ``whatif refit``, ``whatif demo``), the planner's model provider
and the benchmarks all call :func:`fit_to_artefact` or :func:`refit_to_artefact`, each passing its
own ``log`` callback for progress lines; nothing here prints or reads module-level state, so two
fits may run at once in one process. An interrupt at any stage (``KeyboardInterrupt``, or
:class:`whatif.interrupts.Interrupted` for SIGTERM under the command line) propagates and writes
nothing: the artefact is swapped into place only once complete, and a sampler that stopped early
raises :class:`whatif.interrupts.InterruptedFit` instead of returning a fit.

This module sits right above :mod:`whatif.fitting`: it may import ``data``, ``model`` and
``fitting`` (the sampler stack is imported when a fit starts, not on import).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from whatif.errors import WhatifError

__all__ = ["ENGINES", "check_out", "check_sampler", "fit_to_artefact", "refit_to_artefact"]

#: Aggregation engines: ``auto`` picks Dask for a folder or glob of Parquet files.
ENGINES = ("auto", "pandas", "dask")

Log = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


def check_sampler(draws: int, tune: int, chains: int) -> None:
    """Refuse sampler settings too small to give a usable posterior."""
    for name, value, low in (
        ("--draws", draws, 100),
        ("--tune", tune, 100),
        ("--chains", chains, 1),
    ):
        if value < low:
            raise WhatifError(f"{name} must be at least {low}, got {value}")


def check_out(out: str | Path, previous: str | Path | None = None) -> None:
    """Fail before any fitting when ``out`` cannot receive an artefact.

    Parameters
    ----------
    out
        The artefact folder to write.
    previous
        The model a refit starts from; ``out`` may not be it.
    """
    out = Path(out)
    if previous is not None and out.resolve() == Path(previous).resolve():
        raise WhatifError(
            f"--out {out} is the previous model; choose a new folder (e.g. models/NEXT) so both "
            f"stay side by side"
        )
    if out.exists() and not (out / "manifest.json").exists():
        raise WhatifError(
            f"{out}: exists and is not a whatif model artefact; refusing to replace it, choose "
            f"another --out"
        )
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise WhatifError(f"{out}: cannot write there ({parent} is not a writable folder)")


def _aggregate(data, spec, engine: str, scheduler: str | None, log: Log):
    """Aggregates, spec, responses, rows dropped for a missing outcome and the data fingerprint."""
    if engine not in ENGINES:
        raise WhatifError(f"--engine must be one of {', '.join(ENGINES)}, got '{engine}'")
    if engine == "pandas" and scheduler:
        raise WhatifError("--scheduler needs --engine dask (or auto); pandas runs in this process")
    if engine == "auto":
        from whatif.data.readers import prefers_dask

        engine = "dask" if scheduler or prefers_dask(data) else "pandas"
    log(f"reading {data}" + (" with dask" if engine == "dask" else ""))
    if engine == "dask":
        from whatif.data.engine_dask import aggregate_parquet
        from whatif.data.spec import Spec, load_spec

        spec = spec if isinstance(spec, Spec) else load_spec(spec)
        aggregates, profile = aggregate_parquet(data, spec, scheduler=scheduler)
        for note in profile["notes"]:
            log(f"note: {note}")
        return (
            aggregates,
            spec,
            profile["responses"],
            profile["dropped_missing_outcome"],
            profile["fingerprint"],
        )
    from whatif.data.aggregate import aggregate
    from whatif.data.survey import load_survey

    survey = load_survey(data, spec)
    for note in survey.notes:
        log(f"note: {note}")
    return (
        aggregate(survey),
        survey.spec,
        len(survey.frame),
        survey.dropped_missing_outcome,
        survey.fingerprint,
    )


def fit_to_artefact(
    data: str | Path,
    spec,
    out: str | Path,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    config: str | Path | None = None,
    engine: str = "auto",
    scheduler: str | None = None,
    progress: bool = False,
    log: Log | None = None,
):
    """Load, validate, aggregate, fit and save atomically.

    Parameters
    ----------
    data
        Survey file, folder or glob of Parquet files.
    spec
        Spec TOML path or a :class:`whatif.data.spec.Spec`.
    out
        Artefact folder; an earlier artefact there is replaced only once the new one is complete.
    draws, tune, chains, seed
        NUTS settings.
    config
        TOML with a ``[priors]`` table.
    engine, scheduler
        ``"pandas"``, ``"dask"`` (optionally on the dask.distributed ``scheduler``) or ``"auto"``:
        Dask for a folder or glob of Parquet files or when a scheduler is given, else pandas.
    progress
        Show the sampler's progress bar (a terminal).
    log
        Called with one line per stage ("reading ...", "aggregated ...", "compiling ...",
        "sampling ...", "summarizing ...", "saving ...", "saved ...").

    Returns
    -------
    whatif.fitting.fitted.FittedModel
    """
    from whatif.fitting.artefact import save_model
    from whatif.fitting.compiled import prepare_entries
    from whatif.fitting.fit import fit_model
    from whatif.model.priors import load_priors

    say = log or _quiet
    check_sampler(draws, tune, chains)
    check_out(out)
    priors = load_priors(config)
    prepare_entries()
    t0 = time.perf_counter()
    aggregates, spec, responses, missing, fingerprint = _aggregate(
        data, spec, engine, scheduler, say
    )
    if missing:
        say(f"dropped {missing} rows with a missing outcome")
    agg_s = time.perf_counter() - t0
    dropped = int(aggregates["n_total"].sum() - aggregates["n"].sum())
    say(
        f"aggregated {responses} responses into {aggregates.sizes['channel']} channels x "
        f"{aggregates.sizes['year']} years in {agg_s:.1f} s"
        + (f" ({dropped} incomplete rows left out of the regressions)" if dropped else "")
    )
    model = fit_model(
        aggregates,
        spec,
        priors=priors,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        progress=progress,
        fingerprint=fingerprint,
        source=str(data),
        log=say,
    )
    model.manifest["timings"]["aggregate_s"] = agg_s
    say(f"saving {out}")
    path = save_model(model, out)
    _report(model, t0, say)
    say(f"saved {path}")
    return model


def refit_to_artefact(
    previous: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    spec: str | Path | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    discount: float | None = None,
    replace: bool = False,
    freeze: bool = False,
    progress: bool = False,
    log: Log | None = None,
):
    """Add a new year's survey to a previous fit, fit again and save (see :mod:`whatif.fitting.refit`).

    Parameters
    ----------
    previous
        The previous artefact folder.
    data
        The new year's survey file.
    out
        The new artefact folder (not ``previous``).
    spec
        Spec TOML; default the previous fit's.
    discount, replace, freeze
        How the past is carried (:func:`whatif.fitting.refit.refit`).
    log
        Called with one line per stage.

    Returns
    -------
    whatif.fitting.fitted.FittedModel
    """
    from whatif.data.survey import load_survey
    from whatif.fitting.artefact import load_model, save_model
    from whatif.fitting.refit import refit
    from whatif.fitting.registry import write_index

    say = log or _quiet
    check_sampler(draws, tune, chains)
    t0 = time.perf_counter()
    before = load_model(previous)
    check_out(out, previous)
    say(f"previous fit {previous}: years {', '.join(map(str, before.years))}")
    say(f"reading {data}")
    survey = load_survey(
        data, spec if spec is not None else before.spec, known_channels=before.channels
    )
    for note in survey.notes:
        say(f"note: {note}")
    if survey.dropped_missing_outcome:
        say(f"dropped {survey.dropped_missing_outcome} rows with a missing outcome")
    model = refit(
        before,
        survey,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        discount=discount,
        replace=replace,
        freeze=freeze,
        progress=progress,
        source=str(data),
        log=say,
    )
    say(f"saving {out}")
    path = save_model(model, out)
    _report(model, t0, say)
    say(f"saved {path} (years {', '.join(map(str, model.years))})")
    try:
        write_index(path.parent)
    except WhatifError as err:
        say(f"note: index not updated ({err}); 'whatif models' rebuilds it")
    return model


def _report(model, t0: float, say: Log) -> None:
    timings = model.manifest["timings"]
    say(
        f"compile {timings['compile_s']:.1f} s, sampling {timings['sample_s']:.1f} s, "
        f"total {time.perf_counter() - t0:.1f} s"
    )
    say(model.verdict)
