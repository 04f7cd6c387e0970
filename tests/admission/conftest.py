"""Service-level fixtures: a session on the emptied test database, and a clock set to Monday."""

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from app.context import AppContext
from app.core.db import open_session
from tests.admission.factories import MONDAY
from tests.factories import Clock


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ticking = Clock(MONDAY)
    ctx.clock = ticking
    return ticking


@pytest.fixture
def session(ctx: AppContext, clock: Clock) -> Iterator[Session]:
    """One write transaction, rolled back after the test: nothing it adds is kept."""
    opened = open_session(ctx.engine, write=True)
    try:
        yield opened
    finally:
        opened.rollback()
        opened.close()
