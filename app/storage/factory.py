"""The document store named by the settings (`STORAGE_URL`, else `STORAGE_DIR`)."""

from pathlib import Path
from urllib.parse import unquote, urlsplit

from app.core.config import Settings
from app.storage.base import DocumentStore
from app.storage.local import LocalStore


def open_store(settings: Settings, url: str | None = None) -> DocumentStore:
    """The store at `url` (default: the settings' own), with the settings' S3 options."""
    url = url if url is not None else settings.storage_url
    if not url:
        return LocalStore(settings.storage_dir)
    parts = urlsplit(url)
    if parts.scheme == "s3":
        return _s3_store(settings, parts.netloc, unquote(parts.path))
    if parts.scheme == "file":
        return LocalStore(Path(unquote(parts.netloc + parts.path)))
    return LocalStore(Path(url))


def _s3_store(settings: Settings, bucket: str, prefix: str) -> DocumentStore:
    import boto3
    from botocore.config import Config

    from app.storage.s3 import S3Store

    config = Config(
        # Other stores than AWS are addressed path-style: http://host:port/bucket/key.
        s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
        max_pool_connections=settings.s3_max_connections,
        retries={"mode": "standard", "max_attempts": 5},
        # Checksums are sent where the store is told to check them (SHA-256), not by default.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_supported",
    )
    client = boto3.session.Session().client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region, config=config
    )
    return S3Store(client, bucket, prefix, part_bytes=settings.s3_part_bytes)
