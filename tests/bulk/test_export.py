"""`admission export cases`: the register as CSV, filtered, streamed, and read back by import."""

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.admission.registry import build_context
from app.bulk.repository import ExportFilters
from app.bulk.rows import EXPORT_COLUMNS
from app.bulk.service import export_cases, import_cases
from app.context import AppContext
from app.core.config import Settings
from app.core.errors import InvalidInput
from app.main import create_app
from tests.bulk.conftest import Admission, counts
from tests.databases import sibling_database
from tests.factories import Api, make_tokens


def exported(ctx: AppContext, **filters: Any) -> list[dict[str, str]]:
    out = io.StringIO()
    export_cases(ctx, out, ExportFilters(**filters))
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def a_register(api: Api) -> dict[str, dict[str, Any]]:
    """Cases of two provinces in several states, one with every optional field."""
    cases = {
        "draft": api.create_case(address="Vị Thanh", investor="Quỹ đầu tư", area_m2="1102.5"),
        "submitted": api.submitted_case(),
        "council_review": api.case_in_council_review(),
        "supplement_requested": api.case_awaiting_supplement(),
        "ministry_appraisal": api.case_in_ministry_appraisal(),
        "other": api.create_case("other_applicant", applicant_name="Công viên phần mềm Mekong"),
    }
    withdrawn = api.create_case(applicant_name="Khu CNTT rút hồ sơ")
    cases["withdrawn"] = api.advance(withdrawn["id"], "withdraw", "applicant", reason="Rút")
    return cases


class TestFilters:
    def test_the_header_is_the_import_s_columns_with_id_first(
        self, api: Api, ctx: AppContext
    ) -> None:
        out = io.StringIO()
        export_cases(ctx, out, ExportFilters())
        assert next(csv.reader(io.StringIO(out.getvalue()))) == list(EXPORT_COLUMNS)
        assert EXPORT_COLUMNS[0] == "id"

    def test_every_case_is_written_once_with_its_values(self, api: Api, ctx: AppContext) -> None:
        cases = a_register(api)
        rows = {r["id"]: r for r in exported(ctx)}
        assert set(rows) == {c["id"] for c in cases.values()}
        draft = rows[cases["draft"]["id"]]
        assert draft["applicant_org"] == "hau-giang"
        assert (draft["area_m2"], draft["address"], draft["investor"]) == (
            "1102.50",
            "Vị Thanh",
            "Quỹ đầu tư",
        )
        assert (draft["code"], draft["due_at"], draft["state"]) == ("", "", "draft")
        review = rows[cases["council_review"]["id"]]
        assert review["code"] == cases["council_review"]["code"]
        assert review["due_at"] == cases["council_review"]["due_at"]
        assert review["state_since"] == api.read(review["id"])["state_entered_at"].replace(
            "Z", "+00:00"
        )

    def test_state_workflow_and_province_filters(self, api: Api, ctx: AppContext) -> None:
        cases = a_register(api)
        assert [r["id"] for r in exported(ctx, state="submitted")] == [cases["submitted"]["id"]]
        assert len(exported(ctx, workflow="qtsc-chain-admission")) == len(cases)
        assert [r["id"] for r in exported(ctx, province="tien giang")] == [cases["other"]["id"]]
        assert len(exported(ctx, province="HẬU GIANG")) == len(cases) - 1
        assert exported(ctx, state="member") == []
        assert exported(ctx, state="draft", province="Tiền Giang")[0]["id"] == cases["other"]["id"]

    @pytest.mark.parametrize(
        ("filters", "field"), [({"state": "flying"}, "state"), ({"workflow": "x"}, "workflow")]
    )
    def test_an_unknown_state_or_workflow_is_refused(
        self, api: Api, ctx: AppContext, filters: dict[str, str], field: str
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            export_cases(ctx, io.StringIO(), ExportFilters(**filters))
        assert field in refused.value.details


@pytest.fixture
def empty_database(backend: Settings, tmp_path: Path) -> Iterator[tuple[AppContext, Api]]:
    """A second database of the same backend with the same organisations and no cases."""
    name = f"admission_bulk_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    settings = sibling_database(backend, tmp_path, name)
    other = build_context(settings.model_copy(update={"storage_dir": tmp_path / "other-documents"}))
    tokens = make_tokens(other)
    with TestClient(create_app(context=other), raise_server_exceptions=False) as client:
        yield other, Api(client, tokens)
    other.engine.dispose()


class TestRoundTrip:
    def test_export_then_import_into_an_empty_database_gives_back_the_same_cases(
        self, api: Api, ctx: AppContext, tmp_path: Path, empty_database: tuple[AppContext, Api]
    ) -> None:
        cases = a_register(api)
        path = tmp_path / "register.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            assert export_cases(ctx, out, ExportFilters()) == len(cases)
        other, other_api = empty_database

        report = import_cases(other, path)

        assert (report.valid, report.imported) == (True, len(cases))
        key = "id"
        assert sorted(exported(other), key=lambda r: r[key]) == sorted(
            exported(ctx), key=lambda r: r[key]
        )
        shown = ("code", "state", "province", "applicant_org", "applicant_name", "unit_kind")
        shown += ("area_m2", "address", "investor", "due_at", "workflow", "state_entered_at")
        for case in cases.values():
            before, after = api.read(case["id"]), other_api.read(case["id"])
            assert {k: after[k] for k in shown} == {k: before[k] for k in shown}
            assert other_api.verify(case["id"])["valid"] is True
        # And once more: nothing doubles.
        assert import_cases(other, path).skipped == len(cases)


class TestTheCommand:
    def test_export_to_a_file_writes_utf8_with_a_bom_that_import_reads(
        self, admission: Admission, api: Api, ctx: AppContext, tmp_path: Path
    ) -> None:
        a_register(api)
        path = tmp_path / "out.csv"
        done = admission.run("export", "cases", "--province", "hau giang", "--output", str(path))
        assert done.exit_code == 0, done.output
        assert "6 cases exported" in done.output
        assert "exporting: 6/6 rows (100%)" in done.output
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbfid,code,applicant_org,")
        assert not (tmp_path / "out.csv.partial").exists()
        before = counts(ctx)
        again = admission.run("import", "cases", str(path))
        assert "0 cases imported, 6 rows skipped" in again.output
        assert counts(ctx) == before

    def test_export_to_stdout_and_an_unknown_state_is_refused(
        self, admission: Admission, api: Api
    ) -> None:
        api.create_case()
        done = admission.run("export", "cases", "--state", "draft")
        assert done.exit_code == 0, done.output
        assert done.stdout.splitlines()[0] == ",".join(EXPORT_COLUMNS)
        assert len(done.stdout.splitlines()) == 2
        refused = admission.run("export", "cases", "--state", "flying")
        assert refused.exit_code == 2
        assert "no workflow has a state 'flying'" in refused.output
