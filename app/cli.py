"""The `admission` command: set-up and operation of the service."""

import sys
from pathlib import Path
from typing import Any

import click

from app.admission.registry import build_context, load_workflows
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
@click.option(
    "--province",
    default=None,
    help="The province of an applicant (kind province) organisation; its dossiers take it.",
)
def org_create(slug: str, name: str, kind: str, province: str | None) -> None:
    """Register an organisation."""
    from app.auth.service import create_organisation

    ctx = build_context(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            created = create_organisation(
                session, slug=slug, name=name, kind=kind, province=province
            )
            where = f", {created.province}" if created.province else ""
            click.echo(f"organisation {created.slug} ({created.kind}{where}) created")
    except AdmissionError as exc:
        _fail(f"{exc.message} {exc.details or ''}".strip())


@org.command("set-province")
@click.option("--slug", required=True)
@click.option("--province", required=True)
def org_set_province(slug: str, province: str) -> None:
    """Record an applicant organisation's province (for organisations made before it was kept)."""
    from app.admission.registry import build_context
    from app.auth.service import set_province

    ctx = build_context(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            changed = set_province(session, slug=slug, province=province)
            click.echo(f"organisation {changed.slug} belongs to {changed.province}")
    except AdmissionError as exc:
        _fail(f"{exc.message} {exc.details or ''}".strip())


@main.group()
def token() -> None:
    """Bearer tokens."""


@token.command("create")
@click.option("--org", "org_slug", default=None, help="An organisation's token (integrations).")
@click.option("--role", default=None, help="The role of an organisation's token.")
@click.option("--user", "user_email", default=None, help="A personal token acting as this person.")
@click.option("--label", default=None)
@click.option(
    "--expires-in-days",
    type=click.IntRange(min=1),
    default=None,
    help="The token stops working after this many days (default: never).",
)
def token_create(
    org_slug: str | None,
    role: str | None,
    user_email: str | None,
    label: str | None,
    expires_in_days: int | None,
) -> None:
    """Issue a token; it is printed once, as the last line, and only its hash is kept.

    Either --org and --role (a system's token) or --user (a person's own token)."""
    from datetime import timedelta

    from app.auth.service import issue_token
    from app.auth.users import issue_personal_token
    from app.core.models import utcnow

    personal = user_email is not None and org_slug is None and role is None
    system = user_email is None and org_slug is not None and role is not None
    if not (personal or system):
        _fail("give either --user E, or both --org SLUG and --role ROLE")
    ctx = build_context(get_settings())
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        with unit_of_work(ctx.engine) as session:
            if user_email is not None:
                issued, clear = issue_personal_token(
                    session, email=user_email, label=label, expires_at=expires_at
                )
                click.echo(f"token {issued.prefix}… for {user_email} ({issued.role})")
            else:
                assert org_slug is not None
                assert role is not None
                issued, clear = issue_token(
                    session, org_slug=org_slug, role=role, label=label, expires_at=expires_at
                )
                click.echo(f"token {issued.prefix}… for {org_slug} as {role}")
    except AdmissionError as exc:
        _fail(f"{exc.message} {exc.details or ''}".strip())
    click.echo(clear)


@token.command("list")
@click.option("--org", "org_slug", required=True)
def token_list(org_slug: str) -> None:
    """List an organisation's tokens (prefixes only; the tokens themselves are not kept)."""
    from app.auth.service import list_tokens
    from app.core.models import utcnow

    ctx = build_context(get_settings())
    try:
        with unit_of_work(ctx.engine, write=False) as session:
            for t in list_tokens(session, org_slug):
                status = "revoked" if t.revoked_at else "active"
                owner = f"  user #{t.user_id}" if t.user_id is not None else ""
                if not t.revoked_at and t.expires_at and t.expires_at <= utcnow():
                    status = "expired"
                used = t.last_used_at.isoformat() if t.last_used_at else "never"
                created = f"{t.created_at:%Y-%m-%d}"
                click.echo(
                    f"{t.prefix}  {t.role:<11} {status:<8} created {created}  used {used}{owner}"
                )
    except AdmissionError as exc:
        _fail(exc.message)


@token.command("revoke")
@click.option("--prefix", required=True, help="The prefix shown by `token list`.")
def token_revoke(prefix: str) -> None:
    """Revoke a token; requests with it fail from then on."""
    from app.auth.service import revoke_token

    ctx = build_context(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            revoked = revoke_token(session, prefix)
            click.echo(f"token {revoked.prefix}… revoked")
    except AdmissionError as exc:
        _fail(exc.message)


@main.group()
def user() -> None:
    """People: accounts of one organisation in one role."""


@user.command("create")
@click.option("--org", "org_slug", required=True)
@click.option("--role", required=True)
@click.option("--email", required=True)
@click.option("--name", required=True, help="The display name the history and letters show.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input; otherwise a one-time password is printed.",
)
def user_create(org_slug: str, role: str, email: str, name: str, password_stdin: bool) -> None:
    """Create a person; without --password-stdin, prints a one-time password to change."""
    from app.auth.users import create_user

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    ctx = build_context(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            made = create_user(
                session, org_slug=org_slug, role=role, email=email, name=name, password=password
            )
            click.echo(f"user {made.user.email} ({org_slug}, {made.user.role}) created")
    except AdmissionError as exc:
        _fail(f"{exc.message} {exc.details or ''}".strip())
    if made.one_time_password is not None:
        click.echo("one-time password (to be changed at first sign-in):")
        click.echo(made.one_time_password)


@user.command("list")
@click.option("--org", "org_slug", required=True)
def user_list(org_slug: str) -> None:
    """List an organisation's people."""
    from app.auth.users import list_users

    ctx = build_context(get_settings())
    try:
        with unit_of_work(ctx.engine, write=False) as session:
            for u in list_users(session, org_slug):
                status = "disabled" if u.disabled_at else "active"
                extra = " must-change-password" if u.must_change_password else ""
                extra += " totp" if u.totp_secret else ""
                click.echo(f"{u.email:<36} {u.role:<11} {status:<8} {u.display_name}{extra}")
    except AdmissionError as exc:
        _fail(exc.message)


@user.command("disable")
@click.argument("email")
def user_disable(email: str) -> None:
    """Disable a person: their sessions and tokens stop working at their next request."""
    from app.auth.users import disable_user

    ctx = build_context(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            done = disable_user(session, email)
            click.echo(f"user {done.email} disabled")
    except AdmissionError as exc:
        _fail(exc.message)


@user.command("enable")
@click.argument("email")
def user_enable(email: str) -> None:
    """Enable a disabled person again (their ended sessions stay ended)."""
    from app.auth.users import enable_user

    ctx = build_context(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            done = enable_user(session, email)
            click.echo(f"user {done.email} enabled")
    except AdmissionError as exc:
        _fail(exc.message)


@user.command("reset-password")
@click.argument("email")
def user_reset_password(email: str) -> None:
    """Print a new one-time password (to change at the next sign-in); open sessions end."""
    from app.auth.users import reset_password

    ctx = build_context(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            done, clear = reset_password(session, email)
            click.echo(f"password of {done.email} reset; one-time password:")
    except AdmissionError as exc:
        _fail(exc.message)
    click.echo(clear)


@user.command("enable-totp")
@click.argument("email")
def user_enable_totp(email: str) -> None:
    """Give a person a TOTP second factor; prints its secret, URI and recovery codes once."""
    from app.auth.users import enable_totp

    ctx = build_context(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            factor = enable_totp(session, email)
    except AdmissionError as exc:
        _fail(exc.message)
    click.echo(f"secret: {factor.secret}")
    click.echo(f"uri: {factor.uri}")
    click.echo("recovery codes (each works once):")
    for code in factor.recovery_codes:
        click.echo(f"  {code}")


@main.command()
@click.option("--demo", is_flag=True, required=True, help="Load the demo Chain.")
def seed(demo: bool) -> None:
    """Load the demo data: the Chain's members and applicants, a few named officials per
    organisation (with one-time passwords) and one token per organisation."""
    from app.demo.seed import seed_demo

    ctx = build_context(get_settings())
    people: list[Any] = []
    try:
        tokens = seed_demo(ctx, people)
    except AdmissionError as exc:
        _fail(exc.message)
    click.echo("demo officials: sign in at /signin (one-time passwords, shown once):")
    for person, password in people:
        click.echo(
            f"  {person.org:<15} {person.role:<11} {person.email:<30} {password}  {person.name}"
        )
    click.echo("demo tokens (shown once):")
    for slug, role, clear in tokens:
        click.echo(f"  {slug:<15} {role:<11} {clear}")


@main.group()
def workflow() -> None:
    """Workflow definitions."""


@workflow.command("validate")
@click.argument(
    "files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path), metavar="[FILES]..."
)
def workflow_validate(files: tuple[Path, ...]) -> None:
    """Check workflow files (default: every file of the workflows directory), printing every
    problem of each as `file: key: reason`; exit status 1 when there is one."""
    from app.admission.registry import STEPS
    from app.engine.loader import file_problems, workflow_files

    catalog = STEPS.catalog()
    paths = list(files) or workflow_files(get_settings().workflows_dir)
    if not paths:
        _fail(f"no workflow files in {get_settings().workflows_dir}")
    failed = 0
    seen: dict[tuple[str, int], str] = {}
    for path in paths:
        definition, problems = file_problems(path, catalog)
        if definition is not None:
            ref = (definition.key, definition.version)
            if ref in seen and seen[ref] != path.name:
                problems.append(("version", f"{ref[0]} v{ref[1]} is defined in {seen[ref]} too"))
            seen.setdefault(ref, path.name)
        for key, reason in problems:
            click.echo(f"{path.name}: {key}: {reason}")
        if problems:
            failed += 1
        elif definition is not None:
            click.echo(f"{path.name}: ok ({len(definition.states)} states)")
    if failed:
        click.echo(f"{failed} of {len(paths)} file(s) have problems", err=True)
        sys.exit(1)


@workflow.command("diff")
@click.argument("key")
@click.argument("old", type=int)
@click.argument("new", type=int)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def workflow_diff(key: str, old: int, new: int, lang: str) -> None:
    """What changes from version OLD to version NEW of workflow KEY, in plain words."""
    from app.engine.diff import describe

    try:
        registry = load_workflows(get_settings().workflows_dir)
    except WorkflowDefinitionError as exc:
        _fail(str(exc))
    found = [registry.find(key, v) for v in (old, new)]
    for version, workflow in zip((old, new), found, strict=True):
        if workflow is None:
            _fail(f"no workflow {key!r} version {version}")
    before, after = (w.definition for w in found if w is not None)
    for line in describe(before, after, "en" if lang == "en" else "vi"):
        click.echo(line)


@main.group()
def audit() -> None:
    """Audit trail integrity: hash chains and signed chain heads."""


def _audit_key() -> bytes:
    key = get_settings().audit_hmac_key
    if key is None or not key.get_secret_value():
        _fail("AUDIT_HMAC_KEY is not set")
    assert key is not None
    return key.get_secret_value().encode()


@audit.command("verify")
def audit_verify() -> None:
    """Recompute every case's hash chain; exit 1 naming each case and seq that does not verify."""
    from app.history.heads import check_all

    ctx = build_context(get_settings())
    broken = cases = entries = 0
    with unit_of_work(ctx.engine, write=False) as session:
        for check in check_all(session):
            cases += 1
            entries += check.entries
            if not check.valid:
                broken += 1
                click.echo(f"BROKEN case {check.case_id} at seq {check.first_bad_seq}")
            if cases % 500 == 0:
                click.echo(f"… {cases} cases checked", err=True)
    click.echo(f"{cases} cases, {entries} entries checked, {broken} broken")
    if broken:
        sys.exit(1)


@audit.command("export-heads")
@click.option("--output", type=click.Path(dir_okay=False), default="-", show_default=True)
def audit_export_heads(output: str) -> None:
    """Write every case's chain head, signed with AUDIT_HMAC_KEY (HMAC-SHA256), as JSON."""
    import json

    from app.history.heads import export_heads

    key = _audit_key()
    ctx = build_context(get_settings())
    with unit_of_work(ctx.engine, write=False) as session:
        export = export_heads(session, key, ctx.now())
    with click.open_file(output, "w") as out:
        json.dump(export, out, indent=1)
        out.write("\n")
    click.echo(f"{len(export['heads'])} chain heads exported", err=True)


@audit.command("verify-heads")
@click.argument("export_file", type=click.File("r"))
def audit_verify_heads(export_file: Any) -> None:
    """Check the database against a signed export; exit 1 naming each case and seq that differs."""
    import json

    from app.history.heads import BadExport, verify_heads

    key = _audit_key()
    ctx = build_context(get_settings())
    try:
        export = json.load(export_file)
        with unit_of_work(ctx.engine, write=False) as session:
            problems = verify_heads(session, export, key)
    except (BadExport, ValueError) as exc:
        _fail(str(exc))
    for p in problems:
        click.echo(f"BROKEN case {p.case_id} at seq {p.seq}: {p.problem}")
    click.echo(f"{len(export['heads'])} chain heads checked, {len(problems)} broken")
    if problems:
        sys.exit(1)


@main.command()
def sweep() -> None:
    """Announce cases and consultations that became overdue (one case.overdue event each)."""
    from app.deadlines.sweep import sweep as run_sweep

    ctx = build_context(get_settings())
    result = run_sweep(ctx)
    click.echo(
        f"{result.cases} cases and {result.consultations} consultations newly overdue announced"
    )


@main.command()
@click.option(
    "--min-age",
    type=click.IntRange(min=0),
    default=3600,
    show_default=True,
    help="Seconds a file must have been left untouched (spares uploads in flight).",
)
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
def gc(min_age: int, dry_run: bool) -> None:
    """Remove unreferenced document files, stale staging files and expired idempotency keys;
    forget webhook deliveries and removed subscriptions past WEBHOOK_RETENTION_DAYS."""
    from datetime import timedelta

    from app.core.db import create_db_engine
    from app.core.models import utcnow
    from app.documents.gc import collect
    from app.idempotency import service as idempotency
    from app.storage.factory import open_store
    from app.webhooks import service as webhooks

    settings = get_settings()
    engine = create_db_engine(settings)
    now = utcnow()
    try:
        result = collect(engine, open_store(settings), min_age=min_age, now=now, dry_run=dry_run)
        with unit_of_work(engine, write=not dry_run) as session:
            keys = idempotency.delete_expired(session, now, dry_run=dry_run)
            before = now - timedelta(days=settings.webhook_retention_days)
            pruned = webhooks.prune(session, before=before, dry_run=dry_run)
    finally:
        engine.dispose()
    if dry_run:
        for found in result.files:
            click.echo(f"would remove {found.kind} {found.location} ({found.size} bytes)")
    click.echo(f"{result.summary()}; {keys} expired idempotency keys; {pruned.summary()}")


@main.group()
def storage() -> None:
    """The document store."""


@storage.command("copy")
@click.option(
    "--to",
    "target_url",
    required=True,
    help="The store to copy into: s3://bucket/prefix, file:///path or a path.",
)
@click.option(
    "--from",
    "source_url",
    default=None,
    help="The store to copy from (default: the configured one, STORAGE_URL or STORAGE_DIR).",
)
@click.option("--verbose", "-v", is_flag=True, help="One line per object.")
def storage_copy(target_url: str, source_url: str | None, verbose: bool) -> None:
    """Copy every document the database references into another store, verifying each
    SHA-256; objects the target holds already (verified) are skipped, so an interrupted
    copy is resumed by running it again. Exit 1 if any object is missing or corrupt."""
    from app.core.config import check_storage_url
    from app.core.db import create_db_engine
    from app.documents.transfer import copy_documents
    from app.storage.factory import open_store

    settings = get_settings()
    try:
        for url in filter(None, (target_url, source_url)):
            check_storage_url(url)
    except ValueError as exc:
        _fail(str(exc))
    source = open_store(settings, source_url)
    target = open_store(settings, target_url)
    if source.describe() == target.describe():
        _fail(f"the source and the target are the same store ({source.describe()})")
    engine = create_db_engine(settings)

    def tell(sha256: str, outcome: str) -> None:
        if verbose or outcome in ("missing", "mismatched"):
            click.echo(f"{outcome} {sha256}")

    click.echo(f"copying from {source.describe()} to {target.describe()}")
    try:
        report = copy_documents(engine, source, target, on_object=tell)
    except AdmissionError as exc:
        _fail(f"{exc.message} {exc.details or ''}".strip())
    finally:
        engine.dispose()
    click.echo(report.summary())
    if not report.complete:
        sys.exit(1)


@workflow.command("draw")
@click.argument("key", default=None, required=False)
@click.option("--version", "version", type=int, default=None, help="Default: the latest.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--current", default=None, help="A state to mark as current.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["svg", "mermaid"]),
    default="svg",
    show_default=True,
    help="SVG, or Mermaid stateDiagram-v2 text.",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), default=None, help="Default: stdout."
)
def workflow_draw(
    key: str | None,
    version: int | None,
    lang: str,
    current: str | None,
    fmt: str,
    output: str | None,
) -> None:
    """Draw a workflow version (default: the default workflow's latest), from its file."""
    from app.engine.diagram import render_mermaid, render_svg

    settings = get_settings()
    try:
        registry = load_workflows(settings.workflows_dir)
    except WorkflowDefinitionError as exc:
        _fail(str(exc))
    key = key or settings.default_workflow
    found = registry.latest(key) if version is None else registry.find(key, version)
    if found is None:
        _fail(f"no workflow {key!r}" + (f" version {version}" if version else ""))
        return
    if current is not None and current not in found.definition.states:
        _fail(f"unknown state {current!r}")
    render = render_mermaid if fmt == "mermaid" else render_svg
    drawing = render(found.definition, "en" if lang == "en" else "vi", current)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(drawing)
        click.echo(f"{found.source}: diagram written to {output}")
    else:
        click.echo(drawing, nl=not drawing.endswith("\n"))


@workflow.command("migrate")
@click.argument("key")
@click.option("--from", "from_version", type=int, required=True, help="The version cases are on.")
@click.option("--to", "to_version", type=int, required=True, help="The version they move to.")
@click.option(
    "--map",
    "entries",
    multiple=True,
    metavar="OLD=NEW",
    help="Where cases in state OLD land (repeatable); their documents are then not checked.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--by", "run_by", default=None, help="Who runs it, for the history (default: you).")
def workflow_migrate(
    key: str,
    from_version: int,
    to_version: int,
    entries: tuple[str, ...],
    dry_run: bool,
    run_by: str | None,
) -> None:
    """Move the running cases of KEY from one version to another, each audited."""
    import getpass

    from app.admission import migration
    from app.auth.actor import Actor
    from app.core.errors import MigrationRefused
    from app.engine.roles import Role

    ctx = build_context(get_settings())
    actor = Actor(org_id=0, org_slug="cli", role=Role.ADMIN)
    try:
        mapping = migration.parse_map(entries)
        outcome = migration.run(
            ctx,
            actor,
            key,
            from_version,
            to_version,
            mapping,
            dry_run=dry_run,
            run_by=run_by or getpass.getuser(),
        )
    except MigrationRefused as exc:
        click.echo(f"refused: {exc.message}", err=True)
        for item in exc.details["refused"]:
            where = item["code"] or item["case_id"]
            click.echo(f"  {where} in {item['state']}: {item['reason']}", err=True)
        sys.exit(1)
    except AdmissionError as exc:
        _fail(f"{exc.message} {exc.details or ''}".strip())
    finally:
        ctx.engine.dispose()
    plan = outcome.plan
    kept = f"; {plan.closed} closed case(s) stay on v{from_version}" if plan.closed else ""
    click.echo(
        f"{key} v{from_version} -> v{to_version}: {len(plan.moves)} running case(s) to move{kept}"
    )
    for move in plan.moves:
        click.echo(f"  {move.describe()}")
    if dry_run:
        click.echo("dry run: nothing was changed")
        return
    for case_id in outcome.retried:
        click.echo(f"  retried {case_id}: changed by someone else during the migration")
    for refusal in outcome.reported:
        click.echo(f"  not moved: {refusal.describe()}")
    click.echo(f"moved {len(outcome.moved)} case(s)")
    if outcome.reported:
        sys.exit(1)


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--batch",
    type=click.IntRange(1, 500),
    default=20,
    show_default=True,
    help="Deliveries claimed per round.",
)
def worker(once: bool, batch: int) -> None:
    """Deliver webhooks from the outbox until SIGTERM or SIGINT; prints what it did."""
    import logging
    import signal
    import threading

    from app.core.logging import configure_logging
    from app.webhooks.delivery import DeliveryWorker

    configure_logging()
    # One line per request would be noise (and URLs may carry a receiver's query secrets).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    ctx = build_context(get_settings())
    stop = threading.Event()
    with DeliveryWorker(ctx, batch=batch) as delivery:
        if once:
            tally = delivery.drain()
        else:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            tally = delivery.run(stop)
    click.echo(tally.summary())


@main.group()
def webhooks() -> None:
    """Webhook subscriptions and their deliveries."""


@webhooks.command("list")
def webhooks_list() -> None:
    """Every subscription, removed ones too, with its deliveries counted by state."""
    from app.webhooks.service import overview

    ctx = build_context(get_settings())
    with unit_of_work(ctx.engine, write=False) as session:
        summaries = overview(session)
    for s in summaries:
        sub = s.subscription
        status = "removed" if sub.deleted_at else "live"
        counts = " ".join(f"{state}={n}" for state, n in s.deliveries.items())
        types = ",".join(sub.event_types)
        click.echo(f"{sub.id}  {s.owner} ({sub.role})  {status}  {sub.url}  [{types}]  {counts}")
    click.echo(f"{len(summaries)} subscriptions")


@webhooks.command("redrive")
@click.option("--delivery", "delivery_id", type=int, default=None, help="One delivery's id.")
@click.option(
    "--subscription", "subscription_id", type=click.UUID, default=None, help="A subscription's id."
)
@click.option("--all", "everything", is_flag=True, help="Every dead delivery.")
def webhooks_redrive(delivery_id: int | None, subscription_id: Any, everything: bool) -> None:
    """Send dead deliveries again: back to pending, due now, tries reset."""
    from app.webhooks.service import redrive

    if sum((delivery_id is not None, subscription_id is not None, everything)) != 1:
        _fail("give exactly one of --delivery, --subscription, --all")
    ctx = build_context(get_settings())
    try:
        with unit_of_work(ctx.engine) as session:
            moved = redrive(session, ctx, delivery_id=delivery_id, subscription_id=subscription_id)
    except AdmissionError as exc:
        _fail(exc.message)
    click.echo(f"{moved} dead deliveries back to pending")


@main.group("import")
def import_() -> None:
    """Load existing records."""


@import_.command("cases")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and count; write nothing.")
def import_cases(file: Path, dry_run: bool) -> None:
    """Load dossiers from a CSV file (UTF-8, header row) in their real states.

    The whole file is checked first: if any row is bad, every problem is listed (the first
    50) and nothing is imported. Rows whose id or code exists already are skipped.
    """
    from app.admission.registry import build_context
    from app.bulk import progress
    from app.bulk.service import import_cases as run_import

    ctx = build_context(get_settings())
    try:
        report = run_import(ctx, file, dry_run=dry_run, progress=progress.for_stream())
    except AdmissionError as exc:
        _fail(exc.message)
    if not report.valid:
        for problem in report.problems:
            click.echo(str(problem))
        shown = len(report.problems)
        more = f" (the first {shown} shown)" if report.problem_count > shown else ""
        click.echo(
            f"{report.problem_count} problems in {report.bad_rows} rows{more}; nothing imported"
        )
        sys.exit(1)
    if dry_run:
        click.echo(
            f"dry run: {report.rows} rows valid; {report.imported} would be imported,"
            f" {report.skipped} skipped (already present); nothing written"
        )
    else:
        click.echo(
            f"{report.imported} cases imported, {report.skipped} rows skipped"
            f" (already present), of {report.rows} rows"
        )


@main.group("export")
def export() -> None:
    """Write records out."""


@export.command("cases")
@click.option("--state", default=None, help="Only cases in this state.")
@click.option("--workflow", default=None, help="Only cases of this workflow key.")
@click.option("--province", default=None, help="Only this province (case, diacritics ignored).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Default: stdout.",
)
def export_cases(
    state: str | None, workflow: str | None, province: str | None, output: Path | None
) -> None:
    """Write the register of cases as CSV, in the columns `import cases` reads (with `id`)."""
    from app.admission.registry import build_context
    from app.bulk import progress
    from app.bulk.repository import ExportFilters
    from app.bulk.service import export_cases as run_export
    from app.bulk.service import export_to_file

    ctx = build_context(get_settings())
    filters = ExportFilters(state=state, workflow=workflow, province=province)
    show = progress.for_stream()
    try:
        if output is None:
            written = run_export(ctx, sys.stdout, filters, progress=show)
        else:
            written = export_to_file(ctx, output, filters, progress=show)
    except AdmissionError as exc:
        _fail(exc.message)
    click.echo(f"{written} cases exported", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes sharing the port; more than one needs PostgreSQL.",
)
def serve(host: str, port: int, workers: int) -> None:
    """Run the API and the dashboard."""
    import uvicorn

    from app.admission.registry import build_context
    from app.cases.workflow_versions import check_at_startup
    from app.core.logging import configure_logging
    from app.engine.pinned import EditedWorkflows, UnloadedWorkflows

    settings = get_settings()
    if workers > 1 and settings.database_url.startswith("sqlite"):
        _fail("--workers above 1 needs PostgreSQL: SQLite has one writer at a time")
    configure_logging()
    # Each app checks again as it starts; this gives a plain message and exit status first.
    ctx = build_context(settings)
    try:
        check_at_startup(ctx)
    except (UnloadedWorkflows, EditedWorkflows) as exc:
        _fail(f"refusing to start: {exc}")
    finally:
        ctx.engine.dispose()
    # Our JSON access line (with the request id) replaces uvicorn's.
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
    )
