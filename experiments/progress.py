"""Progress on the command line: a tqdm bar on a terminal, plain lines otherwise (a log
file, a pipe, a batch job), so that a long command is never silent until its end."""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def is_terminal(stream=None) -> bool:
    stream = stream if stream is not None else sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class LineProgress:
    """The part of tqdm's interface the commands use, printing a line at each tenth of the
    way (and at most one every ``every`` seconds beyond that) instead of a bar."""

    def __init__(
        self,
        total: int,
        desc: str = "",
        unit: str = "it",
        initial: int = 0,
        stream=None,
        every: float = 30.0,
        steps: int = 10,
    ):
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self.stream = stream if stream is not None else sys.stderr
        self.every, self.steps = every, steps
        self.t0 = self.last_t = time.perf_counter()
        self.last_step = self._step()
        self.postfix = ""
        self.initial = initial
        self.closed = False

    def _step(self) -> int:
        return int(self.steps * self.n / self.total) if self.total else 0

    def _line(self) -> str:
        el = time.perf_counter() - self.t0
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        text = f"{self.desc}: {self.n}/{self.total} {self.unit}s{pct}, {_clock(el)} elapsed"
        done_now = self.n - self.initial
        if 0 < done_now and self.n < self.total:
            text += f", about {_clock(el / done_now * (self.total - self.n))} left"
        return text + (f", {self.postfix}" if self.postfix else "")

    def update(self, k: int = 1) -> None:
        self.n += k
        now = time.perf_counter()
        step = self._step()
        if step > self.last_step or now - self.last_t >= self.every or self.n >= self.total:
            if self.n >= self.total and self.last_step >= self.steps:
                return
            self.last_step = max(step, self.last_step)
            self.last_t = now
            self.write(self._line())

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def write(self, text: str, file=None) -> None:
        print(text, file=file or self.stream, flush=True)

    def close(self) -> None:
        self.closed = True


def bar(total: int, desc: str, unit: str, enabled: bool = True, initial: int = 0, stream=None, **tqdm_kwargs):
    """A tqdm bar on a terminal, a :class:`LineProgress` elsewhere, a silent tqdm when
    ``enabled`` is false."""
    from tqdm import tqdm

    if not enabled:
        return tqdm(total=total, initial=initial, disable=True)
    if is_terminal(stream):
        return tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=False, file=stream, **tqdm_kwargs)
    return LineProgress(total, desc, unit, initial, stream)


class Stages:
    """Lines for the steps of a command that has no natural count (the analysis of a
    comparison): ``stages("effects table")`` prints ``analysis [1/6] effects table``;
    :meth:`done` prints the total time."""

    def __init__(self, name: str, total: int, enabled: bool = True, stream=None):
        self.name, self.total, self.enabled = name, total, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.i = 0
        self.t0 = self.t = time.perf_counter()

    def __call__(self, text: str) -> None:
        self.i += 1
        self.t = time.perf_counter()
        if self.enabled:
            print(f"{self.name} [{self.i}/{self.total}] {text}", file=self.stream, flush=True)

    def done(self, text: str = "done") -> None:
        if self.enabled:
            print(f"{self.name}: {text} in {_clock(time.perf_counter() - self.t0)}", file=self.stream, flush=True)
