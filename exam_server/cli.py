"""The ``exam`` command: serve, db upgrade, demo, worker, scans import."""

import logging
import signal
import threading
from typing import Literal

import typer
import uvicorn

from exam_server import migrate
from exam_server.scan_cli import app as scans_app
from exam_server.settings import Settings

app = typer.Typer(help="Online exam and automatic grading service.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(scans_app, name="scans")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Migrate the database at EXAM_DATABASE_URL to the latest schema."""
    settings = Settings()
    migrate.upgrade(settings.database_url, revision)
    typer.echo(f"database at {_redacted(settings.database_url)} is at revision {revision}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    port: int = typer.Option(8000, help="TCP port"),
    workers: int = typer.Option(1, min=1, help="uvicorn worker processes (use 1 with SQLite)"),
) -> None:
    """Serve the API and pages. With EXAM_REDIS_URL unset, jobs run inside this process."""
    uvicorn.run("exam_server.asgi:app", host=host, port=port, workers=workers, log_level="info", ws=WS_IMPL,
                ws_per_message_deflate=False, ws_max_size=WS_MAX_SIZE, ws_max_queue=WS_MAX_QUEUE)


# WebSocket settings for the proctoring connections (measured in bench/proctoring.py: sans-I/O
# websockets held 37 KB per idle connection, the legacy websockets protocol 43 KB): no
# per-message deflate (its zlib state costs tens of KB per connection), frames above 1 MiB cut by
# the library (close 1009), a small queue of received messages per connection.
WS_IMPL: Literal["websockets-sansio", "websockets", "wsproto"] = "websockets-sansio"
WS_MAX_SIZE = 1024 * 1024
WS_MAX_QUEUE = 4


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    port: int = typer.Option(8000, help="TCP port"),
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="start serving after seeding"),
) -> None:
    """Migrate, seed a demo school, teacher, students, items, a paper and an open exam; then serve."""
    from exam_server.demo import seed_demo

    settings = Settings()
    migrate.upgrade(settings.database_url)
    logins = seed_demo(settings)
    typer.echo(f"\nOpen http://{host}:{port}/  (API docs: http://{host}:{port}/docs)\n")
    for role, username, password in logins:
        typer.echo(f"  {role:<8} {username:<12} password: {password}")
    typer.echo("")
    if serve_after:
        serve(host=host, port=port, workers=1)


@app.command()
def worker(threads: int = typer.Option(0, help="worker threads (default: EXAM_WORKER_THREADS)")) -> None:
    """Run background jobs from Redis (EXAM_REDIS_URL must be set) until SIGINT/SIGTERM."""
    from exam_server.jobs.queue import Periodic
    from exam_server.runtime import build_runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    if settings.embedded_queue:
        raise typer.BadParameter("EXAM_REDIS_URL is not set: in the embedded mode `exam serve` runs the jobs itself")
    runtime = build_runtime(settings)
    runtime.queue.start_worker(threads or settings.worker_threads, Periodic.from_settings(settings))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    typer.echo("worker running; Ctrl-C to stop")
    stop.wait()
    runtime.close()


def _redacted(url: str) -> str:
    head, sep, tail = url.rpartition("@")
    return f"{head.split(':')[0]}://***@{tail}" if sep else url


if __name__ == "__main__":
    app()
