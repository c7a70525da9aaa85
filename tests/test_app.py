"""App-level behaviour: health, offline API docs, unknown routes."""

from pathlib import Path

from support import START, make_client, make_runtime

from exam_server.clock import ManualClock


def test_health_and_offline_docs(tmp_path: Path) -> None:
    runtime = make_runtime(f"sqlite:///{tmp_path}/x.db", tmp_path, ManualClock(START))
    client = make_client(runtime)
    unmigrated = client.get("/health")
    assert unmigrated.status_code == 503 and unmigrated.json()["error"] == "SchemaOutOfDate"
    from exam_server import migrate

    migrate.upgrade(f"sqlite:///{tmp_path}/x.db")
    assert client.get("/health").json()["status"] == "ok"
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    redoc = client.get("/redoc")
    assert redoc.status_code == 200 and "/static/vendor/redoc/redoc.standalone.js" in redoc.text
    assert "script-src 'self';" in redoc.headers["content-security-policy"]  # scripts stay same-origin only
    assert client.get("/static/vendor/redoc/redoc.standalone.js").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/attempts/{attempt_id}/answers/{slot_id}" in spec["paths"]
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    runtime.engine.dispose()
