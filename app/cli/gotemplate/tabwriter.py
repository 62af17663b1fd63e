"""Go's text/tabwriter as Docker's CLI uses it for ``table`` formats (minwidth 10, padding 3, spaces).

A cell is text ended by a tab; the last cell of a line is not part of a column. A column block is a run
of consecutive lines that have a cell in that column; its width is its widest cell plus the padding, and
at least the minimum width.
"""

from __future__ import annotations


def tabwrite(text: str, minwidth: int = 10, padding: int = 3) -> str:
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    widths: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            cells = lines[i]
            for j, c in enumerate(cells):
                out.append(c)
                if j < len(widths) and j < len(cells) - 1:
                    out.append(" " * (widths[j] - len(c)))
            if i + 1 < len(lines):
                out.append("\n")

    def format(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            widths.append(width)
            format(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    format(0, len(lines))
    return "".join(out)
