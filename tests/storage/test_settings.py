"""STORAGE_URL chooses the document store; the local directory stays the default."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.config import Settings
from app.storage.factory import open_store
from app.storage.local import LocalStore
from app.storage.s3 import S3Store


class TestChoosingTheStore:
    def test_without_a_storage_url_documents_stay_in_storage_dir(self, tmp_path: Path) -> None:
        store = open_store(Settings(storage_dir=tmp_path / "docs"))

        assert isinstance(store, LocalStore)
        assert store.root == tmp_path / "docs"

    @pytest.mark.parametrize("form", ["file://{}", "{}"])
    def test_a_file_url_or_a_plain_path_is_a_local_directory(
        self, tmp_path: Path, form: str
    ) -> None:
        store = open_store(Settings(storage_url=form.format(tmp_path / "elsewhere")))

        assert isinstance(store, LocalStore)
        assert store.root == tmp_path / "elsewhere"

    def test_an_s3_url_names_the_bucket_and_prefix_of_an_object_store(self) -> None:
        settings = Settings(
            storage_url="s3://chain-documents/admission/prod",
            s3_endpoint_url="http://127.0.0.1:9000",
            s3_region="ap-southeast-1",
        )

        store = open_store(settings)

        assert isinstance(store, S3Store)
        assert (store.bucket, store.prefix) == ("chain-documents", "admission/prod/")
        assert store.describe() == "s3://chain-documents/admission/prod/"
        assert store.client.meta.endpoint_url == "http://127.0.0.1:9000"
        assert store.client.meta.region_name == "ap-southeast-1"
        assert store.client.meta.config.s3 == {"addressing_style": "path"}

    @pytest.mark.parametrize("url", ["ftp://host/x", "s3:///no-bucket", "gs://bucket"])
    def test_another_url_is_refused_when_the_settings_are_read(self, url: str) -> None:
        with pytest.raises(ValidationError, match="storage_url"):
            Settings(storage_url=url)

    def test_parts_smaller_than_s3_accepts_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="s3_part_bytes"):
            Settings(s3_part_bytes=1024 * 1024)
