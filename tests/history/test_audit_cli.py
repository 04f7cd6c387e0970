"""`admission audit verify / export-heads / verify-heads`: every case's chain, and signed heads
that catch even a consistent rewrite of a whole chain."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from app.cases.models import Case
from app.cli import main
from app.context import AppContext
from app.core.config import get_settings
from app.history.chain import GENESIS, compute_hash
from app.history.models import AuditEntry
from tests.factories import Api
from tests.history.test_chain import (
    NEWEST,
    rehash,
    remove,
    reviewed_case,
    seq_of,
    swap_contents,
    tamper,
)

KEY = "test-audit-key-0123456789"


class Audit:
    def __init__(self, ctx: AppContext) -> None:
        self.env = {
            "DATABASE_URL": ctx.settings.database_url,
            "STORAGE_DIR": str(ctx.settings.storage_dir),
            "AUDIT_HMAC_KEY": KEY,
        }

    def run(self, *args: str, key: str | None = KEY) -> Result:
        env = {**self.env, "AUDIT_HMAC_KEY": key or ""}
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(main, ["audit", *args], env=env)
        finally:
            get_settings.cache_clear()


@pytest.fixture
def audit(ctx: AppContext) -> Iterator[Audit]:
    return Audit(ctx)


def rewrite_whole_chain(
    ctx: AppContext, case_id: str, comment: str, *, move_head: bool = True
) -> None:
    """What someone with write access could do: change an entry, recompute every hash and
    (with `move_head`) move the case's recorded head to the new newest hash."""
    with ctx.engine.begin() as conn:
        conn.execute(
            update(AuditEntry.__table__)
            .where(AuditEntry.case_id == uuid.UUID(case_id), AuditEntry.seq == 2)
            .values(comment=comment)
        )
    from sqlalchemy.orm import Session

    with Session(ctx.engine) as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.case_id == uuid.UUID(case_id))
            .order_by(AuditEntry.seq)
        ).all()
        prev = GENESIS
        for entry in entries:
            entry.prev_hash = prev
            entry.hash = compute_hash(entry, prev)
            prev = entry.hash
        if move_head:
            session.execute(
                update(Case.__table__).where(Case.id == uuid.UUID(case_id)).values(head_hash=prev)
            )
        session.commit()


class TestVerifyAll:
    def test_untouched_chains_verify(self, api: Api, audit: Audit) -> None:
        reviewed_case(api)
        api.create_case()
        result = audit.run("verify")
        assert result.exit_code == 0, result.output
        assert "2 cases" in result.output
        assert "0 broken" in result.output

    @pytest.mark.parametrize(
        ("damage", "bad_seq"),
        [
            pytest.param(lambda ctx, c: tamper(ctx, c, 3, {"comment": "sửa"}), 3, id="changed"),
            pytest.param(lambda ctx, c: remove(ctx, c, 3), 4, id="deleted"),
            pytest.param(lambda ctx, c: remove(ctx, c, NEWEST), NEWEST, id="newest deleted"),
            pytest.param(
                lambda ctx, c: [remove(ctx, c, s) for s in (NEWEST, NEWEST - 1)],
                NEWEST - 1,
                id="two newest deleted",
            ),
            pytest.param(
                lambda ctx, c: rehash(ctx, c, NEWEST, reason="khác"), NEWEST, id="newest rehashed"
            ),
            pytest.param(lambda ctx, c: swap_contents(ctx, c, 2, 3), 2, id="reordered"),
            pytest.param(
                lambda ctx, c: tamper(ctx, c, seq_of("accept"), {"actor_org": "mic"}),
                seq_of("accept"),
                id="actor",
            ),
        ],
    )
    def test_one_damaged_row_is_named_by_case_and_seq(
        self, api: Api, ctx: AppContext, audit: Audit, damage: Any, bad_seq: int
    ) -> None:
        case = reviewed_case(api)
        untouched = api.create_case()
        damage(ctx, case["id"])
        result = audit.run("verify")
        assert result.exit_code == 1, result.output
        assert f"BROKEN case {case['id']} at seq {bad_seq}" in result.output
        assert untouched["id"] not in result.output
        assert api.verify(case["id"])["first_bad_seq"] == bad_seq

    def test_a_rewritten_chain_under_the_old_head_is_caught(
        self, api: Api, ctx: AppContext, audit: Audit
    ) -> None:
        case = reviewed_case(api)
        rewrite_whole_chain(ctx, case["id"], "không có gì", move_head=False)
        result = audit.run("verify")
        assert result.exit_code == 1
        assert f"BROKEN case {case['id']} at seq {NEWEST}" in result.output


class TestSignedHeads:
    def export(self, audit: Audit, tmp_path: Path) -> Path:
        target = tmp_path / "heads.json"
        result = audit.run("export-heads", "--output", str(target))
        assert result.exit_code == 0, result.output
        return target

    def test_heads_verify_and_may_grow_afterwards(
        self, api: Api, audit: Audit, tmp_path: Path
    ) -> None:
        case = reviewed_case(api)
        exported = self.export(audit, tmp_path)
        body = json.loads(exported.read_text())
        assert body["heads"] == [
            {"case_id": case["id"], "seq": NEWEST, "hash": api.history(case["id"])[-1]["hash"]}
        ]
        api.advance(case["id"], "resubmit", "applicant")
        result = audit.run("verify-heads", str(exported))
        assert result.exit_code == 0, result.output
        assert "0 broken" in result.output

    def test_a_consistently_rewritten_chain_is_caught(
        self, api: Api, ctx: AppContext, audit: Audit, tmp_path: Path
    ) -> None:
        case = reviewed_case(api)
        exported = self.export(audit, tmp_path)
        rewrite_whole_chain(ctx, case["id"], "không có gì")
        assert audit.run("verify").exit_code == 0  # the chain and its head alone cannot tell
        result = audit.run("verify-heads", str(exported))
        assert result.exit_code == 1
        assert f"BROKEN case {case['id']} at seq {NEWEST}" in result.output

    def test_a_dropped_newest_entry_is_caught(
        self, api: Api, ctx: AppContext, audit: Audit, tmp_path: Path
    ) -> None:
        case = reviewed_case(api)
        exported = self.export(audit, tmp_path)
        remove(ctx, case["id"], NEWEST)
        result = audit.run("verify-heads", str(exported))
        assert result.exit_code == 1
        assert f"BROKEN case {case['id']} at seq {NEWEST}" in result.output

    def test_an_altered_export_or_another_key_is_refused(
        self, api: Api, audit: Audit, tmp_path: Path
    ) -> None:
        reviewed_case(api)
        exported = self.export(audit, tmp_path)
        assert audit.run("verify-heads", str(exported), key="another-key").exit_code == 2
        body = json.loads(exported.read_text())
        body["heads"][0]["hash"] = "0" * 64
        exported.write_text(json.dumps(body))
        result = audit.run("verify-heads", str(exported))
        assert result.exit_code == 2
        assert "signature" in result.output

    def test_without_a_key_nothing_is_exported(self, api: Api, audit: Audit) -> None:
        result = audit.run("export-heads", key=None)
        assert result.exit_code == 2
        assert "AUDIT_HMAC_KEY" in result.output
