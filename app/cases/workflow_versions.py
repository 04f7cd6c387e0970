"""The start-up and readiness checks of the workflow versions cases use: every one is loaded,
and none was edited in place since it was first loaded (its content hash is recorded)."""

import logging

from sqlalchemy.exc import SQLAlchemyError

from app.cases.repository import CaseRepository, PublishedWorkflowRepository
from app.context import AppContext
from app.core.db import unit_of_work
from app.engine.pinned import (
    EditedVersion,
    EditedWorkflows,
    UnloadedVersion,
    UnloadedWorkflows,
    edited_versions,
    unloaded_versions,
)

log = logging.getLogger("admission")


def unloaded_workflows(ctx: AppContext) -> list[UnloadedVersion]:
    """The workflow versions cases use that this process has not loaded, with how many cases
    use each (SQLAlchemyError when the database does not answer)."""
    with unit_of_work(ctx.engine, write=False) as session:
        repo = CaseRepository(session)
        return unloaded_versions(
            repo.workflow_versions_in_use(), ctx.workflows, repo.count_pinned_to
        )


def edited_workflows(ctx: AppContext) -> list[EditedVersion]:
    """The loaded versions that cases use whose content differs from what was recorded when
    each was first loaded."""
    with unit_of_work(ctx.engine, write=False) as session:
        recorded = PublishedWorkflowRepository(session).hashes()
        return edited_versions(recorded, ctx.workflows, CaseRepository(session).count_pinned_to)


def record_published(ctx: AppContext) -> list[EditedVersion]:
    """Record the content hash of every loaded version seen for the first time, and of a
    corrected version no case uses yet; answer the edited versions that cases use."""
    with unit_of_work(ctx.engine) as session:
        published = PublishedWorkflowRepository(session)
        cases = CaseRepository(session)
        recorded = published.hashes()
        problems = edited_versions(recorded, ctx.workflows, cases.count_pinned_to)
        refused = {(p.key, p.version) for p in problems}
        for workflow in ctx.workflows:
            ref = (workflow.key, workflow.version)
            before = recorded.get(ref)
            if before is None:
                published.record(*ref, workflow.content_hash, workflow.source)
            elif before != workflow.content_hash and ref not in refused:
                log.warning(
                    "start-up: %s changed; no case uses it yet, its new content is recorded",
                    workflow.source,
                )
                published.replace(*ref, workflow.content_hash, workflow.source)
        return problems


def check_at_startup(ctx: AppContext) -> None:
    """Raise UnloadedWorkflows when cases use versions that are not loaded, EditedWorkflows
    when a version cases use was edited in place (recording the hash of each version loaded
    for the first time). A database that does not answer yet is no reason to refuse: that is
    logged, and `/readyz` checks again."""
    try:
        problems = unloaded_workflows(ctx)
        edited = [] if problems else record_published(ctx)
    except SQLAlchemyError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.warning("start-up: the cases' workflow versions cannot be checked yet: %s", first_line)
        return
    if problems:
        raise UnloadedWorkflows(problems, str(ctx.settings.workflows_dir))
    if edited:
        raise EditedWorkflows(edited, str(ctx.settings.workflows_dir))
