"""The workspace's own settings: which county this database serves and what its letters
say. One set per database (table ``workspace_setting``, migration 0006), so a team on
PostgreSQL shares them and every official's letters carry the same sender.

``init`` fills every setting with a default for the county (names in Finnish, Swedish
and English from the shipped municipality table); what only the team can know (the
phone number, the registration address) stays empty and ``missing`` lists it, so a
letter is refused until it is given. Nothing county-specific is written in code.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

from sqlalchemy import Engine, select
from sqlmodel import Session

from pool import audit
from pool.display import has_control
from pool.errors import OtosError
from pool.models import WorkspaceSetting
from pool.reference import county_names, find_county, municipalities
from pool.i18n import N_, _, language, language_name, ngettext

LANGUAGES = ("fi", "sv", "en")
SAMI_TEMPLATES = ("se", "smn", "sms")  # North, Inari and Skolt Sámi: letters need a translated template
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_PHONE = re.compile(r"[+0-9 ()/-]{6,32}")


@dataclass(frozen=True)
class Key:
    """One setting: its name in the reader's words, what it is, how a typed value is
    read, whether letters need it. ``label`` and ``meaning`` are message ids, shown
    through ``label_text`` and ``meaning_text`` (``{language}`` is the key's language)."""

    name: str
    label: str
    meaning: str
    parse: Callable[[str], Any]
    required: bool = False
    language: str = ""

    def label_text(self) -> str:
        return _(self.label).format(language=language_name(self.language))

    def meaning_text(self) -> str:
        return _(self.meaning).format(language=language_name(self.language))


def _text(limit: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        value = value.strip()
        if len(value) > limit:
            raise ValueError(_("is {count} characters, the most allowed is {limit}").format(count=len(value), limit=limit))
        return value
    return parse


def _lines(value: str) -> list[str]:
    """Lines separated by '|' or line breaks (the sender block under the county's name)."""
    lines = [part.strip() for part in re.split(r"\s*\|\s*|\n", value) if part.strip()]
    if len(lines) > 5 or any(len(line) > 60 for line in lines):
        raise ValueError(_("must be at most 5 lines of at most 60 characters (separate lines with |)"))
    return lines


def _phone(value: str) -> str:
    value = value.strip()
    if value and not (_PHONE.fullmatch(value) and sum(c.isdigit() for c in value) >= 6):
        raise ValueError(_("is not a phone number"))
    return value


def _url(value: str) -> str:
    value = value.strip()
    if value and not _URL.fullmatch(value):
        raise ValueError(_("must be a web address starting with https://"))
    return value


def _email(value: str) -> str:
    value = value.strip()
    if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError(_("is not an e-mail address"))
    return value


def check_age_bands(cuts: tuple[int, ...]) -> tuple[int, ...]:
    """Age band cut points as given (``--age-bands 15,30,45``): whole ages from 0 to 120,
    each larger than the one before. Anything else is refused (30,15 once made a band
    "30-14")."""
    if not cuts:
        raise OtosError(_("No age bands were given."), hint=_("Give the ages where bands start, e.g. 15,30,45,65,75."))
    if any(not isinstance(c, int) or c < 0 or c > 120 for c in cuts):
        raise OtosError(_("Age bands {join}: each must be an age from 0 to 120.").format(join=','.join(map(str, cuts))))
    if any(b <= a for a, b in zip(cuts, cuts[1:])):
        raise OtosError(_("Age bands {join}: each age must be larger than the one before.").format(join=','.join(map(str, cuts))),
                        hint=_("Give the ages where bands start, in order, e.g. 15,30,45,65,75."))
    return cuts


def _ages(value: str) -> list[int]:
    try:
        cuts = tuple(int(x) for x in value.replace(";", ",").split(",") if x.strip())
    except ValueError:
        raise ValueError(_("must be ages separated by commas, e.g. 15,30,45,65,75")) from None
    try:
        return list(check_age_bands(cuts))
    except OtosError as exc:
        raise ValueError(exc.message.split(": ", 1)[-1].rstrip(".")) from None


def _age(value: str) -> int:
    try:
        age = int(value)
    except ValueError:
        raise ValueError(_("must be a whole number of years")) from None
    if not 0 <= age <= 120:
        raise ValueError(_("must be an age from 0 to 120"))
    return age


def _too_many(n: int):
    raise ValueError(_("must be at most {n} lines (separate them with |)").format(n=n))


def _logo(value: str) -> dict | None:
    from pool.logo import read_logo

    return read_logo(value)


def _logo_size(setting: dict) -> int:
    from pool.logo import logo_bytes

    return len(logo_bytes(setting)[1])


def _language(value: str) -> str | None:
    value = value.strip().lower()
    if not value:
        return None  # none chosen: the system's language, else Finnish
    if value not in LANGUAGES:
        raise ValueError(_("must be fi, sv or en ('' for the system's language)"))
    return value


def _yes_no(value: str) -> bool:
    value = value.strip().casefold()
    if value in ("yes", "kyllä", "ja", "true", "1", "on"):
        return True
    if value in ("no", "ei", "nej", "false", "0", "off", ""):
        return False
    raise ValueError(_("must be yes or no"))


def _codes(value: str) -> list[str]:
    """Municipality codes or names that stand alone in quotas; the rest form the catch-all."""
    munis = municipalities()
    by_name = {m.name_fi.casefold(): c for c, m in munis.items()} | {m.name_sv.casefold(): c for c, m in munis.items()}
    out = []
    for part in (p.strip() for p in value.replace(";", ",").split(",")):
        if not part:
            continue
        code = part.zfill(3) if part.isdigit() else by_name.get(part.casefold())
        if code not in munis:
            raise ValueError(_("names no municipality: {part!r}").format(part=part))
        out.append(code)
    return sorted(set(out))


def _template(language: str) -> Callable[[str], dict | None]:
    """A translated letter template (the Sámi ones): the path of a text file, read and
    checked now and kept in the workspace, so every official prints the same letter.
    '' removes it."""
    def parse(value: str) -> dict | None:
        from letters.template import parse_template, read_text  # the letter format is the letters package's

        value = value.strip()
        if not value:
            return None
        text = read_text(value)
        template = parse_template(language, text, value)
        return {"file": Path(value).name, "text": text, "paragraphs": len(template.paragraphs)}
    return parse


KEYS: dict[str, Key] = {k.name: k for k in [
    Key("county", N_("County"), N_("the wellbeing services county this workspace serves"), lambda v: find_county(v)),
    Key("sender", N_("Return address"),
        N_("lines under the county's name in the return address (unit, PO box, postcode and town)"), _lines),
    Key("phone", N_("Phone"), N_("phone number for answering the invitation and for questions"), _phone,
        required=True),
    Key("email", N_("E-mail"), N_("e-mail address for questions"), _email),
    Key("register_url", N_("Registration address"),
        N_("web address where invited people register (https://...)"), _url, required=True),
    *[Key(f"hours.{lang}", N_("Phone hours ({language})"), N_("when the phone is answered, in {language} letters"),
          _text(60), language=lang) for lang in LANGUAGES],
    *[Key(f"topic.{lang}", N_("Topic ({language})"), N_("the panel's topic in {language} letters"), _text(200),
          language=lang) for lang in LANGUAGES],
    *[Key(f"compensation.{lang}", N_("Compensation ({language})"),
          N_("the compensation for taking part, in {language} letters"), _text(120), language=lang)
      for lang in LANGUAGES],
    Key("signature", N_("Signature"),
        N_("who signs the letters: name | title (printed under the letter with the county)"),
        lambda v: _lines(v)[:3] if len(_lines(v)) <= 3 else _too_many(3)),
    Key("logo", N_("Logo"), N_("the county's logo on letters and reports: a PNG or SVG file ('' removes it)"), _logo),
    Key("age_bands", N_("Age bands"), N_("ages where the age bands of quotas and strata start"), _ages),
    Key("min_age", N_("Youngest invited"), N_("the youngest age invited"), _age),
    Key("language", N_("Language"),
        N_("the language of the app and its files for everyone using this workspace: fi, sv or en "
           "(takes effect when Otos is started again)"), lambda v: _language(v)),
    *[Key(f"template.{lang}", N_("Letter template ({language})"),
          N_("the {language} page of a Sámi speaker's letter in the Sámi homeland: a UTF-8 text file "
             "translated from the Finnish template, same placeholders ('' removes it)"), _template(lang),
          language=lang) for lang in SAMI_TEMPLATES],
    Key("sami_homeland_sodankyla", N_("Sodankylä in the Sámi homeland"),
        N_("whether Sodankylä's Sámi speakers get Sámi letters (the extract cannot tell whether they live in the "
           "homeland, its northern part): yes or no"), lambda v: _yes_no(v)),
    Key("municipalities_alone", N_("Municipalities with own quotas"),
        N_("municipalities that get quotas of their own; the rest are 'muut'"), _codes),
]}

DEFAULTS: dict[str, Any] = {
    "sender": [],
    "phone": "",
    "email": "",
    "register_url": "",
    "hours.fi": "arkisin klo 9–15", "hours.sv": "vardagar kl. 9–15", "hours.en": "weekdays 9 am – 3 pm",
    "topic.fi": "hyvinvointialueen palvelut", "topic.sv": "välfärdsområdets tjänster",
    "topic.en": "the county's services",
    "compensation.fi": "palkkio", "compensation.sv": "ett arvode", "compensation.en": "a fee",
    "signature": [],
    "logo": None,
    "age_bands": [15, 30, 45, 65, 75],
    "min_age": 15,
    "language": None,  # none chosen: the system's language, else Finnish (pool.i18n.choose)
    "sami_homeland_sodankyla": False,
    **{f"template.{lang}": None for lang in SAMI_TEMPLATES},
}


@dataclass(frozen=True)
class Workspace:
    """The settings as the rest of Otos reads them."""

    values: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        value = self.values.get(key, DEFAULTS.get(key))
        if key == "signature" and isinstance(value, str):  # stored as one text before it had lines
            value = [part.strip() for part in value.split("|") if part.strip()]
        return value

    def public(self) -> dict[str, Any]:
        """The settings as ``workspace show --json`` prints them (the logo by type and size)."""
        out = {k: self[k] for k in self.values}
        if out.get("logo"):
            out["logo"] = {"type": out["logo"]["type"], "bytes": _logo_size(out["logo"])}
        for key in (k for k in out if k.startswith("template.") and out[k]):
            out[key] = {"file": out[key]["file"], "paragraphs": out[key]["paragraphs"]}
        return out

    @property
    def county(self) -> str:
        return self.values["county"]

    def county_name(self, language: str) -> str:
        """The county's name in ``language`` (fi, sv or en)."""
        return county_names()[self.county][language if language in LANGUAGES else "fi"]

    def text(self, key: str, language: str) -> str:
        """A per-language text (``topic``, ``compensation``, ``hours``) for ``language``."""
        return self[f"{key}.{language if language in LANGUAGES else 'fi'}"] or self[f"{key}.fi"] or ""

    def municipality_groups(self) -> dict[str, str]:
        """Municipality code -> quota group for the county's municipalities: those set to
        stand alone by name, every other one in the catch-all "muut"."""
        alone = set(self["municipalities_alone"] or ())
        return {c: (m.name_fi if c in alone else "muut") for c, m in municipalities().items()
                if m.county == self.county}

    def missing(self) -> list[str]:
        """Settings letters need that are still empty."""
        return [k.name for k in KEYS.values() if k.required and not self[k.name]]


def load(engine: Engine) -> Workspace:
    """The workspace's settings; OtosError if ``otos workspace init`` was never run."""
    with Session(engine) as s:
        rows = {r.key: json.loads(r.value) for r in s.execute(select(WorkspaceSetting)).scalars()}
    if "county" not in rows:
        raise OtosError(_("This workspace has no county yet."),
                        hint=_("Start with: otos workspace init --county NAME (e.g. Lappi), or choose the county on the Settings screen (F9)."))
    return Workspace(rows)


def exists(engine: Engine) -> bool:
    with Session(engine) as s:
        return s.get(WorkspaceSetting, "county") is not None


def init(engine: Engine, county: str) -> Workspace:
    """Start the workspace for ``county`` (a county or region name in any of the three
    languages, or its start), with defaults for every setting. Refused if the workspace
    already serves another county (its records would then lie)."""
    found = find_county_any_language(county)
    with Session(engine) as s:
        current = s.get(WorkspaceSetting, "county")
        if current is not None and json.loads(current.value) != found:
            raise OtosError(_("This workspace already serves {loads}.").format(loads=json.loads(current.value)),
                            hint=_("Use another database for another county (--db)."))
        values = dict(DEFAULTS) | {"county": found, "municipalities_alone": _default_alone(found)}
        for key, value in values.items():
            if s.get(WorkspaceSetting, key) is None:
                s.add(WorkspaceSetting(key=key, value=json.dumps(value, ensure_ascii=False)))
        s.flush()
        audit.record(s, "workspace.init", county=found)
        s.commit()
    return load(engine)


def set_value(engine: Engine, key: str, text: str) -> Any:
    """Set one setting from the text a user typed; returns the value as stored."""
    if key not in KEYS:
        raise OtosError(_("There is no setting {key!r}.").format(key=key), hint=_("Settings: ") + ", ".join(KEYS) + ".")
    if has_control(text.replace("\n", "")):
        raise OtosError(_("{key}: the value contains a control character.").format(key=key), hint=_("Type it again without one."))
    if key == "county":
        raise OtosError(_("The county is chosen once, with otos workspace init."),
                        hint=_("Use another database for another county (--db)."))
    try:
        value = KEYS[key].parse(text)
    except ValueError as exc:
        raise OtosError(f"{KEYS[key].label_text()} ({key}): {exc}.", hint=KEYS[key].meaning_text() + ".") from None
    load(engine)  # a workspace must exist first
    with Session(engine) as s:
        row = s.get(WorkspaceSetting, key) or WorkspaceSetting(key=key, value="null")
        row.value = json.dumps(value, ensure_ascii=False)
        s.add(row)
        s.flush()
        audit.record(s, "workspace.set", key=key)
        s.commit()
    return value


def find_county_any_language(name: str) -> str:
    """The county's Finnish name for a name in Finnish, Swedish or English (or a region)."""
    wanted = " ".join(name.casefold().split())
    for fi, langs in county_names().items():
        if wanted in {n.casefold() for n in langs.values()}:
            return fi
    return find_county(name)


ALONE_FROM = 20_000  # people: a municipality this big gets quotas of its own by default


def _default_alone(county: str) -> list[str]:
    return sorted(c for c, m in municipalities().items() if m.county == county and m.population >= ALONE_FROM)


class Setting(NamedTuple):
    key: str  # as typed in otos workspace set KEY
    label: str  # its name in the reader's words
    text: str  # its value as text
    meaning: str


def describe(ws: Workspace) -> list[Setting]:
    """Every setting as ``workspace show`` and the Settings screen show it."""
    out = []
    for key, spec in KEYS.items():
        value = ws[key]
        if key == "county":
            text = ws.county_name(language())
        elif key == "municipalities_alone":
            munis = municipalities()
            text = ", ".join(munis[c].name_fi for c in value or [] if c in munis)
        elif key == "logo":
            text = _("{upper} logo, {value} KB").format(upper=value['type'].upper(), value=_logo_size(value) // 1024 + 1) if value else ""
        elif key.startswith("template."):
            text = ngettext("{file}, {count} paragraph", "{file}, {count} paragraphs", value["paragraphs"]).format(
                file=value["file"], count=value["paragraphs"]) if value else ""
        elif isinstance(value, bool):
            text = _("yes") if value else _("no")
        elif isinstance(value, list):
            text = " | ".join(map(str, value)) if key in ("sender", "signature") else ",".join(map(str, value))
        else:
            text = "" if value is None else str(value)
        out.append(Setting(key, spec.label_text(), text,
                           spec.meaning_text() + (_(" (required for letters)") if spec.required else "")))
    return out
