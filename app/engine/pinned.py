"""Whether every workflow version that cases are pinned to is loaded.

A case keeps the workflow version it started with, so that version's file must stay loaded
for as long as the case exists. A version goes missing when a deployment drops or renames its
file, or, while the service runs, when another process sharing the database (a newer
deployment, an import, a migration of running cases) writes cases pinned to a version this
process never loaded. The service refuses to start in that state, and `/readyz` reports it.

A published version is also immutable: each loaded version's content hash is recorded the
first time it is loaded, and a file that no longer hashes to it while cases use its version
(an edit in place instead of a new version) is refused the same way. A version no case uses
yet may still be corrected; its new hash is then recorded.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from app.core.errors import ServiceFault
from app.engine.loader import WorkflowRegistry


def _cases(count: int) -> str:
    return "1 case" if count == 1 else f"{count} cases"


@dataclass(frozen=True)
class UnloadedVersion:
    """A (workflow key, version) that `cases` cases use and that is not loaded."""

    key: str
    version: int
    cases: int

    def describe(self) -> str:
        used_by = _cases(self.cases)
        return (
            f"workflow {self.key!r} version {self.version} is used by {used_by} "
            f"but is not loaded (no file {self.key}.v{self.version}.yaml)"
        )


class UnloadedWorkflows(ServiceFault):
    """Cases in the database use workflow versions that are not loaded."""

    def __init__(self, problems: list[UnloadedVersion], workflows_dir: str) -> None:
        self.problems = problems
        listed = "; ".join(p.describe() for p in problems)
        super().__init__(
            f"{listed}. Deploy the missing file(s) into {workflows_dir}: a workflow version "
            "must stay loaded as long as a case uses it."
        )


@dataclass(frozen=True)
class EditedVersion:
    """A loaded (workflow key, version) that `cases` cases use, whose file changed since the
    version was first loaded."""

    key: str
    version: int
    source: str
    recorded_hash: str
    loaded_hash: str
    cases: int

    def describe(self) -> str:
        used_by = _cases(self.cases)
        return (
            f"{self.source}: workflow {self.key!r} version {self.version} was edited in place "
            f"(content hash {self.loaded_hash[:12]}, recorded {self.recorded_hash[:12]}) and "
            f"is used by {used_by}"
        )


class EditedWorkflows(ServiceFault):
    """Published workflow versions that cases use were edited in place."""

    def __init__(self, problems: list[EditedVersion], workflows_dir: str) -> None:
        self.problems = problems
        listed = "; ".join(p.describe() for p in problems)
        super().__init__(
            f"{listed}. A published version is immutable: restore the file in {workflows_dir} "
            "and put the change in a new version (key.vN+1.yaml), then migrate the running "
            "cases with `admission workflow migrate`."
        )


def edited_versions(
    recorded: Mapping[tuple[str, int], str],
    registry: WorkflowRegistry,
    count: Callable[[str, int], int],
) -> list[EditedVersion]:
    """Of the loaded versions whose recorded hash differs from the loaded one, those that
    cases use (`count` is asked only about these)."""
    found = []
    for workflow in sorted(registry, key=lambda w: (w.key, w.version)):
        before = recorded.get((workflow.key, workflow.version))
        if before is None or before == workflow.content_hash:
            continue
        cases = count(workflow.key, workflow.version)
        if cases:
            found.append(
                EditedVersion(
                    workflow.key,
                    workflow.version,
                    workflow.source,
                    before,
                    workflow.content_hash,
                    cases,
                )
            )
    return found


def unloaded_versions(
    in_use: Iterable[tuple[str, int]],
    registry: WorkflowRegistry,
    count: Callable[[str, int], int],
) -> list[UnloadedVersion]:
    """Of the (key, version) pairs cases use, those not in `registry`, in key and version
    order, each with its number of cases (`count` is asked only about these: counting every
    version would read every case)."""
    return [
        UnloadedVersion(key, version, count(key, version))
        for key, version in sorted(set(in_use))
        if registry.find(key, version) is None
    ]
