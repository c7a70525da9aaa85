"""Helpers for the browser tests: a real server in a subprocess and a headless system Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = REPO / "var" / "screenshots"
TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Server:
    base_url: str
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Generous by default: on a loaded 2-core machine importing OpenCV and onnxruntime alone can take tens of
# seconds; EXAM_TEST_SERVER_START_S overrides it.
START_TIMEOUT_S = float(os.environ.get("EXAM_TEST_SERVER_START_S", "120"))


def _wait_healthy(base_url: str, proc: subprocess.Popen[bytes], timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was healthy")
        try:
            if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling interval
    raise RuntimeError(f"server at {base_url} not healthy after {timeout}s")


@contextmanager
def running_server(tmp: Path) -> Iterator[Server]:
    """Seed the demo data into a fresh SQLite file, then serve it on a free port until exit."""
    env = {**os.environ, "EXAM_DATABASE_URL": f"sqlite:///{tmp}/e2e.db", "EXAM_DATA_DIR": str(tmp / "data")}
    env.pop("EXAM_REDIS_URL", None)
    cli = [sys.executable, "-m", "exam_server.cli"]
    subprocess.run([*cli, "demo", "--no-serve"], env=env, cwd=REPO, check=True, capture_output=True,
                   timeout=120)
    port = free_port()
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, cwd=REPO,
                                stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_healthy(server.base_url, proc)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def api_token(base_url: str, username: str, password: str) -> str:
    resp = httpx.post(f"{base_url}/api/auth/login", json={"username": username, "password": password},
                      timeout=10)
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def shot(pg: Any, name: str) -> None:
    """A full-page screenshot for people to look at (var/screenshots/)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.evaluate("window.scrollTo(0, 0)")  # sticky bars then sit where they belong in a full-page shot
    pg.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def require_browser() -> Any:
    """Skip the calling test module unless Debian's chromium and playwright are present.

    Returns playwright's ``expect``.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package 'chromium'); browser tests need it",
                    allow_module_level=True)
    sync_api = pytest.importorskip("playwright.sync_api", reason="the Python 'playwright' package is missing")
    return sync_api.expect
