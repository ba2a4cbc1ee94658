"""Background work of the models: coroutines scheduled on the running (qasync) loop.

Qt calls models synchronously (``fetchMore``, signal handlers); what they need from the core
is awaited in a task that applies its result when it completes. :class:`ModelTasks` keeps
those tasks alive, lets tests and views ``await settle()`` until a model has caught up, turns
a failed query into the bridge's ``errorOccurred`` (a readable dialog, never a traceback) and
cancels everything when the model goes away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from app.adapters.keystore import KeystoreError
from app.adapters.store.errors import StoreError
from app.core.errors import ClientClosed, ClientError

_log = logging.getLogger(__name__)

_READABLE = (ClientError, KeystoreError, StoreError)
"""Errors whose message is written for the user."""


class ModelTasks:
    """The tasks one model started; failures are reported through ``report(title, message)``."""

    def __init__(self, report: Callable[[str, str], None], context: str) -> None:
        self._report = report  # usually bridge.errorOccurred.emit
        self._context = context  # translation context of the error title
        self._tasks: set[asyncio.Task[None]] = set()  # running or not yet awaited

    def start(self, coroutine: Coroutine[Any, Any, None], title: str) -> asyncio.Task[None]:
        """Run ``coroutine`` on the current event loop; ``title`` (already translated) heads
        the error dialog if it fails."""
        task = asyncio.get_event_loop().create_task(self._guarded(coroutine, title))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(self, coroutine: Coroutine[Any, Any, None], title: str) -> None:
        try:
            await coroutine
        except asyncio.CancelledError:
            raise
        except ClientClosed:
            _log.debug("%s: the client is closed", self._context)
        except _READABLE as error:
            _log.info("%s: %s", self._context, type(error).__name__)
            self._report(title, str(error))

    @property
    def busy(self) -> bool:
        return any(not task.done() for task in self._tasks)

    async def settle(self) -> None:
        """Wait until every task started so far, and any they started, has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
