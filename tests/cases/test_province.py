"""An applicant organisation belongs to one province; its dossiers are that province's."""

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Uuid, column, insert, table, text

from app.core.config import Settings
from app.core.db import create_db_engine
from app.core.models import UTCDateTime
from tests.databases import migrate, sibling_database
from tests.factories import Api, error_details

BODY = {"applicant_name": "Khu Công nghệ số tỉnh Hậu Giang", "unit_kind": "digital_technology_zone"}


def create(api: Api, who: str = "applicant", **fields: Any) -> Any:
    return api.client.post("/api/v1/cases", json={**BODY, **fields}, headers=api.headers(who))


def listed_provinces(api: Api, **params: Any) -> list[str]:
    response = api.list_cases(**params)
    assert response.status_code == 200, response.text
    return [c["province"] for c in response.json()["items"]]


class TestACaseTakesItsOrganisationsProvince:
    def test_a_case_filed_without_a_province_is_the_organisations(self, api: Api) -> None:
        response = create(api)
        assert response.status_code == 201, response.text
        assert response.json()["province"] == "Hậu Giang"

    def test_naming_another_province_is_refused_naming_the_field_and_creates_nothing(
        self, api: Api
    ) -> None:
        details = error_details(create(api, province="Tiền Giang"), 409, "value_conflict")
        assert "province" in details
        assert api.list_cases().json()["items"] == []

    @pytest.mark.parametrize("written", ["Hậu Giang", "hau giang", "HẬU GIANG", " Hau  Giang "])
    def test_the_same_province_written_any_way_is_accepted_and_stored_as_the_organisations(
        self, api: Api, written: str
    ) -> None:
        response = create(api, province=written)
        assert response.status_code == 201, response.text
        assert response.json()["province"] == "Hậu Giang"

    def test_editing_the_province_to_another_is_refused_and_changes_nothing(self, api: Api) -> None:
        case = api.create_case()
        before = api.snapshot(case["id"])
        details = error_details(api.patch(case["id"], province="Tiền Giang"), 409, "value_conflict")
        assert "province" in details
        assert api.snapshot(case["id"]) == before

    def test_lists_pipeline_and_portal_status_show_the_organisations_province(
        self, api: Api
    ) -> None:
        case = create(api, province="hau giang").json()
        assert listed_provinces(api) == ["Hậu Giang"]
        pipeline = api.pipeline().json()
        assert [c["province"] for c in pipeline["cases"]] == ["Hậu Giang"]
        portal = api.client.get(
            f"/api/v1/cases/{case['id']}/portal-status", headers=api.headers("applicant")
        )
        assert portal.json()["TinhThanhPho"] == "Hậu Giang"


class TestProvinceFilter:
    @pytest.mark.parametrize("written", ["Hậu Giang", "hau giang", "HẬU GIANG", "  hau   GIANG "])
    def test_the_list_filter_ignores_case_and_diacritics(self, api: Api, written: str) -> None:
        ours = api.create_case()
        api.create_case("other_applicant", province="Tiền Giang")
        response = api.list_cases(province=written)
        assert [c["id"] for c in response.json()["items"]] == [ours["id"]]

    @pytest.mark.parametrize("written", ["Tiền Giang", "tien giang", "TIEN GIANG"])
    def test_the_pipeline_filter_ignores_case_and_diacritics(self, api: Api, written: str) -> None:
        api.create_case()
        theirs = api.create_case("other_applicant", province="Tiền Giang")
        response = api.client.get(
            "/api/v1/pipeline", params={"province": written}, headers=api.headers("council")
        )
        body = response.json()
        assert [c["id"] for c in body["cases"]] == [theirs["id"]]
        assert sum(s["count"] for s in body["states"]) == 1

    def test_a_province_is_not_found_by_part_of_its_name(self, api: Api) -> None:
        api.create_case()
        assert listed_provinces(api, province="giang") == []


class TestMigrationOfExistingData:
    def test_existing_applicants_take_their_oldest_cases_province_and_the_filter_finds_them(
        self, backend: Settings, tmp_path: Path
    ) -> None:
        name = f"admission_province_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
        settings = sibling_database(backend, tmp_path, name, revision="0005")
        engine = create_db_engine(settings)
        old, new = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organisations (id, slug, name, kind, created_at) VALUES"
                    " (1, 'hau-giang', 'UBND', 'province', :at),"
                    " (2, 'hdqlc', 'HĐQLC', 'council', :at),"
                    " (3, 'ben-tre', 'UBND', 'province', :at)"
                ),
                {"at": old},
            )
            # The cases table as revision 0005 has it (the models are at the newest revision).
            cases = table(
                "cases",
                *(column(n) for n in ("workflow_key", "applicant_name", "unit_kind")),
                *(column(n) for n in ("workflow_version", "version", "applicant_org_id")),
                *(column(n) for n in ("state", "province", "search_text")),
                column("id", Uuid()),
                *(column(n, UTCDateTime()) for n in ("state_entered_at", "created_at")),
                column("updated_at", UTCDateTime()),
            )
            common = {"workflow_key": "k", "workflow_version": 1, "state": "draft", "version": 1}
            common |= {"applicant_org_id": 1, "applicant_name": "X", "unit_kind": "ict_centre"}
            connection.execute(
                insert(cases),
                [
                    {**common, "id": uuid.uuid4(), "province": province, "search_text": ""}
                    | {"state_entered_at": at, "created_at": at, "updated_at": at}
                    for province, at in (("Tiền Giang", new), ("Hậu Giang", old))
                ],
            )
        engine.dispose()

        migrate(settings)

        engine = create_db_engine(settings)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT slug, province FROM organisations"))
            provinces = {slug: province for slug, province in rows}
            keys = set(connection.execute(text("SELECT province_key FROM cases")).scalars())
        engine.dispose()
        assert provinces == {"hau-giang": "Hậu Giang", "hdqlc": None, "ben-tre": None}
        assert keys == {"hau giang", "tien giang"}
