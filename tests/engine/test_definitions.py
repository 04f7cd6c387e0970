"""Workflow files as data: the repository's files are sound, broken copies are refused.

No database is needed: these tests read YAML and build the engine's objects directly.
"""

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from app.admission.registry import STEPS, load_workflows
from app.cli import main as cli
from app.core.config import PROJECT_ROOT, get_settings
from app.core.errors import WorkflowDefinitionError
from app.engine.definition import RETURN_TO_REQUESTER
from app.engine.loader import load_file
from app.engine.roles import Role
from app.engine.workflow import CaseToken

WORKFLOWS_DIR = PROJECT_ROOT / "workflows"
WORKFLOW_FILES = sorted(p for p in WORKFLOWS_DIR.iterdir() if p.suffix in {".yaml", ".yml"})
DEFAULT_FILE = WORKFLOWS_DIR / "qtsc-chain-admission.v1.yaml"
ROLES = {r.value for r in Role}


def raw(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def successors(data: dict[str, Any]) -> dict[str, set[str]]:
    """State -> states one transition away, computed from the raw file (not by the engine)."""
    edges: dict[str, set[str]] = {name: set() for name in data["states"]}
    into: dict[str, set[str]] = {name: set() for name in data["states"]}
    for t in data["transitions"]:
        sources = [t["source"]] if isinstance(t["source"], str) else t["source"]
        if t["dest"] != RETURN_TO_REQUESTER:
            for s in sources:
                into[t["dest"]].add(s)
    for t in data["transitions"]:
        sources = [t["source"]] if isinstance(t["source"], str) else t["source"]
        for s in sources:
            if t["dest"] == RETURN_TO_REQUESTER:
                # Back to whichever state sent the case here.
                edges[s].update(origin for origin in into[s] if origin not in sources)
            else:
                edges[s].add(t["dest"])
    return edges


def test_the_repository_has_at_least_the_default_workflow() -> None:
    assert DEFAULT_FILE in WORKFLOW_FILES


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
class TestEveryWorkflowFile:
    def test_loads_and_passes_validation(self, path: Path) -> None:
        workflow = load_file(path, STEPS.catalog())
        assert workflow.definition.check(STEPS.catalog()) == []
        assert path.stem == f"{workflow.key}.v{workflow.version}"

    def test_every_state_is_reachable_from_the_initial_state(self, path: Path) -> None:
        data = raw(path)
        edges = successors(data)
        reachable, frontier = {data["initial"]}, [data["initial"]]
        while frontier:
            for nxt in edges[frontier.pop()] - reachable:
                reachable.add(nxt)
                frontier.append(nxt)
        assert set(data["states"]) - reachable == set()

    def test_every_non_terminal_state_has_a_way_out(self, path: Path) -> None:
        data = raw(path)
        edges = successors(data)
        stuck = [
            name
            for name, state in data["states"].items()
            if not state.get("terminal") and not (edges[name] - {name})
        ]
        assert stuck == []

    def test_terminal_states_have_no_way_out(self, path: Path) -> None:
        data = raw(path)
        edges = successors(data)
        terminal = [n for n, s in data["states"].items() if s.get("terminal")]
        assert terminal
        assert {n: edges[n] for n in terminal if edges[n]} == {}

    def test_every_role_named_exists(self, path: Path) -> None:
        data = raw(path)
        named = {r for t in data["transitions"] for r in t["roles"]}
        named |= {r for s in data["states"].values() for r in s.get("acting_roles", [])}
        named |= {r for d in data["document_types"].values() for r in d["uploaded_by"]}
        assert named
        assert named - ROLES == set()

    def test_every_document_type_named_exists(self, path: Path) -> None:
        data = raw(path)
        types = set(data["document_types"])
        named = {
            d
            for t in data["transitions"]
            for d in (*t.get("documents", []), *t.get("fresh_documents", []))
        }
        if data.get("consultation"):
            named.add(data["consultation"]["opinion_document"])
            named.update(data["consultation"].get("shared_documents", []))
        assert named
        assert named - types == set()

    def test_every_state_and_field_named_exists(self, path: Path) -> None:
        data = raw(path)
        states = set(data["states"])
        for t in data["transitions"]:
            sources = [t["source"]] if isinstance(t["source"], str) else t["source"]
            assert set(sources) <= states, t
            assert t["dest"] in states | {RETURN_TO_REQUESTER}, t
            assert set(t.get("fields", [])) <= STEPS.catalog().fields, t
        for name, doc in data["document_types"].items():
            assert set(doc.get("upload_states") or []) <= states, name

    def test_every_document_type_can_be_uploaded_by_someone_somewhere(self, path: Path) -> None:
        data = raw(path)
        reachable_upload = {
            name
            for name, doc in data["document_types"].items()
            if doc["uploaded_by"] and (doc.get("upload_states") is None or doc["upload_states"])
        }
        assert reachable_upload == set(data["document_types"])


class TestTheDefaultWorkflow:
    """Spot checks of DESIGN §3 that a careless edit of the file would break."""

    def test_submit_needs_the_six_applicant_documents(self) -> None:
        workflow = load_file(DEFAULT_FILE, STEPS.catalog())
        submit = workflow.transition("draft", "submit")
        assert submit is not None
        assert set(submit.documents) == {
            "provincial_proposal",
            "membership_scheme",
            "establishment_decision",
            "site_documents",
            "planning_conformity",
            "investment_plan",
        }

    def test_approve_and_reject_need_a_decision_number_and_date(self) -> None:
        workflow = load_file(DEFAULT_FILE, STEPS.catalog())
        for action in ("approve", "reject"):
            spec = workflow.transition("pm_review", action)
            assert spec is not None
            assert {"decision_number", "decision_date"} <= set(spec.fields)
            assert "pm_decision" in spec.documents

    def test_each_site_visit_needs_minutes_uploaded_since_the_last_one(self) -> None:
        workflow = load_file(DEFAULT_FILE, STEPS.catalog())
        spec = workflow.transition("council_review", "record_site_visit")
        assert spec is not None
        assert spec.fresh_documents == ("site_visit_minutes",)
        assert spec.documents == ()

    def test_resubmit_needs_the_documents_the_supplement_request_named(self) -> None:
        workflow = load_file(DEFAULT_FILE, STEPS.catalog())
        spec = workflow.transition("supplement_requested", "resubmit")
        assert spec is not None
        assert spec.fresh_documents_requested_by == "request_supplement"

    def test_consultations_are_answered_within_ten_working_days(self) -> None:
        definition = load_file(DEFAULT_FILE, STEPS.catalog()).definition
        assert definition.consultation is not None
        assert definition.consultation.deadline_working_days == 10
        assert definition.consultation.opinion_document == "ministry_opinion"


class TestReturnToRequester:
    def test_resubmit_returns_to_the_state_that_asked(self) -> None:
        workflow = load_file(DEFAULT_FILE, STEPS.catalog())
        for origin in ("council_review", "ministry_appraisal"):
            token = CaseToken("supplement_requested", return_state=origin)
            assert workflow.fire(token, "resubmit") == origin
            assert token.state == origin

    def test_the_possible_return_targets_are_the_states_that_lead_in(self) -> None:
        workflow = load_file(DEFAULT_FILE, STEPS.catalog())
        spec = workflow.transition("supplement_requested", "resubmit")
        assert spec is not None
        assert workflow.definition.return_targets(spec) == ("council_review", "ministry_appraisal")

    def test_resubmit_without_a_known_origin_does_not_fire(self) -> None:
        workflow = load_file(DEFAULT_FILE, STEPS.catalog())
        with pytest.raises(LookupError):
            workflow.fire(CaseToken("supplement_requested", return_state=None), "resubmit")

    def test_entering_the_supplement_state_remembers_the_origin(self) -> None:
        workflow = load_file(DEFAULT_FILE, STEPS.catalog())
        assert workflow.remembers_origin("supplement_requested")
        assert not workflow.remembers_origin("council_review")

    def test_firing_never_changes_the_shared_machine(self) -> None:
        workflow = load_file(DEFAULT_FILE, STEPS.catalog())
        machine = workflow.machine
        before = {name: len(event.transitions) for name, event in machine.events.items()}
        workflow.fire(CaseToken("draft"), "submit")
        workflow.fire(CaseToken("supplement_requested", "ministry_appraisal"), "resubmit")
        assert workflow.machine is machine
        assert {n: len(e.transitions) for n, e in machine.events.items()} == before
        assert machine.models == []


# --- broken copies -------------------------------------------------------------------------


Edit = Callable[[dict[str, Any]], None]


def transition(data: dict[str, Any], action: str, source: str | None = None) -> dict[str, Any]:
    for t in data["transitions"]:
        sources = [t["source"]] if isinstance(t["source"], str) else t["source"]
        if t["action"] == action and (source is None or source in sources):
            return t
    raise AssertionError(f"no transition {action} in the file")


def write_broken(tmp_path: Path, edit: Edit, name: str = "qtsc-chain-admission.v1.yaml") -> Path:
    data = copy.deepcopy(raw(DEFAULT_FILE))
    edit(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def refusal(path: Path) -> WorkflowDefinitionError:
    """Load `path` both on its own and as part of a directory; both must refuse it alike."""
    with pytest.raises(WorkflowDefinitionError) as single:
        load_file(path, STEPS.catalog())
    with pytest.raises(WorkflowDefinitionError) as directory:
        load_workflows(path.parent)
    assert str(directory.value) == str(single.value)
    error = single.value
    assert error.source == path.name
    assert str(error).startswith(f"{path.name}: {error.key}: ")
    return error


def _unknown_dest(d: dict[str, Any]) -> None:
    transition(d, "accept")["dest"] = "nowhere"


def _unknown_source(d: dict[str, Any]) -> None:
    transition(d, "decline")["source"] = "limbo"


def _unknown_role_in_transition(d: dict[str, Any]) -> None:
    transition(d, "accept")["roles"] = ["council", "chairman"]


def _unknown_acting_role(d: dict[str, Any]) -> None:
    d["states"]["submitted"]["acting_roles"] = ["secretary"]


def _unknown_uploader_role(d: dict[str, Any]) -> None:
    d["document_types"]["pm_decision"]["uploaded_by"] = ["prime_minister"]


def _unknown_document(d: dict[str, Any]) -> None:
    transition(d, "submit")["documents"].append("feasibility_study")


def _unknown_opinion_document(d: dict[str, Any]) -> None:
    d["consultation"]["opinion_document"] = "ministry_letter"


def _unknown_shared_document(d: dict[str, Any]) -> None:
    d["consultation"]["shared_documents"].append("feasibility_study")


def _opinions_shared(d: dict[str, Any]) -> None:
    d["consultation"]["shared_documents"].append("ministry_opinion")


def _unknown_guard(d: dict[str, Any]) -> None:
    transition(d, "close_consultation")["guards"] = ["everyone_happy"]


def _unknown_effect(d: dict[str, Any]) -> None:
    transition(d, "accept")["effects"] = ["send_fax"]


def _unknown_field(d: dict[str, Any]) -> None:
    transition(d, "decline")["fields"] = ["reason", "signature"]


def _unreachable_state(d: dict[str, Any]) -> None:
    # Nothing leads into `declined` any more.
    d["transitions"] = [t for t in d["transitions"] if t["action"] != "decline"]


def _unreachable_island(d: dict[str, Any]) -> None:
    d["states"]["archived"] = {"label": {"vi": "Lưu trữ", "en": "Archived"}}
    d["transitions"].append(
        {"action": "unarchive", "source": "archived", "dest": "draft", "roles": ["admin"]}
    )


def _dead_end(d: dict[str, Any]) -> None:
    d["states"]["parked"] = {"label": {"vi": "Tạm dừng", "en": "Parked"}}
    d["transitions"].append(
        {"action": "park", "source": "council_review", "dest": "parked", "roles": ["council"]}
    )


def _dead_end_looping_on_itself(d: dict[str, Any]) -> None:
    d["states"]["parked"] = {"label": {"vi": "Tạm dừng", "en": "Parked"}}
    d["transitions"].append(
        {"action": "park", "source": "council_review", "dest": "parked", "roles": ["council"]}
    )
    d["transitions"].append(
        {"action": "note", "source": "parked", "dest": "parked", "roles": ["council"]}
    )


def _duplicate_trigger(d: dict[str, Any]) -> None:
    d["transitions"].append(
        {"action": "accept", "source": "submitted", "dest": "declined", "roles": ["council"]}
    )


def _duplicate_trigger_in_a_source_list(d: dict[str, Any]) -> None:
    d["transitions"].append(
        {
            "action": "withdraw",
            "source": ["council_review", "draft"],
            "dest": "withdrawn",
            "roles": ["applicant"],
        }
    )


def _transition_from_terminal(d: dict[str, Any]) -> None:
    d["transitions"].append(
        {"action": "reopen", "source": "rejected", "dest": "draft", "roles": ["admin"]}
    )


def _unknown_fresh_document(d: dict[str, Any]) -> None:
    transition(d, "record_site_visit")["fresh_documents"] = ["visit_photos"]


def _fresh_letter(d: dict[str, Any]) -> None:
    transition(d, "record_site_visit")["fresh_documents"] = ["intake_receipt"]


def _fresh_and_plain_document(d: dict[str, Any]) -> None:
    transition(d, "record_site_visit")["documents"] = ["site_visit_minutes"]


def _fresh_document_not_uploadable_in_the_source(d: dict[str, Any]) -> None:
    # The applicant uploads its proposal in draft and during a supplement, never in review.
    transition(d, "record_site_visit")["fresh_documents"] = ["provincial_proposal"]


def _requested_by_unknown_action(d: dict[str, Any]) -> None:
    transition(d, "resubmit")["fresh_documents_requested_by"] = "ask_nicely"


def _requested_by_an_action_that_does_not_lead_in(d: dict[str, Any]) -> None:
    transition(d, "resubmit")["fresh_documents_requested_by"] = "accept"


def _requested_by_an_action_that_names_no_documents(d: dict[str, Any]) -> None:
    for t in d["transitions"]:
        if t["action"] == "request_supplement":
            t.pop("optional_fields")
            t["effects"] = ["pause_clock"]


def _unknown_initial(d: dict[str, Any]) -> None:
    d["initial"] = "prelude"


def _unknown_key_in_state(d: dict[str, Any]) -> None:
    d["states"]["draft"]["deadline_days"] = 5


BROKEN: list[tuple[str, Edit, str, str]] = [
    # (id, edit, expected key (substring), expected problem (substring))
    ("unknown destination state", _unknown_dest, "(accept).dest", "nowhere"),
    ("unknown source state", _unknown_source, "(decline).source", "limbo"),
    # Roles are an enum: pydantic names the offending position and the roles that exist.
    ("unknown role in a transition", _unknown_role_in_transition, ".roles.1", "'council'"),
    ("unknown acting role", _unknown_acting_role, "states.submitted.acting_roles.0", "'applicant'"),
    (
        "unknown uploader role",
        _unknown_uploader_role,
        "document_types.pm_decision.uploaded_by.0",
        "'government'",
    ),
    ("unknown document type", _unknown_document, "(submit).documents", "feasibility_study"),
    (
        "unknown opinion document",
        _unknown_opinion_document,
        "consultation.opinion_document",
        "ministry_letter",
    ),
    (
        "unknown shared document",
        _unknown_shared_document,
        "consultation.shared_documents",
        "feasibility_study",
    ),
    (
        "opinions shared with every consulted ministry",
        _opinions_shared,
        "consultation.shared_documents",
        "never shared",
    ),
    ("unknown guard", _unknown_guard, "(close_consultation).guards", "everyone_happy"),
    ("unknown effect", _unknown_effect, "(accept).effects", "send_fax"),
    ("unknown field", _unknown_field, "(decline).fields", "signature"),
    ("unreachable state", _unreachable_state, "states.declined", "unreachable"),
    ("unreachable island", _unreachable_island, "states.archived", "unreachable"),
    ("dead-end state", _dead_end, "states.parked", "no transition out"),
    ("dead-end self loop", _dead_end_looping_on_itself, "states.parked", "no transition out"),
    ("duplicate trigger", _duplicate_trigger, ".action", "duplicate trigger 'accept'"),
    (
        "duplicate trigger in a source list",
        _duplicate_trigger_in_a_source_list,
        ".action",
        "duplicate trigger 'withdraw' from 'draft'",
    ),
    ("transition out of a terminal state", _transition_from_terminal, "(reopen).source", "term"),
    (
        "unknown fresh document",
        _unknown_fresh_document,
        "(record_site_visit).fresh_documents",
        "unknown document type 'visit_photos'",
    ),
    (
        "a letter as a fresh document",
        _fresh_letter,
        "(record_site_visit).fresh_documents",
        "'intake_receipt' is a letter of the service",
    ),
    (
        "a document both fresh and plain",
        _fresh_and_plain_document,
        "(record_site_visit).fresh_documents",
        "in documents too",
    ),
    (
        "a fresh document that cannot be uploaded in the source state",
        _fresh_document_not_uploadable_in_the_source,
        "(record_site_visit).fresh_documents",
        "'provincial_proposal' cannot be uploaded in 'council_review'",
    ),
    (
        "documents requested by an unknown action",
        _requested_by_unknown_action,
        "(resubmit).fresh_documents_requested_by",
        "unknown action 'ask_nicely'",
    ),
    (
        "documents requested by an action that does not lead in",
        _requested_by_an_action_that_does_not_lead_in,
        "(resubmit).fresh_documents_requested_by",
        "'accept' never leads into supplement_requested",
    ),
    (
        "documents requested by an action that names none",
        _requested_by_an_action_that_names_no_documents,
        "(resubmit).fresh_documents_requested_by",
        "does not take the field 'supplement_documents'",
    ),
    ("unknown initial state", _unknown_initial, "initial", "prelude"),
    ("unknown key", _unknown_key_in_state, "states.draft.deadline_days", ""),
]


class TestBrokenCopiesAreRefused:
    @pytest.mark.parametrize(
        ("edit", "key", "problem"),
        [pytest.param(edit, key, problem, id=name) for name, edit, key, problem in BROKEN],
    )
    def test_a_broken_file_is_refused_naming_the_file_and_the_key(
        self, tmp_path: Path, edit: Edit, key: str, problem: str
    ) -> None:
        error = refusal(write_broken(tmp_path, edit))
        assert key in error.key, error
        assert problem in str(error), error

    def test_an_unmodified_copy_is_accepted(self, tmp_path: Path) -> None:
        path = write_broken(tmp_path, lambda d: None)
        registry = load_workflows(tmp_path)
        assert registry.get("qtsc-chain-admission", 1).source == path.name

    @pytest.mark.parametrize(
        "name", ["qtsc-chain-admission.v2.yaml", "admission.v1.yaml", "qtsc-chain-admission.yaml"]
    )
    def test_a_file_whose_name_does_not_match_its_key_and_version_is_refused(
        self, tmp_path: Path, name: str
    ) -> None:
        error = refusal(write_broken(tmp_path, lambda d: None, name=name))
        assert error.key == "key"
        assert "qtsc-chain-admission.v1.yaml" in error.problem

    def test_a_version_bump_without_renaming_the_file_is_refused(self, tmp_path: Path) -> None:
        def bump(d: dict[str, Any]) -> None:
            d["version"] = 2

        error = refusal(write_broken(tmp_path, bump))
        assert error.key == "key"
        assert "qtsc-chain-admission.v2.yaml" in error.problem

    def test_invalid_yaml_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "qtsc-chain-admission.v1.yaml"
        path.write_text("key: qtsc-chain-admission\nstates: [draft\n", encoding="utf-8")
        error = refusal(path)
        assert error.key == "(file)"
        assert "not valid YAML" in error.problem

    def test_a_file_that_is_not_a_mapping_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "qtsc-chain-admission.v1.yaml"
        path.write_text("- draft\n- submitted\n", encoding="utf-8")
        assert refusal(path).key == "(file)"

    def test_one_broken_file_among_good_ones_refuses_the_directory(self, tmp_path: Path) -> None:
        write_broken(tmp_path, lambda d: None)

        def v2_broken(d: dict[str, Any]) -> None:
            d["version"] = 2
            _unknown_effect(d)

        write_broken(tmp_path, v2_broken, name="qtsc-chain-admission.v2.yaml")
        with pytest.raises(WorkflowDefinitionError) as caught:
            load_workflows(tmp_path)
        assert caught.value.source == "qtsc-chain-admission.v2.yaml"

    def test_a_directory_without_workflow_files_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "README.txt").write_text("nothing here", encoding="utf-8")
        with pytest.raises(WorkflowDefinitionError):
            load_workflows(tmp_path)


class TestVersions:
    def test_two_versions_of_a_workflow_live_side_by_side_and_the_latest_wins(
        self, tmp_path: Path
    ) -> None:
        write_broken(tmp_path, lambda d: None)

        def v2(d: dict[str, Any]) -> None:
            d["version"] = 2
            d["states"]["council_review"]["deadline_working_days"] = 15

        write_broken(tmp_path, v2, name="qtsc-chain-admission.v2.yaml")
        registry = load_workflows(tmp_path)
        first = registry.get("qtsc-chain-admission", 1)
        latest = registry.latest("qtsc-chain-admission")
        assert latest is not None
        assert latest.version == 2
        assert first.definition.states["council_review"].deadline_working_days == 20
        assert latest.definition.states["council_review"].deadline_working_days == 15
        assert first.machine is not latest.machine


class TestValidateCommand:
    @pytest.fixture
    def workflows_dir(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
        def use(directory: Path) -> None:
            monkeypatch.setenv("WORKFLOWS_DIR", str(directory))
            get_settings.cache_clear()

        yield use
        get_settings.cache_clear()

    def test_validate_accepts_the_repository_workflows(
        self, workflows_dir: Callable[[Path], None]
    ) -> None:
        workflows_dir(WORKFLOWS_DIR)
        result = CliRunner().invoke(cli, ["workflow", "validate"])
        assert result.exit_code == 0, result.output
        for path in WORKFLOW_FILES:
            assert f"{path.name}: ok" in result.output

    def test_validate_fails_on_a_broken_file_naming_it(
        self, tmp_path: Path, workflows_dir: Callable[[Path], None]
    ) -> None:
        write_broken(tmp_path, _dead_end)
        workflows_dir(tmp_path)
        result = CliRunner().invoke(cli, ["workflow", "validate"])
        assert result.exit_code != 0
        assert "qtsc-chain-admission.v1.yaml" in result.output
        assert "states.parked" in result.output
