"""Error messages and `missing` entries in the caller's language (Vietnamese by default)."""

from typing import Any

import pytest

from app.core.i18n import negotiate
from tests.factories import Api


def submit(api: Api, case: dict[str, Any], language: str | None) -> Any:
    headers = api.headers("applicant", case["version"])
    if language is not None:
        headers["Accept-Language"] = language
    return api.client.post(
        f"/api/v1/cases/{case['id']}/transitions", json={"action": "submit"}, headers=headers
    )


class TestNegotiation:
    @pytest.mark.parametrize(
        ("header", "lang"),
        [
            (None, "vi"),
            ("", "vi"),
            ("en", "en"),
            ("en-GB,en;q=0.9", "en"),
            ("fr-FR,fr;q=0.9", "vi"),
            ("vi-VN,vi;q=0.9,en;q=0.8", "vi"),
            ("en;q=0.5,vi;q=0.8", "vi"),
            ("de,en;q=0.3", "en"),
            ("en;q=0", "vi"),
        ],
    )
    def test_vietnamese_unless_english_is_preferred(self, header: str | None, lang: str) -> None:
        assert negotiate(header) == lang


class TestErrors:
    def test_missing_documents_are_named_by_their_label_in_vietnamese_by_default(
        self, api: Api
    ) -> None:
        case = api.create_case()
        error = submit(api, case, None).json()["error"]
        assert error["code"] == "requirements_missing"
        assert error["message"].startswith("Hồ sơ chưa đủ điều kiện để thực hiện thao tác này")
        assert "Tờ trình của UBND tỉnh đề nghị kết nạp vào Chuỗi" in error["message"]
        first = error["details"]["missing"][0]
        assert first == {
            "kind": "document",
            "name": "provincial_proposal",
            "label": "Tờ trình của UBND tỉnh đề nghị kết nạp vào Chuỗi",
        }

    def test_in_english_on_request(self, api: Api) -> None:
        case = api.create_case()
        error = submit(api, case, "en-US,en;q=0.9").json()["error"]
        assert error["message"] == "'submit' needs more before it can be done"
        assert error["details"]["missing"][0]["label"] == (
            "Provincial People's Committee proposal to join the Chain"
        )

    def test_a_stale_version_says_so_with_the_current_version(self, api: Api) -> None:
        case = api.create_case()
        stale = {**case, "version": case["version"] + 5}
        error = submit(api, stale, None).json()["error"]
        assert error["code"] == "version_mismatch"
        assert error["message"] == (
            f"Hồ sơ đã thay đổi kể từ khi bạn đọc; vui lòng tải lại hồ sơ "
            f"(phiên bản hiện tại: {case['version']})"
        )

    def test_invalid_input_names_the_fields(self, api: Api) -> None:
        response = api.client.post(
            "/api/v1/cases", json={"unit_kind": "castle"}, headers=api.headers("applicant")
        )
        message = response.json()["error"]["message"]
        assert message.startswith("Dữ liệu gửi lên không hợp lệ: ")
        assert "unit_kind" in message


class TestCaseReads:
    def test_what_an_action_lacks_is_labelled_in_the_reader_s_language(self, api: Api) -> None:
        case = api.create_case()
        path = f"/api/v1/cases/{case['id']}"
        for language, expected in (
            ("vi", "Đề án tham gia Chuỗi"),
            ("en", "Membership scheme"),
            ("vi", "Đề án tham gia Chuỗi"),  # each language kept apart
        ):
            body = api.client.get(
                path, headers={**api.headers("applicant"), "Accept-Language": language}
            ).json()
            submit_action = next(a for a in body["allowed_actions"] if a["action"] == "submit")
            labels = {m["name"]: m["label"] for m in submit_action["missing"]}
            assert labels["membership_scheme"] == expected
