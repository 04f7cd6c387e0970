"""The intake receipt and the supplement notice: real PDFs, in Vietnamese, reproducible."""

import hashlib
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pypdf import PdfReader

from app.auth.actor import Actor
from app.auth.repository import OrganisationRepository
from app.context import AppContext
from app.core.db import unit_of_work
from app.engine.roles import Role
from app.letters import service as letters
from tests.factories import Api, Clock, error_details

MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(ctx: AppContext) -> None:
    ctx.clock = Clock(MONDAY)


def letter(api: Api, case_id: str, doc_type: str, who: str = "applicant") -> dict[str, Any]:
    return next(d for d in api.documents(case_id, who) if d["doc_type"] == doc_type)


def text_of(content: bytes) -> str:
    """The PDF's text with its line breaks (where lines wrap) folded into spaces."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


class TestReceipt:
    def test_accepting_files_a_receipt_the_applicant_downloads_and_reads_in_vietnamese(
        self, api: Api
    ) -> None:
        case = api.case_in_council_review()
        receipt = letter(api, case["id"], "intake_receipt")
        assert receipt["content_type"] == "application/pdf"
        assert receipt["uploaded_by"] == "hdqlc"

        response = api.download(case["id"], receipt["id"], "applicant")

        assert response.status_code == 200
        assert response.content.startswith(b"%PDF-")
        text = text_of(response.content)
        assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
        assert f"Mã hồ sơ: {case['code']}" in text
        assert "Khu Công nghệ số tỉnh Hậu Giang" in text
        assert "Thời gian trả kết quả giải quyết hồ sơ: ngày 30/03/2026" in text
        assert "Thời gian nhận hồ sơ: 09 giờ 00 phút, ngày 02/03/2026" in text
        # Each document received, with the start of its SHA-256.
        for doc in api.documents(case["id"]):
            if doc["doc_type"] != "intake_receipt":
                assert doc["sha256"][:16] in text
        assert "Tờ trình của UBND tỉnh đề nghị kết nạp vào Chuỗi" in text

    def test_the_receipt_is_recorded_in_the_history_entry_of_the_acceptance(self, api: Api) -> None:
        case = api.case_in_council_review()
        receipt = letter(api, case["id"], "intake_receipt")
        entry = next(e for e in api.history(case["id"]) if e["action"] == "accept")
        issued = entry["fields"]["intake_receipt"]
        assert issued["document_id"] == receipt["id"]
        assert issued["sha256"] == receipt["sha256"]
        assert issued["input"]["promised_date"] == "2026-03-30"
        assert len(issued["input"]["documents"]) == 6

    def test_a_letter_cannot_be_uploaded_by_hand(self, api: Api) -> None:
        case = api.case_in_council_review()
        error_details(api.upload(case["id"], "intake_receipt", "council"), 403, "forbidden")


class TestSupplementNotice:
    def test_a_supplement_request_files_a_notice_saying_what_is_missing_and_why(
        self, api: Api
    ) -> None:
        case = api.case_in_council_review()
        case = api.advance(
            case["id"],
            "request_supplement",
            "council",
            reason="Hồ sơ mặt bằng chưa thể hiện hiện trạng sử dụng đất",
            supplement_documents=["site_documents", "planning_conformity"],
        )
        notice = letter(api, case["id"], "supplement_notice")
        response = api.download(case["id"], notice["id"], "applicant")
        assert response.status_code == 200
        text = text_of(response.content)
        assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
        assert case["code"] in text
        assert "1. Hồ sơ mặt bằng, quỹ đất" in text
        assert "2. Văn bản về sự phù hợp quy hoạch ngành, quy hoạch tỉnh" in text
        assert "Hồ sơ mặt bằng chưa thể hiện hiện trạng sử dụng đất" in text
        assert "còn lại 20 ngày làm việc" in text
        assert "ngày hẹn trả trước đây: 30/03/2026" in text

    def test_an_unknown_document_type_to_supplement_is_refused_and_changes_nothing(
        self, api: Api
    ) -> None:
        case = api.case_in_council_review()
        before = api.snapshot(case["id"])
        response = api.fire(
            case["id"],
            "request_supplement",
            "council",
            reason="x",
            supplement_documents=["no_such_thing"],
        )
        assert error_details(response, 422, "invalid") == {
            "supplement_documents": ["no_such_thing"]
        }
        assert api.snapshot(case["id"]) == before

    def test_the_ministry_s_request_is_signed_by_the_ministry_and_numbered(self, api: Api) -> None:
        case = api.case_awaiting_supplement("council")
        api.advance(case["id"], "resubmit", "applicant")
        assert api.upload(case["id"], "council_proposal", "council").status_code == 201
        api.advance(case["id"], "propose_to_ministry", "council")
        api.advance(case["id"], "request_supplement", "ministry", reason="Bổ sung phương án vốn")
        notices = [d for d in api.documents(case["id"]) if d["doc_type"] == "supplement_notice"]
        assert sorted(d["uploaded_by"] for d in notices) == ["hdqlc", "mic"]
        newest = next(d for d in notices if d["uploaded_by"] == "mic")
        text = text_of(api.download(case["id"], newest["id"]).content)
        assert "/YCBS-2" in text
        assert "Bổ sung phương án vốn" in text


class TestReproducible:
    @pytest.mark.parametrize("doc_type", ["intake_receipt", "supplement_notice"])
    def test_a_letter_rendered_again_from_its_history_entry_is_the_same_bytes(
        self, api: Api, ctx: AppContext, doc_type: str
    ) -> None:
        case = api.case_awaiting_supplement("council")
        stored = letter(api, case["id"], doc_type)
        downloaded = api.download(case["id"], stored["id"]).content

        with unit_of_work(ctx.engine, write=False) as session:
            org = OrganisationRepository(session).by_slug("hdqlc")
            assert org is not None
            council = Actor(org_id=org.id, org_slug=org.slug, role=Role.COUNCIL)
            found, content = letters.render_again(
                session, ctx, council, uuid.UUID(case["id"]), uuid.UUID(stored["id"])
            )
        assert content == downloaded
        assert hashlib.sha256(content).hexdigest() == stored["sha256"] == found.stored_sha256

        response = api.client.get(
            f"/api/v1/cases/{case['id']}/letters/{stored['id']}/verify",
            headers=api.headers("applicant"),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["identical"] is True
        assert body["regenerated_sha256"] == stored["sha256"]

    def test_only_letters_can_be_verified(self, api: Api) -> None:
        case = api.case_in_council_review()
        proposal = letter(api, case["id"], "provincial_proposal")
        response = api.client.get(
            f"/api/v1/cases/{case['id']}/letters/{proposal['id']}/verify",
            headers=api.headers("council"),
        )
        error_details(response, 404, "not_found")
