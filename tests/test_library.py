"""The team scenario library: names to safe files, atomic writes, concurrent saves, lookups."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from whatif.analysis.library import (
    MAX_NAME_LENGTH,
    MAX_SCENARIO_BYTES,
    ScenarioExists,
    ScenarioLibrary,
    resolve_scenario,
    scenario_slug,
)
from whatif.analysis.scenario import Lever, Scenario, load_scenario
from whatif.errors import ScenarioError


def plan(name: str, cap: float = 3.0) -> Scenario:
    return Scenario(name, (Lever("ivr_prompts", "influencer", "cap", cap),))


@pytest.fixture
def library(tmp_path) -> ScenarioLibrary:
    return ScenarioLibrary.for_model(tmp_path / "model")


def _inside(library: ScenarioLibrary) -> list[Path]:
    """Every file anywhere under the library's parent (the model folder)."""
    return sorted(p for p in library.folder.parent.rglob("*") if p.is_file())


# -- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Fewer IVR prompts", "fewer-ivr-prompts"),
        ("  Raise FCR by 10 pts!  ", "raise-fcr-by-10-pts"),
        ("Prévision été 2026", "prevision-ete-2026"),
        ("../x", "x"),
        ("../../etc/passwd", "etc-passwd"),
        ("/etc/passwd", "etc-passwd"),
        ("C:\\Windows\\system32", "c-windows-system32"),
        ("nul", "nul-scenario"),
    ],
)
def test_names_become_plain_file_names(name, slug):
    assert scenario_slug(name) == slug


def test_names_without_a_latin_form_or_cut_short_keep_apart_by_a_hash():
    chinese, japanese = scenario_slug("计划"), scenario_slug("計画")
    assert chinese.startswith("scenario-") and japanese.startswith("scenario-")
    assert chinese != japanese
    mixed = scenario_slug("Plan 计划")
    assert mixed.startswith("plan-") and mixed != scenario_slug("Plan")
    long_a, long_b = scenario_slug("x" * 100 + "a"), scenario_slug("x" * 100 + "b")
    assert long_a != long_b and len(long_a) <= 70


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "has no name"),
        ("   ", "has no name"),
        ("x" * (MAX_NAME_LENGTH + 1), "shorten it"),
        ("bad\x00name", "control or invisible"),
        ("two\nlines", "control or invisible"),
        ("right\u202eto left", "control or invisible"),
    ],
)
def test_names_that_cannot_be_saved_are_refused(library, name, message):
    with pytest.raises(ScenarioError, match=message):
        library.save(plan(name))
    assert _inside(library) == []


def test_no_name_writes_outside_the_library(library, tmp_path):
    hostile = ["../x", "../../escape", "/tmp/abs", "..", ".", ".hidden", "a/../../b", "~root"]
    for name in hostile:
        entry = library.save(plan(name))
        assert entry.path.parent == library.folder
        assert not entry.path.name.startswith(".")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.parent == library.folder for p in files)
    assert not (tmp_path / "x").exists() and not Path("/tmp/abs.toml").exists()
    assert {e.name for e in library.entries()} == set(hostile)


# -- saving and reading ---------------------------------------------------------------------------


def test_a_saved_scenario_is_an_ordinary_scenario_file_with_who_and_when(library):
    entry = library.save(plan("Fewer prompts"), user="alice")
    assert entry.path == library.folder / "fewer-prompts.toml"
    assert load_scenario(entry.path) == plan("Fewer prompts")  # whatif simulate reads it as is
    again = library.get("Fewer prompts")
    assert again.saved_by == "alice" and again.saved_at == entry.saved_at
    assert again.saved_at.endswith("Z") and again.saved_at[:2] == "20"
    assert again.scenario == plan("Fewer prompts")
    assert library.get("fewer PROMPTS").name == "Fewer prompts"  # one scenario per file name


def test_the_user_name_cannot_inject_lines(library):
    entry = library.save(plan("P"), user="eve\n[[lever]]\ninfluencer = 'x'")
    assert "\n" not in entry.saved_by
    assert library.get("P").scenario.levers == plan("P").levers


def test_saving_under_a_taken_name_asks_instead_of_overwriting(library):
    library.save(plan("Plan", 3), user="alice")
    before = (library.folder / "plan.toml").read_bytes()
    with pytest.raises(ScenarioExists) as err:
        library.save(plan("plan", 5), user="bob")
    assert err.value.existing.saved_by == "alice"
    assert err.value.suggestion == "plan (2)"
    assert "overwrite it, or save" in str(err.value)
    assert (library.folder / "plan.toml").read_bytes() == before
    library.save(plan(err.value.suggestion, 5))
    assert library.suggest_name("Plan") == "Plan (3)"
    library.save(plan("Plan", 7), user="bob", overwrite=True)
    assert library.get("Plan").scenario.levers[0].value == 7
    assert library.get("Plan").saved_by == "bob"
    assert sorted(e.name for e in library.entries()) == ["Plan", "plan (2)"]


def test_writes_leave_no_temporary_files(library):
    for i in range(5):
        library.save(plan(f"P{i}"))
        library.save(plan(f"P{i}", 4), overwrite=True)
    assert sorted(p.name for p in library.folder.iterdir()) == [f"p{i}.toml" for i in range(5)]


def test_deleting(library):
    library.save(plan("Gone soon"))
    deleted = library.delete("Gone soon")
    assert deleted.name == "Gone soon" and not deleted.path.exists()
    with pytest.raises(ScenarioError, match="no saved scenario 'Gone soon'"):
        library.delete("Gone soon")


def test_unreadable_files_are_reported_not_fatal(library):
    library.save(plan("Good"))
    (library.folder / "broken.toml").write_text("name = \n")
    (library.folder / "huge.toml").write_text("# " + "x" * MAX_SCENARIO_BYTES)
    entries, problems = library.scan()
    assert [e.name for e in entries] == ["Good"]
    assert len(problems) == 2 and any("broken.toml: not valid TOML" in p for p in problems)
    assert any("more than a scenario file can be" in p for p in problems)


def test_the_signature_changes_with_every_save_and_delete(library):
    empty = library.signature()
    library.save(plan("A"))
    one = library.signature()
    assert one != empty
    library.save(plan("B"))
    assert library.signature() != one
    library.delete("B")
    assert library.signature() == one


# -- many people at once --------------------------------------------------------------------------


def test_concurrent_saves_of_different_names_lose_nothing(library):
    names = [f"Plan {i}" for i in range(40)]
    errors = []

    def save(name):
        try:
            library.save(plan(name), user=name)
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=save, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = library.entries()
    assert sorted(e.name for e in entries) == sorted(names)
    assert all(e.saved_by == e.name for e in entries)


def test_concurrent_saves_of_one_name_save_one_and_ask_the_others(library):
    outcomes = []
    barrier = threading.Barrier(12)

    def save(i):
        barrier.wait()
        try:
            library.save(plan("Same", i), user=f"user{i}")
            outcomes.append(("saved", i))
        except ScenarioExists:
            outcomes.append(("asked", i))

    threads = [threading.Thread(target=save, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    saved = [i for what, i in outcomes if what == "saved"]
    assert len(saved) == 1 and len(outcomes) == 12
    entry = library.get("Same")
    assert entry.scenario.levers[0].value == saved[0] and entry.saved_by == f"user{saved[0]}"


def _process_saves(folder: str, worker: int, count: int) -> None:
    library = ScenarioLibrary(folder)
    for i in range(count):
        library.save(plan(f"w{worker} plan {i}", i), user=f"w{worker}")
        library.save(plan("Shared", worker), user=f"w{worker}", overwrite=True)


def test_processes_saving_at_once_lose_nothing_and_never_leave_half_a_file(library):
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_process_saves, args=(str(library.folder), w, 15)) for w in range(3)
    ]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
    assert [p.exitcode for p in workers] == [0, 0, 0]
    entries, problems = library.scan()
    assert problems == []
    names = {e.name for e in entries}
    assert {f"w{w} plan {i}" for w in range(3) for i in range(15)} <= names
    shared = library.get("Shared")
    assert shared.saved_by == f"w{int(shared.scenario.levers[0].value)}"
    assert not [p for p in library.folder.iterdir() if p.name.startswith(".")]


# -- the command line's --scenario ----------------------------------------------------------------


def test_a_scenario_value_is_a_file_first_then_a_saved_name(tmp_path):
    model = tmp_path / "model"
    library = ScenarioLibrary.for_model(model)
    library.save(plan("Saved plan", 4))
    assert resolve_scenario("Saved plan", model) == plan("Saved plan", 4)
    file = tmp_path / "Saved plan"
    file.write_text('name = "From file"\n[[lever]]\ninfluencer = "ivr_prompts"\ncap = 2\n')
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert resolve_scenario("Saved plan", model).name == "From file"  # a file wins
    finally:
        os.chdir(old)
    with pytest.raises(ScenarioError, match="no such file, and no saved scenario 'Saved plam'"):
        resolve_scenario("Saved plam", model)
    with pytest.raises(ScenarioError, match="did you mean 'Saved plan'"):
        resolve_scenario("Saved plam", model)
    with pytest.raises(ScenarioError, match="missing.toml: scenario file not found"):
        resolve_scenario("missing.toml", model)
    with pytest.raises(ScenarioError, match="none saved yet"):
        resolve_scenario("Anything", tmp_path / "other")


def test_a_refit_into_the_same_folder_keeps_the_saved_scenarios(tiny_model, tmp_path):
    from whatif.fitting.artefact import load_model, save_model

    folder = save_model(tiny_model, tmp_path / "models" / "m")
    library = ScenarioLibrary.for_model(folder)
    library.save(plan("Keep through refits"), user="alice")
    save_model(tiny_model, folder)  # what `whatif demo --refit` or a refit to --out does
    load_model(folder)
    assert [e.name for e in library.entries()] == ["Keep through refits"]
    assert library.get("Keep through refits").saved_by == "alice"
