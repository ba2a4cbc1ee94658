"""Handing the core's events to its subscribers: one unbounded, ordered stream each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from app.core.events import Event


class EventStream:
    """The events of one subscriber, in order, from subscription on (unbounded queue)."""

    def __init__(self, on_close: Callable[[EventStream], None]) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._on_close = on_close

    def put(self, event: Event) -> None:
        self._queue.put_nowait(event)

    async def get(self, timeout: float | None = None) -> Event:
        """The next event. Raises: TimeoutError: none within ``timeout`` seconds."""
        return await asyncio.wait_for(self._queue.get(), timeout)

    def get_nowait(self) -> Event | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float) -> Event:
        """The next event for which ``predicate`` is true (others are consumed).

        Raises:
            TimeoutError: none within ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while True:
                event = await self._queue.get()
                if predicate(event):
                    return event

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()

    def close(self) -> None:
        self._on_close(self)


class Subscribers:
    """The open event streams of one client; :meth:`emit` puts an event into each."""

    def __init__(self) -> None:
        self._streams: list[EventStream] = []  # open streams, in subscription order

    def subscribe(self) -> EventStream:
        """A new stream of every event from now on; close it when done."""
        stream = EventStream(self._streams.remove)
        self._streams.append(stream)
        return stream

    def emit(self, event: Event) -> None:
        for stream in self._streams:
            stream.put(event)

    def close(self) -> None:
        """Close every open stream (the client is closing)."""
        for stream in list(self._streams):
            stream.close()
