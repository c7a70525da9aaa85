"""End to end in headless Chromium: the admin area.

A school admin signs in and lands on /admin, imports a roster XLSX whose preview shows a bad
row (and keeps "apply" disabled), fixes the file, previews again and applies; the initial
passwords are shown once. A new student signs in with theirs and is sent to choose a new
password before reaching their page. A district admin sees the organisation tree.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from exam_server.services.roster_xlsx import read_roster
from tests.browser_support import Server, require_browser, shot

pytestmark = pytest.mark.browser

expect = require_browser()

PAGE_VIEWPORT = (1280, 900)
# Chromium logs 4xx answers as console errors; the forced password change provokes a 403 once.
EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of 403")
HEAD = ["学号", "姓名", "性别", "年级", "班级"]


def roster(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEAD, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def log_in(pg: Any, base_url: str, username: str, password: str) -> None:
    pg.goto(f"{base_url}/login?lang=zh")
    pg.get_by_label("用户名").fill(username)
    pg.get_by_label("密码").fill(password)
    pg.get_by_role("button", name="登录").click()


def test_school_admin_imports_a_roster_and_the_student_must_change_the_password(
        server: Server, page: Any, tmp_path: Path) -> None:
    base = server.base_url
    log_in(page, base, "schooladmin", "schooladmin-pass-1")
    page.wait_for_url(f"{base}/admin")
    page.get_by_role("navigation", name="管理功能").get_by_role("link", name="用户").click()
    page.wait_for_url(f"{base}/admin/users")

    klass = "高一(1)班 Grade 10 Class 1"
    bad = roster(tmp_path / "bad.xlsx", [["2026001", "刘一", "男", "高一", klass],
                                         ["2026002", "陈二", "未知", "高一", klass]])
    page.get_by_label("名单文件（XLSX）").set_input_files(str(bad))
    page.get_by_role("button", name="预览").click()
    expect(page.locator("#report-summary")).to_contain_text("错误 1")
    expect(page.locator("tr[data-row='3']")).to_contain_text("第 3 行 性别")
    expect(page.get_by_role("button", name="导入", exact=True)).to_be_disabled()
    shot(page, "admin-roster-preview.png")

    good = roster(tmp_path / "good.xlsx", [["2026001", "刘一", "男", "高一", klass],
                                           ["2026002", "陈二", "女", "高一", klass]])
    page.get_by_label("名单文件（XLSX）").set_input_files(str(good))
    page.get_by_role("button", name="预览").click()
    expect(page.locator("#report-summary")).to_contain_text("新建 2")
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator("#apply-summary")).to_contain_text("新建 2 个")
    credentials = page.locator("#credentials tbody tr")
    expect(credentials).to_have_count(2)
    username = credentials.nth(1).locator("td").nth(2).inner_text()
    password = credentials.nth(1).locator("td").nth(3).inner_text()
    assert username == "sf2026002" and len(password) == 10
    expect(page.locator("tr[data-user='sf2026002']")).to_be_visible()
    shot(page, "admin-roster-applied.png")

    # Reset another new account's password (shown once) and deactivate it; both ask first.
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_label("按姓名、用户名或学号搜索").fill("2026001")
    page.get_by_role("button", name="检索").click()
    row = page.locator("tr[data-user='sf2026001']")
    expect(page.locator("#user-rows tr")).to_have_count(1)
    row.get_by_role("button", name="重置密码").click()
    expect(page.locator("#reset-result")).to_contain_text("sf2026001 的新初始密码")
    row.get_by_role("button", name="停用").click()
    expect(page.locator("tr[data-user='sf2026001']")).to_contain_text("已停用")

    # Export one class: a workbook in the import layout with the two new students.
    page.locator("#export-class").select_option(label=klass)
    with page.expect_download() as download:
        page.get_by_role("button", name="导出名单").click()
    sheet = read_roster(Path(download.value.path()).read_bytes(), "students", 100)
    assert {"2026001", "2026002"} <= {row.cells["number"] for row in sheet.rows}

    # The student signs in with the initial password and must choose a new one first.
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{base}/login")
    log_in(page, base, username, password)
    page.wait_for_url(re.compile(r"/password\?next="))
    page.get_by_label("当前密码").fill(password)
    page.get_by_label("新密码", exact=True).fill("my-own-pass-1")
    page.get_by_label("再次输入新密码").fill("my-own-pass-1")
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_url(f"{base}/student")
    expect(page.locator("#user-name")).to_have_text("陈二")


def test_district_admin_sees_the_organisation(server: Server, page: Any) -> None:
    base = server.base_url
    log_in(page, base, "admin", "admin-pass-1")
    page.wait_for_url(f"{base}/admin")
    page.get_by_role("link", name="组织机构").first.click()
    page.wait_for_url(f"{base}/admin/org")
    expect(page.locator("#district-list")).to_contain_text("示范区 Demo District")
    expect(page.locator("#class-rows")).to_contain_text("高一(1)班 Grade 10 Class 1")
    expect(page.locator("#assignment-rows")).to_contain_text("王老师")
    page.get_by_label("新年级").fill("高二")
    page.get_by_role("button", name="添加年级").click()
    expect(page.locator("#class-grade")).to_contain_text("高二")
    page.get_by_label("新班级").fill("高二(1)班")
    page.locator("#class-grade").select_option(label="高二")
    page.get_by_role("button", name="添加班级").click()
    expect(page.locator("tr[data-class='高二(1)班']")).to_contain_text("高二")
    shot(page, "admin-org.png")
