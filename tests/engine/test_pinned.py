"""The check that every workflow version cases are pinned to is loaded (no database)."""

from app.admission.registry import load_workflows
from app.core.config import Settings
from app.engine.loader import WorkflowRegistry
from app.engine.pinned import UnloadedVersion, UnloadedWorkflows, unloaded_versions

KEY = "qtsc-chain-admission"


def registry() -> WorkflowRegistry:
    return load_workflows(Settings().workflows_dir)


class TestUnloadedVersions:
    def test_versions_that_are_loaded_are_no_problem_and_are_not_counted(self) -> None:
        asked: list[tuple[str, int]] = []

        def count(key: str, version: int) -> int:
            asked.append((key, version))
            return 12

        assert unloaded_versions([(KEY, 1)], registry(), count) == []
        assert asked == []

    def test_each_missing_version_is_named_with_its_number_of_cases_in_order(self) -> None:
        cases = {(KEY, 1): 12, ("regional-admission", 1): 1, (KEY, 3): 2, (KEY, 2): 5}
        assert unloaded_versions(cases, registry(), lambda k, v: cases[k, v]) == [
            UnloadedVersion(KEY, 2, 5),
            UnloadedVersion(KEY, 3, 2),
            UnloadedVersion("regional-admission", 1, 1),
        ]

    def test_the_message_names_the_key_the_version_and_the_cases(self) -> None:
        assert UnloadedVersion(KEY, 2, 5).describe() == (
            "workflow 'qtsc-chain-admission' version 2 is used by 5 cases "
            "but is not loaded (no file qtsc-chain-admission.v2.yaml)"
        )
        assert "is used by 1 case but" in UnloadedVersion(KEY, 2, 1).describe()
        refused = str(UnloadedWorkflows([UnloadedVersion(KEY, 2, 5)], "/srv/workflows"))
        assert refused.startswith("workflow 'qtsc-chain-admission' version 2 is used by 5 cases")
        assert "/srv/workflows" in refused
