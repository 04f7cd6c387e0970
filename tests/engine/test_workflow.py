"""The loaded workflow as the running service uses it: one machine, `@return` through the API."""

import pytest
from transitions import Machine

from app.context import AppContext
from app.engine.workflow import Workflow
from tests.factories import Api

KEY = "qtsc-chain-admission"


class TestOneMachinePerWorkflowVersion:
    def test_requests_reuse_the_machine_built_at_start_up(
        self, api: Api, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        workflow = ctx.workflows.get(KEY, 1)
        machine = workflow.machine
        built: list[Workflow] = []
        original = Workflow._build_machine

        def counting(self: Workflow) -> Machine:
            built.append(self)
            return original(self)

        monkeypatch.setattr(Workflow, "_build_machine", counting)

        case = api.case_in_council_review()
        api.advance(case["id"], "request_supplement", "council", reason="Thiếu bản đồ")
        api.advance(case["id"], "resubmit", "applicant")
        api.read(case["id"], "applicant")

        assert built == []
        assert ctx.workflows.get(KEY, 1) is workflow
        assert ctx.workflows.get(KEY, 1).machine is machine
        # Cases are never attached to the shared machine.
        assert machine.models == []


class TestReturnToTheRequestingState:
    @pytest.mark.parametrize(
        ("asked_by", "origin"), [("council", "council_review"), ("ministry", "ministry_appraisal")]
    )
    def test_resubmit_goes_back_to_whoever_asked_for_the_supplement(
        self, api: Api, asked_by: str, origin: str
    ) -> None:
        case = api.case_awaiting_supplement(asked_by)
        assert case["state"] == "supplement_requested"
        resubmit = next(a for a in case_actions(api, case["id"]) if a["action"] == "resubmit")
        assert resubmit["dest"] == origin
        case = api.advance(case["id"], "resubmit", "applicant")
        assert case["state"] == origin

    def test_two_cases_asked_by_different_roles_return_to_their_own_origin(self, api: Api) -> None:
        by_council = api.case_awaiting_supplement("council")
        by_ministry = api.case_awaiting_supplement("ministry")
        # Interleaved on the one shared machine: neither sees the other's origin.
        assert api.advance(by_ministry["id"], "resubmit", "applicant")["state"] == (
            "ministry_appraisal"
        )
        assert api.advance(by_council["id"], "resubmit", "applicant")["state"] == "council_review"

    def test_the_supplement_round_trip_is_in_the_history(self, api: Api) -> None:
        case = api.case_awaiting_supplement("ministry")
        api.advance(case["id"], "resubmit", "applicant")
        last = api.history(case["id"])[-1]
        assert (last["action"], last["from_state"], last["to_state"]) == (
            "resubmit",
            "supplement_requested",
            "ministry_appraisal",
        )


def case_actions(api: Api, case_id: str) -> list[dict[str, object]]:
    return api.read(case_id, "applicant")["allowed_actions"]
