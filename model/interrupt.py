"""Ctrl-C during a run: the interrupt is deferred to the end of the week under way."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


@contextmanager
def between_weeks():
    """Defer Ctrl-C to the end of the week: yields a function that raises
    ``KeyboardInterrupt`` if SIGINT arrived since the last call. An interrupt raised
    where it arrives could be lost, when it arrives while compiled code is being loaded
    (Numba runs Python callbacks from native code, where exceptions are dropped). Only
    Python's default handler, in the main thread, is replaced."""
    arrived: list[int] = []

    def check() -> None:
        if arrived:
            arrived.clear()
            raise KeyboardInterrupt

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield check
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: arrived.append(signum))
    try:
        yield check
        check()
    finally:
        signal.signal(signal.SIGINT, previous)
