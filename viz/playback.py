"""Playing a run in the browser: the sidebar's Run card and the thread that steps the model.

The Run card resets, plays or pauses, steps one week, sets the pause between weeks and
runs to a month (:func:`RunCard`); :class:`Runner` plays a session in a background thread
and hands each week's snapshot to the page, so that pictures are drawn from snapshots,
never from the model while it steps. The page that holds the card is ``viz/app.py``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import date

import solara

from viz.session import RunView, Session

MIN_INTERVAL_MS = 0
MAX_INTERVAL_MS = 1000
DEFAULT_INTERVAL_MS = 100


# -- texts ---------------------------------------------------------------------------------


def speed_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1f} weeks per second"


def month_of(text: str, view: RunView) -> date | None:
    """The first day of a month typed as ``YYYY-MM`` (or ``YYYY``), inside the run; None if not."""
    try:
        parts = [int(p) for p in str(text).strip().split("-")]
        day = date(parts[0], parts[1] if len(parts) > 1 else 1, 1)
    except (ValueError, IndexError):
        return None
    return day if view.start <= day <= view.end else None


# -- the run: controller ----------------------------------------------------------------------


def _kernel_context():
    """The browser tab's Solara context (None outside Solara's server, e.g. in tests)."""
    from solara.server import kernel_context

    return kernel_context.get_current_context() if kernel_context.has_current_context() else None


class Runner:
    """Plays a session in a background thread: steps, then hands the snapshot to the page.

    With ``threaded`` the model steps in its own thread without waiting for the page, and
    the page shows the latest snapshot each time it has drawn the previous one (weeks in
    between are simulated but not drawn). Either way pictures are drawn from snapshots,
    never from the model while it steps."""

    def __init__(self, session: Session, publish, interval_ms, threaded, target_week, done):
        self.session = session
        self.publish = publish  # called with each snapshot to show
        self.interval_ms = interval_ms  # callables, read at each week
        self.threaded = threaded
        self.target_week = target_week
        self.done = done
        self.stop = threading.Event()
        self.context = _kernel_context()  # the browser tab's, so that the thread can update its page
        self.thread = threading.Thread(target=self._run, daemon=True, name="cohesion-play")

    def start(self) -> None:
        self.thread.start()

    def _more(self) -> bool:
        s = self.session
        target = self.target_week()
        return not self.stop.is_set() and s.can_step and (target is None or s.main.steps < target)

    def _run(self) -> None:
        with self.context or contextlib.nullcontext():
            self._play()

    def _play(self) -> None:
        try:
            self.session.reset_speed()
            if self.threaded():
                self._run_threaded()
            else:
                while self._more():
                    t0 = time.perf_counter()
                    self.publish(self.session.step())
                    rest = self.interval_ms() / 1000 - (time.perf_counter() - t0)
                    if rest > 0:
                        self.stop.wait(rest)
        finally:
            self.done(self)

    def _run_threaded(self) -> None:
        finished = threading.Event()

        def stepper():
            try:
                while self._more():
                    self.session.step()
                    if self.interval_ms() > 0:
                        self.stop.wait(self.interval_ms() / 1000)
            finally:
                finished.set()

        worker = threading.Thread(target=stepper, daemon=True, name="cohesion-step")
        worker.start()
        shown = None
        while True:
            latest = self.session.latest
            if latest.stamp != shown:
                shown = latest.stamp
                self.publish(latest)
            elif finished.is_set():
                break
            else:
                time.sleep(0.005)
        worker.join()


def stop_playing(runner_ref) -> None:
    """Stop the runner held in ``runner_ref`` (if any) and wait for its thread, unless this
    is that thread."""
    runner = runner_ref.current
    if runner is not None:
        runner.stop.set()
        if runner.thread is not threading.current_thread():
            runner.thread.join(30)
        runner_ref.current = None


@solara.component
def RunCard(session: Session, snap, playing, runner_ref, reset):
    """Reset, play or pause, step; the pause between weeks and the speed; run to a month."""
    interval = solara.use_reactive(DEFAULT_INTERVAL_MS)
    threaded = solara.use_reactive(False)
    target = solara.use_reactive(None)  # week to run to, or None
    run_to = solara.use_reactive("2008-03")
    main = snap.value.main
    problem = main.problem

    def finished(runner):
        if runner_ref.current is runner:
            runner_ref.current = None
            target.set(None)
            playing.set(False)

    def play(to_week=None):
        if runner_ref.current is not None:
            return
        target.set(to_week)
        runner = Runner(
            session, snap.set, lambda: interval.value, lambda: threaded.value, lambda: target.value, finished
        )
        runner_ref.current = runner
        playing.set(True)
        runner.start()

    def pause():
        stop_playing(runner_ref)
        target.set(None)
        playing.set(False)

    def step():
        if not playing.value:
            snap.set(session.step())

    def run_to_month():
        day = month_of(run_to.value, main)
        if day is not None:
            play(session.main.steps + session.week_of(day))

    stopped = problem is not None or main.finished
    with solara.Card("Run", margin=0, classes=["cohesion-runcard"]):
        with solara.Row(justify="space-between"):
            solara.Button("Reset", color="primary", on_click=reset)
            solara.Button(
                "❚❚" if playing.value else "▶",
                color="primary",
                on_click=pause if playing.value else (lambda: play()),
                disabled=not playing.value and stopped,
            )
            solara.Button("Step", color="primary", on_click=step, disabled=playing.value or stopped)
        solara.SliderInt(
            f"Pause between weeks: {interval.value} ms",
            value=interval,
            min=MIN_INTERVAL_MS,
            max=MAX_INTERVAL_MS,
            step=10,
        )
        solara.Text(
            f"Speed: {speed_text(session.weeks_per_second() if playing.value else None)}",
            classes=["cohesion-speed"],
            style={"font-size": "13px"},
        )
        with solara.Tooltip(
            "Off: each week is drawn before the next is simulated. On: the model keeps "
            "stepping in the background and the page shows the latest week each time it "
            "has drawn the previous one (faster; the weeks in between are simulated but "
            "not drawn). Either way the pictures are drawn from a copy of the week, never "
            "from the model while it steps."
        ):
            with solara.Column(gap="0px"):
                solara.Checkbox(
                    label="Use threads: keep simulating while drawing", value=threaded, disabled=playing.value
                )
        with solara.Row(style={"align-items": "center"}):
            solara.InputText("Run to (year-month)", value=run_to, continuous_update=False, classes=["cohesion-runto"])
            solara.Button(
                "Run to",
                on_click=run_to_month,
                disabled=playing.value or stopped or month_of(run_to.value, main) is None,
            )
