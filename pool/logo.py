"""The county's logo for letters and reports: a PNG or an SVG file, checked once when
it is set and kept in the workspace database (so every official's letters carry the
same logo, whatever machine prints them).

A logo file is input like any other: it is refused unless it is a real PNG of sensible
size, or an SVG that refers to nothing outside itself (no DOCTYPE or entities, no
external images or links, no scripts), since an SVG can ask its reader to fetch files.
"""
from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from pool.i18n import _, number

MAX_BYTES = 512 * 1024
MAX_PIXELS = 4000 * 4000
_PNG = b"\x89PNG\r\n\x1a\n"
_UNSAFE_SVG = re.compile(rb"<!DOCTYPE|<!ENTITY|<script|<foreignObject|<image|\bon\w+\s*=|"
                         rb"href\s*=\s*[\"'](?!#)", re.IGNORECASE)


def read_logo(text: str) -> dict | None:
    """The ``logo`` setting from the path a user typed ("" removes the logo):
    {"type": "png" or "svg", "data": base64}. ValueError says what is wrong."""
    text = text.strip()
    if not text:
        return None
    path = Path(text).expanduser()
    if not path.is_file():
        raise ValueError(_("names no file: {text}").format(text=text))
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(_("is larger than {value} KB; save the logo smaller").format(value=MAX_BYTES // 1024))
    data = path.read_bytes()
    if data.startswith(_PNG):
        _check_png(data)
        kind = "png"
    elif re.match(rb"\s*(<\?xml|<!--|<!DOCTYPE\s+svg|<svg[\s>])", data) and b"<svg" in data[:4096]:
        _check_svg(data)
        kind = "svg"
    else:
        raise ValueError(_("is neither a PNG nor an SVG file"))
    return {"type": kind, "data": base64.b64encode(data).decode("ascii")}


def _check_png(data: bytes) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ValueError(_("is {width}x{height} pixels; at most {max_pixels} pixels are accepted").format(width=img.width, height=img.height, max_pixels=number(MAX_PIXELS)))
            img.verify()
    except ValueError:
        raise
    except Exception:
        raise ValueError(_("is not a readable PNG image")) from None


def _check_svg(data: bytes) -> None:
    if _UNSAFE_SVG.search(data):
        raise ValueError(_("is an SVG that refers outside itself (DOCTYPE, entities, images, links or scripts); export it again as plain shapes, or use a PNG"))
    if svg_drawing(data) is None:
        raise ValueError(_("is not an SVG image that can be drawn"))


def svg_drawing(data: bytes):
    """The SVG as a reportlab Drawing (None if it cannot be drawn). Entities are never
    resolved, and external references are confined to an empty folder."""
    import logging
    import tempfile

    from svglib.svglib import svg2rlg

    logging.getLogger("svglib").setLevel(logging.CRITICAL)  # its own messages could echo the file
    with tempfile.TemporaryDirectory() as empty:
        try:
            drawing = svg2rlg(io.BytesIO(data), resolve_entities=False, external_reference_root=empty)
        except Exception:
            return None
    if drawing is None or not (drawing.width > 0 and drawing.height > 0):
        return None
    return drawing


def logo_bytes(setting: dict | None) -> tuple[str, bytes] | None:
    """(type, file bytes) of a stored ``logo`` setting, or None."""
    if not setting:
        return None
    return setting["type"], base64.b64decode(setting["data"])
