"""Letter texts are template files the team edits without touching code.

One file per language (``fi.txt`` ...). Paragraphs are separated by a blank line; the
first paragraph is the heading. Placeholders in braces, e.g. ``{reply_by}``; an
unknown placeholder, or one without a value, is an error naming it and its line.
"""
from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pool.errors import OtosError
from pool.i18n import N_, _

PLACEHOLDERS = {  # name -> what it is (a message id, shown translated)
    "county": N_("the wellbeing services county, in the letter's language"),
    "topic": N_("the panel topic"),
    "reply_by": N_("the last day to answer"),
    "compensation": N_("the compensation paid for taking part"),
    "contact_phone": N_("the phone number for answering and questions"),
    "contact_hours": N_("when the phone is answered"),
    "register_url": N_("the registration address"),
    "permit": N_("the DVV permit number (filled in from the extract)"),
    "delete_by": N_("the date the address data is deleted (filled in from the extract)"),
    "first_names": N_("the recipient's first names (filled in per letter)"),
    "code": N_("the response code (filled in per letter)"),
}
PER_LETTER = ("first_names", "code", "permit", "delete_by")


class TemplateError(OtosError):
    """A letter template that cannot be used as it is."""


@dataclass
class Template:
    language: str
    source: str
    paragraphs: list[str]

    def fill(self, values: dict[str, str]) -> list[str]:
        return [p.format_map(values) for p in self.paragraphs]


def load_template(language: str, folder: str | Path | None = None) -> Template:
    """The template for ``language`` from ``folder`` (or the shipped ones), checked."""
    if folder:
        path = Path(folder) / f"{language}.txt"
        if not path.is_file():
            raise TemplateError(_("There is no letter template {path}.").format(path=path), hint=_("Write one per language: fi.txt, sv.txt ..."))
        return parse_template(language, read_text(path), str(path))
    res = resources.files("letters") / "templates" / f"{language}.txt"
    if not res.is_file():
        raise TemplateError(_("Otos ships no letter template for language {language!r}.").format(language=language),
                            hint=_("Give a folder of templates with --templates."))
    return parse_template(language, res.read_text("utf-8"), _("template {language}.txt").format(language=language))


MAX_TEMPLATE = 20_000  # characters: a one-page letter is far shorter


def read_text(path: str | Path) -> str:
    """A template file's text: UTF-8, at most MAX_TEMPLATE characters, else a clear error."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise TemplateError(_("There is no letter template {path}.").format(path=path),
                            hint=_("Give the path of a UTF-8 text file."))
    if path.stat().st_size > 4 * MAX_TEMPLATE:
        raise TemplateError(_("{path} is too long for a one-page letter.").format(path=path))
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TemplateError(_("{path}: byte {position} is not UTF-8.").format(path=path, position=exc.start + 1),
                            hint=_("Save the file as UTF-8 text.")) from None
    if len(text) > MAX_TEMPLATE:
        raise TemplateError(_("{path} is too long for a one-page letter.").format(path=path))
    return text


def parse_template(language: str, text: str, source: str) -> Template:
    """A template's ``text`` (from ``source``, named in errors) checked: placeholders
    known and well formed, no control characters, not empty."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # saved on Windows, or an old Mac
    for number, line in enumerate(text.splitlines(), start=1):
        bad = next((i for i, ch in enumerate(line) if ch != "\t" and unicodedata.category(ch) in ("Cc", "Cf")
                    and ch not in "\u00ad\u200d\u2060"), None)
        if bad is not None:
            raise TemplateError(_("{source}, line {number}, column {column}: a control character.").format(
                source=source, number=number, column=bad + 1), hint=_("Delete it and save the file again."))
        try:
            fields = [f for _x, f, _x, _x in string.Formatter().parse(line) if f is not None]
        except ValueError as exc:
            raise TemplateError(_("{source}, line {number}: {exc} (a lone brace?).").format(source=source, number=number, exc=exc),
                                hint=_("Write placeholders as {name}.")) from None
        unknown = [f for f in fields if f not in PLACEHOLDERS]
        if unknown:
            raise TemplateError(_("{source}, line {number}: unknown placeholder {{{value}}}.").format(source=source, number=number, value=unknown[0]),
                                hint=_("Known placeholders: ") + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS) + ".")
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    if not paragraphs:
        raise TemplateError(_("{source} is empty.").format(source=source))
    return Template(language, source, paragraphs)


def check_values(template: Template, values: dict[str, str]) -> None:
    """Every placeholder the template uses must have a value (per-letter ones are filled later)."""
    used = {f for p in template.paragraphs for _x, f, _x, _x in string.Formatter().parse(p) if f}
    missing = sorted(f for f in used - set(PER_LETTER) if not str(values.get(f, "")).strip())
    if missing:
        raise TemplateError(_("{source} uses {join} but no value was given.").format(source=template.source, join=', '.join('{' + m + '}' for m in missing)),
                            hint=_("Give it: ") + "; ".join(f"{m} = {_(PLACEHOLDERS[m])}" for m in missing) + ".")
