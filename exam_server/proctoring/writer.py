"""The process's event writer: client events of all connections, stored in group commits.

A connection submits one event and awaits its result (so its events stay in order); the writer's
tasks take whatever is queued (up to :data:`MAX_BATCH`), store it in one transaction in a worker
thread (:func:`exam_server.services.proctor_events.store_batch`) and hand each connection its own
result. With nothing queued an event is written at once; under load batches grow by themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import anyio
from sqlalchemy.orm import Session, sessionmaker

from exam_server.proctoring.evidence import EvidenceStore
from exam_server.services.proctor_events import Pending, store_batch
from exam_server.services.proctor_live import Outcome

MAX_BATCH = 500
WRITERS = 2  # batches in flight at once: one being written while the next one fills


class EventWriter:
    def __init__(self, factory: sessionmaker[Session], evidence: Callable[[], EvidenceStore],
                 limiter: anyio.CapacityLimiter, clock: Callable[[], datetime]) -> None:
        self._factory, self._evidence, self._limiter, self._clock = factory, evidence, limiter, clock
        self._queue: asyncio.Queue[tuple[Pending, asyncio.Future[Outcome]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def submit(self, item: Pending) -> Outcome:
        """Store one event; raises what storing it raised (LiveRefused: close the connection)."""
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._run()) for _ in range(WRITERS)]
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)

    async def _write(self, batch: list[tuple[Pending, asyncio.Future[Outcome]]]) -> None:
        items = [item for item, _ in batch]
        evidence = self._evidence() if any(item.jpeg is not None for item in items) else None
        try:
            results = await anyio.to_thread.run_sync(store_batch, self._factory, evidence, items, self._clock(),
                                                     limiter=self._limiter)
        except Exception as exc:  # noqa: BLE001 - a one-item batch's failure is that item's
            results = [exc] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its connection went away meanwhile
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
