"""SIGINT and SIGTERM for the long-running local processes (the stack, the stand-in, the bench servers).

The handler takes no lock. A second signal can arrive while the first handler is still running (make forwards
SIGTERM to its child, so one `kill -TERM -- -<pgid>` arrives twice), and a handler that takes a lock —
``threading.Event.set`` does — then takes it twice in the same thread and never returns: the stack hung instead of
stopping. Appending to a list is one bytecode; the main thread polls it.
"""
from __future__ import annotations

import signal
import time
from typing import Callable


class StopSignals:
    def __init__(self, on_again: Callable[[int], None] | None = None):
        """``on_again(signum)`` runs (in the handler: no locks, no buffered writes) on the second signal only."""
        self.received: list[int] = []
        self._on_again = on_again

    def install(self) -> "StopSignals":
        """Our own handlers, not inherited ones: started under nohup or by a CI runner, SIGINT may arrive ignored
        (SIG_IGN), and the process would never stop. Call from the main thread."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        return self

    def _on_signal(self, signum: int, _frame) -> None:
        self.received.append(signum)
        if len(self.received) == 2 and self._on_again is not None:
            self._on_again(signum)

    def wait(self, step: float = 0.2) -> None:
        """Until a signal came, in short sleeps: Python runs handlers only in the main thread, between bytecodes."""
        while not self.received:
            time.sleep(step)
