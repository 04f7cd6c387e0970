"""Small typed helpers that set up organisations and drive cases through the real API."""

import os
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from app.auth.service import create_organisation, issue_token
from app.core.context import AppContext
from app.core.db import unit_of_work

# who -> (organisation slug, organisation kind, role)
CHAIN: dict[str, tuple[str, str, str]] = {
    "applicant": ("hau-giang", "province", "applicant"),
    "other_applicant": ("tien-giang", "province", "applicant"),
    "council": ("hdqlc", "council", "council"),
    "ministry": ("mic", "ministry", "ministry"),
    "mpi": ("mpi", "ministry", "consulted"),
    "mof": ("mof", "ministry", "consulted"),
    "government": ("vpcp", "government", "government"),
    "viewer": ("press", "observer", "viewer"),
    "admin": ("ops", "operator", "admin"),
}

SUBMIT_DOCUMENTS = (
    "provincial_proposal",
    "membership_scheme",
    "establishment_decision",
    "site_documents",
    "planning_conformity",
    "investment_plan",
)


def make_tokens(ctx: AppContext) -> dict[str, str]:
    tokens: dict[str, str] = {}
    with unit_of_work(ctx.engine) as session:
        for slug, kind in {(slug, kind) for slug, kind, _ in CHAIN.values()}:
            create_organisation(session, slug=slug, name=slug.upper(), kind=kind)
        for who, (slug, _, role) in CHAIN.items():
            _, tokens[who] = issue_token(session, org_slug=slug, role=role)
    return tokens


def pdf_bytes(label: str = "test") -> bytes:
    """A small file that is a PDF by its magic bytes, different on every call."""
    return b"%PDF-1.4\n% " + label.encode() + b" " + os.urandom(16).hex().encode() + b"\n%%EOF\n"


class Api:
    """The HTTP API as each actor of the small Chain sees it."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def headers(self, who: str, version: int | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        return headers

    def create_case(self, who: str = "applicant", **fields: Any) -> dict[str, Any]:
        body = {
            "applicant_name": "Khu Công nghệ số tỉnh Hậu Giang",
            "province": "Hậu Giang",
            "unit_kind": "digital_technology_zone",
            "area_m2": 280000,
            **fields,
        }
        response = self.client.post("/api/v1/cases", json=body, headers=self.headers(who))
        assert response.status_code == 201, response.text
        return response.json()

    def read(self, case_id: str, who: str = "council") -> dict[str, Any]:
        response = self.client.get(f"/api/v1/cases/{case_id}", headers=self.headers(who))
        assert response.status_code == 200, response.text
        return response.json()

    def upload(
        self,
        case_id: str,
        doc_type: str,
        who: str = "applicant",
        content: bytes | None = None,
        filename: str = "file.pdf",
    ) -> Response:
        return self.client.post(
            f"/api/v1/cases/{case_id}/documents",
            data={"doc_type": doc_type},
            files={"file": (filename, content if content is not None else pdf_bytes(doc_type))},
            headers=self.headers(who),
        )

    def fire(
        self, case_id: str, action: str, who: str, version: int | None = None, **fields: Any
    ) -> Response:
        if version is None:
            version = self.read(case_id, who)["version"]
        return self.client.post(
            f"/api/v1/cases/{case_id}/transitions",
            json={"action": action, **fields},
            headers=self.headers(who, version),
        )

    def advance(self, case_id: str, action: str, who: str, **fields: Any) -> dict[str, Any]:
        response = self.fire(case_id, action, who, **fields)
        assert response.status_code == 200, response.text
        return response.json()

    def submitted_case(self) -> dict[str, Any]:
        case = self.create_case()
        for doc_type in SUBMIT_DOCUMENTS:
            assert self.upload(case["id"], doc_type).status_code == 201
        return self.advance(case["id"], "submit", "applicant")

    def case_in_council_review(self) -> dict[str, Any]:
        case = self.submitted_case()
        return self.advance(case["id"], "accept", "council")

    def case_in_ministry_appraisal(self) -> dict[str, Any]:
        case = self.case_in_council_review()
        assert self.upload(case["id"], "council_proposal", "council").status_code == 201
        return self.advance(case["id"], "propose_to_ministry", "council")
