""" "Latest request wins": the one way a window asks the database while the user types.

A caller's number typed a digit at a time, a customer chosen and then another, the job
type changed while its windows load: each asks again before the last answer is in. A
``LatestRequest`` runs one request at a time, always for what was asked last, and hands
over an answer only if nothing was asked (or forgotten) since — so a slow answer to an
old question never overwrites the answer to the new one, and the database never holds
more than one query per kind per window. No Qt here, so it is tested on its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

from dispatch_app.errors import UserFacingError

K = TypeVar("K")
T = TypeVar("T")

_NOTHING: Any = object()


class LatestRequest(Generic[K, T]):
    def __init__(
        self,
        fetch: Callable[[K], Awaitable[T]],
        *,
        show: Callable[[K, T], None],
        fail: Callable[[K, UserFacingError], None],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        self._fetch = fetch
        self._show = show
        self._fail = fail
        self._spawn = spawn
        self._wanted: K = _NOTHING
        self._asked = 0  # counts every ask and forget: an answer is current if it is unchanged
        self._running = False
        self.requests = 0  # how many requests were sent (what a test counts)

    @property
    def running(self) -> bool:
        return self._running

    def ask(self, key: K) -> None:
        """Ask for ``key``; what was asked before and not yet answered is dropped."""
        self._wanted = key
        self._asked += 1
        if not self._running:
            self._running = True
            self._spawn(self._run())

    def forget(self) -> None:
        """Nothing is wanted any more: a request in flight is answered to nobody."""
        self._wanted = _NOTHING
        self._asked += 1

    async def _run(self) -> None:
        try:
            while self._wanted is not _NOTHING:
                key, asked = self._wanted, self._asked
                self.requests += 1
                try:
                    answer = await self._fetch(key)
                except UserFacingError as error:
                    if asked == self._asked:
                        self._wanted = _NOTHING
                        self._fail(key, error)
                    continue
                if asked == self._asked:
                    self._wanted = _NOTHING
                    self._show(key, answer)
        finally:
            self._running = False
