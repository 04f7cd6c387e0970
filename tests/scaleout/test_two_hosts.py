"""Any number of stateless API hosts on one PostgreSQL database and one object store: two
`admission serve` processes with working directories of their own, requests alternating
between them as a load balancer sends them."""

import hashlib
import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from app.auth.tokens import display_prefix
from app.cases.models import Case
from app.core.db import unit_of_work
from app.documents.models import Document
from app.events.models import Event
from app.storage.base import EntryKind
from app.storage.s3 import MIN_PART_BYTES
from tests.documents.conftest import pdf_of_size
from tests.factories import SUBMIT_DOCUMENTS, Api, pdf_bytes
from tests.scaleout.conftest import Cluster, Host
from tests.webhooks.conftest import Receiver

MIB = 1024 * 1024
WAIT = 15.0


class RoundRobin(httpx.BaseTransport):
    """A load balancer's view: each request goes to the next host in turn."""

    def __init__(self, hosts: tuple[Host, ...]) -> None:
        self.hosts = hosts
        self.sent: list[str] = []
        self._transport = httpx.HTTPTransport()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            host = self.hosts[len(self.sent) % len(self.hosts)]
            self.sent.append(host.name)
        request.url = request.url.copy_with(host="127.0.0.1", port=host.server.port)
        request.headers["host"] = f"127.0.0.1:{host.server.port}"
        return self._transport.handle_request(request)


def api_of(cluster: Cluster, host: Host | None = None) -> Api:
    """The API through one host, or through both in turn (`host` None)."""
    if host is None:
        client = httpx.Client(
            base_url="http://cluster", transport=RoundRobin(cluster.hosts), timeout=60
        )
    else:
        client = httpx.Client(base_url=host.url, timeout=60)
    return Api(client, cluster.tokens)  # type: ignore[arg-type]  # any httpx client will do


def last_event_id(cluster: Cluster) -> int:
    with unit_of_work(cluster.ctx.engine, write=False) as session:
        return int(session.scalar(select(func.max(Event.id))) or 0)


def bucket_objects(cluster: Cluster) -> set[str]:
    return {e.sha256 for e in cluster.store.scan(EntryKind.OBJECT)}


def referenced(cluster: Cluster) -> set[str]:
    with unit_of_work(cluster.ctx.engine, write=False) as session:
        return set(session.scalars(select(Document.sha256).distinct()))


def streamed(content: bytes, chunk: int = 256 * 1024, pause: float = 0.0) -> Iterator[bytes]:
    for start in range(0, len(content), chunk):
        yield content[start : start + chunk]
        if pause:
            time.sleep(pause)


def multipart_body(doc_type: str, filename: str, content: bytes, boundary: str) -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="doc_type"\r\n\r\n{doc_type}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


def streaming_upload(
    host: Host, cluster: Cluster, case_id: str, content: bytes, pause: float
) -> httpx.Response:
    """An upload whose body is sent in chunks, `pause` seconds apart (a slow client)."""
    boundary = f"b-{uuid.uuid4().hex}"
    body = multipart_body("site_documents", "ban-do.pdf", content, boundary)
    headers = {
        **cluster.headers("applicant"),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    with httpx.Client(base_url=host.url, timeout=120) as http:
        return http.post(
            f"/api/v1/cases/{case_id}/documents",
            content=streamed(body, pause=pause),
            headers=headers,
        )


class TestDocumentsAcrossHosts:
    def test_uploaded_through_a_downloaded_through_b_byte_identical_and_no_local_disk(
        self, cluster: Cluster
    ) -> None:
        both, through_a, through_b = (
            api_of(cluster),
            api_of(cluster, cluster.a),
            api_of(cluster, cluster.b),
        )
        case = both.create_case()
        contents = {doc_type: pdf_bytes(doc_type) for doc_type in SUBMIT_DOCUMENTS}
        # One of several parts: a multipart upload to the store.
        contents["site_documents"] = pdf_of_size(2 * MIN_PART_BYTES + 12345)
        for doc_type, content in contents.items():
            uploaded = through_a.upload(case["id"], doc_type, content=content)
            assert uploaded.status_code == 201, uploaded.text

        listed = through_b.documents(case["id"])
        for doc in listed:
            download = through_b.download(case["id"], doc["id"])
            assert download.status_code == 200, download.text
            assert download.content == contents[doc["doc_type"]]
        submitted = both.advance(case["id"], "submit", "applicant")

        assert submitted["state"] == "submitted"
        assert {d["doc_type"] for d in listed} == set(SUBMIT_DOCUMENTS)
        assert bucket_objects(cluster) >= {d["sha256"] for d in listed}
        # Neither host kept anything on its own disk.
        for host in cluster.hosts:
            assert not (host.workdir / "documents").exists()


class TestChangesMadeOnAnotherHost:
    def test_a_transition_on_b_is_seen_in_the_stream_and_the_long_poll_open_on_a(
        self, cluster: Cluster
    ) -> None:
        case = api_of(cluster).submitted_case()
        cursor = last_event_id(cluster)
        seen: list[dict[str, Any]] = []
        polled: list[httpx.Response] = []
        headers = cluster.headers("council")
        moved = ("case.transitioned", case["id"])

        def follow_stream() -> None:
            with (
                httpx.Client(base_url=cluster.a.url, timeout=WAIT) as http,
                http.stream("GET", f"/api/v1/events/stream?after={cursor}", headers=headers) as s,
            ):
                for line in s.iter_lines():
                    if line.startswith("data:"):
                        seen.append(json.loads(line[5:]))
                        if (seen[-1]["type"], seen[-1]["case_id"]) == moved:
                            return

        def long_poll() -> None:
            polled.append(
                cluster.request(
                    cluster.a, "GET", f"/api/v1/events?after={cursor}&wait=20", headers=headers
                )
            )

        watchers = [threading.Thread(target=follow_stream), threading.Thread(target=long_poll)]
        for watcher in watchers:
            watcher.start()
        time.sleep(0.5)  # both are waiting on A
        started = time.monotonic()
        accepted = api_of(cluster, cluster.b).advance(case["id"], "accept", "council")
        for watcher in watchers:
            watcher.join(WAIT)

        assert accepted["state"] == "council_review"
        assert [(e["type"], e["case_id"]) for e in seen][-1:] == [("case.transitioned", case["id"])]
        assert polled[0].status_code == 200
        assert case["id"] in {e["case_id"] for e in polled[0].json()["items"]}
        # Woken by the change, not by the end of its 20-second wait.
        assert time.monotonic() - started < 10

    def test_the_pipeline_etag_read_on_a_changes_with_a_transition_on_b(
        self, cluster: Cluster
    ) -> None:
        case = api_of(cluster).submitted_case()
        headers = cluster.headers("council")
        first = cluster.request(cluster.a, "GET", "/api/v1/pipeline", headers=headers)
        tag = first.headers["etag"]
        unchanged = cluster.request(
            cluster.b, "GET", "/api/v1/pipeline", headers={**headers, "If-None-Match": tag}
        )

        api_of(cluster, cluster.b).advance(case["id"], "accept", "council")
        after = cluster.request(
            cluster.a, "GET", "/api/v1/pipeline", headers={**headers, "If-None-Match": tag}
        )

        assert unchanged.status_code == 304
        assert after.status_code == 200
        assert after.headers["etag"] != tag
        listed = {c["id"]: c["state"] for c in after.json()["cases"]}
        assert listed[case["id"]] == "council_review"

    def test_a_token_revoked_on_a_is_refused_on_b_at_its_next_request(
        self, cluster: Cluster
    ) -> None:
        issued = cluster.a.run("token", "create", "--org", "hau-giang", "--role", "applicant")
        assert issued.returncode == 0, issued.stderr
        token = issued.stdout.strip().splitlines()[-1]
        bearer = {"Authorization": f"Bearer {token}"}
        before = cluster.request(cluster.b, "GET", "/api/v1/cases", headers=bearer)

        revoked = cluster.a.run("token", "revoke", "--prefix", display_prefix(token))
        assert revoked.returncode == 0, revoked.stderr
        on_b = cluster.request(cluster.b, "GET", "/api/v1/cases", headers=bearer)
        on_a = cluster.request(cluster.a, "GET", "/api/v1/cases", headers=bearer)

        assert before.status_code == 200
        assert on_b.status_code == 401
        assert on_b.json()["error"]["code"] == "unauthenticated"
        assert on_a.status_code == 401


class TestGarbageCollectionOnBothHostsWhileUploadsStream:
    MIN_AGE = 3

    def test_only_true_orphans_go_and_every_upload_keeps_its_object(self, cluster: Cluster) -> None:
        store = cluster.store
        case = api_of(cluster).create_case()
        # What crashed uploads left: objects no row names, a staging object, a multipart
        # upload cut off after its first part. One orphan's bytes are about to come again.
        orphans = [pdf_bytes("orphan-1"), pdf_bytes("orphan-2")]
        returning = pdf_bytes("uploaded again while collected")
        for content in [*orphans, returning]:
            store.commit(store.stage_bytes(content))
        left_staged = store.stage_bytes(b"never committed")
        cut_off = store.staging(2 * MIN_PART_BYTES)
        cut_off.write(os.urandom(MIN_PART_BYTES))
        time.sleep(self.MIN_AGE + 0.5)  # all of them older than --min-age

        collectors = [host.popen("gc", "--min-age", str(self.MIN_AGE)) for host in cluster.hosts]
        answers: list[tuple[bytes, httpx.Response]] = []
        lock = threading.Lock()

        def keep_uploading(host: Host, large: bool) -> None:
            rounds = 0
            while rounds < 2 or (any(c.poll() is None for c in collectors) and rounds < 12):
                rounds += 1
                if large:
                    content = pdf_of_size(MIN_PART_BYTES + MIB + rounds)
                    answer = streaming_upload(host, cluster, case["id"], content, pause=0.01)
                else:
                    content = returning if rounds % 2 else pdf_bytes(f"{host.name}-{rounds}")
                    answer = api_of(cluster, host).upload(
                        case["id"], "membership_scheme", content=content
                    )
                with lock:
                    answers.append((content, answer))

        uploaders = [
            threading.Thread(target=keep_uploading, args=(host, large))
            for host in cluster.hosts
            for large in (False, True)
        ]
        for uploader in uploaders:
            uploader.start()
        outputs = [c.communicate(timeout=120)[0] for c in collectors]
        for uploader in uploaders:
            uploader.join(120)

        assert [c.returncode for c in collectors] == [0, 0], outputs
        assert all(r.status_code == 201 for _, r in answers), [
            r.text for _, r in answers if r.status_code != 201
        ]
        assert len(answers) >= 8
        # Every document row's object is there, with its bytes; nothing else is.
        rows = referenced(cluster)
        assert bucket_objects(cluster) == rows
        for content, answer in answers:
            assert store.verify(answer.json()["sha256"], len(content))
        for content in orphans:
            assert not store.has(hashlib.sha256(content).hexdigest())
        assert hashlib.sha256(returning).hexdigest() in rows
        assert list(store.scan(EntryKind.STAGING)) == []
        assert not store.has(left_staged.sha256)
        removed = sum(int(out.splitlines()[-1].split()[1]) for out in outputs)
        assert removed >= 4  # the two orphans, the staging object, the cut-off upload
        through_b = api_of(cluster, cluster.b)
        again = next(r.json() for c, r in answers if c == returning)
        assert through_b.download(case["id"], again["id"]).content == returning


class TestWorkersOnBothHosts:
    def test_an_overdue_case_swept_on_both_hosts_at_once_is_announced_once(
        self, cluster: Cluster
    ) -> None:
        case = api_of(cluster).case_in_council_review()
        with unit_of_work(cluster.ctx.engine) as session:
            session.execute(
                update(Case)
                .where(Case.id == uuid.UUID(case["id"]))
                .values(due_at=cluster.ctx.today() - timedelta(days=3))
            )

        sweepers = [host.popen("sweep") for host in cluster.hosts]
        outputs = [s.communicate(timeout=120)[0] for s in sweepers]

        assert [s.returncode for s in sweepers] == [0, 0], outputs
        with unit_of_work(cluster.ctx.engine, write=False) as session:
            announced = session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.type == "case.overdue", Event.case_id == uuid.UUID(case["id"]))
            )
        assert announced == 1
        assert sorted(int(out.splitlines()[-1].split()[0]) for out in outputs) == [0, 1]

    def test_webhooks_delivered_by_both_hosts_arrive_each_once(
        self, cluster: Cluster, tmp_path: Any
    ) -> None:
        receiver = Receiver(tmp_path, [])
        both = api_of(cluster)
        subscribed = both.client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url(), "event_types": ["*"]},
            headers=both.headers("council"),
        )
        assert subscribed.status_code == 201, subscribed.text
        receiver.secrets = [subscribed.json()["secret"]]
        receiver.start()
        try:
            after = last_event_id(cluster)
            for _ in range(3):
                both.case_in_council_review()
            with unit_of_work(cluster.ctx.engine, write=False) as session:
                expected = {
                    str(i) for i in session.scalars(select(Event.id).where(Event.id > after))
                }
            deadline = time.monotonic() + 30
            while {r["id"] for r in receiver.records()} < expected:
                assert time.monotonic() < deadline, "not every event was delivered"
                time.sleep(0.1)
            time.sleep(0.5)  # anything sent twice would arrive by now
            records = [r for r in receiver.records() if r["id"] in expected]
        finally:
            receiver.kill()

        assert Counter(r["id"] for r in records).most_common(1)[0][1] == 1
        assert all(r["valid"] and r["status"] == 200 for r in records)


@pytest.fixture(autouse=True)
def _hosts_alive(cluster: Cluster) -> Iterator[None]:
    yield
    for host in cluster.hosts:
        assert host.server.process is not None
        assert host.server.process.poll() is None, host.server.tail()
