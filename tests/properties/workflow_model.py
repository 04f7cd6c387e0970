"""What the API must do with one dossier, worked out from the workflow file alone.

The model reads `workflows/qtsc-chain-admission.v1.yaml` with `yaml.safe_load`, never through
the engine, and answers for a case as it knows it: does a transition, an upload or a
consultation answer succeed (and where does the case go), or which refusal of the API contract
(DESIGN §4, §7) comes back. A transition is judged in this order: the request's shape,
`If-Match`, visibility, version, the action, the role, the state, the fields, what the case
lacks, and last the values themselves.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml

WORKFLOW_FILE = Path(__file__).resolve().parents[2] / "workflows" / "qtsc-chain-admission.v1.yaml"
RETURN = "@return"
# Every transition takes a comment and a reason, besides the fields the file names.
ALWAYS_TAKEN = frozenset({"comment", "reason"})
GUARDS = frozenset({"consultations_settled", "extension_available"})

IfMatch = Literal["current", "stale", "missing"]


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    documents: tuple[str, ...]
    fields: tuple[str, ...]
    optional_fields: tuple[str, ...]
    guards: tuple[str, ...]
    effects: tuple[str, ...]
    # Documents that must be new since the case entered the state or this action last fired.
    fresh_documents: tuple[str, ...] = ()
    # The action whose last `supplement_documents` must be uploaded after it.
    requested_by: str | None = None

    @property
    def takes(self) -> frozenset[str]:
        return ALWAYS_TAKEN | set(self.fields) | set(self.optional_fields)


@dataclass(frozen=True)
class DocumentType:
    name: str
    uploaded_by: frozenset[str]
    upload_states: frozenset[str] | None
    generated: bool

    def may_upload(self, role: str, state: str) -> bool:
        return role in self.uploaded_by and (
            self.upload_states is None or state in self.upload_states
        )


@dataclass(frozen=True)
class WorkflowFile:
    initial: str
    states: tuple[str, ...]
    terminal: frozenset[str]
    transitions: tuple[Transition, ...]
    document_types: Mapping[str, DocumentType]
    opinion_document: str

    @classmethod
    def load(cls, path: Path = WORKFLOW_FILE) -> "WorkflowFile":
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        transitions = tuple(
            Transition(
                action=t["action"],
                sources=(t["source"],) if isinstance(t["source"], str) else tuple(t["source"]),
                dest=t["dest"],
                roles=frozenset(t["roles"]),
                documents=tuple(t.get("documents", ())),
                fields=tuple(t.get("fields", ())),
                optional_fields=tuple(t.get("optional_fields", ())),
                guards=tuple(t.get("guards", ())),
                effects=tuple(t.get("effects", ())),
                fresh_documents=tuple(t.get("fresh_documents", ())),
                requested_by=t.get("fresh_documents_requested_by"),
            )
            for t in raw["transitions"]
        )
        unknown = {g for t in transitions for g in t.guards} - GUARDS
        assert not unknown, f"the model does not know the guards {sorted(unknown)}"
        document_types = {
            name: DocumentType(
                name=name,
                uploaded_by=frozenset(spec["uploaded_by"]),
                upload_states=(
                    frozenset(spec["upload_states"]) if "upload_states" in spec else None
                ),
                generated=bool(spec.get("generated", False)),
            )
            for name, spec in raw["document_types"].items()
        }
        return cls(
            initial=raw["initial"],
            states=tuple(raw["states"]),
            terminal=frozenset(n for n, s in raw["states"].items() if s.get("terminal")),
            transitions=transitions,
            document_types=document_types,
            opinion_document=raw["consultation"]["opinion_document"],
        )

    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.action for t in self.transitions))

    def leaving(self, state: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if state in t.sources)

    def transition(self, state: str, action: str) -> Transition | None:
        return next((t for t in self.leaving(state) if t.action == action), None)

    def with_action(self, action: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.action == action)

    def remembers_origin(self, state: str) -> bool:
        """Whether a case entering `state` must remember where it came from (`@return`)."""
        return any(t.dest == RETURN and state in t.sources for t in self.transitions)

    def destinations(self, t: Transition) -> set[str]:
        if t.dest != RETURN:
            return {t.dest}
        return {
            source
            for other in self.transitions
            if other.dest in t.sources
            for source in other.sources
            if source not in t.sources
        }

    def distances_to(self, goal: str) -> dict[str, int]:
        """Fewest transitions from each state to `goal`; states that cannot reach it are absent."""
        distance = {goal: 0}
        frontier = [goal]
        while frontier:
            target = frontier.pop(0)
            for t in self.transitions:
                if target in self.destinations(t):
                    for source in t.sources:
                        if source not in distance:
                            distance[source] = distance[target] + 1
                            frontier.append(source)
        return distance


@dataclass(frozen=True)
class Actor:
    who: str
    org: str
    org_kind: str
    role: str


@dataclass(frozen=True)
class Outcome:
    status: int
    code: str | None = None
    dest: str | None = None

    @property
    def ok(self) -> bool:
        return self.status < 300


def refused(status: int, code: str) -> Outcome:
    return Outcome(status, code)


@dataclass(frozen=True)
class TransitionRequest:
    action: str
    # The body's fields besides `action`, as sent.
    body: Mapping[str, Any]
    if_match: IfMatch
    # False when the body breaks the request schema itself (a date that is no date, …).
    well_formed: bool = True


@dataclass(frozen=True)
class World:
    """What the model needs beyond the file: the organisations, the day and the calendar."""

    org_kinds: Mapping[str, str]
    is_working_day: Callable[[date], bool]


@dataclass
class Consultation:
    ministry: str
    id: str
    due_at: date
    opinion: bool = False
    answered: bool = False
    closed: bool = False

    def settled(self, today: date) -> bool:
        return self.answered or self.due_at < today


@dataclass(frozen=True)
class Fired:
    """When (in the model's own count of changes) an action last succeeded, and with what."""

    tick: int
    to_state: str
    body: Mapping[str, Any]


def slug_of(entry: Any) -> str:
    """The ministry an entry of `open_consultation`'s `ministries` names."""
    return str(entry["ministry"]) if isinstance(entry, dict) else str(entry)


def blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


@dataclass
class CaseModel:
    workflow: WorkflowFile
    owner: str
    state: str
    return_state: str | None = None
    documents: set[str] = field(default_factory=set)
    extended: bool = False
    consultations: list[Consultation] = field(default_factory=list)
    history: list[tuple[str, str | None, str]] = field(default_factory=list)
    # A count of the case's changes, standing in for time: what happened after what.
    tick: int = 0
    entered_at: int = 0
    uploaded_at: dict[str, int] = field(default_factory=dict)
    fired: dict[str, Fired] = field(default_factory=dict)

    @classmethod
    def new(cls, workflow: WorkflowFile, owner: str) -> "CaseModel":
        return cls(workflow, owner, workflow.initial, history=[("create", None, workflow.initial)])

    # What the case is, as each actor sees it.

    def visible_to(self, actor: Actor) -> bool:
        if actor.role == "applicant":
            return actor.org == self.owner
        if actor.role == "consulted":
            return any(c.ministry == actor.org for c in self.consultations)
        return True

    def open_consultations(self) -> list[Consultation]:
        return [c for c in self.consultations if not c.closed]

    def latest_consultation(self, ministry: str) -> Consultation | None:
        return next((c for c in reversed(self.consultations) if c.ministry == ministry), None)

    def destination(self, t: Transition) -> str | None:
        return self.return_state if t.dest == RETURN else t.dest

    def lacking(self, t: Transition, today: date) -> list[tuple[str, str]]:
        """What the case itself lacks for `t`, as (kind, name): documents, then unmet guards."""
        missing = [("document", doc) for doc in t.documents if doc not in self.documents]
        missing += [("document", doc) for doc in self.not_new(t)]
        for guard in t.guards:
            if guard == "consultations_settled":
                missing += [
                    ("consultation", c.ministry)
                    for c in self.open_consultations()
                    if not c.settled(today)
                ]
            elif guard == "extension_available" and self.extended:
                missing.append(("extension", t.action))
        return missing

    def not_new(self, t: Transition) -> list[str]:
        """`t`'s fresh documents not uploaded since their mark (or not at all)."""
        wanted: list[tuple[str, int]] = []
        if t.fresh_documents:
            mark = self.entered_at
            last = self.fired.get(t.action)
            if last and last.to_state == self.state and last.tick >= self.entered_at:
                mark = last.tick
            wanted += [(doc, mark) for doc in t.fresh_documents]
        if t.requested_by:
            asked = self.fired.get(t.requested_by)
            if asked and asked.to_state == self.state and asked.tick >= self.entered_at:
                wanted += [
                    (doc, asked.tick) for doc in asked.body.get("supplement_documents") or []
                ]
        return [doc for doc, mark in wanted if self.uploaded_at.get(doc, -1) <= mark]

    def allowed_actions(
        self, actor: Actor, today: date
    ) -> dict[str, tuple[str | None, list[str], list[tuple[str, str]]]]:
        """Per action the actor's role may fire from here: destination, fields, what is lacking."""
        return {
            t.action: (self.destination(t), list(t.fields), sorted(self.lacking(t, today)))
            for t in self.workflow.leaving(self.state)
            if actor.role in t.roles
        }

    # Transitions.

    def fire(
        self,
        actor: Actor,
        request: TransitionRequest,
        *,
        today: date,
        due_at: date | None,
        world: World,
    ) -> Outcome:
        if not request.well_formed:
            return refused(422, "invalid")
        if request.if_match == "missing":
            return refused(428, "precondition_required")
        # What the OpenAPI document's body for the action rules out: 422 before the case is
        # read, so before a stale If-Match.
        everywhere = self.workflow.with_action(request.action)
        if not everywhere:
            return refused(422, "invalid")
        given = {name for name, value in request.body.items() if value is not None}
        if given - frozenset().union(*(t.takes for t in everywhere)):
            return refused(422, "invalid")
        if not self._supplement_documents_listed(request.body):
            return refused(422, "invalid")
        if not self.visible_to(actor):
            return refused(404, "not_found")
        if request.if_match == "stale":
            return refused(412, "version_mismatch")
        if not any(actor.role in t.roles for t in everywhere):
            return refused(403, "forbidden")
        t = self.workflow.transition(self.state, request.action)
        if t is None:
            return refused(409, "transition_not_allowed")
        if actor.role not in t.roles:
            return refused(403, "forbidden")
        if given - t.takes:
            return refused(409, "value_conflict")
        if any(blank(request.body.get(name)) for name in t.fields) or self.lacking(t, today):
            return refused(409, "requirements_missing")
        if not self._values_make_sense(actor, t, request.body, today, due_at, world):
            return refused(409, "value_conflict")
        return Outcome(200, dest=self.destination(t))

    def _supplement_documents_listed(self, body: Mapping[str, Any]) -> bool:
        """Distinct types the document lists: uploadable wherever a supplement request leads."""
        listed = body.get("supplement_documents")
        if listed is None:
            return True
        types = self.workflow.document_types
        dests = [t.dest for t in self.workflow.transitions if "supplement_documents" in t.takes]
        return len(set(listed)) == len(listed) and all(
            name in types
            and not types[name].generated
            and all(
                types[name].upload_states is None or d in types[name].upload_states for d in dests
            )
            for name in listed
        )

    def _values_make_sense(
        self,
        actor: Actor,
        t: Transition,
        body: Mapping[str, Any],
        today: date,
        due_at: date | None,
        world: World,
    ) -> bool:
        asked = body.get("ministries")
        if "ministries" in t.takes and asked is not None:
            # Each a slug, or an object naming its ministry with a deadline of its own.
            ministries = [slug_of(entry) for entry in asked]
            consultable = all(world.org_kinds.get(slug) == "ministry" for slug in ministries)
            if not consultable or len(set(ministries)) != len(ministries):
                return False
            if actor.org in ministries:
                return False
        new_due = body.get("new_due_date")
        if "new_due_date" in t.takes and new_due is not None:
            day = date.fromisoformat(new_due)
            if due_at is None or day <= due_at or day <= today or not world.is_working_day(day):
                return False
        return True

    def apply(self, t: Transition, body: Mapping[str, Any]) -> None:
        """The case after `t` succeeded (consultations it opens are added by `opened`)."""
        origin = self.state
        dest = self.destination(t)
        assert dest is not None
        if "extend_deadline" in t.effects:
            self.extended = True
        elif dest != origin and not {"pause_clock", "resume_clock"} & set(t.effects):
            # A new state visit has a fresh clock; a supplement only stops and restarts it.
            self.extended = False
        if dest != origin and self.workflow.remembers_origin(dest):
            self.return_state = origin
        self.tick += 1
        if dest != origin:
            self.entered_at = self.tick
        self.fired[t.action] = Fired(self.tick, dest, dict(body))
        if "close_consultations" in t.effects:
            for c in self.open_consultations():
                c.closed = True
        self.state = dest
        self.history.append((t.action, origin, dest))

    def opened(self, consultations: Iterable[Consultation]) -> None:
        self.consultations.extend(consultations)

    # Documents.

    def upload(
        self, actor: Actor, doc_type: str, *, content_ok: bool, if_match: IfMatch = "current"
    ) -> Outcome:
        """An upload; its `If-Match` is optional ("missing" is as good as "current")."""
        if not self.visible_to(actor):
            return refused(404, "not_found")
        types = self.workflow.document_types
        own = [spec for spec in types.values() if actor.role in spec.uploaded_by]
        if not own:
            return refused(403, "forbidden")
        if not any(spec.upload_states is None or self.state in spec.upload_states for spec in own):
            return refused(409, "not_allowed_in_state")
        spec = types.get(doc_type)
        if spec is None:
            return refused(422, "invalid")
        if spec.generated:
            return refused(403, "forbidden")
        if if_match == "stale":  # checked once the form is read
            return refused(412, "version_mismatch")
        if actor.role not in spec.uploaded_by:
            return refused(403, "forbidden")
        if not spec.may_upload(actor.role, self.state):
            return refused(409, "not_allowed_in_state")
        if actor.role == "consulted" and not any(
            c.ministry == actor.org for c in self.open_consultations()
        ):
            return refused(409, "not_allowed_in_state")
        if not content_ok:
            return refused(415, "unsupported_type")
        return Outcome(201)

    def uploaded(self, actor: Actor, doc_type: str) -> None:
        self.history.append(("upload_document", self.state, self.state))
        self.documents.add(doc_type)
        self.tick += 1
        self.uploaded_at[doc_type] = self.tick
        if doc_type == self.workflow.opinion_document:
            for c in self.open_consultations():
                if c.ministry == actor.org:
                    c.opinion = True

    # Consultation answers.

    def answer(
        self,
        actor: Actor,
        consultation: Consultation | None,
        *,
        verdict_ok: bool,
        if_match: IfMatch = "current",
    ) -> Outcome:
        if not verdict_ok:
            return refused(422, "invalid")
        if if_match == "missing":
            return refused(428, "precondition_required")
        if not self.visible_to(actor):
            return refused(404, "not_found")
        if consultation is None or (
            actor.role == "consulted" and consultation.ministry != actor.org
        ):
            return refused(404, "not_found")
        if actor.role != "consulted":
            return refused(403, "forbidden")
        if if_match == "stale":
            return refused(412, "version_mismatch")
        if consultation.closed or consultation.answered or not consultation.opinion:
            return refused(409, "not_allowed_in_state")
        return Outcome(200)

    def answered(self, consultation: Consultation) -> None:
        self.history.append(("answer_consultation", self.state, self.state))
        consultation.answered = True
