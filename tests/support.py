"""Test helpers: build an app on a given database and drive it over HTTP as real users would."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from exam_server.app import create_app
from exam_server.clock import ManualClock
from exam_server.db import session_scope
from exam_server.runtime import Runtime, build_runtime
from exam_server.services import accounts
from exam_server.settings import Settings
from models import Role

PASSWORD = "pass-word-1"
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)

# (type, stem, definition, points) and a response that earns full marks
ITEMS: list[tuple[str, str, dict[str, Any], float]] = [
    ("single_choice", "1+1=?", {"options": [{"id": "A", "text": "1"}, {"id": "B", "text": "2"}], "correct": "B"}, 2),
    ("multiple_choice", "质数 primes", {"options": [{"id": "A", "text": "2"}, {"id": "B", "text": "4"},
                                                     {"id": "C", "text": "5"}, {"id": "D", "text": "9"}],
                                         "correct": ["A", "C"], "partial_credit": "gaokao"}, 4),
    ("true_false", "地球是圆的", {"correct": True}, 1),
    ("fill_blank", "首都 ____", {"blanks": [{"answers": [{"text": "北京", "fraction": 1.0}]}]}, 3),
    ("numeric", "7*8", {"answers": [{"value": 56, "tolerance": 0}]}, 5),
    ("essay", "写一段话", {"reference_answer": "SECRET-REFERENCE-TEXT"}, 10),
]


def make_runtime(database_url: str, tmp_path: Path, clock: ManualClock, redis_url: str | None = None,
                 **overrides: Any) -> Runtime:
    values: dict[str, Any] = {"secret_key": "test-secret-key-that-is-long-enough-for-hs256",
                              "data_dir": tmp_path / "data", "run_embedded_worker": False, **overrides}
    settings = Settings(database_url=database_url, redis_url=redis_url, **values)
    return build_runtime(settings, clock)


@dataclass
class World:
    """An exam world built through the API: a school, a class, a teacher, students, a paper, an exam."""

    client: TestClient
    runtime: Runtime
    clock: ManualClock
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def login(self, username: str) -> str:
        r = self.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.tokens[username] = r.json()["access_token"]
        self.tokens[f"{username}:refresh"] = r.json()["refresh_token"]
        return self.tokens[username]

    def refresh(self, username: str) -> None:
        """Rotate the user's tokens the way the exam page does when the access token nears expiry."""
        r = self.client.post("/api/auth/refresh", json={"refresh_token": self.tokens[f"{username}:refresh"]})
        assert r.status_code == 200, r.text
        self.tokens[username] = r.json()["access_token"]
        self.tokens[f"{username}:refresh"] = r.json()["refresh_token"]

    def call(self, method: str, url: str, who: str, **kwargs: Any) -> Any:
        return self.client.request(method, url, headers=self.headers(who), **kwargs)

    def ok(self, method: str, url: str, who: str, **kwargs: Any) -> Any:
        r = self.call(method, url, who, **kwargs)
        assert r.status_code < 300, f"{method} {url} -> {r.status_code} {r.text}"
        return r.json()

    def start(self, student: str) -> dict[str, Any]:
        return self.ok("POST", f"/api/exams/{self.ids['exam']}/attempt", student)  # type: ignore[no-any-return]

    def save(self, student: str, attempt_id: int, slot_id: int, response: Any, seq: int) -> Any:
        return self.call("PUT", f"/api/attempts/{attempt_id}/answers/{slot_id}", student,
                         json={"response": response, "client_seq": seq})


def build_world(client: TestClient, runtime: Runtime, clock: ManualClock, students: int = 2,
                duration_minutes: int = 30) -> World:
    world = World(client, runtime, clock)
    with session_scope(runtime.session_factory) as session:
        accounts.create_user(session, "admin", PASSWORD, Role.ADMIN, "Admin", None, clock())
    world.login("admin")
    school = world.ok("POST", "/api/schools", "admin", json={"name": "一中 No.1 School"})
    klass = world.ok("POST", f"/api/schools/{school['id']}/classes", "admin", json={"name": "高一(1)班"})
    teacher = {"username": "teacher", "password": PASSWORD, "display_name": "王老师", "role": "teacher",
               "school_id": school["id"]}
    teacher_id = world.ok("POST", "/api/users", "admin", json=teacher)["id"]
    world.ok("POST", f"/api/classes/{klass['id']}/teachers", "admin",
             json={"teacher_id": teacher_id, "subject": "数学"})
    names = [f"s{i}" for i in range(1, students + 1)]
    world.ok("POST", f"/api/classes/{klass['id']}/students", "admin",
             json=[{"username": n, "password": PASSWORD, "display_name": n} for n in names])
    for who in ["teacher", *names]:
        world.login(who)
    item_ids = [world.ok("POST", "/api/items", "teacher", json={"type": t, "stem": s, "definition": d})["id"]
                for t, s, d, _ in ITEMS]
    paper = world.ok("POST", "/api/papers", "teacher", json={"title": "期中 Midterm", "sections": [
        {"title": "一、客观题",
         "slots": [{"item_id": i, "points": p} for i, (*_, p) in zip(item_ids[:5], ITEMS[:5], strict=True)]},
        {"title": "二、作文", "slots": [{"item_id": item_ids[5], "points": ITEMS[5][3]}]},
    ]})
    exam = world.ok("POST", "/api/exams", "teacher", json={
        "title": "期中考试", "paper_id": paper["id"], "class_id": klass["id"],
        "opens_at": (clock() - timedelta(minutes=5)).isoformat(),
        "closes_at": (clock() + timedelta(hours=3)).isoformat(),
        "duration_minutes": duration_minutes})
    slot_ids = [slot["slot_id"] for section in paper["sections"] for slot in section["slots"]]
    world.ids.update(school=school["id"], klass=klass["id"], items=item_ids, paper=paper["id"], exam=exam["id"],
                     slots=slot_ids, students=names)
    return world


def make_client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime=runtime), raise_server_exceptions=False)
