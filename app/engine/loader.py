"""Loads and validates every workflow file in a directory into a registry."""

from pathlib import Path

import yaml
from pydantic import ValidationError

from app.core.errors import WorkflowDefinitionError, WorkflowUnavailable
from app.engine.definition import WorkflowDefinition
from app.engine.steps import StepCatalog
from app.engine.workflow import Workflow

SUFFIXES = (".yaml", ".yml")


def file_problems(
    path: Path, catalog: StepCatalog
) -> tuple[WorkflowDefinition | None, list[tuple[str, str]]]:
    """Every problem of one workflow file as (key, reason), and its definition when the shape
    is sound enough to build one (the structural checks then run too)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return None, [("(file)", f"not valid YAML: {exc}")]
    except OSError as exc:
        return None, [("(file)", f"cannot be read: {exc.strerror or exc}")]
    if not isinstance(raw, dict):
        return None, [("(file)", "must be a mapping")]
    try:
        definition = WorkflowDefinition.model_validate(raw)
    except ValidationError as exc:
        return None, [
            (".".join(str(part) for part in error["loc"]) or "(file)", error["msg"])
            for error in exc.errors()
        ]
    problems = definition.check(catalog)
    expected = f"{definition.key}.v{definition.version}"
    if path.stem != expected:
        problems.append(("key", f"file must be named {expected}{path.suffix}"))
    return definition, problems


def load_file(path: Path, catalog: StepCatalog) -> Workflow:
    """One workflow file, checked against the steps that `catalog` says exist."""
    definition, problems = file_problems(path, catalog)
    if problems or definition is None:
        key, problem = problems[0]
        raise WorkflowDefinitionError(path.name, key, problem)
    return Workflow(definition, path.name)


def workflow_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES)


class WorkflowRegistry:
    def __init__(self, workflows: list[Workflow]) -> None:
        self._by_ref = {(w.key, w.version): w for w in workflows}

    @classmethod
    def from_directory(cls, directory: Path, catalog: StepCatalog) -> "WorkflowRegistry":
        files = workflow_files(directory)
        if not files:
            raise WorkflowDefinitionError(str(directory), "(directory)", "no workflow files")
        return cls([load_file(path, catalog) for path in files])

    def get(self, key: str, version: int) -> Workflow:
        """The loaded version a case is pinned to; WorkflowUnavailable (503) if not loaded."""
        found = self.find(key, version)
        if found is None:
            raise WorkflowUnavailable(key, version)
        return found

    def find(self, key: str, version: int) -> Workflow | None:
        return self._by_ref.get((key, version))

    def latest(self, key: str) -> Workflow | None:
        versions = [w for (k, _), w in self._by_ref.items() if k == key]
        return max(versions, key=lambda w: w.version, default=None)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_ref.values())
