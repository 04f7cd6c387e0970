"""An upload changes the case: it answers the case's next version as its ETag, and a client
may send the version it read (`If-Match`, optional here) to be refused when it is stale."""

from app.context import AppContext
from tests.documents.conftest import nothing_stored
from tests.factories import Api, error_details


class TestUploadIfMatch:
    def test_an_upload_answers_the_case_s_new_etag(self, api: Api) -> None:
        case = api.create_case()
        response = api.upload(case["id"], "provincial_proposal")
        assert response.status_code == 201, response.text
        read = api.client.get(f"/api/v1/cases/{case['id']}", headers=api.headers("applicant"))
        assert read.json()["version"] == case["version"] + 1
        assert response.headers["ETag"] == read.headers["ETag"] == f'"{case["version"] + 1}"'

    def test_an_upload_with_the_version_read_is_accepted(self, api: Api) -> None:
        case = api.create_case()
        response = api.upload(case["id"], "provincial_proposal", version=case["version"])
        assert response.status_code == 201, response.text
        assert response.headers["ETag"] == f'"{case["version"] + 1}"'

    def test_an_upload_with_a_stale_if_match_is_412_and_stores_nothing(
        self, api: Api, ctx: AppContext
    ) -> None:
        case = api.create_case()
        assert api.upload(case["id"], "provincial_proposal").status_code == 201
        before = api.snapshot(case["id"])
        with nothing_stored(ctx):
            response = api.upload(case["id"], "site_documents", version=case["version"])
            details = error_details(response, 412, "version_mismatch")
        assert details == {"current_version": case["version"] + 1}
        assert api.snapshot(case["id"]) == before

    def test_an_unreadable_if_match_is_malformed_input(self, api: Api) -> None:
        case = api.create_case()
        response = api.client.post(
            f"/api/v1/cases/{case['id']}/documents",
            data={"doc_type": "site_documents"},
            files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n")},
            headers={**api.headers("applicant"), "If-Match": "*"},
        )
        assert error_details(response, 422, "invalid") == [
            {"field": "header.if-match", "problem": "malformed"}
        ]
        assert api.read(case["id"])["version"] == case["version"]

    def test_the_upload_operation_declares_the_if_match_header(self, api: Api) -> None:
        operation = api.client.get("/openapi.json").json()["paths"][
            "/api/v1/cases/{case_id}/documents"
        ]["post"]
        assert "if-match" in {
            p["name"].lower() for p in operation["parameters"] if p["in"] == "header"
        }

    def test_a_malformed_form_is_422_before_its_if_match_is_read(self, api: Api) -> None:
        case = api.create_case()
        response = api.client.post(
            f"/api/v1/cases/{case['id']}/documents",
            data={"kind": "site_documents"},
            files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n")},
            headers={**api.headers("applicant"), "If-Match": "null"},
        )
        error_details(response, 422, "invalid")
