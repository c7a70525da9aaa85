"""Storing a big import (or any bulk job) in short transactions, batch by batch.

On SQLite one writer holds the database's write lock for its whole transaction; an import of
20,000 items in one transaction would keep every candidate's save waiting for minutes. Here each
batch of at most ``import_batch_size`` items (and at most ``BATCH_SECONDS`` of work) is its own
transaction, and after each commit the importer pauses as long as the batch took (at least
``MIN_PAUSE``, at most ``MAX_PAUSE``), so the writers that queued meanwhile on the process's
write gate (:class:`exam_server.db.WriteGate`, woken the moment the lock is free) go first. The
import then runs at about half speed, the price of saves staying as fast as without it
(measured in bench/limits.py). On PostgreSQL, where writers of different rows do not wait for
each other, the batches are kept (short transactions, progress kept on a crash) but not the pause.

What this means for a crash midway: batches already committed stay; the rest were never
written. The response lists every item with its status, and ``committed`` says how many items
(from the start of the file) are in the bank; an error that stops the import marks the
unwritten items ``rejected`` with the reason, so a partial import is never reported as whole.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from exam_server.db import session_scope
from item_bank.formats import registry
from item_bank.formats.archive import ReadLimits
from item_bank.formats.draft import FormatError, ImportOutcome, ImportReport
from item_bank.interchange import ImportedRow, MediaStore, import_outcomes
from models import ItemStatus

# A batch stops early once its transaction has run this long, however few items it holds.
BATCH_SECONDS = 0.05
MIN_PAUSE = 0.05
MAX_PAUSE = 0.2

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class BatchRun:
    rows: list[ImportedRow] = field(default_factory=list)
    committed: int = 0  # items handled in committed transactions, from the start of the file
    batches: int = 0  # transactions committed
    stopped: str | None = None  # why the run stopped early, if it did


def run_in_batches(factory: sessionmaker[Session], things: Sequence[T], batch_size: int,
                   store: Callable[[Session, T], R]) -> tuple[list[R], int, str | None]:
    """Apply ``store`` to each thing, committing every batch. Returns the results of the committed
    ones, the number of batches and, if a batch failed, why (that batch and later ones are not written)."""
    results: list[R] = []
    batches = 0
    bind = factory.kw.get("bind")
    pause = bind is not None and bind.dialect.name == "sqlite"
    while len(results) < len(things):
        began = time.monotonic()
        try:
            with session_scope(factory) as session:
                batch = _one_batch(session, things, len(results), batch_size, store)
        except SQLAlchemyError as exc:
            return results, batches, f"stopped at item {len(results) + 1} on a database error ({type(exc).__name__})"
        results += batch
        batches += 1
        if pause and len(results) < len(things):
            time.sleep(min(MAX_PAUSE, max(MIN_PAUSE, time.monotonic() - began)))
    return results, batches, None


def _one_batch(session: Session, things: Sequence[T], start: int, batch_size: int,
               store: Callable[[Session, T], R]) -> list[R]:
    began = time.monotonic()
    batch: list[R] = []
    for thing in things[start:start + batch_size]:
        batch.append(store(session, thing))
        if time.monotonic() - began > BATCH_SECONDS:
            break
    return batch


def import_in_batches(factory: sessionmaker[Session], outcomes: Sequence[ImportOutcome], author_id: int,
                      now: datetime, media: MediaStore, status: ItemStatus, batch_size: int) -> BatchRun:
    """Store an import report's items in short transactions; one bad item never aborts a batch."""

    def store(session: Session, outcome: ImportOutcome) -> ImportedRow:
        return import_outcomes(session, [outcome], author_id, now, media, status)[0]

    run = BatchRun()
    run.rows, run.batches, run.stopped = run_in_batches(factory, outcomes, batch_size, store)
    run.committed = len(run.rows)
    for outcome in outcomes[run.committed:]:
        run.rows.append(ImportedRow(outcome.index, outcome.identifier, "rejected",
                                    [*outcome.messages, f"not stored: the import {run.stopped}; "
                                                        f"the first {run.committed} item(s) are stored"]))
    return run


# -- reading big files away from the API's interpreter ------------------------------------------

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def read_file(format_name: str, data: bytes, filename: str, limits: ReadLimits, subprocess_bytes: int) -> ImportReport:
    """Read (parse and check) an import file; files of ``subprocess_bytes`` or more are read in a
    child process. Reading 20,000 XLSX rows is ~10 s of pure-Python work: in the API process it
    would hold the GIL in 5 ms slices against every candidate's save (save p99 over 1 s while it
    ran, measured with bench/limits.py). The child is started once and kept; the archive and
    XLSX caps apply in it as they would here."""
    if len(data) < subprocess_bytes:
        return registry.read(format_name, data, filename, limits)
    try:
        return _reader().submit(registry.read, format_name, data, filename, limits).result()
    except BrokenProcessPool:
        _reset()
        raise FormatError(f"{filename}: reading the file stopped its reader process (too big to read?)") from None


def _reader() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _reset() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
