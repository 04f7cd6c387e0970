"""Answering a consultation changes the case (what `close_consultation` lacks): it moves the
case's version and ETag, and like every other change of a case it needs `If-Match`."""

from typing import Any

from tests.factories import Api, error_details


def consultation_of(api: Api, case_id: str, who: str) -> dict[str, Any]:
    (mine,) = api.consultations(case_id, who)
    return mine


def awaited(case: dict[str, Any]) -> set[str]:
    (close,) = [a for a in case["allowed_actions"] if a["action"] == "close_consultation"]
    return {m["name"] for m in close["missing"] if m["kind"] == "consultation"}


class TestAnswerMovesTheVersion:
    def test_answering_moves_the_version_and_the_etag(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        before = api.read(case["id"], "ministry")
        assert awaited(before) == {"mpi", "mof"}

        mine = consultation_of(api, case["id"], "mpi")
        response = api.answer(case["id"], mine["id"], "mpi", version=before["version"])

        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == f'"{before["version"] + 1}"'
        read = api.client.get(f"/api/v1/cases/{case['id']}", headers=api.headers("ministry"))
        assert read.headers["ETag"] == response.headers["ETag"]
        assert read.json()["version"] == before["version"] + 1
        assert awaited(read.json()) == {"mof"}

    def test_a_change_made_with_the_etag_from_before_the_answer_is_412(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        held = api.read(case["id"], "ministry")["version"]
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        mine = consultation_of(api, case["id"], "mpi")
        assert api.answer(case["id"], mine["id"], "mpi").status_code == 200
        # The Ministry acts on the version it read before the opinion and the answer came in.
        response = api.fire(case["id"], "close_consultation", "ministry", held)
        details = error_details(response, 412, "version_mismatch")
        assert details["current_version"] == held + 2

    def test_the_answer_event_names_the_new_version(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        response = api.answer(case["id"], consultation_of(api, case["id"], "mpi")["id"], "mpi")
        event = api.events(case["id"])[-1]
        assert event["type"] == "consultation.answered"
        assert f'"{event["data"]["version"]}"' == response.headers["ETag"]


class TestAnswerNeedsIfMatch:
    def test_an_answer_without_if_match_is_428_and_changes_nothing(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        before = api.snapshot(case["id"])
        response = api.answer(
            case["id"], consultation_of(api, case["id"], "mpi")["id"], "mpi", if_match=False
        )
        error_details(response, 428, "precondition_required")
        assert api.snapshot(case["id"]) == before
        assert consultation_of(api, case["id"], "mpi")["answered_at"] is None

    def test_an_answer_with_a_stale_if_match_is_412_and_changes_nothing(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        read_before_upload = api.read(case["id"], "mpi")["version"]
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        before = api.snapshot(case["id"])
        response = api.answer(
            case["id"],
            consultation_of(api, case["id"], "mpi")["id"],
            "mpi",
            version=read_before_upload,
        )
        details = error_details(response, 412, "version_mismatch")
        assert details == {"current_version": read_before_upload + 1}
        assert api.snapshot(case["id"]) == before

    def test_two_answers_sent_from_one_version_cannot_both_count(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        for who in ("mpi", "mof"):
            assert api.upload(case["id"], "ministry_opinion", who).status_code == 201
        version = api.read(case["id"])["version"]
        first = api.answer(
            case["id"], consultation_of(api, case["id"], "mpi")["id"], "mpi", version=version
        )
        second = api.answer(
            case["id"], consultation_of(api, case["id"], "mof")["id"], "mof", version=version
        )
        assert first.status_code == 200, first.text
        error_details(second, 412, "version_mismatch")

    def test_the_answer_operation_declares_the_if_match_header(self, api: Api) -> None:
        operation = api.client.get("/openapi.json").json()["paths"][
            "/api/v1/cases/{case_id}/consultations/{consultation_id}/answer"
        ]["post"]
        assert "if-match" in {
            p["name"].lower() for p in operation["parameters"] if p["in"] == "header"
        }
