"""bench/proctoring.py: live proctoring connections under load.

    .venv/bin/python bench/proctoring.py --connections 2000
    .venv/bin/python bench/proctoring.py --connections 10000 --duration-s 60 --ws websockets

Starts its own servers: ``--processes`` (2) API processes (uvicorn, one worker each, on their own
ports) on one PostgreSQL database (``--database-url``, recreated; its name must start with
``bench``) and Redis at 127.0.0.1:6379 (job queue, token revocation store). Candidates are split
over the processes; ``--clients`` (2) client processes hold the connections (``websockets``
library), each connection authenticated with its own access token and consent given.

Phases, per WebSocket implementation in ``--ws`` (uvicorn's ``websockets`` and ``wsproto``):
1. **idle memory**: server RSS before and after all N connections are open and idle:
   ``mem_per_conn_kb`` = RSS delta summed over the API processes / N.
2. **load** (first implementation only): heartbeat every 5 s, a 12 KB JPEG frame every 10 s and
   random browser events (``--events-per-min``) from every connection for ``--duration-s``;
   latency = event sent -> its ``ack`` received (the event is committed by then); ``dropped`` =
   events never acked + connections closed by the server.
3. **frames**: 50 connections send frames back to back (each waits for its ack) for 10 s;
   ``frames_per_s_per_core`` = frames acked / API CPU seconds used in that phase.
Baseline in the same run: a bare ``websockets`` echo server holding the same N idle connections
(``baseline_echo_mem_per_conn_kb``).

Event -> proctor latency needs the Redis bus and the proctor wall (other modules); until they are
in this tree the latency reported is event -> ack (``latency_kind``), and ``proctors`` is 0.
The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

from bench.delivery_server import clean_redis, recreate_postgres  # noqa: E402
from bench.proctoring_setup import cpu_s, rss_kb, seed, spawn, wait_port  # noqa: E402

HERE = Path(__file__).resolve().parent


def log(text: str) -> None:
    print(f"[proctoring bench] {text}", file=sys.stderr, flush=True)


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


class Clients:
    """The client processes; each gets a share of the (url, token) targets."""

    def __init__(self, targets: list[tuple[str, str]], procs: int, workdir: Path, echo: bool = False,
                 proctors: list[tuple[str, str]] | None = None) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        for i in range(procs):
            share = targets[i::procs]
            walls = (proctors or [])[i::procs]
            err = (workdir / f"client{i}.log").open("a")
            proc = subprocess.Popen([sys.executable, str(HERE / "proctoring_client.py")], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=err, text=True)
            assert proc.stdin is not None
            proc.stdin.write(json.dumps({"targets": share, "echo": echo, "proctors": walls}) + "\n")
            proc.stdin.flush()
            self.procs.append(proc)

    def ask(self, cmd: dict[str, Any]) -> list[dict[str, Any]]:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(cmd) + "\n")
            proc.stdin.flush()
        answers = []
        for proc in self.procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"client process exited ({proc.poll()}); see its log")
            answers.append(json.loads(line))
        return answers

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, ValueError):
            self.ask({"cmd": "quit"})
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def start_servers(mode: str, count: int, ws: str, env: dict[str, str], workdir: Path) -> list[tuple[Any, int]]:
    servers = []
    for i in range(count):
        port = _free_port()
        proc = spawn([mode, "--port", str(port), "--ws", ws], env, workdir / f"{mode}-{ws}-{i}.log")
        servers.append((proc, port))
    for proc, port in servers:
        wait_port(port, proc)
    time.sleep(1.0)  # let imports settle before the RSS baseline
    return servers


def stop_servers(servers: list[tuple[Any, int]]) -> None:
    import signal

    for proc, _ in servers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc, _ in servers:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def idle_memory(servers: list[tuple[Any, int]], clients: Clients, total: int, parallel: int) -> tuple[int, float]:
    """RSS per idle connection. A warm-up tenth is opened first, so one-time costs (worker
    threads, database connections, lazy imports) are not counted per connection."""
    warm = max(len(clients.procs), total // 10) // len(clients.procs)
    held = sum(r["ready"] for r in clients.ask({"cmd": "connect", "parallel": parallel, "count": warm}))
    time.sleep(2.0)
    before = sum(rss_kb(p.pid) for p, _ in servers)
    more = sum(r["ready"] for r in clients.ask({"cmd": "connect", "parallel": parallel}))
    time.sleep(3.0)  # idle: consents stored, nothing moving
    after = sum(rss_kb(p.pid) for p, _ in servers)
    log(f"{held + more} connections held; server RSS {before} -> {after} KB over the last {more}")
    return held + more, (after - before) / max(1, more)


def load_phase(servers: list[tuple[Any, int]], clients: Clients, opts: argparse.Namespace) -> dict[str, Any]:
    cpu0 = sum(cpu_s(p.pid) for p, _ in servers)
    results = clients.ask({"cmd": "load", "seconds": opts.duration_s, "events_per_min": opts.events_per_min})
    cpu = sum(cpu_s(p.pid) for p, _ in servers) - cpu0
    latencies = [x for r in results for x in r["latencies"]]
    seconds = max(r["seconds"] for r in results)
    acked = sum(r["acked"] for r in results)
    to_proctor = proctor_latencies([c for r in results for c in r["copies"]], [f for r in results for f in r["flags"]])
    return {"event_to_proctor_p50_ms": percentile(to_proctor, 0.50),
            "event_to_proctor_p99_ms": percentile(to_proctor, 0.99),
            "flags_seen_by_proctors": len(to_proctor), "proctors_closed": sum(r["proctors_closed"] for r in results),
            "events_sent": sum(r["sent"] for r in results), "events_acked": acked,
            "events_per_s": round(acked / seconds, 1), "ack_p50_ms": percentile(latencies, 0.50),
            "ack_p99_ms": percentile(latencies, 0.99), "ack_max_ms": percentile(latencies, 1.0),
            "dropped": sum(r["unacked"] for r in results) + sum(r["closed"] for r in results),
            "server_cpu_cores_used": round(cpu / seconds, 2), "load_seconds": round(seconds, 1)}


def proctor_latencies(copies: list[list[float]], flags: list[list[float]]) -> list[float]:
    """For each copy_paste flag a proctor received: ms since the latest copy event of that session."""
    sent: dict[int, list[float]] = {}
    for session_id, at in copies:
        sent.setdefault(int(session_id), []).append(at)
    out = []
    for session_id, at in flags:
        earlier = [t for t in sent.get(int(session_id), []) if t <= at]
        if earlier:
            out.append((at - max(earlier)) * 1000)
    return out


def frames_phase(servers: list[tuple[Any, int]], clients: Clients) -> dict[str, Any]:
    cpu0 = sum(cpu_s(p.pid) for p, _ in servers)
    results = clients.ask({"cmd": "frames", "seconds": 10, "connections": 25})
    cpu = sum(cpu_s(p.pid) for p, _ in servers) - cpu0
    acked = sum(r["acked"] for r in results)
    seconds = max(r["seconds"] for r in results)
    return {"frames_per_s": round(acked / seconds, 1), "frames_per_s_per_core": round(acked / max(cpu, 1e-9), 1),
            "frame_latency_p50_ms": percentile([x for r in results for x in r["latencies"]], 0.5)}


def run_impl(ws: str, targets: list[tuple[int, str]], opts: argparse.Namespace, env: dict[str, str],
             workdir: Path, with_load: bool) -> dict[str, Any]:
    servers = start_servers("serve", opts.processes, ws, env, workdir)
    clients = None
    try:
        urls = [f"ws://127.0.0.1:{port}/ws/proctoring/attempts/" for _, port in servers]
        pairs = [(urls[i % len(urls)] + str(attempt), token) for i, (attempt, token) in enumerate(targets)]
        walls = [(f"ws://127.0.0.1:{servers[i % len(servers)][1]}/ws/proctoring/exams/{opts.exam_id}/wall",
                  opts.admin_token) for i in range(opts.proctors if with_load else 0)]
        clients = Clients(pairs, opts.clients, workdir, proctors=walls)
        held, per_conn = idle_memory(servers, clients, len(pairs), opts.parallel)
        out: dict[str, Any] = {"connections": held, "mem_per_conn_kb": round(per_conn, 1)}
        if with_load:
            out |= load_phase(servers, clients, opts)
            out |= frames_phase(servers, clients)
        return out
    finally:
        if clients is not None:
            clients.close()
        stop_servers(servers)


def echo_baseline(count: int, opts: argparse.Namespace, workdir: Path) -> float:
    servers = start_servers("echo", 1, "websockets", dict(os.environ), workdir)
    clients = None
    try:
        port = servers[0][1]
        clients = Clients([(f"ws://127.0.0.1:{port}/", "") for _ in range(count)], opts.clients, workdir, echo=True)
        _, per_conn = idle_memory(servers, clients, count, opts.parallel)
        return round(per_conn, 1)
    finally:
        if clients is not None:
            clients.close()
        stop_servers(servers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--proctors", type=int, default=4, help="proctor walls watching the whole exam")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--duration-s", type=float, default=30.0)
    parser.add_argument("--events-per-min", type=float, default=2.0)
    parser.add_argument("--parallel", type=int, default=100, help="connections opened at once per client process")
    parser.add_argument("--ws", default="websockets-sansio,websockets",
                        help="uvicorn ws implementations to compare; the first also gets the load")
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_proctoring")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    opts = parser.parse_args()
    fd_limit = raise_fd_limit()
    workdir = Path(tempfile.mkdtemp(prefix="bench_proctoring_"))
    namespace = f"bench-proctoring-{os.getpid()}"
    signing_key = secrets.token_urlsafe(32)
    recreate_postgres(opts.database_url)
    log(f"seeding {opts.connections} candidates; logs in {workdir}")
    targets, exam_id, admin_token = seed(opts.database_url, opts.connections, signing_key)
    opts.exam_id, opts.admin_token = exam_id, admin_token
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXAM_")}
    env |= {"EXAM_DATABASE_URL": opts.database_url, "EXAM_REDIS_URL": opts.redis_url, "EXAM_SECRET_KEY": signing_key,
            "EXAM_DATA_DIR": str(workdir / "data"), "EXAM_QUEUE_NAMESPACE": namespace}
    result: dict[str, Any] = {}
    by_ws: dict[str, float] = {}
    try:
        for index, ws in enumerate(opts.ws.split(",")):
            log(f"ws={ws}: {'idle memory + load' if index == 0 else 'idle memory'}")
            measured = run_impl(ws, targets, opts, env, workdir, with_load=index == 0)
            by_ws[ws] = measured["mem_per_conn_kb"]
            result = result or measured
        log("baseline: bare websockets echo server")
        baseline = echo_baseline(opts.connections, opts, workdir)
    finally:
        clean_redis(opts.redis_url, namespace)
    proctored = result.get("flags_seen_by_proctors", 0) > 0
    result |= {"latency_kind": "event_to_proctor" if proctored else "event_to_ack",
               "latency_p50_ms": result["event_to_proctor_p50_ms" if proctored else "ack_p50_ms"],
               "latency_p99_ms": result["event_to_proctor_p99_ms" if proctored else "ack_p99_ms"]}
    result |= {"ws": opts.ws.split(",")[0], "mem_per_conn_kb_by_ws": by_ws, "baseline_echo_mem_per_conn_kb": baseline,
               "processes": opts.processes, "proctors": opts.proctors, "fd_limit": fd_limit,
               "requested_connections": opts.connections, "database": "postgresql"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
