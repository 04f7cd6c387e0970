"""The one registry of the guards and effects that workflow files name.

A guard or an effect is one decorated function; the decorator declares what it needs (request
fields, document types, values handed on by earlier effects) and what it hands on. The
workflow loader reads `STEPS.catalog()`, so a file naming an unknown step, or effects in an
order that cannot work, is refused when it loads.

    @STEPS.effect("record_receipt", provides=("received_at",))
    def record_receipt(f: Firing) -> dict[str, Any]:
        f.case.received_at = f.now
        return {"received_at": f.now.isoformat()}
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.cases.models import Case
from app.cases.schemas import Missing, TransitionRequest
from app.context import AppContext
from app.deadlines.clock import ClockState
from app.engine.steps import StepCatalog, StepSpec
from app.engine.workflow import Workflow

# Request fields that are not workflow fields: the action itself.
NOT_FIELDS = frozenset({"action"})


@dataclass
class Firing:
    """What an effect may read or change while its transition is applied."""

    session: Session
    ctx: AppContext
    actor: Actor
    case: Case
    workflow: Workflow
    request: TransitionRequest
    now: datetime
    # The case's clock as it was before the transition (for pausing and resuming it).
    clock_before: ClockState
    # Values handed on by the effects that ran before, by the names they declared.
    handed_on: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """What a guard may read: the case as it stands, before anything changes."""

    session: Session
    ctx: AppContext
    case: Case


Guard = Callable[[Check], list[Missing]]
Effect = Callable[[Firing], Mapping[str, Any]]


class StepRegistry:
    def __init__(self) -> None:
        self._guards: dict[str, tuple[StepSpec, Guard]] = {}
        self._effects: dict[str, tuple[StepSpec, Effect]] = {}

    def guard(
        self, name: str, *, fields: tuple[str, ...] = (), documents: tuple[str, ...] = ()
    ) -> Callable[[Guard], Guard]:
        spec = StepSpec(name, fields=fields, documents=documents)

        def register(function: Guard) -> Guard:
            self._add(self._guards, spec, function)
            return function

        return register

    def effect(
        self,
        name: str,
        *,
        fields: tuple[str, ...] = (),
        documents: tuple[str, ...] = (),
        needs: tuple[str, ...] = (),
        provides: tuple[str, ...] = (),
    ) -> Callable[[Effect], Effect]:
        spec = StepSpec(name, fields=fields, documents=documents, needs=needs, provides=provides)

        def register(function: Effect) -> Effect:
            self._add(self._effects, spec, function)
            return function

        return register

    @staticmethod
    def _add(table: dict[str, Any], spec: StepSpec, function: Any) -> None:
        if spec.name in table:
            raise ValueError(f"step {spec.name!r} is registered twice")
        unknown = set(spec.fields) - request_fields()
        if unknown:
            raise ValueError(f"step {spec.name!r} reads unknown fields {sorted(unknown)}")
        table[spec.name] = (spec, function)

    def catalog(self) -> StepCatalog:
        return StepCatalog(
            fields=request_fields(),
            guards={name: spec for name, (spec, _) in self._guards.items()},
            effects={name: spec for name, (spec, _) in self._effects.items()},
        )

    def check(self, name: str, check: Check) -> list[Missing]:
        _, function = self._guards[name]
        return function(check)

    def apply(self, name: str, firing: Firing) -> Mapping[str, Any]:
        """Run effect `name`; what it returns is recorded, and handed on as declared."""
        spec, function = self._effects[name]
        missing = [value for value in spec.needs if value not in firing.handed_on]
        if missing:
            raise RuntimeError(f"effect {name!r} runs before {missing} were handed on")
        recorded = function(firing)
        for value in spec.provides:
            if value in recorded:
                firing.handed_on[value] = recorded[value]
        return recorded


def request_fields() -> frozenset[str]:
    """Every field a transition request may carry, as the API's schema declares them."""
    return frozenset(TransitionRequest.model_fields) - NOT_FIELDS


# Filled by the decorators in effects.py and guards.py; use it through app/admission/registry.py.
STEPS = StepRegistry()
