"""GET /api/v1/cases/{id}/portal-status: the case as one-stop systems exchange it."""

from datetime import UTC, datetime

import pytest

from app.context import AppContext
from app.portal.schemas import PortalStatus
from tests.factories import Api, Clock, error_details

MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ticking = Clock(MONDAY)
    ctx.clock = ticking
    return ticking


def portal(api: Api, case_id: str, who: str = "applicant") -> dict:  # type: ignore[type-arg]
    response = api.client.get(f"/api/v1/cases/{case_id}/portal-status", headers=api.headers(who))
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    PortalStatus.model_validate(body)
    return body


class TestPortalStatus:
    def test_a_case_in_review_after_a_supplement_in_the_portal_s_shape(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_council_review()  # received Mon 2/3 09:00, due Mon 30/3
        clock.advance(days=7)
        api.advance(
            case["id"],
            "request_supplement",
            "council",
            reason="Thiếu hồ sơ mặt bằng",
            supplement_documents=["site_documents"],
        )
        clock.advance(days=14)
        assert api.upload(case["id"], "site_documents").status_code == 201
        api.advance(case["id"], "resubmit", "applicant")

        body = portal(api, case["id"])

        assert body["MaHoSo"] == case["code"]
        assert body["TrangThaiHoSo"] == "2"
        assert body["TenTrangThaiHoSo"] == "HĐQLC thẩm tra hồ sơ"
        assert body["NgayTiepNhan"] == "20260302090000"
        assert body["NgayHenTra"] == "20260413170000"
        assert body["DonViXuLy"] == "HDQLC"
        assert body["ChuHoSo"] == "HAU-GIANG"
        assert body["TenDonViDeNghi"] == "Khu Công nghệ số tỉnh Hậu Giang"
        assert len(body["TaiLieuNop"]) == 6
        assert {d["MaThanhPhanHoSo"] for d in body["TaiLieuNop"]} >= {"provincial_proposal"}
        first = body["TaiLieuNop"][0]
        assert first["DuongDanTaiTepTin"].endswith(f"/documents/{first['TepDinhKemId']}/content")
        assert body["DanhSachHoSoBoSung"] == [
            {
                "HoSoBoSungId": body["DanhSachHoSoBoSung"][0]["HoSoBoSungId"],
                "NguoiYeuCauBoSung": "HDQLC",
                "NoiDungBoSung": "Thiếu hồ sơ mặt bằng",
                "DanhSachGiayToBoSung": ["Hồ sơ mặt bằng, quỹ đất"],
                "NgayYeuCauBoSung": "20260309090000",
                "NgayTiepNhanBoSung": "20260323090000",
                "NgayHenTraTruoc": "20260330170000",
                "NgayHenTraMoi": "20260413170000",
            }
        ]
        assert body["DanhSachGiayToKetQua"] == []

    def test_while_a_supplement_is_outstanding_the_last_promise_stands(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_awaiting_supplement("council")
        body = portal(api, case["id"])
        assert body["TrangThaiHoSo"] == "5"
        assert body["NgayHenTra"] == "20260330170000"
        assert body["DanhSachHoSoBoSung"][0]["NgayHenTraMoi"] is None

    def test_the_prime_minister_s_decision_is_the_result_document(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_pm_review()
        assert api.upload(case["id"], "pm_decision", "government").status_code == 201
        api.advance(
            case["id"],
            "approve",
            "government",
            decision_number="12/QĐ-TTg",
            decision_date="2026-03-02",
        )
        body = portal(api, case["id"], "council")
        assert body["TrangThaiHoSo"] == "9"
        assert [r["MaThanhPhanHoSo"] for r in body["DanhSachGiayToKetQua"]] == ["pm_decision"]
        assert body["DonViXuLy"] == "VPCP"

    def test_a_draft_has_no_code_nor_receipt_yet(self, api: Api) -> None:
        case = api.create_case()
        body = portal(api, case["id"])
        assert (body["MaHoSo"], body["TrangThaiHoSo"], body["NgayTiepNhan"]) == (None, None, None)
        assert body["DonViXuLy"] is None

    def test_another_province_s_case_is_not_found(self, api: Api) -> None:
        case = api.create_case()
        response = api.client.get(
            f"/api/v1/cases/{case['id']}/portal-status", headers=api.headers("other_applicant")
        )
        error_details(response, 404, "not_found")
