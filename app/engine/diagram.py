"""The workflow diagram as SVG, laid out from the definition itself (never drawn by hand).

States sit in columns by their distance from the initial state (breadth-first), in file order
within a column. Forward moves are arrows to the right; moves back (a resubmission, a closed
consultation) bend below the boxes; a move that stays in its state is a loop above its box.
Only presentation attributes are used (no <style>, no script), so the SVG can be inlined in a
page under a strict Content-Security-Policy.
"""

import textwrap
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from app.engine.definition import WorkflowDefinition

Lang = Literal["vi", "en"]

BOX_W, BOX_H = 176, 58
COL_PITCH, ROW_PITCH = 270, 92
MARGIN, BACK_LANE = 28, 26
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif"
INK, MUTED, LINE = "#1a1a1a", "#4a4a4a", "#5b6470"
CURRENT_FILL, CURRENT_EDGE = "#fff4c2", "#8a5a00"


@dataclass(frozen=True)
class Box:
    name: str
    x: float
    y: float

    @property
    def cx(self) -> float:
        return self.x + BOX_W / 2


def levels(definition: WorkflowDefinition) -> dict[str, int]:
    """Each state's distance from the initial state, following the transitions."""
    edges: dict[str, list[str]] = defaultdict(list)
    for t in definition.transitions:
        for source in t.source:
            edges[source].extend(definition.destinations(t))
    level = {definition.initial: 0}
    frontier = [definition.initial]
    while frontier:
        following: list[str] = []
        for state in frontier:
            for dest in edges[state]:
                if dest not in level:
                    level[dest] = level[state] + 1
                    following.append(dest)
        frontier = following
    deepest = max(level.values(), default=0)
    for name in definition.states:  # unreachable states cannot load, but never lose a box
        level.setdefault(name, deepest + 1)
    return level


def _layout(definition: WorkflowDefinition) -> dict[str, Box]:
    level = levels(definition)
    rows: dict[int, int] = defaultdict(int)
    boxes: dict[str, Box] = {}
    ordered = sorted(definition.states, key=lambda n: definition.states[n].terminal)
    for name in ordered:
        column = level[name]
        boxes[name] = Box(name, MARGIN + column * COL_PITCH, MARGIN + 34 + rows[column] * ROW_PITCH)
        rows[column] += 1
    return boxes


def _edges(definition: WorkflowDefinition) -> dict[tuple[str, str], list[str]]:
    """(source, destination) -> the actions that make that move, in file order."""
    moves: dict[tuple[str, str], list[str]] = {}
    for t in definition.transitions:
        for source in t.source:
            for dest in definition.destinations(t):
                actions = moves.setdefault((source, dest), [])
                if t.action not in actions:
                    actions.append(t.action)
    return moves


def _text(x: float, y: float, content: str, size: int, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-family="{FONT}"{extra}>'
        f"{escape(content)}</text>"
    )


def _edge_label(x: float, y: float, actions: list[str]) -> str:
    return _text(
        x,
        y,
        ", ".join(actions),
        10,
        fill=MUTED,
        text_anchor="middle",
        stroke="#ffffff",
        stroke_width="3",
        paint_order="stroke",
    )


def render_svg(
    definition: WorkflowDefinition, lang: Lang = "vi", current: str | None = None
) -> str:
    """The diagram of `definition` with labels in `lang`; `current` is marked if given."""
    boxes = _layout(definition)
    width = max(b.x for b in boxes.values()) + BOX_W + MARGIN
    boxes_bottom = max(b.y for b in boxes.values()) + BOX_H
    moves = _edges(definition)
    back_moves = [(s, d) for (s, d) in moves if s != d and boxes[d].x <= boxes[s].x]
    height = boxes_bottom + BACK_LANE * (len(back_moves) + 1) + MARGIN
    title = definition.title.vi if lang == "vi" else definition.title.en
    current_label = "trạng thái hiện tại" if lang == "vi" else "current state"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-labelledby="wf-title" '
        f'class="workflow-diagram">',
        f'<title id="wf-title">{escape(title)}</title>',
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{LINE}"/></marker></defs>',
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        _text(MARGIN, MARGIN + 4, title, 15, fill=INK, font_weight="600"),
    ]

    lane = 0
    for (source, dest), actions in moves.items():
        a, b = boxes[source], boxes[dest]
        if source == dest:
            x0, x1, y = a.x + BOX_W * 0.3, a.x + BOX_W * 0.7, a.y
            out.append(
                f'<path d="M{x0:.1f},{y:.1f} C{x0:.1f},{y - 26:.1f} {x1:.1f},{y - 26:.1f} '
                f'{x1:.1f},{y:.1f}" fill="none" stroke="{LINE}" stroke-width="1.3" '
                f'marker-end="url(#arrow)"><title>{escape(", ".join(actions))}</title></path>'
            )
            out.append(_edge_label(a.cx, y - 22, actions))
        elif b.x > a.x:
            x0, y0 = a.x + BOX_W, a.y + BOX_H / 2
            x1, y1 = b.x, b.y + BOX_H / 2
            mid = (x0 + x1) / 2
            out.append(
                f'<path d="M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} '
                f'{x1 - 2:.1f},{y1:.1f}" fill="none" stroke="{LINE}" stroke-width="1.3" '
                f'marker-end="url(#arrow)"><title>{escape(", ".join(actions))}</title></path>'
            )
            out.append(_edge_label(mid, (y0 + y1) / 2 - 4, actions))
        else:
            lane += 1
            floor = boxes_bottom + BACK_LANE * lane
            # Down the gap left of the source and up the gap right of the target, so that
            # the line never crosses a box.
            x0, y0 = a.x, a.y + BOX_H / 2 + 8
            gx0 = a.x - 8 - 3 * (lane % 4)
            x1, y1 = b.x + BOX_W, b.y + BOX_H / 2 + 8
            gx1 = b.x + BOX_W + 8 + 3 * (lane % 4)
            out.append(
                f'<path d="M{x0:.1f},{y0:.1f} L{gx0:.1f},{y0:.1f} L{gx0:.1f},{floor:.1f} '
                f'L{gx1:.1f},{floor:.1f} L{gx1:.1f},{y1:.1f} L{x1 + 2:.1f},{y1:.1f}" '
                f'fill="none" stroke="{LINE}" stroke-width="1.1" '
                f'stroke-dasharray="5 3" marker-end="url(#arrow)">'
                f"<title>{escape(', '.join(actions))}</title></path>"
            )
            x0, x1 = gx0, gx1
            out.append(_edge_label((x0 + x1) / 2, floor - 4, actions))

    for name, box in boxes.items():
        spec = definition.states[name]
        label = spec.label.vi if lang == "vi" else spec.label.en
        is_current = name == current
        fill = CURRENT_FILL if is_current else ("#eef0f3" if spec.terminal else "#e8f1fb")
        edge = CURRENT_EDGE if is_current else ("#7a808a" if spec.terminal else "#2b5c8a")
        attrs = ' aria-current="step"' if is_current else ""
        out.append(f'<g class="state" data-state="{escape(name)}"{attrs}>')
        accessible = f"{label} ({current_label})" if is_current else label
        out.append(f"<title>{escape(accessible)}</title>")
        out.append(
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{BOX_W}" height="{BOX_H}" '
            f'rx="{14 if spec.terminal else 6}" fill="{fill}" stroke="{edge}" '
            f'stroke-width="{3.5 if is_current else 1.4}"/>'
        )
        lines = textwrap.wrap(label, 24)[:3] or [name]
        first = box.y + BOX_H / 2 - (len(lines) - 1) * 7 + 4
        for index, line in enumerate(lines):
            out.append(
                _text(
                    box.cx,
                    first + index * 14,
                    line,
                    12,
                    fill=INK,
                    text_anchor="middle",
                    font_weight="700" if is_current else "400",
                )
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _mermaid_text(value: str) -> str:
    """A label inside Mermaid's double quotes: quotes and line breaks as its entity codes."""
    return value.replace('"', "#quot;").replace("\n", " ")


def render_mermaid(
    definition: WorkflowDefinition, lang: Lang = "vi", current: str | None = None
) -> str:
    """The same diagram as Mermaid text (`stateDiagram-v2`), for documents and wikis that
    render it: states with their labels in `lang`, one arrow per move with its actions, the
    terminal states ending in [*], `current` in the highlighted class if given."""
    lines = ["stateDiagram-v2", f"    %% {definition.key} v{definition.version}"]
    for name, spec in definition.states.items():
        label = spec.label.vi if lang == "vi" else spec.label.en
        lines.append(f'    state "{_mermaid_text(label)}" as {name}')
    lines.append(f"    [*] --> {definition.initial}")
    for (source, dest), actions in _edges(definition).items():
        lines.append(f"    {source} --> {dest}: {', '.join(actions)}")
    for name, spec in definition.states.items():
        if spec.terminal:
            lines.append(f"    {name} --> [*]")
    if current is not None:
        lines.append(
            f"    classDef current fill:{CURRENT_FILL},stroke:{CURRENT_EDGE},stroke-width:2px"
        )
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"
