"""The dashboard's own words in Vietnamese (the default) and English.

State and document labels come from the workflow file; these are the page's furniture,
the roles and the actions (the workflow file names actions but does not label them).
"""

from typing import Literal

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")

WORDS: dict[str, tuple[str, str]] = {
    "app_title": ("Kết nạp thành viên Chuỗi CVPM Quang Trung", "QTSC Chain admissions"),
    "board": ("Bảng theo dõi hồ sơ", "Dossier board"),
    "sign_in": ("Đăng nhập", "Sign in"),
    "sign_out": ("Đăng xuất", "Sign out"),
    "token": ("Mã truy cập (token)", "Access token"),
    "token_help": (
        "Dán mã do quản trị viên cấp (lệnh admission token create hoặc admission seed --demo).",
        "Paste the token issued to you (admission token create, or admission seed --demo).",
    ),
    "bad_token": ("Mã truy cập không hợp lệ.", "That token is not valid."),
    "signed_in_as": ("Đăng nhập với", "Signed in as"),
    "language": ("Ngôn ngữ", "Language"),
    "other_language": ("English", "Tiếng Việt"),
    "in_progress": ("Đang xử lý", "In progress"),
    "overdue": ("Quá hạn", "Overdue"),
    "closed": ("Đã kết thúc", "Closed"),
    "cases": ("hồ sơ", "dossiers"),
    "late_list": ("Hồ sơ quá hạn", "Late dossiers"),
    "nobody_late": ("Không có hồ sơ nào quá hạn.", "No dossier is late."),
    "due": ("Hạn", "Due"),
    "days_late": ("quá {n} ngày", "{n} days late"),
    "waiting_for": ("Chờ", "Waiting for"),
    "no_code": ("chưa có mã", "no code yet"),
    "empty_column": ("Không có hồ sơ", "No dossiers"),
    "median_days": ("Trung vị số ngày ở bước này", "Median days in this step"),
    "days_short": ("ngày", "d"),
    "live": ("Tự động cập nhật", "Updates live"),
    "live_updated": ("Đã cập nhật lúc", "Updated at"),
    "live_lost": ("Mất kết nối, đang thử lại…", "Connection lost, retrying…"),
    "back": ("← Bảng theo dõi", "← Board"),
    "state": ("Trạng thái", "State"),
    "province": ("Tỉnh, thành phố", "Province"),
    "code": ("Mã hồ sơ", "Dossier code"),
    "timeline": ("Diễn biến hồ sơ", "Timeline"),
    "who": ("Ai", "Who"),
    "when": ("Khi nào", "When"),
    "what": ("Việc gì", "What"),
    "reason": ("Lý do", "Reason"),
    "comment": ("Ghi chú", "Comment"),
    "decision": ("Quyết định", "Decision"),
    "documents": ("Danh mục tài liệu", "Documents checklist"),
    "present": ("Đã có", "Present"),
    "missing": ("Còn thiếu", "Missing"),
    "superseded": ("Đã thay thế", "Superseded"),
    "rejected": ("Bị từ chối", "Rejected"),
    "needed_by": ("Cần cho", "Needed by"),
    "uploaded": ("tải lên", "uploaded"),
    "diagram": ("Sơ đồ quy trình", "Workflow diagram"),
    "diagram_help": (
        "Ô viền đậm màu vàng là trạng thái hiện tại của hồ sơ.",
        "The box with the thick amber border is the dossier's current state.",
    ),
    "not_found": ("Không tìm thấy hồ sơ.", "No such dossier."),
    "workflow_unavailable": (
        "Chưa hiển thị được hồ sơ này: máy chủ chưa nạp phiên bản quy trình của hồ sơ",
        "This dossier cannot be shown yet: the server has not loaded its workflow version",
    ),
    "summary_total": ("Tổng số", "Total"),
    # Signing in, passwords.
    "email": ("Thư điện tử", "E-mail"),
    "password": ("Mật khẩu", "Password"),
    "totp_code": ("Mã xác thực (nếu có)", "Authentication code (if set up)"),
    "totp_help": (
        "Mã 6 số trong ứng dụng xác thực, hoặc một mã khôi phục.",
        "The 6-digit code of your authenticator app, or a recovery code.",
    ),
    "bad_credentials": (
        "Thư điện tử, mật khẩu hoặc mã xác thực không đúng.",
        "Wrong e-mail, password or code.",
    ),
    "signin_throttled": (
        "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.",
        "Too many failed sign-ins. Please try again in a few minutes.",
    ),
    "change_password": ("Đổi mật khẩu", "Change password"),
    "change_password_help": (
        "Mật khẩu dùng một lần phải được thay bằng mật khẩu của riêng bạn (ít nhất 12 ký tự).",
        "Replace the one-time password with your own (at least 12 characters).",
    ),
    "current_password": ("Mật khẩu hiện tại", "Current password"),
    "new_password": ("Mật khẩu mới", "New password"),
    "new_password_again": ("Nhập lại mật khẩu mới", "New password again"),
    "too_short": ("Mật khẩu phải có ít nhất 12 ký tự.", "A password has at least 12 characters."),
    "too_long": ("Mật khẩu quá dài.", "That password is too long."),
    "mismatch": ("Hai lần nhập mật khẩu mới không khớp.", "The two new passwords differ."),
    "wrong_current": ("Mật khẩu hiện tại không đúng.", "The current password is wrong."),
    "same_as_old": (
        "Mật khẩu mới phải khác mật khẩu cũ.",
        "The new password must differ from the old one.",
    ),
    "invalid": ("Dữ liệu không hợp lệ.", "Invalid input."),
    # The work queue.
    "my_work": ("Việc cần xử lý", "My work"),
    "my_work_help": (
        "Hồ sơ đang chờ đơn vị và vai trò của bạn xử lý: quá hạn trước, rồi theo hạn xử lý.",
        "Dossiers waiting for your organisation and role: overdue first, then by due date.",
    ),
    "nothing_to_do": ("Không có hồ sơ nào chờ bạn xử lý.", "Nothing is waiting for you."),
    "can_do": ("Có thể", "You can"),
    "still_missing": ("Còn thiếu", "Still missing"),
    "ready": ("Đủ điều kiện", "Ready"),
    # Acting from the case page.
    "actions": ("Xử lý hồ sơ", "Act on this dossier"),
    "no_actions": (
        "Bạn không có thao tác nào với hồ sơ ở bước này.",
        "You have nothing to do on this dossier at this step.",
    ),
    "send": ("Gửi", "Send"),
    "upload": ("Tải lên", "Upload"),
    "choose_file": ("Chọn hoặc kéo thả tệp", "Choose or drop a file"),
    "uploading": ("Đang tải lên…", "Uploading…"),
    "uploaded_ok": ("Đã tải lên.", "Uploaded."),
    "stale": (
        "Hồ sơ này đã thay đổi kể từ khi bạn mở trang. Vui lòng tải lại trang rồi thử lại.",
        "This dossier changed since you opened the page. Please reload the page and try again.",
    ),
    "reload": ("Tải lại trang", "Reload the page"),
    "done": ("Đã thực hiện.", "Done."),
    "decision_number": ("Số quyết định", "Decision number"),
    "decision_date": ("Ngày quyết định", "Decision date"),
    "ministries": ("Các Bộ, ngành được hỏi ý kiến", "Ministries to consult"),
    "new_due_date": ("Hạn mới (ngày làm việc)", "New due date (a working day)"),
    "supplement_documents": ("Tài liệu cần bổ sung", "Documents to supply"),
    "site_visit_date": ("Ngày khảo sát", "Site visit date"),
    "answer": ("Trả lời xin ý kiến", "Answer the consultation"),
    "verdict": ("Ý kiến", "Verdict"),
    "opinion_file": ("Văn bản góp ý", "Opinion document"),
    "review": ("Không chấp nhận tài liệu", "Mark not acceptable"),
    "rejection_reason": ("Lý do không chấp nhận", "Why it is not acceptable"),
    "letters": ("Văn bản đã phát hành", "Letters issued"),
    "download": ("Tải về", "Download"),
    "new_case": ("Tạo hồ sơ mới", "New dossier"),
    "applicant_name": ("Tên đơn vị đề nghị kết nạp", "Name of the unit applying"),
    "unit_kind": ("Loại hình", "Kind of unit"),
    "area_m2": ("Diện tích (m²)", "Area (m²)"),
    "address": ("Địa chỉ", "Address"),
    "investor": ("Nhà đầu tư", "Investor"),
    "kind_software_park": ("Công viên phần mềm", "Software park"),
    "kind_concentrated_it_zone": ("Khu CNTT tập trung", "Concentrated IT zone"),
    "kind_ict_centre": ("Trung tâm CNTT-TT", "ICT centre"),
    "kind_digital_technology_zone": ("Khu công nghệ số", "Digital technology zone"),
}

ROLES: dict[str, tuple[str, str]] = {
    "applicant": ("Tỉnh nộp hồ sơ", "Applicant province"),
    "council": ("HĐQLC", "Management Council"),
    "ministry": ("Bộ TT&TT", "Ministry (MIC)"),
    "consulted": ("Bộ, ngành được hỏi ý kiến", "Consulted ministries"),
    "government": ("Văn phòng Chính phủ", "Government Office"),
    "viewer": ("Người xem", "Viewer"),
    "admin": ("Quản trị", "Administrator"),
}

ACTIONS: dict[str, tuple[str, str]] = {
    "create": ("Tạo hồ sơ", "Created the dossier"),
    "imported": ("Nhập từ sổ theo dõi hồ sơ", "Imported from the register"),
    "edit": ("Sửa thông tin hồ sơ", "Edited the dossier"),
    "submit": ("Nộp hồ sơ", "Submitted"),
    "withdraw": ("Rút hồ sơ", "Withdrew"),
    "accept": ("Tiếp nhận hồ sơ", "Accepted at intake"),
    "refuse_intake": ("Không tiếp nhận", "Refused at intake"),
    "record_site_visit": ("Ghi nhận khảo sát thực tế", "Recorded a site visit"),
    "request_supplement": ("Yêu cầu bổ sung hồ sơ", "Requested a supplement"),
    "resubmit": ("Nộp lại hồ sơ đã bổ sung", "Resubmitted"),
    "propose_to_ministry": ("Đề xuất Bộ TT&TT", "Proposed to the Ministry"),
    "decline": ("Không đề xuất", "Declined to propose"),
    "open_consultation": ("Lấy ý kiến các Bộ, ngành", "Opened the consultation"),
    "close_consultation": ("Kết thúc lấy ý kiến", "Closed the consultation"),
    "submit_to_pm": ("Trình Thủ tướng", "Submitted to the Prime Minister"),
    "approve": ("Phê duyệt", "Approved"),
    "reject": ("Không phê duyệt", "Rejected"),
    "return_to_ministry": ("Trả lại Bộ TT&TT", "Returned to the Ministry"),
    "activate": ("Công nhận thành viên", "Activated as member"),
    "extend_deadline": ("Gia hạn", "Extended the deadline"),
    "upload_document": ("Tải lên tài liệu", "Uploaded a document"),
    "answer_consultation": ("Trả lời xin ý kiến", "Answered the consultation"),
    "extend_consultation": ("Gia hạn thời hạn góp ý của Bộ", "Extended a ministry's deadline"),
    "review_document": ("Không chấp nhận tài liệu", "Marked a document not acceptable"),
}

VERDICTS: dict[str, tuple[str, str]] = {
    "agree": ("Đồng ý", "Agrees"),
    "agree_with_conditions": ("Đồng ý có điều kiện", "Agrees with conditions"),
    "disagree": ("Không đồng ý", "Disagrees"),
}


def pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "vi" else pair[1]


class Words:
    """`t.key` in templates: the word in the page's language (the key itself if unknown)."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def __getattr__(self, key: str) -> str:
        pair = WORDS.get(key)
        return pick(pair, self.lang) if pair else key

    def get(self, key: str) -> str:
        pair = WORDS.get(key)
        return pick(pair, self.lang) if pair else key

    def role(self, name: str) -> str:
        pair = ROLES.get(name)
        return pick(pair, self.lang) if pair else name

    def verdict(self, name: str) -> str:
        pair = VERDICTS.get(name)
        return pick(pair, self.lang) if pair else name

    def action(self, name: str) -> str:
        pair = ACTIONS.get(name)
        return pick(pair, self.lang) if pair else name.replace("_", " ")
