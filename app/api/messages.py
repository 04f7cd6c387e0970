"""Error messages in the language the client asks for (`Accept-Language`, Vietnamese by
default). The English message is the service's own, naming exactly what went wrong. The
Vietnamese one says what happened in an official's words, by error code: what is missing by
its checklist label, the current version, the fields at fault; where the English names
particulars no Vietnamese sentence here covers (a host, a workflow version), it follows in
parentheses, so that nothing the English says is lost."""

from typing import Any

from app.core.i18n import Lang

VI: dict[str, str] = {
    "invalid": "Dữ liệu gửi lên không hợp lệ",
    "idempotency_key_reused": "Khóa Idempotency-Key đã được dùng cho một yêu cầu khác",
    "unauthenticated": "Chưa đăng nhập, hoặc mã truy cập, phiên đăng nhập không còn hiệu lực",
    "forbidden": "Vai trò của bạn không được thực hiện thao tác này",
    "password_change_required": "Vui lòng đổi mật khẩu dùng một lần trước khi tiếp tục",
    "csrf_refused": "Thiếu mã chống giả mạo (CSRF) của trang; vui lòng tải lại trang",
    "not_found": "Không tìm thấy (hoặc bạn không có quyền xem)",
    "conflict": "Yêu cầu mâu thuẫn với dữ liệu hiện có",
    "transition_not_allowed": "Không thể thực hiện thao tác này ở bước hiện tại của hồ sơ",
    "requirements_missing": "Hồ sơ chưa đủ điều kiện để thực hiện thao tác này",
    "not_allowed_in_state": "Không thể thực hiện việc này ở bước hiện tại của hồ sơ",
    "value_conflict": "Giá trị gửi lên không phù hợp với hồ sơ ở bước hiện tại",
    "idempotency_key_in_use": "Một yêu cầu cùng khóa Idempotency-Key đang được xử lý",
    "version_mismatch": "Hồ sơ đã thay đổi kể từ khi bạn đọc; vui lòng tải lại hồ sơ",
    "too_large": "Tệp hoặc nội dung gửi lên quá lớn",
    "unsupported_type": "Chỉ nhận tệp PDF, DOCX, XLSX, PNG hoặc JPEG",
    "precondition_required": "Yêu cầu này cần phiên bản hồ sơ đã đọc (If-Match)",
    "too_many_requests": "Quá nhiều lần xác thực không thành công; vui lòng thử lại sau",
    "workflow_unavailable": "Máy chủ chưa nạp phiên bản quy trình của hồ sơ này",
    "storage_unavailable": "Kho lưu trữ tài liệu tạm thời không phản hồi",
    "method_not_allowed": "Phương thức không được hỗ trợ",
    "bad_request": "Yêu cầu không hợp lệ",
    "not_acceptable": "Không có định dạng phù hợp",
    "internal": "Lỗi hệ thống",
    "unavailable": "Dịch vụ tạm thời không sẵn sàng",
}


def message(code: str, english: str, details: Any, lang: Lang) -> str:
    if lang == "en" or code not in VI:
        return english
    text = VI[code]
    said = False
    if isinstance(details, dict):
        if code == "version_mismatch" and "current_version" in details:
            text += f" (phiên bản hiện tại: {details['current_version']})"
            said = True
        missing = details.get("missing")
        if isinstance(missing, list) and missing:
            names = [str(m.get("label") or m.get("name")) for m in missing if isinstance(m, dict)]
            text += ". Còn thiếu: " + "; ".join(names)
            said = True
    if code == "invalid" and isinstance(details, list):
        fields = [str(d.get("field")) for d in details if isinstance(d, dict) and d.get("field")]
        if fields:
            text += ": " + ", ".join(fields)
            said = True
    if not said and english and code not in GENERIC:
        text += f" ({english})"
    return text


# Codes whose English says nothing beyond the Vietnamese (or nothing to show: a 500).
GENERIC = frozenset({"internal", "unauthenticated", "csrf_refused", "password_change_required"})
