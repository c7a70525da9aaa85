"""Shared pieces of bench/delivery.py: constants, logging, the run's options record, latency
statistics and the HTTP client wrapper that measures every request.

bench/ is not a package: delivery.py puts this directory on sys.path and imports the modules by name.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
OK = frozenset({200, 201})
STUDENT_PASSWORD = "bench-student-pass"
TEACHER_PASSWORD = "bench-teacher-pass"
REQUEST_TIMEOUT_S = 60.0
SEED_TIMEOUT_S = 300.0


def log(message: str) -> None:
    print(f"[delivery {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """The bench could not run (as opposed to the service misbehaving under it)."""


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    candidates: int
    url: str | None
    database_url: str | None
    redis_url: str | None
    workers: int
    admin_user: str | None
    admin_password: str | None
    connections: int
    think_ms: tuple[float, float]
    reanswer: float
    items: int
    health_per_candidate: int
    retries: int
    seed: int
    timeout_s: float
    keep_dir: bool

    @property
    def database_kind(self) -> str:
        if self.url:
            return database_kind(self.database_url) if self.database_url else "external"
        return database_kind(self.database_url)


def database_kind(url: str | None) -> str:
    if url is None or url.startswith("sqlite"):
        return "sqlite"
    return "postgresql" if url.startswith("postgresql") else url.split(":", 1)[0]


# --------------------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile, in the unit of `values` (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Stats:
    """Latencies (seconds) of successful requests and failures by kind and status."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: dict[str, str] = field(default_factory=dict)

    def ok(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def fail(self, kind: str, status: str, body: str) -> None:
        self.errors[status] += 1
        self.error_samples.setdefault(f"{kind} {status}", body[:300])

    def count(self, kind: str) -> int:
        return len(self.latencies.get(kind, []))

    def ms(self, kind: str, q: float) -> float:
        return round(percentile(self.latencies.get(kind, []), q) * 1000.0, 2)


# --------------------------------------------------------------------------- HTTP


class Api:
    """One shared client; a semaphore of the connection limit, so that the latency measured is
    the time with a connection in hand (server + loopback), not time queued in the client."""

    def __init__(self, client: httpx.AsyncClient, connections: int, stats: Stats, retries: int) -> None:
        self.client = client
        self.stats = stats
        self.retries = retries
        self._slots = asyncio.Semaphore(connections)

    async def call(
        self, kind: str, method: str, path: str, *, token: str | None = None, body: Any = None,
        timeout: float = REQUEST_TIMEOUT_S, retry: bool = True,
    ) -> Any:
        """The JSON body of a 200/201 answer, or None after recording the failure(s)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        tries = 1 + (self.retries if retry else 0)
        for attempt in range(tries):
            retryable = await self._once(kind, method, path, headers, body, timeout)
            if not isinstance(retryable, bool):
                return retryable.json()
            if not retryable or attempt == tries - 1:
                return None
            await asyncio.sleep(0.2 * 2**attempt)
        return None

    async def _once(
        self, kind: str, method: str, path: str, headers: dict[str, str], body: Any, timeout: float
    ) -> httpx.Response | bool:
        """The response if it succeeded, else whether the failure is worth a retry."""
        async with self._slots:
            started = time.perf_counter()
            try:
                resp = await self.client.request(method, path, json=body, headers=headers, timeout=timeout)
            except httpx.HTTPError as exc:
                self.stats.fail(kind, f"transport:{type(exc).__name__}", repr(exc))
                return True
            elapsed = time.perf_counter() - started
        if resp.status_code in OK:
            self.stats.ok(kind, elapsed)
            return resp
        self.stats.fail(kind, str(resp.status_code), resp.text)
        return resp.status_code >= 500 or resp.status_code == 429


async def think(rng: random.Random, bounds: tuple[float, float]) -> None:
    await asyncio.sleep(rng.uniform(*bounds) / 1000.0)
