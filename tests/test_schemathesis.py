"""schemathesis against our own OpenAPI spec, as every role: no request may end in a 5xx.

The app runs in-process on SQLite with the usual test world (a school, a class, a teacher, two
students, items, a paper and an open exam) plus one user of every other role. For each role and
each operation schemathesis generates valid and invalid requests (positive and negative modes) and
the only check is "not a server error": who may call what is the permission matrix's business, so
any 2xx/4xx passes here. Every 5xx is collected (method, path, status, body and a curl line) and
reported together rather than shrunk one at a time.

``EXAM_TEST_SCHEMATHESIS_EXAMPLES`` (default 8) bounds examples per operation, role and mode; CI
runs the default, a long local hunt sets it to a few hundred.
"""

import os
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
from sqlalchemy import update
from support import START, World, build_world, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.db import session_scope
from exam_server.services import accounts
from models import Role, User

EXAMPLES = int(os.environ.get("EXAM_TEST_SCHEMATHESIS_EXAMPLES", "8"))
PASSWORD = "pass-word-1"


@dataclass
class Fuzzed:
    world: World
    schema: Any
    users: dict[Role, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Fuzzed]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    shutil.copyfile(sqlite_template, tmp / "exam.db")
    clock = ManualClock(START)
    runtime = make_runtime(f"sqlite:///{tmp / 'exam.db'}", tmp, clock)
    client = make_client(runtime)
    world = build_world(client, runtime, clock)
    fuzz = Fuzzed(world, schemathesis.openapi.from_asgi("/openapi.json", client.app))
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
        session.execute(update(User).where(User.id == fuzz.users[role]).values(is_active=True))
        pair = accounts.login(session, runtime.settings, fuzz.users[role], None, clock())
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


def _fuzz_operation(operation: Any, headers: dict[str, str], found: list[str], who: str) -> None:
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))

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
    for operation in operations:
        headers = {"Authorization": f"Bearer {_fresh_token(fuzzed, role)}"}
        _fuzz_operation(operation, headers, found, role.value)
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
