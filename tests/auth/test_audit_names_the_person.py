"""The audit names the person: history entries (in the hash chain), the API and the letters."""

from sqlalchemy import update

from app.auth.models import User
from app.auth.users import issue_personal_token
from app.context import AppContext
from app.core.db import unit_of_work
from app.history.models import AuditEntry
from tests.auth.people import make_user
from tests.factories import Api
from tests.letters.test_letters import letter, text_of


def as_person(api: Api, ctx: AppContext, who: str, **person: str) -> None:
    """Give `who` a personal token of a new person (replacing its organisation token)."""
    make_user(ctx, **person)
    with unit_of_work(ctx.engine) as session:
        _, api.tokens[who] = issue_personal_token(session, email=person["email"])


class TestHistory:
    def test_an_entry_names_the_person_who_acted_and_null_for_an_organisation_token(
        self, api: Api, ctx: AppContext
    ) -> None:
        as_person(api, ctx, "council", email="lan@hdqlc.example", name="Nguyễn Thị Lan")
        case = api.case_in_council_review()
        items = api.client.get(
            f"/api/v1/cases/{case['id']}/history", headers=api.headers("council")
        ).json()["items"]
        by_action = {item["action"]: item["actor"] for item in items}
        assert by_action["submit"] == {"org": "hau-giang", "role": "applicant", "user": None}
        accepted = by_action["accept"]
        assert accepted["org"] == "hdqlc"
        assert accepted["user"]["name"] == "Nguyễn Thị Lan"
        assert isinstance(accepted["user"]["id"], int)

    def test_the_name_is_covered_by_the_hash_chain(self, api: Api, ctx: AppContext) -> None:
        as_person(api, ctx, "council", email="lan@hdqlc.example", name="Nguyễn Thị Lan")
        case = api.case_in_council_review()
        path = f"/api/v1/cases/{case['id']}/history/verify"
        assert api.client.get(path, headers=api.headers("council")).json()["valid"] is True
        with unit_of_work(ctx.engine) as session:
            session.execute(
                update(AuditEntry)
                .where(AuditEntry.actor_user_name.is_not(None))
                .values(actor_user_name="Someone Else")
            )
        verdict = api.client.get(path, headers=api.headers("council")).json()
        assert verdict["valid"] is False

    def test_the_entry_keeps_the_name_the_person_had_when_they_acted(
        self, api: Api, ctx: AppContext
    ) -> None:
        as_person(api, ctx, "council", email="lan@hdqlc.example", name="Nguyễn Thị Lan")
        case = api.case_in_council_review()
        with unit_of_work(ctx.engine) as session:
            session.execute(update(User).values(display_name="Nguyễn Thị Lan Anh"))
        items = api.client.get(
            f"/api/v1/cases/{case['id']}/history", headers=api.headers("council")
        ).json()["items"]
        assert items[-1]["actor"]["user"]["name"] == "Nguyễn Thị Lan"


class TestLetters:
    def test_the_receipt_names_the_official_who_received_the_dossier(
        self, api: Api, ctx: AppContext
    ) -> None:
        as_person(api, ctx, "council", email="lan@hdqlc.example", name="Nguyễn Thị Lan")
        case = api.case_in_council_review()
        receipt = letter(api, case["id"], "intake_receipt")
        text = text_of(api.download(case["id"], receipt["id"], "applicant").content)
        assert "NGƯỜI TIẾP NHẬN HỒ SƠ Nguyễn Thị Lan" in text

    def test_the_supplement_notice_names_the_official_who_asked(
        self, api: Api, ctx: AppContext
    ) -> None:
        as_person(api, ctx, "council", email="hung@hdqlc.example", name="Trần Văn Hùng")
        case = api.case_in_council_review()
        api.advance(case["id"], "request_supplement", "council", reason="Thiếu bản đồ quy hoạch")
        notice = letter(api, case["id"], "supplement_notice")
        text = text_of(api.download(case["id"], notice["id"], "applicant").content)
        assert "Người yêu cầu: Trần Văn Hùng" in text
