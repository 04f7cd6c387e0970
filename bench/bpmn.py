"""Write the admission process of workflows/ as BPMN for SpiffWorkflow (bench/peer.py).

    python bench/bpmn.py            # rewrites bench/qtsc-chain-admission.bpmn

Each state where someone acts is a user task; the action chosen (the task's `action` datum) is
routed by an exclusive gateway after it, one conditional flow per transition of the workflow
file; a terminal state is an end event. `@return` (resubmit) becomes one flow per state it can
return to, on the `return_state` datum. Roles, documents and deadlines are not modelled: BPMN
lanes and data objects could carry them, but SpiffWorkflow would not enforce them either.
"""

import sys
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.admission.registry import load_workflows  # noqa: E402
from app.engine.definition import RETURN_TO_REQUESTER, WorkflowDefinition  # noqa: E402

OUTPUT = Path(__file__).with_name("qtsc-chain-admission.bpmn")
WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
PROCESS_ID = "qtsc_chain_admission"


def _flows(definition: WorkflowDefinition) -> list[tuple[str, str, str]]:
    """(source gateway's state, target element, condition) for every transition."""
    flows = []
    for t in definition.transitions:
        for source in t.source:
            if t.dest == RETURN_TO_REQUESTER:
                for target in definition.return_targets(t):
                    condition = f"action == '{t.action}' and return_state == '{target}'"
                    flows.append((source, target, condition))
            else:
                flows.append((source, t.dest, f"action == '{t.action}'"))
    return flows


def render(definition: WorkflowDefinition) -> str:
    acting = [name for name, s in definition.states.items() if not s.terminal]
    final = [name for name, s in definition.states.items() if s.terminal]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!-- Written by bench/bpmn.py from workflows/"
        f"{definition.key}.v{definition.version}.yaml -->",
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' id="admission" targetNamespace="https://qtsc.example/admission">',
        f'  <bpmn:process id="{PROCESS_ID}" isExecutable="true">',
        '    <bpmn:startEvent id="start" />',
        f'    <bpmn:sequenceFlow id="start_to_{definition.initial}" sourceRef="start"'
        f' targetRef="{definition.initial}" />',
    ]
    for name in acting:
        label = quoteattr(definition.states[name].label.en)
        lines.append(f'    <bpmn:userTask id="{name}" name={label} />')
        lines.append(f'    <bpmn:exclusiveGateway id="{name}_choice" />')
        lines.append(
            f'    <bpmn:sequenceFlow id="{name}_to_choice" sourceRef="{name}"'
            f' targetRef="{name}_choice" />'
        )
    for name in final:
        label = quoteattr(definition.states[name].label.en)
        lines.append(f'    <bpmn:endEvent id="{name}" name={label} />')
    for n, (source, target, condition) in enumerate(_flows(definition)):
        lines += [
            f'    <bpmn:sequenceFlow id="flow_{n}" sourceRef="{source}_choice"'
            f' targetRef="{target}">',
            f"      <bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>",
            "    </bpmn:sequenceFlow>",
        ]
    lines += ["  </bpmn:process>", "</bpmn:definitions>", ""]
    return "\n".join(lines)


def main() -> None:
    workflow = load_workflows(WORKFLOWS).latest("qtsc-chain-admission")
    assert workflow is not None
    OUTPUT.write_text(render(workflow.definition), encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
