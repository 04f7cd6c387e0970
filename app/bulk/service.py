"""Bulk import and export of the register of cases as CSV.

An import reads its file twice. The first pass checks every row and keeps nothing but the
codes and ids seen (to refuse a repeated one) and the first problems found: if any row is
bad, nothing is written. The second pass reads the rows again and writes them a chunk at a
time, one transaction per chunk: the cases, each one's first history entry (`imported`, in
its hash chain) and one `case.imported` event, with a few set-wise statements per chunk.
Rows whose case exists already (same id, or same code) are skipped, so an import that was
interrupted, or is run twice, completes without doubling anything.

Unlike a request, a bulk run manages its own transactions: a million rows in one
transaction would hold SQLite's write lock for minutes and grow PostgreSQL's undo without
bound.
"""

import codecs
import csv
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TextIO

from sqlalchemy.orm import Session

from app.bulk.repository import BulkRepository, ExportFilters
from app.bulk.rows import EXPORT_COLUMNS, Header, ImportRow, Problem, Repeats, RowReader
from app.cases.models import SEARCHABLE
from app.context import AppContext
from app.core.db import unit_of_work
from app.core.errors import Conflict, InvalidInput
from app.core.text import fold
from app.engine.roles import Role
from app.events.service import emit_many
from app.history import service as history
from app.history.repository import HistoryRepository

CHUNK = 5000
MAX_PROBLEMS = 50
# How the history names who imported: an operator at the command line.
IMPORT_ACTOR_ORG = "cli"
IMPORT_ACTOR_ROLE = Role.ADMIN.value
IMPORTED = "imported"
IMPORTED_EVENT = "case.imported"


class Progress(Protocol):
    """What a progress display offers (a `tqdm` bar does)."""

    def update(self, n: int) -> Any: ...

    def close(self) -> Any: ...


# Makes a progress display from a label and the total, when known.
ProgressFactory = Callable[[str, int | None], Progress]


class _Silent:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def no_progress(label: str, total: int | None) -> Progress:
    return _Silent()


@dataclass
class ImportReport:
    rows: int = 0
    # Problems found (the first MAX_PROBLEMS kept), how many in all, in how many rows.
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    bad_rows: int = 0
    # Rows that became cases (or would, in a dry run), and rows whose case existed already.
    imported: int = 0
    skipped: int = 0
    dry_run: bool = False

    @property
    def valid(self) -> bool:
        return self.problem_count == 0

    def add(self, problems: list[Problem]) -> None:
        self.problem_count += len(problems)
        room = MAX_PROBLEMS - len(self.problems)
        if room > 0:
            self.problems.extend(problems[:room])


class _FileProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number, values) of every non-empty line; the header is row 1. UTF-8, BOM or not."""
    with path.open("rb") as handle:
        reader = csv.reader(_decoded(handle))
        try:
            for values in reader:
                if values and any(v.strip() for v in values):
                    yield reader.line_num, values
        except csv.Error as exc:
            raise _FileProblem(Problem(reader.line_num, "(file)", f"not CSV: {exc}")) from None


def _decoded(handle: BinaryIO) -> Iterator[str]:
    """The file's lines as text, decoded one by one so that bad bytes are found on their line."""
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            reason = "not UTF-8 text: save the file as UTF-8 (CSV UTF-8 in a spreadsheet)"
            raise _FileProblem(Problem(number, "(file)", reason)) from None


def _count_lines(path: Path) -> int:
    """A quick estimate of the rows, for the first pass's progress display."""
    with path.open("rb") as handle:
        return max(
            sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1, 0
        )


class _Import:
    def __init__(self, ctx: AppContext, path: Path, progress: ProgressFactory) -> None:
        self.ctx = ctx
        self.path = path
        self.progress = progress
        self.now = ctx.now()
        self._province_keys: dict[str, str] = {}
        with unit_of_work(ctx.engine, write=False) as session:
            self.applicants = BulkRepository(session).applicants()

    def _province_key(self, province: str) -> str:
        key = self._province_keys.get(province)
        if key is None:
            key = self._province_keys[province] = fold(province)
        return key

    def reader(self, *, track_duplicates: bool) -> RowReader:
        return RowReader(
            self.ctx.workflows,
            self.ctx.calendar,
            self.applicants,
            self.now,
            self.ctx.zone,
            default_workflow=self.ctx.default_workflow(),
            track_duplicates=track_duplicates,
        )

    def check(self, report: ImportReport) -> None:
        """First pass: every row's problems; of each row, only hashes of its code and id are
        kept. Rows that repeat a code or id are found by a second reading, if there are any."""
        reader = self.reader(track_duplicates=True)
        bar = self.progress("checking", _count_lines(self.path))
        try:
            records = _records(self.path)
            header = self._header(records, report)
            if header is None:
                return
            for row, values in records:
                report.rows += 1
                _, problems = reader.read(header, values, row)
                if problems:
                    report.bad_rows += 1
                    report.add(problems)
                if report.rows % 1000 == 0:
                    bar.update(1000)
            bar.update(report.rows % 1000)
        except _FileProblem as exc:
            report.bad_rows += 1
            report.add([exc.problem])
            return
        finally:
            bar.close()
        if report.rows == 0 and report.valid:
            report.add([Problem(2, "(file)", "no rows under the header")])
        codes, ids = reader.repeated_keys()
        if codes or ids:
            self._repeats(header, Repeats(codes, ids), report)

    def _repeats(self, header: Header, repeats: Repeats, report: ImportReport) -> None:
        """The rows that repeat an earlier row's code or id, merged into the report by row."""
        plain = self.reader(track_duplicates=False)
        found: list[Problem] = []
        records = _records(self.path)
        next(records)
        for row, values in records:
            problems = repeats.check(header, values, row)
            if not problems:
                continue
            report.problem_count += len(problems)
            found.extend(problems[: MAX_PROBLEMS - len(found)])
            _, own = plain.read(header, values, row)
            if not own:
                report.bad_rows += 1
        # Both lists hold their first problems by row: so does their merge. (Stable: a row's
        # own problems stay before its repeats.)
        report.problems = sorted(report.problems + found, key=lambda p: p.row)[:MAX_PROBLEMS]

    @staticmethod
    def _header(records: Iterator[tuple[int, list[str]]], report: ImportReport) -> Header | None:
        first = next(records, None)
        if first is None:
            report.add([Problem(1, "(file)", "empty: no header row")])
            return None
        header, problems = Header.parse(first[1])
        report.add(problems)
        return header

    def rows(self) -> Iterator[ImportRow]:
        """Second pass: the rows again, as cases (the first pass found them all valid)."""
        reader = self.reader(track_duplicates=False)
        records = _records(self.path)
        header, _ = Header.parse(next(records)[1])
        assert header is not None  # the first pass read the same header
        for row, values in records:
            parsed, problems = reader.read(header, values, row)
            if parsed is None:
                raise Conflict(
                    f"row {row} changed since the file was checked; nothing more was imported"
                    " (run the import again: the rows already imported are skipped)",
                    {"row": row, "problems": [str(p) for p in problems]},
                )
            yield parsed

    def write(self, report: ImportReport) -> None:
        bar = self.progress("dry run" if report.dry_run else "importing", report.rows)
        try:
            chunk: list[ImportRow] = []
            for parsed in self.rows():
                chunk.append(parsed)
                if len(chunk) == CHUNK:
                    self._chunk(chunk, report)
                    bar.update(len(chunk))
                    chunk = []
            if chunk:
                self._chunk(chunk, report)
                bar.update(len(chunk))
        finally:
            bar.close()

    def _chunk(self, chunk: list[ImportRow], report: ImportReport) -> None:
        with unit_of_work(self.ctx.engine, write=not report.dry_run) as session:
            repo = BulkRepository(session)
            ids = repo.existing_ids([r.id for r in chunk])
            codes = repo.existing_codes([r.code for r in chunk if r.code is not None])
            fresh = [r for r in chunk if r.id not in ids and r.code not in codes]
            report.skipped += len(chunk) - len(fresh)
            report.imported += len(fresh)
            if fresh and not report.dry_run:
                # In id order: each index keyed by case id is then written front to back
                # within the chunk, not at random places.
                fresh.sort(key=lambda r: r.id.bytes)
                self._insert(session, repo, fresh)

    def _insert(self, session: Session, repo: BulkRepository, fresh: list[ImportRow]) -> None:
        now = self.now
        cases: list[dict[str, Any]] = []
        entries: list[history.FirstEntry] = []
        events: list[tuple[uuid.UUID, dict[str, Any]]] = []
        source = self.path.name
        for r in fresh:
            case_id = r.id
            values: dict[str, Any] = {
                "id": case_id,
                "code": r.code,
                "workflow_key": r.workflow.key,
                "workflow_version": r.workflow.version,
                "state": r.state,
                "version": 1,
                "return_state": r.return_state,
                "applicant_org_id": r.applicant.id,
                "applicant_name": r.applicant_name,
                "province": r.province,
                "province_key": self._province_key(r.province),
                "unit_kind": r.unit_kind,
                "area_m2": r.area_m2,
                "address": r.address,
                "investor": r.investor,
                "due_at": r.due_at,
                # The clock's other columns and `received_at` stay NULL: a fresh clock.
                "state_entered_at": r.state_since,
                "created_at": now,
                "updated_at": now,
            }
            values["search_text"] = fold(" ".join(str(values[f] or "") for f in SEARCHABLE))
            cases.append(values)
            recorded: dict[str, Any] = {
                "source": source,
                "row": r.row,
                "code": r.code,
                "state_since": r.state_since.isoformat(),
                "due_at": r.due_at.isoformat() if r.due_at else None,
            }
            if r.return_state:
                recorded["return_state"] = r.return_state
            entries.append(history.FirstEntry(case_id, IMPORTED, r.state, now, recorded))
            events.append((case_id, {"state": r.state, "version": 1, "code": r.code}))
        chains = history.first_entries(
            entries, actor_org=IMPORT_ACTOR_ORG, actor_role=IMPORT_ACTOR_ROLE
        )
        # Each case records its chain's head: the imported entry, seq 1.
        for values, chain in zip(cases, chains, strict=True):
            values["head_seq"], values["head_hash"] = chain["seq"], chain["hash"]
        repo.add_cases(cases)
        HistoryRepository(session).add_many(chains)
        emit_many(session, IMPORTED_EVENT, events, at=now)
        repo.reserve_codes(r.code for r in fresh if r.code)


def import_cases(
    ctx: AppContext, path: Path, *, dry_run: bool = False, progress: ProgressFactory = no_progress
) -> ImportReport:
    """Check the whole file, then (unless a row is bad, or `dry_run`) import it."""
    run = _Import(ctx, path, progress)
    report = ImportReport(dry_run=dry_run)
    run.check(report)
    if report.valid:
        run.write(report)
    return report


def export_cases(
    ctx: AppContext,
    out: TextIO,
    filters: ExportFilters,
    *,
    progress: ProgressFactory = no_progress,
) -> int:
    """Write the register as CSV (the import's columns, `id` first); returns the rows written."""
    _check_filters(ctx, filters)
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    written = 0
    with unit_of_work(ctx.engine, write=False) as session:
        repo = BulkRepository(session)
        bar = progress("exporting", repo.count(filters))
        try:
            for row in repo.stream(filters, CHUNK):
                writer.writerow(_csv_values(row))
                written += 1
                if written % 1000 == 0:
                    bar.update(1000)
            bar.update(written % 1000)
        finally:
            bar.close()
    return written


def export_to_file(
    ctx: AppContext, path: Path, filters: ExportFilters, *, progress: ProgressFactory = no_progress
) -> int:
    """Export into `path`, which appears only once complete. With a BOM, so that spreadsheet
    programs read the Vietnamese text as UTF-8 (the import accepts it)."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8-sig", newline="") as out:
            written = export_cases(ctx, out, filters, progress=progress)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return written


def _check_filters(ctx: AppContext, filters: ExportFilters) -> None:
    workflows = list(ctx.workflows)
    if filters.workflow and not any(w.key == filters.workflow for w in workflows):
        raise InvalidInput(f"no workflow {filters.workflow!r}", {"workflow": "unknown"})
    if filters.state and not any(filters.state in w.definition.states for w in workflows):
        raise InvalidInput(f"no workflow has a state {filters.state!r}", {"state": "unknown"})


def _csv_values(row: Any) -> list[str]:
    state_since: datetime = row.state_entered_at
    return [
        str(row.id),
        row.code or "",
        row.slug,
        row.applicant_name,
        row.unit_kind,
        "" if row.area_m2 is None else f"{row.area_m2:.2f}",
        row.address or "",
        row.investor or "",
        row.state,
        state_since.isoformat(),
        row.due_at.isoformat() if row.due_at else "",
        row.workflow_key,
        str(row.workflow_version),
    ]
