"""What a workflow file may name: request fields, guards and effects, and what each needs.

The engine knows only the declarations; the admission layer registers the functions that
implement them (`app/admission/steps.py`) and hands the resulting catalogue to the loader,
which refuses a file naming an unknown step, a step without the request fields or document
types it needs, or effects in an order in which one would read a value not yet handed on.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StepSpec:
    """A named guard or effect and what it needs from the transition that runs it."""

    name: str
    # Request fields it reads: the transition must take each (as a field or optional field).
    fields: tuple[str, ...] = ()
    # Document types the workflow file must define for it.
    documents: tuple[str, ...] = ()
    # Values handed on by effects that run before it in the same transition.
    needs: tuple[str, ...] = ()
    # Values it hands on to the effects after it (and records in the history entry).
    provides: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepCatalog:
    """Every request field, guard and effect a workflow file may name."""

    fields: frozenset[str] = frozenset()
    guards: Mapping[str, StepSpec] = field(default_factory=dict)
    effects: Mapping[str, StepSpec] = field(default_factory=dict)
