"""Samples collected across runs, folded into tables of median and min–max, as text and Markdown."""

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    """One figure of one run: `table` / `row` / `column` = `value`."""

    table: str
    row: str
    column: str
    value: float


@dataclass
class Table:
    title: str
    note: str = ""
    rows: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    values: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    # Text shown in place of figures (a skipped row, a failed check).
    remarks: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)

    def add(self, row: str, column: str, value: float) -> None:
        if row not in self.rows:
            self.rows.append(row)
        if column not in self.columns:
            self.columns.append(column)
        self.values.setdefault((row, column), []).append(value)

    def cell(self, row: str, column: str) -> str:
        values = self.values.get((row, column))
        if not values:
            return ""
        fmt = self.formats.get(column, "{:,.0f}")
        middle = fmt.format(statistics.median(values))
        if len(values) == 1 or min(values) == max(values):
            return middle
        return f"{middle} ({fmt.format(min(values))}–{fmt.format(max(values))})"

    def grid(self) -> list[list[str]]:
        header = ["", *self.columns]
        if any(self.remarks.values()):
            header.append("note")
        lines = [header]
        for row in self.rows:
            line = [row, *(self.cell(row, c) for c in self.columns)]
            if len(header) > len(self.columns) + 1:
                line.append(self.remarks.get(row, ""))
            lines.append(line)
        return lines


class Report:
    """Every table of a benchmark run, in the order they were first filled."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}

    def table(self, title: str, note: str = "", formats: dict[str, str] | None = None) -> Table:
        table = self.tables.setdefault(title, Table(title))
        if note:
            table.note = note
        if formats:
            table.formats.update(formats)
        return table

    def add(self, samples: Iterable[Sample]) -> None:
        for s in samples:
            self.table(s.table).add(s.row, s.column, s.value)

    def remark(self, title: str, row: str, text: str) -> None:
        table = self.table(title)
        if row not in table.rows:
            table.rows.append(row)
        table.remarks[row] = text


def text_table(table: Table) -> str:
    grid = table.grid()
    widths = [max(len(line[i]) for line in grid) for i in range(len(grid[0]))]
    out = [table.title, "-" * len(table.title)]
    for n, line in enumerate(grid):
        cells = [
            cell.ljust(widths[i])
            if i == 0 or i == len(line) - 1 and table.remarks
            else cell.rjust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown_table(table: Table) -> str:
    grid = table.grid()
    out = [f"### {table.title}", ""]
    if table.note:
        out += [table.note, ""]
    out.append("| " + " | ".join(grid[0]) + " |")
    figures = range(1, len(table.columns) + 1)
    out.append("|" + "|".join("---:" if i in figures else "---" for i in range(len(grid[0]))) + "|")
    for line in grid[1:]:
        cells = [cell or "–" if i in figures else cell for i, cell in enumerate(line)]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)
