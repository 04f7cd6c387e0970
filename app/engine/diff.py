"""What changes between two versions of a workflow, in sentences an official can read.

Each line names the thing by its label (in the language asked) and its key, and says what
was added, removed or changed: states and their deadlines and who acts, document types, the
documents and fields each transition needs, who may fire it and where it leads.
"""

from typing import Literal

from app.engine.definition import Label, TransitionSpec, WorkflowDefinition

Lang = Literal["vi", "en"]

WORDS: dict[str, dict[Lang, str]] = {
    "header": {
        "vi": "{key}: phiên bản {old} → phiên bản {new}",
        "en": "{key}: version {old} → version {new}",
    },
    "same": {"vi": "Không có thay đổi.", "en": "No differences."},
    "title": {"vi": "Tên quy trình: «{old}» → «{new}»", "en": "Title: “{old}” → “{new}”"},
    "states": {"vi": "Trạng thái", "en": "States"},
    "documents": {"vi": "Thành phần hồ sơ", "en": "Documents"},
    "transitions": {"vi": "Thao tác", "en": "Actions"},
    "deadlines": {"vi": "Thời hạn", "en": "Deadlines"},
    "state_added": {"vi": "+ thêm trạng thái {name}", "en": "+ new state {name}"},
    "state_removed": {"vi": "- bỏ trạng thái {name}", "en": "- state {name} removed"},
    "label": {"vi": "~ {name}: đổi tên thành «{new}»", "en": "~ {name}: now called “{new}”"},
    "acting": {
        "vi": "~ {name}: người xử lý {old} → {new}",
        "en": "~ {name}: handled by {old} → {new}",
    },
    "terminal": {"vi": "~ {name}: {what}", "en": "~ {name}: {what}"},
    "ends": {"vi": "nay là trạng thái kết thúc", "en": "now ends the procedure"},
    "no_longer_ends": {
        "vi": "không còn là trạng thái kết thúc",
        "en": "no longer ends the procedure",
    },
    "deadline_changed": {
        "vi": "~ {name}: {old} → {new} ngày làm việc",
        "en": "~ {name}: {old} → {new} working days",
    },
    "deadline_added": {
        "vi": "+ {name}: thời hạn {new} ngày làm việc",
        "en": "+ {name}: a deadline of {new} working days",
    },
    "deadline_removed": {
        "vi": "- {name}: bỏ thời hạn ({old} ngày làm việc)",
        "en": "- {name}: no deadline any more (was {old} working days)",
    },
    "consultation_deadline": {
        "vi": "~ ý kiến của Bộ, ngành: {old} → {new} ngày làm việc",
        "en": "~ opinions of the consulted ministries: {old} → {new} working days",
    },
    "doc_added": {
        "vi": "+ thêm thành phần {name}, do {who} nộp",
        "en": "+ new document {name}, uploaded by {who}",
    },
    "doc_removed": {"vi": "- bỏ thành phần {name}", "en": "- document {name} removed"},
    "doc_who": {
        "vi": "~ {name}: người nộp {old} → {new}",
        "en": "~ {name}: uploaded by {old} → {new}",
    },
    "action_added": {
        "vi": "+ thêm thao tác {action} từ {source} đến {dest}",
        "en": "+ new action {action} from {source} to {dest}",
    },
    "action_removed": {
        "vi": "- bỏ thao tác {action} từ {source}",
        "en": "- action {action} from {source} removed",
    },
    "dest": {
        "vi": "~ {action} từ {source}: nay dẫn đến {new} (trước là {old})",
        "en": "~ {action} from {source}: now leads to {new} (was {old})",
    },
    "roles": {
        "vi": "~ {action} từ {source}: người thực hiện {old} → {new}",
        "en": "~ {action} from {source}: done by {old} → {new}",
    },
    "needs_doc": {
        "vi": "~ {action} từ {source}: nay cần {name}",
        "en": "~ {action} from {source}: now requires {name}",
    },
    "drops_doc": {
        "vi": "~ {action} từ {source}: không còn cần {name}",
        "en": "~ {action} from {source}: no longer requires {name}",
    },
    "needs_field": {
        "vi": "~ {action} từ {source}: nay phải ghi {name}",
        "en": "~ {action} from {source}: now asks for {name}",
    },
    "drops_field": {
        "vi": "~ {action} từ {source}: không còn phải ghi {name}",
        "en": "~ {action} from {source}: no longer asks for {name}",
    },
}


def _say(lang: Lang, word: str, **values: object) -> str:
    return WORDS[word][lang].format(**values)


def _label(label: Label, key: str, lang: Lang) -> str:
    text = label.vi if lang == "vi" else label.en
    return f"“{text}” ({key})"


def _roles(roles: tuple[object, ...]) -> str:
    return ", ".join(str(getattr(r, "value", r)) for r in roles) or "—"


def _transitions(d: WorkflowDefinition) -> dict[tuple[str, str], TransitionSpec]:
    return {(t.action, source): t for t in d.transitions for source in t.source}


def describe(old: WorkflowDefinition, new: WorkflowDefinition, lang: Lang = "vi") -> list[str]:
    lines = [_say(lang, "header", key=new.key, old=old.version, new=new.version)]
    sections: list[tuple[str, list[str]]] = [
        ("states", _states(old, new, lang)),
        ("deadlines", _deadlines(old, new, lang)),
        ("documents", _documents(old, new, lang)),
        ("transitions", _actions(old, new, lang)),
    ]
    if old.title != new.title:
        lines.append(
            _say(
                lang,
                "title",
                old=old.title.vi if lang == "vi" else old.title.en,
                new=new.title.vi if lang == "vi" else new.title.en,
            )
        )
    changed = len(lines) > 1
    for heading, found in sections:
        if found:
            changed = True
            lines.append(WORDS[heading][lang])
            lines.extend(f"  {line}" for line in found)
    if not changed:
        lines.append(WORDS["same"][lang])
    return lines


def _state_name(d: WorkflowDefinition, name: str, lang: Lang) -> str:
    spec = d.states.get(name)
    return _label(spec.label, name, lang) if spec else name


def _states(old: WorkflowDefinition, new: WorkflowDefinition, lang: Lang) -> list[str]:
    lines = []
    for name, spec in new.states.items():
        if name not in old.states:
            lines.append(_say(lang, "state_added", name=_label(spec.label, name, lang)))
            continue
        before = old.states[name]
        shown = _label(before.label, name, lang)
        if before.label != spec.label:
            text = spec.label.vi if lang == "vi" else spec.label.en
            lines.append(_say(lang, "label", name=shown, new=text))
        if before.acting_roles != spec.acting_roles:
            lines.append(
                _say(
                    lang,
                    "acting",
                    name=shown,
                    old=_roles(before.acting_roles),
                    new=_roles(spec.acting_roles),
                )
            )
        if before.terminal != spec.terminal:
            what = "ends" if spec.terminal else "no_longer_ends"
            lines.append(_say(lang, "terminal", name=shown, what=WORDS[what][lang]))
    for name, spec in old.states.items():
        if name not in new.states:
            lines.append(_say(lang, "state_removed", name=_label(spec.label, name, lang)))
    return lines


def _deadlines(old: WorkflowDefinition, new: WorkflowDefinition, lang: Lang) -> list[str]:
    lines = []
    for name, spec in new.states.items():
        before = old.states.get(name)
        if before is None:
            continue
        a, b = before.deadline_working_days, spec.deadline_working_days
        shown = _label(spec.label, name, lang)
        if a == b:
            continue
        if a is None:
            lines.append(_say(lang, "deadline_added", name=shown, new=b))
        elif b is None:
            lines.append(_say(lang, "deadline_removed", name=shown, old=a))
        else:
            lines.append(_say(lang, "deadline_changed", name=shown, old=a, new=b))
    if old.consultation and new.consultation:
        a, b = old.consultation.deadline_working_days, new.consultation.deadline_working_days
        if a != b:
            lines.append(_say(lang, "consultation_deadline", old=a, new=b))
    return lines


def _documents(old: WorkflowDefinition, new: WorkflowDefinition, lang: Lang) -> list[str]:
    lines = []
    for name, spec in new.document_types.items():
        shown = _label(spec.label, name, lang)
        before = old.document_types.get(name)
        if before is None:
            lines.append(_say(lang, "doc_added", name=shown, who=_roles(spec.uploaded_by)))
            continue
        if before.label != spec.label:
            text = spec.label.vi if lang == "vi" else spec.label.en
            lines.append(_say(lang, "label", name=_label(before.label, name, lang), new=text))
        if before.uploaded_by != spec.uploaded_by:
            lines.append(
                _say(
                    lang,
                    "doc_who",
                    name=shown,
                    old=_roles(before.uploaded_by),
                    new=_roles(spec.uploaded_by),
                )
            )
    for name, spec in old.document_types.items():
        if name not in new.document_types:
            lines.append(_say(lang, "doc_removed", name=_label(spec.label, name, lang)))
    return lines


def _doc_name(d: WorkflowDefinition, name: str, lang: Lang) -> str:
    spec = d.document_types.get(name)
    return _label(spec.label, name, lang) if spec else name


def _actions(old: WorkflowDefinition, new: WorkflowDefinition, lang: Lang) -> list[str]:
    lines = []
    before_all, after_all = _transitions(old), _transitions(new)
    for (action, source), t in after_all.items():
        where = {"action": action, "source": _state_name(new, source, lang)}
        before = before_all.get((action, source))
        if before is None:
            dests = ", ".join(_state_name(new, d, lang) for d in new.destinations(t))
            lines.append(_say(lang, "action_added", dest=dests, **where))
            continue
        if old.destinations(before) != new.destinations(t):
            lines.append(
                _say(
                    lang,
                    "dest",
                    old=", ".join(_state_name(old, d, lang) for d in old.destinations(before)),
                    new=", ".join(_state_name(new, d, lang) for d in new.destinations(t)),
                    **where,
                )
            )
        if before.roles != t.roles:
            lines.append(
                _say(lang, "roles", old=_roles(before.roles), new=_roles(t.roles), **where)
            )
        was, now = set(before.needed_documents), set(t.needed_documents)
        for doc in t.needed_documents:
            if doc not in was:
                lines.append(_say(lang, "needs_doc", name=_doc_name(new, doc, lang), **where))
        for doc in before.needed_documents:
            if doc not in now:
                lines.append(_say(lang, "drops_doc", name=_doc_name(old, doc, lang), **where))
        for name in t.fields:
            if name not in before.fields:
                lines.append(_say(lang, "needs_field", name=name, **where))
        for name in before.fields:
            if name not in t.fields:
                lines.append(_say(lang, "drops_field", name=name, **where))
    for (action, source), _ in before_all.items():
        if (action, source) not in after_all:
            lines.append(
                _say(lang, "action_removed", action=action, source=_state_name(old, source, lang))
            )
    return lines
