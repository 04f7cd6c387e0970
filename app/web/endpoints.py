"""The web dashboard: server-rendered pages over the same services as the API."""

import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app.api.auth import authenticate_token, optional_actor
from app.api.deps import Context, DbSession
from app.auth.actor import Actor
from app.core.errors import Forbidden, NotFound, Unauthenticated, WorkflowUnavailable
from app.web import views
from app.web.i18n import LANGS, Lang, Words
from app.web.session import COOKIE, LANG_COOKIE, MAX_AGE_SECONDS, CookieAuth

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(local_date=views.local_date)

router = APIRouter(include_in_schema=False)

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
    """The signed-in actor, or None (no cookie, or a token no longer valid)."""
    return optional_actor(request)


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    lang = _lang(request)
    return templates.TemplateResponse(
        request,
        name,
        {"lang": lang, "t": Words(lang), "path": request.url.path, **context},
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
    actor = _actor(request)
    if actor is None:
        return _to_sign_in()
    board = views.board(session, ctx, actor, _lang(request))
    return _page(request, "board.html", {"actor": actor, "board": board})


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
    actor = _actor(request)
    if actor is None:
        return _to_sign_in()
    try:
        page = views.case_page(session, ctx, actor, case_id, _lang(request))
    except NotFound:
        return _page(request, "not_found.html", {"actor": actor}, status=404)
    except WorkflowUnavailable as exc:
        context = {"actor": actor, "workflow": exc.details["workflow"]}
        return _page(request, "workflow_unavailable.html", context, status=503)
    return _page(request, "case.html", {"actor": actor, "page": page, "fmt": _formatter(ctx)})


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
    return _page(request, "signin.html", {"actor": None, "error": False})


@router.post("/signin", response_class=HTMLResponse)
def sign_in(request: Request, token: Annotated[str, Form(max_length=200)]) -> Response:
    """Check the token, then keep it in an HttpOnly cookie (never in the URL)."""
    _same_origin(request)
    try:
        authenticate_token(request, token)
    except Unauthenticated:
        return _page(request, "signin.html", {"actor": None, "error": True}, status=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/signout")
def sign_out(request: Request) -> Response:
    _same_origin(request)
    response = _to_sign_in()
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


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
    """Mount the dashboard on `app`: pages, static files, and the cookie for its reads."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(CookieAuth)
