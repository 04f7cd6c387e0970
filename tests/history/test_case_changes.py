"""Uploads and consultation answers change the case: each is an entry of its history chain,
written in the transaction that makes the change, and read back by those who may see it."""

from typing import Any

from tests.factories import Api


def entries(api: Api, case_id: str, action: str, who: str = "council") -> list[dict[str, Any]]:
    return [e for e in api.history(case_id, who) if e["action"] == action]


def consultation_of(api: Api, case_id: str, who: str) -> dict[str, Any]:
    (mine,) = api.consultations(case_id, who)
    return mine


def answer(api: Api, case_id: str, who: str, verdict: str = "agree") -> dict[str, Any]:
    assert api.upload(case_id, "ministry_opinion", who).status_code == 201
    response = api.answer(
        case_id, consultation_of(api, case_id, who)["id"], who, verdict, comment=f"Ý kiến {who}"
    )
    assert response.status_code == 200, response.text
    return response.json()


class TestUploadsAreRecorded:
    def test_an_upload_adds_an_entry_naming_the_document_and_keeps_the_chain_valid(
        self, api: Api
    ) -> None:
        case = api.create_case()
        response = api.upload(case["id"], "provincial_proposal")
        assert response.status_code == 201, response.text
        document = response.json()
        entry = api.history(case["id"])[-1]
        assert entry["seq"] == 2
        assert entry["action"] == "upload_document"
        assert (entry["from_state"], entry["to_state"]) == ("draft", "draft")
        assert entry["actor"] == {"org": "hau-giang", "role": "applicant", "user": None}
        assert entry["fields"] == {
            "doc_type": "provincial_proposal",
            "document_id": document["id"],
            "sha256": document["sha256"],
        }
        assert api.verify(case["id"]) == {"valid": True, "entries": 2, "first_bad_seq": None}

    def test_a_re_upload_is_an_entry_of_its_own(self, api: Api) -> None:
        case = api.create_case()
        first = api.upload(case["id"], "site_documents").json()
        second = api.upload(case["id"], "site_documents").json()
        recorded = [e["fields"]["document_id"] for e in entries(api, case["id"], "upload_document")]
        assert recorded == [first["id"], second["id"]]
        assert api.verify(case["id"])["valid"] is True

    def test_a_refused_upload_leaves_no_entry(self, api: Api) -> None:
        case = api.create_case()
        before = api.history(case["id"])
        refused = api.upload(case["id"], "provincial_proposal", content=b"not a document")
        assert refused.status_code == 415
        assert api.upload(case["id"], "council_proposal", "council").status_code in (403, 409)
        assert api.history(case["id"]) == before

    def test_letters_issued_by_a_transition_stay_in_its_own_entry(self, api: Api) -> None:
        case = api.case_in_council_review()
        accept = api.history(case["id"])[-1]
        assert accept["action"] == "accept"
        assert "intake_receipt" in accept["fields"]
        uploads = entries(api, case["id"], "upload_document")
        assert all(e["fields"]["doc_type"] != "intake_receipt" for e in uploads)


class TestAnswersAreRecorded:
    def test_an_answer_adds_an_entry_with_the_consultation_ministry_and_verdict(
        self, api: Api
    ) -> None:
        case = api.case_in_consultation(("mpi",))
        answered = answer(api, case["id"], "mpi", "agree_with_conditions")
        entry = api.history(case["id"])[-1]
        assert entry["action"] == "answer_consultation"
        assert (entry["from_state"], entry["to_state"]) == ("consultation", "consultation")
        assert entry["actor"] == {"org": "mpi", "role": "consulted", "user": None}
        assert entry["comment"] == "Ý kiến mpi"
        assert entry["fields"] == {
            "consultation_id": answered["id"],
            "ministry": "mpi",
            "verdict": "agree_with_conditions",
            "opinion_document_id": answered["opinion_document_id"],
        }
        opinion = entries(api, case["id"], "upload_document")[-1]
        assert opinion["seq"] == entry["seq"] - 1
        assert opinion["fields"]["document_id"] == answered["opinion_document_id"]
        assert api.verify(case["id"])["valid"] is True

    def test_a_refused_answer_leaves_no_entry(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        before = api.history(case["id"])
        # The opinion document is not uploaded yet.
        response = api.answer(case["id"], consultation_of(api, case["id"], "mpi")["id"], "mpi")
        assert response.status_code == 409
        assert api.history(case["id"]) == before

    def test_a_consulted_ministry_does_not_read_another_ministrys_entries(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi", "mof"))
        answer(api, case["id"], "mpi", "agree")
        answer(api, case["id"], "mof", "disagree")
        seen_by_mpi = api.history(case["id"], "mpi")
        assert {e["actor"]["org"] for e in seen_by_mpi if e["actor"]["role"] == "consulted"} == {
            "mpi"
        }
        assert "disagree" not in str(seen_by_mpi)
        # The Ministry that consulted them reads both; the chain is whole either way.
        assert len(entries(api, case["id"], "answer_consultation", "ministry")) == 2
        assert api.verify(case["id"], "mpi")["valid"] is True


class TestPortalHandlingUnit:
    def test_uploads_and_answers_do_not_hand_the_dossier_on(self, api: Api) -> None:
        case = api.case_in_consultation(("mpi",))
        answer(api, case["id"], "mpi")
        response = api.client.get(
            f"/api/v1/cases/{case['id']}/portal-status", headers=api.headers("ministry")
        )
        assert response.status_code == 200, response.text
        # The Ministry opened the consultation and holds the dossier; the answer does not move it.
        assert response.json()["DonViXuLy"] == "MIC"
