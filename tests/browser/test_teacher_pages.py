"""End to end in headless Chromium: the teacher's pages, and the structured item types on the exam page.

A teacher imports a GIFT file, reviews the imported items in the bank, assembles a paper (and sees
why an impossible blueprint cannot be met), saves it, schedules an exam and finds it on the exams
page. A student answers matching, ordering and inline-choice items, reloads, and finds the answers.
Screenshots go to ``var/screenshots/``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from exam_server.web.i18n import EN, ZH
from tests.browser_support import TIMEOUT_MS, Server, api_token, require_browser, shot

pytestmark = pytest.mark.browser

expect = require_browser()

TEACHER, TEACHER_PASSWORD = "teacher", "teacher-pass-1"
STUDENT, STUDENT_PASSWORD = "student1", "student-pass-1"
# Chromium logs every 4xx answer as a console error; these tests provoke 422s on purpose.
PAGE_VIEWPORT = (1280, 900)
EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of 422")

GIFT = """// E2E import: two good questions and one malformed one
$CATEGORY: 数学/函数

::e2e-choice:: E2E 一次函数 y = 2x + 1 的斜率是多少？ {
  =2
  ~1
  ~-1
}

::e2e-tf:: E2E 二次函数的图像是抛物线。 {T}

::e2e-broken:: E2E 这道题的答案块没有结束 {=甲 ~乙
"""
BROKEN_LINE = next(n for n, line in enumerate(GIFT.splitlines(), 1) if line.startswith("::e2e-broken::"))


def log_in(pg: Any, base_url: str, username: str, password: str) -> None:
    pg.goto(f"{base_url}/login?lang=zh")
    pg.get_by_label("用户名").fill(username)
    pg.get_by_label("密码").fill(password)
    pg.get_by_role("button", name="登录").click()


def client(base_url: str, username: str, password: str) -> httpx.Client:
    token = api_token(base_url, username, password)
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_strings_exist_in_both_languages() -> None:
    assert set(ZH) == set(EN)
    assert all(ZH[k].count("{") == EN[k].count("{") for k in ZH), "placeholders differ between languages"


def test_teacher_imports_reviews_assembles_and_schedules(server: Server, page: Any, tmp_path: Path) -> None:
    base = server.base_url
    log_in(page, base, TEACHER, TEACHER_PASSWORD)
    page.wait_for_url(f"{base}/teacher")
    nav = page.get_by_role("navigation", name="教师功能")
    for label in ("题库", "导入导出", "组卷", "考试"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()

    # ---- import a GIFT file: two stored, one rejected with its line ----
    nav.get_by_role("link", name="导入导出").click()
    page.wait_for_url(f"{base}/teacher/import")
    expect(page.get_by_label("文件格式")).to_have_value("auto")
    gift = tmp_path / "e2e.gift"
    gift.write_text(GIFT, encoding="utf-8")
    page.get_by_label("题目文件").set_input_files(str(gift))
    page.get_by_role("button", name="上传并导入").click()
    report = page.locator("#import-report")
    expect(report).to_be_visible()
    expect(report.locator('[data-count="stored"]')).to_have_attribute("data-value", "2")
    expect(report.locator('[data-count="stored"]')).to_have_text("已入库 2 题")
    expect(report.locator('[data-count="rejected"]')).to_have_text("拒绝 1 题")
    expect(report.locator('tr[data-import-status="imported"]')).to_have_count(2)
    rejected = report.locator('tr[data-import-status="rejected"]')
    expect(rejected).to_have_count(1)
    expect(rejected.locator("td ul.messages")).to_contain_text(f"line {BROKEN_LINE}: '{{' is never closed")
    expect(rejected).to_contain_text("已拒绝")
    links = report.locator('tr[data-import-status="imported"] a')
    imported = sorted(int(str(links.nth(i).get_attribute("href")).split("=")[-1]) for i in range(2))
    shot(page, "teacher-import.png")

    # ---- the bank: find the imported items, mark them reviewed, check the editor's server errors ----
    page.get_by_role("navigation", name="教师功能").get_by_role("link", name="题库").click()
    page.wait_for_url(f"{base}/teacher/bank")
    page.get_by_label("关键词").fill("E2E")
    page.get_by_role("button", name="检索").click()
    rows = page.locator("#item-rows tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#bank-status")).to_have_text("共找到 2 道题")
    for item_id in imported:
        status = page.get_by_label(f"题目 {item_id} 的状态")
        status.select_option("reviewed")
        expect(status).to_have_attribute("data-saved", "reviewed")
    page.get_by_label(f"选择题目 {imported[0]}").check()
    expect(page.locator("#selection-count")).to_have_text("已选 1 题")

    page.get_by_role("button", name=f"编辑题目 {imported[0]}").click()
    editor = page.locator("#editor")
    expect(editor).to_be_visible()
    expect(editor.get_by_label("题干")).to_have_value(re.compile("E2E 一次函数"))
    editor.get_by_label("预估难度（0–1，答对率）").fill("0.7")
    editor.get_by_role("button", name="保存").click()
    expect(editor.locator("#editor-ok")).to_have_text(f"已保存题目 {imported[0]}。")
    editor.get_by_label("题型定义（JSON）").fill('{"options": [], "correct": "A"}')
    editor.get_by_role("button", name="保存").click()
    expect(editor.locator("#editor-error")).to_contain_text("definition.options")
    shot(page, "teacher-editor.png")
    editor.get_by_role("button", name="关闭").click()
    page.get_by_role("button", name=f"题目 {imported[0]} 的版本").click()
    expect(page.locator("#versions-rows tr")).to_have_count(1)
    shot(page, "teacher-bank.png")

    # ---- export the bank selection (kept in sessionStorage) as GIFT ----
    page.get_by_role("navigation", name="教师功能").get_by_role("link", name="导入导出").click()
    export = page.locator("#export")
    expect(export.get_by_label("所选题目（1 题")).to_be_checked()
    export.get_by_label("导出格式").select_option("gift")
    with page.expect_download() as info:
        export.get_by_role("button", name="导出", exact=True).click()
    download = info.value
    assert download.suggested_filename == "items-gift.gift"
    assert "E2E 一次函数" in Path(download.path()).read_text(encoding="utf-8")
    expect(page.locator("#export-status")).to_have_text("已导出 1 道题。")

    # ---- assemble: a feasible blueprint, then an impossible one ----
    page.get_by_role("navigation", name="教师功能").get_by_role("link", name="组卷").click()
    page.wait_for_url(f"{base}/teacher/assemble")
    # the demo class is offered by name beside the class id field
    expect(page.locator("#class-options option")).to_have_count(1)
    assert "高一(1)班" in str(page.locator("#class-options option").first.get_attribute("label"))
    section = page.locator("#section-rows fieldset").first
    section.get_by_label("名称").fill("选择与判断")
    section.get_by_label("题数").fill("2")
    section.get_by_label("题型").select_option(["single_choice", "true_false"])
    section.get_by_label("每题分值").fill("5")
    page.get_by_role("button", name="添加知识点要求").click()
    kp = page.locator("#kp-rows fieldset").first
    with client(base, TEACHER, TEACHER_PASSWORD) as api:
        node = next(p["id"] for p in api.get("/api/knowledge-points").json() if p["path"] == ["数学", "函数"])
    kp.get_by_label("知识点", exact=True).select_option(str(node))
    kp.get_by_label("最少题数").fill("2")
    expect(page.get_by_label("班级编号")).to_have_value("1")
    page.get_by_role("button", name="预览组卷").click()
    form = page.locator("#form-0")
    expect(form.locator("[data-verdict]")).to_have_text("满足全部要求")
    expect(form.locator("tr[data-item-id]")).to_have_count(2)
    shown = sorted(int(str(form.locator("tr[data-item-id]").nth(i).get_attribute("data-item-id"))) for i in range(2))
    assert shown == imported
    expect(form.locator('[data-stat="n_items"]')).to_have_text("2")
    expect(form.locator('[data-stat="total_score"]')).to_have_text("10")
    expect(form.locator('[data-stat="knowledge"]')).to_contain_text("数学 / 函数: 2")
    shot(page, "teacher-assemble.png")

    section.get_by_label("题数").fill("500")
    page.get_by_role("button", name="预览组卷").click()
    infeasible = page.locator("#infeasible")
    expect(infeasible).to_be_visible()
    expect(infeasible.get_by_role("heading")).to_have_text("无法按要求组卷")
    expect(infeasible.locator('li[data-constraint="sections[0].count"]')).to_contain_text("而要求 500 道")
    expect(page.locator("#form-0")).to_have_count(0)
    shot(page, "teacher-infeasible.png")

    # ---- save the feasible form as a paper and schedule an exam ----
    section.get_by_label("题数").fill("2")
    page.get_by_role("button", name="预览组卷").click()
    expect(infeasible).to_be_hidden()
    form = page.locator("#form-0")
    expect(form.locator("[data-verdict]")).to_have_text("满足全部要求")
    form.get_by_label("试卷名称").fill("E2E 函数小测")
    form.get_by_role("button", name="保存为试卷").click()
    schedule = form.locator("form.schedule-exam")
    expect(schedule).to_be_visible()
    expect(form.locator(".form-ok")).to_contain_text("E2E 函数小测")
    expect(schedule.get_by_label("班级编号")).to_have_value("1")
    schedule.get_by_label("考试时长（分钟）").fill("20")
    schedule.get_by_label("打乱选项顺序").check()
    schedule.get_by_role("button", name="安排考试").click()
    expect(form.locator(".scheduled")).to_contain_text("已安排考试「E2E 函数小测」")
    exam_id = int(str(form.locator(".scheduled").get_attribute("data-exam-id")))

    # ---- the exams page lists it, with results and release ----
    form.get_by_role("link", name="查看考试").click()
    page.wait_for_url(f"{base}/teacher/exams")
    card = page.locator(f'li[data-exam-id="{exam_id}"]')
    expect(card.get_by_role("heading")).to_have_text("E2E 函数小测")
    expect(card.locator("[data-exam-state]")).to_have_text("进行中")
    card.get_by_role("button", name="查看成绩").click()
    expect(card.locator("tbody tr")).to_have_count(5)
    expect(card.locator('tr[data-user="student1"]')).to_contain_text("未作答")
    card.get_by_role("button", name="发布成绩").click()
    expect(card.get_by_role("button", name="成绩已发布")).to_be_disabled()
    shot(page, "teacher-exams.png")

    with client(base, TEACHER, TEACHER_PASSWORD) as api:
        exam = api.get(f"/api/exams/{exam_id}").json()
        assert exam["results_released"] is True and exam["shuffle_options"] is True
        assert exam["duration_minutes"] == 20 and exam["class_id"] == 1
        opens = datetime.fromisoformat(exam["opens_at"])
        assert abs((opens - datetime.now(UTC)).total_seconds()) < 600  # the local time went out with its offset
        paper = api.get(f"/api/papers/{exam['paper_id']}").json()
        assert sorted(s["item_id"] for sec in paper["sections"] for s in sec["slots"]) == imported


def test_teacher_pages_in_english(server: Server, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB", is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        pg = context.new_page()
        pg.goto(f"{server.base_url}/login?lang=en")
        pg.get_by_label("Username").fill(TEACHER)
        pg.get_by_label("Password").fill(TEACHER_PASSWORD)
        pg.get_by_role("button", name="Sign in").click()
        pg.wait_for_url(f"{server.base_url}/teacher")
        pg.goto(f"{server.base_url}/teacher/assemble")
        pg.locator("#section-rows fieldset").first.get_by_label("Items", exact=True).fill("400")
        pg.get_by_role("button", name="Preview").click()
        expect(pg.locator("#infeasible h2")).to_have_text("The bank cannot meet this blueprint")
        expect(pg.locator('#infeasible li[data-constraint="sections[0].count"]')).to_contain_text("you asked for 400")
        shot(pg, "teacher-infeasible-en-mobile.png")
        # Two parallel forms (A/B) from the whole bank, drafts included.
        pg.locator("#section-rows fieldset").first.get_by_label("Items", exact=True).fill("2")
        pg.get_by_label("Number of forms").fill("2")
        pg.get_by_label("Draft").check()
        pg.get_by_role("button", name="Preview").click()
        for index, name in enumerate(("Form A", "Form B")):
            form = pg.locator(f"#form-{index}")
            expect(form.get_by_role("heading", level=2)).to_have_text(name)
            expect(form.locator("[data-verdict]")).to_have_text("All requirements met")
            expect(form.locator("tr[data-item-id]")).to_have_count(2)
        expect(pg.locator("#infeasible")).to_be_hidden()
        shot(pg, "teacher-forms-en-mobile.png")
    finally:
        context.close()


def test_student_is_not_sent_to_teacher_pages(server: Server, page: Any) -> None:
    log_in(page, server.base_url, STUDENT, STUDENT_PASSWORD)
    page.wait_for_url(f"{server.base_url}/student")
    page.goto(f"{server.base_url}/teacher/bank")
    page.wait_for_url(f"{server.base_url}/student")


# ---------- the structured item types on the student's exam page ----------

MATCHING = {"prompts": [{"id": "p1", "text": "中国 China"}, {"id": "p2", "text": "日本 Japan"}],
            "choices": [{"id": "c1", "text": "北京 Beijing"}, {"id": "c2", "text": "东京 Tokyo"},
                        {"id": "c3", "text": "首尔 Seoul"}],
            "correct": {"p1": "c1", "p2": "c2"}}
ORDERING = {"items": [{"id": "a", "text": "播种 Sow"}, {"id": "b", "text": "浇水 Water"},
                      {"id": "c", "text": "收获 Harvest"}], "correct_order": ["a", "b", "c"]}
INLINE = {"gaps": [{"options": [{"id": "h2o", "text": "H₂O"}, {"id": "co2", "text": "CO₂"}], "correct": "h2o"},
                   {"options": [{"id": "o2", "text": "O₂"}, {"id": "n2", "text": "N₂"}], "correct": "o2"}]}


# A 1x1 PNG: enough to prove the picture travels from upload to the candidate's page.
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _structured_exam(base_url: str) -> int:
    with client(base_url, TEACHER, TEACHER_PASSWORD) as api:
        ids = []
        for item_type, stem, definition in (
            ("matching", "把国家和首都配对。 Match each country with its capital.", MATCHING),
            ("ordering", "把农事按先后排序。 Put the farm work in order.", ORDERING),
            ("inline_choice", "水的化学式是 [[1]]，植物释放的气体是 [[2]]。", INLINE),
        ):
            resp = api.post("/api/items", json={"type": item_type, "stem": stem, "definition": definition})
            assert resp.status_code == 201, resp.text
            ids.append(resp.json()["id"])
        picture = api.post("/api/media", files={"file": ("chart.png", PNG)})
        assert picture.status_code == 201, picture.text
        stem = "看图判断：![流程图 chart](media:chart.png) 正确吗？"
        resp = api.post("/api/items", json={"type": "true_false", "stem": stem, "definition": {"correct": True},
                                            "media": [picture.json()]})
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
        paper = api.post("/api/papers", json={"title": "结构化题型 Structured", "sections": [
            {"title": "结构化题 Structured", "slots": [{"item_id": i, "points": 3} for i in ids]}]})
        assert paper.status_code == 201, paper.text
        now = datetime.now(UTC)
        exam = api.post("/api/exams", json={
            "title": "结构化题型 Structured", "paper_id": paper.json()["id"], "class_id": 1,
            "opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat(),
            "duration_minutes": 30})
        assert exam.status_code == 201, exam.text
        return int(exam.json()["id"])


def _slot(pg: Any, item_type: str) -> tuple[Any, int]:
    node = pg.locator(f"fieldset.item-{item_type}").first
    return node, int(node.get_attribute("data-slot-id"))


def _wait_saved(pg: Any, slot: int) -> None:
    expect(pg.locator(f'.save-state[data-slot-id="{slot}"]')).to_have_attribute("data-state", "saved")


def _order(node: Any) -> list[str]:
    return [str(x) for x in node.locator("li[data-order-id]").evaluate_all("els => els.map(e => e.dataset.orderId)")]


def _attempt_order(base: str, pg: Any, slot_id: int) -> list[str]:
    attempt_id = int(str(pg.locator("#exam-root").get_attribute("data-attempt-id")))
    with client(base, STUDENT, STUDENT_PASSWORD) as api:
        paper = api.get(f"/api/attempts/{attempt_id}").json()["paper"]
    slot = next(s for section in paper["sections"] for s in section["slots"] if s["slot_id"] == slot_id)
    return [str(item["id"]) for item in slot["content"]["items"]]


def test_student_answers_structured_items(server: Server, page: Any) -> None:
    base = server.base_url
    exam_id = _structured_exam(base)
    log_in(page, base, STUDENT, STUDENT_PASSWORD)
    page.wait_for_url(f"{base}/student")
    page.goto(f"{base}/exam/{exam_id}")
    expect(page.locator("#exam-root")).to_have_attribute("data-ready", "true")

    matching, matching_slot = _slot(page, "matching")
    # choice ids are issued by the server (authored ones spelt the key): pick by text
    china, japan = matching.get_by_label("中国 China"), matching.get_by_label("日本 Japan")
    beijing = str(china.locator("option", has_text="北京 Beijing").get_attribute("value"))
    tokyo = str(japan.locator("option", has_text="东京 Tokyo").get_attribute("value"))
    china.select_option(beijing)
    japan.select_option(tokyo)
    assert beijing not in ("c1", "c2", "c3") and tokyo != beijing

    ordering, ordering_slot = _slot(page, "ordering")
    initial = _order(ordering)
    # the page starts from the order drawn for this attempt (independent of the key; it may even equal it)
    assert len(set(initial)) == 3 and not {"a", "b", "c"} & set(initial)
    assert initial == _attempt_order(base, page, ordering_slot)
    first_text = ordering.locator("li .order-text").first.inner_text()
    ordering.get_by_role("button", name=f"下移：{first_text}").click()
    # Keyboard: focus stays on the moved item's button, so Enter moves it again (to the end).
    page.keyboard.press("Enter")
    expected_order = [initial[1], initial[2], initial[0]]
    expect(ordering.locator("li[data-order-id]").last).to_have_attribute("data-order-id", initial[0])
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == f"上移：{first_text}"

    picture = page.locator("img.stem-img")
    expect(picture).to_have_attribute("alt", "流程图 chart")
    page.wait_for_function("() => { const i = document.querySelector('img.stem-img'); return i && i.complete; }")
    assert picture.evaluate("img => img.naturalWidth") == 1  # the 1x1 PNG came through the signed link

    inline, inline_slot = _slot(page, "inline_choice")
    stem = inline.locator(".stem")
    expect(stem.locator("select")).to_have_count(2)  # placed inside the sentence at [[1]] and [[2]]
    expect(stem).not_to_contain_text("[[1]]")
    inline.get_by_label("第 1 空").select_option("h2o")
    inline.get_by_label("第 2 空").select_option("o2")

    for slot in (matching_slot, ordering_slot, inline_slot):
        _wait_saved(page, slot)
    shot(page, "exam-structured.png")

    page.reload()
    expect(page.locator("#exam-root")).to_have_attribute("data-ready", "true")
    matching, _ = _slot(page, "matching")
    expect(matching.get_by_label("中国 China")).to_have_value(beijing)
    expect(matching.get_by_label("日本 Japan")).to_have_value(tokyo)
    ordering, _ = _slot(page, "ordering")
    assert _order(ordering) == expected_order
    inline, _ = _slot(page, "inline_choice")
    expect(inline.get_by_label("第 1 空")).to_have_value("h2o")
    expect(inline.get_by_label("第 2 空")).to_have_value("o2")
    for slot in (matching_slot, ordering_slot, inline_slot):
        _wait_saved(page, slot)

    attempt_id = int(str(page.locator("#exam-root").get_attribute("data-attempt-id")))
    with client(base, STUDENT, STUDENT_PASSWORD) as api:
        saved = {a["slot_id"]: a["response"] for a in api.get(f"/api/attempts/{attempt_id}").json()["answers"]}
    assert saved[matching_slot] == {"p1": beijing, "p2": tokyo}
    assert saved[ordering_slot] == expected_order
    assert saved[inline_slot] == ["h2o", "o2"]
