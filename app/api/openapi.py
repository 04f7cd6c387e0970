"""The OpenAPI document, completed with what FastAPI cannot derive from the routes.

FastAPI builds the document from the endpoints' parameters and pydantic models, and the
constraints the server checks are declared there (`Header(pattern=...)`, `Field(ge=...)`).
What is added here, once, when the document is first asked for:

- the `Idempotency-Key` header, which a middleware reads before any route does (every POST
  under `/api/`), with the pattern the middleware applies;
- `If-Match` as a required header where a missing one is answered 428 (the endpoint reads
  it as optional to answer 428, not 422), and no `null` for a header or query value, which
  HTTP cannot send;
- the vocabularies of the loaded workflow files (app/engine/vocabulary.py): a schema marks
  a value as one of them with `x-vocabulary`, replaced here by the vocabulary's `enum`;
- the body of a transition per action (`oneOf`): which fields each action takes (any
  other must be absent or null), as the workflow files say;
- the webhook hosts the server refuses, when it refuses non-public ones (a `not` pattern);
- the response headers the API sets (`ETag`, `Location`);
- links between operations (OpenAPI 3.1 §4.8.20), so that a client, or a stateful tester,
  can go from a created or listed case to everything that takes its id and its ETag.
"""

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

from app.api.http import IF_MATCH_PATTERN, REQUIRED_HEADER
from app.context import AppContext
from app.core.schemas import VOCABULARY
from app.engine import vocabulary
from app.idempotency.service import KEY_PATTERN, MAX_KEY_LENGTH
from app.webhooks.destinations import NON_PUBLIC_URL_PATTERN

API_PREFIX = "/api/"

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe: the same key with the same request returns the first response "
        "(header `Idempotent-Replayed: true`); with another request, 422 "
        "`idempotency_key_reused`; while the first is still running, 409. Keys belong to the "
        "caller's organisation and are kept for `IDEMPOTENCY_TTL_SECONDS` (default 24 h). "
        "1 to 255 printable ASCII characters, neither the first nor the last a space; the "
        'quotes of a structured-field string (`"..."`) are not part of the key.'
    ),
    "schema": {"type": "string", "pattern": KEY_PATTERN, "maxLength": MAX_KEY_LENGTH},
}


def add_idempotency_key(document: dict[str, Any]) -> None:
    """Declare the header on every API POST operation."""
    for path, operations in document["paths"].items():
        operation = operations.get("post") if path.startswith(API_PREFIX) else None
        if operation is not None:
            operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def tidy_parameters(document: dict[str, Any]) -> None:
    """A header or query value is a string on the wire, never null; a header marked
    required by its endpoint (see app/api/http.py) is declared so."""
    for _, _, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            branches = schema.get("anyOf")
            if branches and parameter["in"] in ("header", "query"):
                kept = [b for b in branches if b.get("type") != "null"]
                if len(kept) == 1:
                    del schema["anyOf"]
                    schema.update(kept[0])
            if schema.pop(REQUIRED_HEADER, False):
                parameter["required"] = True


# Vocabularies ------------------------------------------------------------------------------


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def fill_vocabularies(document: dict[str, Any], values: dict[str, list[str]]) -> None:
    """Replace each `x-vocabulary` mark by the enum it names (on the string branch of an
    optional value)."""
    for node in list(_nodes(document)):
        name = node.pop(VOCABULARY, None)
        if name is None:
            continue
        branches = [b for b in node.get("anyOf", [node]) if b.get("type") == "string"]
        if not branches:
            raise ValueError(f"{VOCABULARY} {name!r} marks a schema without a string")
        for branch in branches:
            branch["enum"] = values[name]


def vocabularies(words: vocabulary.Vocabulary) -> dict[str, list[str]]:
    return {
        "workflows": list(words.workflows),
        "states": list(words.states),
        "uploadable_document_types": list(words.uploadable),
        "supplement_documents": list(words.supplement_documents),
    }


TRANSITION_REQUEST = "TransitionRequest"


def transition_variants(component: dict[str, Any], words: vocabulary.Vocabulary) -> dict[str, Any]:
    """One body schema per set of fields the actions take, from the generic one and the
    workflow files (actions that take the same fields share one).

    The server refuses (422) a field the action does not take; one it needs that is absent
    or empty is listed with the documents still missing (409 `requirements_missing`), as
    `allowed_actions[].fields` says.
    """
    by_fields: dict[frozenset[str], list[str]] = {}
    for action, taken in words.actions.items():
        by_fields.setdefault(taken, []).append(action)
    variants = []
    for taken, actions in sorted(by_fields.items(), key=lambda item: item[1]):
        properties: dict[str, Any] = {}
        for name, schema in component["properties"].items():
            if name == "action":
                properties[name] = {"type": "string", "enum": actions}
            elif name in taken:
                properties[name] = copy.deepcopy(schema)
            else:
                properties[name] = {"type": "null", "description": "Not taken by these actions."}
        variants.append(
            {
                "title": ", ".join(actions),
                "type": "object",
                "properties": properties,
                "required": ["action"],
                "additionalProperties": False,
            }
        )
    return {
        "title": component.get("title", TRANSITION_REQUEST),
        "description": "The action and the fields it takes (see `allowed_actions[].fields`).",
        "oneOf": variants,
        "examples": [
            {"action": "submit"},
            {"action": "withdraw", "reason": "Tỉnh điều chỉnh quy hoạch khu CNTT."},
        ],
    }


PUBLIC_HOSTS_ONLY = (
    " Its host must be on the public internet: not `localhost` (nor a name under it), nor "
    "an address literal of a loopback, private, link-local, multicast, documentation or "
    "other special-purpose block (the `not` pattern); refused with 422 otherwise."
)


def document_public_hosts(document: dict[str, Any]) -> None:
    """The registration rule of app/webhooks/destinations.py, when the server applies it."""
    url = document["components"]["schemas"]["SubscriptionCreate"]["properties"]["url"]
    url["not"] = {"pattern": NON_PUBLIC_URL_PATTERN}
    url["description"] = url.get("description", "") + PUBLIC_HOSTS_ONLY


# Response headers ----------------------------------------------------------------------------

CASES = "/api/v1/cases"
CASE = f"{CASES}/{{case_id}}"
CONSULTATIONS = f"{CASE}/consultations"
CONSULTATION = f"{CONSULTATIONS}/{{consultation_id}}"
DOCUMENTS = f"{CASE}/documents"
WEBHOOKS = "/api/v1/webhooks"
WEBHOOK = f"{WEBHOOKS}/{{subscription_id}}"
PIPELINE = "/api/v1/pipeline"
EVENTS = "/api/v1/events"
WORKFLOWS = "/api/v1/workflows"
WORKFLOW_VERSION = f"{WORKFLOWS}/{{key}}/versions/{{version}}"
DIAGRAM = f"{WORKFLOW_VERSION}/diagram"

CASE_ETAG = {
    "description": 'The case\'s version, `"<version>"`: the `If-Match` of its next change.',
    "required": True,
    "schema": {"type": "string", "pattern": IF_MATCH_PATTERN},
}
LOCATION = {
    "description": "Where the created resource is read.",
    "required": True,
    "schema": {"type": "string"},
}
PIPELINE_ETAG = {
    "description": "The page's entity tag, for `If-None-Match`.",
    "required": True,
    "schema": {"type": "string"},
}

RESPONSE_HEADERS: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {
    ("post", CASES, "201"): {"ETag": CASE_ETAG, "Location": LOCATION},
    ("get", CASE, "200"): {"ETag": CASE_ETAG},
    ("patch", CASE, "200"): {"ETag": CASE_ETAG},
    ("post", f"{CASE}/transitions", "200"): {"ETag": CASE_ETAG},
    ("post", DOCUMENTS, "201"): {"ETag": CASE_ETAG},
    ("get", CONSULTATIONS, "200"): {"ETag": CASE_ETAG},
    ("post", f"{CONSULTATION}/answer", "200"): {"ETag": CASE_ETAG},
    ("post", f"{CONSULTATION}/extend", "200"): {"ETag": CASE_ETAG},
    ("get", PIPELINE, "200"): {"ETag": PIPELINE_ETAG},
    ("get", PIPELINE, "304"): {"ETag": PIPELINE_ETAG},
    ("post", WEBHOOKS, "201"): {"Location": LOCATION},
}


def add_response_headers(document: dict[str, Any]) -> None:
    for (method, path, status), headers in RESPONSE_HEADERS.items():
        response = document["paths"][path][method]["responses"][status]
        response.setdefault("headers", {}).update(copy.deepcopy(headers))


# Links ------------------------------------------------------------------------------------

# What a response gives the next request: the parameters of a link, keyed by the name the
# link has in the document (`header.If-Match` is a parameter in the header, and so on).
Parameters = dict[str, str]
Target = tuple[str, str, Parameters]
ETAG = "$response.header.ETag"
LISTED_ETAG = '"{$response.body#/items/0/version}"'


def _case_targets(body: str, etag: str | None, *, workflow: bool = True) -> dict[str, Target]:
    """Every operation on one case, from a response whose body holds it at `body` (with its
    ETag at `etag`, and its workflow and state when `workflow`)."""
    case = {"path.case_id": f"$response.body#{body}/id"}
    targets: dict[str, Target] = {
        "ReadCase": ("get", CASE, case),
        "UploadDocument": ("post", DOCUMENTS, case),
        "ListDocuments": ("get", DOCUMENTS, case),
        "ListConsultations": ("get", CONSULTATIONS, case),
        "ReadHistory": ("get", f"{CASE}/history", case),
        "VerifyHistory": ("get", f"{CASE}/history/verify", case),
        "ReadPortalStatus": ("get", f"{CASE}/portal-status", case),
    }
    if etag is not None:
        versioned = {**case, "header.If-Match": etag}
        targets["EditCase"] = ("patch", CASE, versioned)
        targets["FireTransition"] = ("post", f"{CASE}/transitions", versioned)
        targets["UploadDocumentAtVersion"] = ("post", DOCUMENTS, versioned)
    if workflow:
        targets["DrawDiagram"] = (
            "get",
            DIAGRAM,
            {
                "path.key": f"$response.body#{body}/workflow/key",
                "path.version": f"$response.body#{body}/workflow/version",
                "query.current": f"$response.body#{body}/state",
            },
        )
    return targets


def _workflow_targets(key: str, version: str) -> dict[str, Target]:
    """From the list of workflows: the first one's latest version and its diagram."""
    ref = {"path.key": key, "path.version": version}
    return {
        "ReadWorkflowVersion": ("get", WORKFLOW_VERSION, ref),
        "DrawDiagram": ("get", DIAGRAM, ref),
        "MigrateCases": ("post", f"{WORKFLOWS}/{{key}}/migrations", {"path.key": key}),
    }


def _document_targets(body: str) -> dict[str, Target]:
    document = {"path.case_id": "$request.path.case_id"}
    return {
        "DownloadDocument": (
            "get",
            f"{DOCUMENTS}/{{doc_id}}/content",
            {**document, "path.doc_id": f"$response.body#{body}/id"},
        ),
        # Only a letter answers; any other document is 404, as the operation says.
        "VerifyLetter": (
            "get",
            f"{CASE}/letters/{{document_id}}/verify",
            {**document, "path.document_id": f"$response.body#{body}/id"},
        ),
    }


def _consultation_targets(body: str) -> dict[str, Target]:
    consultation = {
        "path.case_id": "$request.path.case_id",
        "path.consultation_id": f"$response.body#{body}/id",
        "header.If-Match": ETAG,
    }
    return {
        "AnswerConsultation": ("post", f"{CONSULTATION}/answer", consultation),
        "ExtendConsultation": ("post", f"{CONSULTATION}/extend", consultation),
    }


def _webhook_targets(body: str) -> dict[str, Target]:
    subscription = {"path.subscription_id": f"$response.body#{body}/id"}
    return {
        "ReadSubscription": ("get", WEBHOOK, subscription),
        "ListDeliveries": ("get", f"{WEBHOOK}/deliveries", subscription),
        "DeleteSubscription": ("delete", WEBHOOK, subscription),
    }


def _after_change(etag: str) -> dict[str, Target]:
    """From the answer to a change of a case: the case again, and its next change."""
    case = {"path.case_id": "$request.path.case_id"}
    return {
        "ReadCase": ("get", CASE, case),
        "ListConsultations": ("get", CONSULTATIONS, case),
        "FireTransition": ("post", f"{CASE}/transitions", {**case, "header.If-Match": etag}),
    }


# (method, path, status) of a response -> the links it offers.
LINKS: dict[tuple[str, str, str], dict[str, Target]] = {
    ("post", CASES, "201"): _case_targets("", ETAG),
    ("get", CASES, "200"): {
        **_case_targets("/items/0", LISTED_ETAG),
        "ReadNextCases": ("get", CASES, {"query.cursor": "$response.body#/next_cursor"}),
    },
    ("get", CASE, "200"): _case_targets("", ETAG),
    ("patch", CASE, "200"): _case_targets("", ETAG),
    ("post", f"{CASE}/transitions", "200"): _case_targets("", ETAG),
    ("get", PIPELINE, "200"): {
        **_case_targets("/cases/0", None, workflow=False),
        "ReadNextPipeline": ("get", PIPELINE, {"query.cursor": "$response.body#/next_cursor"}),
    },
    ("get", EVENTS, "200"): {
        "ReadCase": ("get", CASE, {"path.case_id": "$response.body#/items/0/case_id"}),
        "ReadNextEvents": ("get", EVENTS, {"query.after": "$response.body#/next_cursor"}),
        "StreamEvents": ("get", f"{EVENTS}/stream", {"query.after": "$response.body#/next_cursor"}),
    },
    ("get", WORKFLOWS, "200"): _workflow_targets(
        "$response.body#/items/0/key", "$response.body#/items/0/latest_version"
    ),
    ("get", WORKFLOW_VERSION, "200"): {
        "DrawDiagram": (
            "get",
            DIAGRAM,
            {"path.key": "$request.path.key", "path.version": "$request.path.version"},
        ),
    },
    ("post", DOCUMENTS, "201"): {
        **_document_targets(""),
        **_after_change(ETAG),
        "ReviewDocument": (
            "post",
            f"{DOCUMENTS}/{{doc_id}}/review",
            {
                "path.case_id": "$request.path.case_id",
                "path.doc_id": "$response.body#/id",
                "header.If-Match": ETAG,
            },
        ),
    },
    ("post", f"{DOCUMENTS}/{{doc_id}}/review", "200"): _after_change(ETAG),
    ("get", DOCUMENTS, "200"): _document_targets("/items/0"),
    ("get", CONSULTATIONS, "200"): _consultation_targets("/items/0"),
    ("post", f"{CONSULTATION}/answer", "200"): _after_change(ETAG),
    ("post", f"{CONSULTATION}/extend", "200"): _after_change(ETAG),
    ("post", WEBHOOKS, "201"): _webhook_targets(""),
    ("get", WEBHOOKS, "200"): _webhook_targets("/items/0"),
    ("get", WEBHOOK, "200"): _webhook_targets(""),
    ("get", f"{WEBHOOK}/deliveries", "200"): {
        "ReadNextDeliveries": (
            "get",
            f"{WEBHOOK}/deliveries",
            {
                "path.subscription_id": "$request.path.subscription_id",
                "query.cursor": "$response.body#/next_cursor",
            },
        ),
    },
}


def operation_ref(method: str, path: str) -> str:
    """A JSON Pointer to an operation of this document (RFC 6901 escapes)."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def add_links(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for (method, path, status), targets in LINKS.items():
        response = paths[path][method]["responses"][status]
        links = response.setdefault("links", {})
        for name, (target_method, target_path, parameters) in targets.items():
            if target_method not in paths.get(target_path, {}):
                raise KeyError(f"link {name} names {target_method} {target_path}, not served")
            links[name] = {
                "operationRef": operation_ref(target_method, target_path),
                "parameters": parameters,
            }


# The document -----------------------------------------------------------------------------

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def complete(generated: dict[str, Any], ctx: AppContext) -> dict[str, Any]:
    # A copy: the generated document shares objects with the routes (`openapi_extra`).
    document = copy.deepcopy(generated)
    words = vocabulary.of(ctx.workflows)
    add_idempotency_key(document)
    tidy_parameters(document)
    fill_vocabularies(document, vocabularies(words))
    schemas = document["components"]["schemas"]
    schemas[TRANSITION_REQUEST] = transition_variants(schemas[TRANSITION_REQUEST], words)
    if not ctx.settings.webhook_allow_private_hosts:
        document_public_hosts(document)
    add_response_headers(document)
    add_links(document)
    return document


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the document gives `path`: the `Allow` of a 405 (RFC 9110 §15.5.6).

    Starlette names only the methods of the first route whose path matches, and `GET /cases`
    and `POST /cases` are two routes of one resource.
    """
    methods: set[str] = set()
    for template, operations in app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods.update(m.upper() for m in operations if m in HTTP_METHODS)
    return sorted(methods)


def install(app: FastAPI, ctx: AppContext) -> None:
    """Serve the completed document at `/openapi.json` (and in `/docs`)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate(), ctx)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
