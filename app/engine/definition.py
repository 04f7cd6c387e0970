"""The shape of a workflow file, validated by pydantic when it is loaded.

A file describes states, the transitions between them (who may fire each, which documents
and fields it needs, which guards and effects run) and the document types of the checklist.
Structural checks that need the whole file (unknown names, unreachable states, dead ends,
duplicate triggers) are done in `WorkflowDefinition.check`, which reports the offending key.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.engine.roles import Role
from app.engine.steps import StepCatalog, StepSpec

RETURN_TO_REQUESTER = "@return"
# The request field in which an action names the document types it asks to be supplied again.
REQUESTED_DOCUMENTS_FIELD = "supplement_documents"

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(Strict):
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class DocumentTypeSpec(Strict):
    label: Label
    uploaded_by: tuple[Role, ...] = Field(min_length=1)
    upload_states: tuple[Name, ...] | None = None
    # Produced by the service itself (a letter), never uploaded through the API.
    generated: bool = False
    # The letter of the service filed under this type (`intake_receipt`, `supplement_notice`);
    # a generated type named as a letter is that letter.
    letter: Name | None = None
    # A result of the procedure, as the public-service portal lists them.
    result: bool = False


class StateSpec(Strict):
    label: Label
    acting_roles: tuple[Role, ...] = ()
    portal_code: str | None = None
    deadline_working_days: int | None = Field(default=None, gt=0)
    # Whether the applicant may edit the case's descriptive fields in this state.
    editable: bool = False
    terminal: bool = False


class TransitionSpec(Strict):
    action: Name
    source: tuple[Name, ...]
    dest: Name | Literal["@return"]
    roles: tuple[Role, ...] = Field(min_length=1)
    documents: tuple[Name, ...] = ()
    # Documents that must be new: uploaded after the case last entered the source state, and
    # after this transition last fired during the visit (a second site visit needs new minutes).
    fresh_documents: tuple[Name, ...] = ()
    # An action that asks for documents in its `supplement_documents` field: the types its
    # last firing named (the one that brought the case into the source state) must have been
    # uploaded after it.
    fresh_documents_requested_by: Name | None = None
    fields: tuple[Name, ...] = ()
    # Fields the request may carry besides `comment` and `reason` (never required).
    optional_fields: tuple[Name, ...] = ()
    guards: tuple[Name, ...] = ()
    effects: tuple[Name, ...] = ()

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @property
    def needed_documents(self) -> tuple[str, ...]:
        """Every document type the transition names: on file, or on file and new."""
        return (*self.documents, *self.fresh_documents)


class ConsultationSpec(Strict):
    deadline_working_days: int = Field(gt=0)
    opinion_document: Name
    # What the Ministry sends each consulted ministry with its request (DESIGN §2): the
    # dossier and the Council's proposal. A consulted ministry reads these and what it
    # uploaded itself (its opinion), no other document of the case (see app/access.py).
    shared_documents: tuple[Name, ...] = ()


class WorkflowDefinition(Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: int = Field(ge=1)
    title: Label
    initial: Name
    consultation: ConsultationSpec | None = None
    document_types: dict[Name, DocumentTypeSpec]
    states: dict[Name, StateSpec] = Field(min_length=1)
    transitions: tuple[TransitionSpec, ...] = Field(min_length=1)

    def check(self, catalog: StepCatalog) -> list[tuple[str, str]]:
        """Every structural problem as (key, problem); empty when the file is sound.

        `catalog` says which request fields, guards and effects exist and what each needs.
        """
        problems: list[tuple[str, str]] = []
        if self.initial not in self.states:
            problems.append(("initial", f"unknown state {self.initial!r}"))
        for name, doc_type in self.document_types.items():
            if doc_type.letter is not None and not doc_type.generated:
                problems.append(
                    (f"document_types.{name}.letter", "a letter's type must be generated: true")
                )
            for state in doc_type.upload_states or ():
                if state not in self.states:
                    problems.append(
                        (f"document_types.{name}.upload_states", f"unknown state {state!r}")
                    )
        if self.consultation and self.consultation.opinion_document not in self.document_types:
            problems.append(
                (
                    "consultation.opinion_document",
                    f"unknown document type {self.consultation.opinion_document!r}",
                )
            )
        problems.extend(self._check_shared_documents())
        seen: dict[tuple[str, str], int] = {}
        for index, t in enumerate(self.transitions):
            where = f"transitions[{index}] ({t.action})"
            for source in t.source:
                if source not in self.states:
                    problems.append((f"{where}.source", f"unknown state {source!r}"))
                elif self.states[source].terminal:
                    problems.append((f"{where}.source", f"state {source!r} is terminal"))
                if (source, t.action) in seen:
                    problems.append(
                        (
                            f"{where}.action",
                            f"duplicate trigger {t.action!r} from {source!r} "
                            f"(also transitions[{seen[source, t.action]}])",
                        )
                    )
                seen[source, t.action] = index
            if t.dest != RETURN_TO_REQUESTER and t.dest not in self.states:
                problems.append((f"{where}.dest", f"unknown state {t.dest!r}"))
            if t.dest == RETURN_TO_REQUESTER and not self.return_targets(t):
                problems.append(
                    (f"{where}.dest", "@return but no transition leads into its source")
                )
            for doc in t.documents:
                if doc not in self.document_types:
                    problems.append((f"{where}.documents", f"unknown document type {doc!r}"))
            problems.extend(self._check_fresh_documents(where, t))
            if t.fresh_documents_requested_by is not None:
                problems.extend(self._check_requested_by(where, t, t.fresh_documents_requested_by))
            for key, names in (("fields", t.fields), ("optional_fields", t.optional_fields)):
                for name in names:
                    if name not in catalog.fields:
                        problems.append((f"{where}.{key}", f"unknown field {name!r}"))
            handed_on: set[str] = set()
            for kind, names, known in (
                ("guards", t.guards, catalog.guards),
                ("effects", t.effects, catalog.effects),
            ):
                for name in names:
                    step = known.get(name)
                    if step is None:
                        problems.append((f"{where}.{kind}", f"unknown {kind[:-1]} {name!r}"))
                        continue
                    problems.extend(self._check_step(f"{where}.{kind}", t, step, handed_on))
                    handed_on.update(step.provides)
        if problems:
            return problems
        return self._check_graph()

    def letter_type(self, letter: str) -> str | None:
        """The document type a letter of the service is filed under in this workflow."""
        for name, spec in self.document_types.items():
            if spec.letter == letter:
                return name
        named = self.document_types.get(letter)
        return letter if named is not None and named.generated and named.letter is None else None

    def letter_of(self, doc_type: str) -> str | None:
        """The letter of the service that `doc_type` holds, if it holds one."""
        spec = self.document_types.get(doc_type)
        if spec is None or not spec.generated:
            return None
        return spec.letter or doc_type

    def _check_shared_documents(self) -> list[tuple[str, str]]:
        if self.consultation is None:
            return []
        key = "consultation.shared_documents"
        problems = [
            (key, f"unknown document type {name!r}")
            for name in self.consultation.shared_documents
            if name not in self.document_types
        ]
        if self.consultation.opinion_document in self.consultation.shared_documents:
            # Each ministry's opinion is its own: sharing the type would show every
            # ministry the others' opinions.
            problems.append(
                (
                    key,
                    f"the opinion document {self.consultation.opinion_document!r} is never shared",
                )
            )
        return problems

    def _check_step(
        self, where: str, t: TransitionSpec, step: StepSpec, handed_on: set[str]
    ) -> list[tuple[str, str]]:
        """What `step` needs that transition `t` does not give it."""
        problems = []
        taken = {*t.fields, *t.optional_fields, "comment", "reason"}
        for name in step.fields:
            if name not in taken:
                problems.append((where, f"{step.name!r} reads field {name!r}, not taken here"))
        for doc in step.documents:
            if doc not in self.document_types and self.letter_type(doc) is None:
                problems.append(
                    (
                        where,
                        f"{step.name!r} needs document type {doc!r} (or a generated type "
                        f"with letter: {doc})",
                    )
                )
        for value in step.needs:
            if value not in handed_on:
                problems.append(
                    (where, f"{step.name!r} needs {value!r} from an effect listed before it")
                )
        return problems

    def _check_fresh_documents(self, where: str, t: TransitionSpec) -> list[tuple[str, str]]:
        """Each fresh document exists, is uploaded (not a letter), and can be in every source."""
        problems = []
        key = f"{where}.fresh_documents"
        for doc in t.fresh_documents:
            spec = self.document_types.get(doc)
            if spec is None:
                problems.append((key, f"unknown document type {doc!r}"))
            elif spec.generated:
                problems.append((key, f"{doc!r} is a letter of the service, never uploaded"))
            elif doc in t.documents:
                problems.append((key, f"{doc!r} is in documents too; list it in one place"))
            else:
                problems.extend(
                    (key, f"{doc!r} cannot be uploaded in {source!r}, so it is never new there")
                    for source in t.source
                    if spec.upload_states is not None and source not in spec.upload_states
                )
        return problems

    def _check_requested_by(
        self, where: str, t: TransitionSpec, action: str
    ) -> list[tuple[str, str]]:
        """The requesting action exists, leads into `t`'s source, and names documents."""
        key = f"{where}.fresh_documents_requested_by"
        asking = [
            other
            for other in self.transitions
            if other.action == action and other.dest != RETURN_TO_REQUESTER
        ]
        if not any(other.action == action for other in self.transitions):
            return [(key, f"unknown action {action!r}")]
        leading_in = [other for other in asking if other.dest in t.source]
        if not leading_in:
            return [(key, f"{action!r} never leads into {', '.join(t.source)}")]
        return [
            (
                key,
                f"{action!r} from {', '.join(other.source)} does not take the field "
                f"{REQUESTED_DOCUMENTS_FIELD!r}",
            )
            for other in leading_in
            if REQUESTED_DOCUMENTS_FIELD not in (*other.fields, *other.optional_fields)
        ]

    def return_targets(self, transition: TransitionSpec) -> tuple[str, ...]:
        """States a `@return` transition may go back to: those that lead into its source."""
        targets = {
            source
            for t in self.transitions
            if t.dest in transition.source
            for source in t.source
            if source not in transition.source
        }
        return tuple(sorted(targets))

    def destinations(self, transition: TransitionSpec) -> tuple[str, ...]:
        if transition.dest == RETURN_TO_REQUESTER:
            return self.return_targets(transition)
        return (transition.dest,)

    def _check_graph(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        edges: dict[str, set[str]] = {name: set() for name in self.states}
        for t in self.transitions:
            for source in t.source:
                edges[source].update(self.destinations(t))
        reachable, frontier = {self.initial}, [self.initial]
        while frontier:
            for nxt in edges[frontier.pop()] - reachable:
                reachable.add(nxt)
                frontier.append(nxt)
        for name, state in self.states.items():
            if name not in reachable:
                problems.append((f"states.{name}", "unreachable from the initial state"))
            if not state.terminal and not (edges[name] - {name}):
                problems.append((f"states.{name}", "not terminal but has no transition out"))
        return problems
