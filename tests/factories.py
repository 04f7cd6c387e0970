"""Small typed helpers that set up organisations and drive cases through the real API."""

import os
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from app.auth.service import create_organisation, issue_token
from app.context import AppContext
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

# The province of each applicant organisation of the small Chain.
PROVINCES: dict[str, str] = {"hau-giang": "Hậu Giang", "tien-giang": "Tiền Giang"}

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
            create_organisation(
                session, slug=slug, name=slug.upper(), kind=kind, province=PROVINCES.get(slug)
            )
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
        # No province: the dossier takes its applicant organisation's.
        body = {
            "applicant_name": "Khu Công nghệ số tỉnh Hậu Giang",
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
        version: int | None = None,
    ) -> Response:
        """Upload a file; with `version`, sent as `If-Match` (uploads may leave it out)."""
        return self.client.post(
            f"/api/v1/cases/{case_id}/documents",
            data={"doc_type": doc_type},
            files={"file": (filename, content if content is not None else pdf_bytes(doc_type))},
            headers=self.headers(who, version),
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

    def case_in_consultation(self, ministries: tuple[str, ...] = ("mpi",)) -> dict[str, Any]:
        case = self.case_in_ministry_appraisal()
        return self.advance(
            case["id"], "open_consultation", "ministry", ministries=list(ministries)
        )

    def case_in_pm_review(self) -> dict[str, Any]:
        case = self.case_in_ministry_appraisal()
        for doc_type in ("appraisal_report", "pm_submission"):
            assert self.upload(case["id"], doc_type, "ministry").status_code == 201
        return self.advance(case["id"], "submit_to_pm", "ministry")

    def case_awaiting_supplement(self, asked_by: str = "council") -> dict[str, Any]:
        """A case in `supplement_requested`, asked for by the council or by the ministry."""
        if asked_by == "council":
            case = self.case_in_council_review()
        else:
            case = self.case_in_ministry_appraisal()
        return self.advance(
            case["id"], "request_supplement", asked_by, reason="Thiếu hồ sơ mặt bằng"
        )

    def patch(
        self, case_id: str, who: str = "applicant", version: int | None = None, **fields: Any
    ) -> Response:
        if version is None:
            version = self.read(case_id, who)["version"]
        return self.client.patch(
            f"/api/v1/cases/{case_id}", json=fields, headers=self.headers(who, version)
        )

    def list_cases(self, who: str = "council", **params: Any) -> Response:
        return self.client.get("/api/v1/cases", params=params, headers=self.headers(who))

    def history(self, case_id: str, who: str = "council") -> list[dict[str, Any]]:
        response = self.client.get(f"/api/v1/cases/{case_id}/history", headers=self.headers(who))
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def verify(self, case_id: str, who: str = "council") -> dict[str, Any]:
        response = self.client.get(
            f"/api/v1/cases/{case_id}/history/verify", headers=self.headers(who)
        )
        assert response.status_code == 200, response.text
        return response.json()

    def documents(self, case_id: str, who: str = "council") -> list[dict[str, Any]]:
        response = self.client.get(f"/api/v1/cases/{case_id}/documents", headers=self.headers(who))
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def events(self, case_id: str) -> list[dict[str, Any]]:
        response = self.client.get("/api/v1/events", headers=self.headers("council"))
        assert response.status_code == 200, response.text
        return [e for e in response.json()["items"] if e["case_id"] == case_id]

    def snapshot(self, case_id: str) -> dict[str, Any]:
        """Everything a refused request must leave as it was, as the council sees it."""
        return {
            "case": self.read(case_id),
            "history": self.history(case_id),
            "documents": self.documents(case_id),
            "events": self.events(case_id),
        }

    def download(self, case_id: str, doc_id: str, who: str = "council") -> Response:
        return self.client.get(
            f"/api/v1/cases/{case_id}/documents/{doc_id}/content", headers=self.headers(who)
        )

    def consultations(self, case_id: str, who: str = "ministry") -> list[dict[str, Any]]:
        response = self.client.get(
            f"/api/v1/cases/{case_id}/consultations", headers=self.headers(who)
        )
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def answer(
        self,
        case_id: str,
        consultation_id: str,
        who: str,
        verdict: str = "agree",
        *,
        version: int | None = None,
        if_match: bool = True,
        **fields: Any,
    ) -> Response:
        """Answer a consultation with `If-Match` (the case's current version unless given;
        none at all with `if_match=False`)."""
        if if_match and version is None:
            # Read by the Council, who sees every case: the version is the same for all.
            version = self.read(case_id, "council")["version"]
        return self.client.post(
            f"/api/v1/cases/{case_id}/consultations/{consultation_id}/answer",
            json={"verdict": verdict, **fields},
            headers=self.headers(who, version if if_match else None),
        )

    def extend_consultation(
        self,
        case_id: str,
        consultation_id: str,
        who: str = "ministry",
        version: int | None = None,
        **body: Any,
    ) -> Response:
        """`POST .../consultations/{id}/extend`, If-Match the version read now unless given."""
        if version is None:
            version = self.read(case_id, who)["version"]
        return self.client.post(
            f"/api/v1/cases/{case_id}/consultations/{consultation_id}/extend",
            json=body,
            headers=self.headers(who, version),
        )

    def pipeline(self, who: str = "council", if_none_match: str | None = None) -> Response:
        headers = self.headers(who)
        if if_none_match is not None:
            headers["If-None-Match"] = if_none_match
        return self.client.get("/api/v1/pipeline", headers=headers)

    def events_page(self, who: str = "council", **params: Any) -> Response:
        """One page of the change feed as `who` sees it (`after`, `wait` as query parameters)."""
        return self.client.get("/api/v1/events", params=params, headers=self.headers(who))


def error_details(response: Response, status: int, code: str) -> Any:
    """Check that `response` is the contract's error body with this status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]["details"]


class Clock:
    """A replacement for `AppContext.clock`: starts where told, ticks a millisecond per call."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        self.at += timedelta(milliseconds=1)
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
