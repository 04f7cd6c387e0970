"""`admission workflow validate [FILES]` and `admission workflow diff KEY V1 V2`."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from app.cli import main
from app.core.config import get_settings
from tests.versions.files import KEY, chain, chain_v2, directory_with, write


@pytest.fixture
def workflows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    v2 = chain_v2()
    v2["states"]["council_review"]["deadline_working_days"] = 15
    directory = directory_with(tmp_path / "workflows", v2)
    monkeypatch.setenv("WORKFLOWS_DIR", str(directory))
    get_settings.cache_clear()
    yield directory
    get_settings.cache_clear()


class TestValidate:
    def test_every_problem_of_a_file_is_printed_with_the_file_and_key(
        self, workflows_dir: Path, tmp_path: Path
    ) -> None:
        broken = chain(1)
        broken["version"] = 3
        broken["initial"] = "nowhere"
        broken["transitions"][0]["documents"].append("no_such_document")
        broken["transitions"][1]["roles"] = ["mayor"]
        path = write(tmp_path, broken)
        result = CliRunner().invoke(main, ["workflow", "validate", str(path)])
        assert result.exit_code == 1
        assert f"{KEY}.v3.yaml: transitions.1.roles.0:" in result.output
        # The shape is broken: the structural checks wait for it, the shape errors are all
        # listed (here one); fixed, every structural problem is listed at once.
        broken["transitions"][1]["roles"] = ["applicant"]
        write(tmp_path, broken)
        result = CliRunner().invoke(main, ["workflow", "validate", str(path)])
        assert result.exit_code == 1
        lines = result.output.splitlines()
        assert f"{KEY}.v3.yaml: initial: unknown state 'nowhere'" in lines
        assert (
            f"{KEY}.v3.yaml: transitions[0] (submit).documents: unknown document type "
            "'no_such_document'"
        ) in lines

    def test_a_file_that_is_no_yaml_mapping_is_named(self, tmp_path: Path) -> None:
        path = tmp_path / "x.v1.yaml"
        path.write_text(yaml.safe_dump(["a", "b"]))
        result = CliRunner().invoke(main, ["workflow", "validate", str(path)])
        assert result.exit_code == 1
        assert "x.v1.yaml: (file): must be a mapping" in result.output

    def test_the_directory_s_files_are_checked_by_default(self, workflows_dir: Path) -> None:
        result = CliRunner().invoke(main, ["workflow", "validate"])
        assert result.exit_code == 0, result.output
        assert f"{KEY}.v1.yaml: ok (13 states)" in result.output
        assert f"{KEY}.v2.yaml: ok (13 states)" in result.output


class TestDiff:
    def test_it_says_what_changed_in_english(self, workflows_dir: Path) -> None:
        result = CliRunner().invoke(main, ["workflow", "diff", KEY, "1", "2", "--lang", "en"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [
            f"{KEY}: version 1 → version 2",
            "Deadlines",
            "  ~ “Council review” (council_review): 20 → 15 working days",
            "Documents",
            "  + new document “Pre-feasibility study” (feasibility_study), uploaded by applicant",
            "Actions",
            "  ~ submit from “Drafting” (draft): now requires “Pre-feasibility study” "
            "(feasibility_study)",
        ]

    def test_it_says_it_in_vietnamese_by_default(self, workflows_dir: Path) -> None:
        result = CliRunner().invoke(main, ["workflow", "diff", KEY, "1", "2"])
        assert "  ~ “HĐQLC thẩm tra hồ sơ” (council_review): 20 → 15 ngày làm việc" in (
            result.output.splitlines()
        )

    def test_a_version_against_itself_has_no_differences(self, workflows_dir: Path) -> None:
        result = CliRunner().invoke(main, ["workflow", "diff", KEY, "2", "2", "--lang", "en"])
        assert result.output.splitlines()[-1] == "No differences."

    def test_an_unknown_version_fails(self, workflows_dir: Path) -> None:
        result = CliRunner().invoke(main, ["workflow", "diff", KEY, "1", "9"])
        assert result.exit_code == 2
        assert f"no workflow {KEY!r} version 9" in result.output
