"""Benchmark: one step of the browser page with its redraw, at several scales.

Starts the page's server (``python -m experiments.viz``) on a free port, opens it in
Debian's headless Chromium (driven by Playwright), and for each scale types it in the
Scale field, presses Reset, then presses Step repeatedly. A step is timed in the page,
from the click to the moment the new week's text, the new map and the new unemployment
plot are all shown. Prints, per scale: residents, the time of the reset (model built and
drawn), the median, 90th percentile and maximum step time in the browser, and for
comparison the model's step alone and the server's drawing alone, measured in this
process.

    python benchmarks/bench_viz.py [--scales 0.05,0.1,0.25,0.5,1] [--steps 20]
    python benchmarks/bench_viz.py --screenshot docs/img/viz.png --month 2008-03 --click Magog

With ``--screenshot`` it instead runs the page's default model to ``--month`` and saves a
PNG of the page (after clicking ``--click`` on the map and showing ``--view``).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1600, "height": 1000}

# Clicks Step and resolves with the milliseconds until the new week's text is shown, the
# unemployment plot has its new picture (the map's, sent in the same render, may be
# unchanged), and every picture of the page (map and plots) is loaded and painted.
TIMED_STEP = """
async () => {
  const q = (s) => document.querySelector(s);
  const before = q('.cohesion-week').textContent;
  const oldPlot = q('img.plot-unemployment').src, oldMap = q('img.cohesion-map').src;
  let seen = 0;
  const button = [...document.querySelectorAll('button')].find(b => b.textContent.trim().toLowerCase() === 'step');
  const t0 = performance.now();
  button.click();
  return await new Promise((resolve, reject) => {
    const check = () => {
      const w = q('.cohesion-week');
      const images = [...document.querySelectorAll('img.cohesion-map, img.cohesion-plot')];
      if (w && w.textContent !== before && !seen) seen = performance.now();
      const changed = q('img.plot-unemployment').src !== oldPlot || q('img.cohesion-map').src !== oldMap;
      const fresh = changed || (seen && performance.now() - seen > 1000);
      if (w && w.textContent !== before && fresh && images.length
          && images.every(i => i.complete && i.naturalWidth > 0)) {
        requestAnimationFrame(() => resolve(changed ? performance.now() - t0 : -1));
      } else if (performance.now() - t0 > 60000) {
        reject(new Error('no redraw within 60 s'));
      } else {
        setTimeout(check, 2);
      }
    };
    check();
  });
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The page's server in a child process, on a free local port."""

    def __init__(self, log: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = open(log or os.devnull, "w")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "experiments.viz", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the server did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self) -> Server:
        try:
            self.wait()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def open_page(browser, url: str):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(url)
    page.wait_for_selector("img.cohesion-map", timeout=90_000)
    page.wait_for_selector("img.plot-unemployment", timeout=90_000)
    return page


def set_scale_and_reset(page, scale: float) -> float:
    """Type ``scale`` in the Scale field, press Reset; return seconds until the new model is drawn."""
    field = page.get_by_role("textbox", name="Scale (1 = real size)")
    field.fill(repr(scale))
    field.press("Enter")
    if page.locator(".cohesion-week").inner_text().startswith("Week 0 "):
        timed_step(page)  # so that the reset's "Week 0" is seen only once the new run is shown
    old_map = None
    t0 = time.perf_counter()
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function(
        "([s, old]) => { const r = document.querySelector('.cohesion-run');"
        " const m = document.querySelector('img.cohesion-map');"
        " const w = document.querySelector('.cohesion-week');"
        " return r && r.textContent.includes('scale ' + s + ',') && w && w.textContent.startsWith('Week 0 ')"
        " && m && m.complete; }",
        arg=[f"{scale:g}", old_map],
        timeout=120_000,
    )
    return time.perf_counter() - t0


def timed_step(page) -> float | None:
    """Seconds from the click on Step to the new week drawn; None when neither the plot's
    nor the map's picture changed (a week can move the plot by less than a pixel), whose
    end cannot be seen."""
    ms = page.evaluate(TIMED_STEP)
    return None if ms < 0 else ms / 1000.0


def server_side(scale: float, steps: int) -> tuple[float, float]:
    """Median seconds of the model's step, and of drawing the map and the plots, in this process."""
    from viz.charts import CHARTS
    from viz.mapview import DEFAULT_LAYER, DEFAULT_LEVEL
    from viz.pictures import Pictures
    from viz.session import Session, Settings

    session = Session(Settings(scale=scale))
    pictures = Pictures(session)

    def draw(snap):
        pictures.map_png(snap.main, DEFAULT_LAYER, DEFAULT_LEVEL)
        for i in range(len(CHARTS)):
            pictures.chart_png(i, snap.main, snap.twin)

    for _ in range(2):
        draw(session.step())
    step_t, draw_t = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        snap = session.step()  # the model's week and the snapshot the page draws from
        t1 = time.perf_counter()
        draw(snap)
        t2 = time.perf_counter()
        step_t.append(t1 - t0)
        draw_t.append(t2 - t1)
    return statistics.median(step_t), statistics.median(draw_t)


def benchmark(scales: list[float], steps: int, warmup: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with Server() as server, sync_playwright() as pw:
        browser = launch(pw)
        page = open_page(browser, server.url)
        for scale in scales:
            reset_s = set_scale_and_reset(page, scale)
            residents = re.search(r"([\d,]+) residents", page.locator(".cohesion-run").inner_text()).group(1)
            for _ in range(warmup):
                timed_step(page)
            times = sorted(t for t in (timed_step(page) for _ in range(steps)) if t is not None)
            model_s, draw_s = server_side(scale, steps)
            rows.append(
                {
                    "scale": scale,
                    "residents": residents,
                    "reset_s": reset_s,
                    "median_s": statistics.median(times),
                    "p90_s": times[int(0.9 * (len(times) - 1))],
                    "max_s": times[-1],
                    "model_step_s": model_s,
                    "server_draw_s": draw_s,
                }
            )
        browser.close()
    return rows


def screenshot(path: Path, month: str, click: str | None, view: str | None) -> None:
    """The page run to ``month`` (with "Run to"), optionally after clicking a municipality
    on the map and choosing a view (a tab)."""
    from playwright.sync_api import sync_playwright

    with Server() as server, sync_playwright() as pw:
        browser = launch(pw)
        page = open_page(browser, server.url)
        page.locator("label").filter(has_text="Use threads: keep simulating while drawing").first.click()
        field = page.get_by_role("textbox", name="Run to (year-month)")
        field.fill(month)
        field.press("Enter")
        page.get_by_role("button", name="Run to").click()
        page.wait_for_timeout(1000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('button')].some(b => b.textContent.trim() === '▶')", timeout=600_000
        )
        if click:
            from model.config import config_root
            from model.territory import load_territory
            from viz.mapview import tessellation_for

            territory = load_territory(config_root() / "territory")
            c, r = tessellation_for(territory).anchors[list(territory.municipalities["name"]).index(click)]
            img = page.locator("img.cohesion-map")
            k = img.bounding_box()["width"] / page.evaluate(
                "() => document.querySelector('img.cohesion-map').naturalWidth"
            )
            img.click(position={"x": c * k, "y": (r - 14) * k})
            page.locator(".cohesion-details").wait_for()
        if view:
            page.get_by_role("button", name=view).click()
        page.wait_for_timeout(1500)
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
        browser.close()
    print(f"{path}: {path.stat().st_size / 1024:.0f} KB, page run to {month}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="0.05,0.1,0.25,0.5,1", help="comma-separated scales (default %(default)s)")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per scale (default %(default)s)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default %(default)s)")
    ap.add_argument("--screenshot", type=Path, help="save a screenshot of the page here instead")
    ap.add_argument("--month", default="2008-03", help="run to this month before the screenshot (default %(default)s)")
    ap.add_argument("--click", help="click this municipality on the map before the screenshot")
    ap.add_argument("--view", help="show this view (Territory, Mechanisms, Scenario vs baseline)")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"error: {CHROMIUM} not found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    if args.screenshot:
        screenshot(args.screenshot, args.month, args.click, args.view)
        return 0
    scales = [float(s) for s in args.scales.split(",")]
    load = os.getloadavg()
    print(
        f"step + redraw in headless Chromium, {args.steps} steps per scale after {args.warmup} untimed; "
        f"{os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the start"
    )
    print(
        f"{'scale':>6} {'residents':>10} {'reset s':>8} {'median s':>9} {'p90 s':>7} {'max s':>7} "
        f"{'model step ms':>14} {'server draw ms':>15}"
    )
    for r in benchmark(scales, args.steps, args.warmup):
        print(
            f"{r['scale']:>6g} {r['residents']:>10} {r['reset_s']:>8.2f} {r['median_s']:>9.3f} {r['p90_s']:>7.3f} "
            f"{r['max_s']:>7.3f} {1000 * r['model_step_s']:>14.1f} {1000 * r['server_draw_s']:>15.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
