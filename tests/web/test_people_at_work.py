"""People at work, in a real headless Chromium (Debian's package, driven by Playwright): one
admission from draft to member done only through the browser by six officials of six
organisations, each signing in with e-mail and password; and the refusals a browser meets
(a stale page, a change without the CSRF token, a disabled account, repeated wrong passwords).

Screenshots are saved under `test-artifacts/<database>/people-*.png`.
"""

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from app.auth.users import disable_user
from app.context import AppContext
from app.core.db import unit_of_work
from tests.auth.people import PASSWORD, make_user
from tests.factories import Api, pdf_bytes
from tests.web.test_browser import ARGS, CHROMIUM, shot

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)"
)

# who -> (organisation, role, e-mail, display name)
PEOPLE = {
    "province": ("hau-giang", "applicant", "ngoc.tt@hau-giang.example", "Trương Thị Ngọc"),
    "council": ("hdqlc", "council", "lan.nt@hdqlc.example", "Nguyễn Thị Lan"),
    "mic": ("mic", "ministry", "tuan.lm@mic.example", "Lê Minh Tuấn"),
    "mpi": ("mpi", "consulted", "vinh.dq@mpi.example", "Đỗ Quang Vinh"),
    "mof": ("mof", "consulted", "mai.vt@mof.example", "Vũ Thị Mai"),
    "government": ("vpcp", "government", "huong.bt@vpcp.example", "Bùi Thị Hương"),
}
OWN_PASSWORD = "mật khẩu riêng của Ngọc 2026"


@pytest.fixture
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def people(api: Api, ctx: AppContext) -> dict[str, str]:
    """The six officials; the province's has a one-time password (returned), the others
    `PASSWORD`."""
    passwords = {}
    for who, (org, role, email, name) in PEOPLE.items():
        one_time = who == "province"
        passwords[who] = make_user(
            ctx, org=org, role=role, email=email, name=name, password=None if one_time else PASSWORD
        )
    return passwords


class Person:
    """One official's own browser (cookies of their own), signed in through the form."""

    def __init__(self, browser: Any, url: str, who: str, password: str) -> None:
        self.url = url
        self.who = who
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="vi-VN", accept_downloads=True
        )
        self.page = self.context.new_page()
        self.page.goto(url + "/signin")
        self.page.get_by_label("Thư điện tử").fill(PEOPLE[who][2])
        self.page.get_by_label("Mật khẩu", exact=True).fill(password)
        self.page.get_by_role("button", name="Đăng nhập").click()

    def open_from_work(self, case_id: str) -> None:
        """Find the dossier in the work queue and open it."""
        self.page.goto(self.url + "/work")
        self.page.locator(f'li.work-item[data-case="{case_id}"] a').click()
        self.page.wait_for_url(f"{self.url}/cases/{case_id}")

    def upload(self, doc_type: str, tmp: Path) -> None:
        path = tmp / f"{doc_type}.pdf"
        path.write_bytes(pdf_bytes(doc_type))
        form = self.page.locator(f'form.upload[data-upload="{doc_type}"]')
        form.locator("input[type=file]").set_input_files(str(path))
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()
        playwright_sync.expect(self.page.locator("#panel-message")).to_have_text("Đã thực hiện.")

    def act(self, action: str, **fields: Any) -> None:
        self.unfold(action)
        form = self.page.locator(f'form.action[data-action="{action}"]')
        for name, value in fields.items():
            if isinstance(value, list):
                for item in value:
                    form.locator(f'input[name="{name}"][value="{item}"]').check()
            else:
                form.locator(f'[name="{name}"]').fill(value)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()
        playwright_sync.expect(self.page.locator("#panel-message")).to_have_text("Đã thực hiện.")

    def unfold(self, action: str) -> None:
        details = self.page.locator(f'details[data-action="{action}"]')
        if details.get_attribute("open") is None:
            details.locator("summary").click()

    def answer(self, verdict: str, comment: str) -> None:
        form = self.page.locator("form#answer")
        form.locator(f'input[name="verdict"][value="{verdict}"]').check()
        form.locator("textarea").fill(comment)
        with self.page.expect_navigation():
            form.locator("button[type=submit]").click()

    def state(self) -> Any:
        return self.page.locator("#case-state")

    def close(self) -> None:
        self.context.close()


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


SUBMIT_DOCUMENTS = (
    "provincial_proposal",
    "membership_scheme",
    "establishment_decision",
    "site_documents",
    "planning_conformity",
    "investment_plan",
)


class TestOneAdmissionByPeople:
    def test_six_officials_take_a_dossier_from_draft_to_member_in_the_browser(
        self,
        browser: Any,
        api: Api,
        ctx: AppContext,
        people: dict[str, str],
        tmp_path: Path,
    ) -> None:
        expect = playwright_sync.expect
        today = date.today().isoformat()
        with serve_app(ctx) as url:
            # The province official signs in with the one-time password, chooses their own.
            province = Person(browser, url, "province", people["province"])
            page = province.page
            page.wait_for_url(url + "/password")
            page.get_by_label("Mật khẩu hiện tại").fill(people["province"])
            page.get_by_label("Mật khẩu mới", exact=True).fill(OWN_PASSWORD)
            page.get_by_label("Nhập lại mật khẩu mới").fill(OWN_PASSWORD)
            shot(page, ctx, "people-01-province-new-password")
            page.get_by_role("button", name="Đổi mật khẩu").click()
            page.wait_for_url(url + "/work")
            expect(page.locator("#who-name")).to_have_text("Trương Thị Ngọc")

            # A new dossier from the work page, then the six documents, then submit.
            page.get_by_label("Tên đơn vị đề nghị kết nạp").fill("Khu Công nghệ số tỉnh Hậu Giang")
            page.get_by_label("Loại hình").select_option("digital_technology_zone")
            page.get_by_label("Diện tích (m²)").fill("280000")
            page.get_by_role("button", name="Tạo hồ sơ mới").click()
            page.wait_for_url(f"{url}/cases/*")
            case_id = page.url.rsplit("/", 1)[1]
            expect(province.state()).to_have_text("Đang soạn hồ sơ")
            submit = page.locator('form.action[data-action="submit"]')
            expect(submit.locator(".missing")).to_contain_text("Tờ trình của UBND tỉnh")
            expect(submit.locator("button")).to_be_disabled()
            shot(page, ctx, "people-02-province-draft")
            for doc_type in SUBMIT_DOCUMENTS:
                province.upload(doc_type, tmp_path)
            expect(submit.locator(".missing")).to_have_count(0)
            province.act("submit", comment="Đề nghị HĐQLC xem xét")
            expect(province.state()).to_have_text("Đã nộp, chờ tiếp nhận")
            shot(page, ctx, "people-03-province-submitted")

            # The Council secretary finds it in the work queue, accepts it, downloads the receipt.
            council = Person(browser, url, "council", people["council"])
            council.page.wait_for_url(url + "/work")
            expect(council.page.locator(f'li.work-item[data-case="{case_id}"]')).to_be_visible()
            shot(council.page, ctx, "people-04-council-work-queue")
            council.open_from_work(case_id)
            council.act("accept")
            expect(council.state()).to_have_text("HĐQLC thẩm tra hồ sơ")
            receipt_link = council.page.locator("#letters li.newest a")
            with council.page.expect_download() as download:
                receipt_link.click()
            receipt = Path(download.value.path()).read_bytes()
            assert "NGƯỜI TIẾP NHẬN HỒ SƠ Nguyễn Thị Lan" in pdf_text(receipt)
            shot(council.page, ctx, "people-05-council-accepted-receipt")
            council.upload("council_proposal", tmp_path)
            council.act("propose_to_ministry")
            expect(council.state()).to_have_text("Bộ TT&TT thẩm định")

            # The MIC appraiser consults two ministries.
            mic = Person(browser, url, "mic", people["mic"])
            mic.open_from_work(case_id)
            mic.act("open_consultation", ministries=["mpi", "mof"])
            expect(mic.state()).to_have_text("Lấy ý kiến các Bộ, ngành")
            shot(mic.page, ctx, "people-06-mic-consultation-opened")

            # Each consulted ministry files its opinion and answers.
            for who, verdict, comment in (
                ("mpi", "agree", "Phù hợp quy hoạch"),
                ("mof", "agree_with_conditions", "Cân đối vốn ngân sách địa phương"),
            ):
                ministry = Person(browser, url, who, people[who])
                ministry.open_from_work(case_id)
                expect(ministry.page.locator("form#answer button")).to_be_disabled()
                ministry.upload("ministry_opinion", tmp_path)
                ministry.answer(verdict, comment)
                if who == "mpi":
                    shot(ministry.page, ctx, "people-07-mpi-answered")
                ministry.page.goto(url + "/work")
                expect(ministry.page.locator("#work-empty")).to_be_visible()
                ministry.close()

            # The appraiser closes the consultation and submits to the Prime Minister.
            mic.page.reload()
            mic.act("close_consultation")
            expect(mic.state()).to_have_text("Bộ TT&TT thẩm định")
            mic.upload("appraisal_report", tmp_path)
            mic.upload("pm_submission", tmp_path)
            mic.act("submit_to_pm")
            expect(mic.state()).to_have_text("Trình Thủ tướng Chính phủ")

            # The Government Office clerk records the approval.
            government = Person(browser, url, "government", people["government"])
            government.open_from_work(case_id)
            government.upload("pm_decision", tmp_path)
            government.act("approve", decision_number="123/QĐ-TTg", decision_date=today)
            expect(government.state()).to_have_text("Đã phê duyệt, hoàn thiện tổ chức")
            shot(government.page, ctx, "people-08-government-approved")

            # The province files its decision on the unit's organisation: a member.
            province.open_from_work(case_id)
            province.upload("organisation_regulation", tmp_path)
            province.act("activate")
            expect(province.state()).to_have_text("Thành viên chính thức của Chuỗi")
            timeline = province.page.locator("#timeline")
            for _, _, _, name in PEOPLE.values():
                expect(timeline).to_contain_text(name)
            shot(province.page, ctx, "people-09-province-member-timeline")

            for person in (province, council, mic, government):
                person.close()

        history = api.client.get(
            f"/api/v1/cases/{case_id}/history", headers=api.headers("council")
        ).json()["items"]
        by_action = {e["action"]: e["actor"]["user"]["name"] for e in history if e["actor"]["user"]}
        assert by_action["submit"] == "Trương Thị Ngọc"
        assert by_action["accept"] == "Nguyễn Thị Lan"
        assert by_action["open_consultation"] == "Lê Minh Tuấn"
        assert by_action["approve"] == "Bùi Thị Hương"
        assert by_action["activate"] == "Trương Thị Ngọc"
        answers = {e["actor"]["org"]: e["actor"]["user"]["name"] for e in history
                   if e["action"] == "answer_consultation"}  # fmt: skip
        assert answers == {"mpi": "Đỗ Quang Vinh", "mof": "Vũ Thị Mai"}


class TestRefusals:
    def test_a_page_left_open_while_someone_else_acted_says_to_reload(
        self, browser: Any, api: Api, ctx: AppContext, people: dict[str, str]
    ) -> None:
        expect = playwright_sync.expect
        case = api.case_in_council_review()
        with serve_app(ctx) as url:
            council = Person(browser, url, "council", people["council"])
            council.page.goto(f"{url}/cases/{case['id']}")
            # Someone else acts meanwhile (here through the API).
            api.advance(case["id"], "request_supplement", "council", reason="Thiếu bản đồ")
            council.unfold("decline")
            form = council.page.locator('form.action[data-action="decline"]')
            form.locator('[name="reason"]').fill("Không đủ điều kiện")
            form.locator("button[type=submit]").click()
            # Refused (412), whether or not the live feed had already said so.
            expect(form.locator(".result")).to_have_text(
                "Hồ sơ này đã thay đổi kể từ khi bạn mở trang. Vui lòng tải lại trang rồi thử lại."
            )
            expect(form.locator("button[type=submit]")).to_be_disabled()
            expect(council.page.locator("#stale")).to_be_visible()
            expect(council.page.locator("#stale")).to_contain_text("Hồ sơ này đã thay đổi")
            shot(council.page, ctx, "people-10-stale-page")
            council.close()
        assert api.read(case["id"])["state"] == "supplement_requested"

    def test_a_change_without_the_csrf_token_is_refused(
        self, browser: Any, api: Api, ctx: AppContext, people: dict[str, str]
    ) -> None:
        case = api.case_in_council_review()
        with serve_app(ctx) as url:
            council = Person(browser, url, "council", people["council"])
            council.page.wait_for_url(url + "/work")
            status = council.page.evaluate(
                """async (id) => {
                    const r = await fetch('/api/v1/cases/' + id + '/transitions', {
                        method: 'POST', credentials: 'same-origin',
                        headers: {'Content-Type': 'application/json', 'If-Match': '"9"'},
                        body: JSON.stringify({action: 'decline', reason: 'x'})});
                    return [r.status, (await r.json()).error.code];
                }""",
                case["id"],
            )
            assert status == [403, "csrf_refused"]
            council.close()
        assert api.read(case["id"])["state"] == "council_review"

    def test_a_disabled_official_s_open_session_is_refused_at_the_next_request(
        self, browser: Any, api: Api, ctx: AppContext, people: dict[str, str]
    ) -> None:
        with serve_app(ctx) as url:
            council = Person(browser, url, "council", people["council"])
            council.page.wait_for_url(url + "/work")
            with unit_of_work(ctx.engine) as session:
                disable_user(session, PEOPLE["council"][2])
            council.page.reload()
            council.page.wait_for_url(url + "/signin")
            council.close()

    def test_repeated_wrong_passwords_are_throttled(
        self, browser: Any, api: Api, ctx: AppContext, people: dict[str, str]
    ) -> None:
        expect = playwright_sync.expect
        with serve_app(ctx) as url:
            for _ in range(5):
                intruder = Person(browser, url, "council", "a wrong password 1")
                expect(intruder.page.get_by_role("alert")).to_have_text(
                    "Thư điện tử, mật khẩu hoặc mã xác thực không đúng."
                )
                intruder.close()
            council = Person(browser, url, "council", people["council"])
            expect(council.page.get_by_role("alert")).to_have_text(
                "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút."
            )
            shot(council.page, ctx, "people-11-throttled")
            council.close()


def serve_app(ctx: AppContext) -> Any:
    from tests.live import serve

    return serve(ctx)
