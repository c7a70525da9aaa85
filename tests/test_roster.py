"""Roster import (preview, apply), export and template over HTTP, on both databases: every kind
of row error, whole-file errors, the same number updating, initial passwords that must be changed."""

import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from support import PASSWORD, World

from exam_server.db import session_scope
from exam_server.services.roster_xlsx import read_roster
from models import User

STUDENT_HEAD = ["*学号（必填）", "姓 名", "性别", "年级", "班级"]


def xlsx(rows: list[list[Any]], title_rows: int = 0) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for _ in range(title_rows):
        sheet.append(["2025 学年 高一 学生名单"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def post(world: World, step: str, data: bytes, who: str = "admin", kind: str = "students",
         create_missing: bool = False, school: int | None = None) -> Any:
    school_id = school if school is not None else world.ids["school"]
    return world.call("POST", f"/api/schools/{school_id}/roster/{step}", who,
                      files={"file": ("roster.xlsx", data)},
                      data={"kind": kind, "create_missing": str(create_missing).lower()})


@pytest.fixture
def school(world: World) -> World:
    """The world's school gets a code and grades 高一 (with the world's class) and 高二 (with 高二(1)班)."""
    s = world.ids["school"]
    world.ok("PATCH", f"/api/schools/{s}", "admin", json={"code": "YZ"})
    g1 = world.ok("POST", f"/api/schools/{s}/grades", "admin", json={"name": "高一"})["id"]
    g2 = world.ok("POST", f"/api/schools/{s}/grades", "admin", json={"name": "高二"})["id"]
    world.ok("PATCH", f"/api/classes/{world.ids['klass']}", "admin", json={"grade_id": g1})
    world.ids["klass2"] = world.ok("POST", f"/api/schools/{s}/classes", "admin",
                                   json={"name": "高二(1)班", "grade_id": g2})["id"]
    return world


def _users(world: World) -> int:
    with session_scope(world.runtime.session_factory) as session:
        return session.query(User).count()


def test_preview_names_every_row_error_and_writes_nothing(school: World) -> None:
    before = _users(school)
    rows = [
        STUDENT_HEAD + ["用户名"],
        ["２０２５００１", "张三", "男", "高一", "高一（1）班", ""],  # full-width digits and brackets: fine
        [2025001, "张三三", "女", "高一", "高一(1)班", ""],  # the same number again (a number cell)
        ["2025003", "", "男", "高一", "高一(1)班", ""],  # empty name
        ["2025004", "李" * 201, "男", "高一", "高一(1)班", ""],  # too long
        ["2025005", "王五", "未知", "高一", "高一(1)班", ""],  # bad gender
        ["2025006", "赵六", "男", "高四", "高一(1)班", ""],  # unknown grade
        ["2025007", "陈七", "男", "高一", "高一(9)班", ""],  # unknown class
        ["2025008", "周八", "男", "高一", "高二(1)班", ""],  # class of another grade
        ["2025 9", "吴九", "男", "高一", "高一(1)班", ""],  # bad number
        ["2025010", "郑十", "男", "高一", "", ""],  # no class
        ["2025011", "钱十一", "男", "高一", "高一(1)班", "teacher"],  # username taken
        ["2025012", "孙十二", "M", "", "高一(1)班", "bad name!"],  # bad username
        [None, None, None, None, None, None],  # an empty row is skipped
    ]
    r = post(school, "preview", xlsx(rows, title_rows=1))
    assert r.status_code == 200, r.text
    report = r.json()
    by_row = {row["row"]: row for row in report["rows"]}
    assert by_row[3]["action"] == "create" and by_row[3]["username"] == "yz2025001"
    assert by_row[3]["class_name"] == "高一(1)班"
    expected = {4: ("*学号（必填）", "also on row 3"), 5: ("姓 名", "empty"), 6: ("姓 名", "at most 200"),
                7: ("性别", "男/女"), 8: ("年级", "高四"), 9: ("班级", "高一(9)班"), 10: ("班级", "in grade 高二"),
                11: ("*学号（必填）", "letters, digits"), 12: ("班级", "empty"), 13: ("用户名", "already taken"),
                14: ("用户名", "'bad name!'")}
    for row, (column, words) in expected.items():
        issues = by_row[row]["issues"]
        assert by_row[row]["action"] == "error", by_row[row]
        assert any(i["column"] == column and words in i["detail"] for i in issues), (row, issues)
    assert report["counts"] == {"create": 1, "update": 0, "error": 11}
    assert "known: 高一(1)班, 高二(1)班" in by_row[9]["issues"][0]["detail"]
    assert _users(school) == before, "a preview writes nothing"
    r = post(school, "apply", xlsx(rows, title_rows=1))
    assert r.status_code == 422 and r.json()["error"] == "RosterHasErrors"
    assert r.json()["report"]["counts"]["error"] == 11
    assert _users(school) == before, "apply refuses a file with errors and writes nothing"


def test_apply_creates_then_the_same_number_updates(school: World) -> None:
    before = _users(school)
    rows = [STUDENT_HEAD, ["2025001", "张三", "男", "高一", "高一(1)班"], ["2025002", "李四", "女", "", "高一(1)班"]]
    r = post(school, "apply", xlsx(rows))
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["created"], result["updated"]) == (2, 0)
    creds = {c["username"]: c["initial_password"] for c in result["credentials"]}
    assert set(creds) == {"yz2025001", "yz2025002"} and all(len(p) == 10 for p in creds.values())
    assert _users(school) == before + 2
    # The same numbers again, one moved to another grade's class and renamed: updates, no new accounts.
    rows = [STUDENT_HEAD, ["2025001", "张三丰", "男", "高二", "高二(1)班"],
            ["2025002", "李四", "女", "高一", "高一(1)班"]]
    preview = post(school, "preview", xlsx(rows)).json()
    assert [row["action"] for row in preview["rows"]] == ["update", "update"]
    result = post(school, "apply", xlsx(rows)).json()
    assert (result["created"], result["updated"], result["credentials"]) == (0, 2, [])
    assert _users(school) == before + 2
    moved = school.ok("GET", f"/api/users?q=2025001&school_id={school.ids['school']}", "admin")
    assert [(u["display_name"], u["class_ids"], u["gender"]) for u in moved] == [
        ("张三丰", [school.ids["klass2"]], "M")]
    # The initial password signs in but must be changed before anything else.
    login = school.client.post("/api/auth/login",
                               json={"username": "yz2025002", "password": creds["yz2025002"]})
    assert login.status_code == 200 and login.json()["user"]["must_change_password"] is True
    token = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert school.client.get("/api/exams", headers=token).json()["error"] == "PasswordChangeRequired"
    changed = school.client.post("/api/auth/password", headers=token, json={
        "current_password": creds["yz2025002"], "new_password": "my-new-pass-1"})
    assert changed.status_code == 200
    token = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert school.client.get("/api/exams", headers=token).status_code == 200


def test_create_missing_makes_unknown_grades_and_classes(school: World) -> None:
    rows = [STUDENT_HEAD, ["2025101", "甲", "男", "高三", "高三(2)班"], ["2025102", "乙", "女", "高三", "高三(2)班"],
            ["2025103", "丙", "女", "高一", "高三(2)班"]]
    report = post(school, "preview", xlsx(rows), create_missing=True).json()
    assert report["new_grades"] == ["高三"] and report["new_classes"] == ["高三(2)班"]
    assert [r["action"] for r in report["rows"]] == ["create", "create", "error"]
    assert "by an earlier row" in report["rows"][2]["issues"][0]["detail"]
    rows.pop()
    assert post(school, "apply", xlsx(rows), create_missing=True).status_code == 200
    classes = {c["name"]: c for c in school.ok("GET", "/api/classes", "admin")}
    assert classes["高三(2)班"]["grade_name"] == "高三" and classes["高三(2)班"]["students"] == 2


def test_teachers_import_assigns_classes_and_numbers_do_not_cross_kinds(school: World) -> None:
    head = ["工号", "姓名", "性别", "用户名", "任教班级", "学科"]
    rows = [head, ["T001", "王老师", "女", "wang.t", "高一(1)班、高二(1)班：物理", "数学"],
            ["T002", "李老师", "男", "", "高一(1)班", ""], ["T003", "赵老师", "男", "", "高九(1)班", "语文"]]
    report = post(school, "preview", xlsx(rows), kind="teachers").json()
    assert [r["action"] for r in report["rows"]] == ["create", "error", "error"]
    assert report["rows"][0]["teaches"] == ["高一(1)班:数学", "高二(1)班:物理"]
    assert "no subject" in report["rows"][1]["issues"][0]["detail"]
    assert "高九(1)班" in report["rows"][2]["issues"][0]["detail"]
    result = post(school, "apply", xlsx(rows[:2]), kind="teachers").json()
    assert result["credentials"][0]["username"] == "wang.t"
    assignments = school.ok("GET", f"/api/schools/{school.ids['school']}/assignments", "admin")
    assert {(a["username"], a["class_name"], a["subject"]) for a in assignments} >= {
        ("wang.t", "高一(1)班", "数学"), ("wang.t", "高二(1)班", "物理")}
    # A student row with a teacher's number is refused.
    report = post(school, "preview", xlsx([STUDENT_HEAD, ["T001", "王", "女", "高一", "高一(1)班"]])).json()
    assert "belongs to a teacher account" in report["rows"][0]["issues"][0]["detail"]
    # Export: the import layout, the assignments as 班级:学科, never a password.
    r = school.call("GET", f"/api/schools/{school.ids['school']}/roster/export?kind=teachers", "admin")
    sheet = read_roster(r.content, "teachers", 100)
    assert [(row.cells["number"], row.cells["teaches"]) for row in sheet.rows] == [
        ("T001", "高一(1)班:数学、高二(1)班:物理"), ("", "高一(1)班:数学")], "the world's teacher has no number"
    assert "password" not in " ".join(map(str, load_workbook(io.BytesIO(r.content)).active.values)).lower()


def test_export_reimports_as_updates_and_template_reads_back(school: World) -> None:
    rows = [STUDENT_HEAD, ["007", "零零七", "男", "高一", "高一(1)班"], ["008", "零零八", "女", "高二", "高二(1)班"]]
    assert post(school, "apply", xlsx(rows)).status_code == 200
    s, k = school.ids["school"], school.ids["klass"]
    exported = school.call("GET", f"/api/schools/{s}/roster/export?kind=students&class_id={k}", "admin").content
    sheet = read_roster(exported, "students", 100)
    # The world's students s1 and s2 have no number: listed last, with an empty one.
    assert [(r.cells["number"], r.cells["class"], r.cells["grade"], r.cells["username"]) for r in sheet.rows] == [
        ("007", "高一(1)班", "高一", "yz007"), ("", "高一(1)班", "高一", "s1"), ("", "高一(1)班", "高一", "s2")]
    report = post(school, "preview", exported).json()
    assert [r["action"] for r in report["rows"]] == ["update", "error", "error"]
    template = school.call("GET", f"/api/schools/{s}/roster/template?kind=students", "admin").content
    assert [r.cells["name"] for r in read_roster(template, "students", 10).rows] == ["张三"]


@pytest.mark.parametrize("data, words", [
    (b"not a workbook at all", "not a workbook"),
    (xlsx([["名字不对", "x"], ["1", "2"]]), "no header row"),
    (xlsx([["学号", "姓名"], ["1", "张三"]]), "no header row"),  # students need 班级
])
def test_a_bad_file_is_refused_whole(school: World, data: bytes, words: str) -> None:
    for step in ("preview", "apply"):
        r = post(school, step, data)
        assert r.status_code == 422 and r.json()["error"] == "BadRoster" and words in r.json()["detail"], r.text


def test_row_cap_and_a_lying_dimension(school: World) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(STUDENT_HEAD)
    sheet.append(["1", "甲", "男", "高一", "高一(1)班"])
    buffer = io.BytesIO()
    book.save(buffer)
    # Claim a sheet of a million rows by 16,384 columns: only the real cells are read.
    import zipfile
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                body = body.replace(b'<dimension ref="A1:E2"/>', b'<dimension ref="A1:XFD1048576"/>')
            target.writestr(info, body)
    r = post(school, "preview", out.getvalue())
    assert r.status_code == 200 and r.json()["counts"]["create"] == 1
    many = xlsx([STUDENT_HEAD] + [[str(n), "甲", "男", "高一", "高一(1)班"] for n in range(5001)])
    r = post(school, "preview", many)
    assert r.status_code == 422 and "more than 5000 rows" in r.json()["detail"]


def test_only_the_schools_admins_use_its_roster(school: World) -> None:
    other = school.ok("POST", "/api/schools", "admin", json={"name": "二中", "code": "EZ"})["id"]
    for name, school_id in (("sa-own", school.ids["school"]), ("sa-other", other)):
        school.ok("POST", "/api/users", "admin", json={"username": name, "password": PASSWORD,
                                                        "display_name": name, "role": "school_admin",
                                                        "school_id": school_id})
        school.login(name)
    data = xlsx([STUDENT_HEAD, ["2025001", "张三", "男", "高一", "高一(1)班"]])
    assert post(school, "preview", data, who="sa-other").status_code == 404
    assert post(school, "apply", data, who="sa-other").status_code == 404
    assert post(school, "preview", data, who="teacher").status_code == 403
    assert post(school, "apply", data, who="sa-own").status_code == 200
    r = school.call("GET", f"/api/schools/{school.ids['school']}/roster/export", "sa-other")
    assert r.status_code == 404
