"""The names the loaded workflow files define, across every file: what a request may say.

The OpenAPI document lists them (workflow keys, states, actions and the fields each takes,
document types), and the service refuses with 422 exactly what falls outside them, before
it looks at any case; what a given case's workflow or state rules out is a 409 instead.
"""

from dataclasses import dataclass
from functools import cache

from app.engine.definition import DocumentTypeSpec
from app.engine.loader import WorkflowRegistry

# Every transition request may carry these, whatever its action.
ALWAYS_TAKEN = frozenset({"comment", "reason"})
SUPPLEMENT_DOCUMENTS = "supplement_documents"


@dataclass(frozen=True)
class Vocabulary:
    workflows: tuple[str, ...]
    states: tuple[str, ...]
    # Each action, with the request fields some transition of that name takes.
    actions: dict[str, frozenset[str]]
    # Document types a client uploads (letters are issued by the service).
    uploadable: tuple[str, ...]
    # Document types a supplement request may name: uploadable in every state such a
    # request leads to (or the dossier could never be resubmitted with them).
    supplement_documents: tuple[str, ...]


@cache
def of(registry: WorkflowRegistry) -> Vocabulary:
    definitions = [w.definition for w in registry]
    actions: dict[str, set[str]] = {}
    for definition in definitions:
        for t in definition.transitions:
            actions.setdefault(t.action, set(ALWAYS_TAKEN)).update(t.fields, t.optional_fields)
    uploadable = {
        name for d in definitions for name, t in d.document_types.items() if not t.generated
    }
    # Judged within each workflow (another file's types are no concern of its requests), then
    # taken together: a name some workflow accepts is well-formed; the case's decides (409).
    supplement: set[str] = set()
    for d in definitions:
        asking = [
            t.dest for t in d.transitions if SUPPLEMENT_DOCUMENTS in (*t.fields, *t.optional_fields)
        ]
        supplement.update(
            name
            for name, spec in d.document_types.items()
            if not spec.generated and all(_uploadable_in(spec, dest) for dest in asking)
        )
    return Vocabulary(
        workflows=tuple(sorted({d.key for d in definitions})),
        states=tuple(sorted({s for d in definitions for s in d.states})),
        actions={a: frozenset(f) for a, f in sorted(actions.items())},
        uploadable=tuple(sorted(uploadable)),
        supplement_documents=tuple(sorted(supplement)),
    )


def _uploadable_in(spec: DocumentTypeSpec | None, state: str) -> bool:
    return spec is not None and (spec.upload_states is None or state in spec.upload_states)
