"""The task table laid out by hand: columns as wide as their widest cell, measured in terminal
cells (`rich.cells`: a CJK character or an emoji takes two), the last column folded to the
terminal's width, and colour as plain SGR codes.

Why not Rich's `Table`: importing and rendering it costs about 35 ms, a seventh of the 250 ms
`mcp-server-todo list` may take from start to exit (bench/cli_bench.py); `rich.cells` alone
costs 2 ms. `show` and the progress bars still use Rich.

A cell is a list of segments `(text, style)`, the style being words of `STYLES` ("bold red",
"dim", "" for none).
"""

from __future__ import annotations

Segment = tuple[str, str]
Cell = list[Segment]

STYLES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}
"""The style words cells use, and their SGR codes."""

GAP = "  "
MIN_FOLD = 20
"""The last column is folded only if at least this many cells are left for it."""


def plain(cell: Cell) -> str:
    return "".join(text for text, _ in cell)


def sgr(style: str) -> str:
    """The SGR parameters of `style` ("bold red" → "1;31"); unknown words are ignored."""
    return ";".join(dict.fromkeys(STYLES[word] for word in style.split() if word in STYLES))


def paint(cell: Cell, color: bool, extra: str = "") -> str:
    """The cell's text, each styled segment wrapped in its SGR code when `color`; `extra` is
    a style added to every segment (a row's "dim")."""
    if not color:
        return plain(cell)
    out: list[str] = []
    for text, style in cell:
        codes = sgr(f"{extra} {style}".strip())
        out.append(f"\x1b[{codes}m{text}\x1b[0m" if codes and text else text)
    return "".join(out)


def fold(cell: Cell, width: int) -> list[Cell]:
    """`cell` cut into lines of at most `width` terminal cells (a wide character is never
    split), each segment keeping its style."""
    from rich.cells import chop_cells

    chunks = chop_cells(plain(cell), width)
    lines: list[Cell] = []
    segments = [(text, style) for text, style in cell if text]
    for chunk in chunks:
        line: Cell = []
        need = len(chunk)
        while need and segments:
            text, style = segments[0]
            taken = text[:need]
            line.append((taken, style))
            need -= len(taken)
            rest = text[len(taken) :]
            segments[0:1] = [(rest, style)] if rest else []
        lines.append(line)
    return lines or [[]]


def table(header: list[str], rows: list[tuple[list[Cell], str]], *, color: bool, width: int | None) -> list[str]:
    """The lines of a table: `header`, then each row (its cells and a style for the whole row),
    the columns separated by two spaces, no blank at a line's end. With `width` (a terminal's),
    the last column is folded to fit, its next lines starting under it."""
    from rich.cells import cell_len

    count = len(header)
    widths = [cell_len(name) for name in header]
    for cells, _ in rows:
        for index in range(count - 1):
            widths[index] = max(widths[index], cell_len(plain(cells[index])))
    start = sum(widths[:-1]) + len(GAP) * (count - 1)
    room = width - start if width is not None and width - start >= MIN_FOLD else None

    def line(cells: list[Cell], extra: str) -> list[str]:
        parts = []
        for index, cell in enumerate(cells[:-1]):
            pad = " " * (widths[index] - cell_len(plain(cell)))
            parts.append(paint(cell, color, extra) + pad + GAP)
        last = cells[-1]
        pieces = fold(last, room) if room is not None and cell_len(plain(last)) > room else [last]
        first = "".join(parts) + paint(pieces[0], color, extra)
        return [first.rstrip()] + [(" " * start + paint(piece, color, extra)).rstrip() for piece in pieces[1:]]

    out = line([[(name, "bold")] for name in header], "")
    for cells, extra in rows:
        out += line(cells, extra)
    return out
