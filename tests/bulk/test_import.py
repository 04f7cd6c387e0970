"""`admission import cases FILE.csv`: dossiers from before the service, in their real states."""

import uuid
from datetime import date
from pathlib import Path
from typing import Any

from app.bulk.rows import Problem
from app.bulk.service import import_cases
from app.context import AppContext
from app.core.db import unit_of_work
from app.history.heads import check_all
from tests.bulk.conftest import COLUMNS, Admission, counts, row
from tests.factories import Api, Clock

GOOD = [
    row(applicant_name="Khu CNTT tập trung Bến Tre"),
    row(
        code="QTSC-230410-0003", state="council_review", state_since="2026-03-02", area_m2="1102.5"
    ),
    row(
        code="QTSC-230301-0001",
        applicant_name="Khu CNTT tập trung Vị Thanh",
        state="supplement_requested",
        state_since="2026-02-10T14:30:00",
        address="Thành phố Vị Thanh",
    ),
    row(
        code="HG-2019-17",
        applicant_name="Trung tâm CNTT Hậu Giang",
        state="member",
        state_since="2019-12-25T09:00:00+07:00",
        workflow="qtsc-chain-admission",
        workflow_version="1",
    ),
    row(
        code="QTSC-260310-0002",
        applicant_org="tien-giang",
        applicant_name="Công viên phần mềm Mekong",
        unit_kind="software_park",
        state="submitted",
        state_since="2026-03-10",
        due_at="2026-03-20",
    ),
]


def by_name(api: Api) -> dict[str, dict[str, Any]]:
    items = api.list_cases(limit=200).json()["items"]
    return {c["applicant_name"]: api.read(c["id"]) for c in items}


class TestAGoodFile:
    def test_each_row_becomes_a_case_in_its_state_with_its_province_and_clock(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        report = import_cases(ctx, write(GOOD))

        assert (report.valid, report.rows, report.imported, report.skipped) == (True, 5, 5, 0)
        cases = by_name(api)
        draft = cases["Khu CNTT tập trung Bến Tre"]
        assert (draft["state"], draft["code"], draft["due_at"]) == ("draft", None, None)
        assert draft["workflow"] == {"key": "qtsc-chain-admission", "version": 1}
        # No state_since: the moment of the import.
        assert draft["state_entered_at"].startswith("2026-03-16T02:00:00")
        review = cases["Khu Công nghệ số tỉnh Hậu Giang"]
        assert review["state"] == "council_review"
        assert review["province"] == "Hậu Giang"
        assert review["area_m2"] == "1102.50"
        # 20 working days from Monday 2 March 2026: no holiday in between.
        assert review["due_at"] == ctx.calendar.add_working_days(date(2026, 3, 2), 20).isoformat()
        assert review["due_at"] == "2026-03-30"
        mekong = cases["Công viên phần mềm Mekong"]
        assert (mekong["state"], mekong["province"], mekong["due_at"]) == (
            "submitted",
            "Tiền Giang",
            "2026-03-20",
        )
        assert mekong["applicant_org"] == "tien-giang"

    def test_each_case_has_one_imported_entry_in_a_valid_chain_and_one_event(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        import_cases(ctx, write(GOOD))

        items = api.list_cases(limit=200).json()["items"]
        assert len(items) == 5
        for case in items:
            (entry,) = api.history(case["id"])
            assert entry["action"] == "imported"
            assert (entry["from_state"], entry["to_state"]) == (None, case["state"])
            assert entry["fields"]["source"] == "register.csv"
            assert api.verify(case["id"]) == {"valid": True, "entries": 1, "first_bad_seq": None}
            events = api.events(case["id"])
            assert [e["type"] for e in events] == ["case.imported"]
            assert events[0]["data"]["state"] == case["state"]
        with unit_of_work(ctx.engine, write=False) as session:
            checks = list(check_all(session))
        assert [c.valid for c in checks] == [True] * 5

    def test_the_state_since_is_kept_as_given_vietnam_time_when_no_offset(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        import_cases(ctx, write(GOOD))
        cases = by_name(api)
        assert cases["Khu Công nghệ số tỉnh Hậu Giang"]["state_entered_at"].startswith(
            "2026-03-01T17:00:00"
        )
        member = next(c for c in cases.values() if c["state"] == "member")
        assert member["state_entered_at"].startswith("2019-12-25T02:00:00")
        supplement = next(c for c in cases.values() if c["state"] == "supplement_requested")
        assert supplement["state_entered_at"].startswith("2026-02-10T07:30:00")

    def test_an_imported_case_moves_on_like_any_other_and_its_chain_grows(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        import_cases(ctx, write(GOOD))
        cases = by_name(api)
        review = cases["Khu Công nghệ số tỉnh Hậu Giang"]
        assert api.upload(review["id"], "site_visit_minutes", "council").status_code == 201
        api.advance(review["id"], "record_site_visit", "council")
        supplement = next(c for c in cases.values() if c["state"] == "supplement_requested")
        resubmitted = api.advance(supplement["id"], "resubmit", "applicant")
        assert resubmitted["state"] == "council_review"
        for case in (review, supplement):
            assert api.verify(case["id"])["valid"] is True
            assert [e["action"] for e in api.history(case["id"])][0] == "imported"

    def test_the_ids_of_an_id_column_are_kept(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        given = uuid.UUID("3b0c5d0e-8f1a-4d7e-9c3b-1a2b3c4d5e6f")
        path = write([{**row(), "id": str(given)}], columns=["id", *COLUMNS])
        assert import_cases(ctx, path).imported == 1
        assert api.read(str(given))["state"] == "draft"

    def test_a_file_with_a_byte_order_mark_is_read(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        report = import_cases(ctx, write(GOOD[:2], bom=True))
        assert (report.valid, report.imported) == (True, 2)

    def test_an_imported_code_is_never_issued_again(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        today = f"{ctx.today():%y%m%d}"
        path = write([row(code=f"QTSC-{today}-0007", state="submitted")])
        import_cases(ctx, path)
        submitted = api.submitted_case()
        assert submitted["code"] == f"QTSC-{today}-0008"


class TestABadFile:
    def test_every_bad_row_is_listed_with_its_column_and_reason_and_nothing_is_imported(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        rows = [
            row(code="A-1", state="council_review"),
            row(applicant_org="nobody"),
            row(code="A-2", state="flying"),
            row(unit_kind="castle"),
            row(code="A-3", state="member", state_since="2023-13-01"),
            row(code="A-1", state="member"),
            row(state="council_review"),
            row(applicant_org="hdqlc"),
            row(area_m2="-5"),
            row(code="A-4", state="member", due_at="2026-04-01"),
            row(workflow="unknown-workflow"),
            row(code="A-5", state="submitted", state_since="2099-01-01"),
        ]
        before = counts(ctx)

        report = import_cases(ctx, write(rows))

        assert not report.valid
        assert {(p.row, p.column) for p in report.problems} == {
            (3, "applicant_org"),
            (4, "state"),
            (5, "unit_kind"),
            (6, "state_since"),
            (7, "code"),
            (8, "code"),
            (9, "applicant_org"),
            (10, "area_m2"),
            (11, "due_at"),
            (12, "workflow"),
            (13, "state_since"),
        }
        reasons = {(p.row, p.column): p.reason for p in report.problems}
        assert reasons[3, "applicant_org"] == "no organisation 'nobody'"
        assert reasons[7, "code"] == "the same code as row 2"
        assert "required" in reasons[8, "code"]
        assert report.bad_rows == 11
        assert (report.imported, report.skipped) == (0, 0)
        assert counts(ctx) == before

    def test_a_repeated_id_or_code_names_the_first_row_and_a_bad_row_counts_once(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        given = "3b0c5d0e-8f1a-4d7e-9c3b-1a2b3c4d5e6f"
        rows = [
            {**row(code="B-1", state="member"), "id": given},
            {**row(code="B-2", state="member"), "id": "8d1f0c34-2b6e-4f0a-9d57-0c1e2f3a4b5c"},
            {**row(code="B-2", state="member", unit_kind="castle"), "id": given},
        ]
        report = import_cases(ctx, write(rows, columns=["id", *COLUMNS]))
        assert [str(p) for p in report.problems] == [
            "row 4, column unit_kind: 'castle' is not one of concentrated_it_zone,"
            " digital_technology_zone, ict_centre, software_park",
            "row 4, column id: the same id as row 2",
            "row 4, column code: the same code as row 3",
        ]
        assert (report.problem_count, report.bad_rows) == (3, 1)

    def test_only_the_first_50_problems_are_listed_but_all_are_counted(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        rows = [row(code=f"A-{i}", unit_kind="castle") for i in range(40)]
        rows += [row(code="A-1", state="member", address=f"số {i}") for i in range(20)]
        report = import_cases(ctx, write(rows))
        assert len(report.problems) == 50
        assert [p.row for p in report.problems] == sorted(p.row for p in report.problems)
        assert report.problems[40] == Problem(42, "code", "the same code as row 3")
        assert (report.problem_count, report.bad_rows) == (60, 60)
        assert counts(ctx)["cases"] == 0

    def test_a_header_without_a_column_is_refused(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        path = write([row()], columns=[c for c in COLUMNS if c != "unit_kind"] + ["colour"])
        report = import_cases(ctx, path)
        assert {(p.row, p.column) for p in report.problems} == {(1, "unit_kind"), (1, "colour")}
        assert counts(ctx)["cases"] == 0

    def test_a_file_that_is_not_utf8_is_refused(
        self, api: Api, ctx: AppContext, clock: Clock, tmp_path: Path
    ) -> None:
        path = tmp_path / "latin1.csv"
        path.write_bytes(
            (",".join(COLUMNS) + "\n,hau-giang,Khu Cà Mau,ict_centre,,,,,,,,\n").encode("latin-1")
        )
        report = import_cases(ctx, path)
        assert [(p.row, p.column) for p in report.problems] == [(2, "(file)")]
        assert "UTF-8" in report.problems[0].reason
        assert counts(ctx)["cases"] == 0


class TestRunningItAgain:
    def test_the_same_file_twice_imports_it_once(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        path = write(GOOD)
        import_cases(ctx, path)
        after_first = counts(ctx)

        again = import_cases(ctx, path)

        assert (again.valid, again.imported, again.skipped) == (True, 0, 5)
        assert counts(ctx) == after_first

    def test_rows_already_present_are_skipped_and_the_others_imported(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        import_cases(ctx, write(GOOD[:3], "first.csv"))
        report = import_cases(ctx, write(GOOD, "all.csv"))
        assert (report.imported, report.skipped) == (2, 3)
        assert counts(ctx)["cases"] == 5

    def test_a_row_whose_code_exists_already_is_skipped_whatever_its_other_values(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        submitted = api.submitted_case()
        report = import_cases(ctx, write([row(code=submitted["code"], state="member")]))
        assert (report.imported, report.skipped) == (0, 1)
        assert api.read(submitted["id"])["state"] == "submitted"


class TestDryRun:
    def test_a_dry_run_writes_nothing_and_counts_what_it_would_do(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        import_cases(ctx, write(GOOD[:2], "first.csv"))
        before = counts(ctx)

        report = import_cases(ctx, write(GOOD), dry_run=True)

        assert (report.valid, report.rows, report.imported, report.skipped) == (True, 5, 3, 2)
        assert counts(ctx) == before

    def test_a_dry_run_of_a_bad_file_lists_its_problems(
        self, api: Api, ctx: AppContext, clock: Clock, write: Any
    ) -> None:
        report = import_cases(ctx, write([row(unit_kind="castle")]), dry_run=True)
        assert [(p.row, p.column) for p in report.problems] == [(2, "unit_kind")]


class TestTheCommand:
    def test_a_good_file_is_imported_and_the_audit_verifies(
        self, admission: Admission, ctx: AppContext, write: Any
    ) -> None:
        path = write(GOOD)
        done = admission.run("import", "cases", str(path))
        assert done.exit_code == 0, done.output
        assert "5 cases imported, 0 rows skipped (already present), of 5 rows" in done.output
        # Not a terminal: plain progress lines, no redrawn bar.
        assert "importing: 5/5 rows (100%)" in done.output
        again = admission.run("import", "cases", str(path))
        assert "0 cases imported, 5 rows skipped" in again.output
        verified = admission.run("audit", "verify")
        assert verified.exit_code == 0, verified.output
        assert "5 cases, 5 entries checked, 0 broken" in verified.output

    def test_a_bad_file_prints_row_column_and_reason_and_exits_1(
        self, admission: Admission, ctx: AppContext, write: Any
    ) -> None:
        done = admission.run("import", "cases", str(write([row(), row(unit_kind="castle")])))
        assert done.exit_code == 1
        assert "row 3, column unit_kind: 'castle' is not one of" in done.output
        assert "1 problems in 1 rows; nothing imported" in done.output
        assert counts(ctx)["cases"] == 0

    def test_a_dry_run_says_what_it_would_do(
        self, admission: Admission, ctx: AppContext, write: Any
    ) -> None:
        done = admission.run("import", "cases", str(write(GOOD)), "--dry-run")
        assert done.exit_code == 0, done.output
        assert "dry run: 5 rows valid; 5 would be imported" in done.output
        assert counts(ctx)["cases"] == 0
