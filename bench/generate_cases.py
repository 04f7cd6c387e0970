"""A data set of N dossiers as a CSV in the format of `admission import cases`.

    python bench/generate_cases.py 1000000 --output cases-1m.csv

Columns: code, applicant_org, applicant_name, unit_kind, area_m2, address, investor, state,
state_since, due_at, workflow, workflow_version. Cases are spread over the workflow's states
(half in the states where someone acts, the other half finished) and over PROVINCES applicant
organisations (slugs `tinh-00` …, to be made with `admission org create` before the import:
see `organisations`). A case past `draft` has a dossier code; one in a state with a deadline
has a due date between 20 days ago and 40 days ahead, so the overdue figures are not empty.
The same seed gives the same file.
"""

import argparse
import csv
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.admission.registry import load_workflows  # noqa: E402
from app.engine.workflow import Workflow  # noqa: E402

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
KEY = "qtsc-chain-admission"
PROVINCES = 20
COLUMNS = (
    "code",
    "applicant_org",
    "applicant_name",
    "unit_kind",
    "area_m2",
    "address",
    "investor",
    "state",
    "state_since",
    "due_at",
    "workflow",
    "workflow_version",
)
UNIT_KINDS = ("software_park", "concentrated_it_zone", "ict_centre", "digital_technology_zone")


def organisations(count: int = PROVINCES) -> list[tuple[str, str]]:
    """(slug, province) of the applicant organisations the rows name."""
    return [(f"tinh-{i:02d}", f"Tỉnh {i:02d}") for i in range(count)]


def workflow() -> Workflow:
    found = load_workflows(WORKFLOWS).latest(KEY)
    assert found is not None
    return found


def rows(n: int, seed: int = 12, today: date | None = None) -> Iterator[dict[str, str]]:
    rng = random.Random(seed)
    flow = workflow()
    states = flow.definition.states
    acting = [name for name, s in states.items() if not s.terminal]
    final = [name for name, s in states.items() if s.terminal]
    orgs = organisations()
    today = today or date.today()
    for i in range(n):
        state = rng.choice(acting if rng.random() < 0.5 else final)
        slug, province = orgs[i % len(orgs)]
        since = today - timedelta(days=rng.randrange(1, 400))
        due = ""
        if states[state].deadline_working_days:
            due = (today + timedelta(days=rng.randrange(-20, 40))).isoformat()
        yield {
            "code": "" if state == "draft" else f"QTSC-{since:%y%m%d}-B{i:07d}",
            "applicant_org": slug,
            "applicant_name": f"Khu công nghệ thông tin tập trung số {i}",
            "unit_kind": UNIT_KINDS[i % len(UNIT_KINDS)],
            "area_m2": str(rng.randrange(10_000, 2_000_000)),
            "address": f"Lô {i % 97}, đường số {i % 31}, {province}",
            "investor": f"Công ty cổ phần đầu tư {i % 1000}",
            "state": state,
            "state_since": since.isoformat(),
            "due_at": due,
            "workflow": flow.key,
            "workflow_version": str(flow.version),
        }


def write(out: TextIO, n: int, seed: int = 12) -> None:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(n, seed))


def write_file(path: Path, n: int, seed: int = 12) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        write(out, n, seed)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of cases")
    parser.add_argument("--output", type=Path, help="default: standard output")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    if args.output:
        write_file(args.output, args.n, args.seed)
    else:
        write(sys.stdout, args.n, args.seed)


if __name__ == "__main__":
    main()
