"""A print batch: one PDF of invitation letters for a recruitment round, in postal-code
order, and the mailing list a print house expects beside it.

People who cannot be mailed (turvakielto, deceased, no domestic address) never appear
in the PDF or the list; the batch summary counts them by reason. Both files are
written with owner-only permissions: they hold personal data.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import multiprocessing as mp
import os
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from PIL import Image
from reportlab.graphics.barcode import qrencoder
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from letters.address import FIRST_LINE_FROM_TOP, LEADING, LEFT, SIZE, AddressError, address_lines
from letters.fonts import register
from letters.language import letter_languages
from letters.template import Template, check_values, load_template
from pool import audit, codes
from pool.private import open_private
from pool.errors import ImportCancelled, OtosError
from pool.models import Extract, Invitation, Person

PAGE_W, PAGE_H = A4
PARALLEL_QR_MIN = 400  # from this many letters a second process encodes the QR codes
TEXT_WIDTH = PAGE_W - 2 * LEFT


@dataclass
class LetterSettings:
    county: str = "Keski-Suomen hyvinvointialue"
    sender: tuple[str, ...] = ("Keski-Suomen hyvinvointialue", "Osallisuuspalvelut", "PL 1", "40101 JYVÄSKYLÄ")
    topic: str = "hyvinvointialueen palvelut"
    reply_by: str = ""
    compensation: str = "30 euron palkkio"
    contact_phone: str = "014 000 0000"
    register_url: str = "https://osallistu.example.fi/paneeli"
    english_for_others: bool = True
    templates: str | None = None


@dataclass
class BatchReport:
    pdf: Path
    mailing_list: Path
    letters: int
    left_out: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _reason(p: Person | None) -> str | None:
    if p is None:
        return "register data already purged"
    if p.turvakielto:
        return "turvakielto (no contact address)"
    if p.deceased:
        return "deceased"
    if not p.mailable:
        return "no domestic address"
    return None


def _draw_letter(c: Canvas, t: Template, values: dict[str, str], lines: list[str], settings: LetterSettings,
                 today: dt.date, qr: Image.Image | None = None) -> None:
    regular, bold = register()
    top = PAGE_H
    c.setFont(regular, 9)
    for i, line in enumerate(settings.sender):  # return address above the window
        c.drawString(LEFT, top - 15 * mm - i * 11, line)
    c.drawRightString(PAGE_W - LEFT, top - 15 * mm, f"{today.day}.{today.month}.{today.year}")
    c.setFont(regular, SIZE)
    for i, line in enumerate(lines):
        c.drawString(LEFT, top - FIRST_LINE_FROM_TOP - i * LEADING, line)
    paragraphs = t.fill(values)
    y = top - 100 * mm
    c.setFont(bold, 14)
    for line in simpleSplit(paragraphs[0], bold, 14, TEXT_WIDTH):
        c.drawString(LEFT, y, line)
        y -= 18
    y -= 6
    for para in paragraphs[1:]:
        small = para.startswith(("Tietosuoja", "Dataskydd", "Privacy"))
        size = 8 if small else 10.5
        c.setFont(regular, size)
        for line in simpleSplit(para, regular, size, TEXT_WIDTH):
            c.drawString(LEFT, y, line)
            y -= size * 1.35
        y -= 6
        if para.startswith(("Ilmoittaudu", "Anmäl", "Register")):
            _draw_code(c, values, settings, y, qr)
            y -= 34 * mm


def _draw_code(c: Canvas, values: dict[str, str], settings: LetterSettings, y: float,
               qr: Image.Image | None) -> None:
    regular, bold = register()
    c.setFont(regular, 10)
    c.drawString(LEFT, y - 4 * mm, "Vastauskoodisi / Din svarskod / Your response code:")
    c.setFont(bold, 24)
    c.drawString(LEFT, y - 16 * mm, values["code"])
    side = 28 * mm
    image = qr or qr_image(qr_text(settings, values["code"]))
    c.drawInlineImage(image, PAGE_W - LEFT - side, y - 30 * mm, side, side)


def qr_text(settings: LetterSettings, code: str) -> str:
    return f"{settings.register_url}?code={code.replace('-', '')}"


def qr_pixels(text: str) -> tuple[int, bytes]:
    """A QR code of ``text`` as (side, 8-bit pixels): one pixel per module, quiet zone.

    A fixed mask pattern (any of the eight is valid QR) instead of trying all eight; an
    image instead of a path of rectangles: both keep a letter cheap to render.
    """
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.version = qr.calculate_version()
    qr.makeImpl(False, 0)
    n = qr.getModuleCount()
    quiet = 4
    size = n + 2 * quiet
    pixels = bytearray(b"\xff" * (size * size))
    for row in range(n):
        base = (row + quiet) * size + quiet
        for col, dark in enumerate(qr.modules[row]):
            if dark:
                pixels[base + col] = 0
    return size, bytes(pixels)


def qr_image(text: str) -> Image.Image:
    size, pixels = qr_pixels(text)
    return Image.frombytes("L", (size, size), pixels).convert("1")


def _qr_stream(texts: list[str]) -> Iterator[Image.Image]:
    """QR images in order. For big batches a second process encodes them while this one
    draws pages (encoding is most of a letter's cost)."""
    if len(texts) < PARALLEL_QR_MIN or (os.cpu_count() or 1) < 2:
        for text in texts:
            yield qr_image(text)
        return
    ctx = mp.get_context("spawn")  # never fork a process that may run UI threads
    with ctx.Pool(1) as pool:
        for size, pixels in pool.imap(qr_pixels, texts, chunksize=100):
            yield Image.frombytes("L", (size, size), pixels).convert("1")


def _batch_values(settings: LetterSettings, today: dt.date) -> dict[str, str]:
    """Template values shared by every letter of a batch."""
    return {"county": settings.county, "topic": settings.topic,
            "reply_by": settings.reply_by or f"{(today + dt.timedelta(days=21)):%-d.%-m.%Y}",
            "compensation": settings.compensation, "contact_phone": settings.contact_phone,
            "register_url": settings.register_url}


def _letter_values(inv: Invitation, person: Person, ext: Extract) -> dict[str, str]:
    """Template values of one letter."""
    return {"first_names": person.first_names.split()[0], "code": codes.display(inv.response_code),
            "permit": ext.permit, "delete_by": f"{ext.delete_by:%-d.%-m.%Y}"}


def print_round(engine: Engine, round_name: str, out: str | Path, settings: LetterSettings | None = None, *,
                reminder: bool = False, progress: Callable[[float, str], None] | None = None,
                cancelled: Callable[[], bool] | None = None, today: dt.date | None = None) -> BatchReport:
    """Write the batch PDF and its mailing list CSV for the invitations of a round."""
    settings = settings or LetterSettings()
    today = today or dt.date.today()
    templates: dict[str, Template] = {}

    def template_for(lang: str) -> Template:
        if lang not in templates:
            templates[lang] = load_template(lang, settings.templates)
            check_values(templates[lang], values)
        return templates[lang]

    values = _batch_values(settings, today)
    template_for("fi")
    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise OtosError(f"{out}: the batch file must end in .pdf.")
    with Session(engine) as s:
        q = select(Invitation, Person, Extract).join(Extract, Extract.id == Invitation.extract_id) \
            .outerjoin(Person, Person.id == Invitation.person_id).where(Invitation.round == round_name)
        if reminder:
            q = q.where(Invitation.answered_at.is_(None))
        rows = s.execute(q).all()
    if not rows:
        raise OtosError(f"Round {round_name!r} has no invitations{' left unanswered' if reminder else ''}.",
                        hint="Draw invitations first (otos invite draw), or check the round's name.")
    left_out: dict[str, int] = {}
    printable = []
    problems = []
    for inv, person, ext in rows:
        reason = _reason(person)
        if reason is None:
            langs = letter_languages(person.mother_tongue, person.municipality,
                                     english_for_others=settings.english_for_others)
            swedish = langs[0] == "sv"  # Swedish letters use the Swedish street and post office names
            street = (person.street_sv if swedish and person.street_sv else person.street_fi)
            office = (person.post_office_sv if swedish and person.post_office_sv else person.post_office_fi)
            try:
                lines = address_lines(f"{person.first_names} {person.surname}", street, person.postal_code, office)
            except AddressError as exc:
                reason = "address does not fit the window"
                problems.append(f"invitation {inv.id}: {exc}")
        if reason:
            left_out[reason] = left_out.get(reason, 0) + 1
            continue
        printable.append((person.postal_code, inv.id, inv, person, ext, lines, langs, street, office))
    if not printable:
        raise OtosError(f"None of the {len(rows)} invitations of round {round_name!r} can be mailed.",
                        hint="See the reasons: " + ", ".join(f"{k}: {v}" for k, v in left_out.items()) + ".")
    printable.sort(key=lambda r: (r[0], r[1]))
    tmp = out.with_suffix(".pdf.part")
    listing = out.with_suffix(".csv")
    c = Canvas(str(tmp), pagesize=A4, pageCompression=1)
    c.setTitle(f"Kutsukirjeet {round_name}")
    qrs = _qr_stream([qr_text(settings, codes.display(r[2].response_code)) for r in printable])
    try:
        with open_private(listing.with_suffix(".csv.part"), encoding="utf-8", newline="") as fh, closing(qrs):
            w = csv.writer(fh, delimiter=";")
            w.writerow(["kirje", "sivu", "kielet", "nimi", "lahiosoite", "postinumero", "postitoimipaikka",
                        "vastauskoodi"])
            page = 0
            for number, (_, _, inv, person, ext, lines, langs, street, office) in enumerate(printable, start=1):
                code = codes.display(inv.response_code)
                qr = next(qrs)
                first_page = page + 1
                for i, lang in enumerate(langs):  # one page per language; the first carries the address
                    _draw_letter(c, template_for(lang), values | _letter_values(inv, person, ext),
                                 lines if i == 0 else [], settings, today, qr)
                    c.showPage()
                    page += 1
                w.writerow([number, first_page, "+".join(langs), f"{person.first_names} {person.surname}", street,
                            person.postal_code, office.upper(), code])
                if number % 200 == 0:
                    if cancelled and cancelled():
                        raise ImportCancelled("Printing was cancelled; no batch was written.")
                    if progress:
                        progress(number / len(printable), f"{number:,} letters")
        c.save()
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
        os.replace(listing.with_suffix(".csv.part"), listing)
    except BaseException:
        for part in (tmp, listing.with_suffix(".csv.part")):
            part.unlink(missing_ok=True)
        raise
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    with Session(engine) as s:
        audit.record(s, "letters.print", round=round_name, letters=len(printable), reminder=reminder,
                     left_out=left_out, pdf_sha256=digest)
        s.commit()
    if progress:
        progress(1.0, f"{len(printable):,} letters")
    return BatchReport(out, listing, len(printable), left_out, problems)


def preview(engine: Engine, round_name: str, settings: LetterSettings | None = None,
            today: dt.date | None = None) -> tuple[Counter, str]:
    """Which language versions the round's letters get (counts), and the text of the
    first letter as it will be printed."""
    settings = settings or LetterSettings()
    today = today or dt.date.today()
    with Session(engine) as s:
        rows = s.execute(select(Invitation, Person, Extract).join(Extract, Extract.id == Invitation.extract_id)
                         .join(Person, Person.id == Invitation.person_id)
                         .where(Invitation.round == round_name, Person.mailable.is_(True))
                         .order_by(Person.postal_code, Invitation.id)).all()
    if not rows:
        raise OtosError(f"Round {round_name!r} has no letters to print.")
    groups = Counter("+".join(letter_languages(p.mother_tongue, p.municipality,
                                               english_for_others=settings.english_for_others)) for _, p, _ in rows)
    inv, person, ext = rows[0]
    lang = letter_languages(person.mother_tongue, person.municipality)[0]
    values = _batch_values(settings, today) | _letter_values(inv, person, ext)
    template = load_template(lang, settings.templates)
    check_values(template, values)
    address = "\n".join(address_lines(f"{person.first_names} {person.surname}", person.street_fi, person.postal_code,
                                      person.post_office_fi))
    return groups, address + "\n\n" + "\n\n".join(template.fill(values))


def rounds(engine: Engine) -> list[str]:
    """Recruitment rounds that have invitations, newest first."""
    with Session(engine) as s:
        return list(s.execute(select(Invitation.round).group_by(Invitation.round)
                              .order_by(func.max(Invitation.id).desc())).scalars())
