"""The dashboard's pages through the app: sign-in, cookie rules, headers, languages."""

from datetime import UTC, datetime

import pytest

from app.context import AppContext
from tests.auth.people import PASSWORD, sign_in_as
from tests.factories import Api, Clock


def signed_in(api: Api, who: str = "council") -> str:
    return sign_in_as(api, who)


class TestSignIn:
    def test_without_a_session_the_board_sends_you_to_sign_in(self, api: Api) -> None:
        response = api.client.get("/", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/signin"
        page = api.client.get("/signin")
        assert page.status_code == 200
        assert '<label for="email">Thư điện tử</label>' in page.text
        assert '<label for="password">Mật khẩu</label>' in page.text

    def test_a_sign_in_posted_from_another_site_is_refused(self, api: Api) -> None:
        signed_in(api)
        api.client.cookies.clear()
        response = api.client.post(
            "/signin",
            data={"email": "council@hdqlc.example", "password": PASSWORD},
            headers={"Origin": "https://evil.example"},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert "set-cookie" not in response.headers

    def test_signing_out_clears_the_cookie(self, api: Api) -> None:
        csrf = signed_in(api)
        api.client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
        assert api.client.get("/", follow_redirects=False).status_code == 303

    def test_signing_out_without_the_csrf_token_is_refused(self, api: Api) -> None:
        signed_in(api)
        assert api.client.post("/signout", follow_redirects=False).status_code == 403
        assert api.client.get("/", follow_redirects=False).status_code == 200


class TestTheCookie:
    def test_it_authorises_the_page_s_reads_of_the_api(self, api: Api) -> None:
        api.create_case()
        signed_in(api)
        assert api.client.get("/api/v1/pipeline").status_code == 200
        assert api.client.get("/api/v1/events").status_code == 200

    def test_it_never_authorises_a_change_without_the_page_s_csrf_token(self, api: Api) -> None:
        signed_in(api, "applicant")
        response = api.client.post(
            "/api/v1/cases",
            json={"applicant_name": "X", "province": "Hậu Giang", "unit_kind": "software_park"},
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "csrf_refused"


class TestPages:
    def test_pages_carry_a_strict_content_security_policy(self, api: Api) -> None:
        signed_in(api)
        for path in ("/", "/signin"):
            csp = api.client.get(path).headers["content-security-policy"]
            assert "script-src 'self'" in csp
            assert "frame-ancestors 'none'" in csp
            assert "unsafe-inline" not in csp

    def test_the_board_is_vietnamese_by_default_and_english_on_request(self, api: Api) -> None:
        api.submitted_case()
        signed_in(api)
        page = api.client.get("/")
        assert '<html lang="vi">' in page.text
        assert "Đã nộp, chờ tiếp nhận" in page.text
        switched = api.client.post(
            "/lang", data={"lang": "en", "next": "/"}, follow_redirects=False
        )
        assert switched.headers["location"] == "/"
        page = api.client.get("/")
        assert '<html lang="en">' in page.text
        assert "Submitted, awaiting intake" in page.text

    def test_each_stage_shows_the_median_days_its_cases_have_waited(
        self, api: Api, ctx: AppContext
    ) -> None:
        ctx.clock = Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
        api.submitted_case()
        ctx.clock.advance(days=3)
        signed_in(api)
        page = api.client.get("/")
        column = page.text.split('data-state="submitted"')[1].split("</h3>")[0]
        assert 'title="Trung vị số ngày ở bước này">~3 ngày</span>' in column

    @pytest.mark.parametrize(
        "target",
        ["https://evil.example/", "//evil.example/", "javascript:1", "/\\evil.example/"],
    )
    def test_the_language_switch_only_returns_to_this_site(self, api: Api, target: str) -> None:
        response = api.client.post(
            "/lang", data={"lang": "en", "next": target}, follow_redirects=False
        )
        assert response.headers["location"] == "/"

    def test_an_applicant_cannot_open_another_province_s_case(self, api: Api) -> None:
        theirs = api.create_case("other_applicant", province="Tiền Giang")
        signed_in(api, "applicant")
        assert api.client.get(f"/cases/{theirs['id']}").status_code == 404
        assert theirs["applicant_name"] not in api.client.get("/").text

    def test_the_case_page_shows_timeline_checklist_and_diagram(self, api: Api) -> None:
        case = api.submitted_case()
        signed_in(api)
        page = api.client.get(f"/cases/{case['id']}").text
        assert "Nộp hồ sơ" in page
        assert 'data-doc-type="membership_scheme"' in page
        assert 'aria-current="step"' in page
        fragment = api.client.get(f"/fragments/cases/{case['id']}")
        assert fragment.status_code == 200
        assert "<html" not in fragment.text

    def test_the_timeline_shows_uploads_and_answers_each_ministry_only_its_own(
        self, api: Api
    ) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        for who, verdict in (("mpi", "agree"), ("mof", "disagree")):
            assert api.upload(case["id"], "ministry_opinion", who).status_code == 201
            (mine,) = api.consultations(case["id"], who)
            assert api.answer(case["id"], mine["id"], who, verdict).status_code == 200
        signed_in(api, "ministry")
        page = api.client.get(f"/cases/{case['id']}").text
        assert "Tải lên tài liệu" in page
        assert 'class="doc-type" data-doc-type="ministry_opinion"' in page
        assert 'data-verdict="agree"' in page
        assert 'data-verdict="disagree"' in page
        signed_in(api, "mpi")
        page = api.client.get(f"/cases/{case['id']}").text
        assert 'data-verdict="agree"' in page
        assert 'data-verdict="disagree"' not in page
        assert "mof (" not in page

    def test_fragments_need_a_session(self, api: Api) -> None:
        assert api.client.get("/fragments/board").status_code == 401
