"""The work queue (`GET /api/v1/work`): what waits for the caller's organisation and role."""

from datetime import UTC, datetime
from typing import Any

from app.context import AppContext
from tests.auth.people import sign_in_as
from tests.factories import SUBMIT_DOCUMENTS, Api, Clock

MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def work(api: Api, who: str, **params: Any) -> dict[str, Any]:
    response = api.client.get("/api/v1/work", params=params, headers=api.headers(who))
    assert response.status_code == 200, response.text
    return response.json()


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["items"]]


class TestWhatWaits:
    def test_the_council_sees_what_it_must_act_on_overdue_first_then_by_due_date(
        self, api: Api, ctx: AppContext
    ) -> None:
        ctx.clock = Clock(MONDAY)
        late = api.submitted_case()
        ctx.clock.advance(days=8)  # past its intake deadline
        review = api.case_in_council_review()
        fresh = api.submitted_case()
        api.create_case()  # a draft waits for the applicant, not the council
        body = work(api, "council")
        assert ids(body) == [late["id"], fresh["id"], review["id"]]
        first = body["items"][0]
        assert first["overdue"] is True
        assert first["overdue_days"] > 0
        assert first["waiting_for"] == ["council"]
        assert {a["action"] for a in first["actions"]} >= {"accept", "refuse_intake"}
        propose = next(
            a for a in body["items"][2]["actions"] if a["action"] == "propose_to_ministry"
        )
        assert {"kind": "document", "name": "council_proposal"} in [
            {k: m[k] for k in ("kind", "name")} for m in propose["missing"]
        ]

    def test_an_applicant_sees_its_own_drafts_with_the_documents_still_missing(
        self, api: Api
    ) -> None:
        mine = api.create_case()
        api.create_case("other_applicant", province="Tiền Giang")
        api.upload(mine["id"], SUBMIT_DOCUMENTS[0])
        body = work(api, "applicant")
        assert ids(body) == [mine["id"]]
        (submit,) = [a for a in body["items"][0]["actions"] if a["action"] == "submit"]
        missing = [m["name"] for m in submit["missing"] if m["kind"] == "document"]
        assert missing == list(SUBMIT_DOCUMENTS[1:])

    def test_a_consulted_ministry_sees_the_case_until_it_has_answered(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        (answer,) = work(api, "mpi")["items"][0]["actions"]
        assert answer["action"] == "answer_consultation"
        assert answer["missing"][0]["name"] == "ministry_opinion"
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        (answer,) = work(api, "mpi")["items"][0]["actions"]
        assert answer["missing"] == []
        (mine,) = api.consultations(case["id"], "mpi")
        assert api.answer(case["id"], mine["id"], "mpi", "agree").status_code == 200
        assert work(api, "mpi")["items"] == []
        assert ids(work(api, "mof")) == [case["id"]]
        assert work(api, "ministry")["items"] == []  # the consultation is still running

    def test_the_queue_is_paged_with_a_cursor(self, api: Api) -> None:
        cases = [api.submitted_case()["id"] for _ in range(3)]
        first = work(api, "council", limit=2)
        assert len(first["items"]) == 2
        second = work(api, "council", limit=2, cursor=first["next_cursor"])
        assert ids(first) + ids(second) == cases
        assert second["next_cursor"] is None

    def test_a_viewer_has_nothing_to_do(self, api: Api) -> None:
        api.submitted_case()
        assert work(api, "viewer") == {"items": [], "next_cursor": None}


class TestThePage:
    def test_my_work_lists_the_cases_with_what_they_still_lack(self, api: Api) -> None:
        case = api.case_in_council_review()
        sign_in_as(api, "council")
        page = api.client.get("/work")
        assert page.status_code == 200
        assert "<h1>Việc cần xử lý</h1>" in page.text
        assert f'data-case="{case["id"]}"' in page.text
        assert "Văn bản đề xuất của HĐQLC gửi Bộ TT&amp;TT" in page.text
