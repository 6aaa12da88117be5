"""Join PDF files that reportlab wrote into one, without holding them all in memory.

reportlab keeps every page of a document in memory until it saves, so a print batch is
drawn as several smaller documents (parts) and joined here. The join reads one part at
a time and copies its objects into the output with new numbers; only the byte offsets
of the objects written so far and the list of page numbers stay in memory.

This reads reportlab's own output only (a classic cross-reference table, one page tree
node, no object streams, no encryption); it is not a general PDF parser. Each part's
catalog, information dictionary and page tree are left out and written once for the
whole file. Font subsets keep their own objects per part; their subset tags (the
``AAAAAA+`` before a font name, which reportlab numbers from A in every document) are
renamed per part so that no two different subsets share a name in the joined file.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

_REF = re.compile(rb"(\d+) 0 R\b")
_OBJ = re.compile(rb"(\d+) 0 obj\b")
_TAG = re.compile(rb"/([A-Z]{6})\+")
_STREAM = b">>\nstream\n"


class JoinError(ValueError):
    """A part that is not the kind of PDF this module joins."""


def _xref(data: bytes) -> tuple[dict[int, int], int, int | None]:
    """Object offsets, the catalog's number and the info dictionary's number."""
    start = data.rfind(b"startxref")
    if start < 0:
        raise JoinError("no startxref")
    pos = int(data[start + 9:].split()[0])
    if not data.startswith(b"xref", pos):
        raise JoinError("not a classic cross-reference table")
    lines = data[pos:data.index(b"trailer", pos)].split(b"\n")
    first, count = (int(x) for x in lines[1].split())
    offsets = {}
    for i, line in enumerate(lines[2:2 + count]):
        fields = line.split()
        if len(fields) >= 3 and fields[2] == b"n":
            offsets[first + i] = int(fields[0])
    trailer = data[data.index(b"trailer", pos):start]
    root = re.search(rb"/Root (\d+) 0 R", trailer)
    info = re.search(rb"/Info (\d+) 0 R", trailer)
    if not root:
        raise JoinError("no /Root in the trailer")
    return offsets, int(root[1]), int(info[1]) if info else None


def _objects(data: bytes, offsets: dict[int, int]) -> dict[int, bytes]:
    """Each object's text after ``N 0 obj`` up to and including ``endobj``."""
    ends = sorted(offsets.values()) + [data.rfind(b"xref", 0, data.rfind(b"startxref"))]
    following = dict(zip(ends, ends[1:]))
    out = {}
    for number, offset in offsets.items():
        chunk = data[offset:following[offset]]
        header = _OBJ.match(chunk)
        if not header or int(header[1]) != number:
            raise JoinError(f"object {number} is not where the table says")
        out[number] = chunk[header.end():]
    return out


def _tag(part: int, tag: bytes) -> bytes:
    """A six-capital subset tag unique to (part, original tag)."""
    n = part * 26 ** 3 + sum((c - 65) * 26 ** i for i, c in enumerate(reversed(tag[-3:])))
    letters = []
    for _x in range(6):
        n, r = divmod(n, 26)
        letters.append(65 + r)
    return bytes(reversed(letters))


def join(parts: list[Path], out: BinaryIO, title: str = "") -> int:
    """Write the pages of ``parts``, in order, as one PDF to ``out``; returns the page count."""
    pages_number, catalog_number, info_number = 1, 2, 3
    offsets: list[int] = [0, 0, 0]  # index = object number - 1; the first three are written last
    kids: list[int] = []
    written = out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    for p, path in enumerate(parts):
        data = path.read_bytes()
        table, root, info = _xref(data)
        objects = _objects(data, table)
        pages = re.search(rb"/Pages (\d+) 0 R", objects[root])
        if not pages:
            raise JoinError(f"{path.name}: the catalog has no page tree")
        tree = int(pages[1])
        kid_refs = re.search(rb"/Kids \[([^\]]*)\]", objects[tree])
        if not kid_refs or b"/Kids" in objects[tree][kid_refs.end():]:
            raise JoinError(f"{path.name}: not a single-node page tree")
        numbers = {tree: pages_number}
        for old in sorted(objects):
            if old not in (root, info, tree):
                numbers[old] = len(offsets) + 1
                offsets.append(0)

        def renumber(m: re.Match) -> bytes:
            return b"%d 0 R" % numbers[int(m[1])]

        for old in sorted(objects):
            if old in (root, info, tree):
                continue
            body = objects[old]
            cut = body.find(_STREAM)
            head, stream = (body, b"") if cut < 0 else (body[:cut], body[cut:])
            head = _REF.sub(renumber, head)
            head = _TAG.sub(lambda m: b"/" + _tag(p, m[1]) + b"+", head)
            offsets[numbers[old] - 1] = written
            written += out.write(b"%d 0 obj" % numbers[old] + head + stream)
        kids.extend(numbers[int(k)] for k in _REF.findall(kid_refs[1]))
    safe_title = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1", "replace")
    for number, body in ((pages_number, b"<< /Type /Pages /Count %d /Kids [ %s ] >>" % (
                              len(kids), b" ".join(b"%d 0 R" % k for k in kids))),
                         (catalog_number, b"<< /Type /Catalog /Pages %d 0 R >>" % pages_number),
                         (info_number, b"<< /Producer (Otos) /Title (%s) >>" % safe_title)):
        offsets[number - 1] = written
        written += out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = written
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(offsets) + 1, catalog_number, info_number, xref))
    return len(kids)
