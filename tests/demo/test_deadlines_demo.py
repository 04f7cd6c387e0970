"""The demo Chain shows deadlines, letters and the portal view to a new user."""

import io

from pypdf import PdfReader

from app.portal.schemas import PortalStatus
from tests.demo.conftest import SeededChain
from tests.demo.test_seed import EXPECTED_STATES, HAU_GIANG, MILITARY

NOT_YET_ACCEPTED = {"draft", "submitted"}


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


class TestOverdue:
    def test_the_military_software_park_is_overdue_and_by_how_much_everywhere(
        self, chain: SeededChain
    ) -> None:
        case_id = chain.case_id(MILITARY)
        case = chain.json(f"/api/v1/cases/{case_id}", "hdqlc")
        assert case["overdue"] is True
        assert case["overdue_days"] > 0
        assert 0 < case["overdue_working_days"] <= case["overdue_days"]
        listed = chain.json("/api/v1/cases", "hdqlc", overdue="true")["items"]
        assert [(c["applicant_name"], c["overdue_days"]) for c in listed] == [
            (MILITARY, case["overdue_days"])
        ]
        row = next(c for c in chain.pipeline()["cases"] if c["applicant_name"] == MILITARY)
        assert row["overdue_days"] == case["overdue_days"]


class TestLetters:
    def test_every_accepted_dossier_has_its_receipt(self, chain: SeededChain) -> None:
        for name, state in EXPECTED_STATES.items():
            path = f"/api/v1/cases/{chain.case_id(name)}/documents"
            types = {d["doc_type"] for d in chain.json(path, "hdqlc")["items"]}
            assert ("intake_receipt" in types) is (state not in NOT_YET_ACCEPTED), name

    def test_hau_giang_downloads_its_supplement_notice_and_reads_it_in_vietnamese(
        self, chain: SeededChain
    ) -> None:
        case_id = chain.case_id(HAU_GIANG)
        case = chain.json(f"/api/v1/cases/{case_id}", "hau-giang")
        listing = chain.json(f"/api/v1/cases/{case_id}/documents", "hau-giang")["items"]
        notice = next(d for d in listing if d["doc_type"] == "supplement_notice")
        receipt = next(d for d in listing if d["doc_type"] == "intake_receipt")

        text = pdf_text(
            chain.get(
                f"/api/v1/cases/{case_id}/documents/{notice['id']}/content", "hau-giang"
            ).content
        )
        assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text
        assert case["code"] in text
        assert "Văn bản về sự phù hợp quy hoạch ngành, quy hoạch tỉnh" in text
        assert "Phương án đầu tư, nguồn vốn, nhà đầu tư chiến lược" in text
        assert "Hội đồng quản lý Chuỗi Công viên phần mềm Quang Trung" in text

        text = pdf_text(
            chain.get(
                f"/api/v1/cases/{case_id}/documents/{receipt['id']}/content", "hau-giang"
            ).content
        )
        assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
        assert "UBND tỉnh Hậu Giang" in text
        assert case["clock"]["paused"] is True


class TestPortal:
    def test_hau_giang_s_portal_status_shows_the_supplement_it_owes(
        self, chain: SeededChain
    ) -> None:
        case_id = chain.case_id(HAU_GIANG)
        body = chain.json(f"/api/v1/cases/{case_id}/portal-status", "hau-giang")
        status = PortalStatus.model_validate(body)
        assert status.status_code == "5"
        assert status.applicant == "UBND tỉnh Hậu Giang"
        assert len(status.supplements) == 1
        assert status.supplements[0].old_promised is not None
        assert status.supplements[0].new_promised is None
        assert len(status.submitted) == 6
