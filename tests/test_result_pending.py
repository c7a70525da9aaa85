"""Results while marking goes on, on SQLite and PostgreSQL: released before the essay is marked, a
student sees the score so far as provisional and the essay as being marked; teachers see how many
answers wait per exam and per candidate; once the mark is in, the total is final."""

from typing import Any

from support import PASSWORD, World

ESSAY = 5  # the essay's index in support.ITEMS: question 6 of the paper, 10 points


def _setup(world: World) -> tuple[int, str]:
    attempt: int = world.start("s1")["attempt_id"]
    slots = world.ids["slots"]
    assert world.save("s1", attempt, slots[0], "B", 1).status_code == 200  # 2 points, right
    assert world.save("s1", attempt, slots[2], False, 2).status_code == 200  # 1 point, wrong
    assert world.save("s1", attempt, slots[ESSAY], "我的作文 MY-ESSAY", 3).status_code == 200
    world.ok("POST", f"/api/attempts/{attempt}/submit", "s1")
    marker = world.ok("POST", "/api/users", "admin", json={
        "username": "m1", "password": PASSWORD, "display_name": "m1", "role": "marker",
        "school_id": world.ids["school"]})["id"]
    world.login("m1")
    world.ok("POST", f"/api/exams/{world.ids['exam']}/staff", "teacher", json={"user_id": marker, "duty": "marker"})
    unit = world.ok("POST", f"/api/exams/{world.ids['exam']}/marking/units", "teacher", json={"mode": "single"})[0]
    token: str = world.ok("POST", f"/api/marking/units/{unit['id']}/batch", "m1", json={"n": 1})["tasks"][0]["token"]
    return attempt, token


def _lines(result: dict[str, Any]) -> list[tuple[int, str, float | None]]:
    return [(s["number"], s["status"], s["score"]) for s in result["slots"]]


def _pending(world: World) -> tuple[int, dict[str, int]]:
    exam = next(e for e in world.ok("GET", "/api/exams", "teacher") if e["id"] == world.ids["exam"])
    rows = world.ok("GET", f"/api/exams/{world.ids['exam']}/results", "teacher")
    return exam["pending_answers"], {r["username"]: r["pending_answers"] for r in rows}


def test_released_while_marking_then_final(world: World) -> None:
    attempt, token = _setup(world)
    url = f"/api/attempts/{attempt}/result"
    assert world.call("GET", url, "s1").status_code == 403, "not released yet"
    assert _pending(world) == (1, {"s1": 1, "s2": 0})
    world.ok("POST", f"/api/exams/{world.ids['exam']}/release", "teacher")

    early = world.ok("GET", url, "s1")
    assert (early["provisional"], early["pending"], early["pending_numbers"]) == (True, 1, [6])
    assert (early["score"], early["final_score"], early["max_score"]) == (2.0, None, 25.0)
    assert _lines(early) == [(1, "final", 2.0), (2, "unanswered", 0.0), (3, "final", 0.0), (4, "unanswered", 0.0),
                             (5, "unanswered", 0.0), (6, "being_marked", None)]
    mine = world.ok("GET", "/api/exams", "s1")[0]["my_attempt"]
    assert (mine["score"], mine["provisional"]) == (2.0, True)

    world.ok("POST", f"/api/marking/tasks/{token}/mark", "m1", json={"score": 7})
    final = world.ok("GET", url, "s1")
    assert (final["provisional"], final["pending"], final["pending_numbers"]) == (False, 0, [])
    assert (final["score"], final["final_score"], final["state"]) == (9.0, 9.0, "graded")
    assert _lines(final)[5] == (6, "final", 7.0)
    assert world.ok("GET", "/api/exams", "s1")[0]["my_attempt"]["provisional"] is False
    assert _pending(world) == (0, {"s1": 0, "s2": 0})


def test_the_teacher_sees_the_result_before_release(world: World) -> None:
    attempt, _ = _setup(world)
    early = world.ok("GET", f"/api/attempts/{attempt}/result", "teacher")
    assert (early["provisional"], early["pending_numbers"], early["exam_title"]) == (True, [6], "期中考试")
