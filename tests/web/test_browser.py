"""The dashboard in a real headless Chromium (Debian's package, driven by Playwright).

Screenshots are saved under `test-artifacts/` for a person to look at.
"""

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.context import AppContext
from tests.auth.people import PASSWORD, make_user
from tests.factories import CHAIN, Api, Clock
from tests.live import serve

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("ADMISSION_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Monday 2 March 2026, 09:00 in Hà Nội.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)"
)


@pytest.fixture
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def chain(api: Api, ctx: AppContext) -> dict[str, dict[str, Any]]:
    """A small Chain: cases in several states, one of them late."""
    ctx.clock = Clock(MONDAY)
    late = api.submitted_case()
    ctx.clock.advance(days=8)  # the submitted case is now past its intake deadline
    cases = {
        "late": late,
        "review": api.case_in_council_review(),
        "submitted": api.submitted_case(),
        "draft": api.create_case(
            "other_applicant", province="Tiền Giang", applicant_name="Công viên phần mềm Mekong"
        ),
    }
    api.advance(
        cases["review"]["id"], "request_supplement", "council", reason="Thiếu hồ sơ mặt bằng"
    )
    api.advance(cases["review"]["id"], "resubmit", "applicant", comment="Đã bổ sung")
    return cases


def shot(page: Any, ctx: AppContext, name: str) -> None:
    folder = ARTIFACTS / ctx.engine.dialect.name
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def sign_in(page: Any, url: str, email: str, password: str = PASSWORD, then: str = "/") -> None:
    page.goto(url + then)
    assert page.url.endswith("/signin")
    page.get_by_label("Thư điện tử").fill(email)
    page.get_by_label("Mật khẩu", exact=True).fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(url + "/work")  # a person lands on their work queue
    if then != "/work":
        page.goto(url + then)


def person(ctx: AppContext, who: str) -> str:
    """A person of `who`'s organisation and role; their e-mail."""
    slug, _, role = CHAIN[who]
    email = f"{who}@{slug}.example"
    make_user(ctx, org=slug, role=role, email=email, name=f"{who.title()} Official")
    return email


class TestDashboard:
    def test_board_case_page_live_update_and_english(
        self, browser: Any, api: Api, ctx: AppContext, chain: dict[str, dict[str, Any]]
    ) -> None:
        expect = playwright_sync.expect
        with serve(ctx) as url:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="vi-VN")
            sign_in(page, url, person(ctx, "council"))

            # The board, in Vietnamese, with the late case highlighted and listed first.
            expect(page.get_by_role("heading", level=1)).to_have_text("Bảng theo dõi hồ sơ")
            submitted = page.locator('section.column[data-state="submitted"]')
            expect(submitted.locator(".count")).to_have_text("2")
            first_card = submitted.locator("li.card").first
            expect(first_card).to_have_class("card overdue")
            expect(first_card).to_have_attribute("data-case", chain["late"]["id"])
            expect(page.locator("#count-late")).to_have_text("1")
            expect(page.locator(".late-list")).to_contain_text("Khu Công nghệ số tỉnh Hậu Giang")
            shot(page, ctx, "board-vi")

            # A case page: its timeline, checklist and diagram with the current state marked.
            page.locator(f'li.card[data-case="{chain["review"]["id"]}"] a').click()
            expect(page.locator("#case-state")).to_have_text("HĐQLC thẩm tra hồ sơ")
            timeline = page.locator("#timeline")
            expect(timeline).to_contain_text("Nộp hồ sơ")
            expect(timeline).to_contain_text("Yêu cầu bổ sung hồ sơ")
            expect(timeline).to_contain_text("Thiếu hồ sơ mặt bằng")
            expect(timeline).to_contain_text("hdqlc (HĐQLC)")
            expect(page.locator('li.doc[data-doc-type="provincial_proposal"]')).to_have_class(
                "doc present"
            )
            expect(page.locator('li.doc[data-doc-type="council_proposal"]')).to_have_class(
                "doc missing"
            )
            expect(page.locator('svg g.state[aria-current="step"]')).to_have_attribute(
                "data-state", "council_review"
            )
            shot(page, ctx, "case-vi")

            # The case page follows the case: a site visit recorded elsewhere shows up.
            page.evaluate("window.__not_reloaded = true")
            assert (
                api.upload(chain["review"]["id"], "site_visit_minutes", "council").status_code
                == 201
            )
            api.advance(
                chain["review"]["id"], "record_site_visit", "council", comment="Khảo sát 4/5"
            )
            expect(timeline).to_contain_text("Ghi nhận khảo sát thực tế")
            assert page.evaluate("window.__not_reloaded") is True

            # Back on the board, a transition fired through the API moves a card live.
            page.get_by_role("link", name="← Bảng theo dõi").click()
            expect(submitted.locator(".count")).to_have_text("2")
            page.evaluate("window.__not_reloaded = true")
            api.advance(chain["submitted"]["id"], "accept", "council")
            expect(submitted.locator(".count")).to_have_text("1", timeout=10_000)
            review = page.locator('section.column[data-state="council_review"]')
            expect(
                review.locator(f'li.card[data-case="{chain["submitted"]["id"]}"]')
            ).to_be_visible()
            assert page.evaluate("window.__not_reloaded") is True
            shot(page, ctx, "board-after-transition")

            # English by a switch; the choice sticks.
            page.locator("#switch-language").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Dossier board")
            expect(page.locator('section.column[data-state="submitted"] h3')).to_contain_text(
                "Submitted, awaiting intake"
            )
            shot(page, ctx, "board-en")
            page.locator(f'li.card[data-case="{chain["review"]["id"]}"] a').click()
            expect(page.locator("#case-state")).to_have_text("Council review")
            shot(page, ctx, "case-en")
            page.close()

            # A phone's width: columns stack, nothing needs a sideways scroll.
            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            sign_in(phone, url, person(ctx, "applicant"))
            expect(phone.get_by_role("heading", level=1)).to_have_text("Bảng theo dõi hồ sơ")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390
            shot(phone, ctx, "board-phone")
            phone.close()

    def test_a_wrong_password_is_refused_on_the_sign_in_page(
        self, browser: Any, api: Api, ctx: AppContext
    ) -> None:
        expect = playwright_sync.expect
        email = person(ctx, "council")
        with serve(ctx) as url:
            page = browser.new_page()
            page.goto(url + "/signin")
            page.get_by_label("Thư điện tử").fill(email)
            page.get_by_label("Mật khẩu", exact=True).fill("not the password")
            page.get_by_role("button", name="Đăng nhập").click()
            expect(page.get_by_role("alert")).to_have_text(
                "Thư điện tử, mật khẩu hoặc mã xác thực không đúng."
            )
            page.close()
