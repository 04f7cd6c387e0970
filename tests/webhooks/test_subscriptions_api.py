"""`/api/v1/webhooks`: registering, reading and removing endpoints, through the real API."""

import ast
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.auth.service import issue_token
from app.context import AppContext
from app.core.db import unit_of_work
from app.webhooks.delivery import fan_out
from app.webhooks.models import WebhookDelivery
from app.webhooks.schemas import EVENT_TYPES
from tests.factories import CHAIN, Api, error_details
from tests.security.world import database_snapshot

BASE = "/api/v1/webhooks"
APP = Path(__file__).resolve().parents[2] / "app"


def create(api: Api, who: str = "council", **body: Any) -> Any:
    payload = {"url": "https://hooks.example.vn/admission", "event_types": ["*"], **body}
    return api.client.post(BASE, json=payload, headers=api.headers(who))


def emitted_event_types() -> set[str]:
    """The event types named by the callers of `emit` and `emit_many` in app/ (literals or
    module constants)."""
    found: set[str] = set()
    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"emit", "emit_many"}
                and len(node.args) >= 2
            ):
                kind = node.args[1]
                if isinstance(kind, ast.Constant):
                    found.add(kind.value)
                elif isinstance(kind, ast.Name):
                    found.add(constants[kind.id])
                else:
                    raise AssertionError(f"{path}: emit with a computed event type")
    return found


class TestRegistering:
    def test_a_subscription_is_created_with_its_secret_shown_once(self, api: Api) -> None:
        response = create(api, event_types=["case.transitioned", "case.created"])
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["Location"] == f"{BASE}/{body['id']}"
        assert body["url"] == "https://hooks.example.vn/admission"
        assert body["event_types"] == ["case.created", "case.transitioned"]
        assert body["role"] == "council"
        assert body["secret"].startswith("whsec_")
        read = api.client.get(f"{BASE}/{body['id']}", headers=api.headers("council"))
        assert read.status_code == 200
        assert "secret" not in read.json()
        assert read.json()["deliveries"] == {
            "pending": 0,
            "delivered": 0,
            "dead": 0,
            "cancelled": 0,
        }
        listed = api.client.get(BASE, headers=api.headers("council")).json()["items"]
        assert [s["id"] for s in listed] == [body["id"]]
        assert "secret" not in listed[0]

    def test_each_subscription_has_its_own_secret(self, api: Api) -> None:
        first, second = create(api).json(), create(api).json()
        assert first["secret"] != second["secret"]

    def test_a_star_among_event_types_means_all_of_them(self, api: Api) -> None:
        response = create(api, event_types=["document.uploaded", "*"])
        assert response.json()["event_types"] == ["*"]

    def test_the_known_event_types_are_exactly_those_the_service_emits(self) -> None:
        assert set(EVENT_TYPES) == emitted_event_types()

    def test_every_role_may_register_for_its_own_organisation(self, api: Api) -> None:
        for who in ("applicant", "council", "ministry", "mpi", "government", "viewer", "admin"):
            response = create(api, who)
            assert response.status_code == 201, f"{who}: {response.text}"
            read = api.client.get(f"{BASE}/{response.json()['id']}", headers=api.headers(who))
            assert read.json()["role"] == CHAIN[who][2], who


class TestBadInput:
    def test_is_refused_naming_the_field_and_changes_nothing(
        self, api: Api, ctx: AppContext
    ) -> None:
        before = database_snapshot(ctx)
        for body, field in (
            ({"url": "ftp://hooks.example.vn/x"}, "body.url"),
            ({"url": "https:///no-host"}, "body.url"),
            ({"url": "hooks.example.vn/admission"}, "body.url"),
            ({"url": "https://hooks.example.vn/a b"}, "body.url"),
            ({"url": "https://hooks.example.vn:99999/"}, "body.url"),
            ({"url": "https://" + "a" * 2000 + ".vn/"}, "body.url"),
            ({"url": ""}, "body.url"),
            ({"event_types": []}, "body.event_types"),
            ({"event_types": ["case.deleted"]}, "body.event_types.0"),
            ({"event_types": "*"}, "body.event_types"),
            ({"secret": "whsec_mine"}, "body.secret"),
        ):
            details = error_details(create(api, **body), 422, "invalid")
            assert field in [d["field"] for d in details], (body, details)
        assert database_snapshot(ctx) == before

    def test_missing_fields_are_named(self, api: Api) -> None:
        response = api.client.post(BASE, json={}, headers=api.headers("council"))
        fields = [d["field"] for d in error_details(response, 422, "invalid")]
        assert fields == ["body.url", "body.event_types"]

    def test_without_a_token_it_is_401(self, api: Api) -> None:
        response = api.client.post(BASE, json={"url": "https://x.vn", "event_types": ["*"]})
        error_details(response, 401, "unauthenticated")


class TestOtherOrganisations:
    def test_another_organisation_s_subscription_is_not_found_and_cannot_be_removed(
        self, api: Api, ctx: AppContext
    ) -> None:
        mine = create(api, "applicant").json()
        before = database_snapshot(ctx)
        for who in ("other_applicant", "council", "admin"):
            headers = api.headers(who)
            for method, path in (
                ("GET", f"{BASE}/{mine['id']}"),
                ("GET", f"{BASE}/{mine['id']}/deliveries"),
                ("DELETE", f"{BASE}/{mine['id']}"),
            ):
                response = api.client.request(method, path, headers=headers)
                error_details(response, 404, "not_found")
                missing = api.client.request(
                    method, path.replace(mine["id"], "0" * 8 + mine["id"][8:]), headers=headers
                )
                assert missing.json() == response.json()
            assert api.client.get(BASE, headers=headers).json()["items"] == []
        assert database_snapshot(ctx) == before

    def test_an_organisation_s_other_tokens_share_its_subscriptions(
        self, api: Api, ctx: AppContext
    ) -> None:
        # mpi's token in the matrix is `consulted`; its `viewer` token is the same organisation.
        mine = create(api, "mpi").json()
        with unit_of_work(ctx.engine) as session:
            _, other_token = issue_token(session, org_slug="mpi", role="viewer")
        headers = {"Authorization": f"Bearer {other_token}"}
        assert api.client.get(f"{BASE}/{mine['id']}", headers=headers).status_code == 200
        assert api.client.delete(f"{BASE}/{mine['id']}", headers=headers).status_code == 204


class TestRemoving:
    def test_removal_is_204_then_the_subscription_is_gone(self, api: Api) -> None:
        mine = create(api).json()
        headers = api.headers("council")
        assert api.client.delete(f"{BASE}/{mine['id']}", headers=headers).status_code == 204
        error_details(api.client.get(f"{BASE}/{mine['id']}", headers=headers), 404, "not_found")
        error_details(api.client.delete(f"{BASE}/{mine['id']}", headers=headers), 404, "not_found")
        assert api.client.get(BASE, headers=headers).json()["items"] == []

    def test_pending_deliveries_are_cancelled_in_the_same_transaction(
        self, api: Api, ctx: AppContext
    ) -> None:
        mine = create(api).json()
        api.create_case()
        api.create_case()
        assert fan_out(ctx) == (2, 2)
        response = api.client.delete(f"{BASE}/{mine['id']}", headers=api.headers("council"))
        assert response.status_code == 204
        with unit_of_work(ctx.engine, write=False) as session:
            states = session.scalars(select(WebhookDelivery.state)).all()
        assert states == ["cancelled", "cancelled"]


class TestDeliveriesListing:
    def test_deliveries_are_listed_newest_first_a_page_at_a_time(
        self, api: Api, ctx: AppContext
    ) -> None:
        mine = create(api, event_types=["case.created"]).json()
        cases = [api.create_case()["id"] for _ in range(3)]
        fan_out(ctx)
        path = f"{BASE}/{mine['id']}/deliveries"
        headers = api.headers("council")
        first = api.client.get(path, params={"limit": 2}, headers=headers).json()
        assert [d["case_id"] for d in first["items"]] == [cases[2], cases[1]]
        assert first["items"][0]["state"] == "pending"
        assert first["items"][0]["event_type"] == "case.created"
        assert first["items"][0]["attempts"] == 0
        assert first["items"][0]["next_attempt_at"] is not None
        second = api.client.get(
            path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        ).json()
        assert [d["case_id"] for d in second["items"]] == [cases[0]]
        assert second["next_cursor"] is None
        only_dead = api.client.get(path, params={"state": "dead"}, headers=headers).json()
        assert only_dead["items"] == []
        read = api.client.get(f"{BASE}/{mine['id']}", headers=headers).json()
        assert read["deliveries"]["pending"] == 3

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"cursor": "x"}, "cursor"),
            ({"limit": 0}, "query.limit"),
            ({"state": "x"}, "query.state"),
        ],
    )
    def test_bad_paging_is_refused(self, api: Api, params: dict[str, Any], field: str) -> None:
        mine = create(api).json()
        response = api.client.get(
            f"{BASE}/{mine['id']}/deliveries", params=params, headers=api.headers("council")
        )
        details = error_details(response, 422, "invalid")
        assert field in str(details)
