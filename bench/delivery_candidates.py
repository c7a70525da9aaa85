"""The simulated candidates of bench/delivery.py (log in, start, save answers, submit) and the check
afterwards that every acknowledged answer is on the server.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from delivery_common import STUDENT_PASSWORD, TEACHER_PASSWORD, Api, Options, think
from delivery_seed import Fixture, login

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

