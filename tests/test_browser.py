"""The page in a real browser: Debian's Chromium, headless, driven by Playwright.

The server is started as a user starts it (``python -m experiments.viz``, what
``cohesion viz`` runs) on a free local port, with one extra scenario in a temporary
scenario folder so that choosing another scenario can be tested before the project's
own scenarios exist. Every request the page makes must stay on this machine.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (Debian: apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install -e '.[browser]')")

TEST_SCENARIO = "browser_check"
TEST_SCENARIO_TOML = """# Made by tests/test_browser.py: a scenario that differs visibly from the baseline.
[scenario]
description = "Browser test: jobs end four times as often as in the baseline."

[overrides]
labour.separation_rate = 0.016
"""

# The server with the scenario folder replaced, as ``python -c SERVE <folder> --port N``.
SERVE = """
import sys
from pathlib import Path
import model.config
model.config.SCENARIO_DIR = Path(sys.argv[1])
from experiments.viz import main
sys.exit(main(sys.argv[2:]))
"""

WEEK = re.compile(r"Week (\d+) of (\d+): (?:the run starts on (\S+)|(\S+) to (\S+))")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    scenarios = tmp_path_factory.mktemp("scenarios")
    for path in (ROOT / "configs" / "scenarios").glob("*.toml"):
        shutil.copy(path, scenarios)
    (scenarios / f"{TEST_SCENARIO}.toml").write_text(TEST_SCENARIO_TOML)
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", SERVE, str(scenarios), "--port", str(port)], cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with status {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not answer within 120 s:\n{log.read_text()}")
                time.sleep(0.3)
        yield {"url": url, "port": port, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Visit:
    """A page of the model, with everything it requested and logged."""

    def __init__(self, browser, server):
        self.server = server
        self.requests: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.page = page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(60_000)
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("websocket", lambda ws: self.requests.append(ws.url))
        page.on("console", lambda m: self.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.goto(server["url"])
        page.wait_for_selector("img.cohesion-map")
        page.wait_for_selector("img.plot-unemployment_rate")

    def week(self) -> tuple[int, date]:
        """Week number shown and the first day of that week (the start date before any step)."""
        m = WEEK.search(self.page.locator(".cohesion-week").inner_text())
        assert m, self.page.locator(".cohesion-week").inner_text()
        return int(m.group(1)), date.fromisoformat(m.group(3) or m.group(4))

    def image_digest(self, selector: str) -> str:
        """SHA-256 of the bytes of an image as the browser holds them."""
        self.page.wait_for_function(
            "s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; }",
            arg=selector)
        return self.page.evaluate("""async s => {
            const blob = await (await fetch(document.querySelector(s).src)).arrayBuffer();
            const hash = await crypto.subtle.digest('SHA-256', blob);
            return Array.from(new Uint8Array(hash)).map(b => b.toString(16).padStart(2, '0')).join('');
        }""", selector)

    def step(self, redrawn: str | None = None) -> None:
        """Press Step; wait for the next week's text and, if given, a new picture in ``redrawn``."""
        before = self.page.locator(".cohesion-week").inner_text()
        src = self.page.locator(redrawn).get_attribute("src") if redrawn else None
        self.page.get_by_role("button", name="Step").click()
        self.page.wait_for_function(
            "w => { const e = document.querySelector('.cohesion-week'); return e && e.textContent !== w; }",
            arg=before)
        if redrawn:
            self.page.wait_for_function("([s, old]) => document.querySelector(s).src !== old", arg=[redrawn, src],
                                        timeout=30_000)

    def reset(self) -> None:
        self.page.get_by_role("button", name="Reset").click()

    def type_into(self, label: str, text: str) -> None:
        field = self.page.get_by_role("textbox", name=label)
        field.fill(text)
        field.press("Enter")

    def choose(self, label: str, option: str) -> None:
        self.page.locator(".v-select").filter(has=self.page.get_by_text(label, exact=True)).click()
        self.page.locator(".menuable__content__active .v-list-item").filter(has_text=option).click()

    def foreign_requests(self) -> list[str]:
        port = self.server["port"]
        local = re.compile(rf"^(https?|wss?)://127\.0\.0\.1:{port}/|^blob:http://127\.0\.0\.1:{port}/|^data:")
        return [u for u in self.requests if not local.match(u)]

    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"] + self.errors

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def visit(browser, server, tmp_path):
    v = Visit(browser, server)
    yield v
    v.page.screenshot(path=str(tmp_path / "page.png"))
    v.close()


def test_page_loads_offline_with_map_and_plots(visit):
    page = visit.page
    assert page.title() == "Magog cohesion model"
    week, start = visit.week()
    assert week == 0 and start == date(2003, 1, 1)
    run = page.locator(".cohesion-run").inner_text()
    assert re.match(r"Scenario baseline, scale 1, seed 0, [\d,]+ residents", run), run
    sizes = page.evaluate("""() => [...document.querySelectorAll('img.cohesion-map, img.cohesion-plot')]
        .map(i => [i.className, i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width])""")
    assert len(sizes) == 5
    for name, width, height, shown in sizes:
        assert width > 300 and height > 150 and shown > 200, (name, width, height, shown)
    # the map is drawn: many distinct colours in its picture
    colours = page.evaluate("""() => { const i = document.querySelector('img.cohesion-map');
        const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;
        const g = c.getContext('2d'); g.drawImage(i, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data; const seen = new Set();
        for (let k = 0; k < d.length; k += 4 * 7) seen.add((d[k] << 16) | (d[k + 1] << 8) | d[k + 2]);
        return seen.size; }""")
    assert colours > 50
    for label in ("Scenario", "Map layer", "Reset", "Step"):
        assert page.get_by_text(label, exact=True).count() >= 1, label
    assert page.get_by_role("textbox", name="Scale").input_value() == "1.0"
    assert visit.foreign_requests() == []
    assert visit.console_errors() == []


def test_step_advances_the_date_and_changes_the_plot(visit):
    plot = "img.plot-unemployment_rate"
    digests = [visit.image_digest(plot)]
    weeks = [visit.week()]
    for _ in range(3):
        visit.step(redrawn=plot)
        weeks.append(visit.week())
        digests.append(visit.image_digest(plot))
    assert [w for w, _ in weeks] == [0, 1, 2, 3]
    assert weeks[1][1] == weeks[0][1]  # week 1 starts on the run's first day
    assert weeks[2][1] - weeks[1][1] == timedelta(days=7)
    assert weeks[3][1] - weeks[2][1] == timedelta(days=7)
    assert len(set(digests)) == 4  # the plot changes at every step
    assert "Time: 3" in visit.page.locator("text=Time:").inner_text()
    assert visit.foreign_requests() == []
    assert visit.console_errors() == []


def test_layer_selector_switches_the_map(visit):
    before = visit.image_digest("img.cohesion-map")
    src = visit.page.locator("img.cohesion-map").get_attribute("src")
    visit.choose("Map layer", "Distress")
    visit.page.wait_for_function("old => document.querySelector('img.cohesion-map').src !== old", arg=src)
    assert visit.image_digest("img.cohesion-map") != before
    assert visit.page.locator(".cohesion-layer-note").count() == 0  # distress is modelled
    src = visit.page.locator("img.cohesion-map").get_attribute("src")
    visit.choose("Map layer", "Unemployment rate")
    visit.page.wait_for_function("old => document.querySelector('img.cohesion-map').src !== old", arg=src)
    assert visit.image_digest("img.cohesion-map") == before
    assert visit.console_errors() == []


def test_another_scenario_and_reset_change_the_model(visit):
    plot = "img.plot-unemployment_rate"
    visit.type_into("Scale", "0.1")
    visit.reset()
    visit.page.wait_for_function("() => document.querySelector('.cohesion-run').textContent.includes('scale 0.1,')")
    for _ in range(4):
        visit.step(redrawn=plot)
    baseline = visit.image_digest(plot)
    visit.choose("Scenario", TEST_SCENARIO)
    visit.reset()
    run = visit.page.locator(".cohesion-run")
    visit.page.wait_for_function(
        f"() => document.querySelector('.cohesion-run').textContent.includes('Scenario {TEST_SCENARIO}')")
    # the scenario's value stands: the control still shows the default and was not passed
    assert "labour.separation_rate = 0.016" in run.inner_text()
    assert visit.week()[0] == 0
    for _ in range(4):
        visit.step(redrawn=plot)
    assert visit.week()[0] == 4
    assert visit.image_digest(plot) != baseline  # same seed, same weeks, another scenario
    assert visit.foreign_requests() == []
    assert visit.console_errors() == []


def test_a_bad_value_shows_a_message_and_the_page_recovers(visit):
    visit.type_into("Scale", "-1")
    visit.reset()
    problem = visit.page.locator(".cohesion-problem")
    problem.wait_for()
    text = problem.inner_text()
    assert "run.scale = -1.0 is below its minimum 0.001" in text and "press Reset" in text
    visit.type_into("Seed", "two")
    visit.type_into("Scale", "0.05")
    visit.reset()
    visit.page.wait_for_function(
        "() => (document.querySelector('.cohesion-problem') || {}).textContent?.includes(\"seed: 'two'\")")
    visit.type_into("Seed", "5")
    visit.reset()
    visit.page.locator(".cohesion-week").wait_for()
    assert visit.page.locator(".cohesion-problem").count() == 0
    assert "scale 0.05, seed 5" in visit.page.locator(".cohesion-run").inner_text()
    visit.step()
    assert visit.week()[0] == 1
    assert visit.console_errors() == []


def test_play_runs_weeks_until_paused(visit):
    visit.type_into("Scale", "0.05")
    visit.reset()
    visit.page.wait_for_function("() => document.querySelector('.cohesion-run').textContent.includes('scale 0.05,')")
    visit.page.get_by_role("button", name="▶").click()
    visit.page.wait_for_function(
        "() => /Week ([5-9]|\\d\\d+) of/.test(document.querySelector('.cohesion-week').textContent)")
    visit.page.get_by_role("button", name="❚❚").click()
    paused = visit.week()[0]
    visit.page.wait_for_timeout(1000)
    assert visit.week()[0] in (paused, paused + 1)  # a step in flight may still land
    assert visit.page.get_by_role("button", name="Step").is_enabled()
    assert visit.console_errors() == []
