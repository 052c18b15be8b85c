"""The planner app in a real browser: `whatif app` served, driven with Debian's chromium.

One server per module on a copy of the demo model (or, on a fresh clone without one, a small model
fitted from the demo survey), next to a deliberately broken artefact.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = Path("/tmp/planner.png")
LOCAL_HOSTS = {"localhost", "127.0.0.1"}
LEVER = "IVR prompts to reach the information"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _demo_model_copy(target: Path) -> bool:
    """Copy models/demo when it is there and loads (it may be refitted by others meanwhile)."""
    from whatif.errors import ArtefactError
    from whatif.fitting.artefact import load_model

    source = ROOT / "models" / "demo"
    if not (source / "manifest.json").exists():
        return False
    try:
        shutil.copytree(source, target)
        load_model(target)
    except (OSError, ArtefactError):
        shutil.rmtree(target, ignore_errors=True)
        return False
    return True


@pytest.fixture(scope="module")
def planner_models(tmp_path_factory) -> Path:
    """``models/demo`` (a copy, or a 2 x 100-draw fit of the demo survey) and ``models/broken``."""
    models = tmp_path_factory.mktemp("planner") / "models"
    models.mkdir()
    demo = models / "demo"
    if not _demo_model_copy(demo):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "whatif.cli",
                "fit",
                str(ROOT / "data/demo/survey.parquet"),
                "--spec",
                str(ROOT / "data/demo/spec.toml"),
                "--out",
                str(demo),
                "--draws",
                "100",
                "--tune",
                "100",
                "--chains",
                "2",
            ],
            check=True,
            cwd=ROOT,
            timeout=900,
        )
    broken = models / "broken"
    shutil.copytree(demo, broken)
    (broken / "aggregates.nc").write_bytes(b"damaged")
    return models


@pytest.fixture(scope="module")
def server(planner_models):
    """``whatif app models/demo --port PORT --no-show`` in a subprocess; yields its URL."""
    port = _free_port()
    log_path = planner_models.parent / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "whatif.cli",
                "app",
                "models/demo",
                "--port",
                str(port),
                "--no-show",
            ],
            cwd=planner_models.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://localhost:{port}/"
    deadline = time.monotonic() + 240
    while True:
        if proc.poll() is not None:
            pytest.fail(f"whatif app exited ({proc.returncode}):\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"whatif app did not answer on {url}:\n{log_path.read_text()}")
        time.sleep(0.5)
    yield {"url": url, "log": log_path}
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _new_page(browser, requests: list[str]):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("request", lambda request: requests.append(request.url))
    return page


def _open(page, url: str):
    """Open the planner and wait for its headline: the first page must show it, no reload."""
    page.goto(url)
    headline = page.locator("#headline-lift")
    expect(headline).to_be_visible(timeout=90_000)
    expect(page.get_by_role("slider", name=LEVER)).to_be_attached(timeout=60_000)
    return headline


def _external(requests: list[str]) -> list[str]:
    return [
        u
        for u in requests
        if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname not in LOCAL_HOSTS
    ]


def test_the_planner_forecasts_saves_compares_and_exports(browser, server, tmp_path):
    requests: list[str] = []
    page = _new_page(browser, requests)
    headline = _open(page, server["url"])
    expect(headline).to_contain_text("0.0NPS points")
    expect(
        page.get_by_text("Flagged fit").or_(page.get_by_text("Healthy fit")).first
    ).to_be_visible()

    # moving a lever changes the headline, in well under a few seconds end to end
    slider = page.get_by_role("slider", name=LEVER)
    slider.focus()
    started = time.monotonic()
    page.keyboard.press("Home")  # cap IVR prompts at the lowest observed count
    expect(headline).not_to_have_text("0.0NPS points", timeout=30_000)
    latency = time.monotonic() - started
    assert latency < 5, f"the headline took {latency:.1f} s to follow the lever"
    assert headline.inner_text().startswith("+")
    expect(page.get_by_text(f"{LEVER}: cap at 0").first).to_be_visible()

    # save it: it appears in the comparison, next to the current scenario
    page.get_by_label("Scenario name").fill("No IVR prompts")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.get_by_text("Saved 'No IVR prompts'")).to_be_visible()

    # download it as a scenario file
    with page.expect_download() as download:
        page.get_by_role("button", name="Download .toml").first.click()
    toml_path = tmp_path / download.value.suggested_filename
    download.value.save_as(toml_path)
    assert toml_path.name == "no_ivr_prompts.toml"
    text = toml_path.read_text()
    assert 'name = "No IVR prompts"' in text and 'influencer = "ivr_prompts"' in text

    # a file that does not parse: a message in the page, nothing else changes
    page.locator("input[type=file]").first.set_input_files(
        files=[{"name": "broken.toml", "mimeType": "application/toml", "buffer": b'name = "x\n'}]
    )
    expect(page.get_by_text("broken.toml: not valid TOML").first).to_be_visible()

    # a good file loads into the planner and the saved scenarios
    page.locator("input[type=file]").first.set_input_files(
        files=[
            {
                "name": "halve.toml",
                "mimeType": "application/toml",
                "buffer": b'name = "Halve transfers"\n[[lever]]\ninfluencer = "transfers"\nscale = 0.5\n',
            }
        ]
    )
    expect(page.get_by_text("Loaded 'Halve transfers' from halve.toml")).to_be_visible()
    expect(page.get_by_label("Scenario name")).to_have_value("Halve transfers")

    # the forecast brief of the current scenario downloads as HTML or as PDF, each named so
    with page.expect_download(timeout=180_000) as download:
        page.get_by_role("button", name="Brief (HTML)").click()
    brief = tmp_path / download.value.suggested_filename
    download.value.save_as(brief)
    assert brief.name == "brief_halve_transfers.html"
    html = brief.read_text()
    assert "<html" in html.lower() and "Halve transfers" in html
    expect(page.get_by_text("as HTML (brief_halve_transfers.html)")).to_be_visible()
    with page.expect_download(timeout=180_000) as download:
        page.get_by_role("button", name="Brief (PDF)").click()
    brief = tmp_path / download.value.suggested_filename
    download.value.save_as(brief)
    assert brief.name == "brief_halve_transfers.pdf"
    assert brief.read_bytes().startswith(b"%PDF")
    expect(page.get_by_text("as PDF (brief_halve_transfers.pdf)")).to_be_visible()

    page.get_by_role("tab", name="Compare scenarios").click()
    compare = page.locator("table.wi").filter(has_text="Company lift (points)")
    expect(compare).to_contain_text("No IVR prompts", timeout=60_000)
    expect(compare).to_contain_text("Halve transfers")

    for tab, text in (
        ("Driver weights", "Driver weights over the years"),
        ("Priority map", "FIX FIRST"),
        ("Model & data", "Convergence diagnostics"),
    ):
        page.get_by_role("tab", name=tab).click()
        if text == "FIX FIRST":  # drawn on the canvas: check the table under it
            expect(page.get_by_text("most likely fix first on top")).to_be_visible(timeout=60_000)
        else:
            expect(page.get_by_text(text).first).to_be_visible(timeout=60_000)

    # back to the forecast with a lever set, for the picture
    page.get_by_role("tab", name="Forecast").click()
    expect(page.get_by_text("By channel: where the lift comes from")).to_be_visible()
    page.wait_for_timeout(1500)
    shot = tmp_path / "planner.png"
    page.screenshot(path=str(shot))
    shutil.copyfile(shot, SCREENSHOT)

    assert _external(requests) == [], "requests left localhost"
    assert "Traceback" not in page.content()
    page.context.close()


def test_sessions_are_independent_but_share_saved_scenarios(browser, server):
    requests: list[str] = []
    one, two = _new_page(browser, requests), _new_page(browser, requests)
    head_one = _open(one, server["url"])
    head_two = _open(two, server["url"])
    one.get_by_role("slider", name=LEVER).focus()
    one.keyboard.press("Home")
    expect(head_one).not_to_have_text("0.0NPS points", timeout=30_000)
    one.get_by_label("Scenario name").fill("Only mine")
    one.get_by_role("button", name="Save scenario").click()
    expect(one.get_by_text("Saved 'Only mine'")).to_be_visible()
    two.wait_for_timeout(1000)
    expect(head_two).to_have_text("0.0NPS points")  # the levers are each session's own
    expect(two.get_by_text("None yet: move a lever")).to_be_visible()
    two.get_by_role("tab", name="Compare scenarios").click()
    # the saved scenarios are the team's: the other session lists it, with who and when
    library = two.locator("table.wi").filter(has_text="Saved scenario")
    expect(library).to_contain_text("Only mine", timeout=60_000)
    expect(library).to_contain_text("saved, 20")
    assert _external(requests) == []
    one.context.close()
    two.context.close()


def test_saved_scenarios_survive_a_reload_and_compare_with_a_difference(browser, server):
    requests: list[str] = []
    page = _new_page(browser, requests)
    headline = _open(page, server["url"])
    slider = page.get_by_role("slider", name=LEVER)
    slider.focus()
    page.keyboard.press("Home")
    expect(headline).not_to_have_text("0.0NPS points", timeout=30_000)
    name = page.get_by_label("Scenario name")
    name.fill("Plan A")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.get_by_text("Saved 'Plan A'")).to_be_visible()
    first = headline.inner_text()
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(headline).not_to_have_text(first, timeout=30_000)
    name.fill("Plan B")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.get_by_text("Saved 'Plan B'")).to_be_visible()

    # saving under a taken name asks instead of overwriting
    name.fill("Plan A")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.get_by_text("is already in the team's scenarios")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("is already in the team's scenarios")).to_be_hidden()

    # an empty name is refused with a message
    name.fill("")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.get_by_text("Not saved: the scenario has no name")).to_be_visible()

    page.reload()  # F5: the saved scenarios are still there
    expect(page.locator("#headline-lift")).to_be_visible(timeout=60_000)
    page.get_by_role("tab", name="Compare scenarios").click()
    library = page.locator("table.wi").filter(has_text="Saved scenario")
    expect(library).to_contain_text("Plan A", timeout=60_000)
    expect(library).to_contain_text("Plan B")

    # the difference of two scenarios, with its interval and the chance B beats A
    for label, choice in (("Scenario A", "Plan A"), ("Scenario B", "Plan B")):
        field = page.locator(".MuiFormControl-root").filter(has_text=label).last
        field.get_by_role("combobox").click()
        page.get_by_role("listbox").get_by_text(choice, exact=True).click()
    difference = page.locator("table.wi").filter(has_text="P(B beats A)")
    expect(difference).to_contain_text("Company mean satisfaction (points)", timeout=60_000)
    expect(page.get_by_text("A: Plan A · B: Plan B")).to_be_visible()
    cell = difference.locator("tbody tr").first.locator("td").nth(2).inner_text()
    low, high = cell.split(" to ")
    assert low != high
    shot = Path("/tmp/planner_compare.png")
    page.screenshot(path=str(shot), full_page=True)
    assert _external(requests) == []
    assert "Traceback" not in page.content()
    page.context.close()


def test_a_broken_artefact_shows_an_error_in_the_page(browser, server):
    requests: list[str] = []
    page = _new_page(browser, requests)
    _open(page, server["url"])
    page.get_by_role("combobox").first.click()  # the model picker
    page.get_by_text("broken", exact=True).click()
    message = page.locator("text=checksum does not match the manifest >> visible=true")
    expect(message.first).to_be_visible(timeout=60_000)
    expect(page.locator("text=This model cannot be used >> visible=true").first).to_be_visible()
    assert "Traceback" not in page.content()
    # and back to a good model
    page.get_by_role("combobox").first.click()
    page.get_by_text("demo", exact=True).click()
    expect(page.locator("#headline-lift")).to_be_visible(timeout=60_000)
    assert _external(requests) == []
    page.context.close()
    assert "Traceback" not in server["log"].read_text()


@pytest.mark.parametrize("width,height", [(1280, 720), (1366, 768), (1920, 1080)])
def test_nothing_is_cut_off_at_common_screen_sizes(browser, server, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    _open(page, server["url"])
    expect(page.locator("canvas").nth(3)).to_be_visible()  # the forecast's two charts are drawn
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENSHOT.with_name(f"planner_{width}x{height}.png")))

    def box(locator, name: str) -> dict:
        found = locator.bounding_box()
        assert found is not None, f"{name} is not shown at {width}x{height}"
        return found

    def inside(found: dict, name: str, above_fold: bool = False) -> None:
        assert found["x"] >= 0 and found["x"] + found["width"] <= width + 0.5, (
            f"{name} is cut off at {width}x{height}: x {found['x']:.0f} to "
            f"{found['x'] + found['width']:.0f}"
        )
        if above_fold:
            assert found["y"] >= 0 and found["y"] + found["height"] <= height + 1, (
                f"{name} is below the fold at {width}x{height}: y {found['y']:.0f}"
            )

    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    inside(box(page.get_by_text("Upload .toml").first, "the Upload button"), "Upload", True)
    cards = page.locator(".ch")
    expect(cards).to_have_count(5)
    for i in range(5):
        inside(box(cards.nth(i), f"channel card {i + 1}"), f"channel card {i + 1}", True)
    charts = page.locator("canvas")
    for i in range(charts.count()):
        inside(box(charts.nth(i), f"chart canvas {i}"), f"chart canvas {i}")
    for i, slider in enumerate(page.get_by_role("slider").all()):  # the sidebar scrolls to each
        slider.scroll_into_view_if_needed()
        inside(box(slider, f"lever {i + 1}"), f"lever {i + 1}", True)
    for name in ("Save scenario", "Download .toml"):
        inside(box(page.get_by_role("button", name=name).first, name), name, True)
    context.close()
