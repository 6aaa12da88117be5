"""Import profiles: how a delimited or fixed-width file maps onto the DVV person fields.

A profile is a TOML file. Shipped: ``dvv`` (``;``-delimited with a header) and
``dvv-fixed`` (fixed width at the schema lengths). A team writes its own for any
other layout and passes its path as ``--profile``.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pool.errors import OtosError
from pool.i18n import _

# DVV person fields with their schema maximum lengths.
FIELD_LENGTHS: dict[str, int] = {
    "henkilotunnus": 11,
    "etunimet": 100,
    "sukunimi": 100,
    "lahiosoite": 100,
    "lahiosoite_sv": 100,
    "postinumero": 5,
    "postitoimipaikka": 50,
    "postitoimipaikka_sv": 50,
    "kuntanumero": 3,
    "syntymaaika": 8,
    "sukupuoli": 1,
    "aidinkieli": 3,  # ISO 639-1, but Inari and Skolt Sámi have only three-letter codes (smn, sms)
    "turvakielto": 1,
    "kuollut": 1,
    "asuinpaikantunnus": 16,
}
REQUIRED = (
    "henkilotunnus", "etunimet", "sukunimi", "lahiosoite", "postinumero",
    "postitoimipaikka", "kuntanumero", "syntymaaika", "sukupuoli", "aidinkieli",
    "turvakielto",
)


@dataclass
class Profile:
    name: str
    format: str  # "delimited" | "fixed"
    encoding: str = "auto"
    delimiter: str = ";"
    quotechar: str = '"'
    columns: dict[str, str] = field(default_factory=dict)  # field -> header name
    fields: dict[str, tuple[int, int]] = field(default_factory=dict)  # field -> (start, length)
    turvakielto_active: tuple[str, ...] = ("1", "9")

    @property
    def record_length(self) -> int:
        return max(s + n - 1 for s, n in self.fields.values())


def shipped_profiles() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("pool.profiles").iterdir() if p.name.endswith(".toml"))


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile by name, or a profile TOML file by path."""
    path = Path(name_or_path)
    if name_or_path.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise OtosError(_("Profile file {name_or_path} does not exist.").format(name_or_path=name_or_path), hint=_("Check the path given to --profile."))
        source, text = str(path), path.read_text("utf-8", errors="replace")
    else:
        res = resources.files("pool.profiles").joinpath(f"{name_or_path}.toml")
        if not res.is_file():
            raise OtosError(
                _("Unknown import profile {name_or_path!r}.").format(name_or_path=name_or_path),
                hint=_("Shipped profiles: {join}; or give the path of a profile .toml file.").format(join=', '.join(shipped_profiles())),
            )
        source, text = _("profile {name_or_path}").format(name_or_path=name_or_path), res.read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OtosError(_("{source} is not valid TOML: {exc}.").format(source=source, exc=exc), hint=_("Fix the profile file.")) from None
    return _parse(source, data)


def _parse(source: str, data: dict) -> Profile:
    def bad(msg: str) -> OtosError:
        return OtosError(f"{source}: {msg}.", hint=_("See the README section on import profiles."))

    fmt = data.get("format")
    if fmt not in ("delimited", "fixed"):
        raise bad(_('\'format\' must be "delimited" or "fixed"'))
    prof = Profile(
        name=str(data.get("name") or Path(source).stem)[:64],
        format=fmt,
        encoding=str(data.get("encoding", "auto")),
        delimiter=str(data.get("delimiter", ";")),
        quotechar=str(data.get("quotechar", '"')),
        turvakielto_active=tuple(str(v) for v in data.get("turvakielto_active", ["1", "9"])),
    )
    if not prof.turvakielto_active or {"", "0"} & set(prof.turvakielto_active):
        # Fail safe: a profile must not make everyone, or no one, unprotected by accident.
        raise bad(_('\'turvakielto_active\' must list the codes that mean an active turvakielto, not "0" or ""'))
    if fmt == "delimited":
        if len(prof.delimiter) != 1 or prof.delimiter in "\r\n" or prof.delimiter == prof.quotechar:
            raise bad(_("'delimiter' must be one character, not a line break or the quote character"))
        if len(prof.quotechar) != 1 or prof.quotechar in "\r\n":
            raise bad(_("'quotechar' must be one character, not a line break"))
        cols = data.get("columns") or {f: f for f in FIELD_LENGTHS}
        unknown = sorted(set(cols) - set(FIELD_LENGTHS))
        if unknown:
            raise bad(_("unknown field(s) in [columns]: {join}").format(join=', '.join(unknown)))
        prof.columns = {f: str(c).strip().casefold() for f, c in cols.items()}
        missing = [f for f in REQUIRED if f not in prof.columns]
    else:
        raw = data.get("fields") or {}
        unknown = sorted(set(raw) - set(FIELD_LENGTHS))
        if unknown:
            raise bad(_("unknown field(s) in [fields]: {join}").format(join=', '.join(unknown)))
        for f, spec in raw.items():
            try:
                start, length = int(spec["start"]), int(spec["length"])
            except (TypeError, KeyError, ValueError):
                raise bad(_("field {f} needs {{ start = N, length = N }}").format(f=f)) from None
            if start < 1 or length < 1:
                raise bad(_("field {f} needs a start and a length of at least 1").format(f=f))
            prof.fields[f] = (start, length)
        missing = [f for f in REQUIRED if f not in prof.fields]
    if missing:
        raise bad(_("required field(s) not mapped: {join}").format(join=', '.join(missing)))
    return prof
