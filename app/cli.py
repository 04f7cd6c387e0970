"""The `admission` command: set-up and operation of the service."""

import sys

import click

from app.core.config import get_settings
from app.core.db import unit_of_work
from app.core.errors import AdmissionError, WorkflowDefinitionError


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group()
def main() -> None:
    """QTSC Chain admission engine."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database named by DATABASE_URL."""
    from app.core.migrations import upgrade_to_head

    upgrade_to_head()
    click.echo("database is at the latest schema")


@main.group()
def org() -> None:
    """Organisations."""


@org.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option(
    "--kind", required=True, help="province, council, ministry, government, observer, operator"
)
def org_create(slug: str, name: str, kind: str) -> None:
    """Register an organisation."""
    from app.auth.service import create_organisation
    from app.core.context import AppContext

    ctx = AppContext.from_settings(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            created = create_organisation(session, slug=slug, name=name, kind=kind)
            click.echo(f"organisation {created.slug} ({created.kind}) created")
    except AdmissionError as exc:
        _fail(f"{exc.message} {exc.details or ''}".strip())


@main.group()
def token() -> None:
    """Bearer tokens."""


@token.command("create")
@click.option("--org", "org_slug", required=True)
@click.option("--role", required=True)
@click.option("--label", default=None)
def token_create(org_slug: str, role: str, label: str | None) -> None:
    """Issue a token; it is printed once, as the last line, and only its hash is kept."""
    from app.auth.service import issue_token
    from app.core.context import AppContext

    ctx = AppContext.from_settings(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            issued, clear = issue_token(session, org_slug=org_slug, role=role, label=label)
            click.echo(f"token {issued.prefix}… for {org_slug} as {role}")
    except AdmissionError as exc:
        _fail(f"{exc.message} {exc.details or ''}".strip())
    click.echo(clear)


@token.command("list")
@click.option("--org", "org_slug", required=True)
def token_list(org_slug: str) -> None:
    """List an organisation's tokens (prefixes only; the tokens themselves are not kept)."""
    from app.auth.service import list_tokens
    from app.core.context import AppContext

    ctx = AppContext.from_settings(get_settings())
    try:
        with unit_of_work(ctx.engine, write=False) as session:
            for t in list_tokens(session, org_slug):
                status = "revoked" if t.revoked_at else "active"
                used = t.last_used_at.isoformat() if t.last_used_at else "never"
                created = f"{t.created_at:%Y-%m-%d}"
                click.echo(f"{t.prefix}  {t.role:<11} {status:<8} created {created}  used {used}")
    except AdmissionError as exc:
        _fail(exc.message)


@token.command("revoke")
@click.option("--prefix", required=True, help="The prefix shown by `token list`.")
def token_revoke(prefix: str) -> None:
    """Revoke a token; requests with it fail from then on."""
    from app.auth.service import revoke_token
    from app.core.context import AppContext

    ctx = AppContext.from_settings(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            revoked = revoke_token(session, prefix)
            click.echo(f"token {revoked.prefix}… revoked")
    except AdmissionError as exc:
        _fail(exc.message)


@main.command()
@click.option("--demo", is_flag=True, required=True, help="Load the demo Chain.")
def seed(demo: bool) -> None:
    """Load the demo data: the Chain's members and applicants, with one token per organisation."""
    from app.core.context import AppContext
    from app.demo.seed import seed_demo

    ctx = AppContext.from_settings(get_settings())
    try:
        tokens = seed_demo(ctx)
    except AdmissionError as exc:
        _fail(exc.message)
    click.echo("demo tokens (shown once):")
    for slug, role, clear in tokens:
        click.echo(f"  {slug:<15} {role:<11} {clear}")


@main.group()
def workflow() -> None:
    """Workflow definitions."""


@workflow.command("validate")
def workflow_validate() -> None:
    """Load and check every file in the workflows directory."""
    from app.engine.loader import WorkflowRegistry

    try:
        registry = WorkflowRegistry.from_directory(get_settings().workflows_dir)
    except WorkflowDefinitionError as exc:
        _fail(str(exc))
    for wf in registry:
        click.echo(f"{wf.source}: ok ({len(wf.definition.states)} states)")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the API and the dashboard."""
    import uvicorn

    from app.main import create_app

    uvicorn.run(create_app(get_settings()), host=host, port=port)
