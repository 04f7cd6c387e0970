"""A loaded workflow version: its definition plus the one `transitions` machine that drives it.

The machine is built once per workflow version at start-up and shared by every request.
It is never bound to a case: each firing uses a throw-away `CaseToken` carrying the case's
state, so the machine itself is never mutated and can serve many threads at once.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine

from app.engine.definition import RETURN_TO_REQUESTER, TransitionSpec, WorkflowDefinition


@dataclass
class CaseToken:
    """The part of a case the state machine needs."""

    state: str
    return_state: str | None = None


@dataclass(frozen=True)
class _ReturnsTo:
    """Condition of one expanded `@return` branch: the case came from `target`."""

    target: str

    def __call__(self, event: EventData) -> bool:
        token = event.model
        return isinstance(token, CaseToken) and token.return_state == self.target


def content_hash(definition: WorkflowDefinition) -> str:
    """SHA-256 of what the file says, as validated: comments and layout do not count, every
    state, transition, document type, deadline and label does."""
    canonical = json.dumps(
        definition.model_dump(mode="json"),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Workflow:
    def __init__(self, definition: WorkflowDefinition, source: str) -> None:
        self.definition = definition
        self.source = source
        self.key = definition.key
        self.version = definition.version
        self.content_hash = content_hash(definition)
        self._by_source: dict[str, dict[str, TransitionSpec]] = {s: {} for s in definition.states}
        for t in definition.transitions:
            for source_state in t.source:
                self._by_source[source_state][t.action] = t
        self._returns_to = {
            name
            for t in definition.transitions
            if t.dest == RETURN_TO_REQUESTER
            for name in t.source
        }
        self.machine = self._build_machine()

    def _build_machine(self) -> Machine:
        machine = Machine(
            model=None,
            states=list(self.definition.states),
            initial=self.definition.initial,
            auto_transitions=False,
            send_event=True,
        )
        for t in self.definition.transitions:
            if t.dest == RETURN_TO_REQUESTER:
                for target in self.definition.return_targets(t):
                    machine.add_transition(
                        t.action, list(t.source), target, conditions=[_ReturnsTo(target)]
                    )
            else:
                machine.add_transition(t.action, list(t.source), t.dest)
        return machine

    @property
    def ref(self) -> dict[str, Any]:
        return {"key": self.key, "version": self.version}

    def actions_from(self, state: str) -> dict[str, TransitionSpec]:
        """Transitions that leave `state`, by action name, in file order."""
        return self._by_source.get(state, {})

    def transition(self, state: str, action: str) -> TransitionSpec | None:
        return self.actions_from(state).get(action)

    def remembers_origin(self, state: str) -> bool:
        """Whether entering `state` must record where the case came from (for `@return`)."""
        return state in self._returns_to

    def fire(self, token: CaseToken, action: str) -> str:
        """Run `action` on the machine for `token` and return the state it lands in."""
        if not self.machine.events[action].trigger(token):
            raise LookupError(f"{action!r} did not fire from {token.state!r}")
        return token.state
