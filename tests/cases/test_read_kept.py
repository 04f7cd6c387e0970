"""A case read is kept per case version, reader and day: a kept body is never a stale one."""

from datetime import UTC, datetime

from app.context import AppContext
from tests.factories import Api, Clock

MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


class TestAKeptReadIsNeverStale:
    def test_a_change_shows_at_the_next_read(self, api: Api) -> None:
        case = api.case_in_council_review()
        before = api.read(case["id"], "council")
        assert api.read(case["id"], "council") == before  # the kept body

        uploaded = api.upload(case["id"], "site_visit_minutes", "council")
        assert uploaded.status_code == 201
        after = api.read(case["id"], "council")

        assert after["version"] == before["version"] + 1
        visit = {a["action"]: a for a in after["allowed_actions"]}["record_site_visit"]
        assert visit["missing"] == []

    def test_each_reader_gets_its_own_actions(self, api: Api) -> None:
        case = api.case_in_council_review()
        council = api.read(case["id"], "council")
        viewer = api.read(case["id"], "viewer")
        applicant = api.read(case["id"], "applicant")

        assert council["version"] == viewer["version"] == applicant["version"]
        assert {a["action"] for a in council["allowed_actions"]} >= {"record_site_visit"}
        assert viewer["allowed_actions"] == []
        assert "record_site_visit" not in {a["action"] for a in applicant["allowed_actions"]}

    def test_a_new_day_is_read_anew(self, api: Api, ctx: AppContext) -> None:
        ctx.clock = Clock(MONDAY)
        case = api.case_in_council_review()
        due = datetime.fromisoformat(api.read(case["id"], "council")["due_at"]).date()
        first = api.read(case["id"], "council")
        assert first["overdue"] is False

        ctx.clock.advance(days=(due - MONDAY.date()).days + 3)
        later = api.read(case["id"], "council")

        assert later["version"] == first["version"]
        assert later["overdue"] is True
        assert later["overdue_days"] == 3
