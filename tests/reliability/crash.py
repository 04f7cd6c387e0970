"""Kill the server mid-load and check that nothing it acknowledged is lost or doubled.

Shared by tests/reliability/test_crash.py (a small load) and bench/crash_bench.py (a large
one, several cycles). A cycle: clients drive transitions on the cases they own through one
`admission serve` process while a large upload streams slowly; once enough transitions are
acknowledged the process group gets SIGKILL; the server is started again and the database,
the store and the API are compared with what the clients were told. Then `admission gc
--min-age 0` must leave exactly the files the documents table references.

Every transition carries a unique comment (`op-<uuid>`), by which the history is searched,
and every POST an `Idempotency-Key`. After the restart each transition left without an answer
is sent again with its key, as a client retries: it must be replayed (header
`Idempotent-Replayed`) exactly when it had committed before the kill, and run otherwise, so
that it ends up in the history once either way.
"""

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cases.models import Case
from app.cli import main as admission_cli
from app.context import AppContext
from app.core.config import Settings, get_settings
from app.core.db import unit_of_work
from app.documents.models import Document
from app.events.models import Event
from app.history.actions import CREATE, EDIT, RECORDS
from app.history.chain import first_bad_seq
from app.history.models import AuditEntry
from app.storage.base import EntryKind, StoreEntry
from tests.factories import SUBMIT_DOCUMENTS, Api, make_tokens, pdf_bytes
from tests.reliability.servers import Server

OP = "op-"
NOT_TRANSITIONS = {CREATE, EDIT, *RECORDS}
SLOW_CHUNK = 64 * 1024
# How long a retry after the restart waits for a dead attempt's key to be released.
RETRY_PATIENCE = 30.0


@dataclass(frozen=True)
class Load:
    clients: int = 4
    cases_per_client: int = 2
    # The server is killed once this many transitions were acknowledged in the cycle.
    acked_per_cycle: int = 200
    cycles: int = 1
    # In council review, every n-th move asks for a supplement (which issues a PDF letter);
    # the others upload new minutes and record a site visit, which stays in the state.
    supplement_every: int = 4
    # Every n-th move in either state is preceded by an upload (council minutes in review,
    # an applicant's document while a supplement is requested).
    upload_every: int = 3
    cycle_timeout: float = 300.0
    # The slow upload sends this much, then waits; its staging file (or, in an object store,
    # its unfinished upload) is known by its size, every other upload being tiny. An object
    # store sees the first bytes once a whole part is up.
    slow_max: int = 4 * 1024 * 1024
    slow_seen_at: int = 4 * SLOW_CHUNK


@dataclass
class Owned:
    id: str
    state: str = ""
    version: int = 0
    moves: int = 0


@dataclass
class Ledger:
    """What the clients were told, shared by their threads."""

    acked: dict[str, str] = field(default_factory=dict)  # comment -> case id
    lost: dict[str, str] = field(default_factory=dict)  # no answer: the server died
    # comment -> (path, body, headers) of each transition left without an answer
    unanswered: dict[str, tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=dict)
    uploads: dict[str, str] = field(default_factory=dict)  # document id -> sha256
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.acked)


@dataclass
class Findings:
    """One cycle: the clients' view, what the database holds after the restart, gc's work."""

    cycle: int
    acked: int = 0
    acked_total: int = 0
    lost: int = 0
    lost_committed: int = 0
    retried: int = 0
    retried_replayed: int = 0
    retry_problems: list[str] = field(default_factory=list)
    uploads_acked: int = 0
    seconds: float = 0.0
    found: int = 0
    missing: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    cases: int = 0
    chains_valid: int = 0
    audit_verify: str = ""
    unexplained: list[str] = field(default_factory=list)
    document_problems: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    slow_upload_staged: bool = False
    orphans_unreferenced: int = 0
    orphans_staging: int = 0
    gc_summary: str = ""
    store_problems: list[str] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not (
            self.missing
            or self.duplicates
            or self.unexplained
            or self.document_problems
            or self.unexpected
            or self.store_problems
            or self.retry_problems
            or self.chains_valid != self.cases
        )


class CrashScenario:
    def __init__(self, ctx: AppContext, server: Server, load: Load) -> None:
        self.ctx = ctx
        self.server = server
        self.load = load
        self.ledger = Ledger()
        self.tokens: dict[str, str] = {}
        self.owned: list[list[Owned]] = []
        self.slow_case = ""

    # -- set-up -------------------------------------------------------------------------

    def prepare(self) -> None:
        """Tokens, then each client's cases in council review and one case for the slow
        upload, through the running server."""
        self.tokens = make_tokens(self.ctx)
        with httpx.Client(base_url=self.server.url, timeout=60) as http:
            api = Api(http, self.tokens)  # type: ignore[arg-type]  # any httpx client will do
            self.owned = [
                [self._case_in_review(api) for _ in range(self.load.cases_per_client)]
                for _ in range(self.load.clients)
            ]
            self.slow_case = api.case_awaiting_supplement()["id"]

    @staticmethod
    def _case_in_review(api: Api) -> Owned:
        """A case in council review whose site visit can be recorded."""
        case = api.case_in_council_review()
        uploaded = api.upload(case["id"], "site_visit_minutes", "council")
        assert uploaded.status_code == 201, uploaded.text
        return Owned(case["id"])

    def headers(self, who: str, version: int | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.tokens[who]}",
            "Idempotency-Key": f"crash-{uuid.uuid4()}",
        }
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        return headers

    # -- one cycle ----------------------------------------------------------------------

    def cycle(self, number: int) -> Findings:
        """Load, kill, restart, check; the server is running again when this returns."""
        findings = Findings(cycle=number)
        acked_before, lost_before = len(self.ledger.acked), set(self.ledger.lost)
        stop = threading.Event()
        workers = [
            threading.Thread(target=self._client, args=(cases, stop), daemon=True)
            for cases in self.owned
        ]
        slow = threading.Thread(target=self._slow_upload, args=(stop,), daemon=True)
        started = time.monotonic()
        slow.start()
        for worker in workers:
            worker.start()
        deadline = started + self.load.cycle_timeout
        target = acked_before + self.load.acked_per_cycle
        while time.monotonic() < deadline:
            findings.slow_upload_staged = findings.slow_upload_staged or self._slow_staged()
            enough = self.ledger.count() >= target
            if (enough and findings.slow_upload_staged) or not any(w.is_alive() for w in workers):
                break
            time.sleep(0.02)
        self.server.kill()
        findings.seconds = time.monotonic() - started
        stop.set()
        for thread in [*workers, slow]:
            thread.join(timeout=60)

        self.server.start()
        findings.acked = len(self.ledger.acked) - acked_before
        findings.acked_total = len(self.ledger.acked)
        findings.lost = len(set(self.ledger.lost) - lost_before)
        findings.uploads_acked = len(self.ledger.uploads)
        findings.unexpected = list(self.ledger.unexpected)
        self._retry_unanswered(findings)
        findings.acked_total = len(self.ledger.acked)
        self._check_history(findings)
        verified = run_cli(self.ctx, "audit", "verify")
        findings.audit_verify = verified.output.strip().splitlines()[-1]
        if verified.exit_code != 0:
            findings.unexplained.append(f"admission audit verify: {verified.output}")
        self._check_documents(findings)
        self._check_through_api(findings)
        self._collect_garbage(findings)
        return findings

    def run(self) -> Iterator[Findings]:
        for number in range(1, self.load.cycles + 1):
            yield self.cycle(number)

    # -- the clients --------------------------------------------------------------------

    def _client(self, cases: list[Owned], stop: threading.Event) -> None:
        with httpx.Client(base_url=self.server.url, timeout=60) as http:
            try:
                for case in cases:
                    self._read(http, case)
                turn = 0
                while not stop.is_set():
                    case = cases[turn % len(cases)]
                    turn += 1
                    case.moves += 1
                    if case.moves % self.load.upload_every == 0:
                        self._upload(http, case)
                    self._transition(http, case)
            except httpx.TransportError:
                return  # the server is gone; what was in flight is in `lost`

    def _read(self, http: httpx.Client, case: Owned) -> None:
        response = http.get(f"/api/v1/cases/{case.id}", headers=self.headers("council"))
        if response.status_code != 200:
            self._unexpected("read", response)
            return
        case.state, case.version = response.json()["state"], response.json()["version"]

    def _transition(self, http: httpx.Client, case: Owned) -> None:
        comment = f"{OP}{uuid.uuid4()}"
        body: dict[str, str]
        if case.state != "council_review":
            who, body = "applicant", {"action": "resubmit"}
        elif case.moves % self.load.supplement_every == 0:
            who, body = "council", {"action": "request_supplement", "reason": "Bổ sung hồ sơ"}
        else:
            # Each site visit needs minutes uploaded since the previous one.
            self._upload(http, case)
            who, body = "council", {"action": "record_site_visit"}
        path, payload = f"/api/v1/cases/{case.id}/transitions", {**body, "comment": comment}
        headers = self.headers(who, case.version)
        try:
            response = http.post(path, json=payload, headers=headers)
        except httpx.TransportError:
            with self.ledger.lock:
                self.ledger.lost[comment] = case.id
                self.ledger.unanswered[comment] = (path, payload, headers)
            raise
        if response.status_code != 200:
            self._unexpected(body["action"], response)
            self._read(http, case)
            return
        answer = response.json()
        with self.ledger.lock:
            self.ledger.acked[comment] = case.id
        case.state, case.version = answer["state"], answer["version"]

    def _upload(self, http: httpx.Client, case: Owned) -> None:
        if case.state == "council_review":
            who, doc_type = "council", "site_visit_minutes"
        else:
            who, doc_type = "applicant", SUBMIT_DOCUMENTS[case.moves % len(SUBMIT_DOCUMENTS)]
        response = http.post(
            f"/api/v1/cases/{case.id}/documents",
            data={"doc_type": doc_type},
            files={"file": ("bien-ban.pdf", pdf_bytes(doc_type))},
            headers=self.headers(who),
        )
        if response.status_code != 201:
            self._unexpected("upload", response)
            self._read(http, case)
            return
        with self.ledger.lock:
            self.ledger.uploads[response.json()["id"]] = response.json()["sha256"]
        case.version += 1  # an upload moves the case to its next version; no one else acts

    def _unexpected(self, what: str, response: httpx.Response) -> None:
        with self.ledger.lock:
            self.ledger.unexpected.append(f"{what}: {response.status_code} {response.text[:300]}")

    def _slow_upload(self, stop: threading.Event) -> None:
        """A large upload that is still streaming when the server dies."""
        boundary = f"crash-{uuid.uuid4().hex}"
        head = (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="doc_type"\r\n\r\nsite_documents\r\n'
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="ban-do.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
        ).encode()

        def body() -> Iterator[bytes]:
            yield head
            sent = 0
            while not stop.is_set():
                if sent < self.load.slow_max:
                    yield b"%" * SLOW_CHUNK
                    sent += SLOW_CHUNK
                time.sleep(0.05)

        # Without an Idempotency-Key: a keyed request's body is read in full before the
        # endpoint runs, and this one must be streaming into the store when the server dies.
        headers = {
            "Authorization": f"Bearer {self.tokens['applicant']}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        try:
            with httpx.Client(base_url=self.server.url, timeout=60) as http:
                http.post(
                    f"/api/v1/cases/{self.slow_case}/documents", content=body(), headers=headers
                )
        except httpx.TransportError:
            return

    def _slow_staged(self) -> bool:
        return any(e.size >= self.load.slow_seen_at for e in self._staging_files())

    # -- the checks ---------------------------------------------------------------------

    def _retry_unanswered(self, findings: Findings) -> None:
        """Send every unanswered transition again with its key, as a client would."""
        pending = dict(self.ledger.unanswered)
        self.ledger.unanswered.clear()
        committed = self._comments_in_history(set(pending))
        findings.lost_committed = len(committed)
        with httpx.Client(base_url=self.server.url, timeout=60) as http:
            for comment, (path, payload, headers) in pending.items():
                response = http.post(path, json=payload, headers=headers)
                # The dead attempt may still hold the key until its lease runs out.
                deadline = time.monotonic() + RETRY_PATIENCE
                while response.status_code == 409 and time.monotonic() < deadline:
                    time.sleep(float(response.headers.get("retry-after", "1")))
                    response = http.post(path, json=payload, headers=headers)
                findings.retried += 1
                replayed = response.headers.get("idempotent-replayed") == "true"
                findings.retried_replayed += replayed
                if response.status_code != 200:
                    findings.retry_problems.append(f"{comment}: {response.text}")
                elif replayed != (comment in committed):
                    findings.retry_problems.append(
                        f"{comment}: replayed={replayed}, committed={comment in committed}"
                    )
                else:
                    with self.ledger.lock:
                        self.ledger.acked[comment] = self.ledger.lost[comment]
        for cases in self.owned:
            for case in cases:
                with httpx.Client(base_url=self.server.url, timeout=60) as http:
                    self._read(http, case)

    def _comments_in_history(self, comments: set[str]) -> set[str]:
        with unit_of_work(self.ctx.engine, write=False) as session:
            found = session.scalars(
                select(AuditEntry.comment).where(AuditEntry.comment.in_(comments))
            )
            return {c for c in found if c is not None}

    def _case_ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(c.id) for cases in self.owned for c in cases] + [
            uuid.UUID(self.slow_case)
        ]

    def _check_history(self, findings: Findings) -> None:
        ledger = self.ledger
        with unit_of_work(self.ctx.engine, write=False) as session:
            rows = session.execute(
                select(AuditEntry.comment, func.count())
                .where(AuditEntry.comment.like(f"{OP}%"))
                .group_by(AuditEntry.comment)
            )
            counts: dict[str | None, int] = {comment: n for comment, n in rows}
            findings.found = sum(1 for c in ledger.acked if counts.get(c, 0) == 1)
            findings.missing = sorted(c for c in ledger.acked if c not in counts)
            findings.duplicates = sorted(c for c, n in counts.items() if n > 1)
            for case_id in self._case_ids():
                findings.cases += 1
                self._check_case(session, case_id, findings)

    def _check_case(self, session: Session, case_id: uuid.UUID, findings: Findings) -> None:
        case = session.get(Case, case_id)
        entries = list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)
            )
        )
        documents = list(session.scalars(select(Document).where(Document.case_id == case_id)))
        events = Counter(session.scalars(select(Event.type).where(Event.case_id == case_id)))
        if case is not None and first_bad_seq(entries, case.head_seq, case.head_hash) is None:
            findings.chains_valid += 1
        problems = []
        if case is None or not entries:
            problems.append("no case or no history")
        else:
            for previous, entry in zip(entries, entries[1:], strict=False):
                if entry.from_state != previous.to_state:
                    problems.append(
                        f"seq {entry.seq} leaves {entry.from_state}, not {previous.to_state}"
                    )
            if case.state != entries[-1].to_state:
                problems.append(f"state {case.state}, history ends in {entries[-1].to_state}")
            # Every change of the case (uploads included) is one entry and one version.
            if case.version != len(entries):
                problems.append(f"version {case.version}, history explains {len(entries)}")
            transitions = sum(1 for e in entries if e.action not in NOT_TRANSITIONS)
            if events["case.transitioned"] != transitions:
                problems.append(
                    f"{events['case.transitioned']} transition events, {transitions} entries"
                )
            if events["document.uploaded"] != len(documents):
                problems.append(
                    f"{events['document.uploaded']} upload events, {len(documents)} rows"
                )
        findings.unexplained += [f"case {case_id}: {p}" for p in problems]

    def _check_documents(self, findings: Findings) -> None:
        with unit_of_work(self.ctx.engine, write=False) as session:
            rows = list(session.execute(select(Document.id, Document.sha256, Document.size)))
        known = {str(row.id) for row in rows}
        for doc_id in self.ledger.uploads:
            if doc_id not in known:
                findings.document_problems.append(f"acknowledged upload {doc_id} has no row")
        for row in rows:
            # The store's own check: the bytes are there, with the size and SHA-256 recorded.
            if not self.ctx.store.verify(row.sha256, row.size):
                where = self.ctx.store.describe()
                findings.document_problems.append(
                    f"document {row.id}: {row.sha256} missing from {where} or other bytes"
                )

    def _check_through_api(self, findings: Findings) -> None:
        """Each chain as the restarted server verifies it."""
        with httpx.Client(base_url=self.server.url, timeout=60) as http:
            for case_id in self._case_ids():
                response = http.get(
                    f"/api/v1/cases/{case_id}/history/verify", headers=self.headers("council")
                )
                if response.status_code != 200 or response.json()["valid"] is not True:
                    findings.unexplained.append(f"case {case_id}: verify says {response.text}")

    # -- the store ----------------------------------------------------------------------

    def _staging_files(self) -> list[StoreEntry]:
        return list(self.ctx.store.scan(EntryKind.STAGING))

    def _stored_files(self) -> set[str]:
        return {e.sha256 for e in self.ctx.store.scan(EntryKind.OBJECT)}

    def _referenced(self) -> set[str]:
        with unit_of_work(self.ctx.engine, write=False) as session:
            return set(session.scalars(select(Document.sha256).distinct()))

    def _collect_garbage(self, findings: Findings) -> None:
        referenced = self._referenced()
        findings.orphans_unreferenced = len(self._stored_files() - referenced)
        findings.orphans_staging = len(self._staging_files())
        result = run_cli(self.ctx, "gc", "--min-age", "0")
        findings.gc_summary = result.output.splitlines()[-1] if result.output else ""
        if result.exit_code != 0:
            findings.store_problems.append(f"gc failed: {result.output}")
        expected = (
            f"removed {findings.orphans_unreferenced + findings.orphans_staging} files "
            f"({findings.orphans_unreferenced} unreferenced, {findings.orphans_staging} staging)"
        )
        if not findings.gc_summary.startswith(expected):
            findings.store_problems.append(f"gc said {findings.gc_summary!r}, not {expected!r}")
        left = self._stored_files()
        if left != referenced:
            findings.store_problems.append(
                f"after gc: {len(left - referenced)} unreferenced files left, "
                f"{len(referenced - left)} referenced files gone"
            )
        if self._staging_files():
            findings.store_problems.append("after gc: staging files left")


def store_env(ctx: AppContext) -> dict[str, str]:
    """The settings naming the context's document store, as an `admission` process reads them
    (an S3 store's credentials come from the environment)."""
    settings = ctx.settings
    env = {"STORAGE_DIR": str(settings.storage_dir)}
    if settings.storage_url:
        env["STORAGE_URL"] = settings.storage_url
    if settings.s3_endpoint_url:
        env["S3_ENDPOINT_URL"] = settings.s3_endpoint_url
    if settings.s3_region:
        env["S3_REGION"] = settings.s3_region
    if settings.s3_part_bytes != Settings.model_fields["s3_part_bytes"].default:
        env["S3_PART_BYTES"] = str(settings.s3_part_bytes)
    return env


def run_cli(ctx: AppContext, *args: str) -> Result:
    """Run an `admission` command in this process, on the scenario's database and store."""
    env = {"DATABASE_URL": ctx.settings.database_url, **store_env(ctx)}
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(admission_cli, list(args), env=env)
    finally:
        get_settings.cache_clear()
