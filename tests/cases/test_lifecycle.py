"""The whole admission, draft to member, with every role acting for itself."""

from tests.factories import Api


class TestFullAdmission:
    def test_a_dossier_goes_from_draft_to_member(self, api: Api) -> None:
        case = api.create_case()
        assert case["state"] == "draft"
        assert case["version"] == 1
        assert case["code"] is None
        case = api.submitted_case()
        cid = case["id"]
        assert case["state"] == "submitted"
        assert case["code"].startswith("QTSC-")
        api.advance(cid, "accept", "council")
        assert api.upload(cid, "site_visit_minutes", "council").status_code == 201
        api.advance(cid, "record_site_visit", "council", comment="Khảo sát ngày 4/5/2023")
        assert api.upload(cid, "council_proposal", "council").status_code == 201
        api.advance(cid, "propose_to_ministry", "council")
        case = api.advance(cid, "open_consultation", "ministry", ministries=["mpi", "mof"])
        assert case["state"] == "consultation"
        consultations = api.client.get(
            f"/api/v1/cases/{cid}/consultations", headers=api.headers("ministry")
        ).json()["items"]
        assert {c["ministry"] for c in consultations} == {"mpi", "mof"}
        for who in ("mpi", "mof"):
            mine = api.client.get(
                f"/api/v1/cases/{cid}/consultations", headers=api.headers(who)
            ).json()["items"]
            assert len(mine) == 1
            assert api.upload(cid, "ministry_opinion", who).status_code == 201
            version = api.read(cid, who)["version"]
            answered = api.client.post(
                f"/api/v1/cases/{cid}/consultations/{mine[0]['id']}/answer",
                json={"verdict": "agree", "comment": "Thống nhất"},
                headers=api.headers(who, version),
            )
            assert answered.status_code == 200, answered.text
            assert answered.headers["ETag"] == f'"{version + 1}"'
        api.advance(cid, "close_consultation", "ministry")
        assert api.upload(cid, "appraisal_report", "ministry").status_code == 201
        assert api.upload(cid, "pm_submission", "ministry").status_code == 201
        api.advance(cid, "submit_to_pm", "ministry")
        assert api.upload(cid, "pm_decision", "government").status_code == 201
        case = api.advance(
            cid, "approve", "government", decision_number="333/QĐ-TTg", decision_date="2026-11-20"
        )
        assert case["state"] == "onboarding"
        assert api.upload(cid, "organisation_regulation", "applicant").status_code == 201
        case = api.advance(cid, "activate", "applicant")
        assert case["state"] == "member"
        assert case["allowed_actions"] == []

        history = api.client.get(f"/api/v1/cases/{cid}/history", headers=api.headers("council"))
        actions = [e["action"] for e in history.json()["items"]]
        up = "upload_document"
        assert actions == [
            "create", *[up] * 6, "submit", "accept", up, "record_site_visit",
            up, "propose_to_ministry", "open_consultation",
            up, "answer_consultation", up, "answer_consultation", "close_consultation",
            up, up, "submit_to_pm", up, "approve", up, "activate",
        ]  # fmt: skip
        verify = api.client.get(
            f"/api/v1/cases/{cid}/history/verify", headers=api.headers("council")
        )
        assert verify.json() == {"valid": True, "entries": len(actions), "first_bad_seq": None}
