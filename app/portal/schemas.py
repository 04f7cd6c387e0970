"""The portal-status body. Field names are the ones provincial one-stop systems use when they
synchronise a dossier with the national public-service portal (Cổng Dịch vụ công quốc gia);
times are `yyyyMMddHHmmss` in Vietnam time, as those systems exchange them. The mapping from
the case is documented in docs/portal-status.md.
"""

import uuid

from pydantic import BaseModel, ConfigDict, Field


class _Portal(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True, extra="forbid")


class PortalDocument(_Portal):
    document_id: uuid.UUID = Field(alias="TepDinhKemId")
    filename: str = Field(alias="TenTepDinhKem")
    doc_type: str = Field(alias="MaThanhPhanHoSo")
    label: str = Field(alias="TenThanhPhanHoSo")
    sha256: str = Field(alias="MaBamSHA256", pattern=r"^[0-9a-f]{64}$")
    url: str = Field(alias="DuongDanTaiTepTin")


class PortalSupplement(_Portal):
    seq: int = Field(alias="HoSoBoSungId", description="The request's history entry number.")
    requested_by: str = Field(alias="NguoiYeuCauBoSung")
    content: str = Field(alias="NoiDungBoSung")
    documents: list[str] = Field(alias="DanhSachGiayToBoSung")
    requested_at: str = Field(alias="NgayYeuCauBoSung", pattern=r"^\d{14}$")
    resubmitted_at: str | None = Field(alias="NgayTiepNhanBoSung", pattern=r"^\d{14}$")
    old_promised: str | None = Field(alias="NgayHenTraTruoc", pattern=r"^\d{14}$")
    new_promised: str | None = Field(alias="NgayHenTraMoi", pattern=r"^\d{14}$")


class PortalResult(_Portal):
    document_id: uuid.UUID = Field(alias="GiayToId")
    label: str = Field(alias="TenGiayTo")
    doc_type: str = Field(alias="MaThanhPhanHoSo")
    url: str = Field(alias="DuongDanTepTinKetQua")


class PortalStatus(_Portal):
    dossier_code: str | None = Field(alias="MaHoSo")
    status_code: str | None = Field(alias="TrangThaiHoSo")
    status_label: str = Field(alias="TenTrangThaiHoSo")
    procedure: str = Field(alias="TenTTHC")
    applicant: str = Field(alias="ChuHoSo")
    applicant_unit: str = Field(alias="TenDonViDeNghi")
    province: str = Field(alias="TinhThanhPho")
    receipt_date: str | None = Field(alias="NgayTiepNhan", pattern=r"^\d{14}$")
    promised_return_date: str | None = Field(alias="NgayHenTra", pattern=r"^\d{14}$")
    handling_unit: str | None = Field(alias="DonViXuLy")
    submitted: list[PortalDocument] = Field(alias="TaiLieuNop")
    supplements: list[PortalSupplement] = Field(alias="DanhSachHoSoBoSung")
    results: list[PortalResult] = Field(alias="DanhSachGiayToKetQua")
    case_id: uuid.UUID = Field(alias="HoSoId", description="This service's case id.")
