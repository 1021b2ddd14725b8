"""A table column and how a cell fits it: plain data (no textual), shared by the tables' row
definitions and the widget that draws them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len, set_cell_size

ELLIPSIS = "…"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # cells, fixed: a change of data never measures a whole column again
    justify: Literal["left", "right"] = "left"
    fill: bool = False  # takes what the other columns leave of the table's width (`width` at least)
    # Its width in a compact table (VirtualTable.COMPACT_BELOW; 0: `width` there too).
    least: int = 0


def fit(text: str, width: int, justify: str = "left") -> str:
    """`text` in exactly `width` cells: padded, or cut with an ellipsis."""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + ELLIPSIS if width > 0 else ""
    pad = " " * (width - length)
    return pad + text if justify == "right" else text + pad
