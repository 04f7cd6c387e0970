"""Helpers for tests of people: accounts made through the service, signed in over HTTP."""

from fastapi.testclient import TestClient

from app.auth.repository import UserRepository
from app.auth.users import create_user
from app.context import AppContext
from app.core.db import unit_of_work
from tests.factories import CHAIN, Api

PASSWORD = "mật khẩu thật dài 2026"


def make_user(
    ctx: AppContext,
    *,
    org: str = "hdqlc",
    role: str = "council",
    email: str = "lan.nt@hdqlc.example",
    name: str = "Nguyễn Thị Lan",
    password: str | None = PASSWORD,
) -> str:
    """Create a person; their one-time password when `password` is None, else `password`."""
    with unit_of_work(ctx.engine) as session:
        made = create_user(
            session, org_slug=org, role=role, email=email, name=name, password=password
        )
        return made.one_time_password or password or ""


def sign_in(
    client: TestClient, email: str, password: str = PASSWORD, code: str | None = None
) -> str:
    """Sign in through the form; the page's CSRF token (read from the work page)."""
    data = {"email": email, "password": password}
    if code is not None:
        data["code"] = code
    response = client.post("/signin", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    page = client.get("/")
    assert page.status_code == 200, page.text
    marker = 'name="csrf-token" content="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def sign_in_as(api: Api, who: str = "council") -> str:
    """Sign the test client in as a person of `who`'s organisation and role (made on first
    use); the page's CSRF token."""
    ctx: AppContext = api.client.app.state.context  # type: ignore[attr-defined]
    slug, _, role = CHAIN[who]
    email = f"{who}@{slug}.example"
    with unit_of_work(ctx.engine, write=False) as session:
        exists = UserRepository(session).by_email(email) is not None
    if not exists:
        make_user(ctx, org=slug, role=role, email=email, name=f"{who.title()} Official")
    return sign_in(api.client, email)
