"""Load generators: wrk for reads, an async httpx client for transitions."""

import asyncio
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.factories import pdf_bytes

WRK = "/usr/bin/wrk"
CONNECTIONS = 16
THREADS = 2


@dataclass
class Load:
    """What a load run saw: its rate, latency percentiles in ms, and failures."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _lua(headers: dict[str, str]) -> str:
    lines = [f'wrk.headers["{name}"] = [[{value}]]' for name, value in headers.items()]
    return "\n".join(lines) + "\n"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Load:
    requests = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    if requests is None:
        raise RuntimeError(f"wrk printed no summary:\n{output}")
    seconds = _ms(requests.group(2) + requests.group(3)) / 1000
    percentiles = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)\s*$", output, re.M))
    if set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"wrk printed no latency distribution:\n{output}")
    errors = 0
    if socket := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in socket.groups())
    if bad := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(bad.group(1))
    return Load(
        requests=int(requests.group(1)),
        seconds=seconds,
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        errors=errors,
    )


def wrk(url: str, duration: float, headers: dict[str, str] | None = None) -> Load:
    """`wrk -t2 -c16 --latency` for `duration` seconds against `url`, with these headers."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_lua(headers or {}))
        script.flush()
        argv = [WRK, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{max(1, round(duration))}s"]
        argv += ["--latency", "-s", script.name, url]
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


@dataclass
class Loop:
    """Latencies (seconds) and failures of requests sent in a loop by concurrent clients."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self, seconds: float) -> Load:
        ordered = sorted(self.latencies)
        return Load(
            requests=len(ordered),
            seconds=seconds,
            p50_ms=statistics.median(ordered) * 1000 if ordered else 0.0,
            p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
            if ordered
            else 0.0,
            errors=len(self.errors),
        )


Step = Callable[[httpx.AsyncClient, str, Loop], Awaitable[None]]


async def _drive(base_url: str, keys: list[str], step: Step, duration: float) -> Load:
    loop = Loop()
    limits = httpx.Limits(max_connections=len(keys), max_keepalive_connections=len(keys))
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        deadline = time.perf_counter() + duration

        async def client_loop(key: str) -> None:
            while time.perf_counter() < deadline:
                await step(client, key, loop)

        started = time.perf_counter()
        await asyncio.gather(*(client_loop(key) for key in keys))
        return loop.summary(time.perf_counter() - started)


def transitions(
    base_url: str,
    token: str,
    case_ids: list[str],
    action: str,
    duration: float,
    upload: str | None = None,
) -> Load:
    """One client per case, each in a loop: read the case's ETag, then fire `action` with it
    as If-Match. Latency is that of the transitions (the POSTs). With `upload`, each loop
    first uploads a new document of that type (not timed; an action that needs it new)."""
    auth = {"Authorization": f"Bearer {token}"}

    async def step(client: httpx.AsyncClient, case_id: str, loop: Loop) -> None:
        if upload is not None:
            uploaded = await client.post(
                f"/api/v1/cases/{case_id}/documents",
                data={"doc_type": upload},
                files={"file": (f"{upload}.pdf", pdf_bytes(upload))},
                headers=auth,
            )
            if uploaded.status_code != 201:
                loop.errors.append(f"upload {uploaded.status_code}: {uploaded.text[:200]}")
                return
        read = await client.get(f"/api/v1/cases/{case_id}", headers=auth)
        if read.status_code != 200:
            loop.errors.append(f"read {read.status_code}: {read.text[:200]}")
            return
        headers = {**auth, "If-Match": read.headers["etag"]}
        started = time.perf_counter()
        fired = await client.post(
            f"/api/v1/cases/{case_id}/transitions", json={"action": action}, headers=headers
        )
        elapsed = time.perf_counter() - started
        if fired.status_code == 200:
            loop.latencies.append(elapsed)
        else:
            loop.errors.append(f"{action} {fired.status_code}: {fired.text[:200]}")

    return asyncio.run(_drive(base_url, case_ids, step, duration))


def cycles(
    base_url: str,
    tokens: dict[str, str],
    case_ids: list[str],
    steps: dict[str, tuple[str, str]],
    duration: float,
) -> Load:
    """One client per case, each firing the step of the state its case is in (`steps`: state
    -> (action, who)) round and round, each transition guarded by the ETag the one before
    answered (the case is read first, and again after a refusal). Every POST is timed:
    nothing but audited transitions."""
    known: dict[str, tuple[str, str]] = {}  # case -> (state, ETag)

    async def step(client: httpx.AsyncClient, case_id: str, loop: Loop) -> None:
        if case_id not in known:
            who = next(iter(steps.values()))[1]
            read = await client.get(
                f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {tokens[who]}"}
            )
            known[case_id] = (read.json()["state"], read.headers["etag"])
        state, tag = known[case_id]
        action, who = steps[state]
        headers = {"Authorization": f"Bearer {tokens[who]}", "If-Match": tag}
        started = time.perf_counter()
        fired = await client.post(
            f"/api/v1/cases/{case_id}/transitions", json={"action": action}, headers=headers
        )
        elapsed = time.perf_counter() - started
        if fired.status_code == 200:
            loop.latencies.append(elapsed)
            known[case_id] = (fired.json()["state"], fired.headers["etag"])
        else:
            loop.errors.append(f"{action} {fired.status_code}: {fired.text[:200]}")
            del known[case_id]

    return asyncio.run(_drive(base_url, case_ids, step, duration))


def save_lua(path: Path, headers: dict[str, str]) -> None:
    """The Lua script `wrk` is given, kept for running a row by hand."""
    path.write_text(_lua(headers))
