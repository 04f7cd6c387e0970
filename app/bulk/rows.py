"""The CSV register format, and reading one of its rows into a case to import.

A row is checked on its own (values, names known to the service) and against the rows read
before it (no code or id twice in one file); whether its case exists already is the
repository's question, asked a chunk of rows at a time.
"""

import uuid
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation

from app.calendar.working import WorkingCalendar
from app.cases.schemas import UnitKind
from app.engine.definition import RETURN_TO_REQUESTER
from app.engine.loader import WorkflowRegistry
from app.engine.roles import OrgKind
from app.engine.workflow import Workflow

ID = "id"
COLUMNS = (
    "code",
    "applicant_org",
    "applicant_name",
    "unit_kind",
    "area_m2",
    "address",
    "investor",
    "state",
    "state_since",
    "due_at",
    "workflow",
    "workflow_version",
)
# What `export` writes, and what `import` reads back.
EXPORT_COLUMNS = (ID, *COLUMNS)

# Of the case ids derived from the values of a row that has no `id`.
ROW_NAMESPACE = uuid.UUID("6f9c1c52-5d0e-4a8e-9a43-2a3f0e0c7b11")
# The effect that gives a dossier its code (on submission in the default workflow).
CODE_EFFECT = "issue_dossier_code"

UNIT_KINDS = frozenset(k.value for k in UnitKind)
# As long as the columns that keep them (and the API accepts).
MAX_LENGTH = {"code": 32, "applicant_name": 300, "address": 500, "investor": 300}
AREA_MAX_DIGITS, AREA_DECIMALS = 14, 2

# Reports a problem of the row being read: (column, reason).
Bad = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a row (or the file) cannot be imported; row 1 is the header."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Applicant:
    id: int
    slug: str
    kind: str
    province: str | None


@dataclass(slots=True)
class ImportRow:
    """A valid row, as the case it becomes."""

    row: int
    id: uuid.UUID
    code: str | None
    applicant: Applicant
    province: str
    applicant_name: str
    unit_kind: str
    area_m2: Decimal | None
    address: str | None
    investor: str | None
    workflow: Workflow
    state: str
    return_state: str | None
    state_since: datetime
    due_at: date | None


class Header:
    """Where each column is in the file's rows."""

    def __init__(self, positions: dict[str, int]) -> None:
        self.positions = positions
        self.width = len(positions)

    def cells(self, values: list[str]) -> dict[str, str]:
        """The row's values by column, stripped; `id` is "" when the file has no such column."""
        cell = {name: values[i].strip() for name, i in self.positions.items()}
        cell.setdefault(ID, "")
        return cell

    @classmethod
    def parse(cls, names: list[str]) -> "tuple[Header | None, list[Problem]]":
        cleaned = [name.strip().lower() for name in names]
        problems = [
            Problem(1, name or f"#{i + 1}", "not a column of the register")
            for i, name in enumerate(cleaned)
            if name not in EXPORT_COLUMNS
        ]
        problems += [
            Problem(1, name, "named twice")
            for i, name in enumerate(cleaned)
            if name in EXPORT_COLUMNS and name in cleaned[:i]
        ]
        problems += [Problem(1, name, "missing") for name in COLUMNS if name not in cleaned]
        if problems:
            return None, problems
        return cls({name: i for i, name in enumerate(cleaned)}), []


@dataclass(frozen=True)
class _WorkflowFacts:
    """What reading a row needs to know of a workflow version, worked out once."""

    deadlines: dict[str, int | None]
    # States a case reaches without being given a code (drafts, and those withdrawn as drafts).
    codeless: frozenset[str]
    # For states `@return` comes back from: the state that usually leads there.
    origin: dict[str, str]

    @classmethod
    def of(cls, workflow: Workflow) -> "_WorkflowFacts":
        definition = workflow.definition
        reached, todo = {definition.initial}, [definition.initial]
        while todo:
            for t in workflow.actions_from(todo.pop()).values():
                if CODE_EFFECT in t.effects:
                    continue
                for dest in set(definition.destinations(t)) - reached:
                    reached.add(dest)
                    todo.append(dest)
        origin: dict[str, str] = {}
        returning = {
            s for t in definition.transitions if t.dest == RETURN_TO_REQUESTER for s in t.source
        }
        for t in definition.transitions:
            if t.dest in returning and t.dest not in origin:
                origin[t.dest] = t.source[0]
        return cls(
            deadlines={n: s.deadline_working_days for n, s in definition.states.items()},
            codeless=frozenset(reached),
            origin=origin,
        )


class RowReader:
    """Reads rows into `ImportRow`s, reporting every problem of each row.

    With `track_duplicates`, it keeps a 64-bit hash of each code and id it reads (8 bytes a
    row each: the only state that grows with the file); `repeated_keys` then gives those seen
    twice, for `Repeats` to find the rows that repeat a code or an id.
    """

    def __init__(
        self,
        workflows: WorkflowRegistry,
        calendar: WorkingCalendar,
        applicants: dict[str, Applicant],
        now: datetime,
        zone: tzinfo,
        *,
        default_workflow: str | None = None,
        track_duplicates: bool = True,
    ) -> None:
        self.workflows = workflows
        self.default_workflow = default_workflow
        self.calendar = calendar
        self.applicants = applicants
        self.now = now
        self.zone = zone
        self.track_duplicates = track_duplicates
        self.code_keys = array("q")
        self.id_keys = array("q")
        self._facts: dict[tuple[str, int], _WorkflowFacts] = {}
        self._due: dict[tuple[date, int], date] = {}

    def read(
        self, header: Header, values: list[str], row: int
    ) -> tuple[ImportRow | None, list[Problem]]:
        if len(values) != header.width:
            reason = f"has {len(values)} values, the header {header.width}"
            return None, [Problem(row, "(row)", reason)]
        cell = header.cells(values)
        problems: list[Problem] = []

        def bad(column: str, reason: str) -> None:
            problems.append(Problem(row, column, reason))

        case_id = self._id(cell, bad)
        applicant = self._applicant(cell["applicant_org"], bad)
        name = self._text(cell, "applicant_name", bad, required=True)
        address = self._text(cell, "address", bad)
        investor = self._text(cell, "investor", bad)
        unit_kind = cell["unit_kind"]
        if unit_kind not in UNIT_KINDS:
            bad("unit_kind", f"{unit_kind!r} is not one of {', '.join(sorted(UNIT_KINDS))}")
        area = self._area(cell["area_m2"], bad)
        workflow = self._workflow(cell["workflow"], cell["workflow_version"], bad)
        state, facts = None, None
        if workflow is not None:
            facts = self._facts_of(workflow)
            state = cell["state"] or workflow.definition.initial
            if state not in workflow.definition.states:
                bad("state", f"{state!r} is not a state of {workflow.key} v{workflow.version}")
                state = None
        code = self._code(cell["code"], state, facts, bad)
        since = self._state_since(cell["state_since"], bad)
        due = self._due_at(cell["due_at"], state, facts, since, bad)

        if problems:
            return None, problems
        assert applicant is not None
        assert applicant.province is not None
        assert workflow is not None
        assert state is not None
        assert facts is not None
        assert name is not None
        assert case_id is not None
        assert since is not None
        return (
            ImportRow(
                row=row,
                id=case_id,
                code=code,
                applicant=applicant,
                province=applicant.province,
                applicant_name=name,
                unit_kind=unit_kind,
                area_m2=area,
                address=address,
                investor=investor,
                workflow=workflow,
                state=state,
                return_state=facts.origin.get(state) if workflow.remembers_origin(state) else None,
                state_since=since,
                due_at=due,
            ),
            [],
        )

    def repeated_keys(self) -> tuple[set[int], set[int]]:
        """The hashes of codes and of ids read more than once (then forgets them all)."""
        codes, ids = _repeated(self.code_keys), _repeated(self.id_keys)
        self.code_keys, self.id_keys = array("q"), array("q")
        return codes, ids

    def _id(self, cell: dict[str, str], bad: Bad) -> uuid.UUID | None:
        case_id, _ = case_id_of(cell)
        if case_id is None:
            bad(ID, f"{cell[ID]!r} is not a case id (a UUID)")
        elif self.track_duplicates:
            self.id_keys.append(hash(case_id))
        return case_id

    def _applicant(self, slug: str, bad: Bad) -> Applicant | None:
        if not slug:
            bad("applicant_org", "required: the applicant organisation's slug")
            return None
        found = self.applicants.get(slug)
        if found is None:
            bad("applicant_org", f"no organisation {slug!r}")
        elif found.kind != OrgKind.PROVINCE.value:
            bad("applicant_org", f"{slug!r} is a {found.kind} organisation, not an applicant")
        elif found.province is None:
            bad("applicant_org", f"{slug!r} has no province on record (admission org set-province)")
        else:
            return found
        return None

    @staticmethod
    def _text(cell: dict[str, str], column: str, bad: Bad, *, required: bool = False) -> str | None:
        value = cell[column]
        if not value:
            if required:
                bad(column, "required")
            return None
        if len(value) > MAX_LENGTH[column]:
            bad(column, f"longer than {MAX_LENGTH[column]} characters")
        return value

    @staticmethod
    def _area(value: str, bad: Bad) -> Decimal | None:
        if not value:
            return None
        try:
            area = Decimal(value)
        except InvalidOperation:
            bad("area_m2", f"{value!r} is not a number (write it as 280000 or 1102.50)")
            return None
        if not area.is_finite() or area <= 0:
            bad("area_m2", "must be a positive number of square metres")
            return None
        exponent = area.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if decimals > AREA_DECIMALS or len(area.as_tuple().digits) > AREA_MAX_DIGITS:
            bad("area_m2", f"at most {AREA_MAX_DIGITS} digits, {AREA_DECIMALS} after the point")
            return None
        return area.quantize(Decimal("0.01"))

    def _workflow(self, key: str, version: str, bad: Bad) -> Workflow | None:
        key = key or self.default_workflow or ""
        if not key:
            bad("workflow", "name the workflow: no default is set")
            return None
        if not version:
            latest = self.workflows.latest(key)
            if latest is None:
                bad("workflow", f"no workflow {key!r}")
            return latest
        try:
            return self.workflows.get(key, int(version))
        except ValueError:
            bad("workflow_version", f"{version!r} is not a version number")
        except KeyError:
            if self.workflows.latest(key) is None:
                bad("workflow", f"no workflow {key!r}")
            else:
                bad("workflow_version", f"{key} has no version {version}")
        return None

    def _facts_of(self, workflow: Workflow) -> _WorkflowFacts:
        ref = (workflow.key, workflow.version)
        facts = self._facts.get(ref)
        if facts is None:
            facts = self._facts[ref] = _WorkflowFacts.of(workflow)
        return facts

    def _code(
        self, code: str, state: str | None, facts: _WorkflowFacts | None, bad: Bad
    ) -> str | None:
        if not code:
            if state is not None and facts is not None and state not in facts.codeless:
                bad("code", f"required: a dossier in state {state!r} has been given its code")
            return None
        if len(code) > MAX_LENGTH["code"]:
            bad("code", f"longer than {MAX_LENGTH['code']} characters")
        if self.track_duplicates:
            self.code_keys.append(hash(code))
        return code

    def _state_since(self, value: str, bad: Bad) -> datetime | None:
        if not value:
            return self.now
        moment = _moment(value, self.zone)
        if moment is None:
            bad("state_since", f"{value!r} is not an ISO date (2024-03-18) or date and time")
        elif moment > self.now:
            bad("state_since", f"{value} is in the future")
        return moment

    def _due_at(
        self,
        value: str,
        state: str | None,
        facts: _WorkflowFacts | None,
        since: datetime | None,
        bad: Bad,
    ) -> date | None:
        days = facts.deadlines.get(state) if facts is not None and state is not None else None
        if value:
            moment = _moment(value, self.zone)
            if moment is None:
                bad("due_at", f"{value!r} is not an ISO date (2024-03-18) or date and time")
                return None
            if state is not None and facts is not None and days is None:
                bad("due_at", f"state {state!r} has no deadline; leave due_at empty")
            return moment.astimezone(self.zone).date()
        if days is None or since is None:
            return None
        start = since.astimezone(self.zone).date()
        due = self._due.get((start, days))
        if due is None:
            due = self._due[start, days] = self.calendar.add_working_days(start, days)
        return due


def case_id_of(cell: dict[str, str]) -> tuple[uuid.UUID | None, bool]:
    """The row's case id (None if its `id` is not one), and whether the row gave it: rows
    without an id get one derived from their values, so that a row (a draft has no code
    either) is recognised when the file is imported again."""
    if cell[ID]:
        try:
            return uuid.UUID(cell[ID]), True
        except ValueError:
            return None, True
    return uuid.uuid5(ROW_NAMESPACE, "\x1f".join(cell[c] for c in COLUMNS)), False


def _repeated(keys: "array[int]") -> set[int]:
    ordered = sorted(keys)
    return {a for a, b in zip(ordered, ordered[1:], strict=False) if a == b}


class Repeats:
    """Finds, in a second reading of a file, the rows that repeat an earlier row's code or
    id, from the hashes the first reading saw twice (only those rows' keys are kept)."""

    def __init__(self, codes: set[int], ids: set[int]) -> None:
        self.codes = codes
        self.ids = ids
        self.first_code: dict[str, int] = {}
        self.first_id: dict[uuid.UUID, int] = {}

    def check(self, header: Header, values: list[str], row: int) -> list[Problem]:
        if len(values) != header.width:
            return []
        cell = header.cells(values)
        problems = []
        case_id, given = case_id_of(cell)
        if case_id is not None and hash(case_id) in self.ids:
            first = self.first_id.setdefault(case_id, row)
            if first != row:
                reason = (
                    f"the same id as row {first}"
                    if given
                    else f"the same values as row {first} (give each row an id or a code)"
                )
                problems.append(Problem(row, ID, reason))
        code = cell["code"]
        if code and hash(code) in self.codes:
            first = self.first_code.setdefault(code, row)
            if first != row:
                problems.append(Problem(row, "code", f"the same code as row {first}"))
        return problems


def _moment(value: str, zone: tzinfo) -> datetime | None:
    """An ISO date (that day's start in `zone`, Vietnam's) or date and time (in `zone` if it
    has no offset)."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=zone).astimezone(UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)
