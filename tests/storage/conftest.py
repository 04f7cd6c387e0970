import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from app.cli import main
from app.context import AppContext
from app.core.config import get_settings
from app.core.db import unit_of_work
from app.documents.models import Document
from app.storage.s3 import MIN_PART_BYTES, S3Store
from tests.s3 import S3Server


@pytest.fixture
def s3_store(s3_server: S3Server) -> S3Store:
    """An S3 store in a new bucket of its own, under a prefix, in parts of 5 MiB."""
    return S3Store(s3_server.client(), s3_server.new_bucket(), "docs", part_bytes=MIN_PART_BYTES)


def store_env(ctx: AppContext) -> dict[str, str]:
    """The environment of an `admission` command on this context's database and store."""
    settings = ctx.settings
    env = {"DATABASE_URL": settings.database_url, "STORAGE_DIR": str(settings.storage_dir)}
    if settings.storage_url:
        env["STORAGE_URL"] = settings.storage_url
    if settings.s3_endpoint_url:
        env["S3_ENDPOINT_URL"] = settings.s3_endpoint_url
        env["S3_REGION"] = settings.s3_region or ""
    return env


def run_cli(ctx: AppContext, *args: str, env: dict[str, str] | None = None) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, list(args), env={**store_env(ctx), **(env or {})})
    finally:
        get_settings.cache_clear()


def bucket_keys(store: S3Store) -> set[str]:
    keys: set[str] = set()
    for page in store.client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def unfinished_uploads(store: S3Store) -> list[str]:
    found = store.client.list_multipart_uploads(Bucket=store.bucket)
    return [u["Key"] for u in found.get("Uploads", [])]


def referenced(ctx: AppContext) -> set[str]:
    with unit_of_work(ctx.engine, write=False) as session:
        return set(session.scalars(select(Document.sha256).distinct()))
