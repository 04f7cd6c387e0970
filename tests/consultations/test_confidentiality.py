"""A consulted ministry reads the dossier it is asked about, the Council's proposal and its
own opinion, never another ministry's opinion, verdict, event or name (DESIGN §2), whatever
the route: documents, content, feed, stream, webhooks, history, portal, letters, pipeline,
dashboard. The Council and the Ministry still see everything."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.auth.actor import Actor
from app.cases.models import Case
from app.context import AppContext
from app.core.db import unit_of_work
from app.deadlines.sweep import sweep
from app.engine.roles import Role
from app.events.models import Event
from app.history import service as history
from app.webhooks.delivery import fan_out
from app.webhooks.models import WebhookDelivery
from tests.auth.people import sign_in_as
from tests.events.test_stream import read_stream
from tests.factories import SUBMIT_DOCUMENTS, Api, Clock, error_details
from tests.live import serve

# Monday 2 March 2026, 09:00 in Hà Nội: the consultations are due on Monday 16 March.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
# What mpi may read of the case: the dossier, the Council's proposal, its own opinion.
SHARED = {*SUBMIT_DOCUMENTS, "council_proposal"}


@dataclass
class Consulted:
    """A case the Ministry appraised (its report on file) and sent to mpi and mof; mpi
    agreed, mof disagreed, each with its opinion uploaded."""

    case_id: str
    mpi: dict[str, Any]
    mof: dict[str, Any]
    mpi_opinion: str
    mof_opinion: str


def consult_two(api: Api, *, mof_answers: bool = True) -> Consulted:
    case = api.case_in_ministry_appraisal()
    case_id = case["id"]
    uploaded = api.upload(case_id, "appraisal_report", "ministry", filename="appraisal.pdf")
    assert uploaded.status_code == 201, uploaded.text
    api.advance(case_id, "open_consultation", "ministry", ministries=["mpi", "mof"])
    by_ministry = {c["ministry"]: c for c in api.consultations(case_id, "ministry")}
    opinions = {}
    for who, verdict in (("mpi", "agree"), ("mof", "disagree")):
        response = api.upload(case_id, "ministry_opinion", who, filename=f"{who}-opinion.pdf")
        assert response.status_code == 201, response.text
        opinions[who] = response.json()["id"]
        if who == "mpi" or mof_answers:
            answered = api.answer(case_id, by_ministry[who]["id"], who, verdict, comment=who)
            assert answered.status_code == 200, answered.text
    return Consulted(
        case_id, by_ministry["mpi"], by_ministry["mof"], opinions["mpi"], opinions["mof"]
    )


@pytest.fixture
def consulted(api: Api) -> Consulted:
    return consult_two(api)


def feed(api: Api, who: str, case_id: str) -> list[dict[str, Any]]:
    response = api.events_page(who)
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["case_id"] == case_id]


def ministries(entry: dict[str, Any], name: str) -> list[str]:
    """The ministries a history entry's field lists (each an object naming its ministry)."""
    return [item["ministry"] for item in entry["fields"][name]]


def mentions(event: dict[str, Any], slug: str) -> bool:
    data = event["data"]
    return slug in (data.get("ministry"), data.get("uploaded_by"))


class TestDocuments:
    def test_a_ministry_lists_the_dossier_the_councils_proposal_and_its_own_opinion_only(
        self, api: Api, consulted: Consulted
    ) -> None:
        listed = api.documents(consulted.case_id, "mpi")
        assert {d["doc_type"] for d in listed} == SHARED | {"ministry_opinion"}
        opinions = [d for d in listed if d["doc_type"] == "ministry_opinion"]
        assert [(d["id"], d["uploaded_by"]) for d in opinions] == [(consulted.mpi_opinion, "mpi")]
        mof_listed = api.documents(consulted.case_id, "mof")
        assert [d["id"] for d in mof_listed if d["doc_type"] == "ministry_opinion"] == [
            consulted.mof_opinion
        ]
        # The Council, the Ministry and the applicant still see every document.
        for who in ("council", "ministry", "applicant"):
            everything = api.documents(consulted.case_id, who)
            assert {consulted.mpi_opinion, consulted.mof_opinion} <= {d["id"] for d in everything}
            assert {d["doc_type"] for d in everything} >= SHARED | {
                "appraisal_report",
                "intake_receipt",
            }
            assert len(everything) > len(listed)

    def test_another_ministrys_opinion_cannot_be_downloaded_and_looks_like_a_missing_one(
        self, api: Api, consulted: Consulted
    ) -> None:
        foreign = api.download(consulted.case_id, consulted.mof_opinion, "mpi")
        error_details(foreign, 404, "not_found")
        missing = api.download(consulted.case_id, str(uuid.uuid4()), "mpi")
        assert foreign.json() == missing.json()
        for who in ("council", "ministry"):
            assert api.download(consulted.case_id, consulted.mof_opinion, who).status_code == 200
        assert api.download(consulted.case_id, consulted.mpi_opinion, "mpi").status_code == 200
        proposal = next(
            d
            for d in api.documents(consulted.case_id, "mpi")
            if d["doc_type"] == "provincial_proposal"
        )
        content = api.download(consulted.case_id, proposal["id"], "mpi")
        assert content.status_code == 200
        assert content.content.startswith(b"%PDF")

    def test_the_ministrys_own_papers_and_the_letters_are_not_shared_with_it(
        self, api: Api, consulted: Consulted
    ) -> None:
        everything = api.documents(consulted.case_id, "council")
        hidden = [d for d in everything if d["doc_type"] in ("appraisal_report", "intake_receipt")]
        assert len(hidden) == 2
        for doc in hidden:
            error_details(api.download(consulted.case_id, doc["id"], "mpi"), 404, "not_found")
            for who in ("council", "ministry", "applicant"):
                assert api.download(consulted.case_id, doc["id"], who).status_code == 200


class TestFeedStreamAndWebhooks:
    def test_the_feed_leaves_out_the_other_ministrys_upload_and_answer(
        self, api: Api, consulted: Consulted
    ) -> None:
        seen = feed(api, "mpi", consulted.case_id)
        assert not [e for e in seen if mentions(e, "mof")]
        uploads = [e["data"]["doc_type"] for e in seen if e["type"] == "document.uploaded"]
        assert set(uploads) == SHARED | {"ministry_opinion"}
        [answer] = [e for e in seen if e["type"] == "consultation.answered"]
        assert answer["data"] == {
            "consultation_id": consulted.mpi["id"],
            "ministry": "mpi",
            "verdict": "agree",
            "version": answer["data"]["version"],
        }
        assert isinstance(answer["data"]["version"], int)
        everything = feed(api, "council", consulted.case_id)
        verdicts = {
            e["data"]["ministry"]: e["data"]["verdict"]
            for e in everything
            if e["type"] == "consultation.answered"
        }
        assert verdicts == {"mpi": "agree", "mof": "disagree"}
        assert len(everything) > len(seen)

    def test_the_stream_leaves_out_the_other_ministrys_upload_and_answer(
        self, api: Api, ctx: AppContext, consulted: Consulted
    ) -> None:
        expected = feed(api, "mpi", consulted.case_id)
        with serve(ctx) as url:
            # One more than mpi may read: had anything else been streamed, it would be here.
            api.upload(consulted.case_id, "ministry_opinion", "mpi")
            streamed = read_stream(url, api.tokens["mpi"], len(expected) + 1)
        assert [int(e["id"]) for e in streamed[:-1]] == [e["id"] for e in expected]
        assert streamed[-1]["type"] == "document.uploaded"
        assert streamed[-1]["data"]["uploaded_by"] == "mpi"
        assert not [e for e in streamed if mentions(e, "mof")]

    def test_a_consulted_ministrys_webhook_gets_no_delivery_for_another_ministrys_answer(
        self, api: Api, ctx: AppContext
    ) -> None:
        subscriptions = {}
        for who in ("mpi", "council"):
            response = api.client.post(
                "/api/v1/webhooks",
                json={"url": f"https://hooks.example.vn/{who}", "event_types": ["*"]},
                headers=api.headers(who),
            )
            assert response.status_code == 201, response.text
            subscriptions[who] = uuid.UUID(response.json()["id"])
        consulted = consult_two(api)
        while fan_out(ctx)[0]:
            pass
        with unit_of_work(ctx.engine, write=False) as session:
            rows = session.execute(
                select(WebhookDelivery.subscription_id, Event.type, Event.data).join(
                    Event, WebhookDelivery.event_id == Event.id
                )
            ).all()
        received: dict[str, list[dict[str, Any]]] = {who: [] for who in subscriptions}
        for subscription_id, event_type, data in rows:
            who = next(w for w, s in subscriptions.items() if s == subscription_id)
            received[who].append({"type": event_type, "data": data})
        answers = {
            who: sorted(e["data"]["ministry"] for e in got if e["type"] == "consultation.answered")
            for who, got in received.items()
        }
        assert answers == {"mpi": ["mpi"], "council": ["mof", "mpi"]}
        assert not [e for e in received["mpi"] if mentions(e, "mof")]
        assert [e for e in received["council"] if mentions(e, "mof")]
        assert consulted.case_id


class TestHistory:
    def test_the_history_names_no_other_ministry_and_the_whole_chain_still_verifies(
        self, api: Api, consulted: Consulted
    ) -> None:
        api.advance(consulted.case_id, "close_consultation", "ministry")
        seen = {e["action"]: e for e in api.history(consulted.case_id, "mpi")}
        assert ministries(seen["open_consultation"], "ministries") == ["mpi"]
        assert seen["open_consultation"]["redacted"] is True
        assert ministries(seen["close_consultation"], "closed_consultations") == ["mpi"]
        assert seen["accept"]["redacted"] is False
        assert api.verify(consulted.case_id, "mpi")["valid"] is True

        whole = api.history(consulted.case_id, "council")
        by_action = {e["action"]: e for e in whole}
        assert ministries(by_action["open_consultation"], "ministries") == ["mpi", "mof"]
        assert ministries(by_action["close_consultation"], "closed_consultations") == [
            "mof",
            "mpi",
        ]
        assert not [e for e in whole if e["redacted"]]
        # The Council sees the chain whole: every link is there to check.
        assert [e["prev_hash"] for e in whole[1:]] == [e["hash"] for e in whole[:-1]]
        assert api.verify(consulted.case_id, "council") == {
            "valid": True,
            "entries": len(whole),
            "first_bad_seq": None,
        }

    def test_entries_of_another_ministry_or_of_a_paper_not_shared_are_left_out(
        self, api: Api, ctx: AppContext, consulted: Consulted
    ) -> None:
        """Answers and uploads recorded in the chain are another ministry's when they are."""
        case_id = uuid.UUID(consulted.case_id)
        mof = Actor(org_id=0, org_slug="mof", role=Role.CONSULTED)
        mic = Actor(org_id=0, org_slug="mic", role=Role.MINISTRY)
        mpi = Actor(org_id=0, org_slug="mpi", role=Role.CONSULTED)
        # Entries mpi may not read already (mof's answer and opinion, the appraisal report).
        hidden_before = len(api.history(consulted.case_id, "council")) - len(
            api.history(consulted.case_id, "mpi")
        )
        with unit_of_work(ctx.engine) as session:
            case = session.get(Case, case_id)
            assert case is not None
            for actor, action, fields in (
                (mof, "answer", {"ministry": "mof", "verdict": "disagree"}),
                (mic, "upload", {"doc_type": "appraisal_report"}),
                (mic, "note", {"ministry": "mof"}),
                (mic, "upload", {"doc_type": "council_proposal"}),
                (mpi, "answer", {"ministry": "mpi", "verdict": "agree"}),
            ):
                history.append(
                    session,
                    case=case,
                    actor=actor,
                    action=action,
                    from_state="consultation",
                    to_state="consultation",
                    at=ctx.now(),
                    fields=fields,
                )
        tail = api.history(consulted.case_id, "mpi")[-2:]
        assert [(e["action"], e["actor"]["org"]) for e in tail] == [
            ("upload", "mic"),
            ("answer", "mpi"),
        ]
        assert tail[0]["fields"] == {"doc_type": "council_proposal"}
        assert (
            len(api.history(consulted.case_id, "council"))
            == len(api.history(consulted.case_id, "mpi")) + hidden_before + 3
        )
        assert api.verify(consulted.case_id, "mpi")["valid"] is True


class TestOtherViews:
    def test_the_portal_status_lists_no_document_the_ministry_may_not_read(
        self, api: Api, consulted: Consulted
    ) -> None:
        case_id = consulted.case_id
        api.advance(case_id, "close_consultation", "ministry")
        assert api.upload(case_id, "pm_submission", "ministry").status_code == 201
        api.advance(case_id, "submit_to_pm", "ministry")
        assert api.upload(case_id, "pm_decision", "government").status_code == 201
        api.advance(
            case_id,
            "approve",
            "government",
            decision_number="123/QĐ-TTg",
            decision_date="2026-03-20",
        )

        def portal(who: str) -> dict[str, Any]:
            response = api.client.get(
                f"/api/v1/cases/{case_id}/portal-status", headers=api.headers(who)
            )
            assert response.status_code == 200, response.text
            return dict(response.json())

        council, mpi = portal("council"), portal("mpi")
        # Field names are the portal's: results, documents submitted.
        assert [r["MaThanhPhanHoSo"] for r in council["DanhSachGiayToKetQua"]] == ["pm_decision"]
        assert mpi["DanhSachGiayToKetQua"] == []
        assert {d["MaThanhPhanHoSo"] for d in mpi["TaiLieuNop"]} == set(SUBMIT_DOCUMENTS)
        assert mpi["TaiLieuNop"] == council["TaiLieuNop"]

    def test_a_letter_not_shared_with_the_ministry_cannot_be_verified_by_it(
        self, api: Api, consulted: Consulted
    ) -> None:
        receipt = next(
            d
            for d in api.documents(consulted.case_id, "council")
            if d["doc_type"] == "intake_receipt"
        )
        path = f"/api/v1/cases/{consulted.case_id}/letters/{receipt['id']}/verify"
        assert api.client.get(path, headers=api.headers("council")).status_code == 200
        error_details(api.client.get(path, headers=api.headers("mpi")), 404, "not_found")

    def test_the_pipeline_tag_does_not_move_when_another_ministry_is_late(
        self, api: Api, ctx: AppContext
    ) -> None:
        clock = ctx.clock = Clock(MONDAY)
        consulted = consult_two(api, mof_answers=False)
        # The dossier's own deadline moves past the consultations', so that only mof's
        # consultation is late on 17 March.
        api.advance(
            consulted.case_id,
            "extend_deadline",
            "ministry",
            reason="Chờ ý kiến Bộ Quốc phòng",
            new_due_date="2026-03-27",
        )
        clock.advance(days=15)  # Tuesday 17 March
        before = {who: api.pipeline(who).headers["etag"] for who in ("mpi", "council")}
        assert sweep(ctx).consultations == 1
        after = {who: api.pipeline(who).headers["etag"] for who in ("mpi", "council")}
        assert after["mpi"] == before["mpi"]
        assert after["council"] != before["council"]
        assert not [e for e in feed(api, "mpi", consulted.case_id) if mentions(e, "mof")]
        late = [e for e in feed(api, "council", consulted.case_id) if e["type"] == "case.overdue"]
        assert [e["data"]["ministry"] for e in late] == ["mof"]


@pytest.fixture
def signed_in_as_mpi(api: Api) -> Iterator[Api]:
    sign_in_as(api, "mpi")
    yield api
    api.client.cookies.clear()


class TestDashboard:
    def test_the_case_page_shows_the_ministry_no_other_ministrys_opinion(
        self, api: Api, consulted: Consulted, signed_in_as_mpi: Api
    ) -> None:
        page = api.client.get(f"/cases/{consulted.case_id}")
        assert page.status_code == 200, page.text
        assert "mpi-opinion.pdf" in page.text
        assert "mof-opinion.pdf" not in page.text
        assert "appraisal.pdf" not in page.text
        assert 'data-doc-type="appraisal_report"' not in page.text
        assert 'data-doc-type="provincial_proposal"' in page.text
