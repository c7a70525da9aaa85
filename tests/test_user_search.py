"""GET /api/users?q= matches text, never SQL wildcards."""

from support import World


def _names(world: World, q: str) -> set[str]:
    return {u["username"] for u in world.ok("GET", f"/api/users?q={q}", "admin")}


def test_search_treats_percent_and_underscore_as_text(world: World) -> None:
    assert _names(world, "s1") == {"s1"}
    assert _names(world, "_") == set(), "an underscore must not match every username"
    assert _names(world, "%25") == set(), "a percent sign must not match every username"
    assert "teacher" in _names(world, "TEACH"), "case-insensitive"
