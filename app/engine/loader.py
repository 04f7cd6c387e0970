"""Loads and validates every workflow file in a directory into a registry."""

from pathlib import Path

import yaml
from pydantic import ValidationError

from app.core.errors import WorkflowDefinitionError, WorkflowUnavailable
from app.engine.definition import WorkflowDefinition
from app.engine.steps import StepCatalog
from app.engine.workflow import Workflow

SUFFIXES = (".yaml", ".yml")


def load_file(path: Path, catalog: StepCatalog) -> Workflow:
    """One workflow file, checked against the steps that `catalog` says exist."""
    source = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise WorkflowDefinitionError(source, "(file)", f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise WorkflowDefinitionError(source, "(file)", "must be a mapping")
    try:
        definition = WorkflowDefinition.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(file)"
        raise WorkflowDefinitionError(source, key, first["msg"]) from exc
    problems = definition.check(catalog)
    if problems:
        key, problem = problems[0]
        raise WorkflowDefinitionError(source, key, problem)
    expected = f"{definition.key}.v{definition.version}"
    if path.stem != expected:
        raise WorkflowDefinitionError(source, "key", f"file must be named {expected}{path.suffix}")
    return Workflow(definition, source)


class WorkflowRegistry:
    def __init__(self, workflows: list[Workflow]) -> None:
        self._by_ref = {(w.key, w.version): w for w in workflows}

    @classmethod
    def from_directory(cls, directory: Path, catalog: StepCatalog) -> "WorkflowRegistry":
        files = sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES)
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
