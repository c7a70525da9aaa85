"""Load benchmark of exam delivery: N candidates log in, start, save answers and submit.

By default it starts its own server (SQLite in a temp dir, ``exam serve`` as a subprocess),
seeds a school, a class, a teacher, N students, ~20 items, a paper and an open exam over HTTP,
then drives the candidates with asyncio + httpx and checks from the server that no
acknowledged answer was lost. See bench/README.md for options and how to read the output.

Progress goes to stderr; the last line on stdout is one JSON object with the figures.
Exit status: 0 ok, 1 answers lost, 2 the bench itself failed (server did not start, timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


def parse_think(text: str) -> tuple[float, float]:
    """'0..200' or '50' (milliseconds)."""
    low, sep, high = text.partition("..")
    try:
        bounds = (float(low), float(high)) if sep else (float(low), float(low))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--think-ms: expected 'MIN..MAX' ms, got {text!r}") from exc
    if bounds[0] < 0 or bounds[1] < bounds[0]:
        raise argparse.ArgumentTypeError(f"--think-ms: need 0 <= MIN <= MAX, got {text!r}")
    return bounds


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--candidates", type=int, default=50, help="simulated candidates (default 50)")
    p.add_argument("--url", help="use this already-running server (needs --admin-user/--admin-password)")
    p.add_argument("--database-url", help="start own server on this database (PostgreSQL: it is recreated)")
    p.add_argument("--redis-url", help="EXAM_REDIS_URL for own server; also starts one `exam worker`")
    p.add_argument("--workers", type=int, default=0, help="uvicorn workers (default 1 SQLite, 2 otherwise)")
    p.add_argument("--admin-user", help="admin login for --url")
    p.add_argument("--admin-password", help="admin password for --url")
    p.add_argument("--connections", type=int, default=100, help="client connection limit (default 100)")
    p.add_argument("--think-ms", type=parse_think, default=(0.0, 200.0), help="think time MIN..MAX ms")
    p.add_argument("--reanswer", type=float, default=0.3, help="share of items answered twice (default 0.3)")
    p.add_argument("--items", type=int, default=20, help="items on the paper (default 20)")
    p.add_argument("--health-per-candidate", type=int, default=3, help="GET /health per candidate (baseline)")
    p.add_argument("--retries", type=int, default=2, help="retries of a request after a 5xx/transport error")
    p.add_argument("--seed", type=int, default=1, help="RNG seed for answers and think times")
    p.add_argument("--timeout-s", type=float, default=600.0, help="overall time limit (default 600)")
    p.add_argument("--keep-dir", action="store_true", help="keep the temp dir (db, server logs) afterwards")
    return p


def parse_options(argv: list[str] | None) -> Options:
    parser = build_parser()
    a = parser.parse_args(argv)
    if a.candidates < 1 or a.connections < 1 or a.items < 6:
        parser.error("--candidates and --connections must be >= 1, --items >= 6")
    if a.url and (not a.admin_user or not a.admin_password):
        parser.error("--url needs --admin-user and --admin-password")
    for name, url in (("--url", a.url), ("--database-url", a.database_url), ("--redis-url", a.redis_url)):
        if url and not url.startswith("sqlite") and urlsplit(url).hostname not in LOCAL_HOSTS:
            parser.error(f"{name}: this bench only talks to 127.0.0.1, got {url!r}")
    workers = a.workers or (1 if database_kind(a.database_url) == "sqlite" else 2)
    return Options(
        candidates=a.candidates, url=a.url, database_url=a.database_url, redis_url=a.redis_url,
        workers=workers, admin_user=a.admin_user, admin_password=a.admin_password,
        connections=a.connections, think_ms=a.think_ms, reanswer=min(max(a.reanswer, 0.0), 1.0),
        items=a.items, health_per_candidate=max(a.health_per_candidate, 0), retries=max(a.retries, 0),
        seed=a.seed, timeout_s=a.timeout_s, keep_dir=a.keep_dir,
    )


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


# --------------------------------------------------------------------------- seeding


def item_definitions(count: int) -> list[tuple[str, str, dict[str, Any]]]:
    """~count items cycling over the six auto/manual types (shapes as in grading/)."""
    makers = [_single_choice, _multiple_choice, _true_false, _fill_blank, _numeric, _short_answer]
    return [makers[i % len(makers)](i) for i in range(count)]


def _single_choice(i: int) -> tuple[str, str, dict[str, Any]]:
    options = [{"id": c, "text": f"option {c} of item {i}"} for c in "ABCD"]
    return "single_choice", f"Q{i}: pick one", {"options": options, "correct": "ABCD"[i % 4]}


def _multiple_choice(i: int) -> tuple[str, str, dict[str, Any]]:
    options = [{"id": c, "text": f"选项 {c}"} for c in "ABCDE"]
    return "multiple_choice", f"Q{i}: pick all that apply", {
        "options": options, "correct": ["A", "C"], "partial_credit": ["gaokao", "proportional"][i % 2]}


def _true_false(i: int) -> tuple[str, str, dict[str, Any]]:
    return "true_false", f"Q{i}: true or false?", {"correct": i % 2 == 0}


def _fill_blank(i: int) -> tuple[str, str, dict[str, Any]]:
    blanks = [{"answers": [{"text": "北京", "fraction": 1.0}, {"text": "Beijing", "fraction": 1.0}]}]
    if i % 2:
        blanks.append({"answers": [{"text": "42", "fraction": 1.0}]})
    return "fill_blank", f"Q{i}: fill in ____", {"blanks": blanks}


def _numeric(i: int) -> tuple[str, str, dict[str, Any]]:
    definition: dict[str, Any] = {"answers": [{"value": 56, "tolerance": 0.5, "fraction": 1.0}]}
    if i % 2:
        definition["unit"] = "m"
    return "numeric", f"Q{i}: compute", definition


def _short_answer(i: int) -> tuple[str, str, dict[str, Any]]:
    return "short_answer", f"Q{i}: explain briefly", {"reference_answer": "光合作用", "max_chars": 2000}


@dataclass(frozen=True)
class Fixture:
    exam_id: int
    teacher: str
    students: list[str]


async def login(api: Api, kind: str, username: str, password: str, timeout: float = REQUEST_TIMEOUT_S) -> str:
    data = await api.call(kind, "POST", "/api/auth/login", body={"username": username, "password": password},
                          timeout=timeout)
    if data is None:
        raise BenchError(f"{kind}: login as {username!r} failed ({_last_error(api.stats, kind)})")
    return str(data["access_token"])


def _last_error(stats: Stats, kind: str) -> str:
    samples = [f"{k}: {v}" for k, v in stats.error_samples.items() if k.startswith(kind + " ")]
    return samples[-1] if samples else "no answer"


async def seed_call(api: Api, token: str, path: str, body: Any) -> Any:
    data = await api.call("seed", "POST", path, token=token, body=body, timeout=SEED_TIMEOUT_S)
    if data is None:
        raise BenchError(f"seeding: POST {path} failed ({_last_error(api.stats, 'seed')})")
    return data


async def seed(api: Api, opts: Options, admin: tuple[str, str]) -> Fixture:
    tag = f"{int(time.time()) % 1_000_000:06d}{secrets.token_hex(2)}"
    admin_token = await login(api, "seed", *admin, timeout=SEED_TIMEOUT_S)
    school = await seed_call(api, admin_token, "/api/schools", {"name": f"Bench School {tag}"})
    klass = await seed_call(api, admin_token, f"/api/schools/{school['id']}/classes",
                            {"name": f"Bench {tag}"})
    teacher = f"bench{tag}_teacher"
    await seed_call(api, admin_token, "/api/users", {
        "username": teacher, "password": TEACHER_PASSWORD, "display_name": "Bench Teacher",
        "role": "teacher", "school_id": school["id"]})
    students = [f"bench{tag}_s{i:05d}" for i in range(opts.candidates)]
    await enrol(api, admin_token, klass["id"], students, opts.workers)
    teacher_token = await login(api, "seed", teacher, TEACHER_PASSWORD, timeout=SEED_TIMEOUT_S)
    exam_id = await create_exam(api, teacher_token, klass["id"], opts.items, tag)
    return Fixture(exam_id=exam_id, teacher=teacher, students=students)


async def enrol(api: Api, token: str, class_id: int, students: list[str], parallel: int) -> None:
    batches = [students[i:i + 100] for i in range(0, len(students), 100)]
    gate = asyncio.Semaphore(max(1, parallel))
    done = 0

    async def one(batch: list[str]) -> None:
        nonlocal done
        body = [{"username": s, "password": STUDENT_PASSWORD, "display_name": f"学生 {s[-5:]}"}
                for s in batch]
        async with gate:
            await seed_call(api, token, f"/api/classes/{class_id}/students", body)
        done += len(batch)
        log(f"seed: enrolled {done}/{len(students)} students")

    await asyncio.gather(*(one(b) for b in batches))


async def create_exam(api: Api, token: str, class_id: int, items: int, tag: str) -> int:
    slots = []
    for i, (kind, stem, definition) in enumerate(item_definitions(items)):
        body = {"type": kind, "stem": stem, "definition": definition}
        item = await seed_call(api, token, "/api/items", body)
        slots.append((kind, {"item_id": item["id"], "points": float(2 + i % 4)}))
    objective = [s for kind, s in slots if kind != "short_answer"]
    written = [s for kind, s in slots if kind == "short_answer"]
    paper = await seed_call(api, token, "/api/papers", {"title": f"Bench paper {tag}", "sections": [
        {"title": "Objective", "slots": objective}, {"title": "Written", "slots": written}]})
    now = datetime.now(UTC)
    exam = await seed_call(api, token, "/api/exams", {
        "title": f"Bench exam {tag}", "paper_id": paper["id"], "class_id": class_id,
        "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": (now + timedelta(hours=1)).isoformat(),
        "duration_minutes": 60})
    return int(exam["id"])


# --------------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class Slot:
    slot_id: int
    type: str
    content: dict[str, Any]


@dataclass
class Candidate:
    index: int
    username: str
    rng: random.Random
    token: str | None = None
    attempt_id: int | None = None
    slots: list[Slot] = field(default_factory=list)
    seq: int = 0
    acked: dict[int, tuple[int, Any]] = field(default_factory=dict)
    unacked: dict[int, list[tuple[int, Any]]] = field(default_factory=dict)
    submitted: bool = False


def answer_for(slot: Slot, rng: random.Random) -> Any:
    """A valid response already in the server's canonical (stored) form."""
    if slot.type in ("single_choice", "multiple_choice"):
        ids = [str(o["id"]) for o in slot.content["options"]]
        if slot.type == "single_choice":
            return rng.choice(ids)
        return sorted(rng.sample(ids, rng.randint(1, len(ids))))
    if slot.type == "true_false":
        return rng.random() < 0.5
    if slot.type == "fill_blank":
        return [rng.choice(["北京", "Beijing", "上海", "42", f"x{rng.randint(0, 999)}"])
                for _ in range(int(slot.content["blanks"]))]
    if slot.type == "numeric":
        return round(rng.uniform(0, 100), 2)
    return f"答案 answer {rng.randint(0, 10**6)}: " + "光合作用把光能转化为化学能。" * rng.randint(1, 5)


def slots_of(paper: dict[str, Any]) -> list[Slot]:
    return [Slot(int(s["slot_id"]), str(s["type"]), dict(s.get("content") or {}))
            for section in paper["sections"] for s in section["slots"]]


async def start_candidate(api: Api, c: Candidate, exam_id: int) -> None:
    data = await api.call("login", "POST", "/api/auth/login",
                          body={"username": c.username, "password": STUDENT_PASSWORD})
    if data is None:
        return
    c.token = str(data["access_token"])
    attempt = await api.call("start", "POST", f"/api/exams/{exam_id}/attempt", token=c.token)
    if attempt is None:
        return
    c.attempt_id = int(attempt["attempt_id"])
    c.slots = slots_of(attempt["paper"])


def save_plan(c: Candidate, reanswer: float) -> list[Slot]:
    """Every slot once in a shuffled order, then a share of them again."""
    order = list(c.slots)
    c.rng.shuffle(order)
    again = [s for s in order if c.rng.random() < reanswer]
    return order + again


async def save(api: Api, c: Candidate, slot: Slot) -> None:
    c.seq += 1
    response = answer_for(slot, c.rng)
    path = f"/api/attempts/{c.attempt_id}/answers/{slot.slot_id}"
    body = {"response": response, "client_seq": c.seq}
    data = await api.call("save", "PUT", path, token=c.token, body=body)
    if data is not None:
        c.acked[slot.slot_id] = (c.seq, response)
        c.unacked.pop(slot.slot_id, None)
    else:
        c.unacked.setdefault(slot.slot_id, []).append((c.seq, response))


async def sit_exam(api: Api, c: Candidate, opts: Options) -> None:
    if c.attempt_id is None:
        return
    for slot in save_plan(c, opts.reanswer):
        await think(c.rng, opts.think_ms)
        await save(api, c, slot)
    await think(c.rng, opts.think_ms)
    data = await api.call("submit", "POST", f"/api/attempts/{c.attempt_id}/submit", token=c.token)
    c.submitted = data is not None and data.get("state") in ("submitted", "graded")


async def probe_health(api: Api, rng: random.Random, opts: Options) -> None:
    for _ in range(opts.health_per_candidate):
        await think(rng, opts.think_ms)
        await api.call("health", "GET", "/health", retry=False)


# --------------------------------------------------------------------------- verification


@dataclass
class Verdict:
    lost: int = 0
    ambiguous: int = 0
    checked: int = 0
    seq_mismatch: int = 0
    not_submitted: int = 0
    unreadable: int = 0
    examples: list[str] = field(default_factory=list)


def compare(c: Candidate, answers: list[dict[str, Any]], who: str, verdict: Verdict) -> None:
    """Each acknowledged save must be on the server (a later unacknowledged one may have won)."""
    stored = {int(a["slot_id"]): (int(a["client_seq"]), a["response"]) for a in answers}
    for slot_id, (seq, response) in c.acked.items():
        verdict.checked += 1
        got = stored.get(slot_id)
        if got is not None and got[1] == response:
            verdict.seq_mismatch += got[0] != seq
            continue
        if got is not None and any(got == later for later in c.unacked.get(slot_id, [])):
            verdict.ambiguous += 1
            continue
        verdict.lost += 1
        if len(verdict.examples) < 5:
            verdict.examples.append(f"{who}: {c.username} slot {slot_id}: saved seq {seq} {response!r}, "
                                    f"server has {got!r}")


async def verify(api: Api, fixture: Fixture, cands: list[Candidate]) -> Verdict:
    verdict = Verdict()
    teacher = await login(api, "verify", fixture.teacher, TEACHER_PASSWORD)
    rows = await api.call("verify", "GET", f"/api/exams/{fixture.exam_id}/results", token=teacher)
    states = {str(r["username"]): r.get("state") for r in rows or []}
    for c in cands:
        if c.submitted and states.get(c.username) not in ("submitted", "graded"):
            verdict.not_submitted += 1

    async def one(c: Candidate) -> None:
        if c.attempt_id is None:
            return
        for who, token in (("student", c.token), ("teacher", teacher)):
            data = await api.call("verify", "GET", f"/api/attempts/{c.attempt_id}", token=token)
            if data is None:
                verdict.unreadable += 1
                verdict.lost += len(c.acked)
                continue
            compare(c, data["answers"], who, verdict)

    await asyncio.gather(*(one(c) for c in cands))
    return verdict


# --------------------------------------------------------------------------- the run


@dataclass
class Timings:
    seed_s: float = 0.0
    health_s: float = 0.0
    spike_s: float = 0.0
    saves_s: float = 0.0
    verify_s: float = 0.0
    cands: list[Candidate] = field(default_factory=list)
    """Filled as soon as the candidates exist, so a timeout can still report partial figures."""


async def progress(stats: Stats, total: int) -> None:
    kinds = ("health", "login", "start", "save", "submit", "verify")
    while True:
        await asyncio.sleep(5.0)
        done = ", ".join(f"{k} {stats.count(k)}" for k in kinds if stats.count(k))
        log(f"progress ({total} candidates): {done}; errors {sum(stats.errors.values())}")


async def drive(base_url: str, opts: Options, admin: tuple[str, str], stats: Stats, t: Timings
                ) -> tuple[list[Candidate], Verdict]:
    limits = httpx.Limits(max_connections=opts.connections, max_keepalive_connections=opts.connections)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, trust_env=False) as client:
        api = Api(client, opts.connections, stats, opts.retries)
        ticker = asyncio.create_task(progress(stats, opts.candidates))
        try:
            return await phases(api, opts, admin, t)
        finally:
            ticker.cancel()


async def phases(
    api: Api, opts: Options, admin: tuple[str, str], t: Timings
) -> tuple[list[Candidate], Verdict]:
    started = time.perf_counter()
    fixture = await seed(api, opts, admin)
    t.seed_s = time.perf_counter() - started
    log(f"seeded exam {fixture.exam_id} for {len(fixture.students)} students in {t.seed_s:.1f}s")
    master = random.Random(opts.seed)
    cands = [Candidate(i, name, random.Random(master.getrandbits(64)))
             for i, name in enumerate(fixture.students)]
    t.cands = cands

    t.health_s = await timed(asyncio.gather(*(probe_health(api, random.Random(c.rng.random()), opts)
                                              for c in cands)))
    log(f"baseline: {api.stats.count('health')} GET /health in {t.health_s:.1f}s, "
        f"p50 {api.stats.ms('health', 50)} ms p99 {api.stats.ms('health', 99)} ms")

    log(f"spike: {len(cands)} candidates log in and start at once")
    t.spike_s = await timed(asyncio.gather(*(start_candidate(api, c, fixture.exam_id) for c in cands)))
    started_n = sum(c.attempt_id is not None for c in cands)
    log(f"spike: {started_n}/{len(cands)} started in {t.spike_s:.1f}s "
        f"(login p50 {api.stats.ms('login', 50)} ms, start p50 {api.stats.ms('start', 50)} ms)")

    t.saves_s = await timed(asyncio.gather(*(sit_exam(api, c, opts) for c in cands)))
    log(f"saves: {api.stats.count('save')} saves, {sum(c.submitted for c in cands)} submitted "
        f"in {t.saves_s:.1f}s")

    started = time.perf_counter()
    verdict = await verify(api, fixture, cands)
    t.verify_s = time.perf_counter() - started
    log(f"verify: {verdict.checked} answer checks, lost {verdict.lost}, ambiguous {verdict.ambiguous}")
    return cands, verdict


async def timed(work: Any) -> float:
    started = time.perf_counter()
    await work
    return time.perf_counter() - started


def summary(opts: Options, stats: Stats, t: Timings, cands: list[Candidate], verdict: Verdict,
            wall_s: float) -> dict[str, Any]:
    saves = stats.count("save")
    return {
        "candidates": opts.candidates,
        "started": sum(c.attempt_id is not None for c in cands),
        "submitted": sum(c.submitted for c in cands),
        "saves": saves,
        "saves_per_s": round(saves / t.saves_s, 1) if t.saves_s else 0.0,
        "save_p50_ms": stats.ms("save", 50), "save_p95_ms": stats.ms("save", 95),
        "save_p99_ms": stats.ms("save", 99), "save_max_ms": stats.ms("save", 100),
        "baseline_health_p50_ms": stats.ms("health", 50), "baseline_health_p99_ms": stats.ms("health", 99),
        "answers_lost": verdict.lost, "answers_ambiguous": verdict.ambiguous,
        "answers_checked": verdict.checked, "seq_mismatches": verdict.seq_mismatch,
        "submits_lost": verdict.not_submitted,
        "http_errors": sum(stats.errors.values()), "http_errors_by_status": dict(stats.errors),
        "login_p50_ms": stats.ms("login", 50), "login_p95_ms": stats.ms("login", 95),
        "start_p50_ms": stats.ms("start", 50), "start_p95_ms": stats.ms("start", 95),
        "start_spike_s": round(t.spike_s, 2),
        "submit_p50_ms": stats.ms("submit", 50), "submit_p95_ms": stats.ms("submit", 95),
        "seed_s": round(t.seed_s, 2), "saves_phase_s": round(t.saves_s, 2), "verify_s": round(t.verify_s, 2),
        "database": opts.database_kind, "workers": opts.workers if not opts.url else None,
        "redis": bool(opts.redis_url), "connections": opts.connections,
        "think_ms": list(opts.think_ms), "seed": opts.seed, "wall_s": round(wall_s, 2),
    }


# --------------------------------------------------------------------------- own server


@dataclass
class Server:
    base_url: str
    admin: tuple[str, str]
    workdir: Path | None = None
    log_path: Path | None = None
    keep: bool = False
    """Keep the temp dir (database, logs) after the run: set on any failure."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def recreate_postgres(url: str) -> None:
    """DROP and CREATE the bench database, connecting to the server's postgres/test database."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    name = target.database or ""
    if not re.fullmatch(r"bench\w*", name):
        raise BenchError(f"refusing to drop database {name!r}: its name must start with 'bench'")
    last: Exception | None = None
    for admin_db in ("postgres", "test"):
        engine = create_engine(target.set(database=admin_db), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            return
        except Exception as exc:  # noqa: BLE001 - try the next maintenance database
            last = exc
        finally:
            engine.dispose()
    raise BenchError(f"could not recreate database {name!r}: {last}")


def seed_admin(url: str, username: str, password: str) -> None:
    from exam_server.clock import system_clock
    from exam_server.db import create_db_engine, make_session_factory, session_scope
    from exam_server.services.accounts import create_user
    from models import Role

    engine = create_db_engine(url)
    try:
        with session_scope(make_session_factory(engine, None)) as session:
            create_user(session, username, password, Role.ADMIN, "Bench Admin", None, system_clock())
    finally:
        engine.dispose()


def server_env(opts: Options, db_url: str, workdir: Path, namespace: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXAM_")}
    env.update(EXAM_DATABASE_URL=db_url, EXAM_DATA_DIR=str(workdir / "data"),
               EXAM_SECRET_KEY=secrets.token_urlsafe(32), EXAM_QUEUE_NAMESPACE=namespace)
    if opts.redis_url:
        env["EXAM_REDIS_URL"] = opts.redis_url
    return env


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "exam_server.cli", *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def stop(proc: subprocess.Popen[bytes], name: str) -> None:
    """SIGTERM the process group we started (uvicorn's workers too), SIGKILL after 20 s."""
    if proc.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            log(f"{name} (pid {proc.pid}) stopped")
            return
        except subprocess.TimeoutExpired:
            log(f"{name} (pid {proc.pid}) did not stop on {sig.name}")


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes], log_path: Path, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    with httpx.Client(base_url=base_url, trust_env=False, timeout=5.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BenchError(f"server exited with {proc.returncode}:\n{tail(log_path)}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/health").status_code == 200:
                    return
            time.sleep(0.25)
    raise BenchError(f"server not healthy after {limit_s:.0f}s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def clean_redis(url: str, namespace: str) -> None:
    """Drop this run's dramatiq keys (delayed deadline jobs would otherwise stay in Redis)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextlib.contextmanager
def own_server(opts: Options, deadline: float) -> Iterator[Server]:
    workdir = Path(tempfile.mkdtemp(prefix="bench_delivery_"))
    namespace = f"bench-delivery-{os.getpid()}-{secrets.token_hex(3)}"
    db_url = opts.database_url or f"sqlite:///{workdir / 'exam.db'}"
    env = server_env(opts, db_url, workdir, namespace)
    procs: list[tuple[subprocess.Popen[bytes], str]] = []
    log_path = workdir / "server.log"
    admin = ("bench_admin", secrets.token_urlsafe(12))
    server: Server | None = None
    keep = False
    try:
        if database_kind(db_url) == "postgresql":
            recreate_postgres(db_url)
        migrate = subprocess.run([sys.executable, "-m", "exam_server.cli", "db", "upgrade"], env=env,
                                 capture_output=True, text=True,
                                 timeout=max(10.0, deadline - time.monotonic()))
        if migrate.returncode != 0:
            raise BenchError(f"db upgrade failed:\n{migrate.stdout}{migrate.stderr}")
        seed_admin(db_url, *admin)
        port = free_port()
        procs.append((spawn(["serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                             str(opts.workers)], env, log_path), "server"))
        if opts.redis_url:
            procs.append((spawn(["worker"], env, workdir / "worker.log"), "worker"))
        base_url = f"http://127.0.0.1:{port}"
        wait_healthy(base_url, procs[0][0], log_path, min(90.0, max(5.0, deadline - time.monotonic())))
        log(f"server {base_url} up: {database_kind(db_url)}, {opts.workers} worker(s), logs in {workdir}")
        server = Server(base_url, admin, workdir, log_path, keep=opts.keep_dir)
        yield server
    except BaseException:
        keep = True
        raise
    finally:
        for proc, name in reversed(procs):
            stop(proc, name)
        if opts.redis_url:
            with contextlib.suppress(Exception):
                clean_redis(opts.redis_url, namespace)
        if keep or (server is not None and server.keep):
            log(f"kept {workdir} (database and server logs)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def server_problems(log_path: Path | None) -> Counter[str]:
    """Exception lines in the server log (the last line of each traceback), counted."""
    found: Counter[str] = Counter()
    if log_path is None or not log_path.exists():
        return found
    pattern = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout)\w*): ?(.{0,160})")
    for line in log_path.read_text(errors="replace").splitlines():
        match = pattern.match(line)
        if match:
            found[f"{match.group(1)}: {match.group(2)}"] += 1
    return found


# --------------------------------------------------------------------------- main


def report_failures(stats: Stats, verdict: Verdict | None, server: Server | None) -> None:
    for key, body in stats.error_samples.items():
        log(f"error sample [{key}]: {body}")
    for example in verdict.examples if verdict else []:
        log(f"lost: {example}")
    problems = server_problems(server.log_path if server else None)
    for line, n in problems.most_common(10):
        log(f"server log: {n} x {line}")


def run(opts: Options) -> tuple[dict[str, Any], int]:
    began = time.perf_counter()
    deadline = time.monotonic() + opts.timeout_s
    stats, timings = Stats(), Timings()
    server: Server | None = None
    verdict: Verdict | None = None
    with contextlib.ExitStack() as stack:
        try:
            if opts.url:
                server = Server(opts.url.rstrip("/"), (opts.admin_user or "", opts.admin_password or ""))
            else:
                server = stack.enter_context(own_server(opts, deadline))
            cands, verdict = asyncio.run(asyncio.wait_for(
                drive(server.base_url, opts, server.admin, stats, timings), deadline - time.monotonic()))
        except (BenchError, TimeoutError, subprocess.TimeoutExpired) as exc:
            if server is not None:
                server.keep = True
            what = f"timed out after {opts.timeout_s:.0f}s" if isinstance(exc, TimeoutError) else str(exc)
            log(f"bench failed: {what}")
            report_failures(stats, verdict, server)
            partial = summary(opts, stats, timings, timings.cands, Verdict(), time.perf_counter() - began)
            return {**partial, "answers_lost": None, "error": what}, 2
        result = summary(opts, stats, timings, cands, verdict, time.perf_counter() - began)
        if result["http_errors"] or verdict.lost or verdict.unreadable:
            server.keep = True
            report_failures(stats, verdict, server)
        return result, 1 if verdict.lost > 0 else 0


def main(argv: list[str] | None = None) -> int:
    opts = parse_options(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stops the server on the way out
    log(f"{opts.candidates} candidates, {opts.database_kind}, connections {opts.connections}, "
        f"think {opts.think_ms[0]:.0f}..{opts.think_ms[1]:.0f} ms, seed {opts.seed}")
    result, status = run(opts)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
