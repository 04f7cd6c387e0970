"""Every query of bulk import and export: set-wise, a chunk of rows per statement."""

import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, insert, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.auth.models import Organisation
from app.bulk.rows import Applicant
from app.cases.models import Case, DossierCodeSequence
from app.core.text import fold

# A code as the service issues them: <agency>-<yymmdd>-<daily number>.
ISSUED_CODE = re.compile(r"^([A-Z0-9]{2,10})-(\d{6})-(\d{4,9})$")


@dataclass(frozen=True)
class ExportFilters:
    state: str | None = None
    workflow: str | None = None
    province: str | None = None


class BulkRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def applicants(self) -> dict[str, Applicant]:
        """Every organisation by slug (there are few), to check rows without a query each."""
        rows = self.session.execute(
            select(Organisation.id, Organisation.slug, Organisation.kind, Organisation.province)
        )
        return {slug: Applicant(id, slug, kind, province) for id, slug, kind, province in rows}

    def existing_ids(self, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        if not ids:
            return set()
        return set(self.session.scalars(select(Case.id).where(Case.id.in_(ids))))

    def existing_codes(self, codes: list[str]) -> set[str]:
        if not codes:
            return set()
        found = self.session.scalars(select(Case.code).where(Case.code.in_(codes)))
        return {code for code in found if code is not None}

    def add_cases(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            # Core, not the ORM's bulk insert: one executemany, whatever the rows' values.
            self.session.connection().execute(insert(Case), rows)

    def reserve_codes(self, codes: Iterable[str]) -> None:
        """Move each day's dossier number past the imported codes, so that a code the
        service issues later never repeats one that was imported."""
        highest: dict[tuple[str, str], int] = {}
        for code in codes:
            match = ISSUED_CODE.match(code)
            if match:
                key = (match[1], match[2])
                highest[key] = max(highest.get(key, 0), int(match[3]))
        if not highest:
            return
        dialect = sqlite if self.session.get_bind().dialect.name == "sqlite" else postgresql
        statement = dialect.insert(DossierCodeSequence)
        taken = statement.excluded.last
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["agency", "day"],
                set_={
                    "last": case(
                        (taken > DossierCodeSequence.last, taken),
                        else_=DossierCodeSequence.last,
                    )
                },
            ),
            [{"agency": a, "day": d, "last": n} for (a, d), n in sorted(highest.items())],
        )

    def count(self, filters: ExportFilters) -> int:
        return int(
            self.session.scalar(select(func.count()).select_from(Case).where(_where(filters))) or 0
        )

    def stream(self, filters: ExportFilters, batch: int) -> Iterator[Any]:
        """The register's rows in the order they were filed, `batch` at a time from a
        server-side cursor: memory does not grow with the number of cases."""
        statement = (
            select(
                Case.id,
                Case.code,
                Organisation.slug,
                Case.applicant_name,
                Case.unit_kind,
                Case.area_m2,
                Case.address,
                Case.investor,
                Case.state,
                Case.state_entered_at,
                Case.due_at,
                Case.workflow_key,
                Case.workflow_version,
            )
            .join(Organisation, Case.applicant_org_id == Organisation.id)
            .where(_where(filters))
            .order_by(Case.created_at, Case.id)
            .execution_options(yield_per=batch)
        )
        yield from self.session.execute(statement)


def _where(filters: ExportFilters) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [true()]
    if filters.state:
        conditions.append(Case.state == filters.state)
    if filters.workflow:
        conditions.append(Case.workflow_key == filters.workflow)
    if filters.province:
        conditions.append(Case.province_key == fold(filters.province))
    return and_(*conditions)
