"""Fixtures of the security tests: the small Chain of `tests.security.world`, served by an app
whose failed-authentication limit is out of the way."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.context import AppContext
from app.main import create_app
from tests.factories import Api, make_tokens
from tests.security.world import World, build_world


@pytest.fixture
def lenient_ctx(ctx: AppContext) -> AppContext:
    """The context with the failed-authentication limit out of the way."""
    ctx.settings = ctx.settings.model_copy(
        update={"auth_failure_limit": 1_000_000, "signin_address_limit": 1_000_000}
    )
    return ctx


@pytest.fixture
def lenient_client(lenient_ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(context=lenient_ctx), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def world(lenient_client: TestClient, lenient_ctx: AppContext) -> World:
    return build_world(Api(lenient_client, make_tokens(lenient_ctx)), lenient_ctx)
