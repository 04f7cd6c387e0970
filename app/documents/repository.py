import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from app.auth.models import Organisation
from app.cases.models import Case
from app.documents.models import Document


class DocumentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_case(
        self, case_id: uuid.UUID, visible: ColumnElement[bool] | None = None
    ) -> list[tuple[Document, str]]:
        """Every document of the case, current and superseded, with the uploader's slug;
        with `visible` (`app.access.visible_documents`), those a reader may see."""
        rows = self.session.execute(
            select(Document, Organisation.slug)
            .join(Organisation, Document.uploaded_by_org_id == Organisation.id)
            .join(Case, Document.case_id == Case.id)
            .where(Document.case_id == case_id, true() if visible is None else visible)
            .order_by(Document.doc_type, Document.uploaded_at)
        )
        return [(doc, slug) for doc, slug in rows]

    def current_types(self, case_id: uuid.UUID) -> set[str]:
        """Document types present in their current, not rejected, version."""
        return set(
            self.session.scalars(
                select(Document.doc_type).where(
                    Document.case_id == case_id,
                    Document.superseded_at.is_(None),
                    Document.rejected_at.is_(None),
                )
            )
        )

    def current_uploaded_at(self, case_id: uuid.UUID) -> dict[str, datetime]:
        """Per document type on file (current, not rejected): when its newest one was uploaded."""
        rows = self.session.execute(
            select(Document.doc_type, func.max(Document.uploaded_at))
            .where(
                Document.case_id == case_id,
                Document.superseded_at.is_(None),
                Document.rejected_at.is_(None),
            )
            .group_by(Document.doc_type)
        )
        return {doc_type: at for doc_type, at in rows}

    def current(self, case_id: uuid.UUID, doc_type: str, org_id: int) -> Document | None:
        return self.session.scalar(
            select(Document).where(
                Document.case_id == case_id,
                Document.doc_type == doc_type,
                Document.uploaded_by_org_id == org_id,
                Document.superseded_at.is_(None),
            )
        )

    def get(
        self, case_id: uuid.UUID, doc_id: uuid.UUID, visible: ColumnElement[bool] | None = None
    ) -> Document | None:
        return self.session.scalar(
            select(Document)
            .join(Case, Document.case_id == Case.id)
            .where(
                Document.case_id == case_id,
                Document.id == doc_id,
                true() if visible is None else visible,
            )
        )

    def add(self, doc: Document) -> Document:
        self.session.add(doc)
        self.session.flush()
        return doc
