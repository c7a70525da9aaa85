"""schemathesis against our own OpenAPI spec, as every role: no request may end in a 5xx.

The app runs in-process on SQLite and, when reachable, PostgreSQL (which refuses what SQLite
stores, such as NUL bytes), with the usual test world (a school, a class, a teacher, two students,
items, a paper, an open exam and a started attempt) plus one user of every other role. For each
backend, role and operation schemathesis generates valid and invalid requests (positive and
negative modes), first with generated path ids (mostly "not found") and then with the world's real
ids, so the handlers do their real work. The only check is "not a server error": who may call what
is the permission matrix's business, so any 2xx/4xx passes here. Every 5xx or crash is collected
(role, operation, status, body and a curl line) and reported together.

``EXAM_TEST_SCHEMATHESIS_EXAMPLES`` (default 6) bounds examples per operation, role and id kind;
CI runs the default, a long local hunt sets it to a few hundred.
"""

import base64
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import create_engine, text, update
from support import START, World, build_world, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.db import session_scope
from exam_server.services import accounts, sessions
from models import Base, Role, User

EXAMPLES = int(os.environ.get("EXAM_TEST_SCHEMATHESIS_EXAMPLES", "6"))
PASSWORD = "pass-word-1"


@dataclass
class Fuzzed:
    world: World
    schema: Any
    users: dict[Role, int] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)  # path parameter name -> a real id in the world


# A real 1x1 PNG: media uploads read the image header (the pixel cap).
ONE_PIXEL_PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ"
                                 "/pLvAAAAAElFTkSuQmCC")


def _database(request: pytest.FixtureRequest, tmp: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        shutil.copyfile(sqlite_template, tmp / "exam.db")
        return f"sqlite:///{tmp / 'exam.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:  # the session's scratch database, emptied as tests/conftest.py does
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           sqlite_template: Path) -> Iterator[Fuzzed]:
    """One world per backend for the whole module: PostgreSQL refuses what SQLite stores (NUL bytes)."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    url = _database(request, tmp, sqlite_template)
    clock = ManualClock(START)
    runtime = make_runtime(url, tmp, clock)
    client = make_client(runtime)
    world = build_world(client, runtime, clock)
    fuzz = Fuzzed(world, schemathesis.openapi.from_asgi("/openapi.json", client.app))
    attempt = world.start("s1")
    media = world.ok("POST", "/api/media", "teacher", files={"file": ("a.png", ONE_PIXEL_PNG)})
    fuzz.ids = {"school_id": world.ids["school"], "class_id": world.ids["klass"], "item_id": world.ids["items"][0],
                "paper_id": world.ids["paper"], "exam_id": world.ids["exam"], "attempt_id": attempt["attempt_id"],
                "slot_id": world.ids["slots"][0], "sha256": media["sha256"]}
    with session_scope(runtime.session_factory) as session:
        for role in Role:
            user = session.query(User).filter(User.role == role).order_by(User.id).first()
            if user is None:
                user = accounts.create_user(session, f"fuzz-{role.value}", PASSWORD, role, role.value,
                                            world.ids["school"], clock())
            fuzz.users[role] = user.id
    yield fuzz
    runtime.engine.dispose()


def _fresh_token(fuzz: Fuzzed, role: Role) -> str:
    """A new session for the role, straight from the service: fuzzed calls may have logged the user out,
    signed them out everywhere or disabled them, and the login route itself is rate limited."""
    runtime, clock = fuzz.world.runtime, fuzz.world.clock
    clock.advance(seconds=1)  # strictly after any "tokens valid after" a fuzzed sign-out set
    with session_scope(runtime.session_factory) as session:
        # A fuzzed password reset may also have set must_change_password (every route then 403s).
        session.execute(update(User).where(User.id == fuzz.users[role])
                        .values(is_active=True, must_change_password=False))
        pair = sessions.login(session, runtime.settings, fuzz.users[role], None, clock())
    return pair.access_token


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _describe(case: Any, response: Any) -> str:
    body = response.text[:300] if hasattr(response, "text") else ""
    try:
        curl = case.as_curl_command()
    except Exception:  # noqa: BLE001 - a request we cannot print is still worth reporting
        curl = "(no curl form)"
    return f"{case.operation.label} -> {response.status_code}: {body}\n    {curl}"


def _real_path_parameters(fuzz: Fuzzed, operation: Any) -> dict[str, Any] | None:
    """The world's own ids for the operation's path, so requests get past "not found" to the real work."""
    names = re.findall(r"{(\w+)}", operation.path)
    known = {name: fuzz.ids[name] for name in names if name in fuzz.ids}
    return known or None


def _fuzz_operation(operation: Any, headers: dict[str, str], found: list[str], who: str,
                    path_parameters: dict[str, Any] | None = None) -> None:
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path_parameters),
                         operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path_parameters))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # noqa: BLE001 - in-process, an unhandled error surfaces as an exception
            found.append(f"[{who}] {case.operation.label} -> crash {type(exc).__name__}: {exc}"[:600])
            return
        if response.status_code >= 500:
            found.append(f"[{who}] {_describe(case, response)}")

    run()


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_no_operation_answers_a_server_error(fuzzed: Fuzzed, role: Role) -> None:
    found: list[str] = []
    operations = _operations(fuzzed.schema)
    assert len(operations) > 30  # the spec really was loaded
    me = fuzzed.world.client.get("/api/auth/me", headers={"Authorization": f"Bearer {_fresh_token(fuzzed, role)}"})
    assert me.status_code == 200 and me.json()["role"] == role.value  # requests really are made as this role
    for operation in operations:
        # generated ids first (mostly "not found"), then the world's real ones (the handlers' real work)
        real = _real_path_parameters(fuzzed, operation)
        for path_parameters in [None, real] if real else [None]:
            headers = {"Authorization": f"Bearer {_fresh_token(fuzzed, role)}"}
            _fuzz_operation(operation, headers, found, role.value, path_parameters)
    assert not found, f"{len(found)} server error(s):\n" + "\n".join(found[:40])


def test_the_harness_reports_server_errors() -> None:
    """Not blind: a route that crashes on some inputs is reported, a sound one is not."""
    app = FastAPI()

    @app.get("/boom/{n}")
    def boom(n: int) -> dict[str, int]:
        if n >= 0:
            raise RuntimeError("not negative")
        return {"n": n}

    @app.post("/fine")
    def fine(body: dict[str, int]) -> dict[str, int]:
        return body

    found: list[str] = []
    operations = {op.label: op for op in _operations(schemathesis.openapi.from_asgi("/openapi.json", app))}
    _fuzz_operation(operations["POST /fine"], {}, found, "anyone")
    assert found == []
    _fuzz_operation(operations["GET /boom/{n}"], {}, found, "anyone")
    assert found and all("GET /boom/{n} -> crash RuntimeError: not negative" in line for line in found)
