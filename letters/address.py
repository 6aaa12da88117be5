"""The address block of a window envelope (SFS 2487 practice, see DESIGN.md).

Left edge 20 mm, first line about 46 mm from the top, at most 85 mm wide and 6 lines,
last line ``00100 JYVÄSKYLÄ``: postal code, one space, post office in capitals. A line
too wide for the window is wrapped at word breaks, never cut; an address that still
does not fit is refused with the reason.
"""
from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from letters.fonts import register
from pool.errors import OtosError
from pool.i18n import _

LEFT = 20 * mm
FIRST_LINE_FROM_TOP = 46 * mm
WIDTH = 85 * mm
MAX_LINES = 6
SIZE = 11
LEADING = 13


class AddressError(OtosError):
    """An address that cannot be printed in the window as it is."""


def _wrap(text: str, font: str) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if stringWidth(trial, font, SIZE) <= WIDTH:
            line = trial
            continue
        if line:
            lines.append(line)
        if stringWidth(word, font, SIZE) > WIDTH:
            raise AddressError(_("A word of the address is wider than the envelope window."),
                               hint=_("Shorten it by hand in the mailing list; it is never cut silently."))
        line = word
    if line:
        lines.append(line)
    return lines


def address_lines(name: str, street: str | None, postal_code: str | None, post_office: str | None) -> list[str]:
    """The lines of the window, wrapped to its width; AddressError says what is missing."""
    font, _x = register()
    missing = [what for what, value in ((_("street address"), street), (_("postal code"), postal_code),
                                        (_("post office"), post_office)) if not (value or "").strip()]
    if missing:
        raise AddressError(_("The address lacks: {join}.").format(join=', '.join(missing)), hint=_("The letter cannot be mailed as it is."))
    lines = _wrap(name, font) + _wrap(street, font) + [f"{postal_code} {post_office.upper()}"]
    if len(lines) > MAX_LINES:
        raise AddressError(_("The address needs {count} lines; an envelope window holds {max_lines}.").format(count=len(lines), max_lines=MAX_LINES))
    return lines
