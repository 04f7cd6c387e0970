"""Copying every referenced document from one store to another (`admission storage copy`),
e.g. from the local directory to an S3 bucket before a move to several hosts.

Only objects that a `documents` row names are copied, each streamed (never held whole),
hashed on the way and refused unless its bytes hash to its name; the target store then
verifies what it placed, as for an upload. An object the target already holds with its
SHA-256 is skipped, so a run that was interrupted is simply run again.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select

from app.core.db import unit_of_work
from app.documents.models import Document
from app.storage.base import DocumentStore

BATCH = 500


@dataclass
class CopyReport:
    copied: int = 0
    copied_bytes: int = 0
    present: int = 0
    # Named by a row but not in the source store, or there with other bytes.
    missing: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.missing or self.mismatched)

    def summary(self) -> str:
        return (
            f"copied {self.copied} objects ({self.copied_bytes} bytes), {self.present} already "
            f"there and verified, {len(self.missing)} missing from the source, "
            f"{len(self.mismatched)} not matching their SHA-256"
        )


def referenced_objects(engine: Engine) -> Iterator[tuple[str, int]]:
    """Every (SHA-256, size) a document row names, in order, read a batch at a time."""
    after = ""
    while True:
        with unit_of_work(engine, write=False) as session:
            batch = list(
                session.execute(
                    select(Document.sha256, func.max(Document.size))
                    .where(Document.sha256 > after)
                    .group_by(Document.sha256)
                    .order_by(Document.sha256)
                    .limit(BATCH)
                )
            )
        if not batch:
            return
        yield from ((sha256, int(size)) for sha256, size in batch)
        after = batch[-1][0]


def copy_documents(
    engine: Engine,
    source: DocumentStore,
    target: DocumentStore,
    on_object: Callable[[str, str], None] | None = None,
) -> CopyReport:
    """Copy what the target lacks; `on_object(sha256, outcome)` hears of each object."""
    report = CopyReport()
    for sha256, size in referenced_objects(engine):
        outcome = _copy_one(source, target, sha256, size, report)
        if on_object is not None:
            on_object(sha256, outcome)
    return report


def _copy_one(
    source: DocumentStore, target: DocumentStore, sha256: str, size: int, report: CopyReport
) -> str:
    if target.verify(sha256, size):
        report.present += 1
        return "present"
    content = source.open(sha256)
    if content is None:
        report.missing.append(sha256)
        return "missing"
    writer = target.staging(limit=max(size, content.size))
    try:
        for chunk in content.chunks():
            writer.write(chunk)
        staged = writer.finish()
    except BaseException:
        writer.discard()
        raise
    finally:
        content.close()
    if (staged.sha256, staged.size) != (sha256, size):
        target.discard(staged)
        report.mismatched.append(sha256)
        return "mismatched"
    target.commit(staged)
    report.copied += 1
    report.copied_bytes += size
    return "copied"
