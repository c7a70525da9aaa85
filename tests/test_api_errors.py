"""Bad input gets a 4xx with {"error", "detail"} naming the problem; auth and roles hold."""

from datetime import timedelta

from support import World


def _exam_body(world: World, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "title": "t", "paper_id": world.ids["paper"], "class_id": world.ids["klass"],
        "opens_at": world.clock().isoformat(), "closes_at": (world.clock() + timedelta(hours=1)).isoformat(),
        "duration_minutes": 30,
    }
    body.update(changes)
    return body


def test_malformed_json_is_a_400_naming_the_position(world: World) -> None:
    r = world.client.post("/api/items", content=b'{"type": "single_choice", "stem": ',
                          headers={**world.headers("teacher"), "content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"] == "MalformedJSON" and "position" in r.json()["detail"]


def test_unknown_item_type_lists_the_known_ones(world: World) -> None:
    r = world.call("POST", "/api/items", "teacher", json={"type": "crossword", "stem": "x", "definition": {}})
    assert r.status_code == 422
    assert r.json()["error"] == "UnknownItemType"
    assert "crossword" in r.json()["detail"] and "single_choice" in r.json()["detail"]


def test_invalid_definition_names_the_field(world: World) -> None:
    r = world.call("POST", "/api/items", "teacher", json={
        "type": "single_choice", "stem": "x",
        "definition": {"options": [{"id": "A", "text": "a"}, {"id": "B", "text": "b"}], "correct": "Z"}})
    assert r.status_code == 422 and r.json()["error"] == "InvalidDefinition"
    assert "correct" in r.json()["detail"]


def test_negative_duration_is_refused(world: World) -> None:
    r = world.call("POST", "/api/exams", "teacher", json=_exam_body(world, duration_minutes=-5))
    assert r.status_code == 422 and r.json()["error"] == "ValidationError"
    assert "duration_minutes" in r.json()["detail"]


def test_exam_window_in_the_past_is_refused(world: World) -> None:
    past = _exam_body(world, opens_at=(world.clock() - timedelta(days=2)).isoformat(),
                      closes_at=(world.clock() - timedelta(days=1)).isoformat())
    r = world.call("POST", "/api/exams", "teacher", json=past)
    assert r.status_code == 422 and "closes_at" in r.json()["detail"] and "past" in r.json()["detail"]


def test_window_without_timezone_is_refused(world: World) -> None:
    r = world.call("POST", "/api/exams", "teacher", json=_exam_body(world, opens_at="2026-11-24T09:00:00"))
    assert r.status_code == 422 and "timezone" in r.json()["detail"]


def test_unknown_paper_is_a_404(world: World) -> None:
    r = world.call("POST", "/api/exams", "teacher", json=_exam_body(world, paper_id=9999))
    assert r.status_code == 404 and "paper_id" in r.json()["detail"]


def test_paper_with_unknown_item_is_refused(world: World) -> None:
    r = world.call("POST", "/api/papers", "teacher", json={
        "title": "p", "sections": [{"title": "s", "slots": [{"item_id": 424242, "points": 1}]}]})
    assert r.status_code == 404 and "424242" in r.json()["detail"]


def test_expired_token_says_so_and_refresh_works_once(world: World) -> None:
    world.clock.advance(minutes=16)
    r = world.call("GET", "/api/auth/me", "s1")
    assert r.status_code == 401 and r.json()["error"] == "TokenExpired"
    assert "refresh" in r.json()["detail"]
    old_refresh = world.tokens["s1:refresh"]
    world.refresh("s1")
    assert world.ok("GET", "/api/auth/me", "s1")["username"] == "s1"
    # two tabs refreshing at once: a second use within the grace period still works...
    assert world.client.post("/api/auth/refresh", json={"refresh_token": old_refresh}).status_code == 200
    world.clock.advance(seconds=31)
    # ...a later reuse (a stolen, replayed token) does not
    reused = world.client.post("/api/auth/refresh", json={"refresh_token": old_refresh})
    assert reused.status_code == 401 and reused.json()["error"] == "InvalidToken"


def test_logout_revokes_the_refresh_token_at_once(world: World) -> None:
    token = world.tokens["s1:refresh"]
    assert world.client.post("/api/auth/logout", json={"refresh_token": token}).status_code == 204
    r = world.client.post("/api/auth/refresh", json={"refresh_token": token})
    assert r.status_code == 401 and "logged out" in r.json()["detail"]
    assert world.client.post("/api/auth/logout", json={"refresh_token": "garbage"}).status_code == 204


def test_missing_and_forged_tokens(world: World) -> None:
    assert world.client.get("/api/auth/me").json()["error"] == "Unauthenticated"
    forged = world.tokens["s1"][:-4] + "AAAA"
    r = world.client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["error"] == "InvalidToken"
    refresh_header = {"Authorization": f"Bearer {world.tokens['s1:refresh']}"}
    refresh_as_access = world.client.get("/api/auth/me", headers=refresh_header)
    assert refresh_as_access.status_code == 401


def test_wrong_password_does_not_reveal_which_part_is_wrong(world: World) -> None:
    a = world.client.post("/api/auth/login", json={"username": "s1", "password": "nope-nope"})
    b = world.client.post("/api/auth/login", json={"username": "ghost", "password": "nope-nope"})
    assert a.status_code == b.status_code == 401 and a.json() == b.json()


def test_roles_are_checked(world: World) -> None:
    assert world.call("POST", "/api/items", "s1", json={"type": "true_false", "stem": "x",
                                                       "definition": {"correct": True}}).status_code == 403
    assert world.call("POST", "/api/schools", "teacher", json={"name": "x"}).status_code == 403
    assert world.call("POST", f"/api/exams/{world.ids['exam']}/attempt", "teacher").status_code == 403


def test_invalid_response_shape_is_refused_and_nothing_is_stored(world: World) -> None:
    attempt_id = world.start("s1")["attempt_id"]
    slot = world.ids["slots"][0]
    r = world.save("s1", attempt_id, slot, "Z", 1)
    assert r.status_code == 400 and f"slot {slot}" in r.json()["detail"]
    assert world.save("s1", attempt_id, 999999, "A", 2).status_code == 404
    assert world.ok("GET", f"/api/attempts/{attempt_id}", "s1")["answers"] == []


def test_one_bad_row_does_not_abort_an_enrolment_batch(world: World) -> None:
    r = world.ok("POST", f"/api/classes/{world.ids['klass']}/students", "admin", json=[
        {"username": "fresh1", "password": "pass-word-1", "display_name": "f"},
        {"username": "s1", "password": "pass-word-1", "display_name": "dup"},
        {"username": "fresh2", "password": "pass-word-1", "display_name": "g"}])
    assert [u["username"] for u in r["created"]] == ["fresh1", "fresh2"]
    assert [(x["index"], x["error"]) for x in r["rejected"]] == [(1, "Conflict")]
    assert "s1" in r["rejected"][0]["detail"]
    ok = world.client.post("/api/auth/login", json={"username": "fresh2", "password": "pass-word-1"})
    assert ok.status_code == 200


def test_out_of_range_numbers_are_a_422_not_a_crash(world: World) -> None:
    huge = 10**30
    r = world.call("GET", f"/api/attempts/{huge}/result", "s1")
    assert r.status_code == 422 and r.json()["error"] == "ValueOutOfRange"
    r = world.call("POST", "/api/enemy-sets", "teacher", json={"name": "x", "item_ids": [huge, 1]})
    assert r.status_code == 422 and r.json()["error"] == "ValueOutOfRange"
    r = world.call("GET", "/api/papers", "teacher", params={"offset": huge})
    assert r.status_code == 422
