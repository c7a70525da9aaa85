"""The FastAPI app factory: wires the runtime, routers, pages and error mapping."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

import grading
import item_bank
from exam_server import body_limit, migrate
from exam_server.api import (
    accounts,
    assembly,
    attempts,
    auth,
    bank,
    centre,
    enrolled_photos,
    exams,
    interchange,
    items,
    marking,
    marking_lead,
    org,
    paper_print,
    papers,
    printing,
    proctor_review,
    proctoring,
    roster,
    scans,
    sites,
)
from exam_server.clock import Clock, system_clock
from exam_server.error_messages import LocalisedErrorsMiddleware
from exam_server.errors import ServiceError
from exam_server.http_headers import CONTENT_SECURITY_POLICY, SecurityHeadersMiddleware
from exam_server.jobs.queue import Periodic
from exam_server.proctoring import candidate_ws, wall_ws, worker_wall
from exam_server.proctoring.bus import build_bus
from exam_server.runtime import Runtime, build_runtime
from exam_server.settings import Settings
from exam_server.strict_json import StrictJSONMiddleware
from exam_server.web import pages
from item_bank.assembly import Infeasible

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, clock: Clock = system_clock,
               runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or build_runtime(settings or Settings(), clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Jobs running in this process (the embedded default) publish worker-found flags on this bus.
        worker_wall.attach_local(asyncio.get_running_loop(), app.state.proctor_bus)
        if runtime.settings.embedded_queue and runtime.settings.run_embedded_worker:
            runtime.queue.start_worker(runtime.settings.worker_threads, Periodic.from_settings(runtime.settings))
        yield
        worker_wall.detach_local()
        await candidate_ws.close_writer(app)
        await app.state.proctor_bus.close()
        runtime.close()

    app = FastAPI(title="Exam service", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Item bank, computer-based exams and automatic grading.")
    app.state.runtime = runtime
    app.state.proctor_bus = build_bus(runtime.settings.redis_url)
    for router in (auth.router, org.router, accounts.router, roster.router, items.router, bank.router,
                   interchange.router, assembly.router, papers.router, exams.router, attempts.router, printing.router,
                   paper_print.router, sites.router, scans.router, marking.router, marking_lead.router,
                   centre.router, centre.teacher_router, candidate_ws.router, proctor_review.router,
                   proctoring.router, wall_ws.router, enrolled_photos.router, pages.router):
        app.include_router(router)
    _install_offline_docs(app)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    _install_error_handlers(app)
    app.add_middleware(StrictJSONMiddleware)  # buffers JSON bodies: keep inside any body-size limit
    body_limit.install(app, runtime.settings)  # 413 before a body is read (upload routes: larger limits)
    # Added last, so outermost of ours: refusals from the middlewares above carry the headers too.
    app.add_middleware(SecurityHeadersMiddleware, trust_forwarded_proto=runtime.settings.trust_forwarded_proto,
                       hsts_seconds=runtime.settings.hsts_seconds)
    # Outermost: every JSON error, whoever made it (a crash answered above included), gains `message`
    # in the reader's language beside its stable code and English detail.
    app.add_middleware(LocalisedErrorsMiddleware)

    head = migrate.head_revision()

    @app.get("/health", tags=["ops"])
    def health() -> JSONResponse:
        """Ready when the database answers and its schema is at this code's migration head."""
        with runtime.engine.connect() as conn:
            current = migrate.current_revision(conn)
        if current != head:
            return _error(503, "SchemaOutOfDate", f"database schema is at {current!r}, code expects {head!r}; "
                                                  "run `exam db upgrade`")
        return JSONResponse({"status": "ok", "schema": current})

    return app


_DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Exam service API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">
<link rel="icon" href="/static/vendor/swagger-ui/favicon-32x32.png">
</head>
<body>
<nav class="docs-switch"><a href="/redoc">ReDoc</a></nav>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"""

_REDOC_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Exam service API (ReDoc)</title>
<link rel="icon" href="/static/vendor/swagger-ui/favicon-32x32.png">
</head>
<body>
<div id="redoc" data-openapi-url="/openapi.json"></div>
<script src="/static/vendor/redoc/redoc.standalone.js"></script>
<script src="/static/redoc_init.js"></script>
</body>
</html>
"""

# ReDoc styles itself with generated <style> elements and searches in a blob: worker; this page alone
# allows both (scripts stay 'self' only).
_REDOC_CSP = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") + \
    "; worker-src 'self' blob:"


def _install_offline_docs(app: FastAPI) -> None:
    """Swagger UI 5 (reads OpenAPI 3.1) at /docs and ReDoc at /redoc, both vendored under
    static/vendor: no CDN (exam rooms are often offline), and started by static scripts instead of
    FastAPI's inline ones, so they run under the same Content-Security-Policy as every page."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_HTML)

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(_REDOC_HTML, headers={"Content-Security-Policy": _REDOC_CSP})


def _error(status: int, name: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": name, "detail": detail})


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        if pages.wants_html(request):
            return pages.error_page(request, exc.status_code)
        return JSONResponse(status_code=exc.status_code, content=exc.body(), headers=exc.headers())

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        # Starlette logs and re-raises after this answer; pages get a page, the API its JSON code.
        if pages.wants_html(request):
            return pages.error_page(request, 500)
        return _error(500, "InternalError", "the server failed to answer this request; it has been logged")

    @app.exception_handler(grading.GradingError)
    async def grading_error(_: Request, exc: grading.GradingError) -> JSONResponse:
        return _error(422, type(exc).__name__, str(exc))

    @app.exception_handler(Infeasible)
    async def infeasible(_: Request, exc: Infeasible) -> JSONResponse:
        explanations = [{"constraint": e.constraint, "en": e.en, "zh": e.zh, "needed": e.needed,
                         "available": e.available} for e in exc.explanations]
        return JSONResponse(status_code=422, content={"error": "Infeasible", "detail": exc.detail,
                                                      "explanations": explanations})

    @app.exception_handler(item_bank.ItemBankError)
    async def item_bank_error(_: Request, exc: item_bank.ItemBankError) -> JSONResponse:
        status = 404 if isinstance(exc, item_bank.ItemNotFound | item_bank.KnowledgePointNotFound) else 422
        return _error(status, type(exc).__name__, exc.detail)

    @app.exception_handler(OverflowError)
    async def overflow(_: Request, exc: OverflowError) -> JSONResponse:
        # e.g. an id of 10**30 in a path: SQLite refuses it before any query runs.
        return _error(422, "ValueOutOfRange", f"a number in the request is too large to store: {exc}")

    @app.exception_handler(DataError)
    async def data_error(_: Request, exc: DataError) -> JSONResponse:
        return _error(422, "ValueOutOfRange", f"a value does not fit the database: {exc.orig}")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if pages.wants_html(request):
            return pages.error_page(request, exc.status_code)
        names = {404: "NotFound", 405: "MethodNotAllowed", 401: "Unauthenticated", 403: "Forbidden"}
        return _error(exc.status_code, names.get(exc.status_code, "HTTPError"), str(exc.detail))


def _validation_response(exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        where = next(e for e in errors if e.get("type") == "json_invalid")
        ctx = where.get("ctx") or {}
        return _error(400, "MalformedJSON", f"request body is not valid JSON: {ctx.get('error', 'parse error')} "
                                            f"at position {where.get('loc', ('body', '?'))[-1]}")
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors]
    return _error(422, "ValidationError", "; ".join(parts))
