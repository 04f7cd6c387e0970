"""Workflow files for the version tests: the Chain's v1 as shipped, and versions made from it."""

import shutil
from pathlib import Path
from typing import Any

import yaml

from app.core.config import PROJECT_ROOT

KEY = "qtsc-chain-admission"
SHIPPED = PROJECT_ROOT / "workflows"
NEW_DOCUMENT = "feasibility_study"


def chain(version: int = 1) -> dict[str, Any]:
    """The Chain's shipped file of `version`, as data."""
    text = (SHIPPED / f"{KEY}.v{version}.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def chain_v2() -> dict[str, Any]:
    """Version 2: the dossier needs a feasibility study as well to be submitted."""
    data = chain(1)
    data["version"] = 2
    data["document_types"][NEW_DOCUMENT] = {
        "label": {"vi": "Báo cáo nghiên cứu tiền khả thi", "en": "Pre-feasibility study"},
        "uploaded_by": ["applicant"],
        "upload_states": ["draft", "supplement_requested"],
    }
    submit = next(t for t in data["transitions"] if t["action"] == "submit")
    submit["documents"].append(NEW_DOCUMENT)
    return data


def write(directory: Path, data: dict[str, Any], name: str | None = None) -> Path:
    path = directory / (name or f"{data['key']}.v{data['version']}.yaml")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def directory_with(root: Path, *versions: dict[str, Any], shipped: bool = True) -> Path:
    """A workflows directory: the shipped files (unless `shipped` is false) and `versions`."""
    root.mkdir(parents=True, exist_ok=True)
    if shipped:
        for path in SHIPPED.glob("*.yaml"):
            shutil.copy(path, root / path.name)
    for data in versions:
        write(root, data)
    return root
