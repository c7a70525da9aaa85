"""Enrolled photos over HTTP on both databases: upload (exactly one face), encrypted at rest, read by
the student themself but not by another student, replace, delete, and a ZIP import by student number
whose bad files never stop the good ones."""

from __future__ import annotations

import io
import zipfile

import face_photos as fp
from proctor_support import user_id
from sqlalchemy import select, update
from support import World

from exam_server.db import session_scope
from exam_server.proctoring.identity import enrolled_embedding
from models import AuditEvent, EnrolledPhoto, User


def _numbers(world: World) -> dict[str, int]:
    ids = {name: user_id(world, name) for name in ("s1", "s2")}
    with session_scope(world.runtime.session_factory) as session:
        for uid in ids.values():
            session.execute(update(User).where(User.id == uid).values(student_number=f"2026{uid:03d}"))
    return ids


def _put(world: World, who: str, uid: int, data: bytes, name: str = "photo.jpg") -> object:
    return world.call("PUT", f"/api/users/{uid}/enrolled-photo", who, files={"file": (name, data)})


def _row(world: World, uid: int) -> EnrolledPhoto | None:
    with session_scope(world.runtime.session_factory) as session:
        row = session.get(EnrolledPhoto, uid)
        if row is not None:
            session.expunge(row)
        return row


def test_upload_checks_the_face_and_stores_both_encrypted(world: World) -> None:
    s1 = user_id(world, "s1")
    photo = fp.jpeg(fp.astronaut())
    r = _put(world, "teacher", s1, photo)
    assert r.status_code == 200 and r.json()["replaced"] is False, r.text
    row = _row(world, s1)
    assert row is not None and row.embedding is not None and len(row.embedding) == 12 + 512 + 16
    blob = (world.runtime.settings.data_dir / "evidence" / row.storage_key[:2] / row.storage_key).read_bytes()
    assert photo[:64] not in blob and b"JFIF" not in blob  # encrypted at rest
    with session_scope(world.runtime.session_factory) as session:
        embedding = enrolled_embedding(session, world.runtime.evidence, s1)
        assert embedding is not None and embedding.shape == (128,)
    assert world.call("GET", f"/api/users/{s1}/enrolled-photo", "s1").content == photo


def test_a_photo_without_exactly_one_face_is_refused_and_nothing_is_stored(world: World) -> None:
    s1 = user_id(world, "s1")
    cases = {"no_face": fp.jpeg(fp.empty_scenes()["coffee"]),
             "several_faces": fp.png(fp.side_by_side(fp.astronaut(), fp.hopper())),
             "not_an_image": b"%PDF-1.4 a pdf is not a photo"}
    for reason, data in cases.items():
        r = _put(world, "teacher", s1, data)
        assert r.status_code == 422 and r.json()["reason"] == reason, r.text
        assert r.json()["error"] == "PhotoRefused"
    assert _row(world, s1) is None
    assert list((world.runtime.settings.data_dir / "evidence").rglob("*")) == [] or all(
        p.is_dir() for p in (world.runtime.settings.data_dir / "evidence").rglob("*"))


def test_students_never_read_another_students_photo(world: World) -> None:
    s1, s2 = user_id(world, "s1"), user_id(world, "s2")
    assert _put(world, "admin", s1, fp.jpeg(fp.astronaut())).status_code == 200
    assert world.call("GET", f"/api/users/{s1}/enrolled-photo", "s2").status_code == 404
    assert world.call("GET", f"/api/users/{s2}/enrolled-photo", "s2").status_code == 404  # none yet
    assert world.call("PUT", f"/api/users/{s1}/enrolled-photo", "s2",
                      files={"file": ("p.jpg", fp.jpeg(fp.hopper()))}).status_code == 403
    assert world.call("DELETE", f"/api/users/{s1}/enrolled-photo", "s1").status_code == 403


def test_replace_then_delete_removes_the_old_blobs_after_commit(world: World) -> None:
    s1 = user_id(world, "s1")
    _put(world, "teacher", s1, fp.jpeg(fp.astronaut()))
    first = _row(world, s1)
    r = _put(world, "teacher", s1, fp.png(fp.hopper()), "hopper.png")
    assert r.status_code == 200 and r.json()["replaced"] is True
    second = _row(world, s1)
    assert first is not None and second is not None and first.storage_key != second.storage_key
    evidence = world.runtime.settings.data_dir / "evidence"
    assert not (evidence / first.storage_key[:2] / first.storage_key).exists()
    assert world.call("GET", f"/api/users/{s1}/enrolled-photo", "teacher").content == fp.png(fp.hopper())
    assert world.call("DELETE", f"/api/users/{s1}/enrolled-photo", "teacher").status_code == 204
    assert _row(world, s1) is None and not (evidence / second.storage_key[:2] / second.storage_key).exists()
    assert world.call("DELETE", f"/api/users/{s1}/enrolled-photo", "teacher").status_code == 404
    with session_scope(world.runtime.session_factory) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == s1,
                                                                  AuditEvent.action.like("enrolled_photo.%"))).all()
    assert actions == ["enrolled_photo.uploaded", "enrolled_photo.replaced", "enrolled_photo.deleted"]


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_zip_import_reports_every_file_and_keeps_the_good_ones(world: World) -> None:
    ids = _numbers(world)
    n1, n2 = f"2026{ids['s1']:03d}", f"2026{ids['s2']:03d}"
    archive = _zip({f"photos/{n1}.jpg": fp.jpeg(fp.astronaut()),
                    f"{n2}.png": fp.png(fp.side_by_side(fp.astronaut(), fp.hopper())),  # two faces
                    "9999999.jpg": fp.jpeg(fp.hopper()),  # nobody has this number
                    f"{n1}.jpeg": fp.jpeg(fp.hopper()),  # a second photo for s1
                    "notes.txt": b"not a photo", "__MACOSX/._x.jpg": b"junk",
                    f"broken/{n2}.jpg": b"\xff\xd8\xff\xe0 truncated"})
    r = world.call("POST", f"/api/schools/{world.ids['school']}/enrolled-photos/import", "teacher",
                   files={"file": ("photos.zip", archive)})
    assert r.status_code == 200, r.text
    report = {f["file"]: (f["status"], f["reason"]) for f in r.json()["files"]}
    assert report == {f"photos/{n1}.jpg": ("enrolled", None), f"{n2}.png": ("error", "several_faces"),
                      "9999999.jpg": ("error", "unknown_student"), f"{n1}.jpeg": ("error", "duplicate"),
                      "notes.txt": ("error", "not_a_photo"), f"broken/{n2}.jpg": ("error", "corrupt")}
    assert r.json()["counts"] == {"enrolled": 1, "replaced": 0, "error": 5}
    assert _row(world, ids["s1"]) is not None and _row(world, ids["s2"]) is None


def test_zip_import_refuses_what_is_not_a_zip_and_other_schools(world: World) -> None:
    school = world.ids["school"]
    r = world.call("POST", f"/api/schools/{school}/enrolled-photos/import", "teacher",
                   files={"file": ("x.zip", b"PK not really")})
    assert r.status_code == 422 and "ZIP" in r.json()["detail"]
    other = world.ok("POST", "/api/schools", "admin", json={"name": "二中"})["id"]
    r = world.call("POST", f"/api/schools/{other}/enrolled-photos/import", "teacher",
                   files={"file": ("p.zip", _zip({}))})
    assert r.status_code == 404
