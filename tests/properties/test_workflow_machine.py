"""Random actions by random actors against the real API agree with a model of the workflow file.

A hypothesis `RuleBasedStateMachine` drives one dossier per example. Most steps do what the
model says is possible now (the right actor, the right documents, good fields), so runs get
deep into the workflow; the others send anything: forbidden roles, wrong states, stale or
missing `If-Match`, bad fields, uploads of the wrong type, answers to the wrong consultation.
After every step the case's state is the model's, a refused request changed nothing, every
actor's `allowed_actions` are what the model allows, and the audit chain verifies.

`PROPERTY_EXAMPLES` and `PROPERTY_STEPS` make a longer run (see the README).
"""

import os
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from app.context import AppContext
from tests.factories import CHAIN, Api, Clock, pdf_bytes
from tests.properties.workflow_model import (
    Actor,
    CaseModel,
    Consultation,
    IfMatch,
    Outcome,
    Transition,
    TransitionRequest,
    WorkflowFile,
    World,
    slug_of,
)

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "5"))
STEPS = int(os.environ.get("PROPERTY_STEPS", "60"))

WORKFLOW = WorkflowFile.load()
# Each example steers its dossier towards one end, admission more often than the others.
FATES = ("member", "member", "member", *sorted(WORKFLOW.terminal - {"member"}))
DISTANCES = {fate: WORKFLOW.distances_to(fate) for fate in FATES}
ACTORS = {who: Actor(who, slug, kind, role) for who, (slug, kind, role) in CHAIN.items()}
OWNER = ACTORS["applicant"].org
WORLD_ORGS = {actor.org: actor.org_kind for actor in ACTORS.values()}
# Monday 2 March 2026, 09:00 in Hà Nội; every example starts then.
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)

FieldChoice = Literal[
    "valid",
    "alternative",
    "none",
    "extra_field",
    "unknown_key",
    "empty_reason",
    "blank_reason",
    "bad_decision_date",
    "blank_decision_number",
    "unknown_ministry",
    "not_a_ministry",
    "own_ministry",
    "repeated_ministry",
    "no_ministries",
    "due_not_later",
    "due_on_day_off",
    "bad_due_date",
    "generated_supplement_document",
    "unknown_supplement_document",
    "unuploadable_supplement_document",
]
# Each bad input: the field it spoils, and whether the body still fits the request schema.
BAD_INPUTS: dict[FieldChoice, tuple[str, bool]] = {
    "empty_reason": ("reason", True),
    "blank_reason": ("reason", True),
    "bad_decision_date": ("decision_date", False),
    "blank_decision_number": ("decision_number", False),
    "unknown_ministry": ("ministries", True),
    "not_a_ministry": ("ministries", True),
    "own_ministry": ("ministries", True),
    "repeated_ministry": ("ministries", True),
    "no_ministries": ("ministries", True),
    "due_not_later": ("new_due_date", True),
    "due_on_day_off": ("new_due_date", True),
    "bad_due_date": ("new_due_date", False),
    "generated_supplement_document": ("supplement_documents", True),
    "unknown_supplement_document": ("supplement_documents", True),
    "unuploadable_supplement_document": ("supplement_documents", True),
}
FIELD_CHOICES: tuple[FieldChoice, ...] = (
    "valid",
    "alternative",
    "none",
    "extra_field",
    "unknown_key",
    *BAD_INPUTS,
)


@dataclass(frozen=True)
class Fire:
    who: str
    action: str
    fields: FieldChoice = "valid"
    if_match: IfMatch = "current"


@dataclass(frozen=True)
class Upload:
    who: str
    doc_type: str
    content: Literal["pdf", "text"] = "pdf"
    if_match: IfMatch = "missing"


@dataclass(frozen=True)
class Answer:
    who: str
    ministry: str
    verdict: str = "agree"
    if_match: IfMatch = "current"


@dataclass(frozen=True)
class Wait:
    days: int


Move = Fire | Upload | Answer | Wait

# How often a step picks each kind of move the model offers, when there is one of that kind,
# and the share of steps that send anything at all instead. `forward` moves bring the dossier
# nearer its fate, `astray` ones to where that fate is out of reach. A `spoiled` move is one
# that would succeed, sent with one bad input; a `misplaced` one uploads a document of this
# state as an actor who may not, or a file that is no PDF.
WEIGHTS = {
    "forward": 12,
    "prepare": 20,
    "consult": 15,
    "sideways": 10,
    "spoiled": 8,
    "misplaced": 4,
    "supersede": 2,
    "astray": 1,
}
ANYTHING_SHARE = 0.3
CONSULTED = tuple(who for who, actor in ACTORS.items() if actor.role == "consulted")
VERDICTS = ("agree", "agree_with_conditions", "disagree")

anything = st.one_of(
    st.builds(
        Fire,
        who=st.sampled_from(tuple(ACTORS)),
        action=st.sampled_from((*WORKFLOW.actions(), "annex_territory")),
        fields=st.sampled_from(FIELD_CHOICES),
        if_match=st.sampled_from(("current", "current", "current", "stale", "missing")),
    ),
    st.builds(
        Upload,
        who=st.sampled_from(tuple(ACTORS)),
        doc_type=st.sampled_from((*WORKFLOW.document_types, "passport")),
        content=st.sampled_from(("pdf", "pdf", "pdf", "text")),
        if_match=st.sampled_from(("missing", "missing", "current", "stale")),
    ),
    st.builds(
        Answer,
        who=st.sampled_from(tuple(ACTORS)),
        ministry=st.sampled_from(tuple(ACTORS[who].org for who in CONSULTED)),
        verdict=st.sampled_from((*VERDICTS, "maybe")),
        if_match=st.sampled_from(("current", "current", "current", "stale", "missing")),
    ),
)


@dataclass(frozen=True)
class Snapshot:
    """What a refused request must leave exactly as it was."""

    version: int
    state: str
    due_at: date | None
    history: tuple[tuple[str, str | None, str], ...]
    documents: tuple[tuple[str, str, bool], ...]
    consultations: tuple[tuple[str, str, bool, bool], ...]


class AdmissionMachine(RuleBasedStateMachine):
    def __init__(self, api: Api, ctx: AppContext, reached: Counter[str]) -> None:
        super().__init__()
        self.api = api
        self.client: TestClient = api.client
        self.ctx = ctx
        self.reached = reached
        self.world = World(WORLD_ORGS, ctx.calendar.is_working_day)
        self.case_id = ""
        self.model = CaseModel.new(WORKFLOW, OWNER)
        self.last: Snapshot | None = None
        self.council_view: dict[str, Any] = {}
        self.unchanged_expected = False
        self.steps = 0
        self.fate = FATES[0]

    # Steps.

    @initialize(fate=st.sampled_from(FATES))
    def create_case(self, fate: str) -> None:
        self.fate = fate
        self.ctx.clock = Clock(START)
        self.case_id = self.api.create_case()["id"]
        self.reached[self.model.state] += 1

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """Mostly what the model says is possible now (or a near miss of it), else anything.

        One rule rather than several: hypothesis would switch whole rules off for some
        examples, and an example of nothing but refusals never leaves the draft.
        """
        moves = self.moves()
        kinds = [kind for kind, weight in WEIGHTS.items() if moves[kind] for _ in range(weight)]
        kinds += ["anything"] * max(1, round(len(kinds) * ANYTHING_SHARE / (1 - ANYTHING_SHARE)))
        kind = data.draw(st.sampled_from(kinds), label="kind")
        move = data.draw(anything if kind == "anything" else st.sampled_from(moves[kind]))
        if kind == "spoiled" and isinstance(move, Fire):
            spoilers = self.spoilers(move)
            if spoilers:
                move = replace(move, fields=data.draw(st.sampled_from(spoilers)))
        self.perform(move)

    # The checks after every step.

    @invariant()
    def agrees_with_the_model(self) -> None:
        """State, history, documents and consultations as modelled; a refusal changed nothing."""
        snapshot = self.snapshot()
        assert snapshot.state == self.model.state
        assert list(snapshot.history) == self.model.history
        present = {
            doc_type
            for _, doc_type, superseded in snapshot.documents
            if not superseded and not WORKFLOW.document_types[doc_type].generated
        }
        assert present == self.model.documents
        modelled = [(c.id, c.ministry, c.answered, c.closed) for c in self.model.consultations]
        assert sorted(snapshot.consultations) == sorted(modelled)
        if self.unchanged_expected:
            assert snapshot == self.last, "a refused request changed the case"
        self.last, self.unchanged_expected = snapshot, False

        # Every actor who acts in this state, and one other in turn, is offered what the
        # model allows (and an actor who may not see the case gets 404).
        acting = {
            who
            for t in WORKFLOW.leaving(self.model.state)
            for who, actor in ACTORS.items()
            if actor.role in t.roles
        }
        rotating = tuple(ACTORS)[self.steps % len(ACTORS)]
        self.check_allowed(ACTORS["council"], self.council_view)
        for who in sorted((acting | {rotating}) - {"council"}):
            response = self.client.get(self.case_url, headers=self.api.headers(who))
            actor = ACTORS[who]
            if not self.model.visible_to(actor):
                assert response.status_code == 404, response.text
                continue
            assert response.status_code == 200, response.text
            self.check_allowed(actor, response.json())

    # Performing a move and comparing the answer with the model.

    def perform(self, move: Move) -> None:
        self.steps += 1
        note(f"{move} in {self.model.state}")
        if isinstance(move, Fire):
            self.fire(move)
        elif isinstance(move, Upload):
            self.upload(move)
        elif isinstance(move, Answer):
            self.answer(move)
        else:
            self.clock.advance(days=move.days)
            # Time passing changes what may be done, never what was recorded.
            self.unchanged_expected = True

    def fire(self, move: Fire) -> None:
        actor = ACTORS[move.who]
        due_at = self.current.due_at
        body, well_formed = self.body_for(move.action, move.fields, due_at)
        request = TransitionRequest(move.action, body, move.if_match, well_formed)
        expected = self.model.fire(
            actor, request, today=self.today, due_at=due_at, world=self.world
        )
        headers = self.api.headers(move.who)
        version = self.current.version
        if move.if_match != "missing":
            headers["If-Match"] = f'"{version if move.if_match == "current" else version - 1}"'
        response = self.client.post(
            f"{self.case_url}/transitions", json={"action": move.action, **body}, headers=headers
        )
        self.check_outcome(response, expected)
        if not expected.ok:
            return
        t = WORKFLOW.transition(self.model.state, move.action)
        assert t is not None
        self.model.apply(t, body)
        if "open_consultations" in t.effects:
            self.model.opened(self.opened_consultations(body["ministries"]))
        case = response.json()
        assert case["state"] == expected.dest == self.model.state
        assert case["version"] > version
        self.check_allowed(actor, case)
        verified = self.api.verify(self.case_id)
        assert verified == {
            "valid": True,
            "entries": len(self.model.history),
            "first_bad_seq": None,
        }
        self.reached[self.model.state] += 1

    def upload(self, move: Upload) -> None:
        actor = ACTORS[move.who]
        expected = self.model.upload(
            actor, move.doc_type, content_ok=move.content == "pdf", if_match=move.if_match
        )
        content = pdf_bytes(move.doc_type) if move.content == "pdf" else b"just words\n"
        response = self.api.upload(
            self.case_id, move.doc_type, move.who, content, version=self.version_for(move.if_match)
        )
        self.check_outcome(response, expected)
        if expected.ok:
            self.check_moved_on(response)
            self.model.uploaded(actor, move.doc_type)

    def answer(self, move: Answer) -> None:
        actor = ACTORS[move.who]
        consultation = self.model.latest_consultation(move.ministry)
        expected = self.model.answer(
            actor, consultation, verdict_ok=move.verdict in VERDICTS, if_match=move.if_match
        )
        consultation_id = (
            consultation.id if consultation else "3f1d1c7e-0000-4000-8000-000000000000"
        )
        response = self.api.answer(
            self.case_id,
            consultation_id,
            move.who,
            move.verdict,
            version=self.version_for(move.if_match),
            if_match=move.if_match != "missing",
            comment="Ý kiến của Bộ",
        )
        self.check_outcome(response, expected)
        if expected.ok:
            assert consultation is not None
            self.check_moved_on(response)
            self.model.answered(consultation)

    def version_for(self, if_match: IfMatch) -> int | None:
        """The `If-Match` version a move sends: the one read, an older one, or none."""
        version = self.current.version
        return {"current": version, "stale": version - 1, "missing": None}[if_match]

    def check_moved_on(self, response: Response) -> None:
        """A change of the case answers the case's next version as its `ETag`."""
        assert response.headers["ETag"] == f'"{self.current.version + 1}"'

    def check_outcome(self, response: Response, expected: Outcome) -> None:
        got = (response.status_code, None if expected.ok else response.json()["error"]["code"])
        assert got == (expected.status, expected.code), (
            f"expected {expected}, the API answered {response.status_code} {response.text}"
        )
        self.unchanged_expected = not expected.ok

    def check_allowed(self, actor: Actor, case: dict[str, Any]) -> None:
        offered = {
            a["action"]: (
                a["dest"],
                a["fields"],
                sorted((m["kind"], m["name"]) for m in a["missing"]),
            )
            for a in case["allowed_actions"]
        }
        assert offered == self.model.allowed_actions(actor, self.today), actor.who
        # What is offered with nothing missing is exactly what the model lets succeed.
        due_at = date.fromisoformat(case["due_at"]) if case["due_at"] else None
        ready = {action for action, (_, _, missing) in offered.items() if not missing}
        succeeding = {
            t.action
            for t in WORKFLOW.leaving(self.model.state)
            if self.predict(actor, t.action, due_at).ok
        }
        assert ready == succeeding, actor.who

    def predict(
        self, actor: Actor, action: str, due_at: date | None, fields: FieldChoice = "valid"
    ) -> Outcome:
        """What firing `action` now would do, per the model."""
        body, well_formed = self.body_for(action, fields, due_at)
        request = TransitionRequest(action, body, "current", well_formed)
        return self.model.fire(actor, request, today=self.today, due_at=due_at, world=self.world)

    def opened_consultations(self, ministries: list[Any]) -> list[Consultation]:
        rows = [c for c in self.api.consultations(self.case_id) if c["closed_at"] is None]
        assert sorted(c["ministry"] for c in rows) == sorted(slug_of(m) for m in ministries)
        return [Consultation(c["ministry"], c["id"], date.fromisoformat(c["due_at"])) for c in rows]

    # The guided moves: what the model says can be done now, sorted by kind.

    def moves(self) -> dict[str, list[Move]]:
        moves: dict[str, list[Move]] = {kind: [] for kind in WEIGHTS}
        model, today = self.model, self.today
        for t in WORKFLOW.leaving(model.state):
            for who, actor in ACTORS.items():
                if actor.role not in t.roles or not model.visible_to(actor):
                    continue
                lacking = model.lacking(t, today)
                if not lacking and not self.too_early_to_end(t):
                    kind = self.kind_of(t)
                    # A detour to a state this dossier has not seen yet is three times as likely.
                    unseen = all(to != model.destination(t) for _, _, to in model.history)
                    times = 3 if kind == "sideways" and unseen else 1
                    moves[kind] += [Fire(who, t.action), Fire(who, t.action, "alternative")] * times
                    moves["spoiled"].append(Fire(who, t.action))
                for what, name in lacking:
                    if what == "document":
                        moves["prepare"] += self.uploads_of(name)
        for who in CONSULTED:
            ministry = ACTORS[who].org
            c = model.latest_consultation(ministry)
            if c is None:
                continue
            if c.closed or c.answered:
                # Closed, or answered already: a new answer is refused, and so is an
                # opinion once the consultation is closed.
                moves["consult"] += [Upload(who, WORKFLOW.opinion_document), Answer(who, ministry)]
            else:
                moves["consult"].append(
                    Answer(who, ministry) if c.opinion else Upload(who, WORKFLOW.opinion_document)
                )
        if any(not c.settled(today) for c in model.open_consultations()):
            moves["consult"].append(Wait(days=8))
        for name in sorted(model.documents):
            moves["supersede"] += self.uploads_of(name)
        for name, spec in WORKFLOW.document_types.items():
            if spec.upload_states is None or model.state in spec.upload_states:
                for who, actor in ACTORS.items():
                    if not model.visible_to(actor):
                        continue
                    if model.upload(actor, name, content_ok=True).ok:
                        moves["misplaced"].append(Upload(who, name, "text"))
                    else:
                        moves["misplaced"].append(Upload(who, name))
        return moves

    def too_early_to_end(self, t: Transition) -> bool:
        """Whether `t` would end the dossier before the run has had most of its steps."""
        return self.model.destination(t) in WORKFLOW.terminal and self.steps < STEPS * 2 // 3

    def kind_of(self, t: Transition) -> str:
        dest = self.model.destination(t)
        assert dest is not None
        distance = DISTANCES[self.fate]
        if self.model.state in distance and dest not in distance:
            return "astray"
        unreachable = len(WORKFLOW.states)
        if distance.get(dest, unreachable) < distance.get(self.model.state, unreachable):
            return "forward"
        return "sideways"

    def uploads_of(self, doc_type: str) -> list[Move]:
        return [
            Upload(who, doc_type)
            for who, actor in ACTORS.items()
            if self.model.upload(actor, doc_type, content_ok=True).ok
        ]

    def spoilers(self, move: Fire) -> list[FieldChoice]:
        """The inputs that make `move`, which would succeed, fail (its own fields twice)."""
        t = WORKFLOW.transition(self.model.state, move.action)
        assert t is not None
        own = [choice for choice, (name, _) in BAD_INPUTS.items() if name in t.takes]
        choices: list[FieldChoice] = [*own, *own, "none", "extra_field", "unknown_key"]
        actor, due_at = ACTORS[move.who], self.current.due_at
        return [c for c in choices if not self.predict(actor, move.action, due_at, c).ok]

    # Request bodies.

    def body_for(
        self, action: str, choice: FieldChoice, due_at: date | None
    ) -> tuple[dict[str, Any], bool]:
        """The fields to send with `action` besides the action itself; False if ill-formed."""
        t = WORKFLOW.transition(self.model.state, action) or next(
            iter(WORKFLOW.with_action(action)), None
        )
        required = t.fields if t else ()
        body: dict[str, Any] = {name: self.good_value(name, due_at) for name in required}
        if choice == "none":
            return {}, True
        if choice == "alternative":
            body["comment"] = "Ghi chú của người xử lý"
            if t is not None:
                body.update({name: self.good_value(name, due_at) for name in t.optional_fields})
            if "ministries" in body:
                # One ministry with a deadline of its own (the workflow file's is 10 days).
                body["ministries"] = [{"ministry": "mof", "working_days": 12}]
        elif choice == "extra_field":
            taken = t.takes if t else frozenset({"comment", "reason"})
            foreign = next(
                n for n in ("decision_number", "ministries", "new_due_date") if n not in taken
            )
            body[foreign] = self.good_value(foreign, due_at)
        elif choice == "unknown_key":
            body["state"] = "member"
            return body, False
        elif choice in BAD_INPUTS:
            name, well_formed = BAD_INPUTS[choice]
            body[name] = self.bad_value(choice, due_at)
            return body, well_formed
        return body, True

    def good_value(self, name: str, due_at: date | None) -> Any:
        values: dict[str, Any] = {
            "comment": "Ghi chú",
            "reason": "Hồ sơ cần làm rõ thêm về quỹ đất",
            "decision_number": "333/QĐ-TTg",
            "decision_date": self.today.isoformat(),
            "ministries": ["mpi", "mof"],
            "supplement_documents": ["site_documents", "investment_plan"],
        }
        if name == "new_due_date":
            return self.next_day(due_at, working=True).isoformat()
        return values[name]

    def bad_value(self, choice: FieldChoice, due_at: date | None) -> Any:
        values: dict[str, Any] = {
            "empty_reason": "",
            "blank_reason": "   ",
            "bad_decision_date": "2026-02-30",
            "blank_decision_number": "  ",
            "unknown_ministry": ["bo-quoc-phong"],
            "not_a_ministry": ["hdqlc"],
            "own_ministry": ["mic"],
            "repeated_ministry": ["mpi", "mpi"],
            "no_ministries": [],
            "due_not_later": (due_at or self.today).isoformat(),
            "due_on_day_off": self.next_day(due_at, working=False).isoformat(),
            "bad_due_date": "next Friday",
            "generated_supplement_document": ["intake_receipt"],
            "unknown_supplement_document": ["passport"],
            "unuploadable_supplement_document": ["council_proposal"],
        }
        return values[choice]

    def next_day(self, due_at: date | None, *, working: bool) -> date:
        """The first day after both the due date and today that is (or is not) a working day."""
        day = max(due_at or self.today, self.today) + timedelta(days=1)
        while self.ctx.calendar.is_working_day(day) != working:
            day += timedelta(days=1)
        return day

    # Reading the case back.

    @property
    def case_url(self) -> str:
        return f"/api/v1/cases/{self.case_id}"

    @property
    def clock(self) -> Clock:
        assert isinstance(self.ctx.clock, Clock)
        return self.ctx.clock

    @property
    def today(self) -> date:
        return self.ctx.today()

    @property
    def current(self) -> Snapshot:
        """The case as read after the previous step."""
        assert self.last is not None
        return self.last

    def snapshot(self) -> Snapshot:
        case = self.council_view = self.api.read(self.case_id, "council")
        history = self.api.history(self.case_id)
        documents = self.api.documents(self.case_id)
        # A case has consultations only once one was opened: until then they are read
        # only where one could be opened.
        can_exist = self.model.consultations or any(
            "open_consultations" in t.effects for t in WORKFLOW.leaving(self.model.state)
        )
        consultations = self.api.consultations(self.case_id, "council") if can_exist else []
        return Snapshot(
            version=case["version"],
            state=case["state"],
            due_at=date.fromisoformat(case["due_at"]) if case["due_at"] else None,
            history=tuple((h["action"], h["from_state"], h["to_state"]) for h in history),
            documents=tuple((d["id"], d["doc_type"], d["superseded"]) for d in documents),
            consultations=tuple(
                (c["id"], c["ministry"], c["answered_at"] is not None, c["closed_at"] is not None)
                for c in consultations
            ),
        )


def test_random_actions_by_random_actors_agree_with_the_workflow_file(
    api: Api, ctx: AppContext
) -> None:
    reached: Counter[str] = Counter()
    run_state_machine_as_test(
        lambda: AdmissionMachine(api, ctx, reached),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            database=None,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    print("states reached (times entered):", dict(sorted(reached.items())))
