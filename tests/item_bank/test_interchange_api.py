"""Import and export over HTTP, into a real database: per-item reports, media, round trips."""

import json
from pathlib import Path
from typing import Any

import pytest
from support import World

from item_bank.formats.moodle_xml import read_moodle_xml
from models import Item

SAMPLES = Path(__file__).parent / "samples"




def _import(world: World, name: str, data: bytes, fmt: str = "auto", status: int = 200) -> dict[str, Any]:
    r = world.call("POST", "/api/interchange/import", "teacher", files={"file": (name, data)}, data={"format": fmt})
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def test_moodle_import_stores_items_points_and_media(world: World) -> None:
    data = (SAMPLES / "moodle_bank.xml").read_bytes()
    expected = read_moodle_xml(data).counts()
    report = _import(world, "moodle_bank.xml", data)
    assert report["format"] == "moodle_xml" and report["counts"] == expected
    stored = [row for row in report["rows"] if row["status"] != "rejected"]
    assert stored and all(row["item_id"] for row in stored)
    assert all(row["item_id"] is None and row["messages"] for row in report["rows"] if row["status"] == "rejected")
    paths = [p["path"] for p in world.ok("GET", "/api/knowledge-points", "teacher")]
    assert paths, "categories became knowledge points"
    with world.runtime.read_session() as session:
        media = [m for r in stored for m in session.get(Item, r["item_id"]).media]  # type: ignore[union-attr]
    assert media, "the sample embeds an image"
    image = world.call("GET", f"/api/media/{media[0]['sha256']}", "teacher")
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
    # Candidates get pictures only through the signed links of their own exam page.
    assert world.call("GET", f"/api/media/{media[0]['sha256']}", "s1").status_code == 403
    assert world.call("GET", "/api/media/" + "0" * 64, "teacher").status_code == 404


def test_malformed_files_report_per_item_and_keep_the_good_ones(world: World) -> None:
    report = _import(world, "broken.gift", (SAMPLES / "gift_malformed.gift").read_bytes())
    assert report["counts"]["rejected"] >= 1 and report["counts"]["imported"] + report["counts"]["converted"] >= 1
    for row in report["rows"]:
        if row["status"] == "rejected":
            assert any("line" in m for m in row["messages"]), row
    unreadable = _import(world, "nonsense.xml", b"<quiz><question>", status=422)
    assert unreadable["error"] == "Unprocessable" and "nonsense.xml" in unreadable["detail"]
    bomb = b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaa">]><quiz>&a;</quiz>'
    assert "unsafe" in _import(world, "bomb.xml", bomb, status=422)["detail"]


def test_gb18030_text_files_are_read(world: World) -> None:
    gift = "::地理::中国的首都是哪里？{=北京 ~上海 ~广州}\n".encode("gb18030")
    report = _import(world, "legacy.gift", gift)
    assert report["counts"]["imported"] == 1
    item = world.ok("GET", f"/api/items/{report['rows'][0]['item_id']}", "teacher")
    assert item["stem"].startswith("中国的首都是哪里")


@pytest.mark.parametrize("fmt", ["moodle_xml", "gift", "qti3", "qti21", "xlsx"])
def test_export_then_import_round_trips_the_items(world: World, fmt: str) -> None:
    item_ids = world.ids["items"][:5]  # the objective items every format can carry
    r = world.call("POST", "/api/interchange/export", "teacher", json={"format": fmt, "item_ids": item_ids})
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    assert isinstance(json.loads(r.headers["x-export-notes"]), list)
    report = _import(world, f"export{fmt}", r.content, fmt=fmt)
    assert report["counts"]["rejected"] == 0, report
    originals = [world.ok("GET", f"/api/items/{i}", "teacher") for i in item_ids]
    copies = [world.ok("GET", f"/api/items/{row['item_id']}", "teacher") for row in report["rows"]]
    # a one-correct multiple choice may come back as single choice in GIFT; compare what grades
    for original, copy in zip(originals, copies, strict=True):
        assert copy["stem"].replace("[[1]]", "____") == original["stem"].replace("[[1]]", "____") or fmt == "gift"
        if original["type"] == copy["type"]:
            assert _key(copy) == _key(original)


def _key(item: dict[str, Any]) -> Any:
    d = item["definition"]
    return d.get("correct") or d.get("blanks") or d.get("answers")


def test_template_and_formats_are_offered(world: World) -> None:
    names = [f["name"] for f in world.ok("GET", "/api/interchange/formats", "teacher")]
    assert names == ["moodle_xml", "gift", "aiken", "qti3", "qti21", "xlsx"]
    template = world.call("GET", "/api/interchange/template.xlsx", "teacher")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    assert _import(world, "template.xlsx", template.content)["counts"] == {"imported": 0, "converted": 0,
                                                                          "rejected": 0}
    assert world.call("GET", "/api/interchange/template.xlsx", "s1").status_code == 403


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def test_uploaded_image_is_attached_to_an_item(world: World) -> None:
    r = world.call("POST", "/api/media", "teacher", files={"file": ("图.png", PNG)})
    assert r.status_code == 201, r.text
    ref = r.json()
    assert ref["mime_type"] == "image/png" and ref["size"] == len(PNG)
    item = world.ok("POST", "/api/items", "teacher", json={
        "type": "true_false", "stem": "看图判断 ![图](media:图.png)", "definition": {"correct": True}, "media": [ref]})
    assert item["media"][0]["sha256"] == ref["sha256"]
    assert world.call("GET", f"/api/media/{ref['sha256']}", "teacher").content == PNG
    dangling = world.call("POST", "/api/items", "teacher", json={
        "type": "true_false", "stem": "x", "definition": {"correct": True}, "media": [{**ref, "sha256": "a" * 64}]})
    assert dangling.status_code == 404 and "media[0]" in dangling.json()["detail"]
    not_image = world.call("POST", "/api/media", "teacher", files={"file": ("x.png", b"<svg onload=alert(1)>")})
    assert not_image.status_code == 422 and "not a PNG" in not_image.json()["detail"]
    assert world.call("POST", "/api/media", "s1", files={"file": ("x.png", PNG)}).status_code == 403


def test_exam_pages_get_signed_links_to_item_images(world: World) -> None:
    ref = world.call("POST", "/api/media", "teacher", files={"file": ("图.png", PNG)}).json()
    item = world.ok("POST", "/api/items", "teacher", json={
        "type": "true_false", "stem": "看图 ![图](media:图.png)", "definition": {"correct": True}, "media": [ref]})
    paper = world.ok("POST", "/api/papers", "teacher", json={
        "title": "看图", "sections": [{"title": "一", "slots": [{"item_id": item["id"], "points": 1}]}]})
    exam = world.ok("POST", "/api/exams", "teacher", json={
        "title": "看图", "paper_id": paper["id"], "class_id": world.ids["klass"],
        "opens_at": world.clock().isoformat(), "closes_at": "2099-01-01T00:00:00+00:00", "duration_minutes": 10})
    slot = world.ok("POST", f"/api/exams/{exam['id']}/attempt", "s1")["paper"]["sections"][0]["slots"][0]
    url = slot["media"][0]["url"]
    assert slot["media"][0]["name"] == "图.png"
    assert world.client.get(url).content == PNG  # no bearer token: the signature is the permission
    assert world.client.get(url.replace("sig=", "sig=0")).status_code == 403
    world.clock.advance(hours=13)
    expired = world.client.get(url)
    assert expired.status_code == 403 and "expired" in expired.json()["detail"]
