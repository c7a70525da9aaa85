"""The item bank over HTTP on SQLite and PostgreSQL: knowledge points, search, versions, enemies."""

from typing import Any

from support import World


def _point(world: World, *path: str) -> int:
    return int(world.ok("POST", "/api/knowledge-points/path", "teacher", json={"path": list(path)})["id"])


def _item(world: World, stem: str, **extra: Any) -> dict[str, Any]:
    body = {"type": "single_choice", "stem": stem,
            "definition": {"options": [{"id": "A", "text": "对"}, {"id": "B", "text": "错"}], "correct": "A"}, **extra}
    return world.ok("POST", "/api/items", "teacher", json=body)  # type: ignore[no-any-return]


def _ids(world: World, **params: Any) -> list[int]:
    return [i["id"] for i in world.ok("GET", "/api/items", "teacher", params=params)["items"]]


def test_knowledge_point_paths_are_found_or_created(world: World) -> None:
    quadratic = _point(world, "数学", "函数", "二次函数")
    assert _point(world, "数学", "函数", "二次函数") == quadratic
    listed = {p["id"]: p["path"] for p in world.ok("GET", "/api/knowledge-points", "teacher")}
    assert listed[quadratic] == ["数学", "函数", "二次函数"]
    assert sorted(listed.values()) == [["数学"], ["数学", "函数"], ["数学", "函数", "二次函数"]]


def test_search_by_text_point_type_difficulty_tag_and_usage(world: World) -> None:
    quadratic, linear = _point(world, "数学", "函数", "二次函数"), _point(world, "数学", "函数", "一次函数")
    geometry = _point(world, "数学", "几何")
    a = _item(world, "抛物线 y=x² 的顶点", knowledge_point_ids=[quadratic], difficulty_estimate=0.8,
              tags=["期中", "基础"])
    b = _item(world, "直线 y=2x+1 的斜率", knowledge_point_ids=[linear], difficulty_estimate=0.4, tags=["期末"])
    c = _item(world, "三角形内角和 TRIANGLE", knowledge_point_ids=[geometry], difficulty_estimate=0.6)
    functions = world.ok("GET", "/api/knowledge-points", "teacher")
    function_id = next(p["id"] for p in functions if p["path"] == ["数学", "函数"])

    assert _ids(world, q="抛物线") == [a["id"]]
    assert _ids(world, q="triangle") == [c["id"]]  # case-folded
    assert _ids(world, q="ｙ＝２ｘ") == [b["id"]]  # full-width input folds to half-width
    assert sorted(_ids(world, knowledge_point_id=function_id)) == sorted([a["id"], b["id"]])  # parent counts children
    assert _ids(world, knowledge_point_id=quadratic) == [a["id"]]
    assert sorted(_ids(world, difficulty_min=0.5, type="single_choice", q="数")) == []
    assert sorted(_ids(world, difficulty_min=0.5, difficulty_max=0.9, knowledge_point_id=function_id)) == [a["id"]]
    assert _ids(world, tag="期中") == [a["id"]]
    assert world.ok("GET", "/api/items", "teacher", params={"q": "100%_"})["total"] == 0  # wildcards are literal
    # The world's six items were used by its exam; the new ones never were.
    assert sorted(_ids(world, max_exposure=0)) == sorted([a["id"], b["id"], c["id"]])
    assert len(_ids(world, min_exposure=1)) == 6


def test_editing_a_used_item_creates_a_new_version(world: World) -> None:
    used = world.ids["items"][0]
    before = world.ok("GET", f"/api/items/{used}", "teacher")
    assert before["frozen"] is True and before["exposure_count"] == 1
    edit = {**{k: before[k] for k in ("type", "definition", "status")}, "stem": "1+1 等于几？(edited)"}
    after = world.ok("PUT", f"/api/items/{used}", "teacher", json=edit)
    assert after["id"] != used and after["version"] == 2 and after["family_id"] == before["family_id"]
    assert after["exposure_count"] == 1 and after["frozen"] is False
    old = world.ok("GET", f"/api/items/{used}", "teacher")
    assert old["stem"] == before["stem"] and old["is_latest"] is False
    assert [v["version"] for v in world.ok("GET", f"/api/items/{used}/versions", "teacher")] == [1, 2]
    assert used not in _ids(world, limit=500) and after["id"] in _ids(world, limit=500)
    stale = world.call("PUT", f"/api/items/{used}", "teacher", json=edit)
    assert stale.status_code == 422 and stale.json()["error"] == "ItemFrozen"
    # the exam still shows the version it froze
    paper = world.start("s1")["paper"]
    assert paper["sections"][0]["slots"][0]["stem"] == before["stem"]


def test_editing_an_unused_item_changes_it_in_place(world: World) -> None:
    item = _item(world, "原题")
    edited = world.ok("PUT", f"/api/items/{item['id']}", "teacher",
                      json={"type": item["type"], "definition": item["definition"], "stem": "改过的题"})
    assert edited["id"] == item["id"] and edited["version"] == 1 and edited["stem"] == "改过的题"


def test_status_and_unknown_points(world: World) -> None:
    item = _item(world, "状态")
    reviewed = world.ok("POST", f"/api/items/{item['id']}/status", "teacher", json={"status": "reviewed"})
    assert reviewed["status"] == "reviewed"
    assert _ids(world, status="reviewed") == [item["id"]]
    bad = world.call("POST", "/api/items", "teacher", json={
        "type": "true_false", "stem": "x", "definition": {"correct": True}, "knowledge_point_ids": [98765]})
    assert bad.status_code == 404 and "98765" in bad.json()["detail"]
    orphan = world.call("POST", "/api/knowledge-points", "teacher", json={"name": "x", "parent_id": 4242})
    assert orphan.status_code == 404


def test_enemy_sets_follow_families(world: World) -> None:
    a, b = _item(world, "甲"), _item(world, "乙")
    made = world.ok("POST", "/api/enemy-sets", "teacher", json={"name": "互相提示", "item_ids": [a["id"], b["id"]]})
    assert sorted(made["family_ids"]) == sorted([a["family_id"], b["family_id"]])
    assert world.ok("GET", "/api/enemy-sets", "teacher")[0]["name"] == "互相提示"
    lonely = world.call("POST", "/api/enemy-sets", "teacher", json={"name": "x", "item_ids": [a["id"], a["id"]]})
    assert lonely.status_code == 422 and "two different items" in lonely.json()["detail"]
    unknown = world.call("POST", "/api/enemy-sets", "teacher", json={"name": "x", "item_ids": [a["id"], 777777]})
    assert unknown.status_code == 404


def test_students_cannot_touch_the_bank(world: World) -> None:
    for method, url in [("GET", "/api/items"), ("GET", "/api/knowledge-points"), ("GET", "/api/enemy-sets"),
                        ("POST", "/api/knowledge-points/path")]:
        assert world.call(method, url, "s1", json={"path": ["x"]}).status_code == 403, url


def test_classes_and_papers_are_listed_for_staff(world: World) -> None:
    classes = world.ok("GET", "/api/classes", "teacher")
    assert [(c["id"], c["students"]) for c in classes] == [(world.ids["klass"], 2)]
    papers = world.ok("GET", "/api/papers", "teacher")
    assert [(p["id"], p["items"], p["max_score"], p["frozen"]) for p in papers] == [(world.ids["paper"], 6, 25.0, True)]
    assert world.call("GET", "/api/classes", "s1").status_code == 403
    assert world.call("GET", "/api/papers", "s1").status_code == 403
