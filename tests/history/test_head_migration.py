"""Migration 0005 gives every existing case the head of the history it already has."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, MetaData, column, insert, select, table
from sqlalchemy.sql.expression import TableClause

from app.cases.models import Case
from app.core.config import Settings
from app.core.db import create_db_engine, unit_of_work
from app.core.migrations import alembic_config
from app.history.chain import GENESIS, compute_hash, first_bad_seq
from app.history.models import AuditEntry
from app.models import Base
from tests.databases import sibling_database

AT = datetime(2023, 5, 4, 2, 0, tzinfo=UTC)


def as_it_was(tables: MetaData, name: str) -> TableClause:
    """The table with the columns it has in the database, typed as the models type them."""
    model = Base.metadata.tables[name]
    return table(name, *(column(c.name, model.c[c.name].type) for c in tables.tables[name].c))


def migrate_to(engine: Engine, revision: str, *, down: bool = False) -> None:
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def chain(case_id: uuid.UUID, actions: list[str]) -> list[dict[str, object]]:
    """Rows of a valid history, as the service before 0005 wrote them."""
    rows, prev = [], GENESIS
    for seq, action in enumerate(actions, start=1):
        entry = AuditEntry(
            case_id=case_id,
            seq=seq,
            action=action,
            from_state=None if seq == 1 else "draft",
            to_state="draft",
            actor_org="hau-giang",
            actor_role="applicant",
            at=AT + timedelta(minutes=seq),
            comment=None,
            reason=None,
            fields={},
            prev_hash=prev,
        )
        entry.hash = prev = compute_hash(entry, prev)
        rows.append({c.name: getattr(entry, c.key) for c in AuditEntry.__table__.columns})
        rows[-1].pop("id")
    return rows


def test_existing_cases_take_their_newest_entry_as_head(backend: Settings, tmp_path: Path) -> None:
    settings = sibling_database(backend, tmp_path, "head_migration")
    engine = create_db_engine(settings)
    try:
        migrate_to(engine, "0004", down=True)
        with_history, without = uuid.uuid4(), uuid.uuid4()
        tables = MetaData()
        with engine.begin() as conn:
            tables.reflect(conn)
            assert "head_seq" not in tables.tables["cases"].c
            org = conn.execute(
                insert(as_it_was(tables, "organisations"))
                .values(slug="hau-giang", name="UBND Hậu Giang", kind="province", created_at=AT)
                .returning(column("id"))
            ).scalar_one()
            for case_id in (with_history, without):
                conn.execute(
                    insert(as_it_was(tables, "cases")).values(
                        id=case_id,
                        workflow_key="qtsc-chain-admission",
                        workflow_version=1,
                        state="draft",
                        version=3,
                        applicant_org_id=org,
                        applicant_name="Khu Công nghệ số tỉnh Hậu Giang",
                        province="Hậu Giang",
                        unit_kind="digital_technology_zone",
                        search_text="",
                        state_entered_at=AT,
                        created_at=AT,
                        updated_at=AT,
                    )
                )
            rows = chain(with_history, ["create", "edit", "edit"])
            conn.execute(insert(as_it_was(tables, "audit_entries")), rows)

        migrate_to(engine, "head")

        with unit_of_work(engine, write=False) as session:
            heads = {
                case_id: (seq, hash_)
                for case_id, seq, hash_ in session.execute(
                    select(Case.id, Case.head_seq, Case.head_hash)
                )
            }
            assert heads == {with_history: (3, rows[-1]["hash"]), without: (0, GENESIS)}
            entries = list(
                session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.case_id == with_history)
                    .order_by(AuditEntry.seq)
                )
            )
            assert first_bad_seq(entries, *heads[with_history]) is None
    finally:
        engine.dispose()
