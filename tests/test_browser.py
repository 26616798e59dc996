"""The page in a real browser: Debian's Chromium, headless, driven by Playwright.

The server is started as a user starts it (``python -m experiments.viz``, what
``cohesion viz`` runs) on a free local port, with one extra scenario in a temporary
scenario folder so that choosing another scenario can be tested before the project's
own scenarios exist. Every request the page makes must stay on this machine.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (Debian: apt-get install chromium)"),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[browser]')"
)


WEEK = re.compile(r"Week (\d+) of (\d+): (?:the run starts on (\S+)|(\S+) to (\S+))")


@pytest.fixture(scope="module")
def server(served_page):
    """The shared server (tests/conftest.py), with ``TEST_SCENARIO`` beside the project's."""
    return served_page


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
        page.wait_for_selector("img.plot-unemployment")

    def week(self) -> tuple[int, date]:
        """Week number shown and the first day of that week (the start date before any step)."""
        m = WEEK.search(self.page.locator(".cohesion-week").inner_text())
        assert m, self.page.locator(".cohesion-week").inner_text()
        return int(m.group(1)), date.fromisoformat(m.group(3) or m.group(4))

    def image_digest(self, selector: str) -> str:
        """SHA-256 of the bytes of an image as the browser holds them."""
        self.page.wait_for_function(
            "s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; }", arg=selector
        )
        return self.page.evaluate(
            """async s => {
            const blob = await (await fetch(document.querySelector(s).src)).arrayBuffer();
            const hash = await crypto.subtle.digest('SHA-256', blob);
            return Array.from(new Uint8Array(hash)).map(b => b.toString(16).padStart(2, '0')).join('');
        }""",
            selector,
        )

    def step(self, redrawn: str | None = None) -> None:
        """Press Step; wait for the next week's text and, if given, a new picture in ``redrawn``."""
        before = self.page.locator(".cohesion-week").inner_text()
        src = self.page.locator(redrawn).get_attribute("src") if redrawn else None
        self.page.get_by_role("button", name="Step").click()
        self.page.wait_for_function(
            "w => { const e = document.querySelector('.cohesion-week'); return e && e.textContent !== w; }", arg=before
        )
        if redrawn:
            self.page.wait_for_function(
                "([s, old]) => document.querySelector(s).src !== old", arg=[redrawn, src], timeout=30_000
            )

    def wait_images(self, selector: str) -> None:
        self.page.wait_for_function(
            "s => { const a = [...document.querySelectorAll(s)];"
            " return a.length && a.every(i => i.complete && i.naturalWidth > 0); }",
            arg=selector,
        )

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


def _server_tracebacks(server) -> list[str]:
    text = server["log"].read_text()
    return [chunk for chunk in text.split("Traceback (most recent call last)")[1:]]


def _page_text(page) -> str:
    return page.locator("body").inner_text()


def test_page_loads_offline_with_map_and_plots(visit):
    page = visit.page
    assert page.title() == "Magog cohesion model"
    week, start = visit.week()
    assert week == 0 and start == date(2003, 1, 1)
    run = page.locator(".cohesion-run").inner_text()
    assert re.match(r"Scenario baseline, scale 1, seed 0, [\d,]+ residents", run), run
    visit.wait_images("img.cohesion-map, img.cohesion-plot")
    sizes = page.evaluate("""() => [...document.querySelectorAll('img.cohesion-map, img.cohesion-plot')]
        .map(i => [i.className, i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width,
                   i.getBoundingClientRect().bottom])""")
    assert len(sizes) == 5
    for name, width, height, shown, _ in sizes:
        assert width > 300 and height > 150 and shown > 250, (name, width, height, shown)
    the_map = next(s for s in sizes if s[0] == "cohesion-map")
    assert the_map[3] >= 650, the_map  # larger than before (about 560 px), never clipped
    assert page.evaluate("() => document.querySelector('img.cohesion-map').getBoundingClientRect().right") <= 1600
    for label in ("Scenario", "Map layer", "Reset", "Step", "Pause between weeks: 100 ms", "Speed: —"):
        assert page.get_by_text(label, exact=True).count() >= 1, label
    assert "Use Threads" not in _page_text(page) and "Render Interval" not in _page_text(page)
    assert "Baseline: the closures of the timeline" in page.locator(".cohesion-description").inner_text()
    assert page.get_by_role("textbox", name="Scale (1 = real size)").input_value() == "1.0"
    assert visit.foreign_requests() == []
    assert visit.console_errors() == []


def test_step_advances_the_date_and_changes_the_plot(visit):
    plot = "img.plot-unemployment"
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
    assert visit.foreign_requests() == []
    assert visit.console_errors() == []


def test_playing_at_the_minimum_interval_with_threads_does_not_break_the_page(visit, server):
    """The crash of issue 17: at the minimum interval, with threads on, for a minute at the
    default scale, the page keeps showing weeks and no traceback appears."""
    page = visit.page
    before = len(_server_tracebacks(server))
    thumb = page.locator(".cohesion-runcard .v-slider__thumb-container").first
    thumb.focus()
    thumb.press("Home")  # the slider's minimum
    page.wait_for_function(
        "() => document.querySelector('.cohesion-runcard').textContent.includes('Pause between weeks: 0 ms')"
    )
    page.locator("label").filter(has_text="Use threads: keep simulating while drawing").first.click()
    page.get_by_role("button", name="▶").click()
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page.wait_for_timeout(2000)
        text = _page_text(page)
        assert "Traceback" not in text and page.locator(".cohesion-problem").count() == 0
        if page.locator(".cohesion-finished").count():
            break
        seen.add(visit.week()[0])
    assert len(seen) >= 5, seen  # the page kept showing new weeks
    speed = page.locator(".cohesion-speed").inner_text()
    assert re.search(r"Speed: [\d.]+ weeks per second", speed) or page.locator(".cohesion-finished").count()
    if page.get_by_role("button", name="❚❚").count():
        page.get_by_role("button", name="❚❚").click()
    week = visit.week()[0]
    assert week <= 835
    assert len(_server_tracebacks(server)) == before, _server_tracebacks(server)[before:]
    assert visit.console_errors() == []


def test_the_run_stops_at_its_last_week_and_says_so(visit):
    page = visit.page
    visit.type_into("Scale (1 = real size)", "0.02")
    visit.reset()
    page.wait_for_function("() => document.querySelector('.cohesion-run').textContent.includes('scale 0.02,')")
    page.locator("label").filter(has_text="Use threads: keep simulating while drawing").first.click()
    thumb = page.locator(".cohesion-runcard .v-slider__thumb-container").first
    thumb.focus()
    thumb.press("Home")  # no pause between weeks
    visit.type_into("Run to (year-month)", "2018-12")
    page.get_by_role("button", name="Run to").click()  # stops at the week of 1 December 2018
    page.wait_for_function(
        "() => /Week 8[23]\\d of 835/.test(document.querySelector('.cohesion-week').textContent)"
        " && [...document.querySelectorAll('button')].some(b => b.textContent.trim() === '▶')",
        timeout=600_000,
    )
    assert page.locator(".cohesion-finished").count() == 0
    page.get_by_role("button", name="▶").click()  # and on to the end
    page.locator(".cohesion-finished").wait_for(timeout=120_000)
    week, _ = visit.week()
    assert week == 835 and "Week 835 of 835: 2018-12-26 to 2019-01-01" in page.locator(".cohesion-week").inner_text()
    assert "The run has finished" in page.locator(".cohesion-finished").inner_text()
    assert page.get_by_role("button", name="Step").is_disabled()
    assert page.get_by_role("button", name="▶").is_disabled()
    page.wait_for_timeout(1500)
    assert visit.week()[0] == 835
    assert visit.console_errors() == []


def test_clicking_the_map_and_the_network_shows_what_they_hold(visit):
    from model.config import config_root
    from model.territory import load_territory
    from viz.mapview import tessellation_for

    page = visit.page
    territory = load_territory(config_root() / "territory")
    tess = tessellation_for(territory)
    names = list(territory.municipalities["name"])
    img = page.locator("img.cohesion-map")
    visit.wait_images("img.cohesion-map")
    natural = page.evaluate("() => document.querySelector('img.cohesion-map').naturalWidth")
    shown = img.bounding_box()["width"]
    for name in ("Potton", "Magog"):
        c, r = tess.anchors[names.index(name)]
        img.click(position={"x": c * shown / natural, "y": (r - 14) * shown / natural})
        card = page.locator(".cohesion-details")
        page.wait_for_function(
            "n => (document.querySelector('.cohesion-details') || {}).textContent?.includes(n)", arg=name
        )
        text = card.inner_text()
        for row in (
            "Residents",
            "Unemployed",
            "Laid-off workers living here",
            "Adults in high distress",
            "in a formal service",
            "Organizations",
        ):
            assert row in text, (row, text)
    # an organization of Magog, from its list
    page.locator(".cohesion-org").filter(has_text="CSSS de Memphrémagog").first.click()
    page.wait_for_function("() => document.querySelector('.cohesion-details').textContent.includes('Committees')")
    assert "Partners" in page.locator(".cohesion-details").inner_text()
    # a node of the network
    page.get_by_role("button", name="Mechanisms").click()
    visit.wait_images("img.cohesion-network, img.cohesion-paths, img.cohesion-guide")
    net = page.locator("img.cohesion-network")
    box = net.bounding_box()
    natural = page.evaluate(
        "() => [document.querySelector('img.cohesion-network').naturalWidth,"
        " document.querySelector('img.cohesion-network').naturalHeight]"
    )
    # the first node sits at the top of the circle (axes 0.2-0.8 wide, 0.12-0.84 high, radius 1 of 1.05)
    x = 0.5 * natural[0]
    y = natural[1] * (1 - (0.12 + 0.72 * (0.5 + 0.5 / 1.05)))
    net.click(position={"x": x * box["width"] / natural[0], "y": y * box["height"] / natural[1]})
    page.wait_for_function(
        "() => (document.querySelector('.cohesion-details') || {}).textContent?.includes('Partners')"
    )
    assert visit.console_errors() == []


def test_a_scenario_beside_the_baseline(visit):
    page = visit.page
    visit.choose("Scenario", "integrated_2005")
    page.wait_for_function(
        "() => document.querySelector('.cohesion-description').textContent.includes('Integrated response')"
    )
    for label in (
        "Economic recovery committee",
        "Community support committee",
        "Guide de l'aidant handed out",
        "Social worker in the plant before it closes",
    ):
        sync_api.expect(page.get_by_label(label)).to_be_checked()  # ticked after the description, so waited for
    page.locator("label").filter(has_text="Compare with the baseline (same seed, stepped together)").first.click()
    visit.type_into("Scale (1 = real size)", "0.05")
    visit.reset()
    page.wait_for_function(
        "() => document.querySelector('.cohesion-run').textContent.includes('Scenario integrated_2005, scale 0.05')"
    )
    page.get_by_role("button", name="Scenario vs baseline").click()
    visit.wait_images("img.cohesion-compare")
    digests = visit.image_digest("img.compare-unemployment")
    visit.type_into("Run to (year-month)", "2006-06")
    page.get_by_role("button", name="Run to").click()
    page.wait_for_function(
        "() => /Week (17[5-9]|1[89]\\d|[2-9]\\d\\d) of/.test(document.querySelector('.cohesion-week').textContent)",
        timeout=300_000,
    )
    page.wait_for_function("() => [...document.querySelectorAll('button')].some(b => b.textContent.trim() === '▶')")
    assert page.locator("img.cohesion-compare").count() == 4
    assert visit.image_digest("img.compare-unemployment") != digests
    assert "integrated_2005 (solid) and the baseline (dashed), same seed 0" in _page_text(page)
    assert visit.console_errors() == []


def test_tooltips_give_unit_range_and_source(visit):
    page = visit.page
    page.locator(".cohesion-control").filter(has_text="Economic recovery committee").first.hover()
    tip = page.locator(".v-tooltip__content.menuable__content__active")
    tip.wait_for()
    text = tip.inner_text()
    assert "interventions.recovery_committee.enabled" in text and "Source: scenario switch" in text
    page.get_by_text("Main parameters", exact=True).click()
    page.locator(".cohesion-control").filter(has_text="Jobs that end each week (1/week)").first.hover()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.v-tooltip__content.menuable__content__active')]"
        ".some(t => t.textContent.includes('labour.separation_rate'))"
    )
    text = page.locator(".v-tooltip__content.menuable__content__active").last.inner_text()
    assert "unit: 1/week" in text and "range: 0 to 1" in text and "Source:" in text
    assert visit.console_errors() == []


def test_a_bad_value_shows_a_message_and_the_page_recovers(visit):
    visit.type_into("Scale (1 = real size)", "-1")
    visit.reset()
    problem = visit.page.locator(".cohesion-problem")
    problem.wait_for()
    text = problem.inner_text()
    assert "run.scale = -1.0 is below its minimum 0.001" in text and "press Reset" in text
    visit.type_into("Seed", "two")
    visit.type_into("Scale (1 = real size)", "0.05")
    visit.reset()
    visit.page.wait_for_function(
        "() => (document.querySelector('.cohesion-problem') || {}).textContent?.includes(\"seed: 'two'\")"
    )
    visit.type_into("Seed", "5")
    visit.reset()
    visit.page.locator(".cohesion-week").wait_for()
    assert visit.page.locator(".cohesion-problem").count() == 0
    assert "scale 0.05, seed 5" in visit.page.locator(".cohesion-run").inner_text()
    visit.step()
    assert visit.week()[0] == 1
    assert visit.console_errors() == []
