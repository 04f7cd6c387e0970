"""The one registry of guards and effects, and the workflow validator that reads it.

No database: workflow definitions are built from small dicts or from broken copies of the
default file, and registries from throw-away functions.
"""

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from app.admission.registry import STEPS
from app.admission.steps import Firing, StepRegistry
from app.cases.schemas import TransitionRequest
from app.core.config import PROJECT_ROOT
from app.core.errors import WorkflowDefinitionError
from app.deadlines.clock import ClockState
from app.engine.definition import WorkflowDefinition
from app.engine.loader import load_file

DEFAULT_FILE = PROJECT_ROOT / "workflows" / "qtsc-chain-admission.v1.yaml"

EFFECTS = {
    "issue_dossier_code",
    "record_receipt",
    "open_consultations",
    "close_consultations",
    "pause_clock",
    "resume_clock",
    "extend_deadline",
    "issue_receipt",
    "issue_supplement_notice",
}
GUARDS = {"consultations_settled", "extension_available"}


def label(text: str) -> dict[str, str]:
    return {"vi": text, "en": text}


def small_workflow() -> dict[str, Any]:
    """Three states: a clock that a supplement request pauses (with its notice) and resumes."""
    return {
        "key": "small",
        "version": 1,
        "title": label("Small"),
        "initial": "review",
        "document_types": {
            "supplement_notice": {
                "label": label("Notice"),
                "uploaded_by": ["council"],
                "generated": True,
            },
        },
        "states": {
            "review": {"label": label("Review"), "deadline_working_days": 5},
            "waiting": {"label": label("Waiting")},
            "done": {"label": label("Done"), "terminal": True},
        },
        "transitions": [
            {
                "action": "ask",
                "source": "review",
                "dest": "waiting",
                "roles": ["council"],
                "fields": ["reason"],
                "optional_fields": ["supplement_documents"],
                "effects": ["pause_clock", "issue_supplement_notice"],
            },
            {
                "action": "answer",
                "source": "waiting",
                "dest": "review",
                "roles": ["applicant"],
                "effects": ["resume_clock"],
            },
            {"action": "finish", "source": "review", "dest": "done", "roles": ["council"]},
        ],
    }


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    return WorkflowDefinition.model_validate(data).check(STEPS.catalog())


class TestSmallDefinitions:
    def test_a_sound_definition_has_no_problem(self) -> None:
        assert problems(small_workflow()) == []

    def test_an_unknown_effect_or_guard_is_named_with_its_key(self) -> None:
        data = small_workflow()
        data["transitions"][2]["effects"] = ["send_fax"]
        data["transitions"][2]["guards"] = ["everyone_happy"]

        assert problems(data) == [
            ("transitions[2] (finish).guards", "unknown guard 'everyone_happy'"),
            ("transitions[2] (finish).effects", "unknown effect 'send_fax'"),
        ]

    def test_a_notice_listed_before_the_pause_that_hands_it_the_clock_is_refused(self) -> None:
        data = small_workflow()
        data["transitions"][0]["effects"] = ["issue_supplement_notice", "pause_clock"]

        assert problems(data) == [
            (
                "transitions[0] (ask).effects",
                "'issue_supplement_notice' needs 'clock' from an effect listed before it",
            )
        ]

    def test_only_effects_of_the_same_transition_hand_values_on(self) -> None:
        data = small_workflow()
        data["transitions"][0]["effects"] = ["pause_clock"]
        data["transitions"][1]["effects"] = ["resume_clock", "issue_supplement_notice"]
        data["transitions"][1]["fields"] = ["reason", "supplement_documents"]

        assert problems(data) == []  # resume_clock hands on a clock too
        data["transitions"][1]["effects"] = ["issue_supplement_notice"]
        assert problems(data) == [
            (
                "transitions[1] (answer).effects",
                "'issue_supplement_notice' needs 'clock' from an effect listed before it",
            )
        ]

    def test_an_effect_reading_a_field_the_transition_does_not_take_is_refused(self) -> None:
        data = small_workflow()
        del data["transitions"][0]["optional_fields"]

        assert problems(data) == [
            (
                "transitions[0] (ask).effects",
                "'issue_supplement_notice' reads field 'supplement_documents', not taken here",
            )
        ]

    def test_an_effect_whose_document_type_the_file_lacks_is_refused(self) -> None:
        data = small_workflow()
        data["document_types"] = {}

        assert problems(data) == [
            (
                "transitions[0] (ask).effects",
                "'issue_supplement_notice' needs document type 'supplement_notice' (or a "
                "generated type with letter: supplement_notice)",
            )
        ]


def index_of(data: dict[str, Any], action: str, source: str) -> int:
    for index, t in enumerate(data["transitions"]):
        sources = [t["source"]] if isinstance(t["source"], str) else t["source"]
        if t["action"] == action and source in sources:
            return index
    raise AssertionError(f"no transition {action} from {source}")


def broken_copy(
    tmp_path: Path, action: str, source: str, edit: Callable[[dict[str, Any]], None]
) -> tuple[Path, str]:
    """The default file with one transition edited, and the key that names that transition."""
    data = copy.deepcopy(yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8")))
    index = index_of(data, action, source)
    edit(data["transitions"][index])
    path = tmp_path / DEFAULT_FILE.name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, f"transitions[{index}] ({action})"


def refusal(path: Path) -> WorkflowDefinitionError:
    with pytest.raises(WorkflowDefinitionError) as refused:
        load_file(path, STEPS.catalog())
    return refused.value


class TestBrokenCopiesOfTheDefaultFile:
    def test_an_unmodified_copy_loads(self, tmp_path: Path) -> None:
        path, _ = broken_copy(tmp_path, "accept", "submitted", lambda t: None)
        assert load_file(path, STEPS.catalog()).key == "qtsc-chain-admission"

    def test_an_unknown_effect_is_refused_naming_the_file_the_key_and_the_reason(
        self, tmp_path: Path
    ) -> None:
        path, where = broken_copy(
            tmp_path, "accept", "submitted", lambda t: t["effects"].append("send_fax")
        )
        error = refusal(path)
        assert (error.source, error.key, error.problem) == (
            "qtsc-chain-admission.v1.yaml",
            f"{where}.effects",
            "unknown effect 'send_fax'",
        )

    def test_an_unknown_guard_is_refused_naming_the_file_the_key_and_the_reason(
        self, tmp_path: Path
    ) -> None:
        path, where = broken_copy(
            tmp_path, "close_consultation", "consultation", lambda t: t.update(guards=["quorum"])
        )
        error = refusal(path)
        assert (error.source, error.key, error.problem) == (
            "qtsc-chain-admission.v1.yaml",
            f"{where}.guards",
            "unknown guard 'quorum'",
        )

    def test_the_notice_before_the_pause_is_refused(self, tmp_path: Path) -> None:
        path, where = broken_copy(
            tmp_path,
            "request_supplement",
            "ministry_appraisal",
            lambda t: t.update(effects=["issue_supplement_notice", "pause_clock"]),
        )
        error = refusal(path)
        assert (error.key, error.problem) == (
            f"{where}.effects",
            "'issue_supplement_notice' needs 'clock' from an effect listed before it",
        )
        assert str(error).startswith(f"qtsc-chain-admission.v1.yaml: {where}.effects: ")

    def test_opening_consultations_on_a_transition_without_ministries_is_refused(
        self, tmp_path: Path
    ) -> None:
        path, where = broken_copy(
            tmp_path, "accept", "submitted", lambda t: t["effects"].append("open_consultations")
        )
        error = refusal(path)
        assert (error.key, error.problem) == (
            f"{where}.effects",
            "'open_consultations' reads field 'ministries', not taken here",
        )


def noop(firing: Firing) -> dict[str, Any]:
    return {}


def blank_firing() -> Firing:
    """A firing for throw-away effects that read nothing of it."""
    nothing = cast(Any, None)
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    return Firing(
        session=nothing,
        ctx=nothing,
        actor=nothing,
        case=nothing,
        workflow=nothing,
        request=TransitionRequest(action="test"),
        now=now,
        clock_before=ClockState(None, None, None, None, None, None),
    )


class TestTheRegistry:
    def test_registering_an_effect_twice_raises(self) -> None:
        steps = StepRegistry()
        steps.effect("stamp")(noop)
        with pytest.raises(ValueError, match="'stamp' is registered twice"):
            steps.effect("stamp", provides=("stamp",))(noop)
        assert steps.catalog().effects["stamp"].provides == ()

    def test_registering_a_guard_twice_raises(self) -> None:
        steps = StepRegistry()
        steps.guard("ready")(lambda c: [])
        with pytest.raises(ValueError, match="'ready' is registered twice"):
            steps.guard("ready")(lambda c: [])

    def test_a_name_the_application_registered_cannot_be_registered_again(self) -> None:
        before = STEPS.catalog()
        with pytest.raises(ValueError, match="registered twice"):
            STEPS.effect("pause_clock")(noop)
        with pytest.raises(ValueError, match="registered twice"):
            STEPS.guard("extension_available")(lambda c: [])
        assert STEPS.catalog() == before

    def test_a_step_reading_a_field_no_request_carries_is_refused_at_registration(self) -> None:
        steps = StepRegistry()
        with pytest.raises(ValueError, match="unknown fields \\['signature'\\]"):
            steps.effect("sign", fields=("signature",))(noop)
        assert "sign" not in steps.catalog().effects

    def test_the_catalog_s_fields_are_the_transition_request_s_minus_action(self) -> None:
        schema = TransitionRequest.model_json_schema()["properties"]
        assert STEPS.catalog().fields == frozenset(schema) - {"action"}
        assert "new_due_date" in STEPS.catalog().fields

    def test_every_effect_and_guard_of_the_application_is_registered(self) -> None:
        catalog = STEPS.catalog()
        assert set(catalog.effects) == EFFECTS
        assert set(catalog.guards) == GUARDS

    def test_every_value_an_effect_needs_is_handed_on_by_another(self) -> None:
        effects = STEPS.catalog().effects.values()
        provided = {value for spec in effects for value in spec.provides}
        needed = {(spec.name, value) for spec in effects for value in spec.needs}
        assert needed
        assert {(name, value) for name, value in needed if value not in provided} == set()

    def test_apply_records_everything_returned_and_hands_on_only_what_was_declared(self) -> None:
        steps = StepRegistry()
        # `warning` is declared but not returned this time: it is simply not handed on.
        steps.effect("count", provides=("count", "warning"))(lambda f: {"count": 3, "note": "x"})
        firing = blank_firing()

        assert steps.apply("count", firing) == {"count": 3, "note": "x"}
        assert firing.handed_on == {"count": 3}

    def test_apply_refuses_an_effect_before_what_it_needs_was_handed_on(self) -> None:
        steps = StepRegistry()
        ran: list[str] = []
        steps.effect("first", provides=("token",))(lambda f: {"token": "t"})

        @steps.effect("second", needs=("token",))
        def second(f: Firing) -> dict[str, Any]:
            ran.append(f.handed_on["token"])
            return {}

        firing = blank_firing()

        with pytest.raises(RuntimeError, match="'second' runs before \\['token'\\]"):
            steps.apply("second", firing)
        assert ran == []

        steps.apply("first", firing)
        steps.apply("second", firing)
        assert ran == ["t"]
