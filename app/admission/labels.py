"""What a `missing` entry names, in words: a document by its checklist label, a request field
by its name in the form, in Vietnamese or English."""

from functools import cache

from app.cases.schemas import AllowedAction, Missing
from app.core.i18n import Lang
from app.engine.loader import WorkflowRegistry
from app.engine.workflow import Workflow

FIELDS: dict[str, tuple[str, str]] = {
    "reason": ("Lý do", "Reason"),
    "comment": ("Ghi chú", "Comment"),
    "decision_number": ("Số quyết định", "Decision number"),
    "decision_date": ("Ngày quyết định", "Decision date"),
    "ministries": ("Các Bộ, ngành được hỏi ý kiến", "Ministries to consult"),
    "new_due_date": ("Hạn mới", "New due date"),
    "supplement_documents": ("Tài liệu cần bổ sung", "Documents to supply"),
    "verdict": ("Ý kiến", "Verdict"),
}


@cache
def _document_labels(registry: WorkflowRegistry) -> dict[str, tuple[str, str]]:
    labels: dict[str, tuple[str, str]] = {}
    for wf in registry:
        for name, spec in wf.definition.document_types.items():
            labels.setdefault(name, (spec.label.vi, spec.label.en))
    return labels


def label(
    kind: str, name: str, lang: Lang, registry: WorkflowRegistry, workflow: Workflow | None = None
) -> str | None:
    pair: tuple[str, str] | None = None
    if kind == "document":
        spec = workflow.definition.document_types.get(name) if workflow else None
        pair = (spec.label.vi, spec.label.en) if spec else _document_labels(registry).get(name)
    elif kind == "field":
        pair = FIELDS.get(name)
    if pair is None:
        return None
    return pair[0] if lang == "vi" else pair[1]


def labelled(
    missing: list[Missing], lang: Lang, registry: WorkflowRegistry, workflow: Workflow | None
) -> list[Missing]:
    return [
        m.model_copy(update={"label": label(m.kind, m.name, lang, registry, workflow)})
        for m in missing
    ]


def labelled_actions(
    actions: list[AllowedAction], lang: Lang, registry: WorkflowRegistry, workflow: Workflow
) -> list[AllowedAction]:
    return [
        a.model_copy(update={"missing": labelled(a.missing, lang, registry, workflow)})
        for a in actions
    ]


def label_dicts(items: list[dict[str, object]], lang: Lang, registry: WorkflowRegistry) -> None:
    """Label `missing` entries already turned into dicts (an error's details), in place."""
    for item in items:
        text = label(str(item.get("kind")), str(item.get("name")), lang, registry)
        if text is not None:
            item["label"] = text
