"""Live updates that failed: tried again with backoff, and stale until one succeeds.

A failed batch is rolled back whole, so its files keep what the graph had before. Dropping it
would leave them out of date until they change again, with requests answering from the older
graph as if it were fresh. Instead each path is counted here: the batch is queued again after
a pause that doubles each time, up to `attempts` tries; until an update of the path succeeds
it is *unsettled*, and answers that wait for the editor say they are not fresh (ContentModified
or `partial`); after the last try it stays *stale*, shown in `forge/status`, until it changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


class FailedUpdates:
    def __init__(
        self,
        requeue: Callable[[list[str]], object],
        *,
        attempts: int = 3,
        first_pause: float = 0.2,
    ) -> None:
        self._requeue = requeue
        self._attempts = attempts
        self._first_pause = first_pause
        self._tries: dict[str, int] = {}
        self._lock = threading.Lock()

    def failed(self, paths: Iterable[str]) -> None:
        """A batch with these paths was rolled back: try again later, or give up on it."""
        again: list[str] = []
        with self._lock:
            for path in paths:
                tries = self._tries.get(path, 0) + 1
                self._tries[path] = tries
                if tries < self._attempts:
                    again.append(path)
            pause = (
                self._first_pause * 2 ** (max(self._tries.get(p, 1) for p in again) - 1)
                if again
                else 0
            )
        if again:
            timer = threading.Timer(pause, self._requeue, args=(sorted(again),))
            timer.daemon = True
            timer.start()

    def succeeded(self, paths: Iterable[str]) -> None:
        with self._lock:
            for path in paths:
                self._tries.pop(path, None)

    @property
    def unsettled(self) -> bool:
        with self._lock:
            return bool(self._tries)

    def stale(self) -> list[str]:
        """The paths every try failed for."""
        with self._lock:
            return sorted(p for p, tries in self._tries.items() if tries >= self._attempts)
