"""Seeding for bench/delivery.py over HTTP, as staff would: a school, a class, a teacher, the students,
~20 items of six types, a paper and an exam open now.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from delivery_common import (
    REQUEST_TIMEOUT_S,
    SEED_TIMEOUT_S,
    STUDENT_PASSWORD,
    TEACHER_PASSWORD,
    Api,
    BenchError,
    Options,
    Stats,
    log,
)


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

