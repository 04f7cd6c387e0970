"""The request table: each kind of request at 16 clients, as a share of the minimal FastAPI app
served by the same uvicorn on the same machine in the same run."""

from contextlib import ExitStack

import httpx

from bench import dataset, httpload, servers
from bench.common import Bench
from bench.httpload import Load

TITLE = "Requests at 16 clients ({backend})"
NOTE = (
    "wrk -t2 -c16 for reads, an async httpx client with 16 tasks for transitions, each task "
    "on its own case. record_site_visit: each loop uploads the new minutes the visit needs "
    "(not timed), reads the ETag, then POSTs the transition with If-Match (timed). No upload: "
    "each task fires submit_to_pm and return_to_ministry in turn, each with the ETag the one "
    "before answered (every request timed). Share: requests/s as a share of the minimal app's "
    "in the same run."
)
FORMATS = {"p50 ms": "{:,.1f}", "p99 ms": "{:,.1f}", "share": "{:.1%}", "server MB": "{:,.0f}"}
REVIEW_CASES = 16
TRANSITION_ROW = "audited transition (record_site_visit, If-Match)"
CYCLE_ROW = "audited transition, no upload (submit_to_pm ⇄ return_to_ministry)"
CYCLE = {
    "ministry_appraisal": ("submit_to_pm", "ministry"),
    "pm_review": ("return_to_ministry", "government"),
}
WORKERS_ROW = "audited transition, `serve --workers 2`"


def _add(bench: Bench, title: str, row: str, load: Load, reference: float | None) -> None:
    table = bench.report.table(title)
    table.add(row, "req/s", load.rate)
    table.add(row, "p50 ms", load.p50_ms)
    table.add(row, "p99 ms", load.p99_ms)
    table.add(row, "errors", load.errors)
    if reference:
        table.add(row, "share", load.rate / reference)


def _etag(base_url: str, path: str, token: str) -> str:
    response = httpx.get(base_url + path, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return response.headers["etag"]


def _check(base_url: str, path: str, headers: dict[str, str], status: int) -> None:
    """The request wrk is about to repeat answers as expected (wrk only counts non-2xx/3xx)."""
    response = httpx.get(base_url + path, headers=headers)
    if response.status_code != status:
        raise RuntimeError(f"GET {path}: {response.status_code}, not {status}: {response.text}")


def run(bench: Bench, backend: str) -> None:
    title = TITLE.format(backend=backend)
    table = bench.report.table(title, NOTE, FORMATS)
    url, storage = bench.database(backend, "requests")
    tokens = dataset.fresh(url, storage)
    council = tokens["council"]
    duration = bench.options.duration
    with ExitStack() as stack:
        minimal = stack.enter_context(servers.running(servers.minimal_app(bench.workdir)))
        service = stack.enter_context(
            servers.running(servers.admission_server(url, storage, bench.workdir))
        )
        pool = None
        workers = backend == "postgresql" and "--workers" in servers.serve_help()
        if workers:
            pool = stack.enter_context(
                servers.running(servers.admission_server(url, storage, bench.workdir, 2))
            )
        cases = dataset.in_council_review(
            service.url, tokens, REVIEW_CASES, drafts=4, appraisals=REVIEW_CASES
        )
        reads = _reads(service.url, cases.in_review[0], council)
        for n in range(bench.options.runs):
            print(f"  {backend} requests, run {n + 1}/{bench.options.runs}", flush=True)
            reference = httpload.wrk(minimal.url + "/healthz", duration)
            _add(bench, title, "minimal FastAPI app", reference, reference.rate)
            for row, (path, headers) in reads.items():
                try:
                    load = httpload.wrk(service.url + path, duration, headers)
                except RuntimeError as exc:  # wrk's output is unreadable: show it, go on
                    print(exc, flush=True)
                    bench.report.remark(title, row, "a run failed: wrk printed no figures")
                    continue
                _add(bench, title, row, load, reference.rate)
            for row, server in ((TRANSITION_ROW, service), (WORKERS_ROW, pool)):
                if server is not None:
                    # Each site visit needs minutes uploaded since the last one.
                    load = httpload.transitions(
                        server.url,
                        council,
                        cases.in_review,
                        "record_site_visit",
                        duration,
                        upload="site_visit_minutes",
                    )
                    _add(bench, title, row, load, reference.rate)
            # The site visit's row times the transitions of loops that also upload (each
            # visit needs new minutes); this one times audited transitions and nothing else.
            load = httpload.cycles(service.url, tokens, cases.in_appraisal, CYCLE, duration)
            _add(bench, title, CYCLE_ROW, load, reference.rate)
            table.add(TRANSITION_ROW, "server MB", service.rss_mb())
            if pool is not None:
                table.add(WORKERS_ROW, "server MB", pool.rss_mb())
    if backend == "postgresql" and not workers:
        bench.report.remark(title, WORKERS_ROW, "not measured: `admission serve` has no --workers")
    verified = servers.admission(url, storage, "audit", "verify")
    summary = verified.stdout.strip().splitlines()[-1] if verified.stdout.strip() else ""
    ok = verified.returncode == 0
    bench.report.remark(
        title, "`admission audit verify` afterwards", ("valid: " if ok else "FAILED: ") + summary
    )
    if not ok:
        print(verified.stdout, verified.stderr)


def _reads(base_url: str, case_id: str, token: str) -> dict[str, tuple[str, dict[str, str]]]:
    """The rows wrk measures (path, headers), each checked once to answer as it should."""
    auth = {"Authorization": f"Bearer {token}"}
    pipeline_etag = _etag(base_url, "/api/v1/pipeline", token)
    reads = {
        "own /healthz": ("/healthz", {}, 200),
        "pipeline answered 304": (
            "/api/v1/pipeline",
            {**auth, "If-None-Match": pipeline_etag},
            304,
        ),
        "case read": (f"/api/v1/cases/{case_id}", auth, 200),
        "filtered list page (state=, limit=50)": (
            "/api/v1/cases?state=council_review&limit=50",
            auth,
            200,
        ),
    }
    for path, headers, status in reads.values():
        _check(base_url, path, headers, status)
    return {row: (path, headers) for row, (path, headers, _) in reads.items()}
