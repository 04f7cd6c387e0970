"""Dossier codes `<agency>-<yymmdd>-<daily sequence>`: issued on submission, never reused."""

import re
from datetime import UTC, datetime

import pytest

from app.context import AppContext
from tests.factories import Api, Clock

# 20:00 UTC on 13 March is 03:00 on 14 March in Hà Nội: the code follows the Vietnamese date.
EVENING_UTC = datetime(2026, 3, 13, 20, 0, tzinfo=UTC)


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ctx.clock = Clock(EVENING_UTC)
    return ctx.clock


class TestDossierCode:
    def test_a_draft_has_no_code_and_submission_issues_the_first_of_the_day(
        self, api: Api, clock: Clock
    ) -> None:
        assert api.create_case()["code"] is None
        case = api.submitted_case()
        assert case["code"] == "QTSC-260314-0001"
        assert re.fullmatch(r"QTSC-\d{6}-\d{4}", case["code"])

    def test_codes_increase_within_a_day(self, api: Api, clock: Clock) -> None:
        codes = [api.submitted_case()["code"] for _ in range(3)]
        assert codes == ["QTSC-260314-0001", "QTSC-260314-0002", "QTSC-260314-0003"]

    def test_a_new_day_starts_again_at_one_without_reusing_a_code(
        self, api: Api, clock: Clock
    ) -> None:
        first = api.submitted_case()["code"]
        clock.advance(days=1)
        second = api.submitted_case()["code"]
        assert (first, second) == ("QTSC-260314-0001", "QTSC-260315-0001")

    def test_a_number_is_not_given_again_once_its_case_left(self, api: Api, clock: Clock) -> None:
        refused = api.submitted_case()
        api.advance(refused["id"], "refuse_intake", "council", reason="Không thuộc đối tượng")
        assert api.submitted_case()["code"] == "QTSC-260314-0002"

    def test_the_code_is_recorded_in_the_submission_history_and_kept_afterwards(
        self, api: Api, clock: Clock
    ) -> None:
        case = api.case_in_ministry_appraisal()
        assert case["code"] == "QTSC-260314-0001"
        submit = next(e for e in api.history(case["id"]) if e["action"] == "submit")
        assert submit["fields"]["code"] == case["code"]

    def test_the_code_finds_the_case(self, api: Api, clock: Clock) -> None:
        api.create_case()
        case = api.submitted_case()
        found = api.list_cases(q=case["code"].lower()).json()["items"]
        assert [c["id"] for c in found] == [case["id"]]
