"""Databases for the benchmarks: migrated from scratch, with the small Chain's tokens and cases
driven through the running service's API (as tests/factories.py does)."""

from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.admission.registry import build_context
from app.core.config import Settings
from tests.databases import migrate
from tests.factories import Api, make_tokens


def fresh(url: str, storage_dir: Path) -> dict[str, str]:
    """Migrate the database at `url` from nothing; the tokens of the small Chain (who -> token)."""
    settings = Settings(database_url=url, storage_dir=storage_dir)
    migrate(settings, fresh=True)
    ctx = build_context(settings)
    try:
        return make_tokens(ctx)
    finally:
        ctx.engine.dispose()


@dataclass
class Cases:
    in_review: list[str]  # cases in council review with their site-visit minutes uploaded
    other: list[str]
    # cases in ministry appraisal with the papers for the Prime Minister uploaded
    in_appraisal: list[str] = field(default_factory=list)


def in_council_review(
    base_url: str, tokens: dict[str, str], count: int, drafts: int, appraisals: int = 0
) -> Cases:
    """`count` cases in council review whose site visit can be recorded (the minutes are
    uploaded, as the workflow requires), `appraisals` in ministry appraisal that can go to the
    Prime Minister and back, plus `drafts` cases left in draft."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        api = Api(http, tokens)  # type: ignore[arg-type]  # any httpx client will do
        in_review = []
        for _ in range(count):
            case = api.case_in_council_review()
            uploaded = api.upload(case["id"], "site_visit_minutes", "council")
            assert uploaded.status_code == 201, uploaded.text
            in_review.append(case["id"])
        other = [api.create_case()["id"] for _ in range(drafts)]
        in_appraisal = []
        for _ in range(appraisals):
            case = api.case_in_ministry_appraisal()
            for doc_type in ("appraisal_report", "pm_submission"):
                assert api.upload(case["id"], doc_type, "ministry").status_code == 201
            in_appraisal.append(case["id"])
    return Cases(in_review, other, in_appraisal)
