"""Resource limits over HTTP on both databases: request bodies (413 before reading), hostile
uploads, answer sizes per type and per attempt, search terms and tags, and big imports and
enrolments committed batch by batch."""

import io
import os
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from support import START, World, build_world, make_client, make_runtime

from exam_server.clock import ManualClock
from exam_server.services import imports
from exam_server.services.imports import run_in_batches
from models import School

LIMITS = {"max_body_bytes": 20_000, "max_import_bytes": 100_000, "max_media_bytes": 50_000,
          "max_essay_chars": 1_000, "max_blank_chars": 50, "max_numeric_chars": 30,
          "max_attempt_answer_chars": 1_500, "max_search_chars": 40, "max_tag_chars": 12, "max_tags": 3,
          "import_batch_size": 2, "max_unpacked_bytes": 1_000_000, "max_image_pixels": 1_000_000,
          "import_subprocess_bytes": 20_000}
MULTIPART_SLACK = 64 * 1024


@pytest.fixture
def lw(database_url: str, tmp_path: Path) -> Iterator[World]:
    """The usual exam world, served with small limits."""
    clock = ManualClock(START)
    runtime = make_runtime(database_url, tmp_path, clock, **LIMITS)
    yield build_world(make_client(runtime), runtime, clock)
    runtime.engine.dispose()


def _error(response: Any, status: int, name: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"] == name, response.text
    return str(response.json()["detail"])


# -- request bodies --------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_from_its_content_length(lw: World) -> None:
    r = lw.client.post("/api/auth/login", content=b"{" + b" " * 30_000 + b"}",
                       headers={"content-type": "application/json"})
    assert "Content-Length is 30002 bytes; the limit for this route is 20000 bytes" in _error(r, 413,
                                                                                              "PayloadTooLarge")


def test_a_chunked_body_without_content_length_is_counted_and_refused(lw: World) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"username": "'
        for _ in range(10):
            yield b"x" * 5_000
        yield b'", "password": "p"}'

    r = lw.client.post("/api/auth/login", content=chunks(), headers={"content-type": "application/json"})
    assert "the body sent so far is larger; the limit for this route is 20000 bytes" in _error(r, 413,
                                                                                               "PayloadTooLarge")
    # the same login under the limit still works
    assert lw.client.post("/api/auth/login", json={"username": "s1", "password": "pass-word-1"}).status_code == 200


def test_upload_routes_take_their_own_larger_limit(lw: World) -> None:
    questions = "".join(f"::q{n}:: {n}+1=? {{={n + 1} ~{n}}}\n\n" for n in range(1_500)).encode()
    assert 20_000 < len(questions) < 100_000
    r = lw.call("POST", "/api/interchange/import", "teacher", files={"file": ("big.gift", questions)})
    assert r.status_code == 200, r.text  # (over 20,000 bytes: read in the child process)
    assert r.json()["counts"]["imported"] == 1_500
    too_big = b"x" * (100_000 + MULTIPART_SLACK + 1)
    r = lw.call("POST", "/api/interchange/import", "teacher", files={"file": ("huge.gift", too_big)})
    assert f"the limit for this route is {100_000 + MULTIPART_SLACK} bytes" in _error(r, 413, "PayloadTooLarge")
    r = lw.call("POST", "/api/media", "teacher", files={"file": ("huge.png", too_big)})
    assert f"the limit for this route is {50_000 + MULTIPART_SLACK} bytes" in _error(r, 413, "PayloadTooLarge")


def test_a_chunked_multipart_upload_is_capped_too(lw: World) -> None:
    boundary = "b0undary"

    def parts() -> Iterator[bytes]:
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.gift\"\r\n"
               "Content-Type: text/plain\r\n\r\n").encode()
        for _ in range(40):
            yield b"x" * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = lw.client.post("/api/interchange/import", content=parts(),
                       headers={**lw.headers("teacher"), "content-type": f"multipart/form-data; boundary={boundary}"})
    _error(r, 413, "PayloadTooLarge")


# -- hostile files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("noise", [0, 30_000], ids=["read-in-process", "read-in-child-process"])
def test_a_zip_bomb_import_is_refused_with_the_limit_named(lw: World, noise: int) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("items/bomb.xml", b"\0" * 5_000_000)
        archive.writestr("noise.bin", os.urandom(noise))  # over 20,000 bytes: read by the child process
    assert (len(buffer.getvalue()) > 20_000) == bool(noise)
    r = lw.call("POST", "/api/interchange/import", "teacher", files={"file": ("bomb.zip", buffer.getvalue())},
                data={"format": "qti3"})
    assert f"declares {5_000_000 + noise} unpacked bytes; the limit is 1000000" in _error(r, 422, "Unprocessable")
    assert (imports._pool is not None) or not noise, "the big file went to the reader process"


def test_an_xlsx_with_a_lying_dimension_is_imported_by_its_real_size(lw: World) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["题型", "题干", "选项A", "选项B", "答案"])
    for n in range(5):
        sheet.append(["单选题", f"{n}+1=?", str(n), str(n + 1), "B"])
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b'<dimension ref="A1:E6"', b'<dimension ref="A1:XFD1048576"')
                assert b"XFD1048576" in body
            target.writestr(info.filename, body)
    r = lw.call("POST", "/api/interchange/import", "teacher", files={"file": ("list.xlsx", out.getvalue())})
    assert r.status_code == 200, r.text
    assert r.json()["counts"]["imported"] == 5


def _png(width: int, height: int) -> bytes:
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR"
            + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0) + b"\0" * 4)


def test_images_over_the_pixel_cap_are_refused(lw: World) -> None:
    r = lw.call("POST", "/api/media", "teacher", files={"file": ("huge.png", _png(20_000, 20_000))})
    detail = _error(r, 422, "Unprocessable")
    assert "20000x20000 = 400000000 pixels; the limit is 1000000 pixels" in detail
    assert lw.call("POST", "/api/media", "teacher", files={"file": ("ok.png", _png(800, 600))}).status_code == 201


# -- answers ---------------------------------------------------------------------------------------


def test_answers_over_their_type_limit_are_refused_naming_the_slot_and_limit(lw: World) -> None:
    attempt = lw.start("s1")["attempt_id"]
    single, _multi, _tf, blank, numeric, essay = lw.ids["slots"]
    detail = _error(lw.save("s1", attempt, essay, "字" * 1_001, 1), 422, "AnswerTooLarge")
    assert detail == f"slot {essay}: response: 1001 characters; the limit for a essay answer is 1000"
    detail = _error(lw.save("s1", attempt, blank, ["北" * 51], 1), 422, "AnswerTooLarge")
    assert detail == f"slot {blank}: response[0] (blank 1): 51 characters; the limit per blank is 50"
    _error(lw.save("s1", attempt, numeric, "5" * 31, 1), 422, "AnswerTooLarge")
    for slot, response in ((essay, "字" * 1_000), (blank, ["北" * 50]), (single, "B")):
        assert lw.save("s1", attempt, slot, response, 2).status_code == 200


def test_the_attempt_storage_cap_counts_all_stored_answers(lw: World) -> None:
    attempt = lw.start("s1")["attempt_id"]
    _single, _multi, _tf, blank, _numeric, essay = lw.ids["slots"]
    assert lw.save("s1", attempt, essay, "a" * 1_000, 1).status_code == 200
    assert lw.save("s1", attempt, essay, "b" * 1_000, 2).status_code == 200, "a replaced answer is not counted twice"
    assert lw.save("s1", attempt, blank, ["c" * 40], 1).status_code == 200
    with lw.runtime.session_factory() as session:  # a third slot that pushes past 1,500 characters
        from models import AttemptAnswer

        session.add(AttemptAnswer(attempt_id=attempt, slot_id=lw.ids["slots"][0], response="x" * 450,
                                  client_seq=1, saved_at=START))
        session.commit()
    detail = _error(lw.save("s1", attempt, blank, ["d" * 50], 2), 422, "AnswerTooLarge")
    assert f"slot {blank}: this answer (54 characters)" in detail and "the limit per attempt is 1500" in detail
    assert lw.save("s1", attempt, blank, None, 3).status_code == 200, "clearing an answer is always allowed"


# -- search and tags -------------------------------------------------------------------------------


def test_search_terms_and_tags_are_capped(lw: World) -> None:
    assert lw.call("GET", "/api/items", "teacher", params={"q": "x" * 40}).status_code == 200
    detail = _error(lw.call("GET", "/api/items", "teacher", params={"q": "x" * 41}), 422, "LimitExceeded")
    assert detail == "q: 41 characters; the limit is 40 (EXAM_MAX_SEARCH_CHARS)"
    detail = _error(lw.call("GET", "/api/items", "teacher", params={"tag": "t" * 13}), 422, "LimitExceeded")
    assert detail == "tag[0]: 13 characters; the limit is 12 (EXAM_MAX_TAG_CHARS)"
    _error(lw.call("GET", "/api/items", "teacher", params={"tag": ["a", "b", "c", "d"]}), 422, "LimitExceeded")
    item = {"type": "true_false", "stem": "s", "definition": {"correct": True}}
    r = lw.call("POST", "/api/items", "teacher", json={**item, "tags": ["ok", "y" * 13]})
    assert _error(r, 422, "LimitExceeded") == "tags[1]: 13 characters; the limit is 12 (EXAM_MAX_TAG_CHARS)"
    assert lw.call("POST", "/api/items", "teacher", json={**item, "tags": ["ok"]}).status_code == 201


# -- batches ---------------------------------------------------------------------------------------


def test_an_import_is_committed_in_batches_and_reports_every_item(lw: World) -> None:
    gift = "\n\n".join(["::a:: 1+1=? {=2 ~3}", "::b:: 2+2=? {=4 ~5}", "::bad:: {", "::c:: 3+3=? {=6 ~7}",
                        "::d:: T/F {T}", "::e:: 5+5=? {=10 ~1}", "::f:: 6+6=? {=12 ~2}"]).encode()
    report = lw.ok("POST", "/api/interchange/import", "teacher", files={"file": ("q.gift", gift)})
    assert report["complete"] is True and report["committed"] == len(report["rows"])
    assert report["batches"] == (len(report["rows"]) + 1) // 2
    assert report["counts"]["rejected"] >= 1 and report["counts"]["imported"] >= 5
    stored = [row["item_id"] for row in report["rows"] if row["status"] != "rejected"]
    for item_id in stored:
        assert lw.call("GET", f"/api/items/{item_id}", "teacher").status_code == 200


def test_enrolment_is_committed_in_batches_and_a_bad_row_is_skipped(lw: World) -> None:
    rows = [{"username": f"n{n}", "password": "pass-word-1", "display_name": f"n{n}"} for n in range(4)]
    rows.insert(2, {"username": "s1", "password": "pass-word-1", "display_name": "dup"})
    out = lw.ok("POST", f"/api/classes/{lw.ids['klass']}/students", "admin", json=rows)
    assert [u["username"] for u in out["created"]] == ["n0", "n1", "n2", "n3"]
    assert [(r["index"], r["error"]) for r in out["rejected"]] == [(2, "Conflict")]


def test_a_concurrent_writer_commits_between_import_batches_on_sqlite(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock being shared is SQLite's; PostgreSQL writers do not wait on each other")
    runtime = make_runtime(database_url, tmp_path, ManualClock(START))
    events: list[tuple[str, int]] = []
    alive: list[Any] = []
    first_batch = threading.Event()

    def slow_item(session: Any, n: int) -> int:
        session.add(School(name=f"import {n}"))
        session.flush()
        events.append(("item", id(session)))  # one session per batch: the id names the transaction
        alive.append(session)  # (kept alive so that no two batches share an id)
        first_batch.set()
        time.sleep(0.03)  # a slow item: each batch holds SQLite's write lock for a while
        return n

    def other_writer() -> None:
        first_batch.wait(10)
        with runtime.session_factory() as session:  # BEGIN IMMEDIATE: waits for the lock
            session.add(School(name="a candidate's save"))
            session.commit()
        events.append(("writer committed", 0))

    writer = threading.Thread(target=other_writer)
    writer.start()
    done, batches, stopped = run_in_batches(runtime.session_factory, list(range(12)), 2, slow_item)
    writer.join(10)
    runtime.engine.dispose()
    assert done == list(range(12)) and batches >= 6 and stopped is None
    at = events.index(("writer committed", 0))
    assert 0 < at < len(events) - 1, f"the writer got in between batches, not after the import: {events}"
    assert events[at - 1][1] != events[at + 1][1], "a batch is one transaction: nothing commits inside one"


def test_an_imported_image_over_the_pixel_cap_rejects_its_item_only(lw: World) -> None:
    import base64

    def question(name: str, image: bytes) -> str:
        return (f'<question type="truefalse"><name><text>{name}</text></name>'
                f'<questiontext format="html"><text><![CDATA[<p><img src="@@PLUGINFILE@@/{name}.png"></p>]]></text>'
                f'<file name="{name}.png" path="/" encoding="base64">{base64.b64encode(image).decode()}</file>'
                '</questiontext><answer fraction="100"><text>true</text></answer>'
                '<answer fraction="0"><text>false</text></answer></question>')

    xml = f'<?xml version="1.0"?><quiz>{question("huge", _png(20_000, 20_000))}{question("ok", _png(80, 60))}</quiz>'
    report = lw.ok("POST", "/api/interchange/import", "teacher", files={"file": ("bank.xml", xml.encode())})
    huge, ok = report["rows"]
    assert huge["status"] == "rejected" and huge["item_id"] is None
    assert "huge.png: 20000x20000 = 400000000 pixels; the limit is 1000000 pixels" in " ".join(huge["messages"])
    assert ok["status"] != "rejected" and ok["item_id"]
