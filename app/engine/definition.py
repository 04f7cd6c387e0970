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
    fields: tuple[Name, ...] = ()
    # Fields the request may carry besides `comment` and `reason` (never required).
    optional_fields: tuple[Name, ...] = ()
    guards: tuple[Name, ...] = ()
    effects: tuple[Name, ...] = ()

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class ConsultationSpec(Strict):
    deadline_working_days: int = Field(gt=0)
    opinion_document: Name


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
            if doc not in self.document_types:
                problems.append((where, f"{step.name!r} needs document type {doc!r}"))
        for value in step.needs:
            if value not in handed_on:
                problems.append(
                    (where, f"{step.name!r} needs {value!r} from an effect listed before it")
                )
        return problems

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
