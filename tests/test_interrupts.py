"""Interrupted fits: SIGINT or SIGTERM at any stage leaves the earlier artefact byte for byte.

The ``slow`` tests run ``whatif fit`` / ``whatif refit`` in a subprocess on a tiny survey and send
the signal when a stage's progress line appears on stderr (plus a delay within sampling); no test
hook exists in the library. The others run the command line in this process with the sampler
replaced by the session's tiny fit and the signal sent from a patched write, so that they can hit
the few milliseconds of saving exactly: mid-write, swallowed by a library, and during the swap.
"""

from __future__ import annotations

import copy
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr
from typer.testing import CliRunner

import whatif.app.server
import whatif.fitting.fit
from whatif import interrupts
from whatif.cli import app
from whatif.fitting.artefact import load_model, save_model

ROOT = Path(__file__).resolve().parents[1]
# long enough sampling (about a second) to land a signal in it; else as short as may be
LONG = ["--draws", "4000", "--tune", "1000", "--chains", "2", "--seed", "5"]
SHORT = ["--draws", "300", "--tune", "300", "--chains", "2", "--seed", "5"]
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


@pytest.fixture(scope="module")
def files(tiny_survey, tmp_path_factory) -> Path:
    """The tiny survey as CSV files (all years; the last year alone) and its spec."""
    _, frame, spec, _ = tiny_survey
    folder = tmp_path_factory.mktemp("interrupts")
    frame.to_csv(folder / "survey.csv", index=False)
    last = frame["year"].max()
    frame[frame["year"] == last].to_csv(folder / "last.csv", index=False)
    (folder / "spec.toml").write_text(spec.to_toml(), encoding="utf-8")
    return folder


@pytest.fixture
def earlier(tiny_model_path, tmp_path) -> Path:
    """An earlier artefact at ``tmp_path/models/m``, the one an interrupted fit must not touch."""
    target = tmp_path / "models" / "m"
    shutil.copytree(tiny_model_path, target)
    return target


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Temporary folders and files of a save (``.NAME.tmp-PID``, ``.NAME.old-PID``)."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


# -- real signals, real fits (subprocesses) --------------------------------------------------


def interrupt(args: list, cwd: Path, stage: str, delay: float, signum: int):
    """Run the command line; send ``signum`` ``delay`` s after the ``stage`` line. Returns
    (exit code, stderr before the signal, stderr after it)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "whatif.cli", *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    before = []
    try:
        for line in proc.stderr:
            before.append(line)
            if line.startswith(f"whatif: {stage}"):
                time.sleep(delay)
                proc.send_signal(signum)
                break
        after = proc.stderr.read()
        code = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert any(line.startswith(f"whatif: {stage}") for line in before), "".join(before)
    return code, "".join(before), after


def assert_one_interrupted_line(after: str, before: str, signum: int, code: int):
    lines = [line for line in after.splitlines() if line.strip()]
    # progress lines may still come if the stage ended before the signal arrived
    others = [line for line in lines if not line.startswith("whatif: ")]
    assert len(others) == 1 and others[0].startswith("interrupted"), before + after
    assert code == EXIT[signum], before + after


CASES = [
    ("reading", 0.0, signal.SIGINT, SHORT),
    ("aggregated", 0.0, signal.SIGTERM, SHORT),
    ("compiling", 0.5, signal.SIGINT, SHORT),
    ("sampling", 0.05, signal.SIGTERM, LONG),  # warm-up: nutpie would return the draws so far
    ("sampling", 0.25, signal.SIGINT, LONG),
    ("summarizing", 0.0, signal.SIGINT, SHORT),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stage", "delay", "signum", "sampler"),
    CASES,
    ids=[f"{stage}+{delay}s-{signal.Signals(sig).name}" for stage, delay, sig, _ in CASES],
)
def test_an_interrupted_fit_leaves_the_earlier_artefact(
    files, earlier, stage, delay, signum, sampler
):
    before_files = snapshot(earlier)
    args = ["fit", files / "survey.csv", "--spec", files / "spec.toml", "--out", earlier]
    code, before, after = interrupt([*args, *sampler], earlier.parent, stage, delay, signum)
    assert_one_interrupted_line(after, before, signum, code)
    assert after.strip().endswith(f"nothing was written; {earlier} is as it was")
    assert snapshot(earlier) == before_files
    assert not leftovers(earlier.parent)


@pytest.mark.slow
def test_an_interrupt_while_saving_leaves_one_whole_artefact(files, earlier):
    """A real signal at the saving line: the earlier artefact, or the new one if the swap came
    first (then said so), never a mix, and no temporary folders."""
    before_files = snapshot(earlier)
    args = ["fit", files / "survey.csv", "--spec", files / "spec.toml", "--out", earlier]
    code, before, after = interrupt([*args, *SHORT], earlier.parent, "saving", 0.0, signal.SIGTERM)
    assert_one_interrupted_line(after, before, signal.SIGTERM, code)
    if "interrupted after saving" in after:
        assert load_model(earlier).manifest["sampler"]["seed"] == 5
    else:
        assert snapshot(earlier) == before_files
    assert not leftovers(earlier.parent)


@pytest.mark.slow
def test_an_interrupted_refit_writes_nothing(files, earlier):
    models = earlier.parent
    # the earlier artefact without its last year is the previous fit; the last year the new file
    previous = load_model(earlier)
    previous.aggregates = previous.aggregates.sel(year=previous.years[:-1])
    save_model(previous, models / "prev")
    before_files = {name: snapshot(models / name) for name in ("m", "prev")}
    args = ["refit", models / "prev", files / "last.csv", "--out", earlier, *LONG]
    code, before, after = interrupt(args, models, "sampling", 0.2, signal.SIGINT)
    assert_one_interrupted_line(after, before, signal.SIGINT, code)
    assert {name: snapshot(models / name) for name in ("m", "prev")} == before_files
    assert not leftovers(models) and not (models / "index.json").exists()


# -- in this process: the save itself --------------------------------------------------------


@pytest.fixture
def fake_sampler(tiny_model, monkeypatch):
    """Skip compiling and sampling: every fit returns (a copy of) the session's tiny fit."""

    def fit_model(*args, **kwargs):
        log = kwargs.get("log") or (lambda _m: None)
        log("compiling the model (cached after the first run)")
        log("sampling 2 chains x 300 draws (+300 tuning)")
        log("summarizing the draws and checking convergence")
        return copy.deepcopy(tiny_model)

    monkeypatch.setattr(whatif.fitting.fit, "fit_model", fit_model)


def run_fit(files, out, *extra):
    args = ["fit", files / "survey.csv", "--spec", files / "spec.toml", "--out", out, *extra]
    return CliRunner().invoke(app, [str(a) for a in args])


def send_during(monkeypatch, owner, name: str, signum: int, swallow: bool = False):
    """Patch ``owner.name`` to send ``signum`` to this process when first called, then do its
    work (the handler's exception is swallowed inside when ``swallow``, as some libraries do)."""
    real = getattr(owner, name)
    sent = []

    def patched(*args, **kwargs):
        if not sent:
            sent.append(signum)
            try:
                os.kill(os.getpid(), signum)
            except KeyboardInterrupt:
                if not swallow:
                    raise
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, patched)
    return sent


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_writing_netcdf_writes_nothing(
    files, earlier, fake_sampler, monkeypatch, signum
):
    before = snapshot(earlier)
    previous = {sig: signal.getsignal(sig) for sig in interrupts.SIGNALS}
    sent = send_during(monkeypatch, xr.Dataset, "to_netcdf", signum)
    result = run_fit(files, earlier)
    assert sent
    assert result.exit_code == EXIT[signum], result.output
    assert result.stderr.splitlines()[-1] == (
        f"interrupted: nothing was written; {earlier} is as it was"
    )
    assert "Traceback" not in result.output
    assert snapshot(earlier) == before
    assert not leftovers(earlier.parent)
    assert {sig: signal.getsignal(sig) for sig in interrupts.SIGNALS} == previous


def test_a_keyboard_interrupt_while_writing_writes_nothing(
    files, earlier, fake_sampler, monkeypatch
):
    before = snapshot(earlier)

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.Dataset, "to_netcdf", explode)
    result = run_fit(files, earlier)
    assert result.exit_code == 130, result.output
    assert result.stderr.splitlines()[-1].startswith("interrupted: nothing was written")
    assert snapshot(earlier) == before
    assert not leftovers(earlier.parent)


def test_a_swallowed_signal_still_writes_nothing(files, earlier, fake_sampler, monkeypatch):
    """A library that catches the interrupt (nutpie returned the draws so far) cannot make the
    fit save: the signal is remembered and checked before the swap."""
    before = snapshot(earlier)
    send_during(monkeypatch, xr.Dataset, "to_netcdf", signal.SIGTERM, swallow=True)
    result = run_fit(files, earlier)
    assert result.exit_code == 143, result.output
    assert result.stderr.splitlines()[-1].endswith(f"{earlier} is as it was")
    assert snapshot(earlier) == before
    assert not leftovers(earlier.parent)


def test_a_signal_during_the_swap_is_held_until_it_is_whole(
    files, earlier, fake_sampler, monkeypatch
):
    """The two renames run as one: the signal lands after them, and the message says so."""
    sent = send_during(monkeypatch, os, "replace", signal.SIGINT)
    result = run_fit(files, earlier)
    assert sent
    assert result.exit_code == 130, result.output
    assert (
        result.stderr.splitlines()[-1] == f"interrupted after saving: {earlier} holds the new fit"
    )
    assert "aggregate_s" in load_model(earlier).manifest["timings"]  # the new fit, whole
    assert not leftovers(earlier.parent)


def test_an_interrupted_first_fit_creates_nothing(files, tmp_path, fake_sampler, monkeypatch):
    send_during(monkeypatch, xr.Dataset, "to_netcdf", signal.SIGINT)
    result = run_fit(files, tmp_path / "models" / "new")
    assert result.exit_code == 130, result.output
    assert result.stderr.splitlines()[-1] == "interrupted: nothing was written"
    assert not (tmp_path / "models" / "new").exists()
    assert not leftovers(tmp_path / "models")


def test_an_interrupted_refit_in_process_writes_nothing(files, earlier, fake_sampler, monkeypatch):
    models = earlier.parent
    previous = load_model(earlier)
    previous.aggregates = previous.aggregates.sel(year=previous.years[:-1])
    save_model(previous, models / "prev")
    before = snapshot(models)
    send_during(monkeypatch, xr.Dataset, "to_netcdf", signal.SIGTERM)
    args = ["refit", models / "prev", files / "last.csv", "--out", models / "next"]
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 143, result.output
    assert result.stderr.splitlines()[-1] == "interrupted: nothing was written"
    assert snapshot(models) == before and not (models / "next").exists()
    assert not leftovers(models)


def test_an_interrupted_demo_fit_keeps_the_demo_model_and_serves_nothing(
    tmp_path, tiny_model_path, fake_sampler, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "data" / "demo", tmp_path / "data" / "demo")
    shutil.copytree(tiny_model_path, tmp_path / "models" / "demo")
    before = snapshot(tmp_path / "models" / "demo")
    served = []
    monkeypatch.setattr(whatif.app.server, "serve", lambda *a, **k: served.append(a))
    send_during(monkeypatch, xr.Dataset, "to_netcdf", signal.SIGTERM)
    result = CliRunner().invoke(app, ["demo", "--refit", "--no-show"])
    assert result.exit_code == 143, result.output
    assert result.stderr.splitlines()[-1] == (
        "interrupted: nothing was written; models/demo is as it was"
    )
    assert snapshot(tmp_path / "models" / "demo") == before
    assert not leftovers(tmp_path / "models") and not served


# -- the sampler's side ----------------------------------------------------------------------


class _ShortSampler:
    """nutpie after an interrupt: a trace with fewer draws than asked for."""

    def __init__(self, chains, draws):
        self.trace = xr.DataTree.from_dict(
            {"posterior": xr.Dataset({"x": (("chain", "draw"), [[0.0] * draws] * chains)})}
        )
        self.cancelled = False

    def sample(self, compiled, **kwargs):
        assert kwargs["blocking"] is False  # nutpie's blocking mode swallows Ctrl-C
        return self

    def wait(self):
        return self.trace

    def cancel(self):
        self.cancelled = True


@pytest.mark.parametrize(("chains", "draws"), [(2, 650), (1, 3000), (2, 0)])
def test_a_short_trace_is_an_interrupted_fit_not_a_fit(chains, draws):
    with pytest.raises(interrupts.InterruptedFit, match="stopped early"):
        whatif.fitting.fit._sample(
            _ShortSampler(chains, draws),
            None,
            draws=3000,
            tune=1000,
            chains=2,
            seed=0,
            progress=False,
        )


def test_the_handlers_are_restored_and_only_installed_around_the_work():
    previous = {sig: signal.getsignal(sig) for sig in interrupts.SIGNALS}
    with interrupts.handling_signals():
        assert signal.getsignal(signal.SIGTERM) is not previous[signal.SIGTERM]
        with pytest.raises(interrupts.Interrupted) as info:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler raises at the next bytecode; never sleeps this long
        assert info.value.exit_code == 143
        with pytest.raises(interrupts.Interrupted):
            interrupts.check()  # remembered
    assert {sig: signal.getsignal(sig) for sig in interrupts.SIGNALS} == previous
    interrupts.check()  # forgotten outside


class _SignalsWhenCollected:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)  # the handler raises here, inside the finalizer, where Python cannot raise


def test_a_signal_in_a_finalizer_is_remembered_without_a_traceback(monkeypatch):
    """As when Ctrl-C lands in the garbage collector's weakref callbacks while saving: Python
    cannot raise there, and its hook would print "Exception ignored" and a traceback."""
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    with interrupts.handling_signals():
        _SignalsWhenCollected()  # collected at once
        with pytest.raises(interrupts.Interrupted):
            interrupts.check()
        _RaisesWhenCollected()  # other errors in finalizers are still reported
    assert [type(r.exc_value) for r in reported] == [ValueError]
    assert sys.unraisablehook == reported.append


def test_an_error_a_library_makes_of_the_interrupt_is_the_interrupt():
    """As when Ctrl-C lands in numba's unpickling of a compiled function (the summaries call
    one): its dispatcher turns the exception into ``SystemError``, which would have reached the
    user as a traceback. After a signal, any error leaving the block is the interrupt."""
    with pytest.raises(interrupts.Interrupted) as caught, interrupts.handling_signals():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler raises here
        except interrupts.Interrupted as err:
            raise SystemError("returned a result with an exception set") from err
    assert caught.value.signum == signal.SIGINT
    assert isinstance(caught.value.__cause__, SystemError)
    with pytest.raises(ValueError), interrupts.handling_signals():  # no signal: itself
        raise ValueError("not an interrupt")


class _RaisesWhenCollected:
    def __del__(self):
        raise ValueError("a finalizer's own error")
