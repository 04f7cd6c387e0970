"""The authorization matrix (OWASP API1 BOLA, API5 BFLA), generated from the app's route table.

Every route × every role × {own organisation, foreign organisation, no token, revoked token}
gets the status DESIGN §2 and §7 promise; a foreign case answers 404 with the same body as a
missing one; list endpoints never show foreign rows; and no refused request changes anything
(every table and the document store are compared before and after).

A route the table below does not know makes `test_every_route_is_in_the_matrix` fail:
adding an endpoint means deciding here who may call it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from httpx import Response
from starlette.routing import Mount, WebSocketRoute

from app.context import AppContext
from tests.factories import SUBMIT_DOCUMENTS, pdf_bytes
from tests.security.world import (
    ROLE_ACTORS,
    World,
    database_snapshot,
    random_id,
    stored_files,
)

ROLES = tuple(ROLE_ACTORS)
TENANTS = ("own", "foreign", "no_token", "revoked")
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "options", "head", "trace"}


def statuses(default: int, **by_role: int) -> dict[str, int]:
    return {role: by_role.get(role, default) for role in ROLES}


@dataclass(frozen=True)
class Rule:
    """What one route answers: per role for the own and the foreign case; whether it is public
    (no token needed); and, for lists, how to read the case ids a response shows."""

    own: dict[str, int]
    foreign: dict[str, int]
    probe: Callable[..., tuple[str, dict[str, Any]]]
    # The status without a token, or with a revoked one.
    anonymous: int = 401
    listed_cases: Callable[[Any], list[str]] | None = None
    # Whether `probe` also takes the role, for resources each role's organisation owns.
    per_role: bool = False
    # Whether the list shows every case the caller sees (else only some, as the work queue).
    lists_all: bool = True


def case_path(suffix: str = "") -> Callable[[World, str], tuple[str, dict[str, Any]]]:
    def probe(world: World, case_id: str) -> tuple[str, dict[str, Any]]:
        return f"/api/v1/cases/{case_id}{suffix}", {}

    return probe


def fixed(path: str, **kwargs: Any) -> Callable[[World, str], tuple[str, dict[str, Any]]]:
    return lambda world, case_id: (path, kwargs)


def with_if_match(suffix: str, body: dict[str, Any]) -> Callable[[World, str], tuple[str, Any]]:
    def probe(world: World, case_id: str) -> tuple[str, dict[str, Any]]:
        version = world.api.read(case_id, "council")["version"]
        return f"/api/v1/cases/{case_id}{suffix}", {
            "json": body,
            "headers": {"If-Match": f'"{version}"'},
        }

    return probe


def document_content(world: World, case_id: str) -> tuple[str, dict[str, Any]]:
    doc = world.own_document if case_id == world.own_case else world.foreign_document
    return f"/api/v1/cases/{case_id}/documents/{doc}/content", {}


def upload(world: World, case_id: str) -> tuple[str, dict[str, Any]]:
    return f"/api/v1/cases/{case_id}/documents", {
        "data": {"doc_type": "ministry_opinion"},
        "files": {"file": ("opinion.pdf", pdf_bytes("matrix"))},
    }


def answer(world: World, case_id: str) -> tuple[str, dict[str, Any]]:
    suffix = f"/consultations/{world.own_consultation}/answer"
    return with_if_match(suffix, {"verdict": "agree"})(world, case_id)


def extend(world: World, case_id: str) -> tuple[str, dict[str, Any]]:
    version = world.api.read(case_id, "council")["version"]
    path = f"/api/v1/cases/{case_id}/consultations/{world.own_consultation}/extend"
    return path, {
        "json": {"new_due_date": "2099-12-31", "reason": "Thêm thời gian"},
        "headers": {"If-Match": f'"{version}"'},
    }


def review(world: World, case_id: str) -> tuple[str, dict[str, Any]]:
    doc = world.own_document if case_id == world.own_case else world.foreign_document
    suffix = f"/documents/{doc}/review"
    return with_if_match(suffix, {"reason": "Không đọc được"})(world, case_id)


def letter_verify(world: World, case_id: str) -> tuple[str, dict[str, Any]]:
    return f"/api/v1/cases/{case_id}/letters/{world.own_letter}/verify", {}


def subscription(
    suffix: str = "", *, removable: bool = False
) -> Callable[[World, str, str], tuple[str, dict[str, Any]]]:
    """The role's own organisation's webhook subscription, or, with the foreign case,
    another organisation's."""

    def probe(world: World, case_id: str, role: str) -> tuple[str, dict[str, Any]]:
        own = world.removable_subscriptions if removable else world.subscriptions
        found = world.foreign_subscription if case_id == world.foreign_case else own[role]
        return f"/api/v1/webhooks/{found}{suffix}", {}

    return probe


def items(body: Any) -> list[str]:
    return [item["id"] for item in body["items"]]


def pipeline_cases(body: Any) -> list[str]:
    return [item["id"] for item in body["cases"]]


def event_cases(body: Any) -> list[str]:
    return [item["case_id"] for item in body["items"]]


# Roles that see every case: for them the "foreign" case is as visible as the own one.
SCOPED = {"applicant": 404, "consulted": 404}
READ = Rule(statuses(200), statuses(200, **SCOPED), case_path())
NEW_CASE = {"applicant_name": "Khu CNTT tập trung", "unit_kind": "ict_centre"}
PUBLIC = statuses(200)

# Routes anyone may call, with or without a token.
PUBLIC_ROUTES = {
    "/healthz": 200,
    "/readyz": 200,
    # Aggregate counts only (requests, transitions, cases by state); no case is named.
    "/metrics": 200,
    "/openapi.json": 200,
    "/docs": 200,
    "/docs/oauth2-redirect": 200,
    "/redoc": 200,
    "/signin": 200,
}


def public(path: str, status: int) -> Rule:
    return Rule(statuses(status), statuses(status), fixed(path), anonymous=status)


def form(path: str, status: int, **data: str) -> Rule:
    """A dashboard form: the same answer whoever posts it (it takes no bearer token)."""
    return Rule(statuses(status), statuses(status), fixed(path, data=data), anonymous=status)


MATRIX: dict[tuple[str, str], Rule] = {
    **{("GET", p): public(p, status) for p, status in PUBLIC_ROUTES.items()},
    ("MOUNT", "/static"): public("/static/app.css", 200),
    # The dashboard (app/web): the same bearer token, carried by an HttpOnly cookie.
    # Pages send the anonymous to the sign-in page; fragments answer 401.
    ("GET", "/"): Rule(statuses(200), statuses(200), fixed("/"), anonymous=303),
    ("GET", "/fragments/board"): Rule(statuses(200), statuses(200), fixed("/fragments/board")),
    ("GET", "/work"): Rule(statuses(200), statuses(200), fixed("/work"), anonymous=303),
    # Every role has a queue (empty for some); only cases the caller sees are listed.
    ("GET", "/api/v1/work"): Rule(
        statuses(200), statuses(200), fixed("/api/v1/work"), listed_cases=items, lists_all=False
    ),
    ("GET", "/cases/{case_id}"): Rule(
        statuses(200),
        statuses(200, **{"applicant": 404, "consulted": 404}),
        lambda w, c: (
            f"/cases/{c}",
            {},
        ),
        anonymous=303,
    ),
    ("GET", "/fragments/cases/{case_id}"): Rule(
        statuses(200),
        statuses(200, **{"applicant": 404, "consulted": 404}),
        lambda w, c: (f"/fragments/cases/{c}", {}),
    ),
    # Signing in with a wrong password is refused whoever asks (a bearer token is no
    # credential for it).
    ("POST", "/signin"): form(
        "/signin", 401, email="nobody@nowhere.example", password="not a real password"
    ),
    # Without a session cookie there is nothing to end (and nothing a forged form could end).
    ("POST", "/signout"): form("/signout", 303),
    # The password page is a person's, signed in with the cookie: a bearer token is no one's.
    ("GET", "/password"): Rule(statuses(303), statuses(303), fixed("/password"), anonymous=303),
    ("POST", "/password"): form("/password", 403, current="x" * 12, new="y" * 12, again="y" * 12),
    ("POST", "/lang"): form("/lang", 303, lang="en", next="/"),
    ("GET", "/api/v1/cases"): Rule(
        statuses(200), statuses(200), fixed("/api/v1/cases"), listed_cases=items
    ),
    ("POST", "/api/v1/cases"): Rule(
        statuses(403, applicant=201),
        statuses(403, applicant=201),
        fixed("/api/v1/cases", json=NEW_CASE),
    ),
    ("GET", "/api/v1/cases/{case_id}"): READ,
    ("PATCH", "/api/v1/cases/{case_id}"): Rule(
        # The applicant may edit only while it holds the dossier; A is in consultation.
        statuses(403, applicant=409),
        statuses(403, **SCOPED),
        with_if_match("", {"investor": "Quỹ đầu tư phát triển"}),
    ),
    ("POST", "/api/v1/cases/{case_id}/transitions"): Rule(
        # Only the Ministry closes a consultation; mof has not answered yet (409 missing).
        # On the draft B the action is not possible from the state (409 not allowed).
        statuses(403, ministry=409),
        statuses(403, ministry=409, **SCOPED),
        with_if_match("/transitions", {"action": "close_consultation"}),
    ),
    ("GET", "/api/v1/cases/{case_id}/documents"): Rule(
        statuses(200), statuses(200, **SCOPED), case_path("/documents")
    ),
    ("POST", "/api/v1/cases/{case_id}/documents"): Rule(
        # Only the consulted ministry uploads its opinion during consultation; the roles that
        # upload in other states get 409; those that never upload get 403.
        statuses(409, consulted=201, viewer=403, admin=403),
        statuses(409, viewer=403, admin=403, **SCOPED),
        upload,
    ),
    ("GET", "/api/v1/cases/{case_id}/documents/{doc_id}/content"): Rule(
        statuses(200, viewer=403), statuses(200, viewer=403, **SCOPED), document_content
    ),
    ("POST", "/api/v1/cases/{case_id}/documents/{doc_id}/review"): Rule(
        # The Council and the Ministry review, each only in the states where it acts: A is in
        # consultation and B a draft (409); the other roles never review (403).
        statuses(403, council=409, ministry=409),
        statuses(403, council=409, ministry=409, **SCOPED),
        review,
    ),
    ("GET", "/api/v1/cases/{case_id}/consultations"): Rule(
        statuses(200), statuses(200, **SCOPED), case_path("/consultations")
    ),
    ("POST", "/api/v1/cases/{case_id}/consultations/{consultation_id}/answer"): Rule(
        # mpi already answered (409); every other role may not answer (403). On B the
        # consultation does not exist (404) for everyone.
        statuses(403, consulted=409),
        statuses(404),
        answer,
    ),
    ("POST", "/api/v1/cases/{case_id}/consultations/{consultation_id}/extend"): Rule(
        # Only the Ministry extends; mpi's consultation is answered, nothing is left to
        # extend (409). On B the consultation does not exist (404) for everyone.
        statuses(403, ministry=409),
        statuses(404),
        extend,
    ),
    ("GET", "/api/v1/cases/{case_id}/history"): Rule(
        statuses(200), statuses(200, **SCOPED), case_path("/history")
    ),
    ("GET", "/api/v1/cases/{case_id}/history/verify"): Rule(
        statuses(200), statuses(200, **SCOPED), case_path("/history/verify")
    ),
    ("GET", "/api/v1/pipeline"): Rule(
        statuses(200), statuses(200), fixed("/api/v1/pipeline"), listed_cases=pipeline_cases
    ),
    ("GET", "/api/v1/events"): Rule(
        statuses(200), statuses(200), fixed("/api/v1/events"), listed_cases=event_cases
    ),
    # The stream never ends by itself: an unreadable cursor shows the caller got past
    # authentication (422) without opening the feed.
    ("GET", "/api/v1/events/stream"): Rule(
        statuses(422), statuses(422), fixed("/api/v1/events/stream", params={"after": "x"})
    ),
    ("GET", "/api/v1/cases/{case_id}/portal-status"): Rule(
        statuses(200), statuses(200, **SCOPED), case_path("/portal-status")
    ),
    ("GET", "/api/v1/cases/{case_id}/letters/{document_id}/verify"): Rule(
        # A's intake receipt, not shared with a consulted ministry; on B no such letter exists.
        statuses(200, consulted=404),
        statuses(404),
        letter_verify,
    ),
    # Webhooks: every role manages its own organisation's subscriptions; another
    # organisation's answer 404 as if missing.
    ("GET", "/api/v1/webhooks"): Rule(statuses(200), statuses(200), fixed("/api/v1/webhooks")),
    ("POST", "/api/v1/webhooks"): Rule(
        statuses(201),
        statuses(201),
        fixed("/api/v1/webhooks", json={"url": "https://x.vn/h", "event_types": ["*"]}),
    ),
    ("GET", "/api/v1/webhooks/{subscription_id}"): Rule(
        statuses(200), statuses(404), subscription(), per_role=True
    ),
    ("DELETE", "/api/v1/webhooks/{subscription_id}"): Rule(
        statuses(204), statuses(404), subscription(removable=True), per_role=True
    ),
    ("GET", "/api/v1/webhooks/{subscription_id}/deliveries"): Rule(
        statuses(200), statuses(404), subscription("/deliveries"), per_role=True
    ),
    # Workflow definitions are public to every signed-in role; the case counts of the list
    # cover the cases the caller may see.
    ("GET", "/api/v1/workflows"): Rule(statuses(200), statuses(200), fixed("/api/v1/workflows")),
    ("GET", "/api/v1/workflows/{key}/versions/{version}"): Rule(
        statuses(200),
        statuses(200),
        fixed("/api/v1/workflows/qtsc-chain-admission/versions/1"),
    ),
    # Only an operator migrates running cases; version 2 is not loaded here (409).
    ("POST", "/api/v1/workflows/{key}/migrations"): Rule(
        statuses(403, admin=409),
        statuses(403, admin=409),
        fixed(
            "/api/v1/workflows/qtsc-chain-admission/migrations",
            json={"from_version": 1, "to_version": 2, "dry_run": True},
        ),
    ),
    ("GET", "/api/v1/workflows/{key}/versions/{version}/diagram"): Rule(
        statuses(200),
        statuses(200),
        fixed("/api/v1/workflows/qtsc-chain-admission/versions/1/diagram"),
    ),
}


def discovered_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app serves: the OpenAPI operations, plus routes kept out of
    the schema (pages, docs, mounts) found by walking the routers."""
    found = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            original = getattr(route, "original_router", None)
            if original is not None:
                context = getattr(route, "include_context", None)
                walk(original.routes, prefix + getattr(context, "prefix", ""))
            elif isinstance(route, Mount):
                found.add(("MOUNT", prefix + route.path))
            elif isinstance(route, WebSocketRoute):
                found.add(("WEBSOCKET", prefix + route.path))
            elif getattr(route, "methods", None):
                found.update((m, prefix + route.path) for m in route.methods - {"HEAD"})

    walk(list(app.routes), "")
    return found


def visible_to(world: World, role: str) -> set[str]:
    """The cases of the world a role may see (plus any it created itself)."""
    if role in ("applicant", "consulted"):
        return {world.own_case}
    return {world.own_case, world.foreign_case}


class TestTheMatrix:
    def test_every_route_is_in_the_matrix(self, world: World) -> None:
        app = world.api.client.app
        assert isinstance(app, FastAPI)
        routes = discovered_routes(app)
        assert routes - set(MATRIX) == set(), "routes without an authorization rule"
        assert set(MATRIX) - routes == set(), "rules for routes that no longer exist"

    def test_every_route_role_and_tenant_gets_its_status_and_refusals_change_nothing(
        self, world: World, lenient_ctx: AppContext
    ) -> None:
        client = world.api.client
        checked = 0
        before = database_snapshot(lenient_ctx), stored_files(lenient_ctx)
        created: set[str] = set()
        for (method, template), rule in sorted(MATRIX.items()):
            for role in ROLES:
                for tenant in TENANTS:
                    case_id = world.foreign_case if tenant == "foreign" else world.own_case
                    if rule.per_role:
                        path, kwargs = rule.probe(world, case_id, role)
                    else:
                        path, kwargs = rule.probe(world, case_id)
                    headers = dict(kwargs.pop("headers", {}))
                    if tenant in ("own", "foreign"):
                        headers["Authorization"] = f"Bearer {world.token(role)}"
                        expected = (rule.own if tenant == "own" else rule.foreign)[role]
                    else:
                        if tenant == "revoked":
                            headers["Authorization"] = f"Bearer {world.revoked[role]}"
                        expected = rule.anonymous
                    response = client.request(
                        "GET" if method == "MOUNT" else method,
                        path,
                        headers=headers,
                        follow_redirects=False,
                        **kwargs,
                    )
                    where = f"{method} {template} as {role} ({tenant})"
                    assert response.status_code == expected, f"{where}: {response.text[:300]}"
                    checked += 1
                    after = database_snapshot(lenient_ctx), stored_files(lenient_ctx)
                    if response.status_code >= 400:
                        assert after == before, f"{where} was refused but changed something"
                        if response.headers["content-type"].startswith("application/json"):
                            self._check_error_body(response, where)
                    hidden = tenant == "foreign" and world.foreign_case not in visible_to(
                        world, role
                    )
                    if response.status_code == 404 and hidden:
                        self._check_same_as_missing(world, method, path, case_id, kwargs, headers)
                    if response.status_code == 201 and template == "/api/v1/cases":
                        created.add(response.json()["id"])
                    if rule.listed_cases and response.status_code == 200:
                        shown = set(rule.listed_cases(response.json()))
                        allowed = visible_to(world, role) | created
                        assert shown <= allowed, f"{where} shows foreign cases"
                        if role == "applicant" and rule.lists_all:
                            assert world.own_case in shown, where
                    before = after
        assert checked == len(MATRIX) * len(ROLES) * len(TENANTS)

    @staticmethod
    def _check_error_body(response: Response, where: str) -> None:
        body = response.json()
        assert set(body) == {"error"}, where
        assert set(body["error"]) == {"code", "message", "details"}, where

    @staticmethod
    def _check_same_as_missing(
        world: World,
        method: str,
        path: str,
        case_id: str,
        kwargs: dict[str, Any],
        headers: dict[str, str],
    ) -> None:
        foreign = world.api.client.request(method, path, headers=headers, **kwargs)
        unknown = random_id()
        missing = world.api.client.request(
            method, path.replace(case_id, unknown), headers=headers, **kwargs
        )
        assert missing.status_code == 404, missing.text
        # Pages echo their own path (the language form); apart from that, byte for byte.
        assert foreign.text.replace(case_id, "ID") == missing.text.replace(unknown, "ID"), (
            f"{method} {path}: a foreign case is told apart from a missing one"
        )


# Within a case it sees, what each role reads (DESIGN §2): a consulted ministry (mpi) the
# dossier, the Council's proposal and its own opinion, nothing of another ministry (mof);
# every other role everything (viewers the list, not the content).
CONSULTED_READS = {*SUBMIT_DOCUMENTS, "council_proposal"}


def reads_document(role: str, document: dict[str, Any]) -> bool:
    if role != "consulted":
        return True
    return document["doc_type"] in CONSULTED_READS or document["uploaded_by"] == "mpi"


def mentions_mof(event: dict[str, Any]) -> bool:
    return "mof" in (event["data"].get("ministry"), event["data"].get("uploaded_by"))


class TestPerDocumentAndEvent:
    def test_every_role_lists_and_downloads_exactly_the_documents_it_may_read(
        self, world: World
    ) -> None:
        client, case_id = world.api.client, world.own_case
        everything = world.api.documents(case_id, "council")
        assert {d["doc_type"] for d in everything} >= {"appraisal_report", "ministry_opinion"}
        for role in ROLES:
            headers = {"Authorization": f"Bearer {world.token(role)}"}
            listed = client.get(f"/api/v1/cases/{case_id}/documents", headers=headers)
            assert listed.status_code == 200, listed.text
            expected = {d["id"] for d in everything if reads_document(role, d)}
            assert {d["id"] for d in listed.json()["items"]} == expected, role
            for document in everything:
                path = f"/api/v1/cases/{case_id}/documents/{document['id']}/content"
                response = client.get(path, headers=headers)
                # Viewers read summaries, never content.
                readable = 200 if reads_document(role, document) else 404
                status = 403 if role == "viewer" else readable
                where = f"{role} reading {document['doc_type']} of {document['uploaded_by']}"
                assert response.status_code == status, where

    def test_no_role_but_those_that_see_everything_reads_another_ministrys_events(
        self, world: World
    ) -> None:
        for role in ROLES:
            response = world.api.client.get(
                "/api/v1/events", headers={"Authorization": f"Bearer {world.token(role)}"}
            )
            assert response.status_code == 200, response.text
            events = [e for e in response.json()["items"] if e["case_id"] == world.own_case]
            about_mof = [e for e in events if mentions_mof(e)]
            if role == "consulted":
                assert about_mof == [], role
                assert {e["data"]["doc_type"] for e in events if "doc_type" in e["data"]} == {
                    *CONSULTED_READS,
                    "ministry_opinion",
                }
            else:
                assert [e["type"] for e in about_mof] == ["document.uploaded"], role
