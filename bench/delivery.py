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
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

# bench/ is not a package: make its sibling modules importable however this script is started.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from delivery_candidates import Candidate, Verdict, probe_health, sit_exam, start_candidate, verify
from delivery_common import LOCAL_HOSTS, Api, BenchError, Options, Stats, database_kind, log
from delivery_seed import seed
from delivery_server import Server, own_server, server_problems

# --------------------------------------------------------------------------- options


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
