"""The workflow diagram is generated from the workflow file."""

import xml.etree.ElementTree as ET

from click.testing import CliRunner

from app.cli import main
from app.context import AppContext
from app.engine.diagram import levels, render_svg
from tests.factories import Api

SVG = "{http://www.w3.org/2000/svg}"


def states_drawn(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.attrib["data-state"]: g for g in root.iter(f"{SVG}g") if "data-state" in g.attrib}


class TestDiagram:
    def test_every_state_is_drawn_with_its_label(self, ctx: AppContext) -> None:
        for wf in ctx.workflows:
            svg = render_svg(wf.definition, "vi")
            drawn = states_drawn(svg)
            assert set(drawn) == set(wf.definition.states)
            for name, spec in wf.definition.states.items():
                text = " ".join(t.text or "" for t in drawn[name].iter(f"{SVG}text"))
                assert text.split() == spec.label.vi.split()

    def test_every_move_is_drawn(self, ctx: AppContext) -> None:
        wf = ctx.workflows.latest("qtsc-chain-admission")
        assert wf is not None
        svg = render_svg(wf.definition, "en")
        for t in wf.definition.transitions:
            assert t.action in svg

    def test_the_current_state_is_marked(self, ctx: AppContext) -> None:
        wf = ctx.workflows.latest("qtsc-chain-admission")
        assert wf is not None
        drawn = states_drawn(render_svg(wf.definition, "en", current="consultation"))
        marked = [name for name, g in drawn.items() if g.attrib.get("aria-current") == "step"]
        assert marked == ["consultation"]

    def test_states_are_laid_out_by_distance_from_the_start(self, ctx: AppContext) -> None:
        wf = ctx.workflows.latest("qtsc-chain-admission")
        assert wf is not None
        level = levels(wf.definition)
        assert level["draft"] == 0
        assert level["submitted"] == 1
        assert level["council_review"] == 2
        assert level["member"] > level["pm_review"]


class TestDiagramEndpoint:
    def test_it_answers_svg(self, api: Api) -> None:
        response = api.client.get(
            "/api/v1/workflows/qtsc-chain-admission/versions/1/diagram",
            params={"lang": "en", "current": "draft"},
            headers=api.headers("viewer"),
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert "Drafting" in response.text

    def test_unknown_workflow_or_state(self, api: Api) -> None:
        base = "/api/v1/workflows/qtsc-chain-admission/versions"
        headers = api.headers("viewer")
        assert api.client.get(f"{base}/99/diagram", headers=headers).status_code == 404
        bad = api.client.get(f"{base}/1/diagram", params={"current": "nope"}, headers=headers)
        assert bad.status_code == 422


class TestDrawCommand:
    def test_admission_workflow_draw_prints_svg(self) -> None:
        result = CliRunner().invoke(main, ["workflow", "draw", "--lang", "vi"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("<svg")
        assert "Đang soạn hồ sơ" in result.output

    def test_an_unknown_workflow_fails(self) -> None:
        result = CliRunner().invoke(main, ["workflow", "draw", "nope"])
        assert result.exit_code == 2
