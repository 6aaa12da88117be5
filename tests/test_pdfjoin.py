"""Joining reportlab documents page by page into one PDF."""
import io

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from letters import pdfjoin
from letters.fonts import register


def document(path, texts):
    regular, _ = register()
    c = Canvas(str(path), pageCompression=1)
    for text in texts:
        c.setFont(regular, 12)
        c.drawString(72, 700, text)
        c.showPage()
    c.save()
    return path


def test_pages_keep_their_order_text_and_fonts(tmp_path):
    parts = [document(tmp_path / "a.pdf", ["yksi", "kaksi"]), document(tmp_path / "b.pdf", ["kolme ŋ"]),
             document(tmp_path / "c.pdf", ["neljä (4)"])]
    out = io.BytesIO()
    assert pdfjoin.join(parts, out, title="Kutsut (kevät)") == 4
    data = out.getvalue()
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert [p.extract_text().strip() for p in reader.pages] == ["yksi", "kaksi", "kolme ŋ", "neljä (4)"]
    assert reader.metadata["/Title"] == "Kutsut (kevät)"
    start = data.rfind(b"startxref")
    table = data[int(data[start + 9:].split()[0]):data.rfind(b"trailer")].split(b"\n")[3:]
    offsets = [int(line.split()[0]) for line in table if line.strip()]
    assert all(data.startswith(b"%d 0 obj" % (i + 1), o) for i, o in enumerate(offsets))
    subsets = [p["/Resources"]["/Font"][k].get_object()["/BaseFont"] for p in reader.pages
               for k in p["/Resources"]["/Font"]]
    subsets = {s for s in subsets if "+" in s}
    assert len(subsets) == 3  # one DejaVu subset per part, each with its own tag


def test_a_file_that_is_not_a_reportlab_pdf_is_refused(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nnot really\n")
    with pytest.raises(pdfjoin.JoinError):
        pdfjoin.join([bad], io.BytesIO())
