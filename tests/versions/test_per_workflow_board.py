"""The pipeline and the board with cases of two workflows: states are counted per workflow,
never merged because two workflows name a state alike."""

from typing import Any

from tests.factories import Api

CHAIN = "qtsc-chain-admission"
ZONE = "concentrated-it-zone-recognition"


def zone_case(api: Api) -> dict[str, Any]:
    return api.create_case(
        applicant_name="Khu CNTT tập trung", unit_kind="concentrated_it_zone", workflow=ZONE
    )


def rows(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(s["workflow"], s["state"]): s for s in body["states"]}


class TestThePipeline:
    def test_two_workflows_drafts_are_counted_apart(self, api: Api) -> None:
        api.create_case()
        api.create_case()
        zone_case(api)
        body = api.pipeline().json()
        assert [w["key"] for w in body["workflows"]] == [CHAIN, ZONE]
        counted = rows(body)
        assert counted[CHAIN, "draft"]["count"] == 2
        assert counted[ZONE, "draft"]["count"] == 1
        assert counted[ZONE, "draft"]["label"]["en"] == "Province drafting"
        assert (ZONE, "council_review") not in counted
        assert (CHAIN, "council_review") in counted
        cases = {c["workflow"] for c in body["cases"]}
        assert cases == {CHAIN, ZONE}

    def test_with_one_workflow_in_use_only_its_states_are_listed(self, api: Api) -> None:
        api.create_case()
        body = api.pipeline().json()
        assert [w["key"] for w in body["workflows"]] == [CHAIN]
        assert {s["workflow"] for s in body["states"]} == {CHAIN}

    def test_the_workflow_filter_lists_that_workflow_s_states_even_when_empty(
        self, api: Api
    ) -> None:
        api.create_case()
        response = api.client.get(
            "/api/v1/pipeline", params={"workflow": ZONE}, headers=api.headers("council")
        )
        body = response.json()
        assert [w["key"] for w in body["workflows"]] == [ZONE]
        assert all(s["count"] == 0 for s in body["states"])
        assert "mic_review" in {s["state"] for s in body["states"]}


class TestTheBoard:
    def test_the_board_groups_columns_by_workflow_when_several_are_in_use(self, api: Api) -> None:
        api.create_case()
        zone_case(api)
        page = api.client.get("/", headers=api.headers("council"))
        assert page.status_code == 200, page.text
        assert f'data-workflow="{CHAIN}"' in page.text
        assert f'data-workflow="{ZONE}"' in page.text
        assert f'id="col-{ZONE}-draft"' in page.text
        assert f'id="col-{CHAIN}-draft"' in page.text
        assert "Công nhận khu công nghệ thông tin tập trung" in page.text
