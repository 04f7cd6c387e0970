"""What a case must hold to stand in a state: the documents every way into it requires.

A case reaches a state only through transitions, each requiring documents on file. The
documents a state implies are those required on every path from the initial state to it:
the greatest fixed point of  needs(S) = ⋂ over moves P -> S (P ≠ S) of (documents(t) ∪ needs(P)),
with needs(initial) = ∅. A migration to another version uses it: a case moved into a state
must hold what the new version requires there and the old one did not.
"""

from app.engine.definition import WorkflowDefinition


def documents_implied(definition: WorkflowDefinition) -> dict[str, frozenset[str]]:
    everything = frozenset(definition.document_types)
    needs = {name: everything for name in definition.states}
    needs[definition.initial] = frozenset()
    into: dict[str, list[tuple[str, frozenset[str]]]] = {name: [] for name in definition.states}
    for t in definition.transitions:
        for dest in definition.destinations(t):
            for source in t.source:
                if source != dest:
                    into[dest].append((source, frozenset(t.documents)))
    changed = True
    while changed:
        changed = False
        for name, moves in into.items():
            if name == definition.initial or not moves:
                continue
            found = frozenset.intersection(*(docs | needs[source] for source, docs in moves))
            if found != needs[name]:
                needs[name], changed = found, True
    return needs
