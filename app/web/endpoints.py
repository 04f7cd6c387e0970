"""The web dashboard: server-rendered pages over the same services as the API."""

import logging
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app.api.auth import optional_actor, session_policy
from app.api.deps import Context, DbSession
from app.api.security import FailureLimiter, client_address
from app.auth import signin
from app.auth.actor import Actor
from app.cases.schemas import UnitKind
from app.core.errors import (
    CsrfRefused,
    Forbidden,
    InvalidInput,
    NotFound,
    PasswordChangeRequired,
    TooManyRequests,
    Unauthenticated,
    WorkflowUnavailable,
)
from app.web import forms, views
from app.web.i18n import LANGS, Lang, Words
from app.web.session import COOKIE, LANG_COOKIE

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(local_date=views.local_date)

router = APIRouter(include_in_schema=False)
log = logging.getLogger("admission.security")
# Where a person lands after signing in.
HOME = "/work"

# Only this origin's scripts, styles and connections; no framing, no plugins, no inline code.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _lang(request: Request) -> Lang:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "vi"


def _actor(request: Request) -> Actor | None:
    """The signed-in actor, or None (no session, or one no longer valid)."""
    return optional_actor(request)


def _page_actor(request: Request) -> Actor | Response:
    """The signed-in actor of a page, or where to send the browser instead."""
    try:
        actor = _actor(request)
    except PasswordChangeRequired:
        return RedirectResponse("/password", status_code=303, headers={"Cache-Control": "no-store"})
    return actor if actor is not None else _to_sign_in()


def _csrf(request: Request) -> str:
    cookie = request.cookies.get(COOKIE)
    return signin.csrf_token(cookie) if cookie else ""


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    lang = _lang(request)
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": Words(lang),
            "path": request.url.path,
            "csrf": _csrf(request),
            **context,
        },
        status_code=status,
        headers=PAGE_HEADERS,
    )


def _to_sign_in() -> Response:
    return RedirectResponse("/signin", status_code=303, headers={"Cache-Control": "no-store"})


def _same_origin(request: Request) -> None:
    """Refuse a form posted from another site (sign-in CSRF, language switch)."""
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise Forbidden("cross-site form refused")


@router.get("/", response_class=HTMLResponse)
def board_page(request: Request, session: DbSession, ctx: Context) -> Response:
    """The pipeline as a board of columns by stage."""
    actor = _page_actor(request)
    if isinstance(actor, Response):
        return actor
    board = views.board(session, ctx, actor, _lang(request))
    return _page(request, "board.html", {"actor": actor, "board": board})


@router.get("/work", response_class=HTMLResponse)
def work_page(request: Request, session: DbSession, ctx: Context) -> Response:
    """The cases waiting for the signed-in person's organisation and role."""
    actor = _page_actor(request)
    if isinstance(actor, Response):
        return actor
    rows = views.work_page(session, ctx, actor, _lang(request))
    kinds = [kind.value for kind in UnitKind]
    return _page(request, "work.html", {"actor": actor, "rows": rows, "unit_kinds": kinds})


@router.get("/fragments/board", response_class=HTMLResponse)
def board_fragment(request: Request, session: DbSession, ctx: Context) -> Response:
    actor = _actor(request)
    if actor is None:
        raise Unauthenticated("sign in again")
    board = views.board(session, ctx, actor, _lang(request))
    return _page(request, "_board.html", {"actor": actor, "board": board})


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: uuid.UUID, request: Request, session: DbSession, ctx: Context) -> Response:
    """One dossier: its timeline, documents checklist and workflow diagram."""
    actor = _page_actor(request)
    if isinstance(actor, Response):
        return actor
    try:
        page = views.case_page(session, ctx, actor, case_id, _lang(request))
    except NotFound:
        return _page(request, "not_found.html", {"actor": actor}, status=404)
    except WorkflowUnavailable as exc:
        context = {"actor": actor, "workflow": exc.details["workflow"]}
        return _page(request, "workflow_unavailable.html", context, status=503)
    words = Words(_lang(request))
    panel = forms.panel(session, ctx, actor, page.record, page.docs, words)
    context = {"actor": actor, "page": page, "panel": panel, "fmt": _formatter(ctx)}
    return _page(request, "case.html", context)


@router.get("/fragments/cases/{case_id}", response_class=HTMLResponse)
def case_fragment(
    case_id: uuid.UUID, request: Request, session: DbSession, ctx: Context
) -> Response:
    actor = _actor(request)
    if actor is None:
        raise Unauthenticated("sign in again")
    page = views.case_page(session, ctx, actor, case_id, _lang(request))
    return _page(request, "_case.html", {"actor": actor, "page": page, "fmt": _formatter(ctx)})


def _formatter(ctx: Any) -> Any:
    return lambda value: views.local_time(ctx, value)


@router.get("/signin", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    return _page(request, "signin.html", {"actor": None, "error": None, "email": ""})


@router.post("/signin", response_class=HTMLResponse)
def sign_in(
    request: Request,
    session: DbSession,
    ctx: Context,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Check e-mail and password (and code), then open a new session in an HttpOnly cookie."""
    _same_origin(request)
    limiter: FailureLimiter = request.app.state.signin_failures
    address = client_address(request)
    words = Words(_lang(request))

    def refused(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        context = {"actor": None, "error": message, "email": email}
        response = _page(request, "signin.html", context, status=status)
        response.headers.update(headers or {})
        return response

    wait = limiter.retry_after(address)
    if wait is not None:
        log.warning(
            "sign-in refused from %s: too many failures",
            address,
            extra={"event": "signin_throttled", "client": address},
        )
        return refused(429, words.get("signin_throttled"), {"Retry-After": str(wait)})
    try:
        signed = signin.sign_in(
            session,
            session_policy(ctx),
            email=email,
            password=password,
            code=code or None,
            now=ctx.now(),
            address=address,
            replacing=request.cookies.get(COOKIE),
        )
    except Unauthenticated:
        limiter.record_failure(address)
        return refused(401, words.get("bad_credentials"))
    except TooManyRequests as exc:
        limiter.record_failure(address)
        return refused(429, words.get("signin_throttled"), {"Retry-After": str(exc.retry_after)})
    target = "/password" if signed.user.must_change_password else HOME
    response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        signed.cookie,
        max_age=ctx.settings.session_absolute_hours * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/signout")
def sign_out(
    request: Request,
    session: DbSession,
    ctx: Context,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """End the session on the server, then forget the cookie."""
    _same_origin(request)
    cookie = request.cookies.get(COOKIE)
    if cookie:
        if not signin.csrf_matches(cookie, csrf_token):
            raise CsrfRefused("signing out needs the page's CSRF token; reload the page")
        signin.sign_out(session, cookie, ctx.now())
    response = _to_sign_in()
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _person(request: Request, session: Any, ctx: Any) -> Actor | None:
    """The signed-in person, also while they must still change a one-time password."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        return signin.authenticate_session(
            session, session_policy(ctx), cookie, ctx.now(), allow_stale=True
        )
    except Unauthenticated:
        return None


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request, session: DbSession, ctx: Context) -> Response:
    """Choose a new password (required after signing in with a one-time password)."""
    person = _person(request, session, ctx)
    if person is None:
        return _to_sign_in()
    return _page(request, "password.html", {"actor": person, "error": None})


@router.post("/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    session: DbSession,
    ctx: Context,
    current: Annotated[str, Form(max_length=1024)],
    new: Annotated[str, Form(max_length=1024)],
    again: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _same_origin(request)
    cookie = request.cookies.get(COOKIE) or ""
    if not signin.csrf_matches(cookie, csrf_token):
        raise CsrfRefused("changing the password needs the page's CSRF token; reload the page")
    person = _person(request, session, ctx)
    if person is None or person.user_id is None:
        return _to_sign_in()
    words = Words(_lang(request))
    try:
        signin.change_own_password(session, person.user_id, current, new, again)
    except InvalidInput as exc:
        message = words.get(str(exc.details.get("password", "invalid")).replace(" ", "_"))
        return _page(request, "password.html", {"actor": person, "error": message}, status=422)
    return RedirectResponse(HOME, status_code=303, headers={"Cache-Control": "no-store"})


@router.post("/lang")
def switch_language(
    request: Request,
    lang: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    _same_origin(request)
    # Only a path of this site: never an open redirect. Browsers read a backslash as a
    # slash, so "/\\evil.example" would leave the site just like "//evil.example".
    local = next.startswith("/") and not next.startswith("//") and "\\" not in next
    target = next if local else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        lang if lang in LANGS else "vi",
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="strict",
        path="/",
    )
    return response


def install(app: FastAPI) -> None:
    """Mount the dashboard on `app`: pages and static files (the sign-in throttle is the
    app's per-process state, `app.main.install_state`)."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
