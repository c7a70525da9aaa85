"""``exam scans import FOLDER_OR_PDF --exam ID``: read scanned answer sheets from disk.

The reading runs in this process, or with ``--workers N`` in N child processes
(``concurrent.futures.ProcessPoolExecutor``: the reading is CPU-bound NumPy/OpenCV work, so
throughput grows with processes); every database write happens here, in the parent, one
transaction per page, through the same ``scans.record`` the HTTP upload's worker job uses.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exam_server.clock import Clock
from exam_server.db import session_scope
from exam_server.services import scans
from exam_server.services.scan_read import ReadOutcome, ReadSetup, count_pages, read_path, scan_files
from models import Exam, ScanBatch, User
from omr.layout import LayoutFileError, SheetLayout, load_layout

app = typer.Typer(help="Scanned answer sheets.", no_args_is_help=True)
Progress = Callable[[int, int], None]  # (pages done, pages in all)


def import_scans(factory: sessionmaker[Session], clock: Clock, source: Path, exam_id: int,
                 layout: SheetLayout | None, workers: int, username: str | None, data_dir: Path,
                 progress: Progress | None = None) -> tuple[int, scans.Tally]:
    """Read every page under ``source`` into exam ``exam_id``; returns the batch id and the tally."""
    files = [source] if source.is_file() else scan_files(source)
    if not files:
        raise ValueError(f"{source}: no scans found (PNG, JPEG, TIFF, PDF)")
    total = sum(count_pages(p.read_bytes(), p.name) for p in files)
    with session_scope(factory) as session:
        exam = session.get(Exam, exam_id)
        if exam is None:
            raise ValueError(f"exam {exam_id} does not exist")
        user_id = _user_id(session, exam, username)
        batch = ScanBatch(exam_id=exam_id, uploaded_by=user_id, status="running", files=len(files), pages=total,
                          done=0, read_ok=0, exceptions=0, duplicates=0, input_dir=str(source.resolve())[:500],
                          layout=layout.model_dump(mode="json") if layout else None, created_at=clock())
        session.add(batch)
        session.flush()
        batch_id = batch.id
        setup = scans.read_setup(session, exam_id, batch.layout)
    store = scans.store_for(data_dir)
    tally = scans.Tally()
    try:
        for outcome in _outcomes(files, setup, workers):
            status, code = scans.record_in_own_transaction(factory, clock, batch_id, outcome, store)
            tally.add(status, code)
            if progress is not None:
                progress(tally.pages, max(total, tally.pages))
    except BaseException as exc:
        _finish(factory, clock, batch_id, "failed", f"{type(exc).__name__}: {exc}"[:500])
        raise
    _finish(factory, clock, batch_id, "done", None)
    return batch_id, tally


def _outcomes(files: list[Path], setup: ReadSetup, workers: int) -> Iterator[ReadOutcome]:
    if workers <= 1:
        for path in files:
            yield from read_path(str(path), setup)
        return
    # Spawned, not forked: a fork copies OpenCV's thread pool in whatever state the parent left it
    # (measured: children hung), and a fresh process starts clean.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_child,
                             initargs=(setup,)) as pool:
        # In file order; up to 4 files per worker read ahead while the parent writes.
        pending = [pool.submit(_read_in_child, str(p)) for p in files[:workers * 4]]
        queued = len(pending)
        while pending:
            outcomes = pending.pop(0).result()
            if queued < len(files):
                pending.append(pool.submit(_read_in_child, str(files[queued])))
                queued += 1
            yield from outcomes


_child_setup: ReadSetup | None = None


def _start_child(setup: ReadSetup) -> None:
    """Each child gets the layouts once (the reader caches its geometry per layout object: sent
    with every file, each page would be a cache miss) and one OpenCV thread (N processes on N
    cores: OpenCV's own thread pool in each would only oversubscribe them)."""
    import cv2

    global _child_setup
    cv2.setNumThreads(1)
    _child_setup = setup


def _read_in_child(path: str) -> list[ReadOutcome]:
    assert _child_setup is not None, "the pool's initializer sets the layouts"
    return read_path(path, _child_setup)


def _user_id(session: Session, exam: Exam, username: str | None) -> int:
    if username is None:
        return exam.created_by
    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise ValueError(f"--user {username}: no such account")
    return int(user_id)


def _finish(factory: sessionmaker[Session], clock: Clock, batch_id: int, status: str, error: str | None) -> None:
    with session_scope(factory) as session:
        batch = session.get(ScanBatch, batch_id)
        if batch is not None:
            batch.status, batch.error, batch.finished_at = status, error, clock()


SourceArg = Annotated[Path, typer.Argument(exists=True, help="a folder of scans (searched recursively) or one file")]
LayoutOpt = Annotated[Path | None, typer.Option("--layout", exists=True, dir_okay=False,
                                                help="layout file (JSON/YAML) of a third-party sheet")]


@app.command("import")
def import_command(
    source: SourceArg,
    exam: Annotated[int, typer.Option("--exam", help="the exam the sheets belong to")],
    layout: LayoutOpt = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="reading processes")] = 1,
    user: Annotated[str | None, typer.Option("--user", help="recorded as the importer (default: the exam's creator)")]
    = None,
) -> None:
    """Read scanned answer sheets into an exam: responses on attempts, exceptions in the queue."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from exam_server.runtime import build_runtime
    from exam_server.settings import Settings

    try:
        sheet = load_layout(layout) if layout else None
    except (LayoutFileError, OSError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--layout") from exc
    runtime = build_runtime(Settings())
    try:
        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn()) as bar:
            task = bar.add_task("pages", total=None)
            batch_id, tally = import_scans(runtime.session_factory, runtime.clock, source, exam, sheet, workers, user,
                                           runtime.settings.data_dir,
                                           lambda done, total: bar.update(task, completed=done, total=total))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    finally:
        runtime.close()
    typer.echo(f"batch {batch_id}: {tally.pages} pages, {tally.read} read, {tally.exceptions} exceptions, "
               f"{tally.duplicates} duplicates")
    for code, count in sorted(tally.by_code.items()):
        typer.echo(f"  {code}: {count}")
