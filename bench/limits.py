"""bench/limits.py: hostile bodies and files against a real server, and saves during a big import.

Starts ``exam serve`` (one uvicorn process, SQLite in a temp dir) and watches its memory in
/proc/<pid>/status, summed over it and its children (the process that reads big import files):
VmRSS sampled every 10 ms during each request, and VmHWM, the peak; a request's memory growth is
the larger of the two increases over the value just before it.

1. **body**: 100 MB to ``POST /api/auth/login``, once with ``Content-Length`` and once chunked
   (no length); the server must answer 413 without reading it (memory growth < 50 MB).
2. **zip**: a QTI package whose one member inflates to 600 MB of zeros (made on the fly, about
   600 KB compressed), honest and with headers patched to declare 1 KB, to the import route.
3. **xlsx**: a question list declaring ``A1:XFD1048576`` (16,384 columns, a million rows), and
   one whose rows really hold 16,384 cells: read by their real size or refused, in < 50 MB.
4. **saves**: candidates save answers for ``--seconds`` alone (the baseline), then again while
   a teacher imports a 20,000-row XLSX; p50/p99 of each (target: p99 < 500 ms during import).

Last stdout line: one JSON object (``body_413``, ``body_mem_mb``, ``zip_mem_mb``, ``xlsx_mem_mb``,
``save_p99_during_import_ms``, the baselines and more). Run: ``.venv/bin/python bench/limits.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import secrets
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from delivery_server import free_port, seed_admin, spawn, stop, wait_healthy
from openpyxl import Workbook

PASSWORD = "bench-pass-word-1"
MB = 1024 * 1024


def log(message: str) -> None:
    print(f"[limits {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- memory


def status_kb(pid: int, field: str) -> int:
    """VmRSS or VmHWM of the server and every process under it (the import file reader), in KB."""
    total = 0
    for proc in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue  # it ended meanwhile
    return total


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def measure(pid: int, action: Callable[[], Any]) -> tuple[Any, float]:
    """Run action; return its result and the server's memory growth in MB while it ran."""
    before_rss, before_hwm = status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM")
    peak = [before_rss]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], status_kb(pid, "VmRSS"))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = action()
    finally:
        time.sleep(0.2)
        done.set()
        sampler.join()
    growth_kb = max(peak[0] - before_rss, status_kb(pid, "VmHWM") - before_hwm, 0)
    return result, round(growth_kb / 1024, 1)


# --------------------------------------------------------------------------- big bodies


def raw_post(port: int, path: str, total: int, chunked: bool) -> tuple[int, str]:
    """Send ``total`` bytes to path over a raw socket, stopping when the server answers or closes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {total}\r\n\r\n"
    sock.sendall(head.encode())
    chunk = b"1" * MB
    sent = 0
    sock.settimeout(0.0)
    try:
        while sent < total:
            piece = chunk[: min(MB, total - sent)]
            sock.settimeout(30)
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
            if _answered(sock):
                break
        if chunked and sent >= total:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    sock.settimeout(30)
    data = b""
    try:
        while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + 20:
            part = sock.recv(65536)
            if not part:
                break
            data += part
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    if not data:
        return 0, f"no response after {sent} bytes"
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[-1].decode(errors="replace")[:300] + f" (sent {sent // MB} MB)"


def _answered(sock: socket.socket) -> bool:
    sock.settimeout(0.0)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except (BlockingIOError, InterruptedError):
        return False


# --------------------------------------------------------------------------- hostile files


def zip_bomb(inflated: int, lie: bool) -> bytes:
    buffer = io.BytesIO()
    with (zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
          archive.open("items/bomb.xml", "w", force_zip64=True) as member):
        zeros = b"\0" * MB
        for _ in range(inflated // MB):
            member.write(zeros)
    data = bytearray(buffer.getvalue())
    if lie:  # declare 1 KB in the central directory (what zipfile reads) and the local header
        central = data.find(b"PK\x01\x02")
        if struct.unpack_from("<I", data, central + 24)[0] != 0xFFFFFFFF:
            struct.pack_into("<I", data, central + 24, 1024)
        else:  # the size is in the zip64 extra field after the name
            name_len, extra_len = struct.unpack_from("<HH", data, central + 28)
            extra = central + 46 + name_len
            struct.pack_into("<Q", data, extra + 4, 1024)
    return bytes(data)


HEADER = ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "知识点", "难度"]


def question_rows(count: int) -> list[list[Any]]:
    return [["单选题", f"第 {n} 题：{n} + 1 = ?", str(n), str(n + 1), str(n + 2), str(n + 3), "B",
             f"{n} 加 1", "数学/加法", 0.8] for n in range(1, count + 1)]


def xlsx_bytes(rows: list[list[Any]], wide_cells: int = 0) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("题库")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row + ([None] * (16384 - wide_cells - len(row)) + ["x"] * wide_cells if wide_cells else []))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def lying_dimension(data: bytes) -> bytes:
    """The same workbook with <dimension ref="A1:XFD1048576"/> in every sheet."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                text = body.decode()
                if "<dimension" in text:
                    start = text.index("<dimension")
                    text = text[:start] + '<dimension ref="A1:XFD1048576"/>' + text[text.index("/>", start) + 2:]
                else:
                    text = text.replace("<sheetData", '<dimension ref="A1:XFD1048576"/><sheetData', 1)
                body = text.encode()
            target.writestr(info.filename, body)
    return out.getvalue()


# --------------------------------------------------------------------------- world


def seed(client: httpx.Client, admin: tuple[str, str], candidates: int) -> dict[str, Any]:
    def ok(method: str, url: str, token: str, **kwargs: Any) -> Any:
        r = client.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        if r.status_code >= 300:
            raise RuntimeError(f"{method} {url} -> {r.status_code} {r.text[:300]}")
        return r.json()

    def login(user: str, password: str) -> str:
        r = client.post("/api/auth/login", json={"username": user, "password": password})
        r.raise_for_status()
        return str(r.json()["access_token"])

    admin_token = login(*admin)
    school = ok("POST", "/api/schools", admin_token, json={"name": "Bench school"})
    klass = ok("POST", f"/api/schools/{school['id']}/classes", admin_token, json={"name": "Bench class"})
    ok("POST", "/api/users", admin_token, json={"username": "teacher", "password": PASSWORD, "role": "teacher",
                                                "display_name": "T", "school_id": school["id"]})
    names = [f"c{n}" for n in range(candidates)]
    ok("POST", f"/api/classes/{klass['id']}/students", admin_token,
       json=[{"username": n, "password": PASSWORD, "display_name": n} for n in names])
    teacher = login("teacher", PASSWORD)
    items = [ok("POST", "/api/items", teacher, json={"type": "fill_blank", "stem": f"blank {n} ____", "definition": {
        "blanks": [{"answers": [{"text": "answer", "fraction": 1.0}]}]}})["id"] for n in range(10)]
    paper = ok("POST", "/api/papers", teacher, json={"title": "Bench paper", "sections": [
        {"title": "One", "slots": [{"item_id": i, "points": 1} for i in items]}]})
    now = time.time()
    exam = ok("POST", "/api/exams", teacher, json={
        "title": "Bench exam", "paper_id": paper["id"], "class_id": klass["id"], "duration_minutes": 120,
        "opens_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
        "closes_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 4 * 3600))})
    slots = [s["slot_id"] for sec in paper["sections"] for s in sec["slots"]]
    students = []
    for name in names:
        token = login(name, PASSWORD)
        attempt = ok("POST", f"/api/exams/{exam['id']}/attempt", token)
        students.append((token, attempt["attempt_id"]))
    return {"teacher": teacher, "students": students, "slots": slots}


async def save_loop(base_url: str, world: dict[str, Any], stop_event: threading.Event, seconds: float,
                    think_s: float, seq_base: int) -> list[float]:
    latencies: list[float] = []
    stamps: list[tuple[float, float]] = []
    errors: list[int] = []
    ends = time.monotonic() + seconds

    async def candidate(token: str, attempt_id: int) -> None:
        seq = seq_base
        async with httpx.AsyncClient(base_url=base_url, timeout=60, trust_env=False,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            while time.monotonic() < ends and not stop_event.is_set():
                seq += 1
                slot = world["slots"][seq % len(world["slots"])]
                began = time.perf_counter()
                r = await client.put(f"/api/attempts/{attempt_id}/answers/{slot}",
                                     json={"response": [f"answer {seq}"], "client_seq": seq})
                latencies.append((time.perf_counter() - began) * 1000)
                stamps.append((time.monotonic(), latencies[-1]))
                if r.status_code != 200:
                    errors.append(r.status_code)
                await asyncio.sleep(think_s)

    await asyncio.gather(*(candidate(t, a) for t, a in world["students"]))
    if errors:
        log(f"save errors: {errors[:10]} ({len(errors)} in all)")
    if stamps:  # p99 per 5-second window, to see which phase of an import costs what
        first = stamps[0][0]
        windows: dict[int, list[float]] = {}
        for at, ms in stamps:
            windows.setdefault(int((at - first) // 5), []).append(ms)
        log("p99 per 5 s: " + " ".join(f"{percentile(v, 0.99):.0f}" for _, v in sorted(windows.items())))
    return latencies


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the big XLSX import")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the baseline save phase")
    parser.add_argument("--think-ms", type=float, default=100.0)
    parser.add_argument("--keep-dir", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench_limits_"))
    db_url = f"sqlite:///{workdir / 'exam.db'}"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("EXAM_")}
    env.update(EXAM_DATABASE_URL=db_url, EXAM_DATA_DIR=str(workdir / "data"), EXAM_SECRET_KEY=secrets.token_urlsafe(32))
    subprocess.run([sys.executable, "-m", "exam_server.cli", "db", "upgrade"], env=env, check=True,
                   capture_output=True)
    admin = ("bench_admin", secrets.token_urlsafe(12))
    seed_admin(db_url, *admin)
    port = free_port()
    log_path = workdir / "server.log"
    proc = spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], env, log_path)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, proc, log_path, 60)
        result = run(base_url, port, proc.pid, admin, args)
    finally:
        stop(proc, "server")
        if not args.keep_dir:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))


def run(base_url: str, port: int, pid: int, admin: tuple[str, str], args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"database": "sqlite", "candidates": args.candidates, "rows": args.rows}
    client = httpx.Client(base_url=base_url, timeout=300, trust_env=False)
    world = seed(client, admin, args.candidates)
    log(f"seeded {args.candidates} candidates; server pid {pid}, RSS {status_kb(pid, 'VmRSS') // 1024} MB")
    teacher = {"Authorization": f"Bearer {world['teacher']}"}

    def upload(name: str, data: bytes, fmt: str = "auto") -> tuple[int, str]:
        r = client.post("/api/interchange/import", headers=teacher, files={"file": (name, data)},
                        data={"format": fmt})
        if r.status_code == 200:
            body = r.json()
            return 200, json.dumps({k: body[k] for k in ("counts", "committed", "batches", "complete")})
        return r.status_code, r.text[:300]

    # Start the server's file-reader process (files over 256 KB are read there) before measuring.
    warm = io.BytesIO()
    with zipfile.ZipFile(warm, "w") as archive:
        archive.writestr("noise.bin", secrets.token_bytes(300 * 1024))
    log(f"warm-up import (refused, as meant): {upload('warm.zip', warm.getvalue(), 'qti3')}")
    _, out["idle_mem_mb"] = measure(pid, lambda: [client.get("/health") for _ in range(50)])

    (out["body_413"], detail), out["body_mem_mb"] = measure(pid, lambda: raw_post(port, "/api/auth/login", 100 * MB,
                                                                                  chunked=False))
    (out["body_chunked_413"], _), out["body_chunked_mem_mb"] = measure(
        pid, lambda: raw_post(port, "/api/auth/login", 100 * MB, chunked=True))
    out["body_detail"] = detail
    log(f"100 MB body: {out['body_413']} / chunked {out['body_chunked_413']}: {detail}")

    zips = {"honest": zip_bomb(600 * MB, lie=False), "lying": zip_bomb(600 * MB, lie=True)}
    for kind, data in zips.items():
        (status, detail), mem = measure(pid, lambda data=data: upload("bomb.zip", data, "qti3"))
        out[f"zip_{kind}_status"], out[f"zip_{kind}_mem_mb"] = status, mem
        log(f"zip bomb ({kind}, {len(data) // 1024} KB -> 600 MB): {status} {detail[:160]} (+{mem} MB)")
    out["zip_compressed_kb"] = len(zips["honest"]) // 1024
    out["zip_mem_mb"] = max(out["zip_honest_mem_mb"], out["zip_lying_mem_mb"])

    small = question_rows(200)
    xlsx = {"declared": lying_dimension(xlsx_bytes(small)), "real_cells": xlsx_bytes(small[:70], wide_cells=16384 - 10)}
    for kind, data in xlsx.items():
        (status, detail), mem = measure(pid, lambda data=data: upload("wide.xlsx", data))
        out[f"xlsx_{kind}_status"], out[f"xlsx_{kind}_mem_mb"] = status, mem
        log(f"16,384-column XLSX ({kind}, {len(data) // 1024} KB): {status} {detail[:120]} (+{mem} MB)")
    out["xlsx_mem_mb"] = max(out["xlsx_declared_mem_mb"], out["xlsx_real_cells_mem_mb"])

    saves_phase(base_url, world, upload, args, out)
    client.close()
    return out


def saves_phase(base_url: str, world: dict[str, Any], upload: Callable[[str, bytes], tuple[int, str]],
                args: argparse.Namespace, out: dict[str, Any]) -> None:
    think = args.think_ms / 1000
    never = threading.Event()
    asyncio.run(save_loop(base_url, world, never, 2.0, think, 0))  # warm-up: connections, caches
    baseline = asyncio.run(save_loop(base_url, world, never, args.seconds, think, 1000))
    out["save_p50_baseline_ms"], out["save_p99_baseline_ms"] = percentile(baseline, 0.5), percentile(baseline, 0.99)
    out["saves_baseline"] = len(baseline)
    log(f"baseline: {len(baseline)} saves, p50 {out['save_p50_baseline_ms']} ms, p99 {out['save_p99_baseline_ms']} ms")

    big = xlsx_bytes(question_rows(args.rows))
    finished = threading.Event()
    report: dict[str, Any] = {}

    def do_import() -> None:
        began = time.monotonic()
        status, detail = upload("big.xlsx", big)
        report.update(status=status, seconds=round(time.monotonic() - began, 1), detail=detail)
        finished.set()

    importer = threading.Thread(target=do_import)
    importer.start()
    during = asyncio.run(save_loop(base_url, world, finished, 3600, think, 1_000_000))
    importer.join()
    out["import_status"], out["import_s"] = report.get("status"), report.get("seconds")
    out["import_report"] = report.get("detail")
    out["save_p50_during_import_ms"] = percentile(during, 0.5)
    out["save_p99_during_import_ms"] = percentile(during, 0.99)
    out["save_max_during_import_ms"] = round(max(during), 1) if during else None
    out["saves_during_import"] = len(during)
    out["save_mean_during_import_ms"] = round(statistics.fmean(during), 1) if during else None
    log(f"import of {args.rows} rows: {report} ; saves during it: {len(during)}, "
        f"p50 {out['save_p50_during_import_ms']} ms, p99 {out['save_p99_during_import_ms']} ms")


if __name__ == "__main__":
    main()
