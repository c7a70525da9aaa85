"""HTML pages. The pages only display; every decision (deadline, saving, scoring) is the API's.

The pages carry no data themselves: the scripts in ``static/`` call the JSON API with the
tokens kept in sessionStorage. The server side only picks the language and renders the shell.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from exam_server.http_headers import set_cookie
from exam_server.web.i18n import COOKIE, STRINGS, Lang, choose_lang

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)

_COOKIE_MAX_AGE = 365 * 24 * 3600


def _switch_url(request: Request, lang: Lang) -> str:
    """The current URL with ``?lang=`` set to the other language (other parameters kept)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", STRINGS[lang]["switch_lang"]))
    return f"{request.url.path}?{urlencode(params)}"


def _render(request: Request, template: str, page: str, extra: dict[str, Any] | None = None) -> Response:
    lang, from_query = choose_lang(request)
    strings = STRINGS[lang]
    context: dict[str, Any] = {
        "t": strings, "lang": lang, "page": page, "switch_url": _switch_url(request, lang), **(extra or {}),
    }
    response = templates.TemplateResponse(request, template, context)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = strings["html_lang"]
    if from_query:
        set_cookie(request, response, COOKIE, lang, max_age=_COOKIE_MAX_AGE)
    return response


_HTML_FREE_PREFIXES = ("/api/", "/ws/", "/static/", "/media/", "/openapi.json", "/health")


def wants_html(request: Request) -> bool:
    """A person's browser asking for a page (not the API, a script, an image or a probe)."""
    if request.method not in ("GET", "HEAD") or request.url.path.startswith(_HTML_FREE_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int) -> Response:
    """404, 403, 500 … as a page in the reader's language, never raw JSON."""
    kind = status if status in (401, 403, 404, 405) else (500 if status >= 500 else 400)
    strings = STRINGS[choose_lang(request)[0]]
    response = _render(request, "error.html", "error", {
        "status": status, "title": strings[f"error_page_{kind}_title"], "message": strings[f"error_page_{kind}_text"]})
    response.status_code = status
    return response


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return _render(request, "login.html", "login")


@router.get("/student", response_class=HTMLResponse)
def student_page(request: Request) -> Response:
    return _render(request, "student.html", "student")


@router.get("/student/result/{attempt_id}", response_class=HTMLResponse)
def student_result_page(request: Request, attempt_id: int) -> Response:
    """A candidate's released result: per question final or still being marked."""
    return _render(request, "student_result.html", "student-result", {"attempt_id": attempt_id})


@router.get("/exam/{exam_id}", response_class=HTMLResponse)
def exam_page(request: Request, exam_id: int) -> Response:
    return _render(request, "exam.html", "exam", {"exam_id": exam_id})


@router.get("/centre", response_class=HTMLResponse)
def centre_page(request: Request) -> Response:
    """The exam centre (考务): centre staff and admins (the page checks the role; the API decides)."""
    return _render(request, "centre.html", "centre")


# The teacher's pages: (path segment, template, nav label key). The first is the landing page.
TEACHER_PAGES: Final[tuple[tuple[str, str, str], ...]] = (
    ("bank", "teacher_bank.html", "nav_bank"),
    ("import", "teacher_import.html", "nav_import"),
    ("assemble", "teacher_assemble.html", "nav_assemble"),
    ("exams", "teacher_exams.html", "nav_exams"),
    # Scanned answer sheets: a page of its own (also for exam-centre staff, so not teacher.js's guard).
    ("scans", "teacher_scans.html", "nav_scans"),
    # Online marking: also the landing page of marker accounts (marking.js checks the role).
    ("marking", "teacher_marking.html", "nav_marking"),
    # The lead marker's quality table per unit, with re-send and send-back (marking_quality.js).
    ("marking-quality", "teacher_marking_quality.html", "nav_marking_quality"),
)


def _teacher(request: Request, name: str) -> Response:
    nav = [{"name": n, "href": f"/teacher/{n}", "label": label} for n, _, label in TEACHER_PAGES]
    template = next((t for n, t, _ in TEACHER_PAGES if n == name), "teacher_home.html")
    return _render(request, template, f"teacher page-teacher-{name}", {"nav": nav, "current": name})


def _teacher_page(name: str) -> Callable[[Request], Response]:
    def render(request: Request) -> Response:
        return _teacher(request, name)

    render.__name__ = f"teacher_{name}"
    return render


router.add_api_route("/teacher", _teacher_page("home"), methods=["GET"], response_class=HTMLResponse)
for _name, _, _ in TEACHER_PAGES:
    router.add_api_route(f"/teacher/{_name}", _teacher_page(_name), methods=["GET"], response_class=HTMLResponse)


@router.get("/centre/proctoring/{exam_id}/wall", response_class=HTMLResponse)
def proctor_wall_page(request: Request, exam_id: int) -> Response:
    """The live proctor wall (监考墙) of one exam: a tile per candidate of the chosen room."""
    return _render(request, "proctor_wall.html", "proctor-wall", {"exam_id": exam_id})


@router.get("/centre/proctoring/{exam_id}/review", response_class=HTMLResponse)
def proctoring_review_page(request: Request, exam_id: int) -> Response:
    """The review after a proctored exam: sessions by evidence, a timeline each, flags and decisions."""
    return _render(request, "proctor_review.html", "proctor-review", {"exam_id": exam_id})


@router.get("/centre/print", response_class=HTMLResponse)
def centre_print_page(request: Request) -> Response:
    """Exam-centre printing: tickets, door lists, sign-in sheets, seat charts (a worker job)."""
    return _render(request, "centre_print.html", "centre-print")


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request) -> Response:
    """Choose a new password (where an initial or reset password sends the user)."""
    return _render(request, "password.html", "password")


# The admin area (district and school admins): (path segment, template, nav label key).
ADMIN_PAGES: Final[tuple[tuple[str, str, str], ...]] = (
    ("org", "admin_org.html", "nav_org"),
    ("users", "admin_users.html", "nav_users"),
)


def _admin_page(name: str) -> Callable[[Request], Response]:
    def render(request: Request) -> Response:
        nav = [{"name": n, "href": f"/admin/{n}", "label": label} for n, _, label in ADMIN_PAGES]
        template = next((t for n, t, _ in ADMIN_PAGES if n == name), "admin_home.html")
        return _render(request, template, f"admin page-admin-{name}", {"nav": nav, "current": name})

    render.__name__ = f"admin_{name}"
    return render


router.add_api_route("/admin", _admin_page("home"), methods=["GET"], response_class=HTMLResponse)
for _name, _, _ in ADMIN_PAGES:
    router.add_api_route(f"/admin/{_name}", _admin_page(_name), methods=["GET"], response_class=HTMLResponse)
