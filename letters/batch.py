"""A print batch: one PDF of invitation letters for a recruitment round, in postal-code
order, and the mailing list a print house expects beside it.

People who cannot be mailed (turvakielto, deceased, no domestic address) never appear
in the PDF or the list; the batch summary counts them by reason. Both files are
written with owner-only permissions: they hold personal data.
"""
from __future__ import annotations

import datetime as dt
import itertools
import shutil
import string
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from letters import pdfjoin, qr
from letters.address import FIRST_LINE_FROM_TOP, LEADING, LEFT, SIZE, AddressError, address_lines
from letters.fonts import register
from letters.language import letter_languages
from letters.logo import draw_logo
from letters.template import Template, check_values, load_template, parse_template
from pool import audit, codes
from pool.errors import ImportCancelled, OtosError
from pool.models import Extract, Invitation, Person
from pool.private import csv_writer, output_path, private_dir, private_outputs
from pool.i18n import N_, _, language_name, ngettext, number as fmt_number
from pool.workspace import SAMI_TEMPLATES

PAGE_W, PAGE_H = A4
TEXT_WIDTH = PAGE_W - 2 * LEFT
CHUNK = 500  # letters read, QR-encoded and drawn together
PART_LETTERS = 1000  # letters per part document (see print_round)


@dataclass
class LetterSettings:
    """What a batch of letters says besides the person: the county's names, sender
    lines, phone, hours, registration address, topic and compensation, the last three
    per language (fi, sv, en). ``from_workspace`` takes them from the workspace."""

    county: dict[str, str]
    sender: tuple[str, ...]
    contact_phone: str
    register_url: str
    topic: dict[str, str] = field(default_factory=dict)
    compensation: dict[str, str] = field(default_factory=dict)
    hours: dict[str, str] = field(default_factory=dict)
    reply_by: str = ""
    english_for_others: bool = True
    templates: str | None = None
    signature: tuple[str, ...] = ()  # name, title: signed under the body when given
    logo: dict | None = None  # the workspace's logo setting (pool.logo), top right of every letter
    sami_templates: dict[str, str] = field(default_factory=dict)  # se/smn/sms -> the translated template's text
    sodankyla_in_homeland: bool = False

    @classmethod
    def from_workspace(cls, engine: Engine, *, topic: dict[str, str] | None = None, templates: str | None = None,
                       reply_by: str = "") -> "LetterSettings":
        """The workspace's settings, with the topic (per language) and templates given
        for this batch. Refused with the list of what is missing while the workspace
        lacks something letters need."""
        from pool import workspace

        ws = workspace.load(engine)
        missing = ws.missing()
        if missing:
            raise OtosError(_("Letters cannot be printed yet: the workspace has no {join}.").format(join=', '.join(missing)),
                            hint=_("Give them with otos workspace set KEY VALUE (e.g. otos workspace set phone '040 123 4567'), or on the Settings screen (F9)."))
        langs = workspace.LANGUAGES
        return cls(county={lang: ws.county_name(lang) for lang in langs}, sender=tuple(ws["sender"] or ()),
                   contact_phone=ws["phone"], register_url=ws["register_url"],
                   topic={lang: (topic or {}).get(lang) or ws.text("topic", lang) for lang in langs},
                   compensation={lang: ws.text("compensation", lang) for lang in langs},
                   hours={lang: ws.text("hours", lang) for lang in langs},
                   reply_by=reply_by, templates=templates, signature=tuple(ws["signature"] or ()),
                   logo=ws["logo"], sodankyla_in_homeland=bool(ws["sami_homeland_sodankyla"]),
                   sami_templates={lang: ws[f"template.{lang}"]["text"] for lang in workspace.SAMI_TEMPLATES
                                   if ws[f"template.{lang}"]})

    def pick(self, texts: dict[str, str], language: str) -> str:
        return texts.get(language) or texts.get("fi") or ""

    def template(self, language: str) -> Template | None:
        """The checked template of ``language``: from the batch's folder, else (Sámi) the
        workspace's translation, else the shipped one. None for a Sámi language nobody
        has translated a letter into yet; an error for any other missing template."""
        if language in SAMI_TEMPLATES:
            if self.templates and (Path(self.templates) / f"{language}.txt").is_file():
                return load_template(language, self.templates)
            text = self.sami_templates.get(language)
            source = _("the workspace's {language} letter template").format(language=language_name(language))
            return parse_template(language, text, source) if text else None
        return load_template(language, self.templates)


@dataclass
class BatchReport:
    pdf: Path
    mailing_list: Path
    letters: int
    left_out: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    sami_missing: dict[str, int] = field(default_factory=dict)  # se/smn/sms -> letters printed without that page

    def summary(self) -> list[str]:
        """What the batch holds and lacks, line by line, for the CLI and the app."""
        lines = [ngettext("{number} letter written to {pdf}, the mailing list to {mailing_list} (owner-only files: they hold personal data).",
                          "{number} letters written to {pdf}, the mailing list to {mailing_list} (owner-only files: they hold personal data).",
                          self.letters).format(number=fmt_number(self.letters), pdf=self.pdf, mailing_list=self.mailing_list)]
        lines += [_("Left out: {number} ({reason}).").format(number=fmt_number(n), reason=_(reason))
                  for reason, n in self.left_out.items()]
        for lang, n in self.sami_missing.items():
            lines.append(ngettext(
                "{number} {language} letter is missing: the workspace has no {language} template, so that person got the Finnish letter only.",
                "{number} {language} letters are missing: the workspace has no {language} template, so those people got the Finnish letter only.",
                n).format(number=fmt_number(n), language=language_name(lang))
                + " " + _("Have the Finnish template translated and give it with otos workspace set template.{code} FILE, then print again.").format(code=lang))
        return lines + self.problems


def _reason(registered: bool, protected: bool, deceased: bool, mailable: bool) -> str | None:
    """Why a letter cannot be printed for this person (a message id), or None."""
    if not registered:
        return N_("register data already purged")
    if protected:
        return N_("turvakielto (no contact address)")
    if deceased:
        return N_("deceased")
    if not mailable:
        return N_("no domestic address")
    return None


class _CompactCanvas(Canvas):
    """A canvas that compresses each finished page's content at once. reportlab keeps
    every page's drawing operators as text until ``save``; compressed, a letter page
    holds about a kilobyte instead of several. The stream is marked FlateDecode, so
    reportlab writes it as it is (it only applies filters to unmarked streams)."""

    def showPage(self) -> None:
        super().showPage()
        page = self._doc.Pages.pages[-1]
        if getattr(page, "stream", None) and not page.Contents:
            page.Contents = PDFStream(PDFDictionary({"Filter": PDFArray([PDFName("FlateDecode")])}),
                                      zlib.compress(page.stream.encode("utf-8")))
            page.stream = None


class _Renderer:
    """Draws letters onto one canvas. Everything that is the same on many letters (the
    sender block, every paragraph without a per-letter placeholder, the code label) is
    laid out once as a PDF form and placed by reference; only the address, the
    greeting, the code and its QR code are drawn per letter. That keeps a letter cheap
    to render and the PDF small, however big the batch."""

    def __init__(self, c: Canvas, settings: LetterSettings, today: dt.date) -> None:
        self.c, self.settings, self.today = c, settings, today
        self.regular, self.bold = register()
        self.forms: dict[tuple, tuple[str, float]] = {}

    def _form(self, key: tuple, draw: Callable[[], float]) -> float:
        """Place the form ``key`` with its top at the current origin; ``draw`` lays it out
        the first time (drawing downwards from y = 0) and returns its height."""
        if key not in self.forms:
            name = f"otos{len(self.forms)}"
            self.c.beginForm(name, lowerx=0, lowery=-PAGE_H, upperx=PAGE_W, uppery=PAGE_H)
            height = draw()
            self.c.endForm()
            self.forms[key] = (name, height)
        name, height = self.forms[key]
        self.c.doForm(name)
        return height

    def _lines(self, text: str, font: str, size: float, leading: float, y: float = 0.0) -> float:
        """Draw ``text`` wrapped to the text width from ``y`` down; returns the height used."""
        self.c.setFont(font, size)
        start = y
        for line in simpleSplit(text, font, size, TEXT_WIDTH):
            self.c.drawString(LEFT, y, line)
            y -= leading
        return start - y

    def _at(self, y: float, key: tuple, draw: Callable[[], float]) -> float:
        self.c.saveState()
        self.c.translate(0, y)
        height = self._form(key, draw)
        self.c.restoreState()
        return height

    def letter(self, t: Template, values: dict[str, str], lines: list[str], qr_img: Image.Image) -> None:
        c, top = self.c, PAGE_H
        self._at(top, ("head", t.language), lambda: self._head(t.language))
        c.setFont(self.regular, SIZE)
        for i, line in enumerate(lines):
            c.drawString(LEFT, top - FIRST_LINE_FROM_TOP - i * LEADING, line)
        y = top - 100 * mm
        code_after = _code_paragraph(t)
        notice = _notice_paragraph(t)
        for i, source in enumerate(t.paragraphs):
            if i == notice and self.settings.signature:
                y -= self._at(y, ("closing", t.language), lambda: self._closing(t.language))
            text = source.format_map(values)
            font, size, leading = _style(t, i)
            uses = _fields(source)
            if uses & PERSONAL:
                y -= self._lines(text, font, size, leading, y)
            else:
                key = (t.language, t.source, i, values.get("permit"), values.get("delete_by"))
                y -= self._at(y, key, lambda: self._lines(text, font, size, leading))
            y -= 6
            if i == code_after:
                self._at(y, ("code label",), self._code_label)
                c.setFont(self.bold, 24)
                c.drawString(LEFT, y - 16 * mm, values["code"])
                side = 28 * mm
                c.drawInlineImage(qr_img, PAGE_W - LEFT - side, y - 30 * mm, side, side)
                y -= 34 * mm
        if notice is None and self.settings.signature:
            y -= self._at(y, ("closing", t.language), lambda: self._closing(t.language))
        if y < BOTTOM_MARGIN:  # text, or worse the response code, would fall off the page
            raise OtosError(_("The {language} letter does not fit on one page: its text runs {value} mm past the bottom margin. Nothing was printed.").format(language=language_name(t.language), value=fmt_number((BOTTOM_MARGIN - y) / mm, 0)),
                            hint=_("Shorten the topic (--topic) or the template's paragraphs."))

    def _head(self, language: str) -> float:
        c = self.c
        c.setFont(self.regular, 9)
        sender = [self.settings.pick(self.settings.county, language), *self.settings.sender]
        for i, line in enumerate(sender):  # return address above the window
            c.drawString(LEFT, -15 * mm - i * 11, line)
        logo = draw_logo(c, self.settings.logo, PAGE_W - LEFT, -10 * mm, 45 * mm, 18 * mm)
        date_y = -15 * mm if not logo else -10 * mm - logo - 5 * mm
        c.drawRightString(PAGE_W - LEFT, date_y, f"{self.today.day}.{self.today.month}.{self.today.year}")
        return 0.0

    def _closing(self, language: str) -> float:
        """The greeting and the signature (name, title, county) under the letter's body."""
        c = self.c
        greeting = [CLOSING[language], ""] if language in CLOSING else []  # a Sámi page: Otos writes no Sámi
        lines = [*greeting, *self.settings.signature, self.settings.pick(self.settings.county, language)]
        c.setFont(self.regular, 10.5)
        for i, line in enumerate(lines):
            c.drawString(LEFT, -i * 10.5 * 1.35, line)
        return len(lines) * 10.5 * 1.35 + 6

    def _code_label(self) -> float:
        self.c.setFont(self.regular, 10)
        self.c.drawString(LEFT, -4 * mm, "Vastauskoodisi / Din svarskod / Your response code:")
        return 0.0


BOTTOM_MARGIN = 12 * mm
CLOSING = {"fi": "Ystävällisin terveisin", "sv": "Med vänliga hälsningar", "en": "Kind regards"}
PERSONAL = {"first_names", "code"}  # placeholders that differ from letter to letter


def _fields(paragraph: str) -> set[str]:
    return {f for _x, f, _x, _x in string.Formatter().parse(paragraph) if f}


def _style(t: Template, i: int) -> tuple[str, float, float]:
    """(font, size, leading) of paragraph ``i``: the heading bold, the privacy notice
    (the paragraph naming the permit or the deletion date) small."""
    regular, bold = register()
    if i == 0:
        return bold, 14, 18
    if _fields(t.paragraphs[i]) & {"permit", "delete_by"}:
        return regular, 8, 8 * 1.35
    return regular, 10.5, 10.5 * 1.35


def _notice_paragraph(t: Template) -> int | None:
    """The privacy notice: the first paragraph after the heading that names the permit
    or the deletion date (the signature goes above it); None if there is none."""
    return next((i for i in range(1, len(t.paragraphs)) if _fields(t.paragraphs[i]) & {"permit", "delete_by"}),
                None)


def _code_paragraph(t: Template) -> int:
    """The paragraph after which the response code and QR code go: the first one that
    gives the registration address, else the last one before the privacy notice."""
    for i, p in enumerate(t.paragraphs[1:], start=1):
        if "register_url" in _fields(p):
            return i
    body = [i for i in range(1, len(t.paragraphs)) if not _fields(t.paragraphs[i]) & {"permit", "delete_by"}]
    return body[-1] if body else 0


def qr_text(settings: LetterSettings, code: str) -> str:
    return f"{settings.register_url}?code={code.replace('-', '')}"


def qr_image(text: str) -> Image.Image:
    """A QR code of ``text`` as a 1-bit image, one pixel per module, with the quiet zone."""
    return _qr_images([text])[0]


def _qr_images(texts: list[str]) -> list[Image.Image]:
    """QR images of ``texts``, encoded together (see letters.qr)."""
    images = []
    for modules in qr.encode(texts):
        side, rows = qr.one_bit_rows(modules)
        images.append(Image.frombytes("1", (side, side), rows))
    return images


def _batch_values(settings: LetterSettings, today: dt.date, language: str) -> dict[str, str]:
    """Template values shared by every letter of a batch in ``language``."""
    return {"county": settings.pick(settings.county, language), "topic": settings.pick(settings.topic, language),
            "reply_by": settings.reply_by or f"{(today + dt.timedelta(days=21)):%-d.%-m.%Y}",
            "compensation": settings.pick(settings.compensation, language),
            "contact_hours": settings.pick(settings.hours, language), "contact_phone": settings.contact_phone,
            "register_url": settings.register_url}


def _letter_values(first_names: str, code: str, ext: Extract) -> dict[str, str]:
    """Template values of one letter."""
    return {"first_names": first_names.split()[0], "code": code,
            "permit": ext.permit, "delete_by": f"{ext.delete_by:%-d.%-m.%Y}"}


def _letters(engine: Engine, where: list, settings: LetterSettings, template_of: Callable[[str], Template | None],
             left_out: dict[str, int], problems: list[str], sami_missing: dict[str, int]) -> Iterator[tuple]:
    """(invitation id, code, extract, first names, name, street, postal code, office,
    window lines, languages) of each letter to print, in print order. Columns, not ORM
    objects, streamed: memory stays flat however big the round. Counts the invitations
    left out by reason in ``left_out``, and the Sámi pages owed but without a template
    (``template_of`` gives None) in ``sami_missing``."""
    P, I = Person, Invitation
    q = (select(I.id, I.response_code, I.extract_id, P.id, P.first_names, P.surname, P.street_fi, P.street_sv,
                P.postal_code, P.post_office_fi, P.post_office_sv, P.municipality, P.mother_tongue,
                P.turvakielto, P.deceased, P.mailable)
         .outerjoin(P, P.id == I.person_id).where(*where).order_by(P.postal_code, I.id)
         .execution_options(yield_per=CHUNK))
    with Session(engine) as s:
        extracts = {e.id: e for e in s.execute(select(Extract)).scalars()}
        for (inv_id, code, ext_id, person_id, first, surname, street_fi, street_sv, postal, office_fi,
             office_sv, municipality, tongue, protected, deceased, mailable) in s.execute(q):
            reason = _reason(person_id is not None, protected, deceased, mailable)
            if reason is None:
                langs = letter_languages(tongue, municipality, english_for_others=settings.english_for_others,
                                         sodankyla_in_homeland=settings.sodankyla_in_homeland)
                missing = [x for x in langs if x in SAMI_TEMPLATES and template_of(x) is None]
                langs = [x for x in langs if x not in missing]
                swedish = langs[0] == "sv"  # Swedish letters use the Swedish street and post office names
                street = street_sv if swedish and street_sv else street_fi
                office = office_sv if swedish and office_sv else office_fi
                name = f"{first} {surname}"
                try:
                    lines = address_lines(name, street, postal, office)
                except AddressError as exc:
                    reason = N_("address does not fit the window")
                    problems.append(_("invitation {inv_id}: {exc}").format(inv_id=inv_id, exc=exc))
            if reason:
                left_out[reason] = left_out.get(reason, 0) + 1
                continue
            for lang in missing:  # counted for the letters printed, not for those left out
                sami_missing[lang] = sami_missing.get(lang, 0) + 1
            yield inv_id, codes.display(code), extracts[ext_id], first, name, street, postal, office, lines, langs


def _templates(settings: LetterSettings, today: dt.date) -> tuple[Callable[[str], Template | None], dict]:
    """The batch's templates, each loaded and checked against its values the first time
    a letter needs it: (template of a language, values by language)."""
    templates: dict[str, Template | None] = {}
    values: dict[str, dict[str, str]] = {}

    def template_for(lang: str) -> Template | None:
        if lang not in templates:
            values[lang] = _batch_values(settings, today, lang)
            templates[lang] = settings.template(lang)
            if templates[lang] is not None:
                check_values(templates[lang], values[lang])
        return templates[lang]
    return template_for, values


def print_round(engine: Engine, round_name: str, out: str | Path, settings: LetterSettings | None = None, *,
                reminder: bool = False, progress: Callable[[float, str], None] | None = None,
                cancelled: Callable[[], bool] | None = None, today: dt.date | None = None) -> BatchReport:
    """Write the batch PDF and its mailing list CSV for the invitations of a round.
    Without ``settings``, the workspace's (``LetterSettings.from_workspace``)."""
    settings = settings or LetterSettings.from_workspace(engine)
    today = today or dt.date.today()
    template_for, values = _templates(settings, today)

    template_for("fi")
    out = output_path(out, (".pdf",))
    I = Invitation
    where = [I.round == round_name] + ([I.answered_at.is_(None)] if reminder else [])
    with Session(engine) as s:
        total = s.execute(select(func.count()).select_from(I).where(*where)).scalar_one()
    if not total:
        raise OtosError((_("Round {round_name!r} has no invitations left unanswered.") if reminder else
                         _("Round {round_name!r} has no invitations.")).format(round_name=round_name),
                        hint=_("Draw invitations first (otos invite draw), or check the round's name."))
    left_out: dict[str, int] = {}
    problems: list[str] = []
    sami_missing: dict[str, int] = {}

    def chunks() -> Iterator[list[tuple]]:
        """Letters a chunk at a time, each with its QR image (encoded a chunk at once)."""
        it = _letters(engine, where, settings, template_for, left_out, problems, sami_missing)
        while chunk := list(itertools.islice(it, CHUNK)):
            images = _qr_images([qr_text(settings, row[1]) for row in chunk])
            yield [(*row, img) for row, img in zip(chunk, images)]

    listing = out.with_suffix(".csv")

    def record(digests: dict[Path, str]) -> None:
        with Session(engine) as s:
            audit.record(s, "letters.print", round=round_name, letters=number, reminder=reminder,
                         left_out=left_out, sami_missing=sami_missing, pdf_sha256=digests[out], list_sha256=digests[listing])
            s.commit()

    # The batch is drawn as parts of PART_LETTERS letters (reportlab holds a document's
    # pages until it saves) in a folder only the owner can open, then joined into one PDF.
    workdir = private_dir(out.parent)
    parts: list[Path] = []
    c: _CompactCanvas | None = None
    number = first_in_part = 0
    try:
        with private_outputs(record) as files:
            fh = files.open(listing, encoding="utf-8", newline="")
            w = csv_writer(fh)
            w.writerow(["kirje", "sivu", "kielet", "nimi", "lahiosoite", "postinumero", "postitoimipaikka",
                        "vastauskoodi"])
            page = 0
            for chunk in chunks():
                if c is None or number - first_in_part >= PART_LETTERS:
                    if c is not None:
                        c.save()
                    parts.append(workdir / f"{len(parts):05d}.pdf")
                    c = _CompactCanvas(str(parts[-1]), pagesize=A4, pageCompression=1,
                                        initialFontName=register()[0])
                    renderer = _Renderer(c, settings, today)
                    first_in_part = number
                for inv_id, code, ext, first, name, street, postal, office, lines, langs, qr_img in chunk:
                    number += 1
                    first_page = page + 1
                    own = _letter_values(first, code, ext)
                    for i, lang in enumerate(langs):  # one page per language; the first carries the address
                        template = template_for(lang)
                        renderer.letter(template, values[lang] | own, lines if i == 0 else [], qr_img)
                        c.showPage()
                        page += 1
                    w.writerow([number, first_page, "+".join(langs), name, street, postal, office.upper(), code])
                if cancelled and cancelled():
                    raise ImportCancelled(_("Printing was cancelled; no batch was written."))
                if progress:
                    progress(number / total, _("{number} letters").format(number=fmt_number(number)))
            if c is None:
                raise OtosError(_("None of the {total} invitations of round {round_name!r} can be mailed.").format(total=total, round_name=round_name),
                                hint=_("See the reasons: ") + ", ".join(f"{_(k)}: {v}" for k, v in left_out.items()) + ".")
            c.save()
            pdfjoin.join(parts, files.open(out, "wb", (".pdf",)), title=f"Kutsukirjeet {round_name}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if progress:
        progress(1.0, _("{number} letters").format(number=fmt_number(number)))
    return BatchReport(out, listing, number, left_out, problems, sami_missing)


def preview(engine: Engine, round_name: str, settings: LetterSettings | None = None,
            today: dt.date | None = None) -> tuple[Counter, str]:
    """Which language versions the round's letters get (counts), and the text of the
    first letter as it will be printed."""
    settings = settings or LetterSettings.from_workspace(engine)
    today = today or dt.date.today()
    groups: Counter = Counter()
    first = None
    template_for, values_by_language = _templates(settings, today)
    for row in _letters(engine, [Invitation.round == round_name], settings, template_for, {}, [], {}):
        groups["+".join(row[-1])] += 1
        first = first or row
    if first is None:
        raise OtosError(_("Round {round_name!r} has no letters to print.").format(round_name=round_name))
    _x, code, ext, first_names, _x, _x, _x, _x, lines, langs = first
    template = template_for(langs[0])
    values = values_by_language[langs[0]] | _letter_values(first_names, code, ext)
    return groups, "\n".join(lines) + "\n\n" + "\n\n".join(template.fill(values))

