"""Webhooks go to public internet hosts only, unless `WEBHOOK_ALLOW_PRIVATE_HOSTS` is set:
refused at registration when the URL says so, and at delivery when the name resolves so."""

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.admission.registry import build_context
from app.context import AppContext
from app.core.db import unit_of_work
from app.main import create_app
from app.webhooks import destinations
from app.webhooks.delivery import DeliveryWorker
from app.webhooks.destinations import ForbiddenDestination
from app.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.factories import Api
from tests.webhooks.conftest import Receiver, subscribe

NOT_PUBLIC = [
    "http://127.0.0.1:8080/hook",
    "http://127.8.9.10/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://[fd00::1]/hook",
    "http://[fe80::1]/hook",
    "http://224.0.0.1/hook",
    "http://localhost:9000/hook",
    "http://LOCALHOST./hook",
    "https://api.localhost/hook",
]
PUBLIC = [
    "https://hooks.example.gov.vn/admission",
    "http://8.8.8.8/hook",
    "https://[2001:4860:4860::8888]/hook",
]


@pytest.fixture
def closed(ctx: AppContext, api: Api) -> Iterator[tuple[AppContext, Api]]:
    """The same database, served with the production default: public hosts only."""
    settings = ctx.settings.model_copy(update={"webhook_allow_private_hosts": False})
    strict = build_context(settings)
    with TestClient(create_app(context=strict), raise_server_exceptions=False) as client:
        yield strict, Api(client, api.tokens)
    strict.engine.dispose()


def subscription_count(ctx: AppContext) -> int:
    with unit_of_work(ctx.engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(WebhookSubscription)) or 0


class TestAddresses:
    @pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "::1", "fe80::1", "::ffff:a00:1"])
    def test_internal_addresses_are_not_public(self, address: str) -> None:
        assert not destinations.is_public(ipaddress.ip_address(address))

    @pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "::ffff:808:808"])
    def test_internet_addresses_are(self, address: str) -> None:
        assert destinations.is_public(ipaddress.ip_address(address))

    def test_a_name_is_sent_to_the_address_it_resolved_to_under_its_own_host_header(self) -> None:
        target = destinations.pin("http://localhost:9/hook?x=1", allow_private=True)
        assert str(target.url) == "http://127.0.0.1:9/hook?x=1"
        assert target.headers == {"host": "localhost:9"}
        assert target.extensions == {}

    def test_tls_keeps_the_url_s_name_for_sni_and_the_certificate(self) -> None:
        target = destinations.pin("https://localhost/hook", allow_private=True)
        assert target.url.host == "127.0.0.1"
        assert target.extensions == {"sni_hostname": "localhost"}

    def test_a_name_resolving_to_this_machine_is_refused_when_private_hosts_are_not_allowed(
        self,
    ) -> None:
        with pytest.raises(ForbiddenDestination, match="localhost resolves to a non-public"):
            destinations.pin("http://localhost:9/hook", allow_private=False)

    def test_a_private_literal_is_refused_at_delivery_too(self) -> None:
        with pytest.raises(ForbiddenDestination, match="10.0.0.1 is not a public"):
            destinations.pin("http://10.0.0.1/hook", allow_private=False)

    def test_a_public_literal_is_used_as_it_is(self) -> None:
        target = destinations.pin("http://8.8.8.8/hook", allow_private=False)
        assert (str(target.url), target.headers) == ("http://8.8.8.8/hook", {})


class TestRegistration:
    @pytest.mark.parametrize("url", NOT_PUBLIC)
    def test_a_non_public_host_is_refused_and_nothing_is_registered(
        self, ctx: AppContext, closed: tuple[AppContext, Api], url: str
    ) -> None:
        _, api = closed
        response = api.client.post(
            "/api/v1/webhooks",
            json={"url": url, "event_types": ["*"]},
            headers=api.headers("council"),
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert "webhook URL is not allowed" in error["message"]
        assert set(error["details"]) == {"url"}
        assert subscription_count(ctx) == 0

    @pytest.mark.parametrize("url", PUBLIC)
    def test_a_public_host_is_registered(
        self, ctx: AppContext, closed: tuple[AppContext, Api], url: str
    ) -> None:
        _, api = closed
        assert subscribe(api, "council", url)["url"] == url
        assert subscription_count(ctx) == 1

    def test_a_loopback_host_is_registered_when_private_hosts_are_allowed(
        self, api: Api, ctx: AppContext
    ) -> None:
        assert ctx.settings.webhook_allow_private_hosts
        subscribe(api, "applicant", "http://127.0.0.1:9/hook")
        assert subscription_count(ctx) == 1


@pytest.fixture
def by_name(api: Api, receivers: list[Receiver], tmp_path: Path) -> Receiver:
    """A receiver on loopback, subscribed to as `localhost` (allowed when registered), with one
    event waiting for it."""
    receiver = Receiver(tmp_path, [])
    sub = subscribe(api, "applicant", f"http://localhost:{receiver.port}/hook")
    receiver.secrets = [sub["secret"]]
    receivers.append(receiver.start())
    api.create_case()
    return receiver


class TestDelivery:
    def test_a_name_that_resolves_to_this_machine_is_not_called_and_the_try_fails(
        self, ctx: AppContext, closed: tuple[AppContext, Api], by_name: Receiver
    ) -> None:
        strict, _ = closed

        with DeliveryWorker(strict, batch=5) as worker:
            tally = worker.run_once()

        assert (tally.delivered, tally.retried) == (0, 1)
        assert by_name.records() == []
        with unit_of_work(ctx.engine, write=False) as session:
            delivery = session.scalars(select(WebhookDelivery)).one()
        assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, None)
        assert delivery.last_error == (
            "ForbiddenDestination: localhost resolves to a non-public address"
        )

    def test_when_allowed_the_request_reaches_the_resolved_address_under_the_url_s_host(
        self, ctx: AppContext, by_name: Receiver
    ) -> None:
        receiver = by_name
        with DeliveryWorker(ctx, batch=5) as worker:
            assert worker.drain().delivered == 1

        [record] = receiver.records()
        assert record["valid"]
        assert (record["host"], record["path"]) == (f"localhost:{receiver.port}", "/hook")
