"""Schemathesis against the app's own OpenAPI, in-process over ASGI, as it is run from outside.

The demo Chain is loaded, then Schemathesis' engine - what `schemathesis run` drives - runs
every phase (examples, coverage, fuzzing, stateful) with every check, configured by the
repository's `schemathesis.toml` and its hooks (tests/fuzz/hooks.py), as the Council
(`hdqlc`), a province (`ben-tre`) and a consulted ministry (`mpi`), on each database. Any
failed check or error fails the test, which lists them.

Deterministic and bounded: a fixed seed, `FUZZ_EXAMPLES` examples per operation and phase
(default 4) and `FUZZ_STEPS` steps per stateful scenario (default 6), no deadline.
`FUZZ_EXAMPLES=100 FUZZ_STEPS=20 python -m pytest tests/fuzz` is the long run of the README;
`FUZZ_SEED` picks another seed.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

import tests.fuzz.hooks  # noqa: F401 - registers the hooks schemathesis.toml names
from app.admission.registry import build_context
from app.core.config import Settings
from app.demo import seed
from app.main import create_app
from tests.databases import sibling_database

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", "10"))
STEPS = int(os.environ.get("FUZZ_STEPS", "8"))
SEED = int(os.environ.get("FUZZ_SEED", "20261123"))
ROOT = Path(__file__).resolve().parents[2]
PHASES = ["examples", "coverage", "fuzzing", "stateful"]
# The Council, a province, a consulted ministry (demo organisations, app/demo/chain.py).
ROLES = ["hdqlc", "ben-tre", "mpi"]


def quick_pdf(title: str, applicant: str, *, created: object) -> bytes:
    return f"%PDF-1.4\n% {title} / {applicant} / {created}\n%%EOF\n".encode()


@dataclass
class Chain:
    app: FastAPI
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def chain(backend: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    root = tmp_path_factory.mktemp("fuzz")
    settings = sibling_database(backend, root, "fuzz").model_copy(
        update={
            "storage_dir": root / "documents",
            # The checks send requests without a token and with made-up ones, many of them.
            "auth_failure_limit": 1_000_000,
            "events_max_wait_seconds": 0.2,
            # As served by default: webhooks go to public hosts only (and none is sent).
            "webhook_allow_private_hosts": False,
        }
    )
    ctx = build_context(settings)
    with pytest.MonkeyPatch.context() as patch:
        # The demo's documents only need to be PDFs here; typesetting each one is slow.
        patch.setattr(seed, "placeholder_pdf", quick_pdf)
        tokens = {slug: token for slug, _, token in seed.seed_demo(ctx)}
    yield Chain(create_app(context=ctx), tokens)
    ctx.engine.dispose()


@dataclass
class Run:
    problems: list[str] = field(default_factory=list)
    checks: set[str] = field(default_factory=set)
    operations: dict[str, set[str]] = field(default_factory=dict)
    requests: int = 0


def configured(token: str) -> SchemathesisConfig:
    """The repository's configuration, as `schemathesis run ... --checks all` applies it."""
    config = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
    config.update(seed=SEED, max_failures=None)
    # Nothing kept from an earlier run (Schemathesis replays the failures it remembers).
    config.cache.enabled = False
    project = config.projects.override
    project.update(headers={"Authorization": f"Bearer {token}"}, workers=1)
    project.phases.update(phases=PHASES)
    project.phases.stateful.max_steps = STEPS
    project.phases.stateful.generation.update(max_examples=SCENARIOS, database="none")
    project.checks.update(included_check_names=["all"])
    project.generation.update(max_examples=EXAMPLES, database="none")
    return config


def run_engine(app: FastAPI, token: str) -> Run:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=configured(token))
    run = Run()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            record(run, event)
        elif isinstance(event, events.NonFatalError):
            run.problems.append(f"error in {event.label}: {event.info.title}\n{event.info.message}")
        elif isinstance(event, events.FatalError):
            run.problems.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            run.problems.extend(f"after the run: {f.title}\n{f.message}" for f in event.failures)
    return run


def record(run: Run, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    run.requests += len(recorder.interactions)
    for node in recorder.cases.values():
        run.operations.setdefault(node.value.operation.label, set()).add(event.phase.value)
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            run.checks.add(node.name)
            if node.status is Status.FAILURE and node.failure_info is not None:
                failure = node.failure_info.failure
                case = recorder.cases[case_id].value
                interaction = recorder.interactions.get(case_id)
                answer = interaction.response if interaction is not None else None
                status = answer.status_code if answer is not None else None
                run.problems.append(
                    f"{event.phase.value}: {node.name} on {case.operation.label} ({status}): "
                    f"{failure.title}\n{failure.message}\n{node.failure_info.code_sample}"
                )


@pytest.mark.parametrize("slug", ROLES)
def test_every_check_of_every_phase_passes(
    chain: Chain, slug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # schemathesis.toml names its hooks as a module of the repository.
    monkeypatch.chdir(ROOT)
    run = run_engine(chain.app, chain.tokens[slug])
    print(f"\nfuzz as {slug}: {run.requests} requests, {len(run.operations)} operations")

    assert not run.problems, "\n\n".join(
        p if len(p) < 3000 else p[:3000] + " ..." for p in run.problems
    )
    phases = {phase for used in run.operations.values() for phase in used}
    assert phases == set(PHASES), phases
