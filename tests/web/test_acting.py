"""The case page's forms: exactly each action's fields, what is missing, the version sent."""

import re

from tests.auth.people import sign_in_as
from tests.factories import Api


def form_of(page: str, action: str) -> str:
    start = page.index(f'data-action="{action}"')
    return page[start : page.index("</form>", start)]


def names(form: str) -> set[str]:
    return set(re.findall(r'name="([a-z_]+)"', form))


class TestForms:
    def test_each_action_has_exactly_its_fields_and_says_what_it_lacks(self, api: Api) -> None:
        case = api.case_in_council_review()
        sign_in_as(api, "council")
        page = api.client.get(f"/cases/{case['id']}").text
        assert f'data-version="{api.read(case["id"])["version"]}"' in page
        assert names(form_of(page, "request_supplement")) == {
            "reason",
            "supplement_documents",
            "comment",
        }
        assert names(form_of(page, "decline")) == {"reason", "comment"}
        assert names(form_of(page, "extend_deadline")) == {"reason", "new_due_date", "comment"}
        propose = form_of(page, "propose_to_ministry")
        assert "Còn thiếu:</span> Văn bản đề xuất của HĐQLC gửi Bộ TT&amp;TT" in propose
        assert "disabled" in propose
        assert 'data-upload="council_proposal"' in page
        assert 'id="review"' in page

    def test_the_ministry_picks_the_ministries_to_consult(self, api: Api) -> None:
        case = api.case_in_ministry_appraisal()
        sign_in_as(api, "ministry")
        page = api.client.get(f"/cases/{case['id']}").text
        consult = form_of(page, "open_consultation")
        assert names(consult) == {"ministries", "comment"}
        assert 'value="mpi"' in consult
        assert 'value="mof"' in consult
        assert 'value="mic"' not in consult  # not itself

    def test_the_government_records_a_decision_number_and_date(self, api: Api) -> None:
        case = api.case_in_ministry_appraisal()
        for doc in ("appraisal_report", "pm_submission"):
            assert api.upload(case["id"], doc, "ministry").status_code == 201
        api.advance(case["id"], "submit_to_pm", "ministry")
        sign_in_as(api, "government")
        page = api.client.get(f"/cases/{case['id']}").text
        assert names(form_of(page, "approve")) == {"decision_number", "decision_date", "comment"}
        assert names(form_of(page, "reject")) == {
            "reason",
            "decision_number",
            "decision_date",
            "comment",
        }

    def test_a_consulted_ministry_answers_from_the_page_once_its_opinion_is_filed(
        self, api: Api
    ) -> None:
        case = api.case_in_consultation(("mpi",))
        sign_in_as(api, "mpi")
        page = api.client.get(f"/cases/{case['id']}").text
        assert 'data-upload="ministry_opinion"' in page
        answer = page[page.index('id="answer"') : page.index("</form>", page.index('id="answer"'))]
        assert "Còn thiếu:" in answer
        assert "disabled" in answer
        assert api.upload(case["id"], "ministry_opinion", "mpi").status_code == 201
        page = api.client.get(f"/cases/{case['id']}").text
        answer = page[page.index('id="answer"') : page.index("</form>", page.index('id="answer"'))]
        assert "Còn thiếu:" not in answer

    def test_a_viewer_is_offered_nothing(self, api: Api) -> None:
        case = api.case_in_council_review()
        sign_in_as(api, "viewer")
        page = api.client.get(f"/cases/{case['id']}").text
        assert 'id="no-actions"' in page
        assert '<form class="action"' not in page
        assert 'id="letters"' not in page
