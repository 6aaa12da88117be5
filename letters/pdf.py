"""The frame every Otos report and roster PDF shares: the shipped font embedded from the
first byte (a print shop's preflight rejects a referenced Helvetica), the title in the
file's properties and "sivu N / M" at the foot of every page."""
from __future__ import annotations

from typing import IO

from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import SimpleDocTemplate

from letters.fonts import register
from pool.i18n import _

FOOT_SIZE = 8


class NumberedCanvas(Canvas):
    """A canvas that holds each page until the end, so every page can say how many there are."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        regular, _x = register()
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            width = self._pagesize[0]
            self.setFont(regular, FOOT_SIZE)
            self.setFillGray(0.35)
            self.drawRightString(width - 36, 20, _("page {number} / {total}").format(number=number, total=total))
            super().showPage()
        super().save()


class Document(SimpleDocTemplate):
    def build(self, flowables, **kwargs):  # noqa: D102
        kwargs.setdefault("canvasmaker", NumberedCanvas)
        return super().build(flowables, **kwargs)


def document(out: str | IO[bytes], pagesize: tuple[float, float], title: str) -> Document:
    """A document template writing to ``out`` with the embedded font as its first font,
    ``title`` in its properties and page numbers."""
    regular, _x = register()
    return Document(out, pagesize=pagesize, title=title, author="Otos", creator="Otos",
                    initialFontName=regular, initialFontSize=10)
