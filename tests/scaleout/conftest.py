"""Two API hosts, as a load balancer sees them: two `admission serve` processes, each in a
working directory of its own (no shared disk), on one PostgreSQL database, with documents in
one S3 bucket (moto's server on loopback)."""

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from app.admission.registry import build_context
from app.context import AppContext
from app.core.config import Settings
from app.storage.s3 import MIN_PART_BYTES, S3Store
from tests.databases import sibling_database
from tests.factories import make_tokens
from tests.reliability.servers import ADMISSION, Server
from tests.s3 import S3Server


@dataclass
class Host:
    name: str
    server: Server
    workdir: Path

    @property
    def url(self) -> str:
        return self.server.url

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """An `admission` command run on this host: its settings, its working directory."""
        return subprocess.run(
            [*ADMISSION, *args],
            env=self.server.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*ADMISSION, *args],
            env=self.server.env,
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


@dataclass
class Cluster:
    ctx: AppContext
    a: Host
    b: Host
    tokens: dict[str, str]
    turn: list[int] = field(default_factory=lambda: [0])

    @property
    def store(self) -> S3Store:
        return cast(S3Store, self.ctx.store)

    @property
    def hosts(self) -> tuple[Host, Host]:
        return self.a, self.b

    def next_host(self) -> Host:
        """A load balancer's round robin: A, B, A, B, ..."""
        self.turn[0] += 1
        return self.hosts[self.turn[0] % 2]

    def headers(self, who: str, version: int | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        return headers

    def request(self, host: Host, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with httpx.Client(base_url=host.url, timeout=60) as http:
            return http.request(method, path, **kwargs)


@pytest.fixture(scope="module")
def cluster(
    backend: Settings, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    if not backend.database_url.startswith("postgresql"):
        pytest.skip("several API hosts share one PostgreSQL database")
    root = tmp_path_factory.mktemp("cluster")
    # A database of the cluster's own: other tests empty the shared one as they start.
    database = sibling_database(backend, root, f"scaleout_{uuid.uuid4().hex[:8]}")
    store_env = {
        **s3_server.env(),
        "STORAGE_URL": f"s3://{s3_server.new_bucket()}/documents",
        "S3_PART_BYTES": str(MIN_PART_BYTES),
        # Both hosts deliver webhooks and announce overdue cases, as `serve` does by default.
        "WEBHOOK_DELIVERY_IN_SERVE": "true",
        "WEBHOOK_POLL_SECONDS": "0.1",
        "WEBHOOK_ALLOW_PRIVATE_HOSTS": "true",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in store_env.items():
            patch.setenv(name, value)
        ctx = build_context(
            database.model_copy(
                update={
                    "storage_url": store_env["STORAGE_URL"],
                    "s3_endpoint_url": s3_server.url,
                    "s3_region": store_env["S3_REGION"],
                    "s3_part_bytes": MIN_PART_BYTES,
                }
            )
        )
        hosts = []
        for name in ("a", "b"):
            workdir = root / f"host-{name}"
            workdir.mkdir()
            server = Server(
                database.database_url, workdir / "documents", workdir, name, env=store_env
            )
            hosts.append(Host(name, server, workdir))
        tokens = make_tokens(ctx)
        try:
            for host in hosts:
                host.server.launch()
            for host in hosts:
                host.server.wait_ready()
            yield Cluster(ctx, hosts[0], hosts[1], tokens)
        finally:
            for host in hosts:
                host.server.stop()
            ctx.store.close()
            ctx.engine.dispose()
