"""A throw-away S3 server for the test run: moto's standalone server on a loopback port."""

import subprocess
import sys
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
from botocore.config import Config

from tests.live import free_port

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Any credentials will do for moto; these are what every process of the tests uses.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "admission-test", "AWS_SECRET_ACCESS_KEY": "admission-test"}
REGION = "us-east-1"


@dataclass
class S3Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    _client: "S3Client | None" = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """What an `admission` process needs to reach this server."""
        return {**CREDENTIALS, "S3_ENDPOINT_URL": self.url, "S3_REGION": REGION}

    def client(self, **config: Any) -> "S3Client":
        """A client of this server (one, shared, unless `config` asks for another)."""
        if not config and self._client is not None:
            return self._client
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                **config,
            ),
        )
        if not config:
            self._client = client
        return client

    def new_bucket(self) -> str:
        name = f"admission-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start(log_dir: Path, timeout: float = 30.0) -> S3Server:
    port = free_port()
    log = log_dir / "moto.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = S3Server(process, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto's server exited:\n{log.read_text(errors='replace')}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/moto-api/", timeout=1).status_code < 500:
                return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"moto's server did not answer within {timeout} s")
