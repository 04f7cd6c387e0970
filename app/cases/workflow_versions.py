"""The start-up and readiness check that every case's workflow version is loaded."""

import logging

from sqlalchemy.exc import SQLAlchemyError

from app.cases.repository import CaseRepository
from app.context import AppContext
from app.core.db import unit_of_work
from app.engine.pinned import UnloadedVersion, UnloadedWorkflows, unloaded_versions

log = logging.getLogger("admission")


def unloaded_workflows(ctx: AppContext) -> list[UnloadedVersion]:
    """The workflow versions cases use that this process has not loaded, with how many cases
    use each (SQLAlchemyError when the database does not answer)."""
    with unit_of_work(ctx.engine, write=False) as session:
        repo = CaseRepository(session)
        return unloaded_versions(
            repo.workflow_versions_in_use(), ctx.workflows, repo.count_pinned_to
        )


def check_at_startup(ctx: AppContext) -> None:
    """Raise UnloadedWorkflows when cases use versions that are not loaded. A database that
    does not answer yet is no reason to refuse: that is logged, and `/readyz` checks again."""
    try:
        problems = unloaded_workflows(ctx)
    except SQLAlchemyError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.warning("start-up: the cases' workflow versions cannot be checked yet: %s", first_line)
        return
    if problems:
        raise UnloadedWorkflows(problems, str(ctx.settings.workflows_dir))
