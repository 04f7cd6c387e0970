"""Workflow definitions read over the API and drawn as Mermaid: what clients render checklists,
forms and diagrams from, without hard-coding them."""

from click.testing import CliRunner

from app.cli import main
from tests.versions.conftest import PinnedApi
from tests.versions.files import KEY, NEW_DOCUMENT

WORKFLOWS = "/api/v1/workflows"


class TestTheList:
    def test_each_key_lists_its_versions_the_latest_marked_with_their_case_counts(
        self, vapi: PinnedApi
    ) -> None:
        vapi.create_case()
        vapi.pinned = 1
        vapi.create_case()
        vapi.create_case()
        response = vapi.client.get(WORKFLOWS, headers=vapi.headers("council"))
        assert response.status_code == 200, response.text
        (chain,) = [w for w in response.json()["items"] if w["key"] == KEY]
        assert chain["latest_version"] == 2
        assert chain["default"] is True
        assert chain["title"]["en"] == "Admission to the Quang Trung Software Park Chain"
        assert [(v["version"], v["latest"], v["cases"]) for v in chain["versions"]] == [
            (1, False, 2),
            (2, True, 1),
        ]
        assert chain["versions"][0]["source"] == f"{KEY}.v1.yaml"

    def test_an_applicant_counts_only_its_own_cases(self, vapi: PinnedApi) -> None:
        vapi.create_case()
        vapi.create_case("other_applicant")
        for who, expected in (("applicant", 1), ("other_applicant", 1), ("viewer", 2)):
            body = vapi.client.get(WORKFLOWS, headers=vapi.headers(who)).json()
            (chain,) = [w for w in body["items"] if w["key"] == KEY]
            assert sum(v["cases"] for v in chain["versions"]) == expected, who


class TestOneVersion:
    def test_it_gives_states_transitions_the_checklist_and_deadlines_in_both_languages(
        self, vapi: PinnedApi
    ) -> None:
        response = vapi.client.get(f"{WORKFLOWS}/{KEY}/versions/2", headers=vapi.headers("viewer"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["key"], body["version"], body["latest"], body["initial"]) == (
            KEY,
            2,
            True,
            "draft",
        )
        states = {s["name"]: s for s in body["states"]}
        assert states["council_review"]["label"] == {
            "vi": "HĐQLC thẩm tra hồ sơ",
            "en": "Council review",
        }
        assert states["council_review"]["acting_roles"] == ["council"]
        assert states["member"]["terminal"] is True
        documents = {d["doc_type"]: d for d in body["documents"]}
        assert documents[NEW_DOCUMENT]["required_by"] == ["submit"]
        assert documents[NEW_DOCUMENT]["label"]["en"] == "Pre-feasibility study"
        assert documents["intake_receipt"]["generated"] is True
        resubmit = next(t for t in body["transitions"] if t["action"] == "resubmit")
        assert resubmit["dest"] == "@return"
        assert resubmit["destinations"] == ["council_review", "ministry_appraisal"]
        approve = next(t for t in body["transitions"] if t["action"] == "approve")
        assert approve["fields"] == ["decision_number", "decision_date"]
        assert approve["roles"] == ["government"]
        deadlines = {d["applies_to"]: d["working_days"] for d in body["deadlines"]}
        assert deadlines["ministry_appraisal"] == 5
        assert deadlines["consultation"] == 10
        assert body["consultation"]["opinion_document"] == "ministry_opinion"

    def test_the_older_version_is_shown_as_it_was(self, vapi: PinnedApi) -> None:
        body = vapi.client.get(
            f"{WORKFLOWS}/{KEY}/versions/1", headers=vapi.headers("viewer")
        ).json()
        assert body["latest"] is False
        assert NEW_DOCUMENT not in {d["doc_type"] for d in body["documents"]}

    def test_an_unknown_version_is_404(self, vapi: PinnedApi) -> None:
        response = vapi.client.get(f"{WORKFLOWS}/{KEY}/versions/9", headers=vapi.headers("viewer"))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


class TestMermaid:
    def test_the_diagram_endpoint_answers_mermaid_text_with_the_current_state_marked(
        self, vapi: PinnedApi
    ) -> None:
        response = vapi.client.get(
            f"{WORKFLOWS}/{KEY}/versions/1/diagram",
            params={"format": "mermaid", "lang": "en", "current": "council_review"},
            headers=vapi.headers("viewer"),
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/vnd.mermaid")
        lines = response.text.splitlines()
        assert lines[0] == "stateDiagram-v2"
        assert '    state "Council review" as council_review' in lines
        assert "    [*] --> draft" in lines
        assert "    draft --> submitted: submit" in lines
        assert "    supplement_requested --> council_review: resubmit" in lines
        assert "    member --> [*]" in lines
        assert "    class council_review current" in lines

    def test_admission_workflow_draw_prints_mermaid(self) -> None:
        result = CliRunner().invoke(main, ["workflow", "draw", "--format", "mermaid"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("stateDiagram-v2\n")
        assert 'state "Đang soạn hồ sơ" as draft' in result.output
