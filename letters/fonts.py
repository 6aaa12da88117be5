"""The embedded font: DejaVu Sans ships inside the package, registered once."""
from __future__ import annotations

from functools import cache
from importlib import resources

REGULAR = "OtosSans"
BOLD = "OtosSans-Bold"


@cache
def register() -> tuple[str, str]:
    """Register the shipped fonts with reportlab; returns (regular, bold) names."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = resources.files("letters") / "fonts"
    pdfmetrics.registerFont(TTFont(REGULAR, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    return REGULAR, BOLD
