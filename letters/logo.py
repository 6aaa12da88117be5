"""Drawing the county's logo (``pool.logo``) on a reportlab canvas, fitted to a box."""
from __future__ import annotations

import io


def draw_logo(canvas, setting: dict | None, right: float, top: float, max_width: float, max_height: float) -> float:
    """Draw the logo with its top right corner at (right, top), scaled to fit the box;
    returns the height used (0 without a logo)."""
    from pool.logo import logo_bytes, svg_drawing

    found = logo_bytes(setting)
    if found is None:
        return 0.0
    kind, data = found
    if kind == "png":
        from reportlab.lib.utils import ImageReader

        image = ImageReader(io.BytesIO(data))
        w, h = image.getSize()
        scale = min(max_width / w, max_height / h)
        canvas.drawImage(image, right - w * scale, top - h * scale, w * scale, h * scale, mask="auto")
        return h * scale
    from reportlab.graphics import renderPDF

    drawing = svg_drawing(data)
    if drawing is None:
        return 0.0
    scale = min(max_width / drawing.width, max_height / drawing.height)
    drawing.scale(scale, scale)
    w, h = drawing.width * scale, drawing.height * scale
    drawing.width, drawing.height = w, h
    renderPDF.draw(drawing, canvas, right - w, top - h)
    return h
